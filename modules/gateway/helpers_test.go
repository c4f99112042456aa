package gateway_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/modules/group"
	"github.com/parley-im/parley/modules/message"
	"github.com/parley-im/parley/modules/user"
	"github.com/parley-im/parley/platform/bus"
	"github.com/parley-im/parley/platform/grpcserver"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
	"github.com/parley-im/parley/platform/testserver"
)

const (
	password      = "secret123"
	nodeID        = "node-test"
	gatewaySecret = "test-secret"
	// frameWait bounds the wait for a frame that must arrive.
	frameWait = 5 * time.Second
	// quietWait is how long a stream is watched for a frame that must not arrive.
	quietWait = 300 * time.Millisecond
)

// env is one real gRPC server serving the user, group, message and gateway
// modules over the package's database. Each test gets its own server (and
// so its own hub), so a broadcast in one test never reaches another's streams.
type env struct {
	conn     *grpc.ClientConn
	users    userpb.UserServiceClient
	groups   grouppb.GroupServiceClient
	messages messagepb.MessageServiceClient
	gateway  gatewaypb.GatewayServiceClient
	userMod  *user.Module
	gateMod  *gateway.Module
}

// setup serves the four modules wired as cmd/parley wires them, with
// gateway streams queueing at most queueSize frames (0: the default).
func setup(t *testing.T, queueSize int) *env {
	t.Helper()
	pool := testdb.Pool(t)
	e := &env{}
	deliveries := bus.NewLocal()
	users := user.New(pool, testkit.MediaLinks(t), user.Config{
		TokenTTL: time.Hour, LoginMaxFailures: 10, LoginWindow: time.Minute, PasswordParams: testkit.CheapHashing,
		TokensRevoked: func(userID uint64) { publishRevoked(deliveries, userID) },
	})
	e.userMod = users
	groups := group.New(pool, users, testkit.MediaLinks(t), group.Config{})
	// A generous send rate: the tests send bursts no client would.
	messages := message.New(pool, users, groups, deliveries, testkit.MediaLinks(t), message.Config{SendRate: 1000, SendBurst: 1000}, zerolog.Nop())
	registerGateway := func(r grpc.ServiceRegistrar) {
		srv, ok := r.(*grpcserver.Server)
		require.True(t, ok, "registrar is %T, want *grpcserver.Server", r)
		e.gateMod = gateway.New(srv, users, deliveries, gateway.Config{NodeID: nodeID, QueueSize: queueSize})
		e.gateMod.Register(srv)
	}
	e.conn = testserver.Start(t, grpcserver.Options{
		Authenticator: users,
		PublicMethods: slices.Concat(user.PublicMethods, group.PublicMethods, message.PublicMethods, gateway.PublicMethods),
		GatewaySecret: gatewaySecret,
	}, users.Register, groups.Register, messages.Register, registerGateway)
	e.users = userpb.NewUserServiceClient(e.conn)
	e.groups = grouppb.NewGroupServiceClient(e.conn)
	e.messages = messagepb.NewMessageServiceClient(e.conn)
	e.gateway = gatewaypb.NewGatewayServiceClient(e.conn)
	return e
}

// person is a signed-up, signed-in user.
type person struct {
	id       uint64
	nickname string
	token    string
	ctx      context.Context // carries the user's token
}

// registerCtx is how an edge gateway registers p's client: with the gateway
// credential, passing p's token along.
func registerCtx(p person) context.Context {
	return metadata.AppendToOutgoingContext(gatewayCtx(), gateway.ClientAuthorizationHeader, "Bearer "+p.token)
}

// newUser signs a user up through the user module and logs it in.
func (e *env) newUser(t *testing.T) person {
	t.Helper()
	nick := testkit.Unique("u")
	created, err := e.users.CreateUser(context.Background(), &userpb.UserCreateRequest{
		Nickname: nick, Password: password, PasswordRpt: password,
	})
	require.NoError(t, err)
	resp, err := e.users.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: nick, Password: password})
	require.NoError(t, err)
	require.NotEmpty(t, resp.GetToken())
	return person{id: created.GetUser().GetId(), nickname: nick, token: resp.GetToken(), ctx: testkit.WithToken(resp.GetToken())}
}

func (e *env) newUsers(t *testing.T, n int) []person {
	t.Helper()
	out := make([]person, n)
	for i := range out {
		out[i] = e.newUser(t)
	}
	return out
}

// gatewayCtx carries the edge gateway credential.
func gatewayCtx() context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Gateway "+gatewaySecret)
}

// sendText sends a 1:1 text message with a unary call and returns its id.
func (e *env) sendText(t *testing.T, from person, to uint64, text string) uint64 {
	t.Helper()
	resp, err := e.messages.SendUserTextMessage(from.ctx, &messagepb.SendUserTextMessageRequest{
		ToUserId: to, Text: &messagepb.TextMessage{Content: text},
	})
	require.NoError(t, err)
	require.NotZero(t, resp.GetId())
	return resp.GetId()
}

