// Package testserver runs a real Parley gRPC server on a loopback port for
// tests, with the production interceptor chain.
package testserver

import (
	"net"
	"os"
	"testing"

	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/parley-im/parley/api/rules"
	"github.com/parley-im/parley/platform/grpcserver"
)

// Start serves the services that register adds (opts.Logger is replaced by
// one for tests) and returns a client
// connection to them. Both stop when the test ends.
func Start(t testing.TB, opts grpcserver.Options, register ...func(grpc.ServiceRegistrar)) *grpc.ClientConn {
	t.Helper()
	if opts.MaxRecvMsgBytes == 0 {
		opts.MaxRecvMsgBytes = 4 << 20
	}
	if opts.Validate == nil {
		opts.Validate = rules.Check
	}
	// Warnings and errors only; go test shows them when a package fails.
	opts.Logger = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.WarnLevel)
	srv := grpcserver.New(opts)
	for _, r := range register {
		r(srv)
	}
	srv.Ready()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return Dial(t, lis.Addr().String())
}

// Dial connects to addr and closes the connection when the test ends.
func Dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
