// Package hub keeps the gateway's online clients and pushes frames to them.
//
// Every client is an endpoint on a stream: a device's own SendMessage
// stream (one endpoint), or an edge gateway's stream (one endpoint per
// client it registered). Each stream has a bounded queue and, while frames
// wait in it, one writer goroutine; a stream whose queue is full is cut off with ResourceExhausted
// instead of slowing the publisher or growing memory, and its clients
// resync with SyncMessages when they reconnect.
package hub

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/platform/bus"
)

// Frame commands.
const (
	CmdPing      = "ping"
	CmdPong      = "pong"
	CmdError     = "error"
	CmdBroadcast = "broadcast"
)

// Dispatcher calls a unary method in-process as the holder of a user token;
// its errors are statuses safe to show the client.
type Dispatcher interface {
	Dispatch(ctx context.Context, token, fullMethod string, request []byte) ([]byte, error)
}

// ErrSlowConsumer ends a stream whose queue overflowed.
var ErrSlowConsumer = status.Error(codes.ResourceExhausted, "too slow reading pushed frames: reconnect and catch up with SyncMessages")

// Stream is one SendMessage stream's outgoing side.
type Stream struct {
	GatewayID string // the edge gateway's id, or this node's for a device
	send      func(*gatewaypb.SendMessageResponse) error
	limit     int           // frames that may wait before the stream is cut off
	done      chan struct{} // closed when the stream must stop

	mu      sync.Mutex
	cause   error                            // why done was closed
	queue   []*gatewaypb.SendMessageResponse // frames waiting for the writer
	writing bool                             // a writer goroutine is running

	// edge streams: their registered clients, by client id (under Hub.mu)
	clients map[string]*Endpoint
}

// Endpoint is one online client: a user on a stream.
type Endpoint struct {
	UserID   uint64
	ClientID string
	Token    string // the client's bearer token, re-checked for each frame it sends
	stream   *Stream
	expiry   *time.Timer // an edge client's: unregisters it when its token expires
	order    sequencer   // its messages' seq order, per conversation
}

// GatewayID is the gateway_id of the endpoint's frames.
func (ep *Endpoint) GatewayID() string { return ep.stream.GatewayID }

// NewStream makes the outgoing side of a stream whose frames go out
// through send, with at most limit of them waiting. It lives until Close:
// its owner closes it when the underlying stream breaks.
func NewStream(gatewayID string, limit int, send func(*gatewaypb.SendMessageResponse) error) *Stream {
	return &Stream{GatewayID: gatewayID, send: send, limit: limit, done: make(chan struct{})}
}

// Done is closed when the stream must stop; Cause then says why.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Cause is why the stream stopped, nil while it runs.
func (s *Stream) Cause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

// Close ends the stream with cause; the first cause stays.
func (s *Stream) Close(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked(cause)
}

func (s *Stream) closeLocked(cause error) {
	if s.cause == nil {
		s.cause = cause
		close(s.done)
	}
}

// Enqueue queues f without blocking; a full queue cuts the stream off.
//
// The queue grows only while frames wait, and a writer goroutine runs only
// while it is not empty, so an idle stream holds neither: with tens of
// thousands of idle devices online, that is most of a node's memory.
func (s *Stream) Enqueue(f *gatewaypb.SendMessageResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.cause != nil:
		return
	case len(s.queue) >= s.limit:
		s.closeLocked(ErrSlowConsumer)
		return
	}
	s.queue = append(s.queue, f)
	if !s.writing {
		s.writing = true
		go s.write()
	}
}

// write sends the queued frames, in order, until the queue is empty or the
// stream ends. It is the stream's only sender while it runs. A send blocked
// on a client that stopped reading returns once the stream's handler has
// returned.
func (s *Stream) write() {
	var spare []*gatewaypb.SendMessageResponse // the last batch's array, reused
	for {
		s.mu.Lock()
		batch := s.queue
		if len(batch) == 0 || s.cause != nil {
			s.queue, s.writing = nil, false
			s.mu.Unlock()
			return
		}
		s.queue = spare
		s.mu.Unlock()
		for _, f := range batch {
			if err := s.send(f); err != nil {
				s.Close(err)
				break // the next round sees the stream ended
			}
		}
		clear(batch)
		spare = batch[:0]
	}
}

