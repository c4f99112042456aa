package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
)

func init() {
	scenarios = append(scenarios, scenario{"direct", runDirect}, scenario{"direct-cluster", runDirectCluster},
		scenario{"fanout", runFanout}, scenario{"idle", runIdle})
}

// drainWait is how long deliveries may trail the last acknowledged send.
const drainWait = 5 * time.Second

// sendStamp is the text of a bench message: when it was sent, as an offset
// from base (monotonic), and which sender slot sent it.
func sendStamp(base time.Time, slot int) string {
	return strconv.FormatInt(int64(time.Since(base)), 10) + "/" + strconv.Itoa(slot)
}

func parseStamp(text string) (sent time.Duration, slot int, ok bool) {
	t, s, found := strings.Cut(text, "/")
	if !found {
		return 0, 0, false
	}
	ns, err1 := strconv.ParseInt(t, 10, 64)
	slot, err2 := strconv.Atoi(s)
	return time.Duration(ns), slot, err1 == nil && err2 == nil
}

// pushed decodes a frame pushing a message; other frames are not.
func pushed(f *gatewaypb.SendMessageResponse) (*messagepb.Message, bool, error) {
	if f.GetCmd() != cmdMessage {
		return nil, false, nil
	}
	var m messagepb.Message
	if err := proto.Unmarshal(f.GetData(), &m); err != nil {
		return nil, true, err
	}
	return &m, true, nil
}

func pairConversation(a, b uint64) string {
	return fmt.Sprintf("u:%d:%d", min(a, b), max(a, b))
}

// inbox is what one receiving device saw; only its receive goroutine
// writes it while the streams are open.
type inbox struct {
	order
	ids      []uint64        // in arrival order
	latency  []time.Duration // send → receipt, per message
	arrivals []time.Duration // receipt, as an offset from base
	strange  int             // frames that were not what the device expected
}

// runDirect: N user pairs, each receiver online on a gateway stream, the
// senders sending 1:1 text messages as fast as they can through the unary
// SendUserTextMessage: ≥ 5,000 messages/s persisted, p99 send → receive
// ≤ 50 ms, and every acknowledged message delivered exactly once, in seq
// order, to its receiver.
func runDirect(ctx context.Context, e *env) ([]Row, error) {
	return runDirectBetween(ctx, e, "direct", e.parley, e.conn)
}

// runDirectCluster is runDirect across two nodes joined by NATS: the
// receivers are online on one, the senders send through the other, so
// every delivery crosses the bus. The nodes (and an embedded NATS server)
// are started for it on the run's database.
func runDirectCluster(ctx context.Context, e *env) ([]Row, error) {
	const name = "direct-cluster"
	nats, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, err
	}
	nats.Start()
	defer func() { nats.Shutdown(); nats.WaitForShutdown() }()
	if !nats.ReadyForConnections(10 * time.Second) {
		return nil, errors.New("embedded NATS did not start")
	}
	var nodes []*process
	defer func() {
		for _, n := range nodes {
			n.Stop()
		}
	}()
	for i := range 2 {
		n, err := startNode(ctx, e.bin, e.dbURL, filepath.Join(e.dir, fmt.Sprintf("node-%d", i+1)),
			"-nats-url", nats.ClientURL(), "-node-id", fmt.Sprintf("bench-node-%d", i+1), "-auto-migrate=false")
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	senderConns, closeConns, err := dialConns(nodes[1].Addr, 8)
	if err != nil {
		return nil, err
	}
	defer closeConns()
	watches := []*watch{nodes[0].watch(), nodes[1].watch()}
	rows, err := runDirectBetween(ctx, e, name, nodes[0], func(i int) *grpc.ClientConn { return senderConns[i%len(senderConns)] })
	rows = append(rows, info(name, "nodes", 2, "nodes"))
	for i, w := range watches {
		for _, r := range w.end(name) {
			r.Metric = fmt.Sprintf("node %d: %s", i+1, r.Metric)
			rows = append(rows, r)
		}
	}
	return rows, err
}

