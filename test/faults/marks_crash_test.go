//go:build faults

package faults

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/api/gen/messagepb"
)

// TestCrashDuringMarks kills parley with SIGKILL while devices of every
// member of a group and of four pairs sync pages and mark seqs delivered
// and read (and members send into the same conversations), restarts it on
// the same database and checks:
//
//   - no acknowledged mark was lost: each member's stored read mark is at
//     least every read mark it was answered OK for and every message it
//     sent, its delivered mark at least those and every delivered mark and
//     sync cursor it was answered; no mark is beyond what some call asked;
//   - marks never went back: not while the load ran, nor across the kill
//     and restart (each row is at least what it was a moment before the
//     kill, and after the restart at least what it was then);
//   - every row has read ≤ delivered, there is at most one row per
//     (conversation, member), and none for a non-member;
//   - retrying every call after the restart answers OK, and then every
//     member's marks are exactly the maximum of all its calls' marks;
//   - GetReceipts, asked by each message's sender, agrees with the stored
//     marks (counts, and the ids page by page).
func TestCrashDuringMarks(t *testing.T) {
	e := setup(t)
	srv := e.startServer()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	users := e.seedUsers(ctx, "mark", 12)
	conn := dial(t, srv.GRPC)
	gid := e.createGroup(ctx, conn, "marks", users[:6])
	convs := []*markConv{
		{id: groupConv(gid), group: gid, members: users[:6]},
		{id: pairConv(users[6].ID, users[7].ID), members: []user{users[6], users[7]}},
		{id: pairConv(users[8].ID, users[9].ID), members: []user{users[8], users[9]}},
		{id: pairConv(users[10].ID, users[11].ID), members: []user{users[10], users[11]}},
		{id: pairConv(users[0].ID, users[6].ID), members: []user{users[0], users[6]}},
	}
	convIDs := make([]string, len(convs))
	for i, c := range convs {
		convIDs[i] = c.id
	}

	// Messages to mark, acknowledged before the load; every member sends
	// some, so every member is a sender to tell.
	mc := messagepb.NewMessageServiceClient(conn)
	for ci, c := range convs {
		for i := range 24 {
			from := c.members[i%len(c.members)]
			_, err := send(ctx, mc, &attempt{key: fmt.Sprintf("mark-seed-c%d-m%d", ci, i), from: from, to: c.target(from)})
			require.NoError(t, err)
		}
	}

	// Two devices of every member, and a sender per conversation.
	var workers []*markWorker
	for ci, c := range convs {
		for mi, u := range c.members {
			for d := range 2 {
				workers = append(workers, &markWorker{conv: c, who: u, rnd: rand.New(rand.NewPCG(uint64(ci*100+mi*10+d), 0x3a7c5))})
			}
		}
	}
	var senders []worker
	for _, c := range convs {
		senders = append(senders, worker{from: c.members[1], targets: []target{c.target(c.members[1])}})
	}

	watch := newMarkWatcher(ctx, t, e.dbURL, convIDs)
	var halted atomic.Bool
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(ctx, mc, &halted) })
	}
	sends := startLoad(ctx, conn, "mark-send", senders)
	time.Sleep(3 * time.Second)
	// What is committed now must outlive the kill; calls go on meanwhile,
	// so that some are in flight when it comes.
	beforeKill := takeMarkSnapshot(ctx, t, e.dbURL, convIDs)
	haltedAt := time.Now()
	halted.Store(true)
	sends.halt()
	srv.kill()
	killedAt := time.Now()
	watch.stop()
	wg.Wait()
	sendAttempts := sends.wait()

	counts := map[markKind]int{}
	var acked, unacked []*markAttempt
	for _, w := range workers {
		for _, a := range w.attempts {
			counts[a.kind]++
			switch {
			case a.err == nil:
				acked = append(acked, a)
			case a.end.Before(haltedAt):
				t.Errorf("%s failed before the kill: %v", a, a.err)
			default:
				unacked = append(unacked, a)
			}
		}
	}
	sendsAcked := 0
	for _, a := range sendAttempts {
		switch {
		case a.acked():
			sendsAcked++
		case a.end.Before(haltedAt):
			t.Errorf("send %s failed before the kill: %v", a.key, a.err)
		}
	}
	t.Logf("%d calls (%d syncs, %d delivered marks, %d read marks): %d acknowledged, %d cut off by the kill; %d sends beside them, %d acknowledged; %d rows of marks seen by the watcher %d times",
		len(acked)+len(unacked), counts[markSync], counts[markDelivered], counts[markRead], len(acked), len(unacked),
		len(sendAttempts), sendsAcked, len(watch.seen), watch.reads)
	require.Greater(t, len(acked), 300, "too few calls acknowledged before the kill for the test to mean anything")
	require.Positive(t, len(unacked), "no call was in flight at the kill")
	for _, k := range []markKind{markSync, markDelivered, markRead} {
		require.Positive(t, counts[k], "no %s was tried", k)
	}
	require.Less(t, time.Since(killedAt), 30*time.Second, "calls in flight did not fail promptly after the kill")
	watch.problems.report(t, "while the load ran")

	// Restart on the same database.
	srv = e.startServer()
	conn = dial(t, srv.GRPC)
	mc = messagepb.NewMessageServiceClient(conn)
	after := takeMarkSnapshot(ctx, t, e.dbURL, convIDs)
	p := checkMarkRows(after, convs)
	p.merge(checkMarksHold(after, beforeKill, "just before the kill"))
	p.merge(checkMarkBounds(after, convs, workers, func(a *markAttempt) bool { return a.err == nil }, false))
	p.merge(checkMarkReceipts(ctx, mc, after, convs))
	p.report(t, "after restart")

	// Retry every call, each device's in its order: all answer OK, and a
	// sync's answer is a cursor acknowledged now.
	var retryProblems chgProblems
	var rwg sync.WaitGroup
	for _, w := range workers {
		rwg.Go(func() {
			for _, a := range w.attempts {
				r := a.retry()
				cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				r.cursor, r.err = r.call(cctx, mc)
				cancel()
				if r.err != nil {
					retryProblems.add("retry of %s (acknowledged: %v): %v", a, a.err == nil, r.err)
					continue
				}
				w.retries = append(w.retries, r)
			}
		})
	}
	rwg.Wait()
	retryProblems.report(t, "retries")

	final := takeMarkSnapshot(ctx, t, e.dbURL, convIDs)
	p = checkMarkRows(final, convs)
	p.merge(checkMarksHold(final, after, "after the restart"))
	p.merge(checkMarkBounds(final, convs, workers, func(*markAttempt) bool { return true }, true))
	p.merge(checkMarkReceipts(ctx, mc, final, convs))
	p.report(t, "after the retries")
}

