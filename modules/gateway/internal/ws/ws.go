// Package ws is the gateway's WebSocket edge: browsers, which cannot open
// gRPC streams, hold a WebSocket instead and speak the gateway's frames as
// JSON. A connection is a client of the built-in edge: once it has
// authenticated it is online as a device of its user, with the same queue,
// push, ping and dispatch rules as a gRPC SendMessage stream.
//
// Frames, both ways: {"cmd": …, "request_id": n, "data": …}.
//   - "ping" → "pong".
//   - "auth" with data {"token": …} (from UserLogin, which a connection
//     may call before it authenticates, as it may CreateUser) → "auth" with
//     data {"user_id": …}; pushes for the user start.
//   - the full name of a unary method (/message.MessageService/SyncMessages)
//     with data its request as protobuf JSON → the same cmd with data the
//     response as protobuf JSON.
//   - "error": data {"code": gRPC code, "message": …} answers a frame that
//     failed.
//   - pushes: "message" (data a message.Message), "change" (data a
//     message.MessageChange: an edit), "typing" (a message.Typing),
//     "receipt" (a message.Receipt), "presence" (a user.Presence),
//     "broadcast" (data the bytes, base64).
package ws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/gateway/internal/hub"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/bus"
	"github.com/parley-im/parley/platform/clientaddr"
	"github.com/parley-im/parley/platform/grpcserver"
	"github.com/parley-im/parley/platform/ratelimit"
)

// Frame commands of the WebSocket edge beside the gateway's.
const (
	CmdAuth     = "auth"
	CmdMessage  = "message"  // the message module's push of a message
	CmdChange   = "change"   // and of a change to one
	CmdTyping   = "typing"   // someone is typing
	CmdReceipt  = "receipt"  // a peer's delivery and read marks moved
	CmdPresence = "presence" // a contact came online or went offline
)

// Config tunes the edge.
type Config struct {
	NodeID         string
	QueueSize      int
	OriginPatterns []string // other origins allowed to connect (host patterns); the page's own always is
	MaxFrameBytes  int64
	Keepalive      time.Duration // ping a connection this often…
	KeepaliveWait  time.Duration // …and close it when a ping goes unanswered this long
	SignInWithin   time.Duration // how long a connection may stay anonymous
	// AnonymousPerAddr is how many connections not signed in yet one
	// address may hold at once (a sign-in frees its place).
	AnonymousPerAddr int
	TrustedProxies   clientaddr.Trusted
	Log              zerolog.Logger // where failures of ours are logged
}

// Handler serves GET /ws.
type Handler struct {
	hub      *hub.Hub
	dispatch hub.Dispatcher
	auth     auth.Authenticator
	bus      bus.Bus
	cfg      Config
	active   sync.WaitGroup // connections, until their last call has returned

	anonymous *ratelimit.Holds[string] // address → connections not signed in
}

// Wait returns once every connection has ended and its calls returned; for
// shutdown, after the hub has closed the streams.
func (h *Handler) Wait() { h.active.Wait() }

func New(h *hub.Hub, d hub.Dispatcher, a auth.Authenticator, b bus.Bus, cfg Config) *Handler {
	return &Handler{hub: h, dispatch: d, auth: a, bus: b, cfg: cfg, anonymous: ratelimit.NewHolds[string](cfg.AnonymousPerAddr)}
}

