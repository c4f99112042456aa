package grpcserver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/api/rules"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/grpcserver"
	"github.com/parley-im/parley/platform/testserver"
)

// goodIdentity is who the token "good" belongs to.
var goodIdentity = auth.Identity{UserID: 42, Admin: true}

// fakeAuthenticator knows the token "good"; "broken" stands for a token
// store that fails with internal detail; every other token is unknown.
type fakeAuthenticator struct{}

func (fakeAuthenticator) Authenticate(_ context.Context, token string) (auth.Identity, error) {
	switch token {
	case "good":
		return goodIdentity, nil
	case "broken":
		return auth.Identity{}, errors.New(`SELECT user_id FROM "user".tokens: connection reset by peer`)
	default:
		return auth.Identity{}, apperr.Unauthenticated("token: unknown or expired")
	}
}

// userService answers GetUser with getUser; Ping is public and answers "pong".
type userService struct {
	userpb.UnimplementedUserServiceServer
	getUser func(context.Context, *userpb.UserGetRequest) (*userpb.UserGetResponse, error)
}

func (s *userService) GetUser(ctx context.Context, req *userpb.UserGetRequest) (*userpb.UserGetResponse, error) {
	return s.getUser(ctx, req)
}

func (s *userService) Ping(context.Context, *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return &commonpb.PingResponse{Content: "pong"}, nil
}

// testService answers FullDuplexCall with fullDuplex.
type testService struct {
	testpb.UnimplementedTestServiceServer
	fullDuplex func(testpb.TestService_FullDuplexCallServer) error
}

func (s *testService) FullDuplexCall(stream testpb.TestService_FullDuplexCallServer) error {
	return s.fullDuplex(stream)
}

// echoIdentity is a GetUser handler that answers with the caller's identity:
// the user id is the caller's, the nickname says whether there was one.
func echoIdentity(ctx context.Context, _ *userpb.UserGetRequest) (*userpb.UserGetResponse, error) {
	id, ok := auth.FromContext(ctx)
	return &userpb.UserGetResponse{User: &userpb.User{
		Id:       id.UserID,
		Nickname: fmt.Sprintf("identity=%t admin=%t", ok, id.Admin),
	}}, nil
}

// echoIdentityStream is a FullDuplexCall handler that sends the caller's
// user id as its one response.
func echoIdentityStream(stream testpb.TestService_FullDuplexCallServer) error {
	id, ok := auth.FromContext(stream.Context())
	if !ok {
		return errors.New("handler ran without an identity")
	}
	return stream.Send(&testpb.StreamingOutputCallResponse{
		Payload: &testpb.Payload{Body: []byte(strconv.FormatUint(id.UserID, 10))},
	})
}

type clients struct {
	user   userpb.UserServiceClient
	test   testpb.TestServiceClient
	health healthpb.HealthClient
}

// setup serves users and tests (nil handlers are never called) on a real
// server with the fake authenticator and UserService/Ping public.
func setup(t *testing.T, users *userService, tests *testService) clients {
	t.Helper()
	if users == nil {
		users = &userService{getUser: echoIdentity}
	}
	if tests == nil {
		tests = &testService{fullDuplex: echoIdentityStream}
	}
	conn := testserver.Start(t, grpcserver.Options{Validate: checkRequest,
		Authenticator: fakeAuthenticator{},
		PublicMethods: []string{userpb.UserService_Ping_FullMethodName},
	},
		func(s grpc.ServiceRegistrar) { userpb.RegisterUserServiceServer(s, users) },
		func(s grpc.ServiceRegistrar) { testpb.RegisterTestServiceServer(s, tests) },
	)
	return clients{
		user:   userpb.NewUserServiceClient(conn),
		test:   testpb.NewTestServiceClient(conn),
		health: healthpb.NewHealthClient(conn),
	}
}

// checkRequest is Parley's rules, with the interop TestService's requests
// (the streams these tests use) taken as valid.
func checkRequest(req any) error {
	if m, ok := req.(proto.Message); ok && m.ProtoReflect().Descriptor().ParentFile().Package() == "grpc.testing" {
		return nil
	}
	return rules.Check(req)
}

