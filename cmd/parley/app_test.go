package main

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/testserver"
)

// servedApp is Parley built and run as `parley serve` runs it (app.run), on
// loopback ports, for one test.
type servedApp struct {
	*parley
	cfg     config.Config
	conn    *grpc.ClientConn // to the gRPC listener
	httpURL string           // the HTTP listener, http://127.0.0.1:port
	// stop stops the app as SIGTERM does (it also runs when the test ends).
	stop func()
}

// serveApp builds and runs the app for cfg over pool; a shutdown at the
// test's end is given 5 s at most.
func serveApp(t *testing.T, cfg config.Config, pool *pgxpool.Pool, log zerolog.Logger) *servedApp {
	t.Helper()
	app, err := build(context.Background(), cfg, pool, log, prometheus.NewRegistry())
	require.NoError(t, err)
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.run(ctx, grpcLis, httpLis, min(cfg.ShutdownTimeout, 5*time.Second)) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("parley stopped with %v", err)
			}
		})
	}
	t.Cleanup(stop) // registered before the connection's, so it runs after it
	return &servedApp{
		parley: app, cfg: cfg, stop: stop,
		conn:    testserver.Dial(t, grpcLis.Addr().String()),
		httpURL: "http://" + httpLis.Addr().String(),
	}
}
