package grpcserver

import (
	"context"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/platform/clientaddr"
)

// accessLog writes one line per finished call: method, code, duration, peer
// and the fields the chain put in the context (request id, user id). The
// line is built only when its level is enabled: go-grpc-middleware's
// logging interceptor prepares its fields for every call, which the
// benchmarks showed costing a fifth of a Ping, logged or not. The context
// fields still travel with that package's InjectFields/AddFields.
type accessLog struct{ log zerolog.Logger }

func (a accessLog) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	a.write(ctx, info.FullMethod, "unary", start, err)
	return resp, err
}

func (a accessLog) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	err := handler(srv, ss)
	a.write(ss.Context(), info.FullMethod, "stream", start, err)
	return err
}

func (a accessLog) write(ctx context.Context, method, kind string, start time.Time, err error) {
	code := status.Code(err)
	ev := a.log.WithLevel(levelOf(code))
	if ev == nil { // level disabled: nothing to build
		return
	}
	ev = ev.Str("grpc.method", method).Str("grpc.type", kind).Str("grpc.code", code.String()).
		Dur("duration_ms", time.Since(start)).Fields(contextFields(ctx))
	if p, ok := peer.FromContext(ctx); ok {
		if p.Addr.Network() == inProcessPeer {
			ev = ev.Str("transport", "rest")
		} else {
			ev = ev.Stringer("peer", p.Addr)
		}
	}
	if client, ok := clientaddr.From(ctx); ok {
		ev = ev.Stringer("client", client)
	}
	if err != nil {
		ev = ev.Str("error", status.Convert(err).Message())
	}
	ev.Msg("finished call")
}

// levelOf ranks a call's outcome: client mistakes are routine, refusals
// worth a look, server faults errors.
func levelOf(code codes.Code) zerolog.Level {
	switch code {
	case codes.OK, codes.Canceled, codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.Unauthenticated:
		return zerolog.InfoLevel
	case codes.Unknown, codes.Unimplemented, codes.Internal, codes.DataLoss:
		return zerolog.ErrorLevel
	default:
		return zerolog.WarnLevel
	}
}

// contextFields are the log fields the chain put in ctx, as zerolog takes
// them (a plain []any: it ignores the named logging.Fields type).
func contextFields(ctx context.Context) []any {
	return []any(logging.ExtractFields(ctx))
}
