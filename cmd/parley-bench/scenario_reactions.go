package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
)

func init() {
	scenarios = append(scenarios, scenario{"reactions", runReactions})
}

// The emoji of the reactions scenario.
const (
	emojiThumbsUp = "👍"
	emojiParty    = "🎉"
)

// cmdChange is the frame cmd of a change to a message (data: a
// messagepb.MessageChange), as the message module pushes it.
const cmdChange = "change"

// reactionWait is how long change frames may trail a round's last
// acknowledged reaction before the missing ones count as lost.
const reactionWait = 10 * time.Second

// reactionCall is one ReactToMessage call of a round: reactor user (an
// index into the scenario's users) adds emoji, or takes it back.
type reactionCall struct {
	user   int
	emoji  string
	remove bool
}

func (c reactionCall) kind() messagepb.ChangeKind {
	if c.remove {
		return messagepb.ChangeKind_CHANGE_KIND_REACTION_REMOVED
	}
	return messagepb.ChangeKind_CHANGE_KIND_REACTION_ADDED
}

// reactionKey names one reaction change: who, which emoji, added or removed.
// Each reactor makes each change at most once, so a key is one change.
type reactionKey struct {
	actor uint64
	emoji string
	kind  messagepb.ChangeKind
}

// seenChange is one change frame as an observer got it.
type seenChange struct {
	key       reactionKey
	seq       uint64
	messageID uint64
	at        time.Duration // receipt, as an offset from base
	count     uint64        // the count of key.emoji in the frame's message (0: not there)
	mine      bool          // the frame's mine flag for key.emoji
	newest    uint64        // the first of key.emoji's recent_user_id
}

// observerBox is what one member's device saw; only its receive goroutine
// writes it while the streams are open.
type observerBox struct {
	messageSeq uint64 // the group message's seq, once its push came
	changes    []seenChange
	strange    int
	firstOdd   string
}

func (b *observerBox) odd(format string, args ...any) {
	b.strange++
	if b.firstOdd == "" {
		b.firstOdd = fmt.Sprintf(format, args...)
	}
}

// reactionRound is one round's calls and what the callers saw.
type reactionRound struct {
	label   string // the rows' prefix ("" for the first round)
	calls   []reactionCall
	starts  []atomic.Int64 // per call: its start, as an offset from base (ns)
	acks    []time.Duration
	errs    []error
	release time.Duration // when the barrier opened, as an offset from base
	pushed  atomic.Int64  // change frames of this round received, over all observers

	// After the round: the counts and the number of reaction changes the
	// acknowledged reactions make so far, and what a sync showed.
	want          map[string]int64
	changes       int
	synced        map[string]uint64
	syncedChanges int
	syncErr       error
}

// exact says whether the sync after the round showed the acknowledged counts.
func (r *reactionRound) exact() bool {
	if r.syncErr != nil || r.syncedChanges != r.changes {
		return false
	}
	for _, emoji := range []string{emojiThumbsUp, emojiParty} {
		if int64(r.synced[emoji]) != r.want[emoji] {
			return false
		}
	}
	return true
}

// countRows holds the counts synced after the round against the acknowledged ones.
func (r *reactionRound) countRows(scenario string) []Row {
	if r.want == nil {
		return nil // the round did not run
	}
	rows := []Row{check(scenario, r.label+"count exact", b2f(r.exact()), "", "yes (1)", r.exact())}
	for _, emoji := range []string{emojiThumbsUp, emojiParty} {
		if w := r.want[emoji]; w != 0 || r.synced[emoji] != 0 {
			rows = append(rows, check(scenario, fmt.Sprintf("%s%s count", r.label, emojiWord[emoji]),
				float64(r.synced[emoji]), "reactions", fmt.Sprintf("= %d acknowledged", w), r.syncErr == nil && int64(r.synced[emoji]) == w))
		}
	}
	return rows
}

// emojiWord names the emoji in the table, whose columns count runes, not widths.
var emojiWord = map[string]string{emojiThumbsUp: "thumbs-up", emojiParty: "party"}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// countsText writes counts by emoji, in a fixed order.
func countsText[N int64 | uint64](counts map[string]N) string {
	return fmt.Sprintf("%d %s and %d %s", counts[emojiThumbsUp], emojiThumbsUp, counts[emojiParty], emojiParty)
}

