package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/messagepb"
)

func init() {
	scenarios = append(scenarios, scenario{"typing", runTyping})
}

// cmdTyping is the frame cmd of a typing notice (data: a messagepb.Typing),
// as the message module pushes it.
const cmdTyping = "typing"

// typingGap is how long after a typer's call returned its next notice of
// the same kind goes at the earliest: the server lets through one a second
// per (user, conversation, kind) and drops the rest silently, so a notice
// sent sooner could be lost by design, not by fault.
const typingGap = time.Second + 10*time.Millisecond

// typingWait is how long typing frames may trail the last acknowledged
// notice before the missing ones count as lost.
const typingWait = 5 * time.Second

// typingSend is one SendTyping call of a typer.
type typingSend struct {
	start, ack time.Duration // start, as an offset from base; how long the call took
	stopped    bool
	err        error
}

// typingFrame is one typing frame as a member's device got it.
type typingFrame struct {
	from    uint64 // the typer
	stopped bool
	at      time.Duration // receipt, as an offset from base
}

// typingBox is what one member's device saw; only its receive goroutine
// writes it while the streams are open.
type typingBox struct {
	frames   []typingFrame
	strange  int
	firstOdd string
}

func (b *typingBox) odd(format string, args ...any) {
	b.strange++
	if b.firstOdd == "" {
		b.firstOdd = fmt.Sprintf(format, args...)
	}
}