// A request type without rules is a bug: each message a stream receives is
// checked, and one without rules ends the call as Internal (logged), not
// as the client's fault and never unchecked.
func TestRequestsWithoutRulesAreInternal(t *testing.T) {
	t.Parallel()
	var handled atomic.Bool
	conn := testserver.Start(t, grpcserver.Options{Validate: rules.Check, Authenticator: fakeAuthenticator{}},
		func(s grpc.ServiceRegistrar) {
			testpb.RegisterTestServiceServer(s, &testService{fullDuplex: func(stream testpb.TestService_FullDuplexCallServer) error {
				_, err := stream.Recv()
				handled.Store(err == nil)
				return err
			}})
		})
	stream, err := testpb.NewTestServiceClient(conn).FullDuplexCall(good())
	require.NoError(t, err)
	require.NoError(t, stream.Send(&testpb.StreamingOutputCallRequest{}))
	_, err = stream.Recv()
	requireStatus(t, err, codes.Internal, "internal error")
	require.False(t, handled.Load(), "the handler got a message without rules")
}

// withToken returns a context sending `authorization: <value>`.
func withToken(value string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", value)
}

func good() context.Context { return withToken("Bearer good") }

// requireStatus fails unless err is a status with code and message.
func requireStatus(t *testing.T, err error, code codes.Code, message string) {
	t.Helper()
	require.Error(t, err)
	s, ok := status.FromError(err)
	require.True(t, ok, "not a status: %v", err)
	require.Equal(t, code, s.Code(), "message: %q", s.Message())
	require.Equal(t, message, s.Message())
}

// duplexOnce opens a FullDuplexCall, sends one request, closes its side and
// returns the first response or the call's error.
func duplexOnce(ctx context.Context, c testpb.TestServiceClient) (*testpb.StreamingOutputCallResponse, error) {
	stream, err := c.FullDuplexCall(ctx)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&testpb.StreamingOutputCallRequest{}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := stream.CloseSend(); err != nil {
		return nil, err
	}
	return stream.Recv()
}

func TestPanicBecomesInternalAndServerKeepsServing(t *testing.T) {
	t.Parallel()
	c := setup(t, &userService{getUser: func(_ context.Context, req *userpb.UserGetRequest) (*userpb.UserGetResponse, error) {
		if req.GetId() == 1 {
			panic(`boom: SELECT password_hash FROM "user".users`)
		}
		return &userpb.UserGetResponse{User: &userpb.User{Id: req.GetId()}}, nil
	}}, &testService{fullDuplex: func(testpb.TestService_FullDuplexCallServer) error {
		panic("boom in stream")
	}})

	_, err := c.user.GetUser(good(), &userpb.UserGetRequest{Id: 1})
	requireStatus(t, err, codes.Internal, "internal error")

	resp, err := c.user.GetUser(good(), &userpb.UserGetRequest{Id: 2})
	require.NoError(t, err, "the server must keep serving after a panic")
	require.Equal(t, uint64(2), resp.GetUser().GetId())

	_, err = duplexOnce(good(), c.test)
	requireStatus(t, err, codes.Internal, "internal error")

	resp, err = c.user.GetUser(good(), &userpb.UserGetRequest{Id: 3})
	require.NoError(t, err, "the server must keep serving after a stream panic")
	require.Equal(t, uint64(3), resp.GetUser().GetId())
}

// errorCases are what a handler may return and what the client must see.
var errorCases = []struct {
	name    string
	err     error
	code    codes.Code
	message string
}{
	{
		name:    "apperr keeps code and message",
		err:     apperr.NotFound("user 7: not found"),
		code:    codes.NotFound,
		message: "user 7: not found",
	},
	{
		name:    "wrapped apperr keeps code and message without the wrapping",
		err:     fmt.Errorf(`select from "user".users where id=7: %w`, apperr.PermissionDenied("user 7: not yours")),
		code:    codes.PermissionDenied,
		message: "user 7: not yours",
	},
	{
		name:    "twice wrapped apperr",
		err:     fmt.Errorf("app: %w", fmt.Errorf("store: %w", apperr.AlreadyExists("nickname: taken"))),
		code:    codes.AlreadyExists,
		message: "nickname: taken",
	},
	{
		name:    "plain error with SQL detail becomes internal",
		err:     errors.New(`ERROR: duplicate key value violates unique constraint "users_nickname_key" (SQLSTATE 23505)`),
		code:    codes.Internal,
		message: "internal error",
	},
	{
		name:    "wrapped plain error becomes internal",
		err:     fmt.Errorf("get user: %w", errors.New(`SELECT * FROM "user".users WHERE id = $1: syntax error`)),
		code:    codes.Internal,
		message: "internal error",
	},
	{
		name:    "wrapped context.Canceled",
		err:     fmt.Errorf("query users: %w", context.Canceled),
		code:    codes.Canceled,
		message: "request canceled",
	},
	{
		name:    "wrapped context.DeadlineExceeded",
		err:     fmt.Errorf("query users: %w", context.DeadlineExceeded),
		code:    codes.DeadlineExceeded,
		message: "deadline exceeded",
	},
	{
		name:    "unreachable database becomes unavailable",
		err:     fmt.Errorf("connect: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused 10.0.0.5:5432")}),
		code:    codes.Unavailable,
		message: "service temporarily unavailable, retry later",
	},
	{
		name:    "status error passes through",
		err:     status.Error(codes.FailedPrecondition, "group: archived"),
		code:    codes.FailedPrecondition,
		message: "group: archived",
	},
	{
		name:    "wrapped status does not leak the wrapping text",
		err:     fmt.Errorf(`SELECT secret FROM users.tokens: %w`, status.Error(codes.NotFound, "x")),
		code:    codes.Internal,
		message: "internal error",
	},
}

