package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/message"
)

// chgHoldGaps mirrors holdGaps of modules/gateway/internal/hub/order.go:
// how long an endpoint holds a frame whose predecessor has not arrived.
const chgHoldGaps = 250 * time.Millisecond

// chgProbeRounds bounds the rounds of the skip latency probes.
const chgProbeRounds = 8

const chgDFM = messagepb.ChangeKind_CHANGE_KIND_DELETED_FOR_ME

// chgFrame is a "message" or "change" frame as a device received it.
type chgFrame struct {
	at     time.Time
	conv   string
	seq    uint64
	msg    *messagepb.Message       // the pushed message, or the change's message
	change *messagepb.MessageChange // nil for a "message" frame
}

// chgDevice records every message and change frame one stream receives,
// with when it was read.
type chgDevice struct {
	name   string
	user   clusterUser
	mu     sync.Mutex
	frames []chgFrame
	bad    []string // frames that did not decode
}

func chgCollect(t *testing.T, name string, user clusterUser, s *parleytest.Stream) *chgDevice {
	t.Helper()
	d := &chgDevice{name: name, user: user}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case f := <-s.Frames:
				d.add(f, time.Now())
			case <-s.Done:
				return
			case <-stop:
				return
			}
		}
	}()
	// Registered after the stream's cleanup, so it runs before it.
	t.Cleanup(func() {
		close(stop)
		<-done
	})
	return d
}

func (d *chgDevice) add(f *gatewaypb.SendMessageResponse, at time.Time) {
	var fr chgFrame
	switch f.GetCmd() {
	case message.CmdMessage:
		m := &messagepb.Message{}
		if err := proto.Unmarshal(f.GetData(), m); err != nil {
			d.mu.Lock()
			d.bad = append(d.bad, fmt.Sprintf("message frame: %v", err))
			d.mu.Unlock()
			return
		}
		fr = chgFrame{at: at, conv: m.GetConversationId(), seq: m.GetSeq(), msg: m}
	case message.CmdChange:
		c := &messagepb.MessageChange{}
		if err := proto.Unmarshal(f.GetData(), c); err != nil {
			d.mu.Lock()
			d.bad = append(d.bad, fmt.Sprintf("change frame: %v", err))
			d.mu.Unlock()
			return
		}
		fr = chgFrame{at: at, conv: c.GetMessage().GetConversationId(), seq: c.GetSeq(), msg: c.GetMessage(), change: c}
	default:
		return
	}
	d.mu.Lock()
	d.frames = append(d.frames, fr)
	d.mu.Unlock()
}

// of is a copy of the frames of conv received so far, in arrival order.
func (d *chgDevice) of(conv string) []chgFrame {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []chgFrame
	for _, f := range d.frames {
		if f.conv == conv {
			out = append(out, f)
		}
	}
	return out
}

// messageAt is when the "message" frame of message id arrived.
func (d *chgDevice) messageAt(id uint64) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, f := range d.frames {
		if f.change == nil && f.msg.GetId() == id {
			return f.at, true
		}
	}
	return time.Time{}, false
}

// chgWorld is the users, group and named messages of the test; its
// operations return errors, so workers may run them on any goroutine.
type chgWorld struct {
	group uint64
	mu    sync.Mutex
	ids   map[string]uint64 // message name (its first text) -> id
	names map[uint64]string // user id -> name
}

func (w *chgWorld) id(name string) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	id, ok := w.ids[name]
	if !ok {
		return 0, fmt.Errorf("no message %q yet", name)
	}
	return id, nil
}

func (w *chgWorld) mustID(t *testing.T, name string) uint64 {
	t.Helper()
	id, err := w.id(name)
	require.NoError(t, err)
	return id
}

func (w *chgWorld) set(name string, id uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ids[name] = id
}

type chgOp func() error

func chgCtx(u clusterUser) (context.Context, context.CancelFunc) {
	return context.WithTimeout(u.ctx(), clusterWait)
}

func (w *chgWorld) sendGroup(n *clusterNode, u clusterUser, name string) chgOp {
	return func() error {
		ctx, cancel := chgCtx(u)
		defer cancel()
		resp, err := messagepb.NewMessageServiceClient(n.conn).SendGroupTextMessage(ctx, &messagepb.SendGroupTextMessageRequest{
			ToGroupId: w.group, Text: &messagepb.TextMessage{Content: name}})
		if err != nil {
			return fmt.Errorf("%s sends %q to the group through %s: %w", w.names[u.id], name, n.name, err)
		}
		w.set(name, resp.GetId())
		return nil
	}
}

