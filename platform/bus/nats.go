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

	mu     sync.Mutex
	shards [Shards]struct {
		users int // online users of this shard on this node
		sub   *nats.Subscription
	}
}

// wireDelivery is a Delivery as it travels between nodes.
type wireDelivery struct {
	UserIDs   []uint64 `json:"u,omitempty"`
	Broadcast bool     `json:"b,omitempty"`
	Cmd       string   `json:"c"`
	Data      []byte   `json:"d,omitempty"`
}

// ConnectNATS joins the cluster through the NATS server at url as nodeID.
// It returns at once even when NATS is unreachable: the connection is
// retried in the background.
func ConnectNATS(url, nodeID string, log zerolog.Logger) (*NATS, error) {
	b := &NATS{local: NewLocal(), log: log}
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
	return b, nil
}

// Close leaves the cluster.
func (b *NATS) Close() { b.conn.Close() }

// Publish delivers d on this node, then to the nodes that may have one of
// its users (every node for a broadcast or a revocation). An error means
// other nodes may miss it; this node's clients had it.
func (b *NATS) Publish(ctx context.Context, d Delivery) error {
	_ = b.local.Publish(ctx, d)
	if d.Broadcast || d.Cmd == CmdRevoked {
		return b.send(allSubject, wireDelivery{UserIDs: d.UserIDs, Broadcast: d.Broadcast, Cmd: d.Cmd, Data: d.Data})
	}
	byShard := map[uint64][]uint64{}
	for _, id := range d.UserIDs {
		byShard[id%Shards] = append(byShard[id%Shards], id)
	}
	var errs []error
	for shard, ids := range byShard {
		subject := shardSubject + strconv.FormatUint(shard, 10)
		errs = append(errs, b.send(subject, wireDelivery{UserIDs: ids, Cmd: d.Cmd, Data: d.Data}))
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

// Interest subscribes to a user's shard when this node gets its first
// online user there, and unsubscribes when it loses the last.
func (b *NATS) Interest(userID uint64, online bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	shard := &b.shards[userID%Shards]
	switch {
	case online:
		shard.users++
		if shard.users > 1 {
			return
		}
		sub, err := b.conn.Subscribe(shardSubject+strconv.FormatUint(userID%Shards, 10), b.receive)
		if err != nil {
			b.log.Error().Err(err).Uint64("shard", userID%Shards).Msg("NATS subscribe")
		}
		shard.sub = sub
	case shard.users > 0:
		shard.users--
		if shard.users == 0 && shard.sub != nil {
			_ = shard.sub.Unsubscribe()
			shard.sub = nil
		}
	}
}

// Sync waits for the NATS server to have seen this node's subscriptions.
func (b *NATS) Sync(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, requestTimeout)
		defer cancel()
	}
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
	if err := b.conn.FlushTimeout(requestTimeout); err != nil {
		b.log.Warn().Err(err).Str("route", route).Msg("NATS: route not confirmed")
	}
	return func() {
		stopLocal()
		_ = sub.Unsubscribe()
		// Until the server has it, requests would wait for an answer
		// instead of failing with ErrNoRoute.
		_ = b.conn.FlushTimeout(requestTimeout)
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