// createGroup makes a group owned by owner that members join.
func (e *env) createGroup(t *testing.T, owner person, members ...person) uint64 {
	t.Helper()
	resp, err := e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{Name: testkit.Unique("g")})
	require.NoError(t, err)
	id := resp.GetGroup().GetId()
	require.NotZero(t, id)
	for _, m := range members {
		_, err := e.groups.JoinGroup(m.ctx, &grouppb.JoinGroupRequest{Id: id})
		require.NoError(t, err)
	}
	return id
}

// stream is the client end of a SendMessage stream, read in the background
// into frames until it ends.
type stream struct {
	raw    gatewaypb.GatewayService_SendMessageClient
	frames chan *gatewaypb.SendMessageResponse
	done   chan struct{} // closed when the stream ended; err is then set
	err    error
	cancel context.CancelFunc
	lastID uint32
}

// open starts a SendMessage stream as ctx's caller, with the metadata pairs
// kv added. The stream is cancelled, and its reader waited for, when the
// test ends.
func (e *env) open(t *testing.T, ctx context.Context, kv ...string) *stream {
	t.Helper()
	return openOn(t, e.gateway, ctx, kv...)
}

func openOn(t *testing.T, client gatewaypb.GatewayServiceClient, ctx context.Context, kv ...string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	if len(kv) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, kv...)
	}
	raw, err := client.SendMessage(ctx)
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	s := &stream{raw: raw, frames: make(chan *gatewaypb.SendMessageResponse, 4096), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(s.done)
		for {
			f, err := raw.Recv()
			if err != nil {
				s.err = err
				return
			}
			select {
			case s.frames <- f:
			case <-ctx.Done():
				s.err = ctx.Err()
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

// openUnread opens a stream that nothing reads in the background: the test
// calls Recv itself, and the stream gives up after timeout so no Recv hangs.
func openUnread(t *testing.T, client gatewaypb.GatewayServiceClient, ctx context.Context, timeout time.Duration) gatewaypb.GatewayService_SendMessageClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel)
	raw, err := client.SendMessage(ctx)
	require.NoError(t, err)
	return raw
}

// openDevice opens a device stream for p (clientID "" lets the server pick
// one) and waits until it is online: a ping is answered only once the
// server has put the device online.
func (e *env) openDevice(t *testing.T, p person, clientID string) *stream {
	t.Helper()
	var kv []string
	if clientID != "" {
		kv = []string{gateway.ClientIDHeader, clientID}
	}
	s := e.open(t, p.ctx, kv...)
	pong := s.ping(t, "")
	if clientID != "" {
		require.Equal(t, clientID, pong.GetReceiverId())
	}
	return s
}

// openEdge opens an edge gateway's stream. It is online once register
// succeeds on it.
func (e *env) openEdge(t *testing.T, gatewayID string) *stream {
	t.Helper()
	return e.open(t, gatewayCtx(), gateway.GatewayIDHeader, gatewayID)
}

// register binds clientID on edge gatewayID to p, waiting (briefly) for a
// just-opened edge stream to come online.
func (e *env) register(t *testing.T, p person, gatewayID, clientID string) {
	t.Helper()
	req := &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: clientID}
	deadline := time.Now().Add(frameWait)
	for {
		_, err := e.gateway.Register(registerCtx(p), req)
		if status.Code(err) != codes.NotFound || time.Now().After(deadline) {
			require.NoError(t, err, "register %s on %s", clientID, gatewayID)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *stream) send(t *testing.T, f *gatewaypb.SendMessageRequest) {
	t.Helper()
	require.NoError(t, s.raw.Send(f))
}

// request sends a frame calling cmd with req as data, as senderID, and
// returns its request id.
func (s *stream) request(t *testing.T, cmd string, req proto.Message, senderID string) uint32 {
	t.Helper()
	data, err := proto.Marshal(req)
	require.NoError(t, err)
	return s.requestRaw(t, cmd, data, senderID)
}

func (s *stream) requestRaw(t *testing.T, cmd string, data []byte, senderID string) uint32 {
	t.Helper()
	s.lastID++
	s.send(t, &gatewaypb.SendMessageRequest{Cmd: cmd, RequestId: s.lastID, Data: data, SenderId: senderID})
	return s.lastID
}

// call sends a request and waits for its answer; pushes received meanwhile
// are returned too.
func (s *stream) call(t *testing.T, cmd string, req proto.Message, senderID string) (answer *gatewaypb.SendMessageResponse, pushes []*gatewaypb.SendMessageResponse) {
	t.Helper()
	return s.await(t, s.request(t, cmd, req, senderID))
}

// ping sends a ping and requires a pong with the same request id.
func (s *stream) ping(t *testing.T, senderID string) *gatewaypb.SendMessageResponse {
	t.Helper()
	id := s.requestRaw(t, gateway.CmdPing, nil, senderID)
	f, _ := s.await(t, id)
	require.Equal(t, gateway.CmdPong, f.GetCmd(), "answer to ping: %v", f)
	return f
}

// await reads frames until the answer to request id arrives, returning it
// and the frames (pushes) that came before it.
func (s *stream) await(t *testing.T, id uint32) (*gatewaypb.SendMessageResponse, []*gatewaypb.SendMessageResponse) {
	t.Helper()
	var before []*gatewaypb.SendMessageResponse
	for {
		f := s.next(t)
		if f.GetRequestId() == id {
			return f, before
		}
		before = append(before, f)
	}
}

// next returns the next frame, failing the test if none comes in time or
// the stream ends.
func (s *stream) next(t *testing.T) *gatewaypb.SendMessageResponse {
	t.Helper()
	select {
	case f := <-s.frames:
		return f
	case <-s.done:
		select {
		case f := <-s.frames:
			return f
		default:
		}
		require.FailNow(t, "stream ended while a frame was expected", "%v", s.err)
	case <-time.After(frameWait):
		require.FailNow(t, "no frame within "+frameWait.String())
	}
	return nil
}

// nextN returns the next n frames.
func (s *stream) nextN(t *testing.T, n int) []*gatewaypb.SendMessageResponse {
	t.Helper()
	out := make([]*gatewaypb.SendMessageResponse, n)
	for i := range out {
		out[i] = s.next(t)
	}
	return out
}

// quiet requires that no frame arrives for a short while.
func (s *stream) quiet(t *testing.T) {
	t.Helper()
	quietAll(t, s)
}

// quietAll requires that none of streams receives a frame for a short while.
func quietAll(t *testing.T, streams ...*stream) {
	t.Helper()
	time.Sleep(quietWait)
	for _, s := range streams {
		select {
		case f := <-s.frames:
			require.FailNow(t, "unexpected frame", "%v", f)
		default:
		}
	}
}

// ended waits for the stream to end and returns how: the frames left
// unread are dropped.
func (s *stream) ended(t *testing.T) error {
	t.Helper()
	select {
	case <-s.done:
		return s.err
	case <-time.After(frameWait):
		require.FailNow(t, "stream still open after "+frameWait.String())
		return nil
	}
}

// decodeStatus decodes an error frame's google.rpc.Status.
func decodeStatus(t *testing.T, f *gatewaypb.SendMessageResponse) *status.Status {
	t.Helper()
	var pb spb.Status
	require.NoError(t, proto.Unmarshal(f.GetData(), &pb), "error frame data is not a google.rpc.Status")
	return status.FromProto(&pb)
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	data, err := proto.Marshal(m)
	require.NoError(t, err)
	return data
}

// errorFrame requires f to be an error frame with code want and returns its status.
func errorFrame(t *testing.T, f *gatewaypb.SendMessageResponse, want codes.Code) *status.Status {
	t.Helper()
	require.Equal(t, gateway.CmdError, f.GetCmd(), "want an error frame, got %v", f)
	st := decodeStatus(t, f)
	require.Equal(t, want, st.Code(), "message: %s", st.Message())
	require.NotEmpty(t, st.Message())
	return st
}

// answerOf requires f to answer cmd successfully and decodes its data into out.
func answerOf(t *testing.T, f *gatewaypb.SendMessageResponse, cmd string, out proto.Message) {
	t.Helper()
	if f.GetCmd() == gateway.CmdError {
		var pb spb.Status
		_ = proto.Unmarshal(f.GetData(), &pb)
		require.FailNow(t, "error frame", "%s: %s", codes.Code(pb.GetCode()), pb.GetMessage())
	}
	require.Equal(t, cmd, f.GetCmd())
	require.NoError(t, proto.Unmarshal(f.GetData(), out))
}

// pushed requires f to be a pushed message and decodes it.
func pushed(t *testing.T, f *gatewaypb.SendMessageResponse) *messagepb.Message {
	t.Helper()
	require.Equal(t, message.CmdMessage, f.GetCmd(), "want a message push, got %v", f)
	require.Zero(t, f.GetRequestId(), "a push answers no request")
	m := new(messagepb.Message)
	require.NoError(t, proto.Unmarshal(f.GetData(), m))
	return m
}

// dialFixedWindow opens a second connection to e's server whose flow-control
// windows stay at the HTTP/2 minimum (no BDP growth), so a stream that is not
// read fills up after a bounded amount of data.
func (e *env) dialFixedWindow(t *testing.T) gatewaypb.GatewayServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(e.conn.Target(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(1<<16), grpc.WithInitialConnWindowSize(1<<16))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return gatewaypb.NewGatewayServiceClient(conn)
}

// publishRevoked announces a revocation as cmd/parley wires it.
func publishRevoked(b bus.Bus, userID uint64) {
	_ = b.Publish(context.Background(), bus.Delivery{UserIDs: []uint64{userID}, Cmd: bus.CmdRevoked})
}
