package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/messagepb"
)

func init() {
	scenarios = append(scenarios, scenario{"receipts", runReceipts})
}

// cmdReceipt is the frame cmd of a receipt (data: a messagepb.Receipt), as
// the message module pushes it to a message's sender.
const cmdReceipt = "receipt"

// receiptGroupCap is the server's -receipt-group-cap default, which the
// harness leaves as it is: groups above it get no receipt frames, and
// GetReceipts answers them with counts only.
const receiptGroupCap = 500

// markWait is how long the owner's device may wait for the last messages
// and receipt frames after the marking stopped (a receipt window is 1 s).
const markWait = 5 * time.Second

// receiptWindow is the server's receipt window: a group's receipt frames
// to one sender are coalesced per second.
const receiptWindow = time.Second

// sendEvery is the pace of the message stream during the marking.
const sendEvery = 100 * time.Millisecond

// readLag is how far behind the newest seq a member reads: its device has
// more than it has read.
const readLag = 5

// receiptSamples is how many seqs GetReceipts is checked at, beside the last.
const receiptSamples = 10

// runReceipts: a group of 10,000 members (its owner and 9,999 others,
// seeded straight into the database as the fan-out's group is, as having
// joined two minutes before), then a group of 200, below the server's
// receipt cap. In each, the owner sends a message every 100 ms while
// 16 workers make MarkDelivered and MarkRead calls as the members (their
// own tokens). The calls go round the members in turn, two per member: a
// MarkDelivered up to the newest seq the owner's device was pushed, and a
// MarkRead up to readLag (5) seqs before it; the two go on different
// workers, at once. Measured: mark calls/s and each call's latency. Then:
//   - each member's row of messages.reads holds the highest read and
//     delivered seq it marked (a read mark delivers too);
//   - GetReceipts (as the owner) at 10 seqs spread over the stream and the
//     last counts exactly the members who marked that far, and below the
//     cap lists exactly them;
//   - every member reads up to the last seq (16 workers, untimed but
//     measured), so each has marked; then messages.reads holds at most one
//     row per member for the conversation (not one per member and
//     message), and GetReceipts at the last seq counts every member;
//   - above the cap, the owner's device gets no receipt frame; below it,
//     the frames (coalesced per second) tell the owner every member's
//     final marks, at most about one frame a second.
func runReceipts(ctx context.Context, e *env) ([]Row, error) {
	big, small, workers := 10_000, 200, 16
	phase := 15 * time.Second
	if e.quick {
		big, small = 600, 100
	}
	if e.quick || e.phase > 0 {
		phase = e.duration()
	}
	rows, err := marksIn(ctx, e, "", "rcpt", big, workers, phase)
	if err != nil {
		return rows, err
	}
	more, err := marksIn(ctx, e, fmt.Sprintf("group of %d: ", small), "rcptsmall", small, workers, e.duration())
	return append(rows, more...), err
}

// storeMax raises a to v and says whether it did.
func storeMax(a *atomic.Uint64, v uint64) bool {
	for {
		old := a.Load()
		if v <= old {
			return false
		}
		if a.CompareAndSwap(old, v) {
			return true
		}
	}
}

