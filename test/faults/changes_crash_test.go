//go:build faults

package faults

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/messagepb"
)

// TestCrashDuringChanges kills parley with SIGKILL while workers edit,
// recall, react to and delete-for-me messages (and others send new ones
// into the same conversations), each call with its own idempotency key,
// restarts it on the same database and checks, against a model that
// replays every worker's calls in order:
//
//   - no acknowledged change was lost and none was applied twice: each
//     message's text, edit_count, tombstone, reactions and delete-for-me
//     rows, and the exact sequence of its change entries in
//     messages.changes, are those of its acknowledged changes plus the ones
//     the kill cut off whose key the database holds;
//   - each conversation's stream is whole: the seqs of its messages and
//     changes are exactly 1..last_seq, and SyncMessages from 0 walks it,
//     page by page, to its end without a repeat, showing a reader every
//     entry but the others' deletes-for-me, and a deleter none of the
//     messages it deleted;
//   - retrying every call with its key after the restart answers OK (an
//     edit of a message recalled since may answer FailedPrecondition),
//     applies the changes the kill cut off once and adds no entry for the
//     others; then the model of all calls holds.
//
// Every worker owns a set of messages, so the changes to one message are
// sequential and the model knows their order.
func TestCrashDuringChanges(t *testing.T) {
	e := setup(t)
	srv := e.startServer()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	users := e.seedUsers(ctx, "chg", 14)
	conn := dial(t, srv.GRPC)
	gid := e.createGroup(ctx, conn, "changes", users[:6])
	convs := []*chgConv{
		{id: groupConv(gid), group: gid, members: users[:6], reader: users[0], deleter: users[5]},
		{id: pairConv(users[2].ID, users[3].ID), members: []user{users[2], users[3]}, reader: users[2], deleter: users[3]},
		{id: pairConv(users[4].ID, users[1].ID), members: []user{users[4], users[1]}, reader: users[4], deleter: users[1]},
		{id: pairConv(users[6].ID, users[7].ID), members: []user{users[6], users[7]}, reader: users[6], deleter: users[7]},
		{id: pairConv(users[8].ID, users[9].ID), members: []user{users[8], users[9]}, reader: users[8], deleter: users[9]},
		{id: pairConv(users[10].ID, users[11].ID), members: []user{users[10], users[11]}, reader: users[10], deleter: users[11]},
		{id: pairConv(users[12].ID, users[13].ID), members: []user{users[12], users[13]}, reader: users[12], deleter: users[13]},
		{id: pairConv(users[0].ID, users[12].ID), members: []user{users[0], users[12]}, reader: users[12], deleter: users[0]},
	}
	convIDs := make([]string, len(convs))
	for i, c := range convs {
		convIDs[i] = c.id
	}

	// The messages the workers change, all acknowledged before the load.
	mc := messagepb.NewMessageServiceClient(conn)
	var msgs []*chgMsg
	for ci, c := range convs {
		n := 24
		if c.group != 0 {
			n = 64
		}
		for i := range n {
			m := c.newMsg(i)
			a := &attempt{key: fmt.Sprintf("chg-seed-c%d-m%d", ci, i), from: m.sender, to: c.target(m.sender)}
			id, err := send(ctx, mc, a)
			require.NoError(t, err, "seed message %s", a.key)
			m.id, m.text0 = id, a.key
			msgs = append(msgs, m)
		}
	}

	const nWorkers = 16
	workers := make([]*chgWorker, nWorkers)
	for w := range workers {
		workers[w] = &chgWorker{id: w, rnd: rand.New(rand.NewPCG(uint64(w), 0x70a57)), state: map[*chgMsg]*chgModel{}}
	}
	for i, m := range msgs {
		w := workers[i%nWorkers]
		w.msgs = append(w.msgs, m)
		w.state[m] = newChgModel(m)
	}
	// Sends into the same conversations, so messages and changes take
	// seqs from one stream at the same time.
	var senders []worker
	for _, c := range convs[:3] {
		senders = append(senders, worker{from: c.members[1], targets: []target{c.target(c.members[1])}})
	}

	var halted atomic.Bool
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(ctx, mc, &halted) })
	}
	sends := startLoad(ctx, conn, "chg-send", senders)
	time.Sleep(2 * time.Second)
	haltedAt := time.Now()
	halted.Store(true)
	sends.halt()
	srv.kill()
	killedAt := time.Now()
	wg.Wait()
	sendAttempts := sends.wait()

	counts := map[chgKind]int{}
	var acked, unacked []*chgAttempt
	for _, w := range workers {
		for _, a := range w.attempts {
			counts[a.kind]++
			switch {
			case a.err == nil:
				acked = append(acked, a)
			case a.end.Before(haltedAt):
				t.Errorf("%s %s failed before the kill: %v", a.kind, a.key, a.err)
			default:
				unacked = append(unacked, a)
			}
		}
	}
	sendsAcked, sendsUnacked := 0, 0
	for _, a := range sendAttempts {
		switch {
		case a.acked():
			sendsAcked++
		case a.end.Before(haltedAt):
			t.Errorf("send %s failed before the kill: %v", a.key, a.err)
		default:
			sendsUnacked++
		}
	}
	t.Logf("%d changes (%d edits, %d recalls, %d reactions added, %d taken back, %d deletes-for-me): %d acknowledged, %d cut off by the kill; %d sends beside them: %d acknowledged, %d cut off",
		len(acked)+len(unacked), counts[chgEdit], counts[chgRecall], counts[chgReact], counts[chgUnreact], counts[chgDelete],
		len(acked), len(unacked), len(sendAttempts), sendsAcked, sendsUnacked)
	require.Greater(t, len(acked), 100, "too few changes acknowledged before the kill for the test to mean anything")
	require.Positive(t, len(unacked), "no change was in flight at the kill")
	for _, k := range []chgKind{chgEdit, chgRecall, chgReact, chgUnreact, chgDelete} {
		require.Positive(t, counts[k], "no %s was tried", k)
	}
	require.Less(t, time.Since(killedAt), 30*time.Second, "changes in flight did not fail promptly after the kill")

	// Restart on the same database.
	srv = e.startServer()
	conn = dial(t, srv.GRPC)
	mc = messagepb.NewMessageServiceClient(conn)

	before := takeChgSnapshot(ctx, t, e.dbURL, convIDs)
	committedBefore := func(a *chgAttempt) bool {
		_, stored := before.keys[chgKeyOf{a.actor.ID, a.key}]
		return a.err == nil || stored
	}
	cutCommitted := 0
	for _, a := range unacked {
		if committedBefore(a) {
			cutCommitted++
		}
	}
	t.Logf("after restart: %d of the %d changes cut off by the kill had been committed; %d change entries",
		cutCommitted, len(unacked), len(before.changes))
	p := &chgProblems{}
	for _, a := range acked {
		if got, ok := before.keys[chgKeyOf{a.actor.ID, a.key}]; !ok || got != a.msg.id {
			p.add("acknowledged %s %s of message %d: its idempotency key is not stored for it (got message %d, stored %v)",
				a.kind, a.key, a.msg.id, got, ok)
		}
	}
	p.merge(checkChgModel(before, workers, msgs, committedBefore, true))
	p.merge(checkChgSends(before, sendAttempts, nil))
	p.merge(checkChgStreams(ctx, mc, before, convs))
	p.report(t, "after restart")

	// Retry every change, in each worker's order, with its key: the ones
	// the kill cut off before their commit take effect now, the others
	// (acknowledged or committed) are no-ops that answer OK. An edit whose
	// message has been recalled since is refused before its key is looked
	// at (FailedPrecondition): allowed, and counted.
	finalBefore := replayChgModel(workers, msgs, committedBefore)
	var retryProblems chgProblems
	var refusedEdits atomic.Int64
	var rwg sync.WaitGroup
	for _, w := range workers {
		rwg.Go(func() {
			for _, a := range w.attempts {
				r := a.retry()
				cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				_, _, err := r.call(cctx, mc)
				cancel()
				switch {
				case err == nil:
				case a.kind == chgEdit && status.Code(err) == codes.FailedPrecondition && finalBefore[a.msg].recalled:
					refusedEdits.Add(1)
				default:
					retryProblems.add("retry of %s %s (acknowledged: %v) of message %d: %v", a.kind, a.key, a.err == nil, a.msg.id, err)
				}
			}
		})
	}
	sendRetryIDs := make([]uint64, len(sendAttempts))
	rwg.Go(func() {
		for i, a := range sendAttempts {
			cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			id, err := send(cctx, mc, a)
			cancel()
			sendRetryIDs[i] = id
			switch {
			case err != nil:
				retryProblems.add("retry of send %s: %v", a.key, err)
			case a.acked() && id != a.id:
				retryProblems.add("retry of acknowledged send %s answered id %d, first answer was %d", a.key, id, a.id)
			}
		}
	})
	rwg.Wait()
	retryProblems.report(t, "retries")
	t.Logf("retries: %d edits of messages recalled since answered FailedPrecondition", refusedEdits.Load())

	// Every change has taken effect exactly once now.
	after := takeChgSnapshot(ctx, t, e.dbURL, convIDs)
	all := func(*chgAttempt) bool { return true }
	p = &chgProblems{}
	if want := len(before.changes) + len(unacked) - cutCommitted; len(after.changes) != want {
		p.add("%d change entries after the retries, want %d: %d before them and one for each of the %d changes cut off before their commit",
			len(after.changes), want, len(before.changes), len(unacked)-cutCommitted)
	}
	p.merge(checkChgModel(after, workers, msgs, all, false))
	p.merge(checkChgSends(after, sendAttempts, sendRetryIDs))
	p.merge(checkChgStreams(ctx, mc, after, convs))
	p.report(t, "after the retries")

	// A second round of retries of the acknowledged changes adds nothing.
	for _, a := range acked[:min(len(acked), 200)] {
		_, _, err := a.retry().call(ctx, mc)
		if err != nil && (a.kind != chgEdit || status.Code(err) != codes.FailedPrecondition) {
			t.Errorf("second retry of %s %s: %v", a.kind, a.key, err)
		}
	}
	again := takeChgSnapshot(ctx, t, e.dbURL, convIDs)
	require.Len(t, again.changes, len(after.changes), "a second retry of acknowledged changes added entries")
}

