package message_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/messagepb"
)

// rcConv is a conversation of TestReceiptsConvergeOnEveryDevice.
type rcConv struct {
	id      string
	group   uint64 // 0 for a pair
	members []person
	// firstSeq is each member's first seq: 1 in a pair and for the group's
	// owner, else the seq of its JOINED event. It sees the messages from
	// there on (and was pushed them).
	firstSeq map[uint64]uint64
}

// sees reports whether member u could see the message at seq.
func (c *rcConv) sees(u, seq uint64) bool { return c.firstSeq[u] <= seq }

func (c *rcConv) to(from person) target {
	if c.group != 0 {
		return toGroup(c.group)
	}
	if from.id == c.members[0].id {
		return toUser(c.members[1].id)
	}
	return toUser(c.members[0].id)
}

// rcMarks is a member's marks in a conversation.
type rcMarks struct{ read, delivered uint64 }

func (m rcMarks) String() string { return fmt.Sprintf("read %d/delivered %d", m.read, m.delivered) }

func (m rcMarks) max(o rcMarks) rcMarks {
	return rcMarks{read: max(m.read, o.read), delivered: max(m.delivered, o.delivered)}
}

// rcAcked is what a member's calls answered OK say of its marks: the
// highest seq it marked read, marked delivered, and the highest cursor of
// a sync page (after_seq) it got.
type rcAcked struct{ read, delivered, cursor uint64 }

func (a rcAcked) merge(b rcAcked) rcAcked {
	return rcAcked{read: max(a.read, b.read), delivered: max(a.delivered, b.delivered), cursor: max(a.cursor, b.cursor)}
}

// rcKey names what user `to` holds of user `of`'s marks.
type rcKey struct{ to, of uint64 }