// markConv is a conversation of the test.
type markConv struct {
	id      string
	group   uint64 // 0 for a pair
	members []user
}

// target is where member from sends.
func (c *markConv) target(from user) target {
	if c.group != 0 {
		return target{toGroup: c.group, conv: c.id}
	}
	peer := c.members[0]
	if peer.ID == from.ID {
		peer = c.members[1]
	}
	return target{toUser: peer.ID, conv: c.id}
}

type markKind int

const (
	markSync markKind = iota
	markDelivered
	markRead
)

func (k markKind) String() string { return [...]string{"sync", "delivered mark", "read mark"}[k] }

// markAttempt is one call of a device: a sync page from after (limit) and
// the cursor it answered, or a mark of seq.
type markAttempt struct {
	kind         markKind
	conv         *markConv
	who          user
	seq          uint64
	after, limit uint64
	cursor       uint64
	start, end   time.Time
	err          error
}

func (a *markAttempt) String() string {
	if a.kind == markSync {
		return fmt.Sprintf("%s: sync of user %d after %d (limit %d)", a.conv.id, a.who.ID, a.after, a.limit)
	}
	return fmt.Sprintf("%s: %s %d of user %d", a.conv.id, a.kind, a.seq, a.who.ID)
}

// retry is a copy of a's call, without its outcome.
func (a *markAttempt) retry() *markAttempt {
	return &markAttempt{kind: a.kind, conv: a.conv, who: a.who, seq: a.seq, after: a.after, limit: a.limit}
}