// runDirectBetween runs the 1:1 scenario with the receivers' streams on
// receiving and the senders' calls on the connections senderConn gives.
func runDirectBetween(ctx context.Context, e *env, name string, receiving *process, senderConn func(worker int) *grpc.ClientConn) ([]Row, error) {
	pairs, nconns, workers := 500, 16, 64
	if e.quick {
		pairs, nconns = 50, 4
	}
	workers = min(workers, pairs)
	senders, err := seedUsers(ctx, e, name+"-s", pairs)
	if err != nil {
		return nil, err
	}
	receivers, err := seedUsers(ctx, e, name+"-r", pairs)
	if err != nil {
		return nil, err
	}
	conns, closeConns, err := dialConns(receiving.Addr, nconns)
	if err != nil {
		return nil, err
	}
	defer closeConns()

	base := time.Now()
	boxes := make([]inbox, pairs)
	var delivered atomic.Int64
	handle := func(d *device, f *gatewaypb.SendMessageResponse) {
		at := time.Since(base)
		box := &boxes[d.index]
		m, ok, err := pushed(f)
		if !ok {
			return // a pong, say
		}
		sent, _, stamped := parseStamp(m.GetText().GetContent())
		want := pairConversation(senders[d.index].ID, receivers[d.index].ID)
		if err != nil || !stamped || m.GetConversationId() != want {
			box.strange++
			return
		}
		box.see(m.GetConversationId(), m.GetSeq())
		box.ids = append(box.ids, m.GetId())
		box.latency = append(box.latency, at-sent)
		box.arrivals = append(box.arrivals, at)
		delivered.Add(1)
	}
	already, err := openServerStreams(ctx, receiving)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "   opening %d receiver streams over %d connections\n", pairs, nconns)
	devices, err := openDevices(ctx, conns, receivers, name, handle)
	if err != nil {
		return nil, err
	}
	defer closeDevices(devices)

	// Worker w sends for pairs w, w+workers, w+2·workers… in turn, so each
	// pair has one send in flight at a time; acked[p] is pair p's worker's.
	acked := make([][]uint64, pairs)
	turn := make([]int, workers)
	fmt.Fprintf(os.Stderr, "   %d workers sending for %s\n", workers, e.duration())
	phaseStart := time.Since(base)
	res := closedLoop(ctx, workers, e.duration(), func(ctx context.Context, w int) error {
		p := w + turn[w]*workers
		if turn[w]++; w+turn[w]*workers >= pairs {
			turn[w] = 0
		}
		resp, err := messagepb.NewMessageServiceClient(senderConn(w)).SendUserTextMessage(senders[p].Ctx(ctx), &messagepb.SendUserTextMessageRequest{
			ToUserId: receivers[p].ID, Text: &messagepb.TextMessage{Content: sendStamp(base, p)},
		})
		if err != nil {
			return err
		}
		acked[p] = append(acked[p], resp.GetId())
		return nil
	})
	phaseEnd := phaseStart + res.Duration
	total := 0
	for _, ids := range acked {
		total += len(ids)
	}
	drainStart := time.Now()
	for delivered.Load() < int64(total) && time.Since(drainStart) < drainWait && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	drained := time.Since(drainStart)
	closeDevices(devices)
	closedErr := awaitServerStreams(ctx, receiving, already, 30*time.Second)

	var (
		in                     integrity
		latencies              []time.Duration
		inPhase, strange, unak int
	)
	for p := range boxes {
		box := &boxes[p]
		in.disordered += box.violations
		if box.first != "" {
			in.note(fmt.Sprintf("receiver %d: %s", p, box.first))
		}
		strange += box.strange
		got := map[uint64]int{}
		for _, id := range box.ids {
			got[id]++
		}
		for _, id := range acked[p] {
			switch n := got[id]; {
			case n == 0:
				in.lost++
				in.note(fmt.Sprintf("receiver %d never got message %d", p, id))
			case n > 1:
				in.duplicated += n - 1
				in.note(fmt.Sprintf("receiver %d got message %d %d times", p, id, n))
			}
			delete(got, id)
		}
		unak += len(got) // delivered but never acknowledged: a failed send that was saved
		latencies = append(latencies, box.latency...)
		for _, at := range box.arrivals {
			if at >= phaseStart && at <= phaseEnd {
				inPhase++
			}
		}
	}
	secs := res.Duration.Seconds()
	rows := []Row{
		info(name, "pairs", float64(pairs), "pairs"),
		info(name, "acknowledged sends", float64(total), "msgs"),
		check(name, "messages/s persisted", res.RPS(), "msg/s", "≥ 5,000 msg/s", res.RPS() >= 5000),
		info(name, "delivered/s", float64(inPhase)/secs, "msg/s"),
		info(name, "send (ack) p50", ms(res.Percentile(50)), "ms"),
		info(name, "send (ack) p99", ms(res.Percentile(99)), "ms"),
		info(name, "send→receive p50", ms(percentile(latencies, 50)), "ms"),
		info(name, "send→receive p95", ms(percentile(latencies, 95)), "ms"),
		check(name, "send→receive p99", ms(percentile(latencies, 99)), "ms", "≤ 50 ms", percentile(latencies, 99) <= 50*time.Millisecond),
		info(name, "drain after last ack", ms(drained), "ms"),
	}
	rows = append(rows, in.rows(name)...)
	if unak > 0 {
		rows = append(rows, info(name, "delivered, not acknowledged", float64(unak), "msgs"))
	}
	if strange > 0 {
		rows = append(rows, info(name, "unexpected pushes", float64(strange), "frames"))
	}
	return rows, errors.Join(errorsOf(res), streamErrors(devices), closedErr, in.failure(), strangeErr(strange))
}

