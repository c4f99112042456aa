package app

// Presence (docs/presence.md): a user is online while it has a session on
// a live node. The gateway's hub tells the Tracker of its node when a user
// gets a first endpoint there or loses the last; the tracker keeps one row
// per (user, node) in users.presence_sessions, and tells the user's
// contacts when its first session in the cluster begins (online) or its
// last one ends (offline).
//
// - Atomic first and last: one goroutine (the writer) applies the queued
//   changes in transactions of up to presenceChunk users, each locking the
//   users' rows in id order and counting their sessions before changing
//   this node's, so two nodes never both (or neither) see a user's first
//   session.
// - Debounce: a user losing its last endpoint here keeps its session for
//   Grace; coming back within it changes nothing, and coming back on
//   another node meanwhile means it never went offline.
// - Dead nodes: each node beats into users.presence_nodes every Beat and
//   sets its row to expire after deadAfterBeats beats; every node sweeps
//   the expired rows (locked SKIP LOCKED, so one sweeper acts), deleting
//   their sessions, and the users left with none go offline, last seen at
//   the dead node's last beat.
// - Pushes: committed transitions are queued, in commit order, for one
//   goroutine (the announcer) that tells each user's contacts, so the
//   writer never waits for them.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/user/internal/db"
	"github.com/parley-im/parley/platform/bus"
)

// CmdPresence is the gateway frame cmd of a presence push; its data is a
// serialized userpb.Presence.
const CmdPresence = "presence"

// A transition reaches at most this many of the user's contacts: the
// PresencePeerCap users it most recently talked with 1:1 and its
// PresenceFollowerCap most recent followers.
const (
	PresencePeerCap     = 5000
	PresenceFollowerCap = 5000
)

// Production timings: a user offline on a node for DefaultPresenceGrace is
// offline; a node that misses deadAfterBeats beats of DefaultPresenceBeat
// is dead.
const (
	DefaultPresenceGrace = 10 * time.Second
	DefaultPresenceBeat  = 5 * time.Second
	deadAfterBeats       = 3
)

const (
	presenceChunk      = 1000 // users per transaction
	presenceAnnouncers = 2    // chunks of transitions told at once
	presenceTellChunk  = 100  // transitions whose audiences one query finds
	presenceRetry      = 500 * time.Millisecond
	presenceGoodbye    = 5 * time.Second // for ending this node's sessions at shutdown
	presenceTellWithin = 10 * time.Second
	presenceToldQueue  = 64 // committed batches waiting for the announcer
)

// Peers is what presence needs of the message module: for each user, the
// users it shares a 1:1 conversation with, most recently active first.
type Peers interface {
	ConversationPeersOf(ctx context.Context, userIDs []uint64, limit int) (map[uint64][]uint64, error)
}

// PresenceConfig is what a Tracker needs.
type PresenceConfig struct {
	NodeID string  // this node's sessions are kept under it
	Bus    bus.Bus // where presence pushes go out
	Peers  Peers   // nil: followers only
	// Grace is how long a user that lost its last endpoint here stays
	// online (DefaultPresenceGrace when 0); Beat how often this node
	// beats (DefaultPresenceBeat when 0): it is dead after 3 beats.
	Grace, Beat time.Duration
	Log         zerolog.Logger
}

// Tracker keeps this node's presence sessions and tells contacts of
// transitions. UserOnline is its hub's hook; Run does its work.
type Tracker struct {
	svc  *Service
	cfg  PresenceConfig
	wake chan struct{} // the writer has work

	// told carries committed transitions to the announcer, in commit
	// order: commitMu is held from a change's commit to its queueing.
	commitMu  sync.Mutex
	told      chan []announcement
	toldMu    sync.Mutex // guards told's closing
	toldEnded bool

	mu      sync.Mutex
	local   map[uint64]*localUser // users holding a session here (online, or in their grace)
	pending map[uint64]bool       // user → whether this node's session should exist, not yet written
	stopped bool                  // Run has ended: nothing more is written
}