// call makes a's call; a sync answers its page's cursor.
func (a *markAttempt) call(ctx context.Context, mc messagepb.MessageServiceClient) (uint64, error) {
	ctx = a.who.ctx(ctx)
	switch a.kind {
	case markSync:
		resp, err := mc.SyncMessages(ctx, &messagepb.SyncMessagesRequest{ConversationId: a.conv.id, AfterSeq: a.after, Limit: a.limit})
		return resp.GetCursor(), err
	case markDelivered:
		_, err := mc.MarkDelivered(ctx, &messagepb.MarkDeliveredRequest{ConversationId: a.conv.id, Seq: a.seq})
		return 0, err
	default:
		_, err := mc.MarkRead(ctx, &messagepb.MarkReadRequest{ConversationId: a.conv.id, Seq: a.seq})
		return 0, err
	}
}

// markWorker is one device of a member: it syncs on from its cursor and
// marks seqs up to it delivered and read, mostly the newest, sometimes
// older ones (which must not move a mark back).
type markWorker struct {
	conv     *markConv
	who      user
	rnd      *rand.Rand
	cursor   uint64
	attempts []*markAttempt // read once run has returned
	retries  []*markAttempt // the answered retries, read once they are done
}

// run calls until halted or a call fails (its last attempt).
func (w *markWorker) run(ctx context.Context, mc messagepb.MessageServiceClient, halted *atomic.Bool) {
	for !halted.Load() && ctx.Err() == nil {
		a := &markAttempt{conv: w.conv, who: w.who}
		switch r := w.rnd.IntN(100); {
		case w.cursor == 0 || r < 30:
			a.kind, a.after, a.limit = markSync, w.cursor, 1+w.rnd.Uint64N(6)
		case r < 65:
			a.kind, a.seq = markDelivered, w.cursor-w.rnd.Uint64N(min(w.cursor, 4))
		default:
			a.kind, a.seq = markRead, w.cursor-w.rnd.Uint64N(min(w.cursor, 6))
		}
		a.start = time.Now()
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		a.cursor, a.err = a.call(cctx, mc)
		cancel()
		a.end = time.Now()
		w.attempts = append(w.attempts, a)
		if a.err != nil {
			return
		}
		if a.kind == markSync {
			w.cursor = max(w.cursor, a.cursor)
		}
	}
}

type markKey struct {
	conv string
	user uint64
}

type markRow struct{ read, delivered uint64 }

// markSnapshot is the database's marks of the test's conversations, their
// last seqs and who sent each message.
type markSnapshot struct {
	rows    map[markKey]markRow
	dups    []string // (conversation, user) with more than one row
	lastSeq map[string]uint64
	sender  map[string]map[uint64]uint64 // by conversation, seq
	ownMax  map[markKey]uint64           // the highest seq each member sent
}

func takeMarkSnapshot(ctx context.Context, t *testing.T, dbURL string, convIDs []string) *markSnapshot {
	t.Helper()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	s := &markSnapshot{rows: map[markKey]markRow{}, lastSeq: map[string]uint64{}, sender: map[string]map[uint64]uint64{}, ownMax: map[markKey]uint64{}}
	rows, err := conn.Query(ctx, `SELECT conversation_id, user_id, read_seq, delivered_seq FROM messages.reads WHERE conversation_id = ANY($1)`, convIDs)
	require.NoError(t, err)
	for rows.Next() {
		var k markKey
		var read, delivered int64
		require.NoError(t, rows.Scan(&k.conv, &k.user, &read, &delivered))
		if _, ok := s.rows[k]; ok {
			s.dups = append(s.dups, fmt.Sprintf("%s/%d", k.conv, k.user))
		}
		s.rows[k] = markRow{uint64(read), uint64(delivered)}
	}
	require.NoError(t, rows.Err())
	rows, err = conn.Query(ctx, `
		SELECT conversation_id || '/' || user_id FROM messages.reads WHERE conversation_id = ANY($1)
		GROUP BY conversation_id, user_id HAVING count(*) > 1`, convIDs)
	require.NoError(t, err)
	for rows.Next() {
		var d string
		require.NoError(t, rows.Scan(&d))
		s.dups = append(s.dups, d)
	}
	require.NoError(t, rows.Err())
	rows, err = conn.Query(ctx, `SELECT conversation_id, seq, from_user_id FROM messages.messages WHERE conversation_id = ANY($1)`, convIDs)
	require.NoError(t, err)
	for rows.Next() {
		var conv string
		var seq, from int64
		require.NoError(t, rows.Scan(&conv, &seq, &from))
		if s.sender[conv] == nil {
			s.sender[conv] = map[uint64]uint64{}
		}
		s.sender[conv][uint64(seq)] = uint64(from)
		k := markKey{conv, uint64(from)}
		s.ownMax[k] = max(s.ownMax[k], uint64(seq))
	}
	require.NoError(t, rows.Err())
	rows, err = conn.Query(ctx, `SELECT id, last_seq FROM messages.conversations WHERE id = ANY($1)`, convIDs)
	require.NoError(t, err)
	for rows.Next() {
		var id string
		var last int64
		require.NoError(t, rows.Scan(&id, &last))
		s.lastSeq[id] = uint64(last)
	}
	require.NoError(t, rows.Err())
	return s
}