// TestReceiptsConvergeOnEveryDevice has several devices of each member of
// a pair and of a six-member group send messages, mark random seqs read
// and delivered and sync pages from random cursors, all at once (seeded:
// each device's choices repeat, though not how the calls interleave), then
// half the members make one last move whose range is known, and checks
// that:
//
//   - each member's stored marks are the maximum of its acknowledged marks
//     (its own sends count as read, a read as delivered, a sync page as
//     delivered up to its cursor), and never went back while it ran;
//   - an online device holds, from the receipt frames pushed to it (and the
//     messages pushed to it: a member's own message counts as read by it),
//     its peer's stored marks in the pair, and in the group the stored
//     marks of every member whose last move passed over one of its
//     messages; no frame claims more than is stored, nor goes to a member
//     but a sender of a message the move passed over;
//   - a device that was offline and asks GetReceipts for every message,
//     page by page, gets counts and ids that agree with the stored marks.
func TestReceiptsConvergeOnEveryDevice(t *testing.T) {
	t.Parallel()
	for si, seed := range []uint64{11, 1111, 111111} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := setup(t)
			// Frames of moves racing each other may be recorded out of
			// order, as a device may get them: it applies them with max.
			e.rec.setJitter(true)
			us := e.newUsers(t, 8)
			g := e.groupOf(t, us[2], us[3:]...)
			convs := []*rcConv{
				{id: pairID(us[0].id, us[1].id), members: us[:2], firstSeq: map[uint64]uint64{us[0].id: 1, us[1].id: 1}},
				{id: groupConvID(g.GetId()), group: g.GetId(), members: us[2:], firstSeq: map[uint64]uint64{us[2].id: 1}},
			}
			// The group's conversation starts with the joins' events, one
			// each, in order.
			joins := e.syncAll(t, us[2], convs[1].id)
			require.Len(t, joins, len(us[3:]))
			for i, u := range us[3:] {
				requireEvent(t, joined(u.id, u.id), joins[i])
				convs[1].firstSeq[u.id] = joins[i].GetSeq()
			}
			for _, c := range convs {
				e.sendText(t, c.members[0], c.to(c.members[0]), "first") // the conversation exists
			}

			// Marks never move back, seen from the database while it runs.
			stopWatch := make(chan struct{})
			var watch sync.WaitGroup
			watch.Go(func() { rcWatchMonotonic(t, e, convs, stopWatch) })

			const devices, ops = 2, 24
			var (
				mu    sync.Mutex
				acked = map[string]map[uint64]rcAcked{} // by conversation, member
			)
			for _, c := range convs {
				acked[c.id] = map[uint64]rcAcked{}
			}
			var wg sync.WaitGroup
			for ci, c := range convs {
				for mi, u := range c.members {
					for d := range devices {
						rng := rand.New(rand.NewPCG(seed, uint64(ci*100+mi*10+d)))
						wg.Go(func() {
							got := rcDevice(ctx, t, e, rng, c, u, ops)
							mu.Lock()
							acked[c.id][u.id] = acked[c.id][u.id].merge(got)
							mu.Unlock()
						})
					}
				}
			}
			wg.Wait()

			// One last move of half the members, their devices quiet: a
			// read mark, a delivered mark or a sync, by turns. The marks
			// before and after it say which seqs it passed over. (The
			// others' last moves raced.)
			final := map[string]map[uint64][]uint64{} // by conversation, member: the senders its last move tells
			for _, c := range convs {
				for mi, u := range c.members {
					if mi%2 == 1 { // something new to move over
						e.sendText(t, u, c.to(u), "before the last moves")
					}
				}
			}
			for _, c := range convs {
				final[c.id] = map[uint64][]uint64{}
				for mi, u := range c.members {
					if mi%2 == 1 {
						continue
					}
					rng := rand.New(rand.NewPCG(seed, uint64(1000+mi)))
					wg.Go(func() {
						got, senders := rcFinalMove(ctx, t, e, rng, c, u, (si+mi/2)%3)
						mu.Lock()
						acked[c.id][u.id] = acked[c.id][u.id].merge(got)
						final[c.id][u.id] = senders
						mu.Unlock()
					})
				}
			}
			wg.Wait()
			close(stopWatch)
			watch.Wait()
			if t.Failed() {
				return
			}

			for _, c := range convs {
				last := e.lastSeq(t, c.id)
				from := rcSenders(t, e, c.id)
				require.Len(t, from, int(last), "%s: every seq is a message", c.id)
				require.Less(t, last, uint64(1000), "the 1,000-seq bound of a receipt's scan is not what this test is about")
				stored := rcStored(t, e, c.id)

				// (a) The stored marks are the maximum of the acknowledged ones.
				for _, u := range c.members {
					a := acked[c.id][u.id]
					var own uint64
					for seq, f := range from {
						if f == u.id {
							own = max(own, seq)
						}
					}
					want := rcMarks{read: max(a.read, own)}
					want.delivered = max(a.delivered, a.cursor, want.read)
					require.Equal(t, want, stored[u.id], "%s: user %d's stored marks, from acknowledged %+v and its own sends up to %d", c.id, u.id, a, own)
				}
				t.Logf("%s: %d seqs; stored marks %v", c.id, last, stored)

				// (c) A device that was offline resyncs the receipts of
				// every message.
				for seq := uint64(1); seq <= last; seq++ {
					rcCheckReceipts(t, e, c, seq, from[seq], stored)
				}
			}

			// (b) The online devices, once the last coalescing window has
			// flushed.
			time.Sleep(1200 * time.Millisecond)
			var problems []string
			var reordered int
			for deadline := time.Now().Add(5 * time.Second); ; {
				problems, reordered = nil, 0
				for _, c := range convs {
					p, n := rcCheckOnline(t, e, c, rcStored(t, e, c.id), rcSenders(t, e, c.id), final[c.id])
					problems, reordered = append(problems, p...), reordered+n
				}
				if len(problems) == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			for _, p := range problems {
				t.Error(p)
			}
			_, frames := e.receiptFrames(t)
			t.Logf("%d receipt frames, %d of them recorded after one that told more", len(frames), reordered)
		})
	}
}