// localUser is a user with a session on this node.
type localUser struct {
	grace *time.Timer // running while it has no endpoint here
	gen   uint64      // moves on every change, so a stale grace timer does nothing
}

// NewTracker makes the service's presence tracker: from then on privacy
// changes are told to contacts too.
func (s *Service) NewTracker(cfg PresenceConfig) *Tracker {
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultPresenceGrace
	}
	if cfg.Beat <= 0 {
		cfg.Beat = DefaultPresenceBeat
	}
	t := &Tracker{svc: s, cfg: cfg, wake: make(chan struct{}, 1), told: make(chan []announcement, presenceToldQueue),
		local: map[uint64]*localUser{}, pending: map[uint64]bool{}}
	s.tracker = t
	return t
}

// UserOnline is told, under the gateway hub's lock, that userID got its
// first endpoint on this node (online) or lost its last. It never blocks:
// the change is queued for the writer, a loss only after the grace.
func (t *Tracker) UserOnline(userID uint64, online bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	u := t.local[userID]
	switch {
	case online && u == nil:
		u = &localUser{}
		t.local[userID] = u
		t.wantLocked(userID, true)
	case online: // back within the grace: its session never ended
		if u.grace != nil {
			u.grace.Stop()
			u.grace = nil
		}
	case u == nil || u.grace != nil:
		return
	default:
		gen := u.gen + 1
		u.grace = time.AfterFunc(t.cfg.Grace, func() { t.graceOver(userID, u, gen) })
	}
	u.gen++
}

// graceOver ends userID's session here, unless it came back meanwhile.
func (t *Tracker) graceOver(userID uint64, u *localUser, gen uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || t.local[userID] != u || u.gen != gen {
		return
	}
	delete(t.local, userID)
	t.wantLocked(userID, false)
}

func (t *Tracker) wantLocked(userID uint64, session bool) {
	t.pending[userID] = session
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// take empties the queue.
func (t *Tracker) take() map[uint64]bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	batch := t.pending
	t.pending = map[uint64]bool{}
	return batch
}

// requeue puts back what a failed transaction did not write, unless newer
// changes of the same users came meanwhile.
func (t *Tracker) requeue(left map[uint64]bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	for id, session := range left {
		if _, newer := t.pending[id]; !newer {
			t.wantLocked(id, session)
		}
	}
}

// reassert queues every local session again: this node's row was swept
// (taken for dead, after a long pause or a lost database), and its
// sessions with it.
func (t *Tracker) reassert() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cfg.Log.Warn().Str("node_id", t.cfg.NodeID).Int("users", len(t.local)).
		Msg("presence: this node was taken for dead; writing its sessions again")
	for id := range t.local {
		if _, newer := t.pending[id]; !newer {
			t.wantLocked(id, true)
		}
	}
}

// Run claims the node's id (ending a predecessor's sessions left under
// it), then writes the queued changes, beats and sweeps dead nodes until
// ctx ends; then it ends this node's sessions at once, with no grace,
// tells the contacts, and returns.
func (t *Tracker) Run(ctx context.Context) {
	tellCtx, stopTelling := context.WithCancel(context.Background())
	defer stopTelling()
	announcer := make(chan struct{})
	go func() {
		defer close(announcer)
		for told := range t.told {
			t.announce(tellCtx, told)
		}
	}()
	for ctx.Err() == nil {
		err := t.claim(ctx)
		if err == nil {
			var wg sync.WaitGroup
			wg.Go(func() { t.write(ctx) })
			wg.Go(func() { t.beat(ctx) })
			wg.Wait()
			break
		}
		if ctx.Err() == nil {
			t.cfg.Log.Error().Err(err).Msg("presence: claiming the node id failed: retrying")
			sleep(ctx, presenceRetry)
		}
	}
	t.goodbye()
	t.toldMu.Lock()
	t.toldEnded = true
	close(t.told)
	t.toldMu.Unlock()
	// What is left to tell gets a little time, not forever.
	select {
	case <-announcer:
	case <-time.After(presenceGoodbye):
		stopTelling()
		<-announcer
	}
}

