// Package rpc is the gateway module's gRPC face: SendMessage streams that
// push frames to clients and carry their requests, and the edge-gateway
// registration calls.
package rpc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/modules/gateway/internal/hub"
	"github.com/parley-im/parley/platform/apperr"
	parleyauth "github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/bus"
	"github.com/parley-im/parley/platform/grpcserver"
	"github.com/parley-im/parley/platform/validate"
)

// Metadata a SendMessage stream opens with.
const (
	ClientIDHeader  = "client-id"  // a device's id; generated when absent
	GatewayIDHeader = "gateway-id" // an edge gateway's id; required with the gateway credential
	maxIDLength     = 64
)

// Config tunes the server.
type Config struct {
	NodeID    string         // the gateway_id of device streams
	QueueSize int            // frames a stream may have waiting
	Log       zerolog.Logger // where failures of ours are logged
	// Presence, if set, is told when a user gets its first endpoint on
	// this node (online) or loses its last, under the hub's lock: it must
	// not block.
	Presence func(userID uint64, online bool)
}

// Server implements gatewaypb.GatewayServiceServer.
type Server struct {
	gatewaypb.UnimplementedGatewayServiceServer
	hub      *hub.Hub
	dispatch hub.Dispatcher
	auth     parleyauth.Authenticator
	bus      bus.Bus
	cfg      Config
}

func NewServer(h *hub.Hub, d hub.Dispatcher, a parleyauth.Authenticator, b bus.Bus, cfg Config) *Server {
	return &Server{hub: h, dispatch: d, auth: a, bus: b, cfg: cfg}
}

func (s *Server) Ping(ctx context.Context, req *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return grpcserver.Ping(ctx, req)
}

// SendMessage is a gateway stream: a device's (user token) or an edge
// gateway's (gateway credential).
func (s *Server) SendMessage(stream gatewaypb.GatewayService_SendMessageServer) error {
	ctx := stream.Context()
	caller, ok := parleyauth.FromContext(ctx)
	if !ok {
		return parleyauth.ErrNoIdentity
	}
	var out *hub.Stream
	var senderOf func(*gatewaypb.SendMessageRequest) (*hub.Endpoint, error)
	if caller.Gateway {
		gatewayID, err := headerID(ctx, GatewayIDHeader, false)
		if err != nil {
			return err
		}
		out = hub.NewStream(gatewayID, s.cfg.QueueSize, stream.Send)
		if err := s.hub.AddEdge(out); err != nil {
			return apperr.AlreadyExists("%s: %v", GatewayIDHeader, err)
		}
		defer s.hub.RemoveEdge(out)
		// One stream per edge gateway id in the cluster: another node
		// answering for it still holds one (until its keepalive gives up).
		if _, err := s.bus.Request(ctx, edgeRoute(gatewayID), probeEdge); !errors.Is(err, bus.ErrNoRoute) {
			return apperr.AlreadyExists("%s: %v", GatewayIDHeader, hub.ErrGatewayTaken)
		}
		// Register and UnRegister calls reaching other nodes come here.
		stopServing, err := s.bus.Serve(edgeRoute(gatewayID), func(request []byte) []byte {
			return s.serveEdgeCall(ctx, request)
		})
		if err != nil {
			return status.Errorf(codes.Unavailable, "the cluster bus: %v", err)
		}
		defer stopServing()
		senderOf = func(f *gatewaypb.SendMessageRequest) (*hub.Endpoint, error) {
			ep, ok := s.hub.Client(gatewayID, f.GetSenderId())
			if !ok {
				return nil, apperr.PermissionDenied("sender_id: %q is not a client registered on this gateway", f.GetSenderId())
			}
			return ep, nil
		}
	} else {
		clientID, err := headerID(ctx, ClientIDHeader, true)
		if err != nil {
			return err
		}
		token, _ := auth.AuthFromMD(ctx, "bearer")
		out = hub.NewStream(s.cfg.NodeID, s.cfg.QueueSize, stream.Send)
		device, err := s.hub.AddDevice(out, caller.UserID, clientID, token)
		if err != nil {
			return err
		}
		defer s.hub.RemoveDevice(device)
		// A revocation between the token's check and AddDevice would have
		// missed this endpoint: check again now that a revocation finds it.
		session, err := s.auth.Authenticate(ctx, token)
		if err != nil {
			return err
		}
		// The stream lives no longer than its token.
		expiry := time.AfterFunc(time.Until(session.ExpiresAt), func() { out.Close(hub.ErrTokenExpired) })
		defer expiry.Stop()
		// In a cluster, wait (briefly) until pushes for this user published
		// on other nodes are routed here; past that, SyncMessages catches up.
		syncCtx, cancelSync := context.WithTimeout(ctx, time.Second)
		_ = s.bus.Sync(syncCtx)
		cancelSync()
		// A device speaks only for itself: sender_id is ignored.
		senderOf = func(*gatewaypb.SendMessageRequest) (*hub.Endpoint, error) { return device, nil }
	}

	s.hub.Track(out) // after this, a shutdown ends the stream
	defer s.hub.Forget(out)
	// The reader (and the writer, while frames wait) end when the stream
	// does: once this handler returns, a blocked Recv or Send fails. The
	// handler must not wait for them: the writer may be blocked on a client
	// that stopped reading, the reader on one that stopped sending.
	go s.readLoop(stream, out, senderOf)

	<-out.Done()
	cause := out.Cause()
	if errors.Is(cause, io.EOF) || status.Code(cause) == codes.Canceled {
		return nil // the client closed or went away
	}
	return cause
}