func (w *chgWorld) sendPair(n *clusterNode, from, to clusterUser, name string) chgOp {
	return func() error {
		ctx, cancel := chgCtx(from)
		defer cancel()
		resp, err := messagepb.NewMessageServiceClient(n.conn).SendUserTextMessage(ctx, &messagepb.SendUserTextMessageRequest{
			ToUserId: to.id, Text: &messagepb.TextMessage{Content: name}})
		if err != nil {
			return fmt.Errorf("%s sends %q to %s through %s: %w", w.names[from.id], name, w.names[to.id], n.name, err)
		}
		w.set(name, resp.GetId())
		return nil
	}
}

func (w *chgWorld) edit(n *clusterNode, u clusterUser, name, text string) chgOp {
	return func() error {
		id, err := w.id(name)
		if err != nil {
			return err
		}
		ctx, cancel := chgCtx(u)
		defer cancel()
		_, err = messagepb.NewMessageServiceClient(n.conn).EditMessage(ctx, &messagepb.EditMessageRequest{
			MessageId: id, Text: &messagepb.TextMessage{Content: text}})
		if err != nil {
			return fmt.Errorf("%s edits %q through %s: %w", w.names[u.id], name, n.name, err)
		}
		return nil
	}
}

func (w *chgWorld) react(n *clusterNode, u clusterUser, name, emoji string, remove bool) chgOp {
	return func() error {
		id, err := w.id(name)
		if err != nil {
			return err
		}
		ctx, cancel := chgCtx(u)
		defer cancel()
		_, err = messagepb.NewMessageServiceClient(n.conn).ReactToMessage(ctx, &messagepb.ReactToMessageRequest{
			MessageId: id, Emoji: emoji, Remove: remove})
		if err != nil {
			return fmt.Errorf("%s reacts %s (remove %t) to %q through %s: %w", w.names[u.id], emoji, remove, name, n.name, err)
		}
		return nil
	}
}

func (w *chgWorld) recall(n *clusterNode, u clusterUser, name string) chgOp {
	return func() error {
		id, err := w.id(name)
		if err != nil {
			return err
		}
		ctx, cancel := chgCtx(u)
		defer cancel()
		if _, err := messagepb.NewMessageServiceClient(n.conn).RecallMessage(ctx, &messagepb.RecallMessageRequest{MessageId: id}); err != nil {
			return fmt.Errorf("%s recalls %q through %s: %w", w.names[u.id], name, n.name, err)
		}
		return nil
	}
}

func (w *chgWorld) deleteForMe(n *clusterNode, u clusterUser, name string) chgOp {
	return func() error {
		id, err := w.id(name)
		if err != nil {
			return err
		}
		ctx, cancel := chgCtx(u)
		defer cancel()
		if _, err := messagepb.NewMessageServiceClient(n.conn).DeleteMessageForMe(ctx, &messagepb.DeleteMessageForMeRequest{MessageId: id}); err != nil {
			return fmt.Errorf("%s deletes %q for itself through %s: %w", w.names[u.id], name, n.name, err)
		}
		return nil
	}
}