// Hub indexes the online endpoints by user and by edge gateway.
type Hub struct {
	// userOnline is told when a user gets a first endpoint here (true) or
	// loses the last (false), under mu: it must not block.
	userOnline func(userID uint64, online bool)

	mu      sync.RWMutex
	byUser  map[uint64]map[*Endpoint]struct{}
	edges   map[string]*Stream // edge gateway id → its stream
	streams map[*Stream]struct{}
	closing error // set by CloseAll: streams opened later end at once
}

// New makes a hub that tells userOnline which users it has online.
func New(userOnline func(userID uint64, online bool)) *Hub {
	return &Hub{
		userOnline: userOnline,
		byUser:     map[uint64]map[*Endpoint]struct{}{},
		edges:      map[string]*Stream{},
		streams:    map[*Stream]struct{}{},
	}
}

// Track keeps a stream until Forget, so CloseAll reaches it.
func (h *Hub) Track(s *Stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing != nil {
		s.Close(h.closing)
		return
	}
	h.streams[s] = struct{}{}
}

// Forget drops a stream that ended.
func (h *Hub) Forget(s *Stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.streams, s)
}

// CloseAll ends every open stream, and any opened later, with cause.
func (h *Hub) CloseAll(cause error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closing = cause
	for s := range h.streams {
		s.Close(cause)
	}
}

// MaxEndpointsPerUser bounds one user's devices and edge clients online at
// once, so one account cannot multiply every push or pile up streams.
const MaxEndpointsPerUser = 64

// ErrTooManyEndpoints refuses a user's endpoint beyond MaxEndpointsPerUser.
var ErrTooManyEndpoints = status.Errorf(codes.ResourceExhausted, "more than %d devices of this user are online", MaxEndpointsPerUser)

// AddDevice puts a device's own stream online as one endpoint.
func (h *Hub) AddDevice(s *Stream, userID uint64, clientID, token string) (*Endpoint, error) {
	ep := &Endpoint{UserID: userID, ClientID: clientID, Token: token, stream: s}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.byUser[userID]) >= MaxEndpointsPerUser {
		return nil, ErrTooManyEndpoints
	}
	h.index(ep)
	return ep, nil
}

// RemoveDevice takes a device endpoint offline.
func (h *Hub) RemoveDevice(ep *Endpoint) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.unindex(ep)
}

// ErrGatewayTaken refuses a second stream for a live edge gateway id.
var ErrGatewayTaken = errors.New("an edge gateway stream with this gateway-id is already open")

// AddEdge puts an edge gateway's stream online, with no clients yet.
func (h *Hub) AddEdge(s *Stream) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, taken := h.edges[s.GatewayID]; taken {
		return ErrGatewayTaken
	}
	s.clients = map[string]*Endpoint{}
	h.edges[s.GatewayID] = s
	return nil
}

// RemoveEdge takes an edge gateway and all its clients offline.
func (h *Hub) RemoveEdge(s *Stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.edges[s.GatewayID] != s {
		return
	}
	delete(h.edges, s.GatewayID)
	for _, ep := range s.clients {
		h.unindex(ep)
	}
}

// Errors of Register and UnRegister.
var (
	ErrNoSuchGateway = status.Error(codes.NotFound, "gateway_id: no edge gateway stream with this id is open")
	ErrNoSuchClient  = status.Error(codes.NotFound, "client_id: not registered on this gateway")
	ErrClientTaken   = status.Error(codes.AlreadyExists, "client_id: registered on this gateway to another user")
)

// Register binds clientID on edge gateway gatewayID to a user until its
// token expires (expiresAt) or it is unregistered. The same user
// registering again replaces its binding (a new token); a client id bound to
// another user stays theirs until unregistered.
func (h *Hub) Register(gatewayID, clientID string, userID uint64, token string, expiresAt time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.edges[gatewayID]
	if !ok {
		return ErrNoSuchGateway
	}
	old, rebind := s.clients[clientID]
	switch {
	case rebind && old.UserID != userID:
		return ErrClientTaken
	case !rebind && len(h.byUser[userID]) >= MaxEndpointsPerUser:
		return ErrTooManyEndpoints
	}
	ep := &Endpoint{UserID: userID, ClientID: clientID, Token: token, stream: s}
	s.clients[clientID] = ep
	// The new binding first: the user stays online throughout, so a
	// cluster bus keeps routing its pushes here.
	h.index(ep)
	if rebind {
		h.unindex(old)
	}
	ep.expiry = time.AfterFunc(time.Until(expiresAt), func() { h.expire(ep) })
	return nil
}