// readLoop answers the client's frames until the stream ends.
func (s *Server) readLoop(stream gatewaypb.GatewayService_SendMessageServer, out *hub.Stream, senderOf func(*gatewaypb.SendMessageRequest) (*hub.Endpoint, error)) {
	for {
		f, err := stream.Recv()
		if status.Code(err) == codes.InvalidArgument && out.Cause() == nil {
			// A frame that did not decode or validate: the stream itself is
			// fine, so answer it (its request_id is unknown) and go on.
			out.Enqueue(s.errorFrame(stream.Context(), out.GatewayID, &gatewaypb.SendMessageRequest{}, "", err))
			continue
		}
		if err != nil {
			out.Close(err)
			return
		}
		ep, err := senderOf(f)
		if f.GetCmd() == hub.CmdPing { // answered for the stream itself, sender or not
			receiver := f.GetSenderId()
			if err == nil {
				receiver = ep.ClientID
			}
			out.Enqueue(&gatewaypb.SendMessageResponse{GatewayId: out.GatewayID, Cmd: hub.CmdPong, RequestId: f.GetRequestId(), ReceiverId: receiver})
			continue
		}
		if err != nil {
			out.Enqueue(s.errorFrame(stream.Context(), out.GatewayID, f, "", err))
			continue
		}
		out.Enqueue(s.answer(stream.Context(), ep, f))
	}
}

// answer handles one client frame naming a unary method to dispatch.
func (s *Server) answer(ctx context.Context, ep *hub.Endpoint, f *gatewaypb.SendMessageRequest) *gatewaypb.SendMessageResponse {
	gatewayID := ep.GatewayID()
	if !strings.HasPrefix(f.GetCmd(), "/") || strings.HasPrefix(f.GetCmd(), "/gateway.GatewayService/") {
		return s.errorFrame(ctx, gatewayID, f, ep.ClientID, apperr.InvalidArgument(
			"cmd: want %q or the full name of a unary method such as /message.MessageService/SendUserTextMessage", hub.CmdPing))
	}
	// The client's token is checked again for each request, so a revoked
	// token stops working at once.
	resp, err := s.dispatch.Dispatch(ctx, ep.Token, f.GetCmd(), f.GetData())
	if err != nil {
		return s.errorFrame(ctx, gatewayID, f, ep.ClientID, err)
	}
	return &gatewaypb.SendMessageResponse{GatewayId: gatewayID, Cmd: f.GetCmd(), RequestId: f.GetRequestId(), Data: resp, ReceiverId: ep.ClientID}
}

