package bus_test

import (
	"context"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/bus"
)

func startNATS(t *testing.T) string {
	t.Helper()
	srv, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	require.NoError(t, err)
	srv.Start()
	require.True(t, srv.ReadyForConnections(10*time.Second))
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv.ClientURL()
}

// node is a bus and what its subscriber received.
type node struct {
	*bus.NATS
	mu  sync.Mutex
	got []bus.Delivery
}

func join(t *testing.T, url, name string) *node {
	t.Helper()
	b, err := bus.ConnectNATS(url, name, zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(b.Close)
	n := &node{NATS: b}
	b.Subscribe(func(d bus.Delivery) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.got = append(n.got, d)
	})
	return n
}

func (n *node) received() []bus.Delivery {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]bus.Delivery(nil), n.got...)
}

// A delivery reaches the publisher's own subscribers once (no echo) and
// the nodes interested in its users' shards, with only those shards' users;
// a node with no interest in them gets nothing. Broadcasts reach all.
func TestNATSRoutesByInterest(t *testing.T) {
	t.Parallel()
	url := startNATS(t)
	ctx := context.Background()
	publisher, a, idle := join(t, url, "publisher"), join(t, url, "a"), join(t, url, "idle")
	a.Interest(5, true)
	a.Interest(5+bus.Shards, true) // the same shard: one subscription
	idle.Interest(6, true)
	idle.Interest(6, false) // gone again
	require.NoError(t, a.Sync(ctx))
	require.NoError(t, idle.Sync(ctx))

	require.NoError(t, publisher.Publish(ctx, bus.Delivery{UserIDs: []uint64{5, 6, 7}, Cmd: "message", Data: []byte("m1")}))
	require.NoError(t, publisher.Publish(ctx, bus.Delivery{Broadcast: true, Cmd: "broadcast", Data: []byte("b1")}))

	// Each subject is delivered in order; the two subjects are not ordered
	// with each other.
	require.Eventually(t, func() bool { return len(a.received()) == 2 }, 5*time.Second, 10*time.Millisecond)
	require.ElementsMatch(t, []bus.Delivery{
		{UserIDs: []uint64{5}, Cmd: "message", Data: []byte("m1")}, // only shard 5's users
		{Broadcast: true, Cmd: "broadcast", Data: []byte("b1")},
	}, a.received())
	require.Eventually(t, func() bool { return len(idle.received()) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.True(t, idle.received()[0].Broadcast, "the idle node gets broadcasts only")
	require.Len(t, publisher.received(), 2, "the publisher's own subscribers get each delivery once")

	// After losing both users of shard 5, a stops receiving it.
	a.Interest(5, false)
	a.Interest(5+bus.Shards, false)
	require.NoError(t, a.Sync(ctx))
	require.NoError(t, publisher.Publish(ctx, bus.Delivery{UserIDs: []uint64{5}, Cmd: "message", Data: []byte("m2")}))
	require.NoError(t, publisher.Publish(ctx, bus.Delivery{Broadcast: true, Cmd: "broadcast", Data: []byte("b2")}))
	require.Eventually(t, func() bool { return len(a.received()) == 3 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, "b2", string(a.received()[2].Data))
	time.Sleep(100 * time.Millisecond) // m2 would have come by now
	require.Len(t, a.received(), 3, "a has no user of shard 5 any more")
}

// A route is answered by the node serving it, this one or another; a route
// nobody serves is ErrNoRoute.
func TestNATSRequestsReachTheRoutesNode(t *testing.T) {
	t.Parallel()
	url := startNATS(t)
	ctx := context.Background()
	a, b := join(t, url, "a"), join(t, url, "b")
	stop, err := a.Serve("edge.one", func(req []byte) []byte { return append([]byte("a:"), req...) })
	require.NoError(t, err)

	answer, err := b.Request(ctx, "edge.one", []byte("from b"))
	require.NoError(t, err)
	require.Equal(t, "a:from b", string(answer))
	answer, err = a.Request(ctx, "edge.one", []byte("from a"))
	require.NoError(t, err)
	require.Equal(t, "a:from a", string(answer))

	stop()
	_, err = b.Request(ctx, "edge.one", []byte("again"))
	require.ErrorIs(t, err, bus.ErrNoRoute)
	_, err = a.Request(ctx, "edge.one", []byte("again"))
	require.ErrorIs(t, err, bus.ErrNoRoute)
}