// rcLastSeq is conv's last seq, for a device's goroutine (no require).
func rcLastSeq(ctx context.Context, e *env, conv string) (uint64, error) {
	var last int64
	err := e.pool.QueryRow(ctx, `SELECT last_seq FROM messages.conversations WHERE id = $1`, conv).Scan(&last)
	return uint64(last), err
}

// rcPickSeq is a seq to mark: anywhere up to last, or near it.
func rcPickSeq(rng *rand.Rand, last uint64) uint64 {
	if rng.IntN(2) == 0 {
		return rng.Uint64N(last + 1)
	}
	return last - rng.Uint64N(min(last, 3))
}

// rcDevice is one device of u in c making ops random calls; it returns the
// marks its answered calls acknowledged.
func rcDevice(ctx context.Context, t *testing.T, e *env, rng *rand.Rand, c *rcConv, u person, ops int) rcAcked {
	var got rcAcked
	for n := range ops {
		last, err := rcLastSeq(ctx, e, c.id)
		if err != nil {
			t.Errorf("%s: last seq: %v", c.id, err)
			return got
		}
		switch r := rng.IntN(100); {
		case r < 20:
			if _, err := e.send(u.ctx, c.to(u), text(fmt.Sprintf("%d says %d", u.id, n))); err != nil {
				t.Errorf("%s: send as %d: %v", c.id, u.id, err)
			}
		case r < 45:
			seq := rcPickSeq(rng, last)
			if err := e.markRead(u, c.id, seq); err != nil {
				t.Errorf("%s: mark %d read as %d: %v", c.id, seq, u.id, err)
				continue
			}
			got.read = max(got.read, seq)
		case r < 70:
			seq := rcPickSeq(rng, last)
			if err := e.markDelivered(u, c.id, seq); err != nil {
				t.Errorf("%s: mark %d delivered as %d: %v", c.id, seq, u.id, err)
				continue
			}
			got.delivered = max(got.delivered, seq)
		default:
			after := rng.Uint64N(last + 1)
			page, err := e.msgs.SyncMessages(u.ctx, &messagepb.SyncMessagesRequest{ConversationId: c.id, AfterSeq: after, Limit: 1 + rng.Uint64N(4)})
			if err != nil {
				t.Errorf("%s: sync after %d as %d: %v", c.id, after, u.id, err)
				continue
			}
			got.cursor = max(got.cursor, page.GetCursor())
		}
	}
	return got
}

// rcFinalMove moves u's marks in c once more, by a call of kind (0: a read
// mark, 1: a delivered mark, 2: a sync; a read mark when it is delivered
// up to the last seq) to a random seq that must move them, and returns what
// it acknowledged and the senders (but u) of the messages the move passed
// over: those it tells.
func rcFinalMove(ctx context.Context, t *testing.T, e *env, rng *rand.Rand, c *rcConv, u person, kind int) (rcAcked, []uint64) {
	var got rcAcked
	last, err := rcLastSeq(ctx, e, c.id)
	if err != nil {
		t.Errorf("%s: last seq: %v", c.id, err)
		return got, nil
	}
	before, err := rcStoredOf(ctx, e, c.id, u.id)
	if err != nil {
		t.Errorf("%s: marks of %d: %v", c.id, u.id, err)
		return got, nil
	}
	switch {
	case before.read == last:
		t.Logf("%s: user %d has read everything: no last move", c.id, u.id)
		return got, nil
	case kind == 0 || before.delivered == last:
		seq := before.read + 1 + rng.Uint64N(last-before.read)
		err, got.read = e.markRead(u, c.id, seq), seq
	case kind == 1:
		seq := before.delivered + 1 + rng.Uint64N(last-before.delivered)
		err, got.delivered = e.markDelivered(u, c.id, seq), seq
	default:
		after := before.delivered + rng.Uint64N(last-before.delivered)
		var page *messagepb.SyncMessagesResponse
		page, err = e.msgs.SyncMessages(u.ctx, &messagepb.SyncMessagesRequest{ConversationId: c.id, AfterSeq: after, Limit: 1 + rng.Uint64N(3)})
		got.cursor = page.GetCursor()
	}
	if err != nil {
		t.Errorf("%s: last move of %d: %v", c.id, u.id, err)
		return rcAcked{}, nil
	}
	after, err := rcStoredOf(ctx, e, c.id, u.id)
	if err != nil {
		t.Errorf("%s: marks of %d: %v", c.id, u.id, err)
		return got, nil
	}
	if after == before {
		t.Errorf("%s: the last move of %d (%+v) did not move %v", c.id, u.id, got, before)
		return got, nil
	}
	// As the proto says: a move tells the senders of the messages it
	// passed over, of the last 1,000 seqs it moved.
	from := before.delivered
	if after.read > before.read {
		from = before.read
	}
	from = max(from, after.delivered-min(after.delivered, 1000))
	rows, err := e.pool.Query(ctx, `
		SELECT DISTINCT from_user_id FROM messages.messages
		WHERE conversation_id = $1 AND seq > $2 AND seq <= $3 AND from_user_id <> $4 ORDER BY 1`,
		c.id, from, after.delivered, u.id)
	if err != nil {
		t.Errorf("%s: senders: %v", c.id, err)
		return got, nil
	}
	defer rows.Close()
	var senders []uint64
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			t.Errorf("%s: senders: %v", c.id, err)
			return got, nil
		}
		senders = append(senders, uint64(s))
	}
	if err := rows.Err(); err != nil {
		t.Errorf("%s: senders: %v", c.id, err)
	}
	return got, senders
}