// chgConv is a conversation of the test. Its reader deletes nothing in it,
// so it sees every entry but the others' deletes-for-me; its deleter
// deletes the others' messages for itself and makes no other change to
// them (a retry of its reaction to a message it no longer sees would be
// NotFound).
type chgConv struct {
	id      string
	group   uint64 // 0 for a pair of members
	members []user // a group's owner first
	reader  user
	deleter user
}

// target is where member from sends.
func (c *chgConv) target(from user) target {
	if c.group != 0 {
		return target{toGroup: c.group, conv: c.id}
	}
	peer := c.members[0]
	if peer.ID == from.ID {
		peer = c.members[1]
	}
	return target{toUser: peer.ID, conv: c.id}
}

// newMsg is the conversation's i-th seeded message: its members send in
// turn; the deleter may delete it unless it sent it; everyone else may
// react to it.
func (c *chgConv) newMsg(i int) *chgMsg {
	m := &chgMsg{conv: c, sender: c.members[i%len(c.members)]}
	if m.sender.ID != c.deleter.ID {
		m.deleter = c.deleter
	}
	for _, u := range c.members {
		if m.deleter.ID == 0 || u.ID != m.deleter.ID {
			m.reactors = append(m.reactors, u)
		}
	}
	return m
}

// chgMsg is a seeded text message the workers change.
type chgMsg struct {
	id       uint64
	conv     *chgConv
	text0    string
	sender   user
	deleter  user // ID 0: nobody deletes it
	reactors []user
}

