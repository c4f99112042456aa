package bus

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// Subjects of the NATS bus. A user's deliveries go to the subject of the
// user's shard; a node subscribes to a shard while it has a client of a user
// in it, so a delivery reaches only nodes that may have one of its users
// online (and a group message is at most Shards publishes, each carrying
// the ids of its shard's recipients). Broadcasts and revocations go to
// every node. Requests go to a route's subject, served by one node.
const (
	Shards         = 64
	subjectPrefix  = "parley."
	allSubject     = subjectPrefix + "all"
	shardSubject   = subjectPrefix + "push."  // + shard number
	routeSubject   = subjectPrefix + "route." // + hex of the route name
	requestTimeout = 5 * time.Second
	flushTimeout   = time.Second // how long a route waits to be confirmed
)

// NATS is the bus of a cluster: it delivers on this node as Local does,
// and through a NATS server to the other nodes. The connection never echoes
// a node's own publications back to it, and reconnects by itself: while
// NATS is away, local deliveries go on, remote ones are buffered (up to
// nats.go's reconnect buffer) or lost, and clients catch up with
// SyncMessages.
type NATS struct {
	local *Local
	conn  *nats.Conn
	log   zerolog.Logger

	// Interest counts users and queues shard changes; one goroutine (follow)
	// subscribes and unsubscribes, so a stalled NATS connection never
	// blocks the caller (the gateway, holding its hub's lock).
	mu        sync.Mutex
	users     [Shards]int                // online users of each shard on this node
	pending   map[uint64]bool            // shard → subscribed or not, not yet applied
	requested uint64                     // changes queued so far
	applied   uint64                     // changes follow has applied
	changed   chan struct{}              // closed (and replaced) when applied moves
	wake      chan struct{}              // follow has work
	stop      chan struct{}              // Close
	stopped   sync.WaitGroup             // follow
	subs      [Shards]*nats.Subscription // follow's own
}

// wireDelivery is a Delivery as it travels between nodes.
type wireDelivery struct {
	UserIDs      []uint64 `json:"u,omitempty"`
	Broadcast    bool     `json:"b,omitempty"`
	Cmd          string   `json:"c"`
	Data         []byte   `json:"d,omitempty"`
	Conversation string   `json:"v,omitempty"`
	Seq          uint64   `json:"s,omitempty"`
}

// ConnectNATS joins the cluster through the NATS server at url as nodeID.
// It returns at once even when NATS is unreachable: the connection is
// retried in the background.
func ConnectNATS(url, nodeID string, log zerolog.Logger) (*NATS, error) {
	b := &NATS{local: NewLocal(), log: log, pending: map[uint64]bool{},
		changed: make(chan struct{}), wake: make(chan struct{}, 1), stop: make(chan struct{})}
	conn, err := nats.Connect(url,
		nats.Name(nodeID),
		nats.NoEcho(), // this node delivered its own publications already
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn().Err(err).Msg("NATS disconnected: live pushes to other nodes wait until it is back")
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info().Str("server", c.ConnectedUrlRedacted()).Msg("NATS reconnected")
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error().Err(err).Str("subject", subject).Msg("NATS error")
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("NATS %s: %w", url, err)
	}
	b.conn = conn
	if _, err := conn.Subscribe(allSubject, b.receive); err != nil {
		conn.Close()
		return nil, fmt.Errorf("NATS subscribe: %w", err)
	}
	b.stopped.Go(b.follow)
	return b, nil
}

// Close leaves the cluster.
func (b *NATS) Close() {
	close(b.stop)
	b.stopped.Wait()
	b.conn.Close()
}

// Publish delivers d on this node, then to the nodes that may have one of
// its users (every node for a broadcast or a revocation). An error means
// other nodes may miss it; this node's clients had it.
func (b *NATS) Publish(ctx context.Context, d Delivery) error {
	_ = b.local.Publish(ctx, d)
	if d.Broadcast || d.Cmd == CmdRevoked {
		return b.send(allSubject, wireDelivery(d))
	}
	byShard := map[uint64][]uint64{}
	for _, id := range d.UserIDs {
		byShard[id%Shards] = append(byShard[id%Shards], id)
	}
	var errs []error
	for shard, ids := range byShard {
		subject := shardSubject + strconv.FormatUint(shard, 10)
		shardDelivery := d
		shardDelivery.UserIDs = ids
		errs = append(errs, b.send(subject, wireDelivery(shardDelivery)))
	}
	return errors.Join(errs...)
}