// rcWatchMonotonic reads the conversations' marks until stop, and fails
// the test when one goes back or a read is beyond its delivery (once a
// row).
func rcWatchMonotonic(t *testing.T, e *env, convs []*rcConv, stop <-chan struct{}) {
	ctx := context.Background()
	ids := make([]string, len(convs))
	for i, c := range convs {
		ids[i] = c.id
	}
	type key struct {
		conv string
		user uint64
	}
	seen, told := map[key]rcMarks{}, map[key]bool{}
	for {
		select {
		case <-stop:
			return
		case <-time.After(10 * time.Millisecond):
		}
		rows, err := e.pool.Query(ctx, `SELECT conversation_id, user_id, read_seq, delivered_seq FROM messages.reads WHERE conversation_id = ANY($1)`, ids)
		if err != nil {
			t.Errorf("watch marks: %v", err)
			return
		}
		for rows.Next() {
			var k key
			var read, delivered int64
			if err := rows.Scan(&k.conv, &k.user, &read, &delivered); err != nil {
				t.Errorf("watch marks: %v", err)
				rows.Close()
				return
			}
			m, prev := rcMarks{uint64(read), uint64(delivered)}, seen[k]
			seen[k] = m
			switch {
			case told[k]:
			case m.read < prev.read || m.delivered < prev.delivered:
				told[k] = true
				t.Errorf("%s: user %d's marks went back from %v to %v", k.conv, k.user, prev, m)
			case m.read > m.delivered:
				told[k] = true
				t.Errorf("%s: user %d has %v: read beyond delivered", k.conv, k.user, m)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Errorf("watch marks: %v", err)
			return
		}
	}
}

func rcStoredOf(ctx context.Context, e *env, conv string, user uint64) (rcMarks, error) {
	var read, delivered int64
	err := e.pool.QueryRow(ctx, `SELECT read_seq, delivered_seq FROM messages.reads WHERE conversation_id = $1 AND user_id = $2`,
		conv, user).Scan(&read, &delivered)
	if errors.Is(err, pgx.ErrNoRows) {
		return rcMarks{}, nil
	}
	return rcMarks{uint64(read), uint64(delivered)}, err
}

// rcStored is every stored row of marks of conv, by user.
func rcStored(t *testing.T, e *env, conv string) map[uint64]rcMarks {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT user_id, read_seq, delivered_seq FROM messages.reads WHERE conversation_id = $1`, conv)
	require.NoError(t, err)
	defer rows.Close()
	out := map[uint64]rcMarks{}
	for rows.Next() {
		var user, read, delivered int64
		require.NoError(t, rows.Scan(&user, &read, &delivered))
		out[uint64(user)] = rcMarks{uint64(read), uint64(delivered)}
	}
	require.NoError(t, rows.Err())
	return out
}

// rcSenders is the sender of each message of conv, by seq.
func rcSenders(t *testing.T, e *env, conv string) map[uint64]uint64 {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT seq, from_user_id FROM messages.messages WHERE conversation_id = $1`, conv)
	require.NoError(t, err)
	defer rows.Close()
	out := map[uint64]uint64{}
	for rows.Next() {
		var seq, from int64
		require.NoError(t, rows.Scan(&seq, &from))
		out[uint64(seq)] = uint64(from)
	}
	require.NoError(t, rows.Err())
	return out
}

