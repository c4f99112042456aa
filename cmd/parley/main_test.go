package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testserver"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// startParley serves the production wiring on a loopback port.
func startParley(t *testing.T) *grpc.ClientConn {
	t.Helper()
	cfg := parleytest.Config(t)
	return parleytest.Serve(t, cfg, testdb.Pool(t), parley.Options{Log: zerolog.Nop()}).Conn
}

func TestPingOnEveryServiceWithoutToken(t *testing.T) {
	t.Parallel()
	conn := startParley(t)
	ctx := context.Background()
	pings := map[string]func() (*commonpb.PingResponse, error){
		"common": func() (*commonpb.PingResponse, error) {
			return commonpb.NewCommonServiceClient(conn).Ping(ctx, &commonpb.PingRequest{})
		},
		"user": func() (*commonpb.PingResponse, error) {
			return userpb.NewUserServiceClient(conn).Ping(ctx, &commonpb.PingRequest{})
		},
		"feed": func() (*commonpb.PingResponse, error) {
			return feedpb.NewFeedServiceClient(conn).Ping(ctx, &commonpb.PingRequest{})
		},
		"group": func() (*commonpb.PingResponse, error) {
			return grouppb.NewGroupServiceClient(conn).Ping(ctx, &commonpb.PingRequest{})
		},
		"message": func() (*commonpb.PingResponse, error) {
			return messagepb.NewMessageServiceClient(conn).Ping(ctx, &commonpb.PingRequest{})
		},
		"gateway": func() (*commonpb.PingResponse, error) {
			return gatewaypb.NewGatewayServiceClient(conn).Ping(ctx, &commonpb.PingRequest{})
		},
	}
	require.Len(t, pings, 6)
	for name, ping := range pings {
		t.Run(name, func(t *testing.T) {
			resp, err := ping()
			require.NoError(t, err)
			require.Equal(t, "pong", resp.GetContent())
		})
	}
}

func TestMethodsNeedATokenAndSendEmailAnAdmin(t *testing.T) {
	t.Parallel()
	conn := startParley(t)
	users := userpb.NewUserServiceClient(conn)
	ctx := context.Background()
	nick := uniqueNickname("wire")
	_, err := users.CreateUser(ctx, &userpb.UserCreateRequest{Nickname: nick, Password: "secret123", PasswordRpt: "secret123"})
	require.NoError(t, err)
	login, err := users.UserLogin(ctx, &userpb.UserLoginRequest{Nickname: nick, Password: "secret123"})
	require.NoError(t, err)
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+login.GetToken())

	email := &commonpb.SendEmailRequest{Receiver: map[string]string{"Ann": "ann@example.com"}, Subject: "hi"}
	_, err = commonpb.NewCommonServiceClient(conn).SendEmail(ctx, email)
	require.Equal(t, codes.Unauthenticated, status.Code(err), "no token is refused before anything else")
	_, err = commonpb.NewCommonServiceClient(conn).SendEmail(authed, email)
	require.Equal(t, codes.PermissionDenied, status.Code(err))
}

func TestHealthAndReflection(t *testing.T) {
	t.Parallel()
	conn := startParley(t)
	ctx := context.Background()

	health := healthpb.NewHealthClient(conn)
	for _, service := range []string{"", "user.UserService", "gateway.GatewayService"} {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		require.NoError(t, err)
		require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus(), service)
	}

	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	require.NoError(t, err)
	require.NoError(t, stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}))
	resp, err := stream.Recv()
	require.NoError(t, err)
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{"common.CommonService", "user.UserService", "feed.FeedService",
		"group.GroupService", "message.MessageService", "gateway.GatewayService", "grpc.health.v1.Health"} {
		require.Contains(t, names, want)
	}
}

func TestVersionAndUsage(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"version"}, &out, &errOut))
	require.True(t, strings.HasPrefix(out.String(), "parley "), out.String())

	err := run(context.Background(), []string{"frobnicate"}, &out, &errOut)
	require.ErrorContains(t, err, `unknown command "frobnicate"`)
	require.Contains(t, errOut.String(), "Usage:")
}

func TestUnreachableDatabaseIsOneClearError(t *testing.T) {
	t.Parallel()
	port := freePort(t) // nothing listens there
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"migrate", "status",
		"-database-url", fmt.Sprintf("postgres://parley@127.0.0.1:%d/parley?sslmode=disable", port)}, &out, &errOut)
	require.Error(t, err)
	require.Contains(t, err.Error(), "unreachable")
	require.NotContains(t, err.Error(), "\n")
	require.NotContains(t, err.Error(), "goroutine")
}

