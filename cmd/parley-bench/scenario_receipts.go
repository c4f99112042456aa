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

// receiptSamples is how many seqs GetReceipts is checked at, beside the last.
const receiptSamples = 10

// runReceipts: a group of 10,000 members (its owner and 9,999 others,
// seeded straight into the database as the fan-out's group is, as having
// joined two minutes before), then a group of 200, below the server's
// receipt cap. In each, the owner sends a message every 100 ms while
// 16 workers make MarkDelivered and MarkRead calls as the members (their
// own tokens), each call up to the newest seq the owner's device was
// pushed: worker calls go round the members in turn, the first round
// marking delivered, the next read, and so on. Measured: mark calls/s and
// each call's latency. Then:
//   - messages.reads holds at most one row per member for the
//     conversation (not one per member and message), and each member's
//     row holds the highest read and delivered seq it marked (a read mark
//     delivers too);
//   - GetReceipts (as the owner) at 10 seqs spread over the stream and the
//     last counts exactly the members who marked that far, and below the
//     cap lists exactly them;
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
		m := int(c % int64(len(markers)))
		read := (c/int64(len(markers)))%2 == 1
		seq := lastSeq.Load()
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
	for m := range markers {
		wantRead[m] = expRead[m].Load()
		wantDelivered[m] = max(expDelivered[m].Load(), wantRead[m])
	}
	// Wait for the owner's device: every message, and below the cap the
	// receipt frames up to every member's final marks.
	settled := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range sent {
			if _, ok := seqOf[id]; !ok {
				return false
			}
		}
		if capped {
			return true
		}
		for m, u := range markers {
			t := told[u.ID]
			if wantDelivered[m] > 0 && (t == nil || t.DeliveredSeq != wantDelivered[m] || t.ReadSeq != wantRead[m]) {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(markWait); !settled() && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(20 * time.Millisecond)
	}
	if capped {
		time.Sleep(2 * receiptWindow) // a receipt frame, were one due, would have come by now
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
	maxSeq := ord.last[conv]

	// The table: one row per member at most, each with the marks made.
	var tableRows int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM messages.reads WHERE conversation_id = $1`, conv).Scan(&tableRows); err != nil {
		return nil, fmt.Errorf("count marks: %w", err)
	}
	type mark struct{ read, delivered uint64 }
	stored := map[uint64]mark{}
	rs, err := e.pool.Query(ctx, `SELECT user_id, read_seq, delivered_seq FROM messages.reads WHERE conversation_id = $1`, conv)
	if err != nil {
		return nil, fmt.Errorf("read marks: %w", err)
	}
	for rs.Next() {
		var u, r, d int64
		if err := rs.Scan(&u, &r, &d); err != nil {
			rs.Close()
			return nil, err
		}
		stored[uint64(u)] = mark{uint64(r), uint64(d)}
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read marks: %w", err)
	}
	wrongMarks, marked := 0, 0
	firstWrongMark := ""
	for m, u := range markers {
		if wantDelivered[m] > 0 {
			marked++
		}
		if got := stored[u.ID]; got != (mark{wantRead[m], wantDelivered[m]}) {
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

	// GetReceipts at seqs spread over the stream, and the last.
	var checkSeqs []uint64
	for k := range receiptSamples {
		checkSeqs = append(checkSeqs, 1+uint64(k)*(maxSeq-1)/receiptSamples)
	}
	checkSeqs = slices.Compact(append(checkSeqs, maxSeq))
	var receiptsLat []time.Duration
	wrongReceipts := 0
	firstWrongReceipt := ""
	client := messagepb.NewMessageServiceClient(e.conn(0))
	for _, s := range checkSeqs {
		var wantR, wantD []uint64 // read; delivered, not read
		for m, u := range markers {
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
			resp, err := client.GetReceipts(owner.Ctx(ctx), &messagepb.GetReceiptsRequest{ConversationId: conv, Seq: s, AfterUserId: after, Limit: 1000})
			if err != nil {
				return nil, fmt.Errorf("%sGetReceipts at seq %d: %w", label, s, err)
			}
			receiptsLat = append(receiptsLat, time.Since(t0))
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
		case first.GetMemberCount() != uint64(len(markers)):
			wrong = fmt.Sprintf("member_count %d, not %d", first.GetMemberCount(), len(markers))
		case first.GetDeliveredCount() != uint64(len(wantR)+len(wantD)):
			wrong = fmt.Sprintf("delivered_count %d, marked %d", first.GetDeliveredCount(), len(wantR)+len(wantD))
		case first.GetReadCount() != uint64(len(wantR)):
			wrong = fmt.Sprintf("read_count %d, marked %d", first.GetReadCount(), len(wantR))
		case capped && len(gotR)+len(gotD) > 0:
			wrong = fmt.Sprintf("%d ids above the cap", len(gotR)+len(gotD))
		case !capped && (!slices.Equal(gotR, wantR) || !slices.Equal(gotD, wantD)):
			wrong = fmt.Sprintf("%d read and %d delivered ids listed; marked %d and %d", len(gotR), len(gotD), len(wantR), len(wantD))
		}
		if wrong != "" {
			wrongReceipts++
			if firstWrongReceipt == "" {
				firstWrongReceipt = fmt.Sprintf("seq %d: %s", s, wrong)
			}
		}
	}

	// The receipt frames: none above the cap; below it, every member's
	// final marks, about one frame a second.
	lostReceipts := 0
	firstLostReceipt := ""
	if !capped {
		for m, u := range markers {
			t := told[u.ID]
			if t == nil {
				t = &messagepb.MemberMarks{}
			}
			if t.DeliveredSeq != wantDelivered[m] || t.ReadSeq != wantRead[m] {
				lostReceipts++
				if firstLostReceipt == "" {
					firstLostReceipt = fmt.Sprintf("member %d: the frames told read %d, delivered %d; marked read %d, delivered %d",
						u.ID, t.ReadSeq, t.DeliveredSeq, wantRead[m], wantDelivered[m])
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
		info(name, label+"mark calls", float64(res.Requests-res.Errors), "calls"),
		info(name, label+"marks/s", res.RPS(), "calls/s"),
		info(name, label+"marks that moved a mark", float64(moves.Load()), "calls"),
		info(name, label+"mark p50", ms(res.Percentile(50)), "ms"),
		info(name, label+"mark p99", ms(res.Percentile(99)), "ms"),
		info(name, label+"MarkDelivered p99", ms(percentile(delivers, 99)), "ms"),
		info(name, label+"MarkRead p99", ms(percentile(reads, 99)), "ms"),
		info(name, label+"members who marked", float64(marked), "users"),
		check(name, label+"rows in messages.reads", float64(tableRows), "rows", fmt.Sprintf("≤ %d members", members), tableRows <= members),
		info(name, label+"members × messages", float64(members)*float64(maxSeq), "rows"),
		check(name, label+"stored marks wrong", float64(wrongMarks), "users", "0", wrongMarks == 0),
		info(name, label+"GetReceipts p50", ms(percentile(receiptsLat, 50)), "ms"),
		info(name, label+"GetReceipts max", ms(percentile(receiptsLat, 100)), "ms"),
		check(name, label+"GetReceipts wrong", float64(wrongReceipts), "seqs", fmt.Sprintf("0 of %d", len(checkSeqs)), wrongReceipts == 0),
		check(name, label+"lost messages", float64(in.lost), "msgs", "0", in.lost == 0),
		check(name, label+"out-of-order messages", float64(in.disordered), "msgs", "0", in.disordered == 0),
	}
	if secs > 0 {
		rows = append(rows, info(name, label+"messages/s during the marking", float64(len(sent)-1)/secs, "msg/s"))
	}
	if capped {
		rows = append(rows, check(name, label+"receipt frames (above the cap)", float64(frames), "frames", "0", frames == 0))
		if frames > 0 {
			errs = append(errs, fmt.Errorf("%s%d receipt frames in a group of %d, above the cap of %d", label, frames, members, receiptGroupCap))
		}
	} else {
		span := (lastReceipt - firstReceipt).Seconds()
		bound := int(span) + 2
		rows = append(rows,
			check(name, label+"receipt frames", float64(frames), "frames", fmt.Sprintf("≤ %d (one a second)", bound), frames <= bound),
			check(name, label+"members whose final marks no frame told", float64(lostReceipts), "users", "0", lostReceipts == 0),
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
	if wrongReceipts > 0 {
		errs = append(errs, fmt.Errorf("%sGetReceipts wrong at %d seqs, first: %s", label, wrongReceipts, firstWrongReceipt))
	}
	if in.lost+in.disordered > 0 {
		errs = append(errs, fmt.Errorf("%smessages broken: %d lost, %d out of order; first: %s", label, in.lost, in.disordered, in.first))
	}
	return rows, errors.Join(errs...)
}