// runReactions: one group of N members and its owner, every one online on
// a gateway stream. The owner sends one message; then all N members react
// to it with 👍 at the same moment (released by a barrier), once each; then,
// again at once, half add 🎉 while the other half take their 👍 back. Each
// member's device (the owner's too) is an observer: it must get one change
// frame per acknowledged reaction, exactly once, in increasing seq order,
// each showing the count the message had after that change; and a
// SyncMessages after each round must show exact counts. Measured: reaction
// → push latency over every observer, reactions/s, and the calls' latency.
//
// The members joined two minutes before the message, as in a group that
// has been there a while. A second group, whose members joined just before
// its message (within the minute in which the server works out each
// member's first seq, once per change), then takes the 👍 round alone.
//
// Every member makes at most two reaction calls and the owner one send,
// far below the server's per-user send limit (-send-rate, -send-burst;
// 20/s, burst 50 by default), which reactions share.
func runReactions(ctx context.Context, e *env) ([]Row, error) {
	reactors, nconns := 200, 10
	if e.quick {
		reactors, nconns = 50, 4
	}
	rows, err := reactToOneMessage(ctx, e, "", "react", reactors, nconns, 2*time.Minute, true)
	if err != nil {
		return rows, err
	}
	fresh, err := reactToOneMessage(ctx, e, "fresh group: ", "reactfresh", reactors, nconns, 0, false)
	return append(rows, fresh...), err
}

