package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/connlimit"
	"github.com/parley-im/parley/platform/httpserver"
	"github.com/parley-im/parley/platform/logging"
)

func serveCommand(ctx context.Context, args []string, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("parley serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.RegisterServeFlags(fs)
	rest, err := config.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", rest)
	}
	log, err := logging.New(os.Stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	logging.SetGRPCLogger(log)

	pool, closeDB, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeDB()
	if cfg.AutoMigrate {
		m, err := newMigrator(pool)
		if err != nil {
			return err
		}
		results, err := m.Up(ctx)
		m.Close()
		if err != nil {
			return err
		}
		for _, r := range results {
			log.Info().Str("migration", r.Source.Path).Msg("applied migration")
		}
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	app, err := build(ctx, cfg, pool, log, registry)
	if err != nil {
		return err
	}
	defer app.closeBus()
	srv := app.server

	grpcLis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("gRPC listener: %w", err)
	}
	httpLis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		grpcLis.Close()
		return fmt.Errorf("HTTP listener: %w", err)
	}
	grpcLis, httpLis = connlimit.Listen(grpcLis, cfg.MaxConnsPerIP), connlimit.Listen(httpLis, cfg.MaxConnsPerIP)
	httpSrv := &http.Server{
		Handler:           app.httpHandler(pool.Ping),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       cfg.HTTPIdleTimeout,
	}
	// Metrics and the profiler are for operators: on their own listener,
	// loopback by default, never beside the public API and page.
	adminAddr := "off"
	if cfg.AdminAddr != "" {
		adminLis, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			grpcLis.Close()
			httpLis.Close()
			return fmt.Errorf("admin listener: %w", err)
		}
		adminAddr = adminLis.Addr().String()
		adminSrv := &http.Server{Handler: httpserver.AdminMux(registry, cfg.Pprof), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = adminSrv.Serve(adminLis) }()
		defer adminSrv.Close()
	}

	log.Info().Str("grpc", grpcLis.Addr().String()).Str("http", httpLis.Addr().String()).Str("admin", adminAddr).
		Str("version", buildVersion()).Msg("parley serving")

	// Background work outlives the last call: it stops after the server has.
	bgCtx, stopBackground := context.WithCancel(context.Background())
	var background sync.WaitGroup
	for _, run := range app.background {
		background.Go(func() { run(bgCtx) })
	}
	defer func() { stopBackground(); background.Wait() }()

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(grpcLis) })
	g.Go(func() error {
		if err := httpSrv.Serve(httpLis); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		log.Info().Dur("timeout_ms", cfg.ShutdownTimeout).Msg("shutting down")
		srv.Health.Shutdown()
		deadline := time.Now().Add(cfg.ShutdownTimeout)
		// HTTP first: it stops accepting, and the requests in flight (REST
		// calls among them) finish through the gRPC server, still serving.
		httpCtx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		var httpErr error
		if err := httpSrv.Shutdown(httpCtx); err != nil {
			// A connection a client opened but never sent a request on
			// counts as busy for five seconds; a request may outlast the
			// timeout: close what is left.
			log.Warn().Err(err).Msg("HTTP connections still open at shutdown: closing them")
			httpErr = httpSrv.Close()
		}
		stopped := make(chan struct{})
		go func() { srv.GracefulStop(); close(stopped) }()
		// Gateway streams never end by themselves: end them so the graceful
		// stop waits only for unary calls in flight. WebSocket connections
		// end with them; wait for their calls too.
		app.closeStreams()
		app.webSocket.Wait()
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		select {
		case <-stopped:
		case <-timer.C:
			log.Warn().Msg("shutdown timeout: cancelling the calls still running")
			srv.Stop()
			<-stopped
		}
		return httpErr
	})
	err = g.Wait()
	log.Info().Msg("stopped")
	return err
}