func TestErrorMappingUnary(t *testing.T) {
	t.Parallel()
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, &userService{getUser: func(context.Context, *userpb.UserGetRequest) (*userpb.UserGetResponse, error) {
				return nil, tc.err
			}}, nil)
			_, err := c.user.GetUser(good(), &userpb.UserGetRequest{Id: 1})
			requireStatus(t, err, tc.code, tc.message)
		})
	}
}

func TestErrorMappingStream(t *testing.T) {
	t.Parallel()
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, nil, &testService{fullDuplex: func(stream testpb.TestService_FullDuplexCallServer) error {
				if _, err := stream.Recv(); err != nil {
					return err
				}
				return tc.err
			}})
			_, err := duplexOnce(good(), c.test)
			requireStatus(t, err, tc.code, tc.message)
		})
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	c := setup(t, nil, nil)

	const missingHeader = "authorization: want the header `authorization: Bearer <token>` (get a token from UserLogin)"
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		code    codes.Code
		message string
	}{
		{"no header", context.Background(), codes.Unauthenticated, missingHeader},
		{"empty header", withToken(""), codes.Unauthenticated, missingHeader},
		{"other scheme", withToken("Basic good"), codes.Unauthenticated, missingHeader},
		{"unknown token", withToken("Bearer bad"), codes.Unauthenticated, "token: unknown or expired"},
		{"token store failure does not leak", withToken("Bearer broken"), codes.Internal, "internal error"},
	} {
		t.Run("unary "+tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.user.GetUser(tc.ctx, &userpb.UserGetRequest{Id: 1})
			requireStatus(t, err, tc.code, tc.message)
		})
		t.Run("stream "+tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := duplexOnce(tc.ctx, c.test)
			requireStatus(t, err, tc.code, tc.message)
		})
	}

	t.Run("unary good token gives the handler the identity", func(t *testing.T) {
		t.Parallel()
		for _, header := range []string{"Bearer good", "bearer good"} {
			resp, err := c.user.GetUser(withToken(header), &userpb.UserGetRequest{Id: 1})
			require.NoError(t, err, header)
			require.Equal(t, goodIdentity.UserID, resp.GetUser().GetId(), header)
			require.Equal(t, "identity=true admin=true", resp.GetUser().GetNickname(), header)
		}
	})

	t.Run("stream good token gives the handler the identity", func(t *testing.T) {
		t.Parallel()
		resp, err := duplexOnce(good(), c.test)
		require.NoError(t, err)
		require.Equal(t, "42", string(resp.GetPayload().GetBody()))
	})

	t.Run("public method needs no token", func(t *testing.T) {
		t.Parallel()
		resp, err := c.user.Ping(context.Background(), &commonpb.PingRequest{})
		require.NoError(t, err)
		require.Equal(t, "pong", resp.GetContent())
	})

	t.Run("health check needs no token", func(t *testing.T) {
		t.Parallel()
		for _, service := range []string{"", userpb.UserService_ServiceDesc.ServiceName} {
			resp, err := c.health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
			require.NoError(t, err, service)
			require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus(), service)
		}
	})

	t.Run("health watch needs no token", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stream, err := c.health.Watch(ctx, &healthpb.HealthCheckRequest{})
		require.NoError(t, err)
		resp, err := stream.Recv()
		require.NoError(t, err)
		require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
	})
}