func (b *NATS) send(subject string, d wireDelivery) error {
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if err := b.conn.Publish(subject, data); err != nil {
		return fmt.Errorf("NATS publish: %w", err)
	}
	return nil
}

// receive hands a delivery from another node to this node's subscribers.
func (b *NATS) receive(m *nats.Msg) {
	var d wireDelivery
	if err := json.Unmarshal(m.Data, &d); err != nil {
		b.log.Error().Err(err).Str("subject", m.Subject).Msg("NATS: undecodable delivery")
		return
	}
	_ = b.local.Publish(context.Background(), Delivery(d))
}

func (b *NATS) Subscribe(handle func(Delivery)) func() { return b.local.Subscribe(handle) }

// Interest has this node subscribe to a user's shard when it gets its
// first online user there, and unsubscribe when it loses the last. The
// change is queued; Sync waits for it.
func (b *NATS) Interest(userID uint64, online bool) {
	shard := userID % Shards
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case online:
		b.users[shard]++
		if b.users[shard] > 1 {
			return
		}
	case b.users[shard] > 0:
		b.users[shard]--
		if b.users[shard] > 0 {
			return
		}
	default:
		return
	}
	b.pending[shard] = online
	b.requested++
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// follow applies the queued shard changes until Close.
func (b *NATS) follow() {
	for {
		select {
		case <-b.stop:
			return
		case <-b.wake:
		}
		b.mu.Lock()
		changes, upTo := b.pending, b.requested
		b.pending = map[uint64]bool{}
		b.mu.Unlock()
		for shard, subscribe := range changes {
			switch {
			case subscribe && b.subs[shard] == nil:
				sub, err := b.conn.Subscribe(shardSubject+strconv.FormatUint(shard, 10), b.receive)
				if err != nil {
					b.log.Error().Err(err).Uint64("shard", shard).Msg("NATS subscribe")
				}
				b.subs[shard] = sub
			case !subscribe && b.subs[shard] != nil:
				_ = b.subs[shard].Unsubscribe()
				b.subs[shard] = nil
			}
		}
		b.mu.Lock()
		b.applied = upTo
		close(b.changed)
		b.changed = make(chan struct{})
		b.mu.Unlock()
	}
}

// Sync waits until the interest declared so far is applied and the NATS
// server has seen it.
func (b *NATS) Sync(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, requestTimeout)
		defer cancel()
	}
	b.mu.Lock()
	target := b.requested
	for b.applied < target {
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
		b.mu.Lock()
	}
	b.mu.Unlock()
	return b.conn.FlushWithContext(ctx)
}

// Serve answers route's requests from any node (this node's own requests
// are answered in-process: the connection does not hear itself).
func (b *NATS) Serve(route string, handle func([]byte) []byte) (func(), error) {
	stopLocal, _ := b.local.Serve(route, handle)
	sub, err := b.conn.Subscribe(routeSubject+hex.EncodeToString([]byte(route)), func(m *nats.Msg) {
		if err := m.Respond(handle(m.Data)); err != nil {
			b.log.Error().Err(err).Str("route", route).Msg("NATS respond")
		}
	})
	if err != nil {
		stopLocal()
		return nil, fmt.Errorf("NATS serve %q: %w", route, err)
	}
	// The route is served once the server knows it.
	if err := b.conn.FlushTimeout(flushTimeout); err != nil {
		b.log.Warn().Err(err).Str("route", route).Msg("NATS: route not confirmed")
	}
	return func() {
		stopLocal()
		_ = sub.Unsubscribe()
		// Until the server has it, requests would wait for an answer
		// instead of failing with ErrNoRoute.
		_ = b.conn.FlushTimeout(flushTimeout)
	}, nil
}

// Request asks route's server, on this node first.
func (b *NATS) Request(ctx context.Context, route string, request []byte) ([]byte, error) {
	if answer, err := b.local.Request(ctx, route, request); !errors.Is(err, ErrNoRoute) {
		return answer, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, requestTimeout)
		defer cancel()
	}
	m, err := b.conn.RequestWithContext(ctx, routeSubject+hex.EncodeToString([]byte(route)), request)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, ErrNoRoute
	}
	if err != nil {
		return nil, fmt.Errorf("NATS request %q: %w", route, err)
	}
	return m.Data, nil
}