// reactToOneMessage runs the reaction rounds on a new group of reactors
// members (user names prefix…) who joined joinedAgo before its message,
// their streams over nconns connections: the 👍 round, then with mixed the
// 🎉 / remove round. label starts the rows' metrics.
func reactToOneMessage(ctx context.Context, e *env, label, prefix string, reactors, nconns int, joinedAgo time.Duration, mixed bool) ([]Row, error) {
	const name = "reactions"
	users, err := seedUsers(ctx, e, prefix, reactors+1) // users[0] owns the group
	if err != nil {
		return nil, err
	}
	groupID, err := seedGroup(ctx, e, prefix, users[0], users[1:], joinedAgo)
	if err != nil {
		return nil, err
	}
	conv := fmt.Sprintf("g:%d", groupID)
	conns, closeConns, err := dialConns(e.parley.Addr, nconns)
	if err != nil {
		return nil, err
	}
	defer closeConns()

	// Round 1: everyone adds 👍. Round 2: the even members add 🎉, the odd
	// ones take their 👍 back, all at once.
	var first, second []reactionCall
	for u := 1; u <= reactors; u++ {
		first = append(first, reactionCall{user: u, emoji: emojiThumbsUp})
		if u%2 == 0 {
			second = append(second, reactionCall{user: u, emoji: emojiParty})
		} else {
			second = append(second, reactionCall{user: u, emoji: emojiThumbsUp, remove: true})
		}
	}
	rounds := []*reactionRound{newRound(label, first)}
	if mixed {
		rounds = append(rounds, newRound(label+"mixed round: ", second))
	}
	// Which round and call made each change (read-only once built).
	type callRef struct{ round, call int }
	refs := map[reactionKey]callRef{}
	for r, round := range rounds {
		for c, call := range round.calls {
			refs[reactionKey{users[call.user].ID, call.emoji, call.kind()}] = callRef{r, c}
		}
	}

	base := time.Now()
	boxes := make([]observerBox, len(users))
	var messagesIn atomic.Int64
	handle := func(d *device, f *gatewaypb.SendMessageResponse) {
		at := time.Since(base)
		box := &boxes[d.index]
		switch f.GetCmd() {
		case cmdMessage:
			var m messagepb.Message
			if err := proto.Unmarshal(f.GetData(), &m); err != nil || m.GetConversationId() != conv || box.messageSeq != 0 {
				box.odd("unexpected message frame (conversation %q, seq %d)", m.GetConversationId(), m.GetSeq())
				return
			}
			box.messageSeq = m.GetSeq()
			messagesIn.Add(1)
		case cmdChange:
			var c messagepb.MessageChange
			if err := proto.Unmarshal(f.GetData(), &c); err != nil {
				box.odd("undecodable change frame: %v", err)
				return
			}
			m := c.GetMessage()
			if m.GetConversationId() != conv {
				box.odd("change seq %d of conversation %q", c.GetSeq(), m.GetConversationId())
				return
			}
			seen := seenChange{
				key: reactionKey{c.GetActorId(), c.GetEmoji(), c.GetKind()}, seq: c.GetSeq(), messageID: m.GetId(), at: at,
			}
			for _, r := range m.GetReactions() {
				if r.GetEmoji() == c.GetEmoji() {
					seen.count, seen.mine = r.GetCount(), r.GetMine()
					if ids := r.GetRecentUserId(); len(ids) > 0 {
						seen.newest = ids[0]
					}
				}
			}
			box.changes = append(box.changes, seen)
			if ref, ok := refs[seen.key]; ok {
				rounds[ref.round].pushed.Add(1)
			}
		}
	}
	already, err := openServerStreams(ctx, e.parley)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "   opening %d member streams over %d connections\n", len(users), nconns)
	devices, err := openDevices(ctx, conns, users, prefix, handle)
	if err != nil {
		return nil, err
	}
	defer closeDevices(devices)

	sent, err := messagepb.NewMessageServiceClient(e.conn(0)).SendGroupTextMessage(users[0].Ctx(ctx), &messagepb.SendGroupTextMessageRequest{
		ToGroupId: groupID, Text: &messagepb.TextMessage{Content: "react to this"},
	})
	if err != nil {
		return nil, fmt.Errorf("send the group message: %w", err)
	}
	msgID := sent.GetId()
	if err := awaitCount(ctx, &messagesIn, int64(len(users)), 30*time.Second); err != nil {
		return nil, fmt.Errorf("the group message reached %d of %d members: %w", messagesIn.Load(), len(users), err)
	}

	var errs []error
	want := map[string]int64{} // the counts the acknowledged reactions make, so far
	changes := 0
	for _, round := range rounds {
		fmt.Fprintf(os.Stderr, "   %d members react at once (%s)\n", len(round.calls), round.describe())
		round.run(ctx, e, base, users, msgID)
		acked := int64(round.acked())
		if err := awaitCount(ctx, &round.pushed, acked*int64(len(users)), reactionWait); err != nil {
			fmt.Fprintf(os.Stderr, "   %d of %d change frames came within %s of the last acknowledgement\n",
				round.pushed.Load(), acked*int64(len(users)), reactionWait)
		}
		for c, call := range round.calls {
			if round.errs[c] == nil {
				changes++
				if call.remove {
					want[call.emoji]--
				} else {
					want[call.emoji]++
				}
			}
		}
		// The count now, as a member syncs it.
		round.want, round.changes = maps.Clone(want), changes
		round.synced, round.syncedChanges, round.syncErr = syncedReactions(ctx, e, users[1], conv, msgID)
		if round.syncErr != nil {
			errs = append(errs, round.syncErr)
		} else if !round.exact() {
			errs = append(errs, fmt.Errorf("%scounts wrong: a sync shows %s in %d reaction changes; the acknowledged reactions make %s in %d",
				round.label, countsText(round.synced), round.syncedChanges, countsText(round.want), round.changes))
		}
		if err := round.failure(); err != nil {
			errs = append(errs, err)
			break // the state is unknown: a later round's counts would not say much
		}
	}
	closeDevices(devices)
	errs = append(errs, streamErrors(devices), awaitServerStreams(ctx, e.parley, already, 30*time.Second))

	// What every observer should have seen: each acknowledged change once.
	acked := map[reactionKey]bool{}
	for _, round := range rounds {
		for c, call := range round.calls {
			if round.starts[c].Load() != 0 && round.errs[c] == nil {
				acked[reactionKey{users[call.user].ID, call.emoji, call.kind()}] = true
			}
		}
	}
	// The stream as a whole: the change each seq is, as the first observer
	// to see it saw it; every other observer must agree.
	bySeq := map[uint64]reactionKey{}
	var in integrity
	strange, badState := 0, 0
	var firstBadState, firstStrange string
	for o := range boxes {
		for _, c := range boxes[o].changes {
			if k, ok := bySeq[c.seq]; !ok {
				bySeq[c.seq] = c.key
			} else if k != c.key {
				in.duplicated++
				in.note(fmt.Sprintf("member %d: seq %d is %v here, %v at another member", o, c.seq, c.key, k))
			}
		}
	}
	// The count of each emoji after each seq, from the stream itself.
	seqs := make([]uint64, 0, len(bySeq))
	for s := range bySeq {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	countAt := map[uint64]uint64{}
	running := map[string]int64{}
	for _, s := range seqs {
		k := bySeq[s]
		if k.kind == messagepb.ChangeKind_CHANGE_KIND_REACTION_REMOVED {
			running[k.emoji]--
		} else {
			running[k.emoji]++
		}
		countAt[s] = uint64(max(running[k.emoji], 0))
	}
	latencies := make([][]time.Duration, len(rounds))
	lastPush := make([]time.Duration, len(rounds))
	for o := range boxes {
		b := &boxes[o]
		strange += b.strange
		if b.firstOdd != "" && firstStrange == "" {
			firstStrange = fmt.Sprintf("member %d: %s", o, b.firstOdd)
		}
		got := map[reactionKey]int{}
		prev := b.messageSeq
		for _, c := range b.changes {
			got[c.key]++
			if c.seq <= prev && got[c.key] == 1 { // a repeat counts as a duplicate only
				in.disordered++
				in.note(fmt.Sprintf("member %d got change seq %d after seq %d", o, c.seq, prev))
			}
			prev = max(prev, c.seq)
			wrong := ""
			switch {
			case c.messageID != msgID:
				wrong = fmt.Sprintf("a change of message %d, not %d", c.messageID, msgID)
			case c.count != countAt[c.seq]:
				wrong = fmt.Sprintf("count %d after the change, where the stream makes it %d", c.count, countAt[c.seq])
			case c.key.kind == messagepb.ChangeKind_CHANGE_KIND_REACTION_ADDED && (!c.mine || c.newest != c.key.actor):
				wrong = fmt.Sprintf("mine %v, newest reactor %d for the actor's own new reaction", c.mine, c.newest)
			case c.key.kind == messagepb.ChangeKind_CHANGE_KIND_REACTION_REMOVED && c.mine:
				wrong = "mine still set for the actor's removed reaction"
			}
			if wrong != "" {
				badState++
				if firstBadState == "" {
					firstBadState = fmt.Sprintf("member %d, seq %d (%s %s by %d): %s", o, c.seq, c.key.kind, c.key.emoji, c.key.actor, wrong)
				}
			}
			ref, ok := refs[c.key]
			if !ok || !acked[c.key] {
				strange++
				if firstStrange == "" {
					firstStrange = fmt.Sprintf("member %d got change seq %d (%s %s by %d) that no acknowledged call made", o, c.seq, c.key.kind, c.key.emoji, c.key.actor)
				}
				continue
			}
			if got[c.key] == 1 {
				round := rounds[ref.round]
				latencies[ref.round] = append(latencies[ref.round], c.at-time.Duration(round.starts[ref.call].Load()))
				lastPush[ref.round] = max(lastPush[ref.round], c.at)
			}
		}
		for k := range acked {
			switch n := got[k]; {
			case n == 0:
				in.lost++
				in.note(fmt.Sprintf("member %d never got %s %s by %d", o, k.kind, k.emoji, k.actor))
			case n > 1:
				in.duplicated += n - 1
				in.note(fmt.Sprintf("member %d got %s %s by %d %d times", o, k.kind, k.emoji, k.actor, n))
			}
		}
	}

	members := float64(len(users))
	rows := []Row{
		info(name, label+"members", members, "streams"),
		info(name, label+"connections", float64(nconns), "conns"),
	}
	for r, round := range rounds {
		rows = append(rows, round.rows(name, latencies[r], lastPush[r])...)
		rows = append(rows, round.countRows(name)...)
	}
	rows = append(rows,
		correct(name, label+"lost reactions", float64(in.lost), "changes", "0", in.lost == 0),
		correct(name, label+"duplicate reactions", float64(in.duplicated), "changes", "0", in.duplicated == 0),
		correct(name, label+"out-of-order reactions", float64(in.disordered), "changes", "0", in.disordered == 0),
		correct(name, label+"pushed state wrong", float64(badState), "changes", "0", badState == 0),
	)
	if strange > 0 {
		rows = append(rows, info(name, label+"unexpected pushes", float64(strange), "frames"))
	}
	errs = append(errs, in.reactionFailure(label))
	if badState > 0 {
		errs = append(errs, fmt.Errorf("%s%d change frames showed the message in a wrong state, first: %s", label, badState, firstBadState))
	}
	if strange > 0 {
		errs = append(errs, fmt.Errorf("%s%d unexpected pushes, first: %s", label, strange, firstStrange))
	}
	return rows, errors.Join(errs...)
}