// frame is a frame on the wire.
type frame struct {
	Cmd       string          `json:"cmd"`
	RequestID uint32          `json:"request_id,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	addr := h.cfg.TrustedProxies.FromRequest(r)
	anonKey := clientaddr.Key(addr)
	if !h.anonymous.Take(anonKey) {
		http.Error(w, fmt.Sprintf("too many connections not signed in from your address: at most %d", h.cfg.AnonymousPerAddr), http.StatusTooManyRequests)
		return
	}
	var releaseAnonymous sync.Once
	stopBeingAnonymous := func() { releaseAnonymous.Do(func() { h.anonymous.Release(anonKey) }) }
	defer stopBeingAnonymous()
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.cfg.OriginPatterns})
	if err != nil {
		return // Accept has answered (403 for a foreign origin, 426 for no upgrade)
	}
	h.active.Add(1)
	defer h.active.Done()
	conn.SetReadLimit(h.cfg.MaxFrameBytes)
	// The connection's calls count against its client's address (logins).
	ctx, cancel := context.WithCancel(clientaddr.With(r.Context(), addr))
	defer cancel()

	out := hub.NewStream(h.cfg.NodeID, h.cfg.QueueSize, func(f *gatewaypb.SendMessageResponse) error {
		data, err := encode(f)
		if err != nil {
			return err
		}
		return conn.Write(ctx, websocket.MessageText, data)
	})
	h.hub.Track(out) // after this, a shutdown ends the connection
	defer h.hub.Forget(out)
	c := &client{Handler: h, out: out, signedInNow: stopBeingAnonymous}
	// An anonymous connection may sign up and log in, but not linger.
	c.signInBy = time.AfterFunc(h.cfg.SignInWithin, func() {
		if !c.signedIn() {
			out.Close(status.Errorf(codes.Unauthenticated, "auth: a connection must sign in within %s", h.cfg.SignInWithin))
		}
	})
	defer c.offline()
	reading := make(chan struct{})
	go func() {
		defer close(reading)
		c.readLoop(ctx, conn)
	}()

	ping := time.NewTicker(h.cfg.Keepalive)
	defer ping.Stop()
	for {
		select {
		case <-out.Done():
			conn.Close(closeStatus(out.Cause()))
			cancel() // ends a call the reader is making
			<-reading
			return
		case <-ping.C:
			pingCtx, cancelPing := context.WithTimeout(ctx, h.cfg.KeepaliveWait)
			err := conn.Ping(pingCtx)
			cancelPing()
			if err != nil {
				out.Close(fmt.Errorf("keepalive: %w", err))
			}
		}
	}
}

// closeStatus is the WebSocket close code and reason for why a stream ended.
func closeStatus(cause error) (websocket.StatusCode, string) {
	st := status.Convert(cause)
	switch {
	case websocket.CloseStatus(cause) != -1 || errors.Is(cause, context.Canceled):
		return websocket.StatusNormalClosure, ""
	case st.Code() == codes.Unauthenticated:
		return websocket.StatusPolicyViolation, st.Message()
	case st.Code() == codes.ResourceExhausted:
		return websocket.StatusTryAgainLater, st.Message()
	case st.Code() == codes.Unavailable:
		return websocket.StatusGoingAway, st.Message()
	}
	return websocket.StatusInternalError, "connection ended"
}

// client is one connection: anonymous until it authenticates. Its reader
// signs it in; its handler takes it offline when it ends, perhaps while the
// reader is still running, hence the lock.
type client struct {
	*Handler
	out         *hub.Stream
	signInBy    *time.Timer
	signedInNow func() // gives the connection's anonymous place back

	mu     sync.Mutex
	device *hub.Endpoint // once authenticated
	expiry *time.Timer   // ends the connection when the device's token expires
	ended  bool          // offline ran: no device may be added any more
}

func (c *client) signedIn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.device != nil
}

// token is the signed-in device's token, or "" while anonymous.
func (c *client) token() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.device == nil {
		return ""
	}
	return c.device.Token
}

func (c *client) offline() {
	c.signInBy.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = true
	if c.device != nil {
		c.expiry.Stop()
		c.hub.RemoveDevice(c.device)
	}
}

// readLoop answers the connection's frames until it ends.
func (c *client) readLoop(ctx context.Context, conn *websocket.Conn) {
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			c.out.Close(err)
			return
		}
		var f frame
		if typ != websocket.MessageText || json.Unmarshal(data, &f) != nil {
			c.out.Enqueue(c.errorFrame(ctx, 0, status.Error(codes.InvalidArgument,
				`frame: want a JSON text frame {"cmd": …, "request_id": n, "data": …}`)))
			continue
		}
		c.out.Enqueue(c.answer(ctx, f))
	}
}

// answer handles one frame. The reader runs it, so a connection's frames
// are answered in order.
func (c *client) answer(ctx context.Context, f frame) *gatewaypb.SendMessageResponse {
	switch {
	case f.Cmd == hub.CmdPing:
		return &gatewaypb.SendMessageResponse{Cmd: hub.CmdPong, RequestId: f.RequestID}
	case f.Cmd == CmdAuth:
		return c.authenticate(ctx, f)
	case !strings.HasPrefix(f.Cmd, "/") || strings.HasPrefix(f.Cmd, "/gateway.GatewayService/"):
		return c.errorFrame(ctx, f.RequestID, status.Errorf(codes.InvalidArgument,
			"cmd: want %q, %q or the full name of a unary method such as /user.UserService/UserLogin", hub.CmdPing, CmdAuth))
	}
	request, err := requestOf(f)
	if err != nil {
		return c.errorFrame(ctx, f.RequestID, err)
	}
	response, err := c.dispatch.Dispatch(ctx, c.token(), f.Cmd, request)
	if err != nil {
		return c.errorFrame(ctx, f.RequestID, err)
	}
	return &gatewaypb.SendMessageResponse{Cmd: f.Cmd, RequestId: f.RequestID, Data: response}
}

// authenticate puts the connection online as a device of the token's user.
func (c *client) authenticate(ctx context.Context, f frame) *gatewaypb.SendMessageResponse {
	if c.signedIn() {
		return c.errorFrame(ctx, f.RequestID, status.Error(codes.FailedPrecondition, "auth: this connection is signed in already"))
	}
	var req struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(f.Data, &req) != nil || req.Token == "" {
		return c.errorFrame(ctx, f.RequestID, status.Error(codes.InvalidArgument, `data: want {"token": "<token from UserLogin>"}`))
	}
	id, err := c.auth.Authenticate(ctx, req.Token)
	if err != nil {
		return c.errorFrame(ctx, f.RequestID, err)
	}
	if err := c.addDevice(id, req.Token); err != nil {
		return c.errorFrame(ctx, f.RequestID, err)
	}
	// A revocation between the check and addDevice would have missed the
	// device: check again now that a revocation finds it.
	if _, err := c.auth.Authenticate(ctx, req.Token); err != nil {
		c.out.Close(err)
		return c.errorFrame(ctx, f.RequestID, err)
	}
	syncCtx, cancel := context.WithTimeout(ctx, time.Second)
	_ = c.bus.Sync(syncCtx)
	cancel()
	data, _ := json.Marshal(map[string]string{"user_id": fmt.Sprint(id.UserID)})
	return &gatewaypb.SendMessageResponse{Cmd: CmdAuth, RequestId: f.RequestID, Data: data}
}

// addDevice puts the connection online as a device of id's user, for no
// longer than the token lasts, unless the connection has ended.
func (c *client) addDevice(id auth.Identity, token string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return status.Error(codes.Canceled, "connection closed")
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	device, err := c.hub.AddDevice(c.out, id.UserID, "web-"+hex.EncodeToString(b), token)
	if err != nil {
		return err
	}
	c.device = device
	c.expiry = time.AfterFunc(time.Until(id.ExpiresAt), func() { c.out.Close(hub.ErrTokenExpired) })
	c.signedInNow()
	return nil
}

// requestOf turns a frame's JSON data into the method's request bytes.
func requestOf(f frame) ([]byte, error) {
	method, err := methodOf(f.Cmd)
	if err != nil {
		return nil, err
	}
	req := dynamicMessage(method.Input())
	if len(f.Data) > 0 {
		if err := protojson.Unmarshal(f.Data, req); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "data: not a %s in protobuf JSON: %v", method.Input().FullName(), err)
		}
	}
	return proto.Marshal(req)
}

// methodOf finds the unary method a cmd names.
func methodOf(cmd string) (protoreflect.MethodDescriptor, error) {
	service, name, _ := strings.Cut(strings.TrimPrefix(cmd, "/"), "/")
	desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if sd, ok := desc.(protoreflect.ServiceDescriptor); err == nil && ok {
		if m := sd.Methods().ByName(protoreflect.Name(name)); m != nil && !m.IsStreamingClient() && !m.IsStreamingServer() {
			return m, nil
		}
	}
	return nil, status.Errorf(codes.Unimplemented, "unknown method %q", cmd)
}

func dynamicMessage(d protoreflect.MessageDescriptor) proto.Message {
	t, err := protoregistry.GlobalTypes.FindMessageByName(d.FullName())
	if err != nil {
		panic(fmt.Sprintf("no Go type for %s: %v", d.FullName(), err)) // generated code registers every type
	}
	return t.New().Interface()
}

// errorFrame answers requestID with err as every path answers errors
// (grpcserver.Status: a failure of ours is logged, its details not shown).
func (c *client) errorFrame(ctx context.Context, requestID uint32, err error) *gatewaypb.SendMessageResponse {
	data, _ := proto.Marshal(grpcserver.Status(ctx, c.cfg.Log, err).Proto())
	return &gatewaypb.SendMessageResponse{Cmd: hub.CmdError, RequestId: requestID, Data: data}
}

// encode renders a frame of the hub as JSON.
func encode(f *gatewaypb.SendMessageResponse) ([]byte, error) {
	out := frame{Cmd: f.GetCmd(), RequestID: f.GetRequestId()}
	var err error
	switch cmd := f.GetCmd(); {
	case cmd == hub.CmdPong:
	case cmd == CmdAuth:
		out.Data = f.GetData()
	case cmd == CmdMessage:
		out.Data, err = toJSON(&messagepb.Message{}, f.GetData())
	case cmd == CmdChange:
		out.Data, err = toJSON(&messagepb.MessageChange{}, f.GetData())
	case cmd == CmdTyping:
		out.Data, err = toJSON(&messagepb.Typing{}, f.GetData())
	case cmd == CmdReceipt:
		out.Data, err = toJSON(&messagepb.Receipt{}, f.GetData())
	case cmd == CmdPresence:
		out.Data, err = toJSON(&userpb.Presence{}, f.GetData())
	case cmd == hub.CmdError:
		st := &spb.Status{}
		if err = proto.Unmarshal(f.GetData(), st); err == nil {
			out.Data, err = json.Marshal(map[string]any{"code": st.GetCode(), "message": st.GetMessage()})
		}
	case strings.HasPrefix(cmd, "/"):
		var m protoreflect.MethodDescriptor
		if m, err = methodOf(cmd); err == nil {
			out.Data, err = toJSON(dynamicMessage(m.Output()), f.GetData())
		}
	default: // a broadcast: opaque bytes
		out.Data, err = json.Marshal(f.GetData())
	}
	if err != nil {
		return nil, fmt.Errorf("encode %s frame: %w", f.GetCmd(), err)
	}
	return json.Marshal(out)
}

func toJSON(m proto.Message, data []byte) (json.RawMessage, error) {
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, err
	}
	return protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(m)
}