type chgKind int

const (
	chgEdit chgKind = iota
	chgRecall
	chgReact
	chgUnreact
	chgDelete
)

func (k chgKind) String() string {
	return [...]string{"edit", "recall", "reaction", "reaction removal", "delete-for-me"}[k]
}

// entry is what the model expects of a change's row in messages.changes.
func (k chgKind) entry() messagepb.ChangeKind {
	return [...]messagepb.ChangeKind{
		messagepb.ChangeKind_CHANGE_KIND_EDITED, messagepb.ChangeKind_CHANGE_KIND_RECALLED,
		messagepb.ChangeKind_CHANGE_KIND_REACTION_ADDED, messagepb.ChangeKind_CHANGE_KIND_REACTION_REMOVED,
		messagepb.ChangeKind_CHANGE_KIND_DELETED_FOR_ME,
	}[k]
}

// chgAttempt is one change call and what it answered.
type chgAttempt struct {
	key        string // its idempotency key
	kind       chgKind
	actor      user
	msg        *chgMsg
	text       string // an edit's new text
	emoji      string // a reaction's
	start, end time.Time
	err        error
	edited     *messagepb.Message    // an edit's answer
	reactions  []*messagepb.Reaction // a reaction's answer
}

// retry is a copy of a's call, without its outcome.
func (a *chgAttempt) retry() *chgAttempt {
	return &chgAttempt{key: a.key, kind: a.kind, actor: a.actor, msg: a.msg, text: a.text, emoji: a.emoji}
}

// call makes a's call with its idempotency key.
func (a *chgAttempt) call(ctx context.Context, mc messagepb.MessageServiceClient) (*messagepb.Message, []*messagepb.Reaction, error) {
	ctx = a.actor.ctx(ctx, "idempotency-key", a.key)
	switch a.kind {
	case chgEdit:
		resp, err := mc.EditMessage(ctx, &messagepb.EditMessageRequest{MessageId: a.msg.id, Text: &messagepb.TextMessage{Content: a.text}})
		return resp.GetMessage(), nil, err
	case chgRecall:
		_, err := mc.RecallMessage(ctx, &messagepb.RecallMessageRequest{MessageId: a.msg.id})
		return nil, nil, err
	case chgReact, chgUnreact:
		resp, err := mc.ReactToMessage(ctx, &messagepb.ReactToMessageRequest{MessageId: a.msg.id, Emoji: a.emoji, Remove: a.kind == chgUnreact})
		return nil, resp.GetReactions(), err
	default:
		_, err := mc.DeleteMessageForMe(ctx, &messagepb.DeleteMessageForMeRequest{MessageId: a.msg.id})
		return nil, nil, err
	}
}

var chgEmoji = []string{"👍", "❤️", "😂", "🎉"}

type chgReaction struct {
	emoji string
	user  uint64
}

// entry is a change entry of a message: its kind, actor and emoji.
type chgEntry struct {
	kind  messagepb.ChangeKind
	actor uint64
	emoji string
}