// expire unregisters ep if it is still its client id's binding.
func (h *Hub) expire(ep *Endpoint) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ep.stream.clients[ep.ClientID] == ep {
		delete(ep.stream.clients, ep.ClientID)
		h.unindex(ep)
	}
}

// Client returns the endpoint of clientID on edge gateway gatewayID.
func (h *Hub) Client(gatewayID, clientID string) (*Endpoint, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	s, ok := h.edges[gatewayID]
	if !ok {
		return nil, false
	}
	ep, ok := s.clients[clientID]
	return ep, ok
}

// UnRegister removes exactly that client's binding.
func (h *Hub) UnRegister(gatewayID, clientID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.edges[gatewayID]
	if !ok {
		return ErrNoSuchGateway
	}
	ep, ok := s.clients[clientID]
	if !ok {
		return ErrNoSuchClient
	}
	delete(s.clients, clientID)
	h.unindex(ep)
	return nil
}

// ErrTokenExpired ends a device stream when the token it opened with expires.
var ErrTokenExpired = status.Error(codes.Unauthenticated, "token expired: sign in again")

// ErrRevoked ends the streams of a user whose tokens were revoked.
var ErrRevoked = status.Error(codes.Unauthenticated, "token revoked: sign in again")

// revoke takes every endpoint of userID offline: its device streams end
// with Unauthenticated, its edge clients are unregistered. For when the
// user's tokens are revoked (a password change), so no push reaches a
// session signed in with an old token.
func (h *Hub) revoke(userID uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set, ok := h.byUser[userID]
	if !ok {
		return
	}
	for ep := range set {
		if ep.stream.clients != nil {
			delete(ep.stream.clients, ep.ClientID)
			ep.expiry.Stop()
		} else {
			ep.stream.Close(ErrRevoked)
		}
	}
	delete(h.byUser, userID)
	h.userOnline(userID, false)
}

func (h *Hub) index(ep *Endpoint) {
	set, ok := h.byUser[ep.UserID]
	if !ok {
		set = map[*Endpoint]struct{}{}
		h.byUser[ep.UserID] = set
		h.userOnline(ep.UserID, true)
	}
	set[ep] = struct{}{}
}

func (h *Hub) unindex(ep *Endpoint) {
	if ep.expiry != nil {
		ep.expiry.Stop()
	}
	set, ok := h.byUser[ep.UserID]
	if !ok {
		return // revoked already
	}
	delete(set, ep)
	if len(set) == 0 {
		delete(h.byUser, ep.UserID)
		h.userOnline(ep.UserID, false)
	}
}

// Deliver queues d for every online endpoint it is for, or, for a
// revocation, takes its users offline. It never blocks.
func (h *Hub) Deliver(d bus.Delivery) {
	if d.Cmd == bus.CmdRevoked {
		for _, id := range d.UserIDs {
			h.revoke(id)
		}
		return
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	push := func(ep *Endpoint) {
		var f *gatewaypb.SendMessageResponse // none for a skip: the order only moves past it
		if d.Cmd != bus.CmdSkip {
			f = &gatewaypb.SendMessageResponse{GatewayId: ep.stream.GatewayID, Cmd: d.Cmd, Data: d.Data, ReceiverId: ep.ClientID}
		}
		if d.Conversation != "" {
			ep.order.push(ep.stream, d.Conversation, d.Seq, f)
			return
		}
		ep.stream.Enqueue(f)
	}
	if d.Broadcast {
		for _, set := range h.byUser {
			for ep := range set {
				push(ep)
			}
		}
		return
	}
	for _, uid := range d.UserIDs {
		for ep := range h.byUser[uid] {
			push(ep)
		}
	}
}