// errorFrame answers f with cmd "error" and a serialized google.rpc.Status,
// err mapped as on every path (grpcserver.Status).
func (s *Server) errorFrame(ctx context.Context, gatewayID string, f *gatewaypb.SendMessageRequest, clientID string, err error) *gatewaypb.SendMessageResponse {
	data, _ := proto.Marshal(grpcserver.Status(ctx, s.cfg.Log, err).Proto())
	if clientID == "" {
		clientID = f.GetSenderId()
	}
	return &gatewaypb.SendMessageResponse{GatewayId: gatewayID, Cmd: hub.CmdError, RequestId: f.GetRequestId(), Data: data, ReceiverId: clientID}
}

// headerID reads an id from the stream's metadata; generate makes one when
// it is absent, otherwise it is required.
func headerID(ctx context.Context, header string, generate bool) (string, error) {
	id := ""
	if v := metadata.ValueFromIncomingContext(ctx, header); len(v) > 0 {
		id = v[0]
	}
	switch {
	case id == "" && generate:
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b), nil
	case id == "":
		return "", apperr.InvalidArgument("%s: metadata is required", header)
	case len(id) > maxIDLength:
		return "", apperr.InvalidArgument("%s: must be at most %d characters", header, maxIDLength)
	case validate.PlainText(header, id) != nil:
		return "", apperr.InvalidArgument("%s: must not contain control characters", header)
	}
	return id, nil
}

// ClientAuthorizationHeader carries, on Register, the bearer token of the
// client being registered; the call itself carries the gateway credential.
const ClientAuthorizationHeader = "client-authorization"

// Register binds a client of an edge gateway to the user whose token the
// gateway passes along. Only edge gateways (the gateway credential) may
// register clients, so no user can bind endpoints onto a gateway's stream.
func (s *Server) Register(ctx context.Context, req *gatewaypb.RegisterRequest) (*gatewaypb.RegisterResponse, error) {
	caller, _ := parleyauth.FromContext(ctx)
	if !caller.Gateway {
		return nil, apperr.PermissionDenied("Register is for edge gateways: call it with the gateway credential "+
			"and the client's token in %s", ClientAuthorizationHeader)
	}
	token := ""
	if v := metadata.ValueFromIncomingContext(ctx, ClientAuthorizationHeader); len(v) > 0 {
		token, _ = strings.CutPrefix(v[0], "Bearer ")
	}
	if token == "" {
		return nil, apperr.Unauthenticated("%s: want the client's `Bearer <token>`", ClientAuthorizationHeader)
	}
	// The node holding the edge's stream checks the token.
	register := edgeCall{Register: true, GatewayID: req.GetGatewayId(), ClientID: req.GetClientId(), Token: token}
	if err := s.edgeCall(ctx, register); err != nil {
		return nil, err
	}
	// As for a device: in a cluster, pushes for the client's user are
	// routed to its edge's node once this returns (or within a second).
	syncCtx, cancelSync := context.WithTimeout(ctx, time.Second)
	_ = s.bus.Sync(syncCtx)
	cancelSync()
	// As for a device: a revocation before Register indexed the client
	// would have missed it.
	if _, err := s.auth.Authenticate(ctx, token); err != nil {
		_ = s.edgeCall(ctx, edgeCall{GatewayID: req.GetGatewayId(), ClientID: req.GetClientId()})
		return nil, err
	}
	return &gatewaypb.RegisterResponse{}, nil
}