func TestValidation(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	c := setup(t, &userService{getUser: func(ctx context.Context, req *userpb.UserGetRequest) (*userpb.UserGetResponse, error) {
		calls.Add(1)
		return echoIdentity(ctx, req)
	}}, nil)

	_, err := c.user.GetUser(good(), &userpb.UserGetRequest{Id: 0})
	requireStatus(t, err, codes.InvalidArgument, "id: is required")
	require.Zero(t, calls.Load(), "the handler must not run for an invalid request")

	// Authentication comes first: an anonymous caller learns nothing about the request.
	_, err = c.user.GetUser(context.Background(), &userpb.UserGetRequest{Id: 0})
	require.Equal(t, codes.Unauthenticated, status.Code(err))

	_, err = c.user.GetUser(good(), &userpb.UserGetRequest{Id: 5})
	require.NoError(t, err)
	require.Equal(t, int64(1), calls.Load())
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	c := setup(t, nil, nil)

	// getID makes a GetUser call and returns the x-request-id response header.
	getID := func(t *testing.T, ctx context.Context, wantCode codes.Code) string {
		t.Helper()
		var header metadata.MD
		_, err := c.user.GetUser(ctx, &userpb.UserGetRequest{Id: 1}, grpc.Header(&header))
		require.Equal(t, wantCode, status.Code(err), "err: %v", err)
		ids := header.Get(grpcserver.RequestIDHeader)
		require.Len(t, ids, 1, "header: %v", header)
		require.NotEmpty(t, ids[0])
		return ids[0]
	}
	withID := func(ctx context.Context, id string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, grpcserver.RequestIDHeader, id)
	}

	t.Run("generated and unique", func(t *testing.T) {
		t.Parallel()
		first := getID(t, good(), codes.OK)
		second := getID(t, good(), codes.OK)
		require.NotEqual(t, first, second)
	})

	t.Run("client id echoed", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "req-123", getID(t, withID(good(), "req-123"), codes.OK))
	})

	t.Run("client id echoed on a failed call", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "req-failed", getID(t, withID(context.Background(), "req-failed"), codes.Unauthenticated))
	})

	t.Run("overlong client id replaced", func(t *testing.T) {
		t.Parallel()
		long := strings.Repeat("x", 65)
		got := getID(t, withID(good(), long), codes.OK)
		require.NotEqual(t, long, got)
		require.Equal(t, strings.Repeat("y", 64), getID(t, withID(good(), strings.Repeat("y", 64)), codes.OK))
	})

	t.Run("stream echoes client id", func(t *testing.T) {
		t.Parallel()
		stream, err := c.test.FullDuplexCall(withID(good(), "req-stream"))
		require.NoError(t, err)
		header, err := stream.Header()
		require.NoError(t, err)
		require.Equal(t, []string{"req-stream"}, header.Get(grpcserver.RequestIDHeader))
		require.NoError(t, stream.CloseSend())
		_, err = stream.Recv()
		require.NoError(t, err)
	})

	t.Run("stream generates id", func(t *testing.T) {
		t.Parallel()
		stream, err := c.test.FullDuplexCall(good())
		require.NoError(t, err)
		header, err := stream.Header()
		require.NoError(t, err)
		ids := header.Get(grpcserver.RequestIDHeader)
		require.Len(t, ids, 1)
		require.NotEmpty(t, ids[0])
		require.NoError(t, stream.CloseSend())
		_, err = stream.Recv()
		require.NoError(t, err)
	})
}

// rawCodec sends []byte as they are and receives into *[]byte: a client that
// can send bytes no protobuf library would encode.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

