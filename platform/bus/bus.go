// Package bus carries deliveries from the modules that produce them (a
// stored message, a broadcast) to the gateway streams that push them to
// online clients. Local is the in-process bus of a single node.
package bus

import (
	"context"
	"sync"
)

// Delivery is a frame to push to online clients: to every device of the
// users in UserIDs, or to every online client when Broadcast is set.
type Delivery struct {
	UserIDs   []uint64
	Broadcast bool
	Cmd       string // the frame's cmd: "message", "broadcast"
	Data      []byte // the frame's data: a serialized protobuf message
}

// Bus publishes deliveries to its subscribers.
type Bus interface {
	// Publish hands d to every subscriber. Deliveries published one after
	// another by one goroutine reach each subscriber in that order.
	Publish(ctx context.Context, d Delivery) error
	// Subscribe calls handle for every delivery until unsubscribe is called.
	// handle must not block: it queues, it does not write to the network.
	Subscribe(handle func(Delivery)) (unsubscribe func())
}

// Local delivers in-process, synchronously, on the publisher's goroutine.
type Local struct {
	mu     sync.RWMutex
	next   int
	handle map[int]func(Delivery)
}

func NewLocal() *Local { return &Local{handle: map[int]func(Delivery){}} }

func (l *Local) Publish(_ context.Context, d Delivery) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, h := range l.handle {
		h(d)
	}
	return nil
}

func (l *Local) Subscribe(handle func(Delivery)) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.next
	l.next++
	l.handle[id] = handle
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.handle, id)
	}
}