// checkMarkRows checks each row on its own: read ≤ delivered ≤ last_seq,
// one row per (conversation, user), rows of members only; and that every
// conversation's seqs are all messages (this test makes no changes).
func checkMarkRows(s *markSnapshot, convs []*markConv) *chgProblems {
	var p chgProblems
	for _, d := range s.dups {
		p.add("%s: more than one row of marks", d)
	}
	for _, c := range convs {
		if n := len(s.sender[c.id]); uint64(n) != s.lastSeq[c.id] {
			p.add("%s: %d messages, last_seq %d", c.id, n, s.lastSeq[c.id])
		}
	}
	for k, r := range s.rows {
		var c *markConv
		for _, cc := range convs {
			if cc.id == k.conv {
				c = cc
			}
		}
		if !slices.ContainsFunc(c.members, func(u user) bool { return u.ID == k.user }) {
			p.add("%s: a row of marks of user %d, not a member", k.conv, k.user)
		}
		if r.read > r.delivered {
			p.add("%s: user %d has read %d beyond delivered %d", k.conv, k.user, r.read, r.delivered)
		}
		if r.delivered > s.lastSeq[k.conv] {
			p.add("%s: user %d has delivered %d beyond last_seq %d", k.conv, k.user, r.delivered, s.lastSeq[k.conv])
		}
	}
	return &p
}

// checkMarksHold checks that no row of then went back (or went away) in now.
func checkMarksHold(now, then *markSnapshot, when string) *chgProblems {
	var p chgProblems
	for k, old := range then.rows {
		r, ok := now.rows[k]
		switch {
		case !ok:
			p.add("%s: user %d's row of marks (read %d, delivered %d %s) is gone", k.conv, k.user, old.read, old.delivered, when)
		case r.read < old.read || r.delivered < old.delivered:
			p.add("%s: user %d's marks went back from read %d, delivered %d %s to read %d, delivered %d",
				k.conv, k.user, old.read, old.delivered, when, r.read, r.delivered)
		}
	}
	return &p
}

