// Package gateway is the gateway module: SendMessage streams that keep
// devices and edge gateways online, push them what the bus delivers, and
// carry their requests; and the GatewayService.
package gateway

import (
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/modules/gateway/internal/hub"
	"github.com/parley-im/parley/modules/gateway/internal/rpc"
	"github.com/parley-im/parley/modules/gateway/internal/ws"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/bus"
	"github.com/parley-im/parley/platform/clientaddr"
)

// Config tunes the module.
type Config = rpc.Config

// Dispatcher calls a unary method in-process as the holder of a user token
// (the gRPC server).
type Dispatcher = hub.Dispatcher

// Stream metadata and frame commands.
const (
	ClientIDHeader            = rpc.ClientIDHeader
	GatewayIDHeader           = rpc.GatewayIDHeader
	ClientAuthorizationHeader = rpc.ClientAuthorizationHeader
	CmdPing                   = hub.CmdPing
	CmdPong                   = hub.CmdPong
	CmdError                  = hub.CmdError
	CmdBroadcast              = hub.CmdBroadcast
)

// MaxEndpointsPerUser bounds one user's devices and edge clients online at once.
const MaxEndpointsPerUser = hub.MaxEndpointsPerUser

// PublicMethods are the GatewayService methods callable without a token.
var PublicMethods = []string{gatewaypb.GatewayService_Ping_FullMethodName}

// Module is the built gateway module.
type Module struct {
	hub      *hub.Hub
	server   *rpc.Server
	dispatch Dispatcher
	auth     auth.Authenticator
	bus      bus.Bus
	cfg      Config
}

// New builds the module and subscribes it to the bus: from then on what
// the bus delivers is pushed to the online clients it is for.
func New(d Dispatcher, a auth.Authenticator, b bus.Bus, cfg Config) *Module {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 256
	}
	online := b.Interest
	if cfg.Presence != nil {
		online = func(userID uint64, on bool) {
			b.Interest(userID, on)
			cfg.Presence(userID, on)
		}
	}
	h := hub.New(online)
	b.Subscribe(h.Deliver)
	return &Module{hub: h, server: rpc.NewServer(h, d, a, b, cfg), dispatch: d, auth: a, bus: b, cfg: cfg}
}

// WebSocketOptions tunes the WebSocket edge.
type WebSocketOptions struct {
	// OriginPatterns are the other origins whose pages may connect (host
	// patterns such as "chat.example.com" or "*.example.com"); a page
	// served by Parley itself always may.
	OriginPatterns []string
	MaxFrameBytes  int64         // largest frame a client may send
	Keepalive      time.Duration // ping a connection this often…
	KeepaliveWait  time.Duration // …and close it when a ping goes unanswered this long
	SignInWithin   time.Duration // how long a connection may stay anonymous (default 2 minutes)
	// AnonymousPerAddr is how many connections not signed in one address
	// may hold at once (default 16).
	AnonymousPerAddr int
	// TrustedProxies may say, in X-Forwarded-For, whom they forward for.
	TrustedProxies clientaddr.Trusted
}

// WebSocketEdge serves GET /ws. Wait returns once every connection has
// ended and its calls have returned: for shutdown, after CloseStreams.
type WebSocketEdge interface {
	http.Handler
	Wait()
}

// WebSocket is the handler of GET /ws: the gateway's frames as JSON over a
// WebSocket, for browsers (package ws documents the protocol).
func (m *Module) WebSocket(opts WebSocketOptions) WebSocketEdge {
	if opts.SignInWithin <= 0 {
		opts.SignInWithin = 2 * time.Minute
	}
	if opts.AnonymousPerAddr <= 0 {
		opts.AnonymousPerAddr = 16
	}
	if opts.Keepalive <= 0 || opts.KeepaliveWait <= 0 {
		opts.Keepalive, opts.KeepaliveWait = 30*time.Second, 10*time.Second
	}
	return ws.New(m.hub, m.dispatch, m.auth, m.bus, ws.Config{
		NodeID: m.cfg.NodeID, QueueSize: m.cfg.QueueSize, OriginPatterns: opts.OriginPatterns,
		MaxFrameBytes: opts.MaxFrameBytes, Keepalive: opts.Keepalive, KeepaliveWait: opts.KeepaliveWait,
		SignInWithin: opts.SignInWithin, TrustedProxies: opts.TrustedProxies, AnonymousPerAddr: opts.AnonymousPerAddr,
		Log: m.cfg.Log,
	})
}

// Register adds the GatewayService to s.
func (m *Module) Register(s grpc.ServiceRegistrar) {
	gatewaypb.RegisterGatewayServiceServer(s, m.server)
}

// CloseStreams ends every open stream with Unavailable, so clients
// reconnect (to another node, or this one once it is back); for shutdown,
// since a graceful stop otherwise waits for streams that never end.
func (m *Module) CloseStreams() {
	m.hub.CloseAll(status.Error(codes.Unavailable, "server shutting down: reconnect"))
}
