package grpcserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/platform/grpcserver"
	"github.com/parley-im/parley/platform/testserver"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		out = append(out, m)
	}
	return out
}

// The access log has one line per call with method, code, duration, request
// and user id, at a level by outcome, and never the credentials.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	var sink syncBuffer
	srv := grpcserver.New(grpcserver.Options{Validate: checkRequest,
		Logger:          zerolog.New(&sink).Level(zerolog.InfoLevel),
		Authenticator:   fakeAuthenticator{},
		MaxRecvMsgBytes: 1 << 20,
	})
	userpb.RegisterUserServiceServer(srv, &userService{getUser: echoIdentity})
	srv.Ready()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	client := userpb.NewUserServiceClient(testserver.Dial(t, lis.Addr().String()))

	_, err = client.GetUser(withToken("Bearer good"), &userpb.UserGetRequest{Id: 1})
	require.NoError(t, err)
	_, err = client.GetUser(withToken("Bearer sekrit-token"), &userpb.UserGetRequest{Id: 1})
	require.Equal(t, codes.Unauthenticated, status.Code(err))
	_, err = client.GetUser(context.Background(), &userpb.UserGetRequest{Id: 1})
	require.Error(t, err)

	lines := sink.lines(t)
	require.Len(t, lines, 3)
	ok := lines[0]
	require.Equal(t, "/user.UserService/GetUser", ok["grpc.method"])
	require.Equal(t, "OK", ok["grpc.code"])
	require.Equal(t, "info", ok["level"])
	require.EqualValues(t, goodIdentity.UserID, ok["user.id"])
	require.NotEmpty(t, ok["request.id"])
	require.Contains(t, ok, "duration_ms", "a duration says its unit")
	require.Equal(t, "Unauthenticated", lines[1]["grpc.code"])
	require.NotContains(t, sink.b.String(), "sekrit-token")
	require.NotContains(t, sink.b.String(), "good\"")

	// Turned down to warnings, successful calls write nothing.
	var quiet syncBuffer
	srv2 := grpcserver.New(grpcserver.Options{Validate: checkRequest, Logger: zerolog.New(&quiet).Level(zerolog.WarnLevel), Authenticator: fakeAuthenticator{}, MaxRecvMsgBytes: 1 << 20})
	userpb.RegisterUserServiceServer(srv2, &userService{getUser: echoIdentity})
	srv2.Ready()
	lis2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv2.Serve(lis2) }()
	t.Cleanup(srv2.Stop)
	_, err = userpb.NewUserServiceClient(testserver.Dial(t, lis2.Addr().String())).GetUser(withToken("Bearer good"), &userpb.UserGetRequest{Id: 1})
	require.NoError(t, err)
	require.Empty(t, quiet.lines(t))
}

// A call over the in-process connection (the REST gateway's) is logged as
// transport=rest with the HTTP client the gateway appended to
// x-forwarded-for; over the network that header is the client's claim and
// the peer is the connection's address.
func TestAccessLogNamesTheRESTClient(t *testing.T) {
	t.Parallel()
	var sink syncBuffer
	srv := grpcserver.New(grpcserver.Options{Validate: checkRequest,
		Logger:          zerolog.New(&sink).Level(zerolog.InfoLevel),
		Authenticator:   fakeAuthenticator{},
		MaxRecvMsgBytes: 1 << 20,
	})
	userpb.RegisterUserServiceServer(srv, &userService{getUser: echoIdentity})
	srv.Ready()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	inProcess, err := srv.ServeInProcess()
	require.NoError(t, err)

	forwarded := metadata.AppendToOutgoingContext(withToken("Bearer good"), "x-forwarded-for", "203.0.113.9, 198.51.100.7")
	_, err = userpb.NewUserServiceClient(inProcess).GetUser(forwarded, &userpb.UserGetRequest{Id: 1})
	require.NoError(t, err)
	_, err = userpb.NewUserServiceClient(testserver.Dial(t, lis.Addr().String())).GetUser(forwarded, &userpb.UserGetRequest{Id: 1})
	require.NoError(t, err)

	lines := sink.lines(t)
	require.Len(t, lines, 2)
	require.Equal(t, "rest", lines[0]["transport"])
	require.Equal(t, "198.51.100.7", lines[0]["client"])
	require.NotContains(t, lines[1], "transport")
	require.True(t, strings.HasPrefix(lines[1]["peer"].(string), "127.0.0.1:"), lines[1]["peer"])
	require.Equal(t, "127.0.0.1", lines[1]["client"], "an untrusted peer's x-forwarded-for is its own claim")
}