// TestUndecodableRequestsAreInvalidArgument: bytes that are not the
// method's request are the client's fault, not Internal (grpc-go's own
// answer), on unary calls and on stream messages alike, and no handler runs.
func TestUndecodableRequestsAreInvalidArgument(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	conn := testserver.Start(t, grpcserver.Options{Validate: checkRequest, Authenticator: fakeAuthenticator{}},
		func(s grpc.ServiceRegistrar) {
			userpb.RegisterUserServiceServer(s, &userService{getUser: func(ctx context.Context, req *userpb.UserGetRequest) (*userpb.UserGetResponse, error) {
				calls.Add(1)
				return echoIdentity(ctx, req)
			}})
		},
		func(s grpc.ServiceRegistrar) {
			testpb.RegisterTestServiceServer(s, &testService{fullDuplex: func(stream testpb.TestService_FullDuplexCallServer) error {
				_, err := stream.Recv()
				if err == nil {
					calls.Add(1)
				}
				return err
			}})
		},
	)
	// Field 1 as a varint with its value cut off. (Invalid UTF-8 in string
	// fields, the same decode failure, is in cmd/parley's bad-input tests.)
	truncated := []byte{0x08}
	var reply []byte
	err := conn.Invoke(good(), userpb.UserService_GetUser_FullMethodName, truncated, &reply, grpc.ForceCodecV2(rawCodec{}))
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	require.Contains(t, status.Convert(err).Message(), "not a valid user.UserGetRequest")

	// Refused before authentication: garbage says nothing about the caller.
	err = conn.Invoke(context.Background(), userpb.UserService_GetUser_FullMethodName, truncated, &reply, grpc.ForceCodecV2(rawCodec{}))
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)

	stream, err := conn.NewStream(good(), &grpc.StreamDesc{ClientStreams: true, ServerStreams: true},
		testpb.TestService_FullDuplexCall_FullMethodName, grpc.ForceCodecV2(rawCodec{}))
	require.NoError(t, err)
	require.NoError(t, stream.SendMsg(truncated))
	err = stream.RecvMsg(&reply)
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	require.Contains(t, status.Convert(err).Message(), "not a valid grpc.testing.StreamingOutputCallRequest")

	require.Zero(t, calls.Load(), "no handler may run on a request that did not decode")

	// A good request still works after the bad ones.
	_, err = userpb.NewUserServiceClient(conn).GetUser(good(), &userpb.UserGetRequest{Id: 5})
	require.NoError(t, err)
}

// blackHole forwards TCP between a client and target until freeze, after
// which it forwards nothing and closes nothing: a peer that vanished
// without closing (a phone that lost its network).
type blackHole struct {
	addr   string
	frozen atomic.Bool
}

func newBlackHole(t *testing.T, target string) *blackHole {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { lis.Close() })
	b := &blackHole{addr: lis.Addr().String()}
	go func() {
		for {
			client, err := lis.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				return
			}
			t.Cleanup(func() { client.Close(); server.Close() })
			go b.pipe(client, server)
			go b.pipe(server, client)
		}
	}()
	return b
}

func (b *blackHole) pipe(from, to net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if err != nil {
			return
		}
		if b.frozen.Load() {
			continue // swallowed: the other side hears nothing, not even a close
		}
		if _, err := to.Write(buf[:n]); err != nil {
			return
		}
	}
}

// TestKeepaliveEndsStreamsOfVanishedPeers: the server pings idle
// connections and closes one whose peer stopped answering, ending its
// streams (so a vanished device goes offline), while a live peer's stream
// on the same server stays open.
func TestKeepaliveEndsStreamsOfVanishedPeers(t *testing.T) {
	t.Parallel()
	ended := make(chan string, 2)
	srv := grpcserver.New(grpcserver.Options{Validate: checkRequest,
		Authenticator:   fakeAuthenticator{},
		MaxRecvMsgBytes: 1 << 20,
		Keepalive:       time.Second, // grpc-go's least
		KeepaliveWait:   time.Second,
	})
	testpb.RegisterTestServiceServer(srv, &testService{fullDuplex: func(stream testpb.TestService_FullDuplexCallServer) error {
		first, err := stream.Recv()
		if err != nil {
			return err
		}
		for {
			if _, err := stream.Recv(); err != nil {
				ended <- string(first.GetPayload().GetBody())
				return err
			}
		}
	}})
	srv.Ready()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	open := func(conn *grpc.ClientConn, name string) {
		stream, err := testpb.NewTestServiceClient(conn).FullDuplexCall(good())
		require.NoError(t, err)
		require.NoError(t, stream.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: []byte(name)}}))
	}
	hole := newBlackHole(t, lis.Addr().String())
	open(testserver.Dial(t, hole.addr), "vanished")
	open(testserver.Dial(t, lis.Addr().String()), "live")
	time.Sleep(200 * time.Millisecond) // both streams reach their handlers
	hole.frozen.Store(true)

	select {
	case name := <-ended:
		require.Equal(t, "vanished", name)
	case <-time.After(15 * time.Second):
		t.Fatal("the vanished peer's stream was not ended by keepalive")
	}
	// The live peer answers the pings: its stream is still open a few
	// keepalive rounds later.
	select {
	case name := <-ended:
		t.Fatalf("stream %q ended", name)
	case <-time.After(3 * time.Second):
	}
}
