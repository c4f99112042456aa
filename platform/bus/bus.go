// Package bus carries deliveries from the modules that produce them (a
// stored message, a broadcast, a revocation) to the gateway streams that
// push them to online clients, and requests between nodes. Local is the
// in-process bus of a single node; NATS joins the nodes of a cluster.
package bus

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// Delivery is a frame to push to online clients: to every device of the
// users in UserIDs, or to every online client when Broadcast is set.
type Delivery struct {
	UserIDs   []uint64
	Broadcast bool
	Cmd       string // the frame's cmd: "message", "broadcast"
	Data      []byte // the frame's data: a serialized protobuf message
	// Conversation and Seq place a message in its conversation, so a
	// receiving node can push a conversation's messages in seq order
	// however they travelled. Empty for other deliveries.
	Conversation string
	Seq          uint64
}

// CmdRevoked is the Cmd of a delivery announcing that the tokens of its
// UserIDs were revoked. It is broadcast to every node and never pushed to
// a client: nodes drop their cached tokens and sessions of those users.
const CmdRevoked = "parley.revoked"

// CmdSkip is the Cmd of a delivery telling the devices of its UserIDs that
// Seq of Conversation is an entry they do not see (another user's
// delete-for-me, a change to a message from before they joined). It is
// never pushed to a client: their seq order moves past it at once instead
// of waiting for a frame that will not come.
const CmdSkip = "parley.skip"

// Bus publishes deliveries to its subscribers, on this node and, for a
// cluster bus, on every node that has a client they are for.
type Bus interface {
	// Publish hands d to every subscriber. Deliveries published one after
	// another by one goroutine reach each subscriber in that order.
	Publish(ctx context.Context, d Delivery) error
	// Subscribe calls handle for every delivery until unsubscribe is called,
	// after the handlers that subscribed before it. handle must not block:
	// it queues, it does not write to the network.
	Subscribe(handle func(Delivery)) (unsubscribe func())
	// Interest says this node has gained (online) or lost its first or last
	// client of userID, so a cluster bus routes that user's deliveries here
	// or stops. It does not block.
	Interest(userID uint64, online bool)
	// Sync returns once the interest declared so far has reached the
	// cluster: deliveries published anywhere after it are routed here.
	Sync(ctx context.Context) error
	// Serve answers requests sent to route (on any node) with handle until
	// stop is called. A route has one server in the cluster.
	Serve(route string, handle func(request []byte) []byte) (stop func(), err error)
	// Request sends request to route's server and returns its answer, or
	// ErrNoRoute when no node serves route.
	Request(ctx context.Context, route string, request []byte) ([]byte, error)
}

// ErrNoRoute is Request's error when no node serves the route.
var ErrNoRoute = errors.New("bus: no node serves this route")

// Local delivers in-process, synchronously, on the publisher's goroutine.
type Local struct {
	mu       sync.RWMutex
	next     int
	handlers []subscriber // in subscription order
	routes   map[string]func([]byte) []byte
}

type subscriber struct {
	id     int
	handle func(Delivery)
}

func NewLocal() *Local {
	return &Local{routes: map[string]func([]byte) []byte{}}
}

func (l *Local) Publish(_ context.Context, d Delivery) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, s := range l.handlers {
		s.handle(d)
	}
	return nil
}

func (l *Local) Subscribe(handle func(Delivery)) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.next
	l.next++
	l.handlers = append(l.handlers, subscriber{id: id, handle: handle})
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.handlers = slices.DeleteFunc(l.handlers, func(s subscriber) bool { return s.id == id })
	}
}

// Interest is a no-op: every delivery reaches this node.
func (l *Local) Interest(uint64, bool) {}

// Sync is a no-op: there is no cluster to reach.
func (l *Local) Sync(context.Context) error { return nil }

func (l *Local) Serve(route string, handle func([]byte) []byte) (func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.routes[route] = handle
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.routes, route)
	}, nil
}

func (l *Local) Request(_ context.Context, route string, request []byte) ([]byte, error) {
	l.mu.RLock()
	handle, ok := l.routes[route]
	l.mu.RUnlock()
	if !ok {
		return nil, ErrNoRoute
	}
	return handle(request), nil
}