// chgModel is what a message should be after a sequence of changes.
type chgModel struct {
	text       string
	edits      int
	recalled   bool
	recalledBy uint64
	reactions  map[chgReaction]bool
	hidden     map[uint64]bool
	entries    []chgEntry
}

func newChgModel(m *chgMsg) *chgModel {
	return &chgModel{text: m.text0, reactions: map[chgReaction]bool{}, hidden: map[uint64]bool{}}
}

// apply applies change a, which the worker chose to be a change (never a
// no-op) of the model's state.
func (s *chgModel) apply(a *chgAttempt) {
	e := chgEntry{kind: a.kind.entry(), actor: a.actor.ID}
	switch a.kind {
	case chgEdit:
		s.text = a.text
		s.edits++
	case chgRecall:
		s.recalled, s.recalledBy, s.text = true, a.actor.ID, ""
		clear(s.reactions)
	case chgReact:
		s.reactions[chgReaction{a.emoji, a.actor.ID}] = true
		e.emoji = a.emoji
	case chgUnreact:
		delete(s.reactions, chgReaction{a.emoji, a.actor.ID})
		e.emoji = a.emoji
	case chgDelete:
		s.hidden[a.actor.ID] = true
	}
	s.entries = append(s.entries, e)
}

func chgEmojiCounts(reactions map[chgReaction]bool) map[string]int {
	out := map[string]int{}
	for r := range reactions {
		out[r.emoji]++
	}
	return out
}

// chgWorker changes its own messages, one call at a time, choosing each
// change from its model of their state after its acknowledged calls.
type chgWorker struct {
	id       int
	rnd      *rand.Rand
	msgs     []*chgMsg
	state    map[*chgMsg]*chgModel
	attempts []*chgAttempt // read once run has returned
}

// run makes changes until halted or a call fails: after a failure the
// worker no longer knows its messages' state, and it is the worker's last
// attempt, so each message's changes stay in a known order.
func (w *chgWorker) run(ctx context.Context, mc messagepb.MessageServiceClient, halted *atomic.Bool) {
	for n := 0; !halted.Load() && ctx.Err() == nil; n++ {
		a := w.next(n)
		if a == nil {
			return // everything recalled
		}
		a.start = time.Now()
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		a.edited, a.reactions, a.err = a.call(cctx, mc)
		cancel()
		a.end = time.Now()
		w.attempts = append(w.attempts, a)
		if a.err != nil {
			return
		}
		w.state[a.msg].apply(a)
	}
}

// next chooses the worker's n-th change: to a message not recalled, one
// that changes it (a distinct text, a reaction added that is not held or
// taken back that is).
func (w *chgWorker) next(n int) *chgAttempt {
	var live []*chgMsg
	for _, m := range w.msgs {
		if !w.state[m].recalled {
			live = append(live, m)
		}
	}
	if len(live) == 0 {
		return nil
	}
	m := live[w.rnd.IntN(len(live))]
	a := &chgAttempt{key: fmt.Sprintf("chg-w%d-n%d", w.id, n), msg: m}
	// Every tenth change a delete-for-me, every twentieth a recall, so that
	// even a slow run has some; the rest edits and reactions.
	var deletable []*chgMsg
	for _, m := range live {
		if m.deleter.ID != 0 && !w.state[m].hidden[m.deleter.ID] {
			deletable = append(deletable, m)
		}
	}
	if n%10 == 3 && len(deletable) > 0 {
		a.msg = deletable[w.rnd.IntN(len(deletable))]
		a.kind, a.actor = chgDelete, a.msg.deleter
		return a
	}
	st := w.state[m]
	switch r := w.rnd.IntN(100); {
	case n%20 == 7:
		a.kind, a.actor = chgRecall, m.sender
		if m.conv.group != 0 && w.rnd.IntN(3) == 0 {
			a.actor = m.conv.members[0] // the group's owner
		}
	case r < 25 && len(st.reactions) > 0: // take one back
		held := slices.SortedFunc(maps.Keys(st.reactions), func(x, y chgReaction) int {
			return cmp.Or(cmp.Compare(x.user, y.user), strings.Compare(x.emoji, y.emoji))
		})
		h := held[w.rnd.IntN(len(held))]
		a.kind, a.emoji = chgUnreact, h.emoji
		for _, u := range m.reactors {
			if u.ID == h.user {
				a.actor = u
			}
		}
	case r < 45:
		a.actor, a.emoji = m.reactors[w.rnd.IntN(len(m.reactors))], chgEmoji[w.rnd.IntN(len(chgEmoji))]
		a.kind = chgReact
		if st.reactions[chgReaction{a.emoji, a.actor.ID}] {
			a.kind = chgUnreact
		}
	default:
		a.kind, a.actor, a.text = chgEdit, m.sender, "edited "+a.key
	}
	return a
}