// reactionFailure is failure in the scenario's words.
func (in integrity) reactionFailure(label string) error {
	if in.lost+in.duplicated+in.disordered == 0 {
		return nil
	}
	return fmt.Errorf("%sreactions broken: %d lost, %d duplicated, %d out of order; first: %s",
		label, in.lost, in.duplicated, in.disordered, in.first)
}

func newRound(label string, calls []reactionCall) *reactionRound {
	return &reactionRound{
		label: label, calls: calls, starts: make([]atomic.Int64, len(calls)),
		acks: make([]time.Duration, len(calls)), errs: make([]error, len(calls)),
	}
}

func (r *reactionRound) describe() string {
	counts := map[string]int{}
	for _, c := range r.calls {
		verb := "add "
		if c.remove {
			verb = "remove "
		}
		counts[verb+c.emoji]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%d %s", counts[k], k)
	}
	return out
}

// run makes every call of the round at once: one goroutine per call, all
// waiting on one barrier, each stamping its start just before its call.
func (r *reactionRound) run(ctx context.Context, e *env, base time.Time, users []seededUser, msgID uint64) {
	release := make(chan struct{})
	var ready, done sync.WaitGroup
	for c, call := range r.calls {
		ready.Add(1)
		done.Go(func() {
			client := messagepb.NewMessageServiceClient(e.conn(c))
			cctx, cancel := context.WithTimeout(users[call.user].Ctx(ctx), 60*time.Second)
			defer cancel()
			ready.Done()
			<-release
			t0 := time.Since(base)
			r.starts[c].Store(int64(t0))
			resp, err := client.ReactToMessage(cctx, &messagepb.ReactToMessageRequest{
				MessageId: msgID, Emoji: call.emoji, Remove: call.remove,
			})
			r.acks[c] = time.Since(base) - t0
			if err == nil {
				err = checkReactAnswer(call, resp)
			}
			r.errs[c] = err
		})
	}
	ready.Wait()
	r.release = time.Since(base)
	close(release)
	done.Wait()
}