// change runs fn in a transaction and, once it has committed, queues the
// transitions it returns for the announcer. Transitions of one user commit
// in the order its row lock lets them; commitMu keeps the queue in that
// order, so this node's pushes of a user never overtake each other.
func (t *Tracker) change(ctx context.Context, fn func(q *db.Queries) ([]announcement, error)) error {
	tx, err := t.svc.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op once committed
	told, err := fn(t.svc.q.WithTx(tx))
	if err != nil {
		return err
	}
	t.commitMu.Lock()
	defer t.commitMu.Unlock()
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	t.queueTold(told)
	return nil
}

// queueTold hands committed transitions to the announcer; a full queue
// holds the writer back.
func (t *Tracker) queueTold(told []announcement) {
	if len(told) == 0 {
		return
	}
	t.toldMu.Lock()
	defer t.toldMu.Unlock()
	if !t.toldEnded {
		t.told <- told
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

func (t *Tracker) deadAfterSeconds() float64 { return (deadAfterBeats * t.cfg.Beat).Seconds() }

// claim ends the sessions a previous node with this id left (a restart
// with -node-id after a crash) as a dead node's, last seen at its last
// beat, and beats for the first time.
func (t *Tracker) claim(ctx context.Context) error {
	err := t.change(ctx, func(q *db.Queries) ([]announcement, error) {
		lastBeat, err := q.LockPresenceNode(ctx, t.cfg.NodeID)
		if errors.Is(err, pgx.ErrNoRows) {
			lastBeat, err = q.PresenceNow(ctx)
		}
		if err != nil {
			return nil, err
		}
		told, err := endNodes(ctx, q, map[string]time.Time{t.cfg.NodeID: lastBeat})
		if err != nil {
			return nil, err
		}
		_, err = q.InsertPresenceNode(ctx, db.InsertPresenceNodeParams{NodeID: t.cfg.NodeID, DeadAfterSeconds: t.deadAfterSeconds()})
		return told, err
	})
	if err != nil {
		return fmt.Errorf("claim presence node %s: %w", t.cfg.NodeID, err)
	}
	return nil
}

// goodbye ends this node's sessions: its users without a session elsewhere
// go offline now.
func (t *Tracker) goodbye() {
	t.mu.Lock()
	t.stopped = true
	for _, u := range t.local {
		if u.grace != nil {
			u.grace.Stop()
		}
	}
	t.local, t.pending = nil, nil
	t.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), presenceGoodbye)
	defer cancel()
	err := t.change(ctx, func(q *db.Queries) ([]announcement, error) {
		// Locked so no sweeper ends them at the same time.
		if _, err := q.LockPresenceNode(ctx, t.cfg.NodeID); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
		now, err := q.PresenceNow(ctx)
		if err != nil {
			return nil, err
		}
		return endNodes(ctx, q, map[string]time.Time{t.cfg.NodeID: now})
	})
	if err != nil {
		t.cfg.Log.Error().Err(err).Msg("presence: ending this node's sessions failed: another node sweeps them once its row expires")
	}
}

// write applies the queued changes until ctx ends: whatever piled up while
// the last transaction ran is the next batch.
func (t *Tracker) write(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.wake:
		}
		batch := t.take()
		if len(batch) == 0 {
			continue
		}
		left, err := t.apply(ctx, batch)
		if err != nil {
			t.requeue(left)
			if ctx.Err() != nil {
				return
			}
			t.cfg.Log.Error().Err(err).Int("users", len(left)).Msg("presence: writing sessions failed: retrying")
			sleep(ctx, presenceRetry)
		}
	}
}

