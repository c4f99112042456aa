// Package grpcserver builds the one gRPC server every module registers on,
// with Parley's interceptor chain, health checking and reflection.
package grpcserver

import (
	"crypto/tls"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	parleyauth "github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/clientaddr"
)

// Options configures the server.
type Options struct {
	Logger        zerolog.Logger
	Authenticator parleyauth.Authenticator
	// PublicMethods are the full method names callable without a token.
	// Health checking and reflection are always public.
	PublicMethods []string
	// Validate checks a request by its rules (api/rules.Check); required.
	Validate func(req any) error
	// Registerer receives the gRPC metrics; nil means none are collected.
	Registerer      prometheus.Registerer
	MaxRecvMsgBytes int
	// GatewaySecret is the credential edge gateways present as
	// `authorization: Gateway <secret>`; empty refuses every gateway.
	GatewaySecret string
	// TLS, when set, serves gRPC over TLS only.
	TLS *tls.Config
	// TrustedProxies may say, in x-forwarded-for, whom they forward for:
	// the address per-client limits count (clientaddr).
	TrustedProxies clientaddr.Trusted
	// Keepalive pings a connection idle this long (default 30 s), and closes
	// it when a ping goes unanswered for KeepaliveWait (default 10 s): a
	// device that vanished without closing goes offline.
	Keepalive, KeepaliveWait time.Duration
}

// streamWorkers is the size of the pool calls run on; when all are busy
// (long-lived gateway streams hold theirs), a call gets its own goroutine.
const streamWorkers = 256

// Limits on what a connection may make the server hold before any
// authentication: a call's headers (metadata) and its concurrent streams
// (a client's further streams wait for one to end).
const (
	maxHeaderListBytes   = 16 << 10
	maxConcurrentStreams = 128
)

// Server is the gRPC server and its health service.
type Server struct {
	*grpc.Server
	Health        *health.Server
	metrics       *grpcprom.ServerMetrics
	unary         map[string]unaryMethod // for Dispatch
	dispatchChain grpc.UnaryServerInterceptor
	authn         authenticator
	public        publicSet
	errs          errorMapper
	tls           *tls.Config // nil: plain gRPC
	inProcess     *grpc.ClientConn
}

// New builds the server. Register services on it, then call Ready.
//
// The interceptors, outermost first: request id, access log, metrics,
// panic recovery, error mapping, authentication, validation. The access log
// and metrics see the final status code, panics included.
func New(opts Options) *Server {
	if opts.Validate == nil {
		panic("grpcserver: Options.Validate is required: no request may reach a handler unchecked")
	}
	public := newPublicSet(opts.PublicMethods)
	authn := authenticator{auth: opts.Authenticator, gatewaySecret: opts.GatewaySecret}
	needsToken := selector.MatchFunc(public.needsToken)
	access := accessLog{log: opts.Logger}
	calls := callContext{trusted: opts.TrustedProxies}
	recoveryOpt := recovery.WithRecoveryHandlerContext(panicHandler(opts.Logger))
	errs := errorMapper{log: opts.Logger}

	metrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(metrics)
	}

	if opts.Keepalive == 0 {
		opts.Keepalive = 30 * time.Second
	}
	if opts.KeepaliveWait == 0 {
		opts.KeepaliveWait = 10 * time.Second
	}
	serverOpts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(opts.MaxRecvMsgBytes),
		grpc.MaxHeaderListSize(maxHeaderListBytes),
		grpc.MaxConcurrentStreams(maxConcurrentStreams),
		grpc.ForceServerCodecV2(newRequestCodec()),
		// Fixed flow-control windows bound what a client may send ahead of
		// the handler: grpc-go otherwise grows them to 16 MiB, which a
		// streamed upload fills with buffered chunks.
		grpc.InitialWindowSize(256 << 10),
		grpc.InitialConnWindowSize(1 << 20),
		// Calls run on a pool of goroutines whose stacks have grown already:
		// a fresh goroutine per call spent a fifth of a Ping's CPU growing
		// (copying) its stack through the interceptor chain.
		grpc.NumStreamWorkers(streamWorkers),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: opts.Keepalive, Timeout: opts.KeepaliveWait}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.ChainUnaryInterceptor(
			calls.unary,
			access.unary,
			metrics.UnaryServerInterceptor(),
			recovery.UnaryServerInterceptor(recoveryOpt),
			errs.unary,
			refuseUndecodable,
			selector.UnaryServerInterceptor(auth.UnaryServerInterceptor(authn.authenticate), needsToken),
			validation(opts.Validate).unary,
		),
		grpc.ChainStreamInterceptor(
			calls.stream,
			access.stream,
			newPublicStreamLimit().stream,
			metrics.StreamServerInterceptor(),
			recovery.StreamServerInterceptor(recoveryOpt),
			errs.stream,
			refuseUndecodableStream,
			selector.StreamServerInterceptor(auth.StreamServerInterceptor(authn.authenticate), needsToken),
			validation(opts.Validate).stream,
		),
	}
	if opts.TLS != nil {
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	s := grpc.NewServer(serverOpts...)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(s, hs)
	reflection.Register(s)
	return &Server{
		Server: s, Health: hs, metrics: metrics,
		unary: map[string]unaryMethod{}, authn: authn, errs: errs, public: public, tls: opts.TLS,
		dispatchChain: newDispatchChain(access, metrics, recoveryOpt, errs, validation(opts.Validate)),
	}
}

// Ready marks every registered service as serving and initialises the
// per-method metrics. Call it after all services are registered.
func (s *Server) Ready() {
	s.metrics.InitializeMetrics(s.Server)
	for name := range s.GetServiceInfo() {
		s.Health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	s.Health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
}