// checkMarkBounds compares each member's stored marks with its calls'.
// Every acknowledged mark (and message sent, and sync cursor answered) is
// there; none is beyond what some call asked (an unanswered sync may have
// marked up to any seq). exact: every call was answered (the retries), so
// the marks are exactly their maximum.
func checkMarkBounds(s *markSnapshot, convs []*markConv, workers []*markWorker, answered func(*markAttempt) bool, exact bool) *chgProblems {
	var p chgProblems
	type bounds struct {
		ackRead, ackDelivered uint64 // acknowledged
		anyRead, anyDelivered uint64 // asked by any call
		openSync              bool   // a sync not answered
	}
	b := map[markKey]*bounds{}
	for _, c := range convs {
		for _, u := range c.members {
			b[markKey{c.id, u.ID}] = &bounds{}
		}
	}
	for _, w := range workers {
		calls := w.attempts
		if exact {
			calls = append(slices.Clone(calls), w.retries...)
		}
		for _, a := range calls {
			x := b[markKey{a.conv.id, a.who.ID}]
			ok := answered(a) && a.err == nil
			switch a.kind {
			case markSync:
				if ok {
					x.ackDelivered, x.anyDelivered = max(x.ackDelivered, a.cursor), max(x.anyDelivered, a.cursor)
				} else if !exact {
					x.openSync = true
				}
			case markDelivered:
				x.anyDelivered = max(x.anyDelivered, a.seq)
				if ok {
					x.ackDelivered = max(x.ackDelivered, a.seq)
				}
			case markRead:
				x.anyRead = max(x.anyRead, a.seq)
				if ok {
					x.ackRead = max(x.ackRead, a.seq)
				}
			}
		}
	}
	for k, x := range b {
		r := s.rows[k] // none: all zero
		own := s.ownMax[k]
		wantRead := max(x.ackRead, own)
		wantDelivered := max(x.ackDelivered, wantRead)
		if r.read < wantRead || r.delivered < wantDelivered {
			p.add("%s: user %d has read %d, delivered %d; acknowledged read %d (its own messages up to %d), delivered %d: a mark was lost",
				k.conv, k.user, r.read, r.delivered, x.ackRead, own, wantDelivered)
		}
		topRead := max(x.anyRead, own)
		topDelivered := max(x.anyDelivered, topRead)
		if x.openSync {
			topDelivered = s.lastSeq[k.conv]
		}
		if r.read > topRead || r.delivered > topDelivered {
			p.add("%s: user %d has read %d, delivered %d; no call asked beyond read %d, delivered %d",
				k.conv, k.user, r.read, r.delivered, topRead, topDelivered)
		}
		if exact && (r.read != wantRead || r.delivered != wantDelivered) {
			p.add("%s: user %d has read %d, delivered %d after every call was answered; want read %d, delivered %d",
				k.conv, k.user, r.read, r.delivered, wantRead, wantDelivered)
		}
	}
	return &p
}

// checkMarkReceipts asks GetReceipts, as its sender, of a spread of each
// conversation's messages and of those at and next to every member's
// marks (where an off-by-one would show), and compares the answers, page
// by page, with the stored marks.
func checkMarkReceipts(ctx context.Context, mc messagepb.MessageServiceClient, s *markSnapshot, convs []*markConv) *chgProblems {
	var p chgProblems
	asked := 0
	for _, c := range convs {
		last := s.lastSeq[c.id]
		seqs := map[uint64]bool{}
		step := max(1, last/150)
		for seq := uint64(1); seq <= last; seq += step {
			seqs[seq] = true
		}
		for _, u := range c.members {
			r := s.rows[markKey{c.id, u.ID}]
			for _, seq := range []uint64{r.read, r.read + 1, r.delivered, r.delivered + 1} {
				if seq >= 1 && seq <= last {
					seqs[seq] = true
				}
			}
		}
		for _, seq := range slices.Sorted(maps.Keys(seqs)) {
			asked++
			p.merge(checkMarkReceiptsOf(ctx, mc, s, c, seq))
		}
	}
	if asked == 0 {
		p.add("no receipts asked")
	}
	return &p
}