// chgRun runs each worker's steps in order, the workers concurrently.
func chgRun(workers ...[]chgOp) error {
	var wg sync.WaitGroup
	errs := make([]error, len(workers))
	for i, steps := range workers {
		wg.Go(func() {
			for _, step := range steps {
				if err := step(); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// chgSynced is a user's whole SyncMessages of a conversation from after_seq 0.
type chgSynced struct {
	msgs    []*messagepb.Message
	changes []*messagepb.MessageChange
}

func chgSync(t *testing.T, n *clusterNode, u clusterUser, conv string) *chgSynced {
	t.Helper()
	out := &chgSynced{}
	after := uint64(0)
	for page := 0; ; page++ {
		require.Less(t, page, 100, "SyncMessages of %s does not end", conv)
		ctx, cancel := chgCtx(u)
		resp, err := messagepb.NewMessageServiceClient(n.conn).SyncMessages(ctx, &messagepb.SyncMessagesRequest{
			ConversationId: conv, AfterSeq: after, Limit: 200})
		cancel()
		require.NoError(t, err)
		cursor := after
		for _, m := range resp.GetMessage() {
			out.msgs = append(out.msgs, m)
			cursor = max(cursor, m.GetSeq())
		}
		for _, c := range resp.GetChanges() {
			out.changes = append(out.changes, c)
			cursor = max(cursor, c.GetSeq())
		}
		if !resp.GetHasMore() {
			return out
		}
		require.Greater(t, cursor, after, "a page with has_more moves the cursor")
		after = cursor
	}
}

// chgEntry is one entry of a conversation's stream: a message or a change.
type chgEntry struct {
	change bool
	msgID  uint64
	msgSeq uint64 // the (changed) message's seq
	kind   messagepb.ChangeKind
	actor  uint64
	emoji  string
}

// chgModel is a conversation's stream put together from every
// participant's sync: every entry is seen by at least one of them.
type chgModel struct {
	conv    string
	last    uint64
	entries map[uint64]chgEntry
	synced  map[uint64]*chgSynced // by user id
	first   map[uint64]uint64     // the first seq each user's devices get
}

func chgBuild(t *testing.T, conv string, synced map[uint64]*chgSynced, first map[uint64]uint64) *chgModel {
	t.Helper()
	m := &chgModel{conv: conv, entries: map[uint64]chgEntry{}, synced: synced, first: first}
	put := func(seq uint64, e chgEntry) {
		if had, ok := m.entries[seq]; ok {
			require.Equal(t, had, e, "%s seq %d differs between users' syncs", conv, seq)
		}
		m.entries[seq] = e
		m.last = max(m.last, seq)
	}
	for _, s := range synced {
		for _, msg := range s.msgs {
			require.Equal(t, conv, msg.GetConversationId())
			put(msg.GetSeq(), chgEntry{msgID: msg.GetId(), msgSeq: msg.GetSeq()})
		}
		for _, c := range s.changes {
			require.Equal(t, conv, c.GetMessage().GetConversationId())
			put(c.GetSeq(), chgEntry{change: true, msgID: c.GetMessage().GetId(), msgSeq: c.GetMessage().GetSeq(),
				kind: c.GetKind(), actor: c.GetActorId(), emoji: c.GetEmoji()})
		}
	}
	for seq := uint64(1); seq <= m.last; seq++ {
		e, ok := m.entries[seq]
		require.True(t, ok, "%s: seq %d of 1..%d is in no participant's sync", conv, seq, m.last)
		if e.change {
			target, ok := m.entries[e.msgSeq]
			require.True(t, ok && !target.change && target.msgID == e.msgID,
				"%s: change %d is to message %d at seq %d, which is not that message", conv, seq, e.msgID, e.msgSeq)
			require.Less(t, e.msgSeq, seq, "%s: change %d before its message", conv, seq)
		}
	}
	return m
}

// expected is the seqs user's devices get a frame for, in order: every
// entry from its first seq, but not another user's delete-for-me, a change
// to a message from before its first seq, or a change to a message it
// deleted for itself made after it did.
func (m *chgModel) expected(user uint64) []uint64 {
	first := m.first[user]
	hidden := map[uint64]uint64{} // message id -> seq of user's delete-for-me
	for seq, e := range m.entries {
		if e.change && e.kind == chgDFM && e.actor == user {
			hidden[e.msgID] = seq
		}
	}
	var out []uint64
	for seq := first; seq <= m.last; seq++ {
		e := m.entries[seq]
		if e.change {
			if e.kind == chgDFM && e.actor != user {
				continue
			}
			if e.msgSeq < first {
				continue
			}
			if h, ok := hidden[e.msgID]; ok && seq > h {
				continue
			}
		}
		out = append(out, seq)
	}
	return out
}

func chgSeqs(frames []chgFrame) []uint64 {
	out := make([]uint64, len(frames))
	for i, f := range frames {
		out[i] = f.seq
	}
	return out
}

// chgMissing is the seqs of want not in got.
func chgMissing(want, got []uint64) []uint64 {
	have := map[uint64]bool{}
	for _, s := range got {
		have[s] = true
	}
	var out []uint64
	for _, s := range want {
		if !have[s] {
			out = append(out, s)
		}
	}
	return out
}

// chgConv is a conversation with its participants' devices.
type chgConv struct {
	id      string
	users   []clusterUser
	devices []*chgDevice
}

// chgSettle syncs every participant of every conversation (through node),
// builds the conversation's stream and waits until every device has
// received a frame for each seq it must get.
func chgSettle(t *testing.T, node *clusterNode, convs []*chgConv, first map[string]map[uint64]uint64) map[string]*chgModel {
	t.Helper()
	models := map[string]*chgModel{}
	for _, c := range convs {
		synced := map[uint64]*chgSynced{}
		for _, u := range c.users {
			synced[u.id] = chgSync(t, node, u, c.id)
		}
		models[c.id] = chgBuild(t, c.id, synced, first[c.id])
	}
	deadline := time.Now().Add(3 * clusterWait)
	for _, c := range convs {
		model := models[c.id]
		for _, d := range c.devices {
			want := model.expected(d.user.id)
			for {
				missing := chgMissing(want, chgSeqs(d.of(c.id)))
				if len(missing) == 0 {
					break
				}
				if time.Now().After(deadline) {
					require.FailNow(t, "frames missing", "%s has no frame for seqs %v of %s (got %v)",
						d.name, missing, c.id, chgSeqs(d.of(c.id)))
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	return models
}

// chgWaitMessage waits until every device has the message frame of id.
func chgWaitMessage(t *testing.T, id uint64, devices ...*chgDevice) {
	t.Helper()
	for _, d := range devices {
		require.Eventually(t, func() bool {
			_, ok := d.messageAt(id)
			return ok
		}, clusterWait, 2*time.Millisecond, "%s has no frame for message %d", d.name, id)
	}
}

// chgState is what a device shows of a conversation after applying its
// frames: messages by id, and the emoji it reacted with per message (the
// mine flags it keeps: a pushed change carries its actor's).
type chgState struct {
	msgs map[uint64]*messagepb.Message
	mine map[uint64]map[string]bool
}

func chgApply(self uint64, frames []chgFrame) chgState {
	s := chgState{msgs: map[uint64]*messagepb.Message{}, mine: map[uint64]map[string]bool{}}
	for _, f := range frames {
		id := f.msg.GetId()
		if f.change == nil {
			s.msgs[id] = f.msg
			continue
		}
		switch f.change.GetKind() {
		case chgDFM:
			delete(s.msgs, id)
			delete(s.mine, id)
			continue
		case messagepb.ChangeKind_CHANGE_KIND_RECALLED:
			delete(s.mine, id)
		case messagepb.ChangeKind_CHANGE_KIND_REACTION_ADDED:
			if f.change.GetActorId() == self {
				if s.mine[id] == nil {
					s.mine[id] = map[string]bool{}
				}
				s.mine[id][f.change.GetEmoji()] = true
			}
		case messagepb.ChangeKind_CHANGE_KIND_REACTION_REMOVED:
			if f.change.GetActorId() == self {
				delete(s.mine[id], f.change.GetEmoji())
			}
		}
		s.msgs[id] = f.msg
	}
	return s
}

type chgReaction struct {
	Emoji  string
	Count  uint64
	Recent []uint64
}

func chgReactions(m *messagepb.Message) []chgReaction {
	var out []chgReaction
	for _, r := range m.GetReactions() {
		out = append(out, chgReaction{Emoji: r.GetEmoji(), Count: r.GetCount(), Recent: r.GetRecentUserId()})
	}
	return out
}

func chgMineOf(m *messagepb.Message) []string {
	var out []string
	for _, r := range m.GetReactions() {
		if r.GetMine() {
			out = append(out, r.GetEmoji())
		}
	}
	slices.Sort(out)
	return out
}

// chgCheckDevice checks device d's frames of a conversation against its
// stream and its user's sync: in strictly increasing seq order, exactly
// the seqs the user gets, each the entry of its seq, and, applied, the
// state SyncMessages returns.
func chgCheckDevice(t *testing.T, w *chgWorld, model *chgModel, d *chgDevice) {
	t.Helper()
	frames := d.of(model.conv)
	got := chgSeqs(frames)
	for i := 1; i < len(got); i++ {
		assert.Greater(t, got[i], got[i-1], "%s: %s frames out of seq order: %v", d.name, model.conv, got)
	}
	// Other users' deletes-for-me never arrive; the user's own do, on every device.
	for seq, e := range model.entries {
		if !e.change || e.kind != chgDFM {
			continue
		}
		if e.actor == d.user.id {
			assert.Contains(t, got, seq, "%s: its own delete-for-me (seq %d) did not arrive", d.name, seq)
		} else {
			assert.NotContains(t, got, seq, "%s: %s's delete-for-me (seq %d) arrived", d.name, w.names[e.actor], seq)
		}
	}
	assert.Equal(t, model.expected(d.user.id), got, "%s: the seqs of %s it got", d.name, model.conv)
	for _, f := range frames {
		e, ok := model.entries[f.seq]
		if !assert.True(t, ok, "%s: a frame for seq %d beyond the stream", d.name, f.seq) {
			continue
		}
		assert.Equal(t, e.change, f.change != nil, "%s: seq %d: a change frame for a message or back", d.name, f.seq)
		assert.Equal(t, e.msgID, f.msg.GetId(), "%s: seq %d: the frame's message", d.name, f.seq)
		assert.Equal(t, e.msgSeq, f.msg.GetSeq(), "%s: seq %d: the frame's message's seq", d.name, f.seq)
		if f.change == nil {
			continue
		}
		assert.Equal(t, e.kind, f.change.GetKind(), "%s: seq %d: kind", d.name, f.seq)
		assert.Equal(t, e.actor, f.change.GetActorId(), "%s: seq %d: actor", d.name, f.seq)
		assert.Equal(t, e.emoji, f.change.GetEmoji(), "%s: seq %d: emoji", d.name, f.seq)
		// The pushed message's mine flags are the actor's.
		if k := f.change.GetKind(); k == messagepb.ChangeKind_CHANGE_KIND_REACTION_ADDED || k == messagepb.ChangeKind_CHANGE_KIND_REACTION_REMOVED {
			held := slices.Contains(chgMineOf(f.msg), f.change.GetEmoji())
			assert.Equal(t, k == messagepb.ChangeKind_CHANGE_KIND_REACTION_ADDED, held,
				"%s: seq %d: the pushed reactions' mine is not the actor's", d.name, f.seq)
		}
	}

	// What its devices show from its first seq on: what came before (the
	// group's events of joins made before they came online) was never pushed.
	state := chgApply(d.user.id, frames)
	synced := model.synced[d.user.id].msgs
	want := map[uint64]*messagepb.Message{}
	for _, m := range synced {
		if m.GetSeq() >= model.first[d.user.id] {
			want[m.GetId()] = m
		}
	}
	wantIDs, gotIDs := slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(state.msgs))
	assert.Equal(t, wantIDs, gotIDs, "%s: the messages of %s it shows", d.name, model.conv)
	for id, wm := range want {
		gm, ok := state.msgs[id]
		if !ok {
			continue
		}
		assert.Equal(t, wm.GetText().GetContent(), gm.GetText().GetContent(), "%s: message %d's text", d.name, id)
		assert.Equal(t, wm.GetEditCount(), gm.GetEditCount(), "%s: message %d's edit count", d.name, id)
		assert.Equal(t, wm.GetRecalled(), gm.GetRecalled(), "%s: message %d recalled", d.name, id)
		assert.Equal(t, chgReactions(wm), chgReactions(gm), "%s: message %d's reactions", d.name, id)
		mine := slices.Sorted(maps.Keys(state.mine[id]))
		if len(mine) == 0 {
			mine = nil
		}
		assert.Equal(t, chgMineOf(wm), mine, "%s: message %d's reactions of its own", d.name, id)
	}
}

// Edits, reactions, a recall and deletes-for-me made through two nodes at
// once, interleaved with sends, reach every device on three nodes as
// frames in strictly increasing seq order: each seq of the conversation's
// stream once, but not another user's delete-for-me (nor a change to a
// message from before a member joined, nor to one the user deleted for
// itself after it did); a user's own delete-for-me reaches its devices on
// every node; and each device, applying its frames, shows what
// SyncMessages returns. The skip that stands for an entry a device does not
// get keeps the next frame from being held for holdGaps (see the probes).
func TestClusterChangesReachEveryNodeInOrder(t *testing.T) {
	t.Parallel()
	nats := clusterStartNATS(t, 0)
	nodes := clusterStart(t, nats.url(), "node-a", "node-b", "node-c")
	a, b, c := nodes[0], nodes[1], nodes[2]
	alice, bob, carol := clusterSignUp(t, a), clusterSignUp(t, b), clusterSignUp(t, c)
	dave, erin := clusterSignUp(t, b), clusterSignUp(t, a)
	w := &chgWorld{ids: map[string]uint64{}, names: map[uint64]string{
		alice.id: "alice", bob.id: "bob", carol.id: "carol", dave.id: "dave", erin.id: "erin"}}

	groups := grouppb.NewGroupServiceClient(a.conn)
	g, err := groups.CreateGroup(alice.ctx(), &grouppb.CreateGroupRequest{Name: "changes"})
	require.NoError(t, err)
	w.group = g.GetGroup().GetId()
	joiners := []clusterUser{bob, carol, dave}
	for _, u := range joiners {
		_, err := groups.JoinGroup(alice.ctx(), &grouppb.JoinGroupRequest{Id: w.group, UserId: u.id})
		require.NoError(t, err)
	}
	groupConv, pairConv := fmt.Sprintf("g:%d", w.group), pairConversation(alice.id, bob.id)
	// Each add is a GROUP_EVENT message of the group, in order from seq 1,
	// stored before JoinGroup answered: before the devices below come
	// online, so they are in the stream but no device gets them.
	history := chgSync(t, a, alice, groupConv).msgs
	requireInOrder(t, history, groupConv, 1)
	requireJoinedEvents(t, history, alice.id, joiners...)
	hello := uint64(len(joiners)) + 1

	aliceOnA := chgCollect(t, "alice on node-a", alice, clusterDeviceOf(t, a, alice, "alice-phone"))
	bobOnB := chgCollect(t, "bob on node-b", bob, clusterDeviceOf(t, b, bob, "bob-phone"))
	bobOnC := chgCollect(t, "bob on node-c", bob, clusterDeviceOf(t, c, bob, "bob-laptop"))
	carolOnC := chgCollect(t, "carol on node-c", carol, clusterDeviceOf(t, c, carol, "carol-phone"))
	daveOnB := chgCollect(t, "dave on node-b", dave, clusterDeviceOf(t, b, dave, "dave-phone"))
	group := &chgConv{id: groupConv, users: []clusterUser{alice, bob, carol, dave},
		devices: []*chgDevice{aliceOnA, bobOnB, bobOnC, carolOnC, daveOnB}}
	pair := &chgConv{id: pairConv, users: []clusterUser{alice, bob}, devices: []*chgDevice{aliceOnA, bobOnB, bobOnC}}
	first := map[string]map[uint64]uint64{
		groupConv: {alice.id: hello, bob.id: hello, carol.id: hello, dave.id: hello},
		pairConv:  {alice.id: 1, bob.id: 1},
	}

	// The first entry a device gets sets where its order starts: sent alone.
	require.NoError(t, w.sendGroup(a, alice, "hello")())
	chgWaitMessage(t, w.mustID(t, "hello"), group.devices...)
	require.NoError(t, w.sendPair(b, bob, alice, "hi")())
	chgWaitMessage(t, w.mustID(t, "hi"), pair.devices...)

	// Messages through a and b at once.
	var sendsA, sendsB []chgOp
	for i := range 8 {
		sendsA = append(sendsA, w.sendGroup(a, alice, fmt.Sprintf("a%d", i)), w.sendPair(a, alice, bob, fmt.Sprintf("pa%d", i)))
		sendsB = append(sendsB, w.sendGroup(b, bob, fmt.Sprintf("b%d", i)), w.sendPair(b, bob, alice, fmt.Sprintf("pb%d", i)))
		if i < 3 {
			sendsA = append(sendsA, w.sendGroup(a, carol, fmt.Sprintf("c%d", i)))
			sendsB = append(sendsB, w.sendGroup(b, dave, fmt.Sprintf("d%d", i)))
		}
	}
	require.NoError(t, chgRun(sendsA, sendsB))

	// Erin joins late: the changes to the messages from before are not hers.
	// Her add is pushed, as a group event, to the members' devices (erin's
	// opens after it); her first entry, too, comes alone.
	_, err = grouppb.NewGroupServiceClient(c.conn).JoinGroup(alice.ctx(), &grouppb.JoinGroupRequest{Id: w.group, UserId: erin.id})
	require.NoError(t, err)
	erinOnA := chgCollect(t, "erin on node-a", erin, clusterDeviceOf(t, a, erin, "erin-phone"))
	group.users = append(group.users, erin)
	group.devices = append(group.devices, erinOnA)
	require.NoError(t, w.sendGroup(c, alice, "welcome")())
	chgWaitMessage(t, w.mustID(t, "welcome"), group.devices...)
	synced := chgSync(t, c, erin, groupConv)
	require.GreaterOrEqual(t, len(synced.msgs), 2)
	requireInOrder(t, synced.msgs[:2], groupConv, synced.msgs[0].GetSeq())
	requireJoinedEvents(t, synced.msgs[:1], alice.id, erin)
	require.Equal(t, w.mustID(t, "welcome"), synced.msgs[1].GetId(), "erin's history starts at her add, then the welcome")
	first[groupConv][erin.id] = synced.msgs[1].GetSeq()

	// Changes and messages through a and b at once. Changes that could race
	// each other's outcome (a recall and a reaction, a delete-for-me and
	// another change of the same message) are on one worker, in order; a2
	// and pa1 get reactions of several users on several nodes from both.
	changesA := []chgOp{
		w.edit(a, alice, "a0", "a0 edited once"),
		w.sendGroup(a, alice, "a-late0"),
		w.react(a, bob, "a2", "👍", false),
		w.edit(a, alice, "pa0", "pa0 edited"),
		w.react(a, carol, "a2", "👍", false),
		w.recall(a, alice, "a3"),
		w.sendPair(a, alice, bob, "pa-late0"),
		w.react(a, carol, "a2", "❤️", false),
		w.deleteForMe(a, carol, "b4"),
		w.edit(a, alice, "a0", "a0 edited twice"),
		w.react(a, carol, "b0", "❤️", false),
		w.react(a, bob, "pa1", "😂", false),
		w.sendGroup(a, erin, "e0"),
		w.react(a, alice, "pa1", "😂", false),
		w.react(a, carol, "b0", "❤️", true),
		w.deleteForMe(a, alice, "pb2"),
		w.edit(a, erin, "e0", "e0 edited"),
		w.recall(a, alice, "pa3"),
		w.react(a, carol, "e0", "👍", false),
		w.sendGroup(a, alice, "a-late1"),
		w.sendPair(a, alice, bob, "pa-late1"),
	}
	changesB := []chgOp{
		w.edit(b, bob, "b0", "b0 edited"),
		w.react(b, dave, "a2", "👍", false),
		w.sendGroup(b, bob, "b-late0"),
		w.deleteForMe(b, dave, "b3"),
		w.react(b, alice, "a2", "👍", false),
		w.edit(b, bob, "b3", "b3 edited after dave deleted it for himself"),
		w.deleteForMe(b, bob, "a5"),
		w.react(b, dave, "a2", "🎉", false),
		w.recall(b, bob, "b1"),
		w.sendPair(b, bob, alice, "pb-late0"),
		w.edit(b, bob, "pb0", "pb0 edited"),
		w.react(b, alice, "b2", "😀", false),
		w.react(b, bob, "b2", "😀", false),
		w.react(b, erin, "welcome", "😀", false),
		w.react(b, alice, "pb1", "👍", false),
		w.deleteForMe(b, bob, "pa4"),
		w.react(b, bob, "pa1", "👍", false),
		w.sendGroup(b, dave, "d-late0"),
		w.react(b, dave, "c1", "🎉", false),
		w.sendGroup(b, bob, "b-late1"),
	}
	require.NoError(t, chgRun(changesA, changesB))
	convs := []*chgConv{group, pair}
	chgSettle(t, c, convs, first)

	// Does a skip let the next frame through at once? Timing, made robust:
	// a frame whose predecessor is missing is held holdGaps from its arrival
	// at the node, which comes after its send started, so without the skip
	// every sample is at least holdGaps (sound: never passes without it,
	// since everything before was delivered and nothing is held). A slow
	// machine only makes samples slower, so rounds repeat until each device
	// has one sample under holdGaps, and fail only if none has in
	// chgProbeRounds rounds.
	type probe struct {
		device *chgDevice
		what   string
	}
	best := map[probe]time.Duration{}
	sample := func(p probe, d time.Duration) {
		if old, ok := best[p]; !ok || d < old {
			best[p] = d
		}
	}
	allFast := func() bool {
		for _, d := range best {
			if d >= chgHoldGaps {
				return false
			}
		}
		return len(best) > 0
	}
	arrival := func(d *chgDevice, id uint64, since time.Time) time.Duration {
		at, ok := d.messageAt(id)
		require.True(t, ok)
		return at.Sub(since)
	}
	for round := 0; round < chgProbeRounds && !allFast(); round++ {
		// Carol's delete-for-me: a skip for every other member.
		x, y := fmt.Sprintf("probe x%d", round), fmt.Sprintf("probe y%d", round)
		require.NoError(t, w.sendGroup(a, alice, x)())
		chgWaitMessage(t, w.mustID(t, x), group.devices...)
		require.NoError(t, w.deleteForMe(a, carol, x)())
		start := time.Now()
		require.NoError(t, w.sendGroup(a, alice, y)())
		chgWaitMessage(t, w.mustID(t, y), group.devices...)
		for _, d := range []*chgDevice{aliceOnA, bobOnB, bobOnC, daveOnB, erinOnA} {
			sample(probe{d, "after carol's delete-for-me"}, arrival(d, w.mustID(t, y), start))
		}
		// A reaction to a message from before erin joined: a skip for her.
		z := fmt.Sprintf("probe z%d", round)
		require.NoError(t, w.react(a, dave, "d0", "👀", round%2 == 1)())
		start = time.Now()
		require.NoError(t, w.sendGroup(a, alice, z)())
		chgWaitMessage(t, w.mustID(t, z), group.devices...)
		sample(probe{erinOnA, "after a change to a message from before she joined"}, arrival(erinOnA, w.mustID(t, z), start))
		// Alice's delete-for-me in the pair: a skip for bob's devices.
		px, py := fmt.Sprintf("probe px%d", round), fmt.Sprintf("probe py%d", round)
		require.NoError(t, w.sendPair(a, bob, alice, px)())
		chgWaitMessage(t, w.mustID(t, px), pair.devices...)
		require.NoError(t, w.deleteForMe(a, alice, px)())
		start = time.Now()
		require.NoError(t, w.sendPair(a, bob, alice, py)())
		chgWaitMessage(t, w.mustID(t, py), pair.devices...)
		for _, d := range []*chgDevice{bobOnB, bobOnC} {
			sample(probe{d, "after alice's delete-for-me"}, arrival(d, w.mustID(t, py), start))
		}
	}
	probes := slices.SortedFunc(maps.Keys(best), func(p, q probe) int {
		return strings.Compare(p.device.name+p.what, q.device.name+q.what)
	})
	for _, p := range probes {
		d := best[p]
		t.Logf("fastest frame %s on %s: %s after its send started", p.what, p.device.name, d)
		assert.Less(t, d, chgHoldGaps, "%s: the frame %s was held back in every round", p.device.name, p.what)
	}

	models := chgSettle(t, c, convs, first)
	time.Sleep(parleytest.QuietWait) // for frames that must not come
	conversations, err := messagepb.NewMessageServiceClient(c.conn).ListConversations(alice.ctx(), &messagepb.ListConversationsRequest{})
	require.NoError(t, err)
	lastSeq := map[string]uint64{}
	for _, cv := range conversations.GetConversation() {
		lastSeq[cv.GetConversationId()] = cv.GetLastSeq()
	}
	for _, cv := range convs {
		model := models[cv.id]
		require.Equal(t, lastSeq[cv.id], model.last, "%s: the syncs cover its stream", cv.id)
		for _, d := range cv.devices {
			chgCheckDevice(t, w, model, d)
		}
		t.Logf("%s: %d entries", cv.id, model.last)
	}
	for _, d := range []*chgDevice{aliceOnA, bobOnB, bobOnC, carolOnC, daveOnB, erinOnA} {
		d.mu.Lock()
		assert.Empty(t, d.bad, "%s: undecodable frames", d.name)
		d.mu.Unlock()
	}
}