// checkReactAnswer says what is wrong with the answer to call, if anything:
// it holds the message's reactions as the caller sees them.
func checkReactAnswer(call reactionCall, resp *messagepb.ReactToMessageResponse) error {
	for _, re := range resp.GetReactions() {
		if re.GetEmoji() != call.emoji {
			continue
		}
		if re.GetMine() == call.remove {
			return fmt.Errorf("answer to %s %s: mine is %v", call.kind(), call.emoji, re.GetMine())
		}
		return nil
	}
	if !call.remove {
		return fmt.Errorf("answer to adding %s does not hold it", call.emoji)
	}
	return nil
}

func (r *reactionRound) acked() int {
	n := 0
	for _, err := range r.errs {
		if err == nil {
			n++
		}
	}
	return n
}

// failure fails the scenario on any failed call: its reaction may or may not
// have been saved, so no count can be held against it.
func (r *reactionRound) failure() error {
	n, first := 0, error(nil)
	for _, err := range r.errs {
		if err != nil {
			n++
			if first == nil {
				first = err
			}
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%s%d of %d reaction calls failed, first: %w", r.label, n, len(r.calls), first)
}

// rows reports the round: its calls' latency and throughput, and reaction →
// push over every observer (latencies) until the last push (lastPush, an
// offset from base).
func (r *reactionRound) rows(scenario string, latencies []time.Duration, lastPush time.Duration) []Row {
	var acks []time.Duration
	lastAck := time.Duration(0)
	for c, err := range r.errs {
		if err == nil {
			acks = append(acks, r.acks[c])
			lastAck = max(lastAck, time.Duration(r.starts[c].Load())+r.acks[c])
		}
	}
	acked := len(acks)
	rate := 0.0
	if span := lastAck - r.release; acked > 0 && span > 0 {
		rate = float64(acked) / span.Seconds()
	}
	rows := []Row{
		info(scenario, r.label+"reactions acknowledged", float64(acked), "reactions"),
		info(scenario, r.label+"reactions/s", rate, "reactions/s"),
		info(scenario, r.label+"reaction (ack) p50", ms(percentile(acks, 50)), "ms"),
		info(scenario, r.label+"reaction (ack) p99", ms(percentile(acks, 99)), "ms"),
		info(scenario, r.label+"reaction→push p50", ms(percentile(latencies, 50)), "ms"),
		info(scenario, r.label+"reaction→push p99", ms(percentile(latencies, 99)), "ms"),
		info(scenario, r.label+"reaction→push max", ms(percentile(latencies, 100)), "ms"),
	}
	if lastPush > r.release {
		rows = append(rows, info(scenario, r.label+"barrier→last push", ms(lastPush-r.release), "ms"))
	}
	return rows
}

// awaitCount waits (up to limit) until n reaches want.
func awaitCount(ctx context.Context, n *atomic.Int64, want int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for n.Load() < want {
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d after %s", n.Load(), want, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// seedGroup creates a group owned by owner through the API and adds members
// straight in the database (as runFanout does), joined joinedAgo before
// now, returning its id.
func seedGroup(ctx context.Context, e *env, name string, owner seededUser, members []seededUser, joinedAgo time.Duration) (uint64, error) {
	created, err := grouppb.NewGroupServiceClient(e.conn(0)).CreateGroup(owner.Ctx(ctx), &grouppb.CreateGroupRequest{Name: name})
	if err != nil {
		return 0, fmt.Errorf("create group: %w", err)
	}
	groupID := created.GetGroup().GetId()
	ids := make([]int64, len(members))
	for i, u := range members {
		ids[i] = int64(u.ID)
	}
	if _, err := e.pool.Exec(ctx, `
		WITH added AS (
			INSERT INTO groups.members (group_id, user_id, joined_at)
			SELECT $1, u, now() - make_interval(secs => $3) FROM unnest($2::bigint[]) AS u RETURNING 1
		)
		UPDATE groups.groups SET member_count = member_count + (SELECT count(*) FROM added) WHERE id = $1`,
		int64(groupID), ids, joinedAgo.Seconds()); err != nil {
		return 0, fmt.Errorf("seed members: %w", err)
	}
	return groupID, nil
}

// syncedReactions syncs conv from its start as user and returns message
// msgID's reaction counts by emoji and how many reaction changes of it the
// stream holds.
func syncedReactions(ctx context.Context, e *env, user seededUser, conv string, msgID uint64) (map[string]uint64, int, error) {
	client := messagepb.NewMessageServiceClient(e.conn(0))
	counts := map[string]uint64{}
	changes, after, found := 0, uint64(0), false
	for page := 0; ; page++ {
		resp, err := client.SyncMessages(user.Ctx(ctx), &messagepb.SyncMessagesRequest{ConversationId: conv, AfterSeq: after, Limit: 200})
		if err != nil {
			return nil, 0, fmt.Errorf("sync %s: %w", conv, err)
		}
		last := after
		for _, m := range resp.GetMessage() {
			last = max(last, m.GetSeq())
			if m.GetId() == msgID {
				found = true
				for _, r := range m.GetReactions() {
					counts[r.GetEmoji()] = r.GetCount()
				}
			}
		}
		for _, c := range resp.GetChanges() {
			last = max(last, c.GetSeq())
			if c.GetMessage().GetId() == msgID && (c.GetKind() == messagepb.ChangeKind_CHANGE_KIND_REACTION_ADDED ||
				c.GetKind() == messagepb.ChangeKind_CHANGE_KIND_REACTION_REMOVED) {
				changes++
			}
		}
		if !resp.GetHasMore() {
			break
		}
		if last == after || page > 100 {
			return nil, 0, fmt.Errorf("sync %s: has_more, but the page after seq %d moved no further", conv, after)
		}
		after = last
	}
	if !found {
		return nil, 0, fmt.Errorf("sync %s: message %d is not in it", conv, msgID)
	}
	return counts, changes, nil
}