// replayChgModel applies, for each worker in its order, the attempts
// committed says took effect.
func replayChgModel(workers []*chgWorker, msgs []*chgMsg, committed func(*chgAttempt) bool) map[*chgMsg]*chgModel {
	models := make(map[*chgMsg]*chgModel, len(msgs))
	for _, m := range msgs {
		models[m] = newChgModel(m)
	}
	for _, w := range workers {
		for _, a := range w.attempts {
			if committed(a) {
				models[a.msg].apply(a)
			}
		}
	}
	return models
}

type chgKeyOf struct {
	user uint64
	key  string
}

type chgRow struct {
	conv          string
	seq           uint64
	text          string
	editCount     int
	edited        bool
	recalled      bool
	recalledBy    uint64
	reactionKinds int
	bodyLen       int
}

type chgEntryRow struct {
	conv  string
	seq   uint64
	msg   uint64
	entry chgEntry
}

// chgSnapshot is the conversations' rows, read by SQL.
type chgSnapshot struct {
	keys      map[chgKeyOf]uint64 // the test's idempotency keys → message id
	msgs      map[uint64]*chgRow
	reactions map[uint64]map[chgReaction]bool // by message id
	counts    map[uint64]map[string]int       // reaction_counts, by message id
	hidden    map[uint64]map[uint64]bool      // message id → users
	changes   []chgEntryRow                   // by conversation, seq
	lastSeq   map[string]uint64
}