func checkMarkReceiptsOf(ctx context.Context, mc messagepb.MessageServiceClient, s *markSnapshot, c *markConv, seq uint64) *chgProblems {
	var p chgProblems
	sender := s.sender[c.id][seq]
	var caller user
	var others []uint64
	for _, u := range c.members {
		if u.ID == sender {
			caller = u
		} else {
			others = append(others, u.ID)
		}
	}
	if caller.ID == 0 {
		p.add("%s/%d: sent by %d, not a member", c.id, seq, sender)
		return &p
	}
	var wantRead, wantDelivered []uint64 // delivered: and not read
	for _, u := range others {
		r := s.rows[markKey{c.id, u}]
		switch {
		case r.read >= seq:
			wantRead = append(wantRead, u)
		case r.delivered >= seq:
			wantDelivered = append(wantDelivered, u)
		}
	}
	counts := fmt.Sprint(len(others), len(wantRead)+len(wantDelivered), len(wantRead))
	limit := uint32(1 + seq%3)
	var read, delivered []uint64
	var after uint64
	for page := 0; ; page++ {
		if page > len(others) {
			p.add("%s/%d: pages never end", c.id, seq)
			return &p
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		r, err := mc.GetReceipts(caller.ctx(cctx), &messagepb.GetReceiptsRequest{ConversationId: c.id, Seq: seq, AfterUserId: after, Limit: limit})
		cancel()
		if err != nil {
			p.add("%s/%d: GetReceipts as %d after user %d: %v", c.id, seq, caller.ID, after, status.Convert(err).Message())
			return &p
		}
		if got := fmt.Sprint(r.GetMemberCount(), r.GetDeliveredCount(), r.GetReadCount()); got != counts {
			p.add("%s/%d: members, delivered, read counted %s; stored marks say %s", c.id, seq, got, counts)
		}
		if c.group == 0 && (r.GetDelivered() != (len(wantRead)+len(wantDelivered) > 0) || r.GetRead() != (len(wantRead) > 0)) {
			p.add("%s/%d: delivered %v, read %v; stored marks say %v, %v", c.id, seq, r.GetDelivered(), r.GetRead(), len(wantRead)+len(wantDelivered) > 0, len(wantRead) > 0)
		}
		ids := append(slices.Clone(r.GetReadUserId()), r.GetDeliveredUserId()...)
		if len(ids) > int(limit) {
			p.add("%s/%d: a page of %d ids, limit %d", c.id, seq, len(ids), limit)
		}
		for _, u := range ids {
			if u <= after {
				p.add("%s/%d: user %d on the page after user %d", c.id, seq, u, after)
			}
		}
		read, delivered = append(read, r.GetReadUserId()...), append(delivered, r.GetDeliveredUserId()...)
		next := r.GetNextAfterUserId()
		if next == 0 {
			break
		}
		if len(ids) == 0 || slices.Max(ids) != next {
			p.add("%s/%d: next_after_user_id %d after a page of %v", c.id, seq, next, ids)
			return &p
		}
		after = next
	}
	if !slices.Equal(read, wantRead) || !slices.Equal(delivered, wantDelivered) {
		p.add("%s/%d: read by %v, delivered (not read) to %v over the pages; stored marks say %v, %v", c.id, seq, read, delivered, wantRead, wantDelivered)
	}
	return &p
}

// markWatcher reads the conversations' marks while the load runs and
// records any that went back, or a read beyond its delivery (once a row).
type markWatcher struct {
	done     chan struct{}
	wg       sync.WaitGroup
	seen     map[markKey]markRow
	told     map[markKey]bool // rows with a problem recorded
	reads    int
	problems chgProblems
}

func newMarkWatcher(ctx context.Context, t *testing.T, dbURL string, convIDs []string) *markWatcher {
	t.Helper()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	w := &markWatcher{done: make(chan struct{}), seen: map[markKey]markRow{}, told: map[markKey]bool{}}
	w.wg.Go(func() {
		defer conn.Close(context.Background())
		for {
			select {
			case <-w.done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if err := w.read(ctx, conn, convIDs); err != nil {
				w.problems.add("watching marks: %v", err)
				return
			}
		}
	})
	return w
}

func (w *markWatcher) read(ctx context.Context, conn *pgx.Conn, convIDs []string) error {
	rows, err := conn.Query(ctx, `SELECT conversation_id, user_id, read_seq, delivered_seq FROM messages.reads WHERE conversation_id = ANY($1)`, convIDs)
	if err != nil {
		return err
	}
	defer rows.Close()
	w.reads++
	for rows.Next() {
		var k markKey
		var read, delivered int64
		if err := rows.Scan(&k.conv, &k.user, &read, &delivered); err != nil {
			return err
		}
		r := markRow{uint64(read), uint64(delivered)}
		old, ok := w.seen[k]
		w.seen[k] = r
		switch {
		case w.told[k]:
		case ok && (r.read < old.read || r.delivered < old.delivered):
			w.told[k] = true
			w.problems.add("%s: user %d's marks went back from read %d, delivered %d to read %d, delivered %d",
				k.conv, k.user, old.read, old.delivered, r.read, r.delivered)
		case r.read > r.delivered:
			w.told[k] = true
			w.problems.add("%s: user %d has read %d beyond delivered %d", k.conv, k.user, r.read, r.delivered)
		}
	}
	return rows.Err()
}

// stop ends the watching and waits for it.
func (w *markWatcher) stop() {
	close(w.done)
	w.wg.Wait()
}
