package parley

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
)

// Run serves the app on the listeners until ctx ends, then stops within
// shutdownTimeout, in this order: health says NOT_SERVING; the HTTP server
// drains (REST calls in flight finish through the gRPC server, still
// serving); gateway streams and WebSocket connections end; the gRPC server
// stops gracefully, cancelling what is left at the timeout; then the
// background work stops and the node leaves the bus. Run once.
func (app *App) Run(ctx context.Context, grpcLis, httpLis net.Listener, shutdownTimeout time.Duration) error {
	defer app.closeBus()
	srv, log := app.server, app.log
	httpSrv := &http.Server{
		Handler:           app.httpHandler(app.ready),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       app.httpIdleTimeout,
	}

	// Background work outlives the last call: it stops after the server has.
	bgCtx, stopBackground := context.WithCancel(context.Background())
	var background sync.WaitGroup
	for _, run := range app.background {
		background.Go(func() { run(bgCtx) })
	}
	defer func() { stopBackground(); background.Wait() }()

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		// A stop that comes before Serve has begun (ctx ended at once) is
		// a stop, not an error.
		if err := srv.Serve(grpcLis); !errors.Is(err, grpc.ErrServerStopped) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		if err := httpSrv.Serve(httpLis); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		log.Info().Dur("timeout_ms", shutdownTimeout).Msg("shutting down")
		srv.Health.Shutdown()
		deadline := time.Now().Add(shutdownTimeout)
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
	return g.Wait()
}