// apply writes batch in transactions of up to presenceChunk users and
// tells contacts of the transitions; on an error it returns what it did
// not write.
func (t *Tracker) apply(ctx context.Context, batch map[uint64]bool) (map[uint64]bool, error) {
	ids := make([]uint64, 0, len(batch))
	for id := range batch {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for start := 0; start < len(ids); start += presenceChunk {
		chunk := ids[start:min(start+presenceChunk, len(ids))]
		swept, err := t.applyChunk(ctx, chunk, batch)
		if err != nil {
			left := map[uint64]bool{}
			for _, id := range ids[start:] {
				left[id] = batch[id]
			}
			return left, err
		}
		if swept {
			t.reassert()
		}
	}
	return nil, nil
}

// applyChunk makes this node's sessions of users what batch says, under
// the users' row locks, and queues the transitions: a first session in the
// cluster is online, the end of the last offline. swept reports that this
// node's row was gone.
func (t *Tracker) applyChunk(ctx context.Context, users []uint64, batch map[uint64]bool) (swept bool, err error) {
	err = t.change(ctx, func(q *db.Queries) ([]announcement, error) {
		at, gone, err := t.touch(ctx, q)
		if err != nil {
			return nil, err
		}
		swept = gone
		rows, err := q.LockPresenceUsers(ctx, int64s(users))
		if err != nil {
			return nil, err
		}
		counts, err := sessionCounts(ctx, q, users, []string{t.cfg.NodeID})
		if err != nil {
			return nil, err
		}
		var told []announcement
		var starts, ends, offline []int64
		for _, r := range rows {
			c := counts[r.ID]
			switch {
			case batch[r.ID] && c.OnNodes == 0:
				starts = append(starts, int64(r.ID))
				if c.Sessions == 0 {
					told = append(told, announcement{userID: r.ID, online: true, hidden: r.HidePresence})
				}
			case !batch[r.ID] && c.OnNodes > 0:
				ends = append(ends, int64(r.ID))
				if c.Sessions == c.OnNodes {
					seen := lastSeen(r.LastSeenAt, at)
					offline = append(offline, int64(r.ID))
					told = append(told, announcement{userID: r.ID, lastSeen: &seen, hidden: r.HidePresence})
				}
			}
		}
		if len(starts) > 0 {
			if err := q.InsertPresenceSessions(ctx, db.InsertPresenceSessionsParams{UserIds: starts, NodeID: t.cfg.NodeID}); err != nil {
				return nil, err
			}
		}
		if len(ends) > 0 {
			if err := q.DeletePresenceSessions(ctx, db.DeletePresenceSessionsParams{NodeID: t.cfg.NodeID, UserIds: ends}); err != nil {
				return nil, err
			}
		}
		if len(offline) > 0 {
			if err := q.SetLastSeen(ctx, db.SetLastSeenParams{Ids: offline, At: at}); err != nil {
				return nil, err
			}
		}
		return told, nil
	})
	if err != nil {
		return false, fmt.Errorf("presence sessions: %w", err)
	}
	return swept, nil
}

// touch beats this node's heart, inserting its row if it was swept; at is
// the database's time now.
func (t *Tracker) touch(ctx context.Context, q *db.Queries) (at time.Time, swept bool, err error) {
	at, err = q.TouchPresenceNode(ctx, db.TouchPresenceNodeParams{NodeID: t.cfg.NodeID, DeadAfterSeconds: t.deadAfterSeconds()})
	if errors.Is(err, pgx.ErrNoRows) {
		swept = true
		at, err = q.InsertPresenceNode(ctx, db.InsertPresenceNodeParams{NodeID: t.cfg.NodeID, DeadAfterSeconds: t.deadAfterSeconds()})
	}
	return at, swept, err
}

// beat beats every Beat and sweeps the nodes that stopped, until ctx ends.
func (t *Tracker) beat(ctx context.Context) {
	ticker := time.NewTicker(t.cfg.Beat)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if _, swept, err := t.touch(ctx, t.svc.q); err != nil {
			if ctx.Err() == nil {
				t.cfg.Log.Error().Err(err).Msg("presence: heartbeat failed")
			}
			continue
		} else if swept {
			t.reassert()
		}
		if err := t.sweep(ctx); err != nil && ctx.Err() == nil {
			t.cfg.Log.Error().Err(err).Msg("presence: sweeping dead nodes failed")
		}
	}
}