// rcCheckOnline applies every receipt frame of c, in publish order, with
// max, to what each member's online device holds of the others' marks
// (and every message pushed to it: its sender has it read), and compares
// that with the stored marks. final holds, by member, the senders its last
// move told. reordered counts the marks of frames that came after a frame
// that had told more of them.
func rcCheckOnline(t *testing.T, e *env, c *rcConv, stored map[uint64]rcMarks, from map[uint64]uint64, final map[uint64][]uint64) (problems []string, reordered int) {
	t.Helper()
	bad := func(format string, args ...any) { problems = append(problems, c.id+": "+fmt.Sprintf(format, args...)) }
	member := map[uint64]bool{}
	for _, u := range c.members {
		member[u.id] = true
	}
	// sent[s] is the seqs of s's messages.
	sent := map[uint64][]uint64{}
	for seq, f := range from {
		sent[f] = append(sent[f], seq)
	}
	view := map[rcKey]rcMarks{}
	to, frames := e.receiptFrames(t)
	for i, f := range frames {
		if f.GetConversationId() != c.id {
			continue
		}
		s := to[i]
		if !member[s] {
			bad("a receipt frame went to %d, who is not a member", s)
		}
		for _, mm := range append([]*messagepb.MemberMarks{{UserId: f.GetUserId(), DeliveredSeq: f.GetDeliveredSeq(), ReadSeq: f.GetReadSeq()}}, f.GetOthers()...) {
			of, m := mm.GetUserId(), rcMarks{mm.GetReadSeq(), mm.GetDeliveredSeq()}
			switch {
			case !member[of] || of == s:
				bad("a receipt frame to %d tells the marks of %d", s, of)
			case m.read > m.delivered:
				bad("a receipt frame to %d says %d has %v: read beyond delivered", s, of, m)
			case m.read > stored[of].read || m.delivered > stored[of].delivered:
				bad("a receipt frame to %d says %d has %v, stored %v", s, of, m, stored[of])
			case c.group != 0 && m.delivered > 0 && !slices.ContainsFunc(sent[s], func(seq uint64) bool { return seq <= m.delivered }):
				bad("a receipt frame to %d says %d has %v, yet %d sent none of the messages up to it", s, of, m, s)
			}
			if v := view[rcKey{s, of}]; m.read < v.read || m.delivered < v.delivered {
				reordered++
			}
			view[rcKey{s, of}] = view[rcKey{s, of}].max(m)
		}
	}
	for _, d := range e.rec.ofConversation(t, c.id) {
		of, seq := d.msg.GetFromUserId(), d.msg.GetSeq()
		for _, s := range d.userIDs {
			if s != of {
				view[rcKey{s, of}] = view[rcKey{s, of}].max(rcMarks{seq, seq})
			}
		}
	}

	for _, m := range c.members {
		want := stored[m.id]
		for _, s := range c.members {
			if s.id == m.id {
				continue
			}
			got := view[rcKey{s.id, m.id}]
			switch {
			case c.group == 0:
				// Every move in a pair is pushed to the peer at once.
				if got != want {
					bad("user %d's online device holds %v of its peer %d, stored %v", s.id, got, m.id, want)
				}
			case slices.Contains(final[m.id], s.id):
				// m's last move passed over a message of s: s was told it.
				if got != want {
					bad("user %d's online device holds %v of %d, stored %v: %d's last move passed over a message of %d", s.id, got, m.id, want, m.id, s.id)
				}
			default:
				// The move that took a mark to a seq passed over that
				// seq's message: its sender (or, its own message, every
				// member who could see it: pushed it) was told.
				if f := from[want.delivered]; want.delivered > 0 && (f == s.id || f == m.id && c.sees(s.id, want.delivered)) && got.delivered != want.delivered {
					bad("user %d's online device holds %v of %d, stored %v: the message at its delivered seq is %d's", s.id, got, m.id, want, f)
				}
				if f := from[want.read]; want.read > 0 && (f == s.id || f == m.id && c.sees(s.id, want.read)) && got.read != want.read {
					bad("user %d's online device holds %v of %d, stored %v: the message at its read seq is %d's", s.id, got, m.id, want, f)
				}
			}
		}
	}
	return problems, reordered
}

