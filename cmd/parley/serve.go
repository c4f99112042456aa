package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/parley-im/parley/internal/parley"
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

	// Listeners first: a port taken fails before the app holds the bus.
	grpcLis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("gRPC listener: %w", err)
	}
	defer grpcLis.Close()
	httpLis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP listener: %w", err)
	}
	defer httpLis.Close()
	grpcLis, httpLis = connlimit.Listen(grpcLis, cfg.MaxConnsPerIP), connlimit.Listen(httpLis, cfg.MaxConnsPerIP)
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Metrics and the profiler are for operators: on their own listener,
	// loopback by default, never beside the public API and page.
	adminAddr := "off"
	if cfg.AdminAddr != "" {
		adminLis, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			return fmt.Errorf("admin listener: %w", err)
		}
		adminAddr = adminLis.Addr().String()
		adminSrv := &http.Server{Handler: httpserver.AdminMux(registry, cfg.Pprof), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = adminSrv.Serve(adminLis) }()
		defer adminSrv.Close()
	}
	app, err := parley.Build(ctx, cfg, pool, parley.Options{Log: log, Registerer: registry})
	if err != nil {
		return err
	}

	log.Info().Str("grpc", grpcLis.Addr().String()).Str("http", httpLis.Addr().String()).Str("admin", adminAddr).
		Str("version", buildVersion()).Msg("parley serving")
	err = app.Run(ctx, grpcLis, httpLis, cfg.ShutdownTimeout)
	log.Info().Msg("stopped")
	return err
}