// sweep ends the sessions of the nodes whose rows expired; nodes sweeping
// at once each take other rows (SKIP LOCKED).
func (t *Tracker) sweep(ctx context.Context) error {
	err := t.change(ctx, func(q *db.Queries) ([]announcement, error) {
		dead, err := q.LockExpiredPresenceNodes(ctx, t.cfg.NodeID)
		if err != nil || len(dead) == 0 {
			return nil, err
		}
		lastBeats := map[string]time.Time{}
		for _, n := range dead {
			lastBeats[n.NodeID] = n.BeatAt
		}
		told, err := endNodes(ctx, q, lastBeats)
		if err == nil {
			t.cfg.Log.Warn().Any("nodes", lastBeats).Int("offline", len(told)).Msg("presence: swept nodes that stopped beating")
		}
		return told, err
	})
	if err != nil {
		return fmt.Errorf("sweep presence nodes: %w", err)
	}
	return nil
}

// endNodes deletes the nodes' rows and sessions, the nodes' rows locked
// by the caller, and returns the users left with no session: offline,
// last seen when their node ended (ends, by node; the latest of theirs).
func endNodes(ctx context.Context, q *db.Queries, ends map[string]time.Time) ([]announcement, error) {
	nodes := make([]string, 0, len(ends))
	for id := range ends {
		nodes = append(nodes, id)
	}
	sessions, err := q.PresenceSessionsOn(ctx, nodes)
	if err != nil {
		return nil, err
	}
	endOf := map[uint64]time.Time{}
	for _, s := range sessions {
		if end := ends[s.NodeID]; end.After(endOf[s.UserID]) {
			endOf[s.UserID] = end
		}
	}
	var told []announcement
	if len(endOf) > 0 {
		users := make([]uint64, 0, len(endOf))
		for id := range endOf {
			users = append(users, id)
		}
		slices.Sort(users)
		rows, err := q.LockPresenceUsers(ctx, int64s(users))
		if err != nil {
			return nil, err
		}
		counts, err := sessionCounts(ctx, q, users, nodes)
		if err != nil {
			return nil, err
		}
		byEnd := map[int64][]int64{} // SetLastSeen's ids by end (Unix µs)
		for _, r := range rows {
			if c := counts[r.ID]; c.Sessions > c.OnNodes {
				continue // online on a live node
			}
			end := endOf[r.ID]
			seen := lastSeen(r.LastSeenAt, end)
			byEnd[end.UnixMicro()] = append(byEnd[end.UnixMicro()], int64(r.ID))
			told = append(told, announcement{userID: r.ID, lastSeen: &seen, hidden: r.HidePresence})
		}
		if err := q.DeleteSessionsOn(ctx, nodes); err != nil {
			return nil, err
		}
		for end, ids := range byEnd {
			if err := q.SetLastSeen(ctx, db.SetLastSeenParams{Ids: ids, At: time.UnixMicro(end)}); err != nil {
				return nil, err
			}
		}
	}
	return told, q.DeletePresenceNodes(ctx, nodes)
}

// sessionCounts are the users' sessions, everywhere and on nodes, by user.
func sessionCounts(ctx context.Context, q *db.Queries, users []uint64, nodes []string) (map[uint64]db.CountPresenceSessionsRow, error) {
	rows, err := q.CountPresenceSessions(ctx, db.CountPresenceSessionsParams{NodeIds: nodes, UserIds: int64s(users)})
	if err != nil {
		return nil, err
	}
	counts := make(map[uint64]db.CountPresenceSessionsRow, len(rows))
	for _, r := range rows {
		counts[r.UserID] = r
	}
	return counts, nil
}

// lastSeen is the last_seen_at a session ending at end leaves: end, unless
// the stored one is less than a minute older (SetLastSeen keeps it then,
// so a flapping user costs a write a minute at most).
func lastSeen(stored *time.Time, end time.Time) time.Time {
	if stored == nil || stored.Before(end.Add(-time.Minute)) {
		return end
	}
	return *stored
}