// rcCheckReceipts asks GetReceipts of the message at seq, sent by sender,
// as the sender, in pages of a few ids, and compares the answers with the
// stored marks.
func rcCheckReceipts(t *testing.T, e *env, c *rcConv, seq, sender uint64, stored map[uint64]rcMarks) {
	t.Helper()
	var caller person
	var others []uint64 // who could have it: every member but its sender who had joined when it was sent
	for _, u := range c.members {
		switch {
		case u.id == sender:
			caller = u
		case c.sees(u.id, seq):
			others = append(others, u.id)
		}
	}
	want := &messagepb.GetReceiptsResponse{MemberCount: uint64(len(others))}
	for _, u := range others {
		m := stored[u]
		switch {
		case m.read >= seq:
			want.ReadUserId = append(want.ReadUserId, u)
			want.ReadCount++
			want.DeliveredCount++
		case m.delivered >= seq:
			want.DeliveredUserId = append(want.DeliveredUserId, u)
			want.DeliveredCount++
		}
	}
	if c.group == 0 {
		want.Delivered, want.Read = want.DeliveredCount > 0, want.ReadCount > 0
	}
	got := e.receipts(t, caller, c.id, seq, 0, 0)
	require.Truef(t, proto.Equal(want, got), "%s/%d, asked by its sender %d:\nwant: %v\n got: %v", c.id, seq, sender, want, got)

	// Page by page: the same counts on each, ids ascending, none twice,
	// none missing.
	limit := uint32(1 + seq%3)
	var read, delivered []uint64
	after := uint64(0)
	for pages := 0; ; pages++ {
		require.LessOrEqual(t, pages, len(others), "%s/%d: pages never end", c.id, seq)
		p := e.receipts(t, caller, c.id, seq, after, limit)
		require.Equal(t, []uint64{want.GetMemberCount(), want.GetDeliveredCount(), want.GetReadCount()},
			[]uint64{p.GetMemberCount(), p.GetDeliveredCount(), p.GetReadCount()}, "%s/%d: counts after user %d", c.id, seq, after)
		page := append(slices.Clone(p.GetReadUserId()), p.GetDeliveredUserId()...)
		require.LessOrEqual(t, len(page), int(limit), "%s/%d: page after user %d", c.id, seq, after)
		for _, u := range page {
			require.Greater(t, u, after, "%s/%d: user %d on the page after user %d", c.id, seq, u, after)
		}
		read, delivered = append(read, p.GetReadUserId()...), append(delivered, p.GetDeliveredUserId()...)
		next := p.GetNextAfterUserId()
		if next == 0 {
			break
		}
		require.Len(t, page, int(limit), "%s/%d: a page short of its limit goes on", c.id, seq)
		require.Equal(t, slices.Max(page), next, "%s/%d: the next page starts after this one's last", c.id, seq)
		after = next
	}
	require.Equal(t, want.GetReadUserId(), read, "%s/%d: read ids over the pages", c.id, seq)
	require.Equal(t, want.GetDeliveredUserId(), delivered, "%s/%d: delivered ids over the pages", c.id, seq)
}