func strangeErr(n int) error {
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%d pushes were not the bench's messages of the device's conversation", n)
}

// pacer tracks one fan-out sender's message in flight: how many members
// have yet to receive it.
type pacer struct {
	remaining atomic.Int64
	done      chan struct{} // signalled when remaining reaches 0
}

// runFanout: one group of M members, all online, each on a gateway stream
// multiplexed over a few hundred connections. (a) One message: p99 send →
// receipt over the members ≤ 250 ms. (b) Sustained: K members sending group
// messages for the phase, ≥ 100,000 deliveries/s across the members. Every
// member must get every message exactly once, in seq order.
//
// Each sender has one message in flight until every member has it, then
// sends the next (a closed loop on delivery, not on the acknowledgement):
// K senders keep K·M pushes in the pipe, enough to keep it busy, while a
// loop on acknowledgements alone would pile up pushes in the servers'
// stream queues far faster than any server can write them.
func runFanout(ctx context.Context, e *env) ([]Row, error) {
	const name = "fanout"
	members, nconns, nsenders := 10_000, 200, 8
	if e.quick {
		members, nconns, nsenders = 200, 10, 4
	}
	users, err := seedUsers(ctx, e, "fanout", members)
	if err != nil {
		return nil, err
	}
	created, err := grouppb.NewGroupServiceClient(e.conn(0)).CreateGroup(users[0].Ctx(ctx), &grouppb.CreateGroupRequest{Name: "fanout"})
	if err != nil {
		return nil, fmt.Errorf("create group: %w", err)
	}
	groupID := created.GetGroup().GetId()
	others := make([]int64, 0, members-1)
	for _, u := range users[1:] {
		others = append(others, int64(u.ID))
	}
	if _, err := e.pool.Exec(ctx, `
		WITH added AS (
			INSERT INTO groups.members (group_id, user_id) SELECT $1, u FROM unnest($2::bigint[]) AS u RETURNING 1
		)
		UPDATE groups.groups SET member_count = member_count + (SELECT count(*) FROM added) WHERE id = $1`,
		int64(groupID), others); err != nil {
		return nil, fmt.Errorf("seed members: %w", err)
	}
	conns, closeConns, err := dialConns(e.parley.Addr, nconns)
	if err != nil {
		return nil, err
	}
	defer closeConns()

	conv := fmt.Sprintf("g:%d", groupID)
	base := time.Now()
	pacers := make([]pacer, nsenders)
	for i := range pacers {
		pacers[i].done = make(chan struct{}, 1)
	}
	// bySeq is the id each seq carried, as the first member to see it saw
	// it; every other member must agree.
	bySeq := make([]atomic.Uint64, 1<<20)
	type memberBox struct {
		order
		lone     time.Duration // send → receipt of seq 1, the lone message
		latency  []time.Duration
		strange  int
		mismatch string
	}
	boxes := make([]memberBox, members)
	var delivered atomic.Int64
	handle := func(d *device, f *gatewaypb.SendMessageResponse) {
		at := time.Since(base)
		box := &boxes[d.index]
		m, ok, err := pushed(f)
		if !ok {
			return
		}
		sent, slot, stamped := parseStamp(m.GetText().GetContent())
		if err != nil || !stamped || slot < 0 || slot >= nsenders || m.GetConversationId() != conv {
			box.strange++
			return
		}
		seq := m.GetSeq()
		box.see(conv, seq)
		if seq < uint64(len(bySeq)) && !bySeq[seq].CompareAndSwap(0, m.GetId()) {
			if other := bySeq[seq].Load(); other != m.GetId() && box.mismatch == "" {
				box.mismatch = fmt.Sprintf("seq %d is message %d here, %d at another member", seq, m.GetId(), other)
			}
		}
		if seq == 1 {
			box.lone = at - sent
		} else {
			box.latency = append(box.latency, at-sent)
		}
		delivered.Add(1)
		if pacers[slot].remaining.Add(-1) == 0 {
			select {
			case pacers[slot].done <- struct{}{}:
			default: // never block the stream: a signal nobody took is already there
			}
		}
	}
	already, err := openServerStreams(ctx, e.parley)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "   opening %d member streams over %d connections\n", members, nconns)
	opened := time.Now()
	devices, err := openDevices(ctx, conns, users, "fanout", handle)
	if err != nil {
		return nil, err
	}
	defer closeDevices(devices)
	openTime := time.Since(opened)

	var (
		ackedMu sync.Mutex
		acked   []uint64
		aborted atomic.Bool
	)
	// send sends one message from sender slot's user and waits until every
	// member has it.
	send := func(ctx context.Context, slot int) error {
		if aborted.Load() {
			return errors.New("aborted: an earlier message never reached every member")
		}
		p := &pacers[slot]
		p.remaining.Store(int64(members))
		resp, err := messagepb.NewMessageServiceClient(e.conn(slot)).SendGroupTextMessage(users[slot].Ctx(ctx), &messagepb.SendGroupTextMessageRequest{
			ToGroupId: groupID, Text: &messagepb.TextMessage{Content: sendStamp(base, slot)},
		})
		if err != nil {
			aborted.Store(true) // it may have been saved: the pacer cannot tell
			return err
		}
		ackedMu.Lock()
		acked = append(acked, resp.GetId())
		ackedMu.Unlock()
		select {
		case <-p.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(30 * time.Second):
			aborted.Store(true)
			return fmt.Errorf("message %d: %d of %d members still without it after 30 s", resp.GetId(), p.remaining.Load(), members)
		}
	}

	// (a) one message, from the owner.
	fmt.Fprintf(os.Stderr, "   one message to %d members\n", members)
	var errs []error
	if err := send(ctx, 0); err != nil {
		errs = append(errs, fmt.Errorf("the lone message: %w", err))
	}
	var firsts []time.Duration
	for i := range boxes {
		if boxes[i].last[conv] >= 1 {
			firsts = append(firsts, boxes[i].lone)
		}
	}
	lastFirst := slices.Max(append(firsts, 0))

	// (b) sustained.
	var res Result
	var inPhase int64
	if len(errs) == 0 {
		fmt.Fprintf(os.Stderr, "   %d senders for %s\n", nsenders, e.duration())
		before := delivered.Load()
		var snap atomic.Int64
		timer := time.AfterFunc(e.duration(), func() { snap.Store(delivered.Load()) })
		res = closedLoop(ctx, nsenders, e.duration(), send)
		timer.Stop()
		if snap.Load() == 0 {
			snap.Store(delivered.Load())
		}
		inPhase = snap.Load() - before
		if res.Errors > 0 {
			errs = append(errs, errorsOf(res))
		}
	}
	// Every paced send waited for its deliveries; a failed one may not have.
	drainStart := time.Now()
	for delivered.Load() < int64(len(acked)*members) && time.Since(drainStart) < drainWait && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	closeDevices(devices)
	errs = append(errs, streamErrors(devices), awaitServerStreams(ctx, e.parley, already, 30*time.Second))

	// Every member saw seqs 1, 2, 3… once each (order); all agree on the
	// id of each seq (bySeq); the last seq is the last of the conversation,
	// and every acknowledged id is among them.
	var in integrity
	maxSeq := uint64(0)
	for _, b := range boxes {
		maxSeq = max(maxSeq, b.last[conv])
	}
	saved := map[uint64]bool{}
	for s := uint64(1); s <= maxSeq && s < uint64(len(bySeq)); s++ {
		saved[bySeq[s].Load()] = true
	}
	for _, id := range acked {
		if !saved[id] {
			in.lost += members
			in.note(fmt.Sprintf("no member got acknowledged message %d", id))
		}
	}
	var latencies []time.Duration
	strange := 0
	for i := range boxes {
		b := &boxes[i]
		in.disordered += b.violations
		if b.first != "" {
			in.note(fmt.Sprintf("member %d: %s", i, b.first))
		}
		if b.mismatch != "" {
			in.duplicated++
			in.note(fmt.Sprintf("member %d: %s", i, b.mismatch))
		}
		if missing := maxSeq - b.last[conv]; missing > 0 {
			in.lost += int(missing)
			in.note(fmt.Sprintf("member %d stopped at seq %d of %d", i, b.last[conv], maxSeq))
		}
		strange += b.strange
		latencies = append(latencies, b.latency...)
	}
	if maxSeq >= uint64(len(bySeq)) {
		errs = append(errs, fmt.Errorf("more than %d messages: the bench's seq table is too small", len(bySeq)-1))
	}

	secs := res.Duration.Seconds()
	rows := []Row{
		info(name, "members", float64(members), "streams"),
		info(name, "connections", float64(nconns), "conns"),
		info(name, "streams opened/s", float64(members)/openTime.Seconds(), "streams/s"),
		info(name, "one message p50", ms(percentile(firsts, 50)), "ms"),
		check(name, "one message p99", ms(percentile(firsts, 99)), "ms", "≤ 250 ms", len(firsts) > 0 && percentile(firsts, 99) <= 250*time.Millisecond),
		info(name, "one message max (last member)", ms(lastFirst), "ms"),
		info(name, "senders", float64(nsenders), "users"),
		info(name, "group messages/s", res.RPS(), "msg/s"),
	}
	if secs > 0 {
		rows = append(rows, check(name, "delivered/s", float64(inPhase)/secs, "msg/s", "≥ 100,000 msg/s", float64(inPhase)/secs >= 100_000))
	} else {
		rows = append(rows, check(name, "delivered/s", 0, "msg/s", "≥ 100,000 msg/s", false))
	}
	rows = append(rows,
		info(name, "sustained send→receive p50", ms(percentile(latencies, 50)), "ms"),
		info(name, "sustained send→receive p99", ms(percentile(latencies, 99)), "ms"),
		info(name, "messages", float64(maxSeq), "msgs"),
		info(name, "deliveries", float64(delivered.Load()), "msgs"),
	)
	rows = append(rows, in.rows(name)...)
	if strange > 0 {
		rows = append(rows, info(name, "unexpected pushes", float64(strange), "frames"))
	}
	errs = append(errs, in.failure(), strangeErr(strange))
	return rows, errors.Join(errs...)
}