// announcement is a presence to tell a user's contacts.
type announcement struct {
	userID   uint64
	online   bool
	lastSeen *time.Time // offline: when last seen
	hidden   bool       // the user hides its presence: nobody is told
}

// announce tells each announcement's contacts, presenceTellChunk users a
// query, a few chunks at a time (a batch holds a user once, and batches
// are told one after another, so a user's pushes keep their order);
// failures are logged: contacts catch up with GetPresence.
func (t *Tracker) announce(ctx context.Context, told []announcement) {
	shown := slices.DeleteFunc(slices.Clone(told), func(a announcement) bool { return a.hidden })
	var g errgroup.Group
	g.SetLimit(presenceAnnouncers)
	for chunk := range slices.Chunk(shown, presenceTellChunk) {
		g.Go(func() error {
			if err := t.tell(ctx, chunk); err != nil && ctx.Err() == nil {
				t.cfg.Log.Warn().Err(err).Int("users", len(chunk)).Msg("presence: telling contacts failed")
			}
			return nil
		})
	}
	_ = g.Wait()
}

// tell pushes each announcement's presence to the online devices of its
// user's contacts (PresencePeerCap 1:1 peers, PresenceFollowerCap
// followers) that no block separates from it; those who hide their own
// presence get it without last_seen_at.
func (t *Tracker) tell(ctx context.Context, told []announcement) error {
	ctx, cancel := context.WithTimeout(ctx, presenceTellWithin)
	defer cancel()
	subjects := make([]uint64, len(told))
	for i, a := range told {
		subjects[i] = a.userID
	}
	var peers map[uint64][]uint64
	if t.cfg.Peers != nil {
		var err error
		if peers, err = t.cfg.Peers.ConversationPeersOf(ctx, subjects, PresencePeerCap); err != nil {
			return err
		}
	}
	params := db.PresenceAudiencesParams{SubjectIds: int64s(subjects), FollowerLimit: PresenceFollowerCap}
	for subject, ps := range peers {
		for _, p := range ps {
			params.PairSubjectIds = append(params.PairSubjectIds, int64(subject))
			params.PairViewerIds = append(params.PairViewerIds, int64(p))
		}
	}
	audiences, err := t.svc.q.PresenceAudiences(ctx, params)
	if err != nil {
		return fmt.Errorf("presence audiences: %w", err)
	}
	// blind: viewers who hide their own presence see no last seen.
	type audience struct{ seeing, blind []uint64 }
	of := make(map[uint64]*audience, len(told))
	for _, r := range audiences {
		au := of[uint64(r.SubjectID)]
		if au == nil {
			au = &audience{}
			of[uint64(r.SubjectID)] = au
		}
		if r.HidePresence {
			au.blind = append(au.blind, r.ViewerID)
		} else {
			au.seeing = append(au.seeing, r.ViewerID)
		}
	}
	var errs []error // one user's failed push does not hold back the others'
	for _, a := range told {
		au := of[a.userID]
		if au == nil {
			continue
		}
		p := &userpb.Presence{UserId: a.userID, Online: a.online}
		if a.lastSeen == nil { // nothing to hide from the blind
			errs = append(errs, t.publish(ctx, append(au.seeing, au.blind...), p))
			continue
		}
		p.LastSeenAt = timestamppb.New(*a.lastSeen)
		errs = append(errs, t.publish(ctx, au.seeing, p))
		p.LastSeenAt = nil
		errs = append(errs, t.publish(ctx, au.blind, p))
	}
	return errors.Join(errs...)
}

func (t *Tracker) publish(ctx context.Context, to []uint64, p *userpb.Presence) error {
	if len(to) == 0 {
		return nil
	}
	data, err := proto.Marshal(p)
	if err != nil {
		return err
	}
	return t.cfg.Bus.Publish(ctx, bus.Delivery{UserIDs: to, Cmd: CmdPresence, Data: data})
}

// int64s is ids as a bigint[] parameter (sqlc types it []int64).
func int64s(ids []uint64) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}