func TestMigrateAndAdminCommands(t *testing.T) {
	t.Parallel()
	url := testdb.URL(t)
	var out, errOut bytes.Buffer
	ctx := context.Background()

	require.NoError(t, run(ctx, []string{"migrate", "up", "-database-url", url}, &out, &errOut))
	require.Contains(t, out.String(), "no pending migrations")
	out.Reset()
	require.NoError(t, run(ctx, []string{"migrate", "status", "-database-url", url}, &out, &errOut))
	require.Contains(t, out.String(), "00001_create_users.sql")
	require.Contains(t, out.String(), "applied")

	err := run(ctx, []string{"admin", "promote", "someone", "-database-url", url}, &out, &errOut)
	require.ErrorContains(t, err, "usage")
	err = run(ctx, []string{"admin", "-database-url", url, "grant", "nobody-by-this-name"}, &out, &errOut)
	require.ErrorContains(t, err, `no user with nickname "nobody-by-this-name"`)

	conn := startParley(t)
	users := userpb.NewUserServiceClient(conn)
	moderator := uniqueNickname("Moderator")
	folded := strings.ToLower(moderator)
	_, err = users.CreateUser(ctx, &userpb.UserCreateRequest{Nickname: moderator, Password: "secret123", PasswordRpt: "secret123"})
	require.NoError(t, err)
	out.Reset()
	require.NoError(t, run(ctx, []string{"admin", "-database-url", url, "grant", folded}, &out, &errOut))
	require.Contains(t, out.String(), folded+" is now an admin")
	require.True(t, isAdmin(t, folded))
	require.NoError(t, run(ctx, []string{"admin", "-database-url", url, "revoke", strings.ToUpper(moderator)}, &out, &errOut))
	require.False(t, isAdmin(t, folded))
}

func isAdmin(t *testing.T, nickname string) bool {
	t.Helper()
	var admin bool
	require.NoError(t, testdb.Pool(t).QueryRow(context.Background(),
		"SELECT is_admin FROM users.users WHERE nickname_folded = $1", nickname).Scan(&admin))
	return admin
}

// TestServeStartsAndStopsGracefully runs `parley serve` end to end: it
// applies migrations, answers gRPC and HTTP, and returns cleanly when its
// context ends (as on SIGTERM).
func TestServeStartsAndStopsGracefully(t *testing.T) {
	t.Parallel()
	grpcAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var errOut bytes.Buffer
	adminAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	dbURL, dataDir, storageDir := testdb.URL(t), t.TempDir(), t.TempDir()
	go func() {
		done <- run(ctx, []string{"serve", "-database-url", dbURL, "-data-dir", dataDir, "-storage-dir", storageDir,
			"-grpc-addr", grpcAddr, "-http-addr", httpAddr, "-admin-addr", adminAddr, "-log-level", "warn", "-pprof"}, &bytes.Buffer{}, &errOut)
	}()

	conn := testserver.Dial(t, grpcAddr)
	require.Eventually(t, func() bool {
		resp, err := userpb.NewUserServiceClient(conn).Ping(context.Background(), &commonpb.PingRequest{})
		return err == nil && resp.GetContent() == "pong"
	}, 20*time.Second, 50*time.Millisecond)
	for _, url := range []string{"http://" + httpAddr + "/healthz", "http://" + httpAddr + "/readyz", "http://" + httpAddr + "/",
		"http://" + adminAddr + "/metrics", "http://" + adminAddr + "/debug/pprof/"} {
		resp, err := http.Get(url)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, url)
	}
	// Metrics and the profiler are the operators', not the public listener's.
	for _, path := range []string{"/metrics", "/debug/pprof/"} {
		resp, err := http.Get("http://" + httpAddr + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
	// A connection opened without a request (as HTTP clients and load
	// balancers pre-open them) must not make the shutdown fail.
	idle, err := net.Dial("tcp", httpAddr)
	require.NoError(t, err)
	defer idle.Close()

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	t.Parallel()
	var errOut bytes.Buffer
	err := run(context.Background(), []string{"serve", "-log-format", "xml", "-database-url", "postgres://x@127.0.0.1:1/x"}, &bytes.Buffer{}, &errOut)
	require.ErrorContains(t, err, "log format")
	err = run(context.Background(), []string{"serve", "-h"}, &bytes.Buffer{}, &errOut)
	require.True(t, errors.Is(err, flag.ErrHelp))
	require.Contains(t, errOut.String(), "PARLEY_GRPC_ADDR")
}

// uniqueNickname is a nickname no other run of the package's tests uses.
func uniqueNickname(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Nodes of a cluster start together: `migrate up` run at once by several
// of them on an empty database succeeds for each, River's migrations
// included, and leaves every module up to date.
func TestConcurrentMigrationsOnAnEmptyDatabase(t *testing.T) {
	t.Parallel()
	dbURL := testdb.EmptyURL(t)
	errs := make(chan error, 3)
	for range cap(errs) {
		go func() {
			var out, errOut bytes.Buffer
			err := run(context.Background(), []string{"migrate", "-database-url", dbURL, "up"}, &out, &errOut)
			if err != nil {
				err = fmt.Errorf("%w: %s", err, errOut.String())
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		require.NoError(t, <-errs)
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"migrate", "-database-url", dbURL, "status"}, &out, &bytes.Buffer{}))
	require.NotContains(t, out.String(), "pending", out.String())
}

// An HTTP keep-alive connection left idle is closed after
// -http-idle-timeout, so idle clients cannot hold connections for ever.
func TestIdleHTTPConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-database-url", testdb.URL(t), "-data-dir", t.TempDir(), "-storage-dir", t.TempDir(),
			"-grpc-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "-http-addr", httpAddr, "-log-level", "warn",
			"-http-idle-timeout", "300ms", "-admin-addr", ""}, &bytes.Buffer{}, &bytes.Buffer{})
	}()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}, 20*time.Second, 50*time.Millisecond)

	conn, err := net.Dial("tcp", httpAddr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: parley\r\n\r\n"))
	require.NoError(t, err)
	reader := bufio.NewReader(conn)
	resp, err := http.ReadResponse(reader, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = reader.ReadByte()
	require.ErrorIs(t, err, io.EOF, "the server closed the idle connection")
}