// devicesPerIdleUser keeps each idle user under the server's cap of 64
// devices online per user (gateway.MaxEndpointsPerUser).
const devicesPerIdleUser = 50

// runIdle: S idle gateway streams held open (60 s; the phase when quick),
// many per connection: the server's resident memory beyond its baseline,
// per stream, ≤ 10 KB.
func runIdle(ctx context.Context, e *env) ([]Row, error) {
	const name = "idle"
	streams, nconns, hold := 50_000, 500, 60*time.Second
	if e.quick || e.phase > 0 {
		hold = e.duration()
	}
	if e.quick {
		streams, nconns = 500, 5
	}
	users, err := seedUsers(ctx, e, "idle", (streams+devicesPerIdleUser-1)/devicesPerIdleUser)
	if err != nil {
		return nil, err
	}
	owners := make([]seededUser, streams)
	for i := range owners {
		owners[i] = users[i/devicesPerIdleUser]
	}
	conns, closeConns, err := dialConns(e.parley.Addr, nconns)
	if err != nil {
		return nil, err
	}
	defer closeConns()

	already, err := openServerStreams(ctx, e.parley)
	if err != nil {
		return nil, err
	}
	baseline := settledRSS(ctx, e.parley, 10*time.Second)
	fmt.Fprintf(os.Stderr, "   opening %d idle streams over %d connections (server RSS %.1f MiB)\n", streams, nconns, float64(baseline)/(1<<20))
	opened := time.Now()
	devices, err := openDevices(ctx, conns, owners, "idle", nil)
	if err != nil {
		return nil, err
	}
	defer closeDevices(devices)
	openTime := time.Since(opened)

	fmt.Fprintf(os.Stderr, "   holding them for %s\n", hold)
	cpu0 := e.parley.CPUSeconds()
	holdStart := time.Now()
	var peak, last int64
	for {
		last = e.parley.RSSBytes()
		peak = max(peak, last)
		if time.Since(holdStart) >= hold || ctx.Err() != nil {
			break
		}
		time.Sleep(min(time.Second, hold-time.Since(holdStart)))
	}
	idleCPU := (e.parley.CPUSeconds() - cpu0) / time.Since(holdStart).Seconds()

	// Every stream must still be open: each answers a ping.
	var dead atomic.Int64
	var firstDead atomic.Value
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(openParallel, streams) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(devices) {
					return
				}
				if err := pingDevice(devices[i], 10*time.Second); err != nil {
					dead.Add(1)
					firstDead.CompareAndSwap(nil, fmt.Sprintf("stream %d: %v", i, err))
				}
			}
		})
	}
	wg.Wait()
	closeDevices(devices)
	closeStart := time.Now()
	closedErr := awaitServerStreams(ctx, e.parley, already, 60*time.Second)
	closeTime := time.Since(closeStart)

	perStream := float64(peak-baseline) / float64(streams)
	rows := []Row{
		info(name, "streams", float64(streams), "streams"),
		info(name, "connections", float64(nconns), "conns"),
		info(name, "streams opened/s", float64(streams)/openTime.Seconds(), "streams/s"),
		info(name, "held", hold.Seconds(), "s"),
		info(name, "server RSS before", float64(baseline)/(1<<20), "MiB"),
		info(name, "server RSS open (peak)", float64(peak)/(1<<20), "MiB"),
		info(name, "server RSS open (end)", float64(last)/(1<<20), "MiB"),
		check(name, "RSS per stream", perStream, "B", "≤ 10 KB (10,000 B)", perStream <= 10_000),
		info(name, "server CPU while held", idleCPU, "cores"),
		check(name, "streams alive at the end", float64(int64(streams)-dead.Load()), "streams", fmt.Sprintf("all %d", streams), dead.Load() == 0),
		info(name, "server closing them", ms(closeTime), "ms"),
		info(name, "server RSS after closing", float64(e.parley.RSSBytes())/(1<<20), "MiB"),
	}
	if n := dead.Load(); n > 0 {
		return rows, fmt.Errorf("%d of %d idle streams did not answer a ping after %s, first: %v", n, streams, hold, firstDead.Load())
	}
	return rows, closedErr
}
