package grpcserver

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/platform/apperr"
	parleyauth "github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/clientaddr"
)

// Request ids made here are this process's random prefix and a counter:
// unique without a random read per call.
var (
	requestIDPrefix = func() string {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b) + "-"
	}()
	requestCounter atomic.Uint64
)

// RequestIDHeader carries the request id in both directions: a client may
// send its own, and every response header has the one used.
const RequestIDHeader = "x-request-id"

// RequestID is a client's own request id when it may serve as one (1–64
// printable ASCII characters), else a new one.
func RequestID(own string) string {
	if len(own) > 0 && len(own) <= 64 && strings.IndexFunc(own, func(r rune) bool { return r < 0x20 || r > 0x7e }) < 0 {
		return own
	}
	return requestIDPrefix + strconv.FormatUint(requestCounter.Add(1), 36)
}

func requestID(ctx context.Context) (context.Context, string) {
	own := ""
	if v := metadata.ValueFromIncomingContext(ctx, RequestIDHeader); len(v) > 0 {
		own = v[0]
	}
	id := RequestID(own)
	return logging.InjectFields(ctx, logging.Fields{"request.id", id}), id
}

// callContext gives every call its request id and its client's address
// (clientaddr), first in the chain.
type callContext struct{ trusted clientaddr.Trusted }

func (c callContext) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, id := requestID(c.withClientAddr(ctx))
	_ = grpc.SetHeader(ctx, metadata.Pairs(RequestIDHeader, id))
	return handler(ctx, req)
}

func (c callContext) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, id := requestID(c.withClientAddr(ss.Context()))
	_ = ss.SetHeader(metadata.Pairs(RequestIDHeader, id))
	wrapped := middleware.WrapServerStream(ss)
	wrapped.WrappedContext = ctx
	return handler(srv, wrapped)
}

// withClientAddr resolves the caller's address: the peer's, or the one a
// trusted proxy forwards for (the REST gateway in this process always is).
func (c callContext) withClientAddr(ctx context.Context) context.Context {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ctx
	}
	var addr netip.Addr
	if tcp, ok := p.Addr.(*net.TCPAddr); ok {
		addr, _ = netip.AddrFromSlice(tcp.IP)
	}
	inProcess := p.Addr.Network() == inProcessPeer
	if !addr.IsValid() && !inProcess {
		return ctx
	}
	client := c.trusted.Resolve(addr, inProcess, metadata.ValueFromIncomingContext(ctx, "x-forwarded-for"))
	if !client.IsValid() {
		return ctx
	}
	return clientaddr.With(ctx, client)
}

// panicHandler logs the panic with its stack; the client sees only Internal.
func panicHandler(log zerolog.Logger) func(ctx context.Context, p any) error {
	return func(ctx context.Context, p any) error {
		log.Error().Fields(contextFields(ctx)).Interface("panic", p).
			Str("stack", string(debug.Stack())).Msg("panic in handler")
		return status.Error(codes.Internal, "internal error")
	}
}

// errorMapper is the one place domain errors become gRPC statuses. Errors
// that are not *apperr.Error or a status are logged and answered as
// Internal, so no SQL or internal detail reaches the client.
type errorMapper struct{ log zerolog.Logger }

func (m errorMapper) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	return resp, m.toStatus(ctx, err)
}

func (m errorMapper) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return m.toStatus(ss.Context(), handler(srv, ss))
}

func (m errorMapper) toStatus(ctx context.Context, err error) error {
	return Status(ctx, m.log, err).Err()
}

// authenticator resolves the caller's credential: a user's bearer token, or
// the gateway credential, which only the GatewayService accepts.
type authenticator struct {
	auth          parleyauth.Authenticator
	gatewaySecret string
}

// gatewayServicePrefix is where a gateway credential may be used.
const gatewayServicePrefix = "/gateway.GatewayService/"

func (a authenticator) authenticate(ctx context.Context) (context.Context, error) {
	if secret, err := auth.AuthFromMD(ctx, "gateway"); err == nil {
		return a.authenticateGateway(ctx, secret)
	}
	token, err := auth.AuthFromMD(ctx, "bearer")
	if err != nil {
		return nil, apperr.Unauthenticated("authorization: want the header `authorization: Bearer <token>` (get a token from UserLogin)")
	}
	id, err := a.auth.Authenticate(ctx, token)
	if err != nil {
		return nil, err
	}
	logging.AddFields(ctx, logging.Fields{"user.id", id.UserID})
	return parleyauth.WithIdentity(ctx, id), nil
}

func (a authenticator) authenticateGateway(ctx context.Context, secret string) (context.Context, error) {
	if a.gatewaySecret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(a.gatewaySecret)) != 1 {
		return nil, apperr.Unauthenticated("authorization: invalid gateway credential")
	}
	if method, _ := grpc.Method(ctx); !strings.HasPrefix(method, gatewayServicePrefix) {
		return nil, apperr.PermissionDenied("a gateway credential may only call the GatewayService")
	}
	logging.AddFields(ctx, logging.Fields{"gateway", true})
	return parleyauth.WithIdentity(ctx, parleyauth.Identity{Gateway: true}), nil
}

// publicSet is the set of methods callable without a token.
type publicSet map[string]bool

func newPublicSet(methods []string) publicSet {
	s := publicSet{}
	for _, m := range methods {
		s[m] = true
	}
	return s
}

func (s publicSet) needsToken(_ context.Context, c interceptors.CallMeta) bool {
	m := c.FullMethod()
	return !s[m] &&
		!strings.HasPrefix(m, "/grpc.health.v1.") &&
		!strings.HasPrefix(m, "/grpc.reflection.")
}
