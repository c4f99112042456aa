package app

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/modules/group/internal/db"
)

// Events is what the group module needs of the message module: storing a
// group event in the group's conversation, pushed to its members (and to
// alsoTo, a removed user, when not 0), at most once per key.
type Events interface {
	StoreGroupEvent(ctx context.Context, groupID uint64, event *grouppb.GroupEvent, alsoTo uint64, key string) error
}

const (
	relayBatch = 100             // events a transaction relays
	relayPoll  = 2 * time.Second // for events a failed or crashed relay left
	// relayLeftAfter is how old an event must be for the poll to take it:
	// younger ones are their change's own to store, and the poll must not
	// take them from under it (on several apps over one database that do
	// not share a bus, as tests run them, the push would go out on the
	// wrong one).
	relayLeftAfter = 5 * time.Second
)

// SetEvents sets where events are stored; the app wires it before it
// serves, since the message module is built after this one.
func (s *Service) SetEvents(events Events) { s.events.Store(&events) }

// RelayEvents stores, every relayPoll until ctx ends, the recorded events
// at least relayLeftAfter old, which their change did not store itself
// (relayNow): a store that failed, a node that died.
func (s *Service) RelayEvents(ctx context.Context) {
	poll := time.NewTicker(relayPoll)
	defer poll.Stop()
	for {
		if events := s.events.Load(); events != nil {
			s.drain(ctx, *events, relayLeftAfter)
		}
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		}
	}
}

// relayNow stores the recorded events, in the order they were recorded: a
// change's caller is answered after its event is in the conversation, so
// what it sends next comes after it.
func (s *Service) relayNow(ctx context.Context) {
	if events := s.events.Load(); events != nil {
		s.drain(ctx, *events, -1)
	}
}

// drain relays until the outbox is empty or a relay fails (logged: the
// poll tries again). One drain runs at a time on a node: the others wait
// on relayMu, holding no database connection (waiting on the rows' locks
// would: enough waiters would leave the running relay none to store
// with), and find what it stored gone.
func (s *Service) drain(ctx context.Context, events Events, minAge time.Duration) {
	s.relayMu.Lock()
	defer s.relayMu.Unlock()
	for {
		n, err := s.relay(ctx, events, minAge)
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Log.Warn().Err(err).Msg("group events: relaying failed: retrying")
			}
			return
		}
		if n < relayBatch {
			return
		}
	}
}

// eventKey is the idempotency key event id is stored under, as its actor's
// (the sender of its message). It starts with a control character: a
// client's keys are printable ASCII (the message module refuses others),
// so none can be an event's. Were it one, the actor's own send with it
// would stand in for the event (lost), and a change with it would fail
// the event's store for good, stalling the relay and every group's events
// behind it.
func eventKey(id int64) string { return fmt.Sprintf("\x1egroup-event:%d", id) }

// relay stores up to relayBatch of the oldest events and deletes those it
// stored. It holds their rows locked meanwhile, so a relay on another node
// waits rather than storing a later event of the same group first. An
// event stored but not deleted (a crash between) is stored again under the
// same key, which the message module answers without storing twice.
func (s *Service) relay(ctx context.Context, events Events, minAge time.Duration) (int, error) {
	var (
		n        int
		storeErr error
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		rows, err := q.LockOldestEvents(ctx, db.LockOldestEventsParams{MinAgeSeconds: minAge.Seconds(), RowLimit: relayBatch})
		if err != nil {
			return err
		}
		n = len(rows)
		done := make([]int64, 0, len(rows))
		for _, r := range rows {
			ev := &grouppb.GroupEvent{}
			if err := proto.Unmarshal(r.Event, ev); err != nil {
				return fmt.Errorf("group event %d: %w", r.ID, err)
			}
			err := events.StoreGroupEvent(ctx, r.GroupID, ev, r.ExtraTo, eventKey(r.ID))
			// A group deleted since has no conversation to tell.
			if err != nil && status.Code(err) != codes.NotFound {
				storeErr = fmt.Errorf("group event %d: %w", r.ID, err)
				break
			}
			done = append(done, r.ID)
		}
		if len(done) == 0 {
			return nil
		}
		return q.DeleteEvents(ctx, done)
	})
	if err != nil {
		return 0, fmt.Errorf("relay group events: %w", err)
	}
	return n, storeErr
}
