package grpcserver

import (
	"context"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	parleyauth "github.com/parley-im/parley/platform/auth"
)

// unaryMethod is a registered unary method, callable in-process.
type unaryMethod struct {
	impl    any
	handler grpc.MethodHandler
}

// RegisterService registers a service on the gRPC server and records its
// unary methods for Dispatch.
func (s *Server) RegisterService(desc *grpc.ServiceDesc, impl any) {
	s.Server.RegisterService(desc, impl)
	for _, m := range desc.Methods {
		s.unary["/"+desc.ServiceName+"/"+m.MethodName] = unaryMethod{impl: impl, handler: m.Handler}
	}
}

// Dispatch calls a registered unary method in-process as the holder of
// token (a user's bearer token, checked now, so a revoked one fails at
// once; a public method runs without one, as over gRPC): request and response are serialized protobuf messages, as in a
// gateway frame. The call goes through the same interceptors as a network
// call but authentication, and every error comes back as a gRPC status
// safe to show the client.
func (s *Server) Dispatch(ctx context.Context, token, fullMethod string, request []byte) ([]byte, error) {
	resp, err := s.dispatch(ctx, token, fullMethod, request)
	return resp, s.errs.toStatus(ctx, err)
}

func (s *Server) dispatch(ctx context.Context, token, fullMethod string, request []byte) ([]byte, error) {
	m, ok := s.unary[fullMethod]
	if !ok {
		return nil, status.Errorf(codes.Unimplemented, "unknown method %q", fullMethod)
	}
	// The call has no metadata of its own: the stream's (its authorization,
	// an idempotency key) must not apply to every request sent on it.
	ctx = metadata.NewIncomingContext(ctx, metadata.MD{})
	if s.public[fullMethod] {
		ctx = logging.InjectFields(ctx, logging.Fields{"dispatched", true})
	} else {
		caller, err := s.authn.auth.Authenticate(ctx, token)
		if err != nil {
			return nil, err
		}
		ctx = logging.InjectFields(parleyauth.WithIdentity(ctx, caller), logging.Fields{"user.id", caller.UserID, "dispatched", true})
	}
	decode := func(req any) error {
		if err := proto.Unmarshal(request, req.(proto.Message)); err != nil {
			return status.Errorf(codes.InvalidArgument, "data: not a serialized request of %s", fullMethod)
		}
		return nil
	}
	resp, err := m.handler(m.impl, ctx, decode, s.dispatchChain)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(resp.(proto.Message))
}

// chainUnary composes interceptors, the first outermost.
func chainUnary(interceptors ...grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		next := handler
		for i := len(interceptors) - 1; i >= 0; i-- {
			interceptor, inner := interceptors[i], next
			next = func(ctx context.Context, req any) (any, error) { return interceptor(ctx, req, info, inner) }
		}
		return next(ctx, req)
	}
}

// newDispatchChain is the network chain without request ids and
// authentication: access log, metrics, recovery, error mapping, validation.
func newDispatchChain(access accessLog, metrics *grpcprom.ServerMetrics,
	recoveryOpt recovery.Option, errs errorMapper, validate validation) grpc.UnaryServerInterceptor {
	return chainUnary(
		access.unary,
		metrics.UnaryServerInterceptor(),
		recovery.UnaryServerInterceptor(recoveryOpt),
		errs.unary,
		validate.unary,
	)
}