// runTyping: one group of M members (its owner among them, M at the
// server's -typing-group-cap, 500), every member online on a gateway
// stream. K of them (spread over the member list) type: each sends a
// typing notice (SendTyping, stopped false) once a second for R rounds,
// the K typers staggered evenly over the second, then one stop notice
// (stopped true) half a second after its last. Every notice must reach
// every other member's device exactly once, in the typer's order, and no
// typer's own device. Measured: send → receive over every (notice,
// receiver) pair, deliveries/s, and the calls' latency.
//
// A typer's next notice goes a second after the previous one started, and
// never sooner than typingGap after it returned: the server's one-a-second
// bucket per user, conversation and kind then always has a token, so a
// missing frame is a loss, not the rate limit.
func runTyping(ctx context.Context, e *env) ([]Row, error) {
	const name = "typing"
	members, ntypers, nconns, rounds := 500, 50, 20, 10
	if e.quick {
		members, ntypers, nconns, rounds = 50, 10, 4, 3
	}
	if e.phase > 0 {
		rounds = max(1, int(e.phase/time.Second))
	}
	users, err := seedUsers(ctx, e, "typing", members)
	if err != nil {
		return nil, err
	}
	groupID, err := seedGroup(ctx, e, "typing", users[0], users[1:], 2*time.Minute)
	if err != nil {
		return nil, err
	}
	conv := fmt.Sprintf("g:%d", groupID)
	// Typer k is member typers[k]; typerOf maps a user id back to k.
	typers := make([]int, ntypers)
	typerOf := map[uint64]int{}
	for k := range typers {
		typers[k] = k * members / ntypers
		typerOf[users[typers[k]].ID] = k
	}
	conns, closeConns, err := dialConns(e.parley.Addr, nconns)
	if err != nil {
		return nil, err
	}
	defer closeConns()

	base := time.Now()
	boxes := make([]typingBox, members)
	var delivered atomic.Int64
	handle := func(d *device, f *gatewaypb.SendMessageResponse) {
		at := time.Since(base)
		box := &boxes[d.index]
		switch f.GetCmd() {
		case cmdTyping:
			var t messagepb.Typing
			if err := proto.Unmarshal(f.GetData(), &t); err != nil {
				box.odd("undecodable typing frame: %v", err)
				return
			}
			if _, ok := typerOf[t.GetUserId()]; !ok || t.GetConversationId() != conv || t.GetUserId() == d.user.ID {
				box.odd("typing frame of user %d in %q", t.GetUserId(), t.GetConversationId())
				return
			}
			box.frames = append(box.frames, typingFrame{from: t.GetUserId(), stopped: t.GetStopped(), at: at})
			delivered.Add(1)
		case cmdPong:
		default:
			box.odd("unexpected %q frame", f.GetCmd())
		}
	}
	already, err := openServerStreams(ctx, e.parley)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "   opening %d member streams over %d connections\n", members, nconns)
	devices, err := openDevices(ctx, conns, users, "typing", handle)
	if err != nil {
		return nil, err
	}
	defer closeDevices(devices)

	fmt.Fprintf(os.Stderr, "   %d typers, one notice a second each for %d s, then a stop\n", ntypers, rounds)
	sends := make([][]typingSend, ntypers)
	phaseStart := time.Since(base) + 100*time.Millisecond
	var wg sync.WaitGroup
	for k := range typers {
		wg.Go(func() {
			u := users[typers[k]]
			client := messagepb.NewMessageServiceClient(e.conn(k))
			next := phaseStart + time.Duration(k)*time.Second/time.Duration(ntypers)
			for r := 0; r <= rounds && ctx.Err() == nil; r++ {
				stopped := r == rounds
				if wait := next - time.Since(base); wait > 0 {
					time.Sleep(wait)
				}
				t0 := time.Since(base)
				cctx, cancel := context.WithTimeout(u.Ctx(ctx), 30*time.Second)
				_, err := client.SendTyping(cctx, &messagepb.SendTypingRequest{ConversationId: conv, Stopped: stopped})
				cancel()
				t1 := time.Since(base)
				sends[k] = append(sends[k], typingSend{start: t0, ack: t1 - t0, stopped: stopped, err: err})
				if r+1 == rounds {
					next = t0 + time.Second/2 // the stop: another kind, its own bucket
				} else {
					next = max(t0+time.Second, t1+typingGap)
				}
			}
		})
	}
	wg.Wait()
	lastAck := time.Duration(0)
	var (
		acked  int
		errs   []error
		acks   []time.Duration
		failed int
		first  error
	)
	for k := range sends {
		for _, s := range sends[k] {
			if s.err != nil {
				failed++
				if first == nil {
					first = fmt.Errorf("typer %d: %w", k, s.err)
				}
				continue
			}
			acked++
			acks = append(acks, s.ack)
			lastAck = max(lastAck, s.start+s.ack)
		}
	}
	if failed > 0 {
		errs = append(errs, fmt.Errorf("%d of %d SendTyping calls failed, first: %w", failed, failed+acked, first))
	}
	want := int64(acked * (members - 1))
	if err := awaitCount(ctx, &delivered, want, typingWait); err != nil {
		fmt.Fprintf(os.Stderr, "   %d of %d typing frames came within %s of the last acknowledgement\n", delivered.Load(), want, typingWait)
	}
	closeDevices(devices)
	errs = append(errs, streamErrors(devices), awaitServerStreams(ctx, e.parley, already, 30*time.Second))

	// Each receiver's frames of one typer match that typer's acknowledged
	// notices of the same kind in order: the first frame the first notice
	// started before it, and so on. A frame with no such notice left is a
	// duplicate; a notice no frame matched is lost; a frame matching a
	// notice older than the previous frame's (the stop before the last
	// typing notice, say) is out of order.
	var (
		in           integrity
		latencies    []time.Duration
		strange      int
		firstStrange string
		lastFrame    time.Duration
	)
	for o := range boxes {
		b := &boxes[o]
		strange += b.strange
		if b.firstOdd != "" && firstStrange == "" {
			firstStrange = fmt.Sprintf("member %d: %s", o, b.firstOdd)
		}
		matched := make([][]bool, ntypers)
		prev := make([]int, ntypers)
		for k := range prev {
			matched[k], prev[k] = make([]bool, len(sends[k])), -1
		}
		for _, f := range b.frames {
			k := typerOf[f.from]
			lastFrame = max(lastFrame, f.at)
			j := -1
			for i, s := range sends[k] {
				if s.err == nil && !matched[k][i] && s.stopped == f.stopped && s.start <= f.at {
					j = i
					break
				}
			}
			if j < 0 {
				in.duplicated++
				in.note(fmt.Sprintf("member %d got a typing frame (stopped %v) of typer %d with no notice left to match", o, f.stopped, k))
				continue
			}
			matched[k][j] = true
			if j < prev[k] {
				in.disordered++
				in.note(fmt.Sprintf("member %d got typer %d's notice %d after its notice %d", o, k, j, prev[k]))
			}
			prev[k] = max(prev[k], j)
			latencies = append(latencies, f.at-sends[k][j].start)
		}
		for k := range sends {
			if typers[k] == o {
				continue // a typer's own device gets none of its notices
			}
			for i, s := range sends[k] {
				if s.err == nil && !matched[k][i] {
					in.lost++
					in.note(fmt.Sprintf("member %d never got typer %d's notice %d (stopped %v)", o, k, i, s.stopped))
				}
			}
		}
	}
	sendSpan := lastAck - phaseStart
	rows := []Row{
		info(name, "members", float64(members), "streams"),
		info(name, "connections", float64(nconns), "conns"),
		info(name, "typers", float64(ntypers), "users"),
		info(name, "notices acknowledged", float64(acked), "notices"),
		info(name, "notices/s", float64(acked)/sendSpan.Seconds(), "notices/s"),
		info(name, "send (ack) p50", ms(percentile(acks, 50)), "ms"),
		info(name, "send (ack) p99", ms(percentile(acks, 99)), "ms"),
		info(name, "deliveries", float64(delivered.Load()), "frames"),
	}
	if span := lastFrame - phaseStart; span > 0 {
		rows = append(rows, info(name, "delivered/s", float64(delivered.Load())/span.Seconds(), "frames/s"))
	}
	rows = append(rows,
		info(name, "send→receive p50", ms(percentile(latencies, 50)), "ms"),
		info(name, "send→receive p95", ms(percentile(latencies, 95)), "ms"),
		info(name, "send→receive p99", ms(percentile(latencies, 99)), "ms"),
		info(name, "send→receive max", ms(percentile(latencies, 100)), "ms"),
		correct(name, "lost typing frames", float64(in.lost), "frames", "0", in.lost == 0),
		correct(name, "duplicate typing frames", float64(in.duplicated), "frames", "0", in.duplicated == 0),
		correct(name, "out-of-order typing frames", float64(in.disordered), "frames", "0", in.disordered == 0),
	)
	if strange > 0 {
		rows = append(rows, info(name, "unexpected pushes", float64(strange), "frames"))
		errs = append(errs, fmt.Errorf("%d unexpected pushes, first: %s", strange, firstStrange))
	}
	if in.lost+in.duplicated+in.disordered > 0 {
		errs = append(errs, fmt.Errorf("typing broken: %d lost, %d duplicated, %d out of order; first: %s",
			in.lost, in.duplicated, in.disordered, in.first))
	}
	return rows, errors.Join(errs...)
}