func takeChgSnapshot(ctx context.Context, t *testing.T, dbURL string, convIDs []string) *chgSnapshot {
	t.Helper()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	s := &chgSnapshot{keys: map[chgKeyOf]uint64{}, msgs: map[uint64]*chgRow{}, reactions: map[uint64]map[chgReaction]bool{},
		counts: map[uint64]map[string]int{}, hidden: map[uint64]map[uint64]bool{}, lastSeq: map[string]uint64{}}

	rows, err := conn.Query(ctx, `SELECT sender_id, key, message_id FROM messages.idempotency_keys WHERE key LIKE 'chg-%'`)
	require.NoError(t, err)
	for rows.Next() {
		var sender, id int64
		var key string
		require.NoError(t, rows.Scan(&sender, &key, &id))
		s.keys[chgKeyOf{uint64(sender), key}] = uint64(id)
	}
	require.NoError(t, rows.Err())

	rows, err = conn.Query(ctx, `
		SELECT id, conversation_id, seq, body, edit_count, edited_at IS NOT NULL, recalled_at IS NOT NULL, recalled_by, reaction_kinds
		FROM messages.messages WHERE conversation_id = ANY($1)`, convIDs)
	require.NoError(t, err)
	for rows.Next() {
		var id, seq, recalledBy int64
		var editCount int32
		var kinds int16
		var body []byte
		r := &chgRow{}
		require.NoError(t, rows.Scan(&id, &r.conv, &seq, &body, &editCount, &r.edited, &r.recalled, &recalledBy, &kinds))
		var text messagepb.TextMessage
		require.NoError(t, proto.Unmarshal(body, &text), "message %d's body", id)
		r.seq, r.text, r.editCount, r.recalledBy, r.reactionKinds, r.bodyLen = uint64(seq), text.GetContent(), int(editCount), uint64(recalledBy), int(kinds), len(body)
		s.msgs[uint64(id)] = r
	}
	require.NoError(t, rows.Err())

	rows, err = conn.Query(ctx, `
		SELECT r.message_id, r.emoji, r.user_id FROM messages.reactions r
		JOIN messages.messages m ON m.id = r.message_id WHERE m.conversation_id = ANY($1)`, convIDs)
	require.NoError(t, err)
	for rows.Next() {
		var id, userID int64
		var emoji string
		require.NoError(t, rows.Scan(&id, &emoji, &userID))
		if s.reactions[uint64(id)] == nil {
			s.reactions[uint64(id)] = map[chgReaction]bool{}
		}
		s.reactions[uint64(id)][chgReaction{emoji, uint64(userID)}] = true
	}
	require.NoError(t, rows.Err())

	rows, err = conn.Query(ctx, `
		SELECT c.message_id, c.emoji, c.count FROM messages.reaction_counts c
		JOIN messages.messages m ON m.id = c.message_id WHERE m.conversation_id = ANY($1)`, convIDs)
	require.NoError(t, err)
	for rows.Next() {
		var id, count int64
		var emoji string
		require.NoError(t, rows.Scan(&id, &emoji, &count))
		if s.counts[uint64(id)] == nil {
			s.counts[uint64(id)] = map[string]int{}
		}
		s.counts[uint64(id)][emoji] = int(count)
	}
	require.NoError(t, rows.Err())

	rows, err = conn.Query(ctx, `SELECT message_id, user_id FROM messages.hidden WHERE conversation_id = ANY($1)`, convIDs)
	require.NoError(t, err)
	for rows.Next() {
		var id, userID int64
		require.NoError(t, rows.Scan(&id, &userID))
		if s.hidden[uint64(id)] == nil {
			s.hidden[uint64(id)] = map[uint64]bool{}
		}
		s.hidden[uint64(id)][uint64(userID)] = true
	}
	require.NoError(t, rows.Err())

	rows, err = conn.Query(ctx, `
		SELECT conversation_id, seq, message_id, kind, actor_id, emoji FROM messages.changes
		WHERE conversation_id = ANY($1) ORDER BY conversation_id, seq`, convIDs)
	require.NoError(t, err)
	for rows.Next() {
		var seq, id, actor int64
		var kind int16
		var c chgEntryRow
		require.NoError(t, rows.Scan(&c.conv, &seq, &id, &kind, &actor, &c.entry.emoji))
		c.seq, c.msg, c.entry.kind, c.entry.actor = uint64(seq), uint64(id), messagepb.ChangeKind(kind), uint64(actor)
		s.changes = append(s.changes, c)
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

// checkChgModel compares the database with the model of the attempts
// committed says took effect. answers also checks each acknowledged
// call's answer against the model at its point.
func checkChgModel(s *chgSnapshot, workers []*chgWorker, msgs []*chgMsg, committed func(*chgAttempt) bool, answers bool) *chgProblems {
	var p chgProblems
	models := make(map[*chgMsg]*chgModel, len(msgs))
	for _, m := range msgs {
		models[m] = newChgModel(m)
	}
	for _, w := range workers {
		for _, a := range w.attempts {
			if !committed(a) {
				continue
			}
			st := models[a.msg]
			st.apply(a)
			if !answers || a.err != nil {
				continue
			}
			switch a.kind {
			case chgEdit:
				if got := a.edited.GetText().GetContent(); got != a.text || a.edited.GetEditCount() != uint32(st.edits) || a.edited.GetRecalled() {
					p.add("edit %s of message %d answered text %q, edit_count %d, recalled %v; want %q, %d, false",
						a.key, a.msg.id, got, a.edited.GetEditCount(), a.edited.GetRecalled(), a.text, st.edits)
				}
			case chgReact, chgUnreact:
				got := map[string]int{}
				mine := false
				for _, r := range a.reactions {
					got[r.GetEmoji()] = int(r.GetCount())
					if r.GetEmoji() == a.emoji {
						mine = r.GetMine()
					}
				}
				if want := chgEmojiCounts(st.reactions); !maps.Equal(got, want) || mine != (a.kind == chgReact) {
					p.add("%s %s %s of message %d answered %v (mine %v), want %v", a.kind, a.emoji, a.key, a.msg.id, got, mine, want)
				}
			}
		}
	}

	entries := map[uint64][]chgEntry{}
	for _, c := range s.changes {
		entries[c.msg] = append(entries[c.msg], c.entry)
	}
	want := 0
	for _, m := range msgs {
		st := models[m]
		want += len(st.entries)
		r, ok := s.msgs[m.id]
		if !ok {
			p.add("message %d is gone", m.id)
			continue
		}
		if r.recalled != st.recalled || r.recalledBy != st.recalledBy {
			p.add("message %d: recalled %v by %d, want %v by %d", m.id, r.recalled, r.recalledBy, st.recalled, st.recalledBy)
		}
		if st.recalled && r.bodyLen != 0 {
			p.add("message %d is recalled but its body (%d bytes) is not erased", m.id, r.bodyLen)
		}
		if r.text != st.text {
			p.add("message %d: text %q, want %q", m.id, r.text, st.text)
		}
		if r.editCount != st.edits || r.edited != (st.edits > 0) {
			p.add("message %d: edit_count %d (edited_at set: %v), want %d", m.id, r.editCount, r.edited, st.edits)
		}
		if got := s.reactions[m.id]; !maps.Equal(got, st.reactions) {
			p.add("message %d: reactions %v, want %v", m.id, got, st.reactions)
		}
		if r.reactionKinds != len(chgEmojiCounts(st.reactions)) {
			p.add("message %d: reaction_kinds %d, want %d", m.id, r.reactionKinds, len(chgEmojiCounts(st.reactions)))
		}
		if got, want := s.counts[m.id], chgEmojiCounts(st.reactions); len(got)+len(want) > 0 && !maps.Equal(got, want) {
			p.add("message %d: reaction_counts %v, want %v", m.id, got, want)
		}
		if got := s.hidden[m.id]; !maps.Equal(got, st.hidden) {
			p.add("message %d: hidden for %v, want %v", m.id, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(st.hidden)))
		}
		if got := entries[m.id]; !slices.Equal(got, st.entries) {
			p.add("message %d: change entries %s, want %s", m.id, formatChgEntries(got), formatChgEntries(st.entries))
		}
	}
	if len(s.changes) != want {
		p.add("%d change entries in messages.changes, want %d", len(s.changes), want)
	}
	perActor, wantPerActor := map[uint64]int{}, map[uint64]int{}
	for _, c := range s.changes {
		perActor[c.entry.actor]++
	}
	for _, st := range models {
		for _, e := range st.entries {
			wantPerActor[e.actor]++
		}
	}
	if !maps.Equal(perActor, wantPerActor) {
		p.add("change entries per actor %v, want %v", perActor, wantPerActor)
	}
	return &p
}

func formatChgEntries(es []chgEntry) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = fmt.Sprintf("%s/%d%s", strings.TrimPrefix(e.kind.String(), "CHANGE_KIND_"), e.actor, e.emoji)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// checkChgSends checks the sends made beside the changes: each
// acknowledged one (all of them, given the retries' ids) is stored under
// its key with its id and text, once.
func checkChgSends(s *chgSnapshot, sends []*attempt, retryIDs []uint64) *chgProblems {
	var p chgProblems
	byText := map[string]int{}
	for _, r := range s.msgs {
		byText[r.text]++
	}
	for i, a := range sends {
		id := a.id
		if retryIDs != nil {
			id = retryIDs[i]
		} else if !a.acked() {
			continue
		}
		got, ok := s.keys[chgKeyOf{a.from.ID, a.key}]
		switch {
		case !ok || got != id:
			p.add("send %s: key stored for message %d (%v), answered %d", a.key, got, ok, id)
		case s.msgs[id] == nil || s.msgs[id].text != a.key:
			p.add("send %s: message %d is not there with its text", a.key, id)
		case byText[a.key] != 1:
			p.add("send %s stored %d times", a.key, byText[a.key])
		}
	}
	return &p
}

// checkChgStreams checks each conversation's stream in the database (the
// seqs of messages and changes are exactly 1..last_seq) and as its reader
// and its deleter sync it from 0.
func checkChgStreams(ctx context.Context, mc messagepb.MessageServiceClient, s *chgSnapshot, convs []*chgConv) *chgProblems {
	var p chgProblems
	type stored struct {
		msg    uint64 // the message, or the change's message
		change *chgEntryRow
	}
	for _, c := range convs {
		bySeq := map[uint64]stored{}
		dup := func(seq uint64) {
			p.add("%s: seq %d is taken twice", c.id, seq)
		}
		for id, r := range s.msgs {
			if r.conv != c.id {
				continue
			}
			if _, ok := bySeq[r.seq]; ok {
				dup(r.seq)
			}
			bySeq[r.seq] = stored{msg: id}
		}
		for i := range s.changes {
			ch := &s.changes[i]
			if ch.conv != c.id {
				continue
			}
			if _, ok := bySeq[ch.seq]; ok {
				dup(ch.seq)
			}
			bySeq[ch.seq] = stored{msg: ch.msg, change: ch}
		}
		last := s.lastSeq[c.id]
		for seq := uint64(1); seq <= last; seq++ {
			if _, ok := bySeq[seq]; !ok {
				p.add("%s: seq %d of 1..%d is neither a message nor a change", c.id, seq, last)
			}
		}
		if len(bySeq) != int(last) {
			p.add("%s: %d entries, last_seq %d", c.id, len(bySeq), last)
		}

		for _, viewer := range []user{c.reader, c.deleter} {
			gotMsgs, gotChanges, err := walkChgSync(ctx, mc, viewer, c.id)
			if err != nil {
				p.add("%s: sync as user %d: %v", c.id, viewer.ID, err)
				continue
			}
			seen := 0
			for seq, e := range bySeq {
				hiddenForViewer := s.hidden[e.msg][viewer.ID]
				switch {
				case e.change == nil && hiddenForViewer:
					if m, ok := gotMsgs[seq]; ok {
						p.add("%s: user %d deleted message %d for itself, yet syncs it (seq %d)", c.id, viewer.ID, m.GetId(), seq)
					}
				case e.change == nil:
					m, ok := gotMsgs[seq]
					if !ok {
						p.add("%s: user %d's sync lacks message %d (seq %d)", c.id, viewer.ID, e.msg, seq)
						continue
					}
					seen++
					p.merge(checkChgSynced(s, c.id, viewer, e.msg, m))
				case e.change.entry.kind == messagepb.ChangeKind_CHANGE_KIND_DELETED_FOR_ME && e.change.entry.actor != viewer.ID,
					e.change.entry.kind != messagepb.ChangeKind_CHANGE_KIND_DELETED_FOR_ME && hiddenForViewer:
					if _, ok := gotChanges[seq]; ok {
						p.add("%s: user %d syncs change seq %d (%s by %d of message %d), which is not for it",
							c.id, viewer.ID, seq, e.change.entry.kind, e.change.entry.actor, e.msg)
					}
				default:
					ch, ok := gotChanges[seq]
					if !ok {
						p.add("%s: user %d's sync lacks change seq %d (%s by %d of message %d)", c.id, viewer.ID, seq, e.change.entry.kind, e.change.entry.actor, e.msg)
						continue
					}
					seen++
					got := chgEntry{kind: ch.GetKind(), actor: ch.GetActorId(), emoji: ch.GetEmoji()}
					if got != e.change.entry || ch.GetMessage().GetId() != e.msg {
						p.add("%s: user %d syncs seq %d as %v of message %d, stored %v of message %d",
							c.id, viewer.ID, seq, got, ch.GetMessage().GetId(), e.change.entry, e.msg)
					} else if got.kind != messagepb.ChangeKind_CHANGE_KIND_DELETED_FOR_ME {
						p.merge(checkChgSynced(s, c.id, viewer, e.msg, ch.GetMessage()))
					}
				}
			}
			if extra := len(gotMsgs) + len(gotChanges) - seen; extra > 0 {
				p.add("%s: user %d's sync holds %d entries beyond the stored ones it sees", c.id, viewer.ID, extra)
			}
		}
	}
	return &p
}

// checkChgSynced compares message id as viewer synced it with its row.
func checkChgSynced(s *chgSnapshot, conv string, viewer user, id uint64, m *messagepb.Message) *chgProblems {
	var p chgProblems
	r := s.msgs[id]
	if m.GetId() != id || m.GetSeq() != r.seq || m.GetConversationId() != conv {
		p.add("%s: user %d syncs message %d/seq %d/%s, stored message %d/seq %d", conv, viewer.ID, m.GetId(), m.GetSeq(), m.GetConversationId(), id, r.seq)
		return &p
	}
	if m.GetText().GetContent() != r.text || m.GetEditCount() != uint32(r.editCount) || m.GetRecalled() != r.recalled || m.GetRecalledBy() != r.recalledBy {
		p.add("%s: user %d syncs message %d as text %q, edit_count %d, recalled %v by %d; stored %q, %d, %v by %d",
			conv, viewer.ID, id, m.GetText().GetContent(), m.GetEditCount(), m.GetRecalled(), m.GetRecalledBy(), r.text, r.editCount, r.recalled, r.recalledBy)
	}
	got, gotMine := map[string]int{}, map[string]bool{}
	for _, rc := range m.GetReactions() {
		got[rc.GetEmoji()] = int(rc.GetCount())
		gotMine[rc.GetEmoji()] = rc.GetMine()
	}
	wantMine := map[string]bool{}
	for rc := range s.reactions[id] {
		wantMine[rc.emoji] = wantMine[rc.emoji] || rc.user == viewer.ID
	}
	if want := chgEmojiCounts(s.reactions[id]); !maps.Equal(got, want) || !maps.Equal(gotMine, wantMine) {
		p.add("%s: user %d syncs message %d with reactions %v (mine %v), stored %v (mine %v)", conv, viewer.ID, id, got, gotMine, want, wantMine)
	}
	return &p
}

// walkChgSync syncs conversation conv from 0 as viewer, page by page, each
// page's highest seq the next page's after_seq, and returns its messages
// and changes by seq. Seqs must ascend within each list and never repeat,
// and every page with more after it must move on.
func walkChgSync(ctx context.Context, mc messagepb.MessageServiceClient, viewer user, conv string) (map[uint64]*messagepb.Message, map[uint64]*messagepb.MessageChange, error) {
	msgs, changes := map[uint64]*messagepb.Message{}, map[uint64]*messagepb.MessageChange{}
	var after uint64
	for page := 0; ; page++ {
		if page > 1000 {
			return nil, nil, fmt.Errorf("still has_more after %d pages (at seq %d): a loop", page, after)
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := mc.SyncMessages(viewer.ctx(cctx), &messagepb.SyncMessagesRequest{ConversationId: conv, AfterSeq: after, Limit: 50})
		cancel()
		if err != nil {
			return nil, nil, fmt.Errorf("after %d: %w", after, err)
		}
		top := after
		prev := after
		for _, m := range resp.GetMessage() {
			seq := m.GetSeq()
			_, isChange := changes[seq]
			if _, isMsg := msgs[seq]; seq <= prev || isMsg || isChange {
				return nil, nil, fmt.Errorf("page after %d: message seq %d comes again or out of order (previous %d)", after, seq, prev)
			}
			msgs[seq], prev, top = m, seq, max(top, seq)
		}
		prev = after
		for _, c := range resp.GetChanges() {
			seq := c.GetSeq()
			_, isChange := changes[seq]
			if _, isMsg := msgs[seq]; seq <= prev || isMsg || isChange {
				return nil, nil, fmt.Errorf("page after %d: change seq %d comes again or out of order (previous %d)", after, seq, prev)
			}
			changes[seq], prev, top = c, seq, max(top, seq)
		}
		if !resp.GetHasMore() {
			return msgs, changes, nil
		}
		if top == after {
			return nil, nil, fmt.Errorf("page after %d: has_more, but no entry to move on", after)
		}
		after = top
	}
}

// chgProblems collects what checks found, safe for concurrent use.
type chgProblems struct {
	mu   sync.Mutex
	list []string
}

func (p *chgProblems) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *chgProblems) merge(q *chgProblems) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, q.list...)
}

// report fails t with the first chgProblems found, and how many there were.
func (p *chgProblems) report(t *testing.T, when string) {
	t.Helper()
	const shown = 40
	for i, msg := range p.list {
		if i == shown {
			t.Errorf("%s: … and %d more", when, len(p.list)-shown)
			break
		}
		t.Errorf("%s: %s", when, msg)
	}
}