// UnRegister removes exactly one client's binding; edge gateways only.
func (s *Server) UnRegister(ctx context.Context, req *gatewaypb.UnRegisterRequest) (*gatewaypb.UnRegisterResponse, error) {
	caller, _ := parleyauth.FromContext(ctx)
	if !caller.Gateway {
		return nil, apperr.PermissionDenied("UnRegister is for edge gateways: call it with the gateway credential")
	}
	if err := s.edgeCall(ctx, edgeCall{GatewayID: req.GetGatewayId(), ClientID: req.GetClientId()}); err != nil {
		return nil, err
	}
	return &gatewaypb.UnRegisterResponse{}, nil
}

// edgeCall is a Register (or, unset, an UnRegister) for the node that
// holds the edge gateway's stream, which may be another node. A Register
// carries the client's token, which that node checks itself.
type edgeCall struct {
	Register  bool   `json:"register,omitempty"`
	GatewayID string `json:"gateway_id"`
	ClientID  string `json:"client_id"`
	Token     string `json:"token,omitempty"`
}

// probeEdge asks whether a node holds an edge's stream: any answer is yes.
var probeEdge = []byte(`{"probe":true}`)

// edgeAnswer is an edgeCall's outcome: a gRPC code and message.
type edgeAnswer struct {
	Code    codes.Code `json:"code"`
	Message string     `json:"message,omitempty"`
}

func edgeRoute(gatewayID string) string { return "gateway.edge." + gatewayID }

// edgeCall applies c here if the edge's stream is here, else on the node
// that serves its route.
func (s *Server) edgeCall(ctx context.Context, c edgeCall) error {
	err := s.applyEdgeCall(ctx, c)
	if !errors.Is(err, hub.ErrNoSuchGateway) {
		return err
	}
	request, err := json.Marshal(c)
	if err != nil {
		return err
	}
	answer, err := s.bus.Request(ctx, edgeRoute(c.GatewayID), request)
	if errors.Is(err, bus.ErrNoRoute) {
		return hub.ErrNoSuchGateway
	}
	if err != nil {
		return status.Errorf(codes.Unavailable, "gateway_id: the node holding this edge gateway did not answer: %v", err)
	}
	var a edgeAnswer
	if err := json.Unmarshal(answer, &a); err != nil {
		return status.Errorf(codes.Unavailable, "gateway_id: the node holding this edge gateway answered %q", answer)
	}
	return status.Error(a.Code, a.Message) // nil for OK
}

func (s *Server) applyEdgeCall(ctx context.Context, c edgeCall) error {
	if !c.Register {
		return s.hub.UnRegister(c.GatewayID, c.ClientID)
	}
	client, err := s.auth.Authenticate(ctx, c.Token)
	if err != nil {
		return err
	}
	return s.hub.Register(c.GatewayID, c.ClientID, client.UserID, c.Token, client.ExpiresAt)
}

// serveEdgeCall answers another node's edgeCall for an edge stream here
// (a probe gets an empty answer).
func (s *Server) serveEdgeCall(ctx context.Context, request []byte) []byte {
	if bytes.Equal(request, probeEdge) {
		return []byte("{}")
	}
	var c edgeCall
	err := json.Unmarshal(request, &c)
	if err == nil {
		err = s.applyEdgeCall(ctx, c)
	}
	st := grpcserver.Status(ctx, s.cfg.Log, err)
	answer, _ := json.Marshal(edgeAnswer{Code: st.Code(), Message: st.Message()})
	return answer
}

// SendToAll pushes data to every online client; admins and gateways only.
func (s *Server) SendToAll(ctx context.Context, req *gatewaypb.SendToAllRequest) (*gatewaypb.SendToAllResponse, error) {
	caller, _ := parleyauth.FromContext(ctx)
	if !caller.Admin && !caller.Gateway {
		return nil, apperr.PermissionDenied("only admins and edge gateways may broadcast")
	}
	if err := s.bus.Publish(ctx, bus.Delivery{Broadcast: true, Cmd: hub.CmdBroadcast, Data: req.GetData()}); err != nil {
		return nil, err
	}
	return &gatewaypb.SendToAllResponse{}, nil
}