// marksIn runs the marking on a new group of members (user names
// prefix…), for phase; label starts the rows' metrics.
func marksIn(ctx context.Context, e *env, label, prefix string, members, workers int, phase time.Duration) ([]Row, error) {
	const name = "receipts"
	users, err := seedUsers(ctx, e, prefix, members)
	if err != nil {
		return nil, err
	}
	owner, markers := users[0], users[1:]
	groupID, err := seedGroup(ctx, e, prefix, owner, markers, 2*time.Minute)
	if err != nil {
		return nil, err
	}
	conv := fmt.Sprintf("g:%d", groupID)
	capped := members > receiptGroupCap
	markerOf := make(map[uint64]int, len(markers))
	for m, u := range markers {
		markerOf[u.ID] = m
	}

	// The owner's device: its messages' seqs, and the receipt frames.
	base := time.Now()
	var (
		mu           sync.Mutex
		seqOf        = map[uint64]uint64{} // message id → seq, as pushed
		ord          order
		told         = map[uint64]*messagepb.MemberMarks{} // each member's marks, the highest the frames told
		frames       int
		firstReceipt time.Duration
		lastReceipt  time.Duration
		strange      int
		firstOdd     string
		lastSeq      atomic.Uint64
	)
	odd := func(format string, args ...any) {
		strange++
		if firstOdd == "" {
			firstOdd = fmt.Sprintf(format, args...)
		}
	}
	handle := func(d *device, f *gatewaypb.SendMessageResponse) {
		at := time.Since(base)
		mu.Lock()
		defer mu.Unlock()
		switch f.GetCmd() {
		case cmdMessage:
			var m messagepb.Message
			if err := proto.Unmarshal(f.GetData(), &m); err != nil || m.GetConversationId() != conv {
				odd("message frame of %q (%v)", m.GetConversationId(), err)
				return
			}
			seqOf[m.GetId()] = m.GetSeq()
			ord.see(conv, m.GetSeq())
			storeMax(&lastSeq, m.GetSeq())
		case cmdReceipt:
			var r messagepb.Receipt
			if err := proto.Unmarshal(f.GetData(), &r); err != nil || r.GetConversationId() != conv {
				odd("receipt frame of %q (%v)", r.GetConversationId(), err)
				return
			}
			frames++
			if frames == 1 {
				firstReceipt = at
			}
			lastReceipt = at
			moved := append([]*messagepb.MemberMarks{{UserId: r.GetUserId(), DeliveredSeq: r.GetDeliveredSeq(), ReadSeq: r.GetReadSeq()}}, r.GetOthers()...)
			for _, mm := range moved {
				if _, ok := markerOf[mm.GetUserId()]; !ok {
					odd("receipt frame with the marks of user %d, not a marking member", mm.GetUserId())
					continue
				}
				t := told[mm.GetUserId()]
				if t == nil {
					t = &messagepb.MemberMarks{UserId: mm.GetUserId()}
					told[mm.GetUserId()] = t
				}
				t.DeliveredSeq, t.ReadSeq = max(t.DeliveredSeq, mm.GetDeliveredSeq()), max(t.ReadSeq, mm.GetReadSeq())
			}
		case cmdPong:
		default:
			odd("unexpected %q frame", f.GetCmd())
		}
	}
	conns, closeConns, err := dialConns(e.parley.Addr, 1)
	if err != nil {
		return nil, err
	}
	defer closeConns()
	already, err := openServerStreams(ctx, e.parley)
	if err != nil {
		return nil, err
	}
	devices, err := openDevices(ctx, conns, []seededUser{owner}, prefix, handle)
	if err != nil {
		return nil, err
	}
	defer closeDevices(devices)

	sender := messagepb.NewMessageServiceClient(e.conn(0))
	var (
		sentMu   sync.Mutex
		sent     []uint64
		sendErrs int
		sendErr  error
	)
	send := func() error {
		resp, err := sender.SendGroupTextMessage(owner.Ctx(ctx), &messagepb.SendGroupTextMessageRequest{
			ToGroupId: groupID, Text: &messagepb.TextMessage{Content: "mark me"},
		})
		sentMu.Lock()
		defer sentMu.Unlock()
		if err != nil {
			sendErrs++
			if sendErr == nil {
				sendErr = err
			}
			return err
		}
		sent = append(sent, resp.GetId())
		return nil
	}
	if err := send(); err != nil {
		return nil, fmt.Errorf("the first message: %w", err)
	}
	for deadline := time.Now().Add(markWait); lastSeq.Load() == 0; {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, errors.New("the owner's device never got the first message")
		}
		time.Sleep(5 * time.Millisecond)
	}

	fmt.Fprintf(os.Stderr, "   %s%d members: %d workers mark for %s, a message every %s\n", label, members, workers, phase, sendEvery)
	stop := make(chan struct{})
	var sending sync.WaitGroup
	sending.Go(func() {
		tick := time.NewTicker(sendEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				_ = send()
			}
		}
	})
	expRead := make([]atomic.Uint64, len(markers))
	expDelivered := make([]atomic.Uint64, len(markers))
	latRead, latDelivered := make([][]time.Duration, workers), make([][]time.Duration, workers)
	var moves atomic.Int64
	next := atomic.Int64{}
	res := closedLoop(ctx, workers, phase, func(ctx context.Context, w int) error {
		c := next.Add(1) - 1
		m := int((c / 2) % int64(len(markers)))
		read := c%2 == 1
		seq := lastSeq.Load()
		if read {
			seq -= min(seq-1, readLag)
		}
		client := messagepb.NewMessageServiceClient(e.conn(w))
		t0 := time.Now()
		var err error
		if read {
			_, err = client.MarkRead(markers[m].Ctx(ctx), &messagepb.MarkReadRequest{ConversationId: conv, Seq: seq})
		} else {
			_, err = client.MarkDelivered(markers[m].Ctx(ctx), &messagepb.MarkDeliveredRequest{ConversationId: conv, Seq: seq})
		}
		took := time.Since(t0)
		if err != nil {
			return fmt.Errorf("member %d marking seq %d (read %v): %w", markers[m].ID, seq, read, err)
		}
		if read {
			if storeMax(&expRead[m], seq) {
				moves.Add(1)
			}
			latRead[w] = append(latRead[w], took)
		} else {
			if storeMax(&expDelivered[m], seq) && seq > expRead[m].Load() {
				moves.Add(1)
			}
			latDelivered[w] = append(latDelivered[w], took)
		}
		return nil
	})
	close(stop)
	sending.Wait()
	var errs []error
	if res.Errors > 0 {
		errs = append(errs, fmt.Errorf("%s%d of %d mark calls failed, first: %w", label, res.Errors, res.Requests, res.FirstErr))
	}
	if sendErrs > 0 {
		errs = append(errs, fmt.Errorf("%s%d sends failed, first: %w", label, sendErrs, sendErr))
	}

	// What each member marked: read as marked, delivered as marked or read.
	wantRead := make([]uint64, len(markers))
	wantDelivered := make([]uint64, len(markers))
	marked := 0
	for m := range markers {
		wantRead[m] = expRead[m].Load()
		wantDelivered[m] = max(expDelivered[m].Load(), wantRead[m])
		if wantDelivered[m] > 0 {
			marked++
		}
	}
	// Every message reaches the owner's device: the last seq is known.
	allPushed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range sent {
			if _, ok := seqOf[id]; !ok {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(markWait); !allPushed() && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	maxSeq := ord.last[conv]
	mu.Unlock()

	// The table: each member's row holds the marks it made; GetReceipts
	// counts (and below the cap lists) them.
	stored, err := storedMarks(ctx, e, conv)
	if err != nil {
		return nil, err
	}
	wrongMarks := 0
	firstWrongMark := ""
	for m, u := range markers {
		if got := stored[u.ID]; got != (storedMark{wantRead[m], wantDelivered[m]}) {
			wrongMarks++
			if firstWrongMark == "" {
				firstWrongMark = fmt.Sprintf("member %d: read %d, delivered %d stored; marked read %d, delivered %d",
					u.ID, got.read, got.delivered, wantRead[m], wantDelivered[m])
			}
		}
	}
	if got := stored[owner.ID]; got.read != maxSeq {
		wrongMarks++
		if firstWrongMark == "" {
			firstWrongMark = fmt.Sprintf("the owner (sender of every message) has read %d stored, not the last seq %d", got.read, maxSeq)
		}
	}
	var checkSeqs []uint64
	for k := range receiptSamples {
		checkSeqs = append(checkSeqs, 1+uint64(k)*(maxSeq-1)/receiptSamples)
	}
	checkSeqs = slices.Compact(append(checkSeqs, maxSeq))
	rc := receiptChecker{client: messagepb.NewMessageServiceClient(e.conn(0)), owner: owner, conv: conv, markers: markers, capped: capped}
	for _, s := range checkSeqs {
		if err := rc.check(ctx, s, wantRead, wantDelivered); err != nil {
			return nil, fmt.Errorf("%s%w", label, err)
		}
	}

	// Catching up: every member reads up to the last seq, so each has a row.
	fmt.Fprintf(os.Stderr, "   %severy member reads up to seq %d\n", label, maxSeq)
	next.Store(0)
	sweep := closedCalls(ctx, workers, len(markers), &next, func(ctx context.Context, w, m int) error {
		_, err := messagepb.NewMessageServiceClient(e.conn(w)).MarkRead(markers[m].Ctx(ctx), &messagepb.MarkReadRequest{ConversationId: conv, Seq: maxSeq})
		if err != nil {
			return fmt.Errorf("member %d reading up to seq %d: %w", markers[m].ID, maxSeq, err)
		}
		return nil
	})
	if sweep.Errors > 0 {
		errs = append(errs, fmt.Errorf("%s%d of %d catch-up MarkRead calls failed, first: %w", label, sweep.Errors, sweep.Requests, sweep.FirstErr))
	}
	for m := range markers {
		wantRead[m], wantDelivered[m] = maxSeq, maxSeq
	}
	var tableRows int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM messages.reads WHERE conversation_id = $1`, conv).Scan(&tableRows); err != nil {
		return nil, fmt.Errorf("count marks: %w", err)
	}
	if err := rc.check(ctx, maxSeq, wantRead, wantDelivered); err != nil {
		return nil, fmt.Errorf("%s%w", label, err)
	}

	// The owner's device: below the cap the frames come to every member's
	// final marks; above it none comes.
	toldAll := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, u := range markers {
			if t := told[u.ID]; t == nil || t.DeliveredSeq != maxSeq || t.ReadSeq != maxSeq {
				return false
			}
		}
		return true
	}
	if capped {
		time.Sleep(2 * receiptWindow) // a receipt frame, were one due, would have come by now
	} else {
		for deadline := time.Now().Add(markWait); !toldAll() && time.Now().Before(deadline) && ctx.Err() == nil; {
			time.Sleep(20 * time.Millisecond)
		}
	}
	closeDevices(devices)
	errs = append(errs, streamErrors(devices), awaitServerStreams(ctx, e.parley, already, 30*time.Second))

	mu.Lock()
	defer mu.Unlock()
	var in integrity
	in.disordered = ord.violations
	if ord.first != "" {
		in.note("the owner's device: " + ord.first)
	}
	for _, id := range sent {
		if _, ok := seqOf[id]; !ok {
			in.lost++
			in.note(fmt.Sprintf("the owner's device never got message %d", id))
		}
	}
	lostReceipts := 0
	firstLostReceipt := ""
	if !capped {
		for _, u := range markers {
			t := told[u.ID]
			if t == nil {
				t = &messagepb.MemberMarks{}
			}
			if t.DeliveredSeq != maxSeq || t.ReadSeq != maxSeq {
				lostReceipts++
				if firstLostReceipt == "" {
					firstLostReceipt = fmt.Sprintf("member %d: the frames told read %d, delivered %d; it read up to %d",
						u.ID, t.ReadSeq, t.DeliveredSeq, maxSeq)
				}
			}
		}
	}

	var reads, delivers []time.Duration
	for w := range workers {
		reads, delivers = append(reads, latRead[w]...), append(delivers, latDelivered[w]...)
	}
	secs := res.Duration.Seconds()
	rows := []Row{
		info(name, label+"members", float64(members), "users"),
		info(name, label+"workers", float64(workers), "workers"),
		info(name, label+"messages", float64(maxSeq), "msgs"),
		info(name, label+"mark calls (acknowledged)", float64(len(reads)+len(delivers)), "calls"),
		info(name, label+"marks/s", res.RPS(), "calls/s"),
		info(name, label+"calls that moved a mark", float64(moves.Load()), "calls"),
		info(name, label+"mark p50", ms(res.Percentile(50)), "ms"),
		info(name, label+"mark p99", ms(res.Percentile(99)), "ms"),
		info(name, label+"MarkDelivered p99", ms(percentile(delivers, 99)), "ms"),
		info(name, label+"MarkRead p99", ms(percentile(reads, 99)), "ms"),
		info(name, label+"members who marked", float64(marked), "users"),
		correct(name, label+"stored marks wrong", float64(wrongMarks), "users", "0", wrongMarks == 0),
		info(name, label+"GetReceipts p50", ms(percentile(rc.latencies, 50)), "ms"),
		info(name, label+"GetReceipts max", ms(percentile(rc.latencies, 100)), "ms"),
		correct(name, label+"GetReceipts wrong", float64(rc.wrong), "seqs", fmt.Sprintf("0 of %d", len(checkSeqs)+1), rc.wrong == 0),
		info(name, label+"catch-up MarkRead/s", sweep.RPS(), "calls/s"),
		info(name, label+"catch-up MarkRead p99", ms(sweep.Percentile(99)), "ms"),
		check(name, label+"rows in messages.reads", float64(tableRows), "rows", fmt.Sprintf("≤ %d members", members), tableRows <= members),
		info(name, label+"members × messages", float64(members)*float64(maxSeq), "rows"),
		correct(name, label+"lost messages", float64(in.lost), "msgs", "0", in.lost == 0),
		correct(name, label+"out-of-order messages", float64(in.disordered), "msgs", "0", in.disordered == 0),
	}
	if secs > 0 {
		rows = append(rows, info(name, label+"messages/s during the marking", float64(len(sent)-1)/secs, "msg/s"))
	}
	if capped {
		rows = append(rows, correct(name, label+"receipt frames (above the cap)", float64(frames), "frames", "0", frames == 0))
		if frames > 0 {
			errs = append(errs, fmt.Errorf("%s%d receipt frames in a group of %d, above the cap of %d", label, frames, members, receiptGroupCap))
		}
	} else {
		span := (lastReceipt - firstReceipt).Seconds()
		bound := int(span) + 2
		rows = append(rows,
			check(name, label+"receipt frames", float64(frames), "frames", fmt.Sprintf("≤ %d (one a second)", bound), frames <= bound),
			correct(name, label+"members whose final marks no frame told", float64(lostReceipts), "users", "0", lostReceipts == 0),
		)
		if frames > bound {
			errs = append(errs, fmt.Errorf("%s%d receipt frames in %.1f s: not coalesced per second", label, frames, span))
		}
		if lostReceipts > 0 {
			errs = append(errs, fmt.Errorf("%sreceipts lost for %d members, first: %s", label, lostReceipts, firstLostReceipt))
		}
	}
	if strange > 0 {
		rows = append(rows, info(name, label+"unexpected pushes", float64(strange), "frames"))
		errs = append(errs, fmt.Errorf("%s%d unexpected pushes, first: %s", label, strange, firstOdd))
	}
	if tableRows > members {
		errs = append(errs, fmt.Errorf("%s%d rows in messages.reads for a group of %d", label, tableRows, members))
	}
	if wrongMarks > 0 {
		errs = append(errs, fmt.Errorf("%s%d members' stored marks are not what they marked, first: %s", label, wrongMarks, firstWrongMark))
	}
	if rc.wrong > 0 {
		errs = append(errs, fmt.Errorf("%sGetReceipts wrong at %d seqs, first: %s", label, rc.wrong, rc.first))
	}
	if in.lost+in.disordered > 0 {
		errs = append(errs, fmt.Errorf("%smessages broken: %d lost, %d out of order; first: %s", label, in.lost, in.disordered, in.first))
	}
	return rows, errors.Join(errs...)
}

// storedMark is a member's row of messages.reads.
type storedMark struct{ read, delivered uint64 }

// storedMarks reads every member's marks of conv, by user id.
func storedMarks(ctx context.Context, e *env, conv string) (map[uint64]storedMark, error) {
	rs, err := e.pool.Query(ctx, `SELECT user_id, read_seq, delivered_seq FROM messages.reads WHERE conversation_id = $1`, conv)
	if err != nil {
		return nil, fmt.Errorf("read marks: %w", err)
	}
	defer rs.Close()
	stored := map[uint64]storedMark{}
	for rs.Next() {
		var u, r, d int64
		if err := rs.Scan(&u, &r, &d); err != nil {
			return nil, err
		}
		stored[uint64(u)] = storedMark{uint64(r), uint64(d)}
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read marks: %w", err)
	}
	return stored, nil
}

// receiptChecker holds GetReceipts answers, asked as the owner (the
// sender of every message), against the marks the members made.
type receiptChecker struct {
	client    messagepb.MessageServiceClient
	owner     seededUser
	conv      string
	markers   []seededUser
	capped    bool
	latencies []time.Duration
	wrong     int
	first     string
}

// check asks GetReceipts at seq s, paging through the ids, and counts a
// wrong answer: the members' marks are wantRead and wantDelivered.
func (rc *receiptChecker) check(ctx context.Context, s uint64, wantRead, wantDelivered []uint64) error {
	var wantR, wantD []uint64 // read; delivered, not read
	for m, u := range rc.markers {
		switch {
		case wantRead[m] >= s:
			wantR = append(wantR, u.ID)
		case wantDelivered[m] >= s:
			wantD = append(wantD, u.ID)
		}
	}
	var gotR, gotD []uint64
	var first *messagepb.GetReceiptsResponse
	after := uint64(0)
	for page := 0; page < 100; page++ {
		t0 := time.Now()
		resp, err := rc.client.GetReceipts(rc.owner.Ctx(ctx), &messagepb.GetReceiptsRequest{ConversationId: rc.conv, Seq: s, AfterUserId: after, Limit: 1000})
		if err != nil {
			return fmt.Errorf("GetReceipts at seq %d: %w", s, err)
		}
		rc.latencies = append(rc.latencies, time.Since(t0))
		if first == nil {
			first = resp
		}
		gotR, gotD = append(gotR, resp.GetReadUserId()...), append(gotD, resp.GetDeliveredUserId()...)
		if after = resp.GetNextAfterUserId(); after == 0 {
			break
		}
	}
	slices.Sort(gotR)
	slices.Sort(gotD)
	slices.Sort(wantR)
	slices.Sort(wantD)
	wrong := ""
	switch {
	case first.GetMemberCount() != uint64(len(rc.markers)):
		wrong = fmt.Sprintf("member_count %d, not %d", first.GetMemberCount(), len(rc.markers))
	case first.GetDeliveredCount() != uint64(len(wantR)+len(wantD)):
		wrong = fmt.Sprintf("delivered_count %d, marked %d", first.GetDeliveredCount(), len(wantR)+len(wantD))
	case first.GetReadCount() != uint64(len(wantR)):
		wrong = fmt.Sprintf("read_count %d, marked %d", first.GetReadCount(), len(wantR))
	case rc.capped && len(gotR)+len(gotD) > 0:
		wrong = fmt.Sprintf("%d ids above the cap", len(gotR)+len(gotD))
	case !rc.capped && (!slices.Equal(gotR, wantR) || !slices.Equal(gotD, wantD)):
		wrong = fmt.Sprintf("%d read and %d delivered ids listed; marked %d and %d", len(gotR), len(gotD), len(wantR), len(wantD))
	}
	if wrong != "" {
		rc.wrong++
		if rc.first == "" {
			rc.first = fmt.Sprintf("seq %d: %s", s, wrong)
		}
	}
	return nil
}
