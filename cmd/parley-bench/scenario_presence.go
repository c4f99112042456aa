package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/userpb"
)

func init() {
	scenarios = append(scenarios, scenario{"presence", runPresence})
}

// cmdPresence is the frame cmd of a presence push (data: a userpb.Presence),
// as the user module pushes it to a user's contacts.
const cmdPresence = "presence"

// presenceReach is how far each user's contacts reach on the ring: user i
// follows users i±1 … i±presenceReach (mod N), so each follows 2·reach
// users and is followed by the same ones.
const presenceReach = 10

// presenceSettle is how long presence frames may trail the last stream's
// opening before the missing ones count as lost; presenceQuiet is how long
// no frame may come before the count is taken as final.
const (
	presenceSettle = 60 * time.Second
	presenceQuiet  = time.Second
)

// presenceOffline bounds the wait for every user's session to end after
// its stream closed: the server's grace (10 s) and the writer.
const presenceOffline = 60 * time.Second

// presenceFrame is one online presence frame as a device got it.
type presenceFrame struct {
	about uint64 // the user it tells of
	seen  bool   // last_seen_at set
	at    time.Duration
}

// presenceBox is what one user's device saw. The receive goroutine writes
// it under mu, since the bench reads it while the streams are open.
type presenceBox struct {
	mu       sync.Mutex
	frames   []presenceFrame
	got      map[uint64]int // frames about each user
	strange  int
	firstOdd string
}

func (b *presenceBox) odd(format string, args ...any) {
	b.strange++
	if b.firstOdd == "" {
		b.firstOdd = fmt.Sprintf(format, args...)
	}
}

// ring returns the indexes of user i's contacts among n users.
func ring(i, n int) []int {
	out := make([]int, 0, 2*presenceReach)
	for d := 1; d <= presenceReach; d++ {
		out = append(out, (i+d)%n, (i-d+n)%n)
	}
	return out
}

// runPresence: N users on a ring of follows, none online. User i follows
// the presenceReach users after it and the presenceReach before it (mod
// N), both ways, so each has exactly 2·presenceReach contacts, each of
// which follows it and is followed by it, and no 1:1 conversation. Then
// every user opens its device stream, in a random order, openParallel at a
// time, nobody waiting for anything else: as fast as the server takes them.
// The time a stream is opened is stamped just before the call; it is
// online once its ping is answered. Each contact A of user B that was
// online before B's stream was opened must get one "presence" frame
// telling B is online: connect → presence is its receipt minus B's
// opening. A contact that came online while B was connecting may get it or
// not (it would ask GetPresence); none may get it twice, nor a frame of a
// non-contact or an offline one. Then every user asks GetPresence of its
// contacts (all must be online); the streams close, and once the sessions
// have ended (the server's grace) a sample must see its contacts offline,
// with a last seen.
func runPresence(ctx context.Context, e *env) ([]Row, error) {
	const name = "presence"
	n, nconns := 5_000, 100
	if e.quick {
		n, nconns = 200, 4
	}
	users, err := seedUsers(ctx, e, "presence", n)
	if err != nil {
		return nil, err
	}
	index := make(map[uint64]int, n)
	ids := make([]int64, n)
	for i, u := range users {
		index[u.ID], ids[i] = i, int64(u.ID)
	}
	contact := make([]map[int]bool, n)
	var follows [][]any
	for i := range users {
		contact[i] = map[int]bool{}
		for _, j := range ring(i, n) {
			contact[i][j] = true
			follows = append(follows, []any{int64(users[i].ID), int64(users[j].ID)})
		}
	}
	if _, err := e.pool.CopyFrom(ctx, pgx.Identifier{"users", "follows"},
		[]string{"follower_id", "followee_id"}, pgx.CopyFromRows(follows)); err != nil {
		return nil, fmt.Errorf("seed follows: %w", err)
	}
	if _, err := e.pool.Exec(ctx, "ANALYZE users.follows"); err != nil {
		return nil, err
	}
	if on, err := sessionsOf(ctx, e, ids); err != nil || on != 0 {
		return nil, fmt.Errorf("%d of the seeded users already have presence sessions (%v)", on, err)
	}
	conns, closeConns, err := dialConns(e.parley.Addr, nconns)
	if err != nil {
		return nil, err
	}
	defer closeConns()

	base := time.Now()
	boxes := make([]presenceBox, n)
	for i := range boxes {
		boxes[i].got = map[uint64]int{}
	}
	var frames atomic.Int64
	var lastFrameAt atomic.Int64
	handle := func(d *device, f *gatewaypb.SendMessageResponse) {
		at := time.Since(base)
		box := &boxes[d.index]
		box.mu.Lock()
		defer box.mu.Unlock()
		if f.GetCmd() != cmdPresence {
			box.odd("unexpected %q frame", f.GetCmd())
			return
		}
		var p userpb.Presence
		if err := proto.Unmarshal(f.GetData(), &p); err != nil {
			box.odd("undecodable presence frame: %v", err)
			return
		}
		j, ok := index[p.GetUserId()]
		if !ok || !contact[d.index][j] || !p.GetOnline() {
			box.odd("presence frame of user %d (online %v), not an online contact", p.GetUserId(), p.GetOnline())
			return
		}
		box.frames = append(box.frames, presenceFrame{about: p.GetUserId(), seen: p.GetLastSeenAt() != nil, at: at})
		box.got[p.GetUserId()]++
		frames.Add(1)
		lastFrameAt.Store(int64(at))
	}
	already, err := openServerStreams(ctx, e.parley)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "   %d users, %d contacts each; opening every stream over %d connections, %d at a time, in a random order\n",
		n, 2*presenceReach, nconns, openParallel)
	order := rand.New(rand.NewPCG(19, 5000)).Perm(n)
	opened, ready := make([]time.Duration, n), make([]time.Duration, n)
	waveStart := time.Since(base)
	devices, err := openStamped(ctx, conns, users, order, "presence", base, handle, opened, ready)
	if err != nil {
		return nil, err
	}
	defer closeDevices(devices)
	waveEnd := time.Since(base)

	// required[a] lists the contacts b that a must have heard of: a was
	// online before b's stream was opened.
	required := make([][]int, n)
	total := 0
	for a := range users {
		for b := range contact[a] {
			if ready[a] < opened[b] {
				required[a] = append(required[a], b)
			}
		}
		total += len(required[a])
	}
	missing := func() int {
		m := 0
		for a := range boxes {
			boxes[a].mu.Lock()
			for _, b := range required[a] {
				if boxes[a].got[users[b].ID] == 0 {
					m++
				}
			}
			boxes[a].mu.Unlock()
		}
		return m
	}
	fmt.Fprintf(os.Stderr, "   opened in %s; waiting for %d required presence frames\n", (waveEnd - waveStart).Round(time.Millisecond), total)
	settleStart := time.Now()
	for ctx.Err() == nil {
		quiet := time.Since(base) - time.Duration(lastFrameAt.Load())
		if (missing() == 0 && quiet >= presenceQuiet) || time.Since(settleStart) > presenceSettle {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}

	// GetPresence, as each user would on connecting: all its contacts online.
	var errs []error
	var askedWrong atomic.Int64
	var firstWrong atomic.Value
	fmt.Fprintf(os.Stderr, "   %d users ask GetPresence of their contacts\n", n)
	next := atomic.Int64{}
	askRes := closedCalls(ctx, 16, n, &next, func(ctx context.Context, w, i int) error {
		want := ring(i, n)
		ask := make([]uint64, len(want))
		for k, j := range want {
			ask[k] = users[j].ID
		}
		resp, err := userpb.NewUserServiceClient(e.conn(w)).GetPresence(users[i].Ctx(ctx), &userpb.GetPresenceRequest{UserId: ask})
		if err != nil {
			return err
		}
		if bad := presenceWrong(resp, ask, true); bad != "" {
			askedWrong.Add(1)
			firstWrong.CompareAndSwap(nil, fmt.Sprintf("user %d: %s", users[i].ID, bad))
		}
		return nil
	})
	if askRes.Errors > 0 {
		errs = append(errs, fmt.Errorf("GetPresence while online: %w", errorsOf(askRes)))
	}

	closeDevices(devices)
	errs = append(errs, streamErrors(devices), awaitServerStreams(ctx, e.parley, already, 30*time.Second))

	// Offline: the sessions end after the grace; then a sample of users
	// (every 25th) sees its contacts offline, with a last seen.
	closed := time.Now()
	fmt.Fprintf(os.Stderr, "   streams closed; waiting for the sessions to end\n")
	var offlineAfter time.Duration
	for {
		on, err := sessionsOf(ctx, e, ids)
		if err != nil {
			errs = append(errs, err)
			break
		}
		if on == 0 {
			offlineAfter = time.Since(closed)
			break
		}
		if time.Since(closed) > presenceOffline {
			errs = append(errs, fmt.Errorf("%d of %d users still have presence sessions %s after their streams closed", on, n, presenceOffline))
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	var offWrong atomic.Int64
	var firstOffWrong atomic.Value
	sample := (n + 24) / 25
	if offlineAfter > 0 {
		next.Store(0)
		offRes := closedCalls(ctx, 16, sample, &next, func(ctx context.Context, w, s int) error {
			i := s * 25
			want := ring(i, n)
			ask := make([]uint64, len(want))
			for k, j := range want {
				ask[k] = users[j].ID
			}
			resp, err := userpb.NewUserServiceClient(e.conn(w)).GetPresence(users[i].Ctx(ctx), &userpb.GetPresenceRequest{UserId: ask})
			if err != nil {
				return err
			}
			if bad := presenceWrong(resp, ask, false); bad != "" {
				offWrong.Add(1)
				firstOffWrong.CompareAndSwap(nil, fmt.Sprintf("user %d: %s", users[i].ID, bad))
			}
			return nil
		})
		if offRes.Errors > 0 {
			errs = append(errs, fmt.Errorf("GetPresence after closing: %w", errorsOf(offRes)))
		}
	}

	var (
		lost, dup, extra, strange int
		firstBad, firstStrange    string
		latencies, opens          []time.Duration
		lastAt                    time.Duration
	)
	for a := range boxes {
		b := &boxes[a]
		b.mu.Lock()
		strange += b.strange
		if b.firstOdd != "" && firstStrange == "" {
			firstStrange = fmt.Sprintf("user %d: %s", users[a].ID, b.firstOdd)
		}
		opens = append(opens, ready[a]-opened[a])
		need := map[uint64]bool{}
		for _, c := range required[a] {
			need[users[c].ID] = true
			if b.got[users[c].ID] == 0 {
				lost++
				if firstBad == "" {
					firstBad = fmt.Sprintf("user %d, online %s before its contact %d connected, never heard it came online",
						users[a].ID, (opened[c] - ready[a]).Round(time.Microsecond), users[c].ID)
				}
			}
		}
		seen := map[uint64]bool{}
		for _, f := range b.frames {
			lastAt = max(lastAt, f.at)
			if f.seen {
				strange++
				if firstStrange == "" {
					firstStrange = fmt.Sprintf("user %d: an online frame of %d with a last seen", users[a].ID, f.about)
				}
			}
			if seen[f.about] {
				dup++
				if firstBad == "" {
					firstBad = fmt.Sprintf("user %d heard %d came online twice", users[a].ID, f.about)
				}
				continue
			}
			seen[f.about] = true
			if need[f.about] {
				latencies = append(latencies, f.at-opened[index[f.about]])
			} else {
				extra++
			}
		}
		b.mu.Unlock()
	}

	received := frames.Load()
	rows := []Row{
		info(name, "users", float64(n), "streams"),
		info(name, "contacts each", float64(2*presenceReach), "users"),
		info(name, "connections", float64(nconns), "conns"),
		info(name, "all streams opened in", ms(waveEnd-waveStart), "ms"),
		info(name, "streams opened/s", float64(n)/(waveEnd-waveStart).Seconds(), "streams/s"),
		info(name, "stream open→pong p50", ms(percentile(opens, 50)), "ms"),
		info(name, "stream open→pong p99", ms(percentile(opens, 99)), "ms"),
		info(name, "required presence frames", float64(total), "frames"),
		info(name, "connect→presence p50", ms(percentile(latencies, 50)), "ms"),
		info(name, "connect→presence p95", ms(percentile(latencies, 95)), "ms"),
		info(name, "connect→presence p99", ms(percentile(latencies, 99)), "ms"),
		info(name, "connect→presence max", ms(percentile(latencies, 100)), "ms"),
		info(name, "presence frames", float64(received), "frames"),
	}
	if span := lastAt - waveStart; span > 0 {
		rows = append(rows,
			info(name, "presence frames/s (first open → last frame)", float64(received)/span.Seconds(), "frames/s"),
			info(name, "first open → last frame", ms(span), "ms"))
	}
	rows = append(rows,
		info(name, "frames to contacts connecting meanwhile", float64(extra), "frames"),
		correct(name, "lost online frames", float64(lost), "frames", "0", lost == 0),
		correct(name, "duplicate online frames", float64(dup), "frames", "0", dup == 0),
		info(name, "GetPresence (20 ids) p50", ms(askRes.Percentile(50)), "ms"),
		info(name, "GetPresence (20 ids) p99", ms(askRes.Percentile(99)), "ms"),
		correct(name, "GetPresence online wrong", float64(askedWrong.Load()), "users", "0", askedWrong.Load() == 0),
		info(name, "sessions ended after close", ms(offlineAfter), "ms"),
		correct(name, "GetPresence offline wrong", float64(offWrong.Load()), "users", fmt.Sprintf("0 of %d asked", sample), offWrong.Load() == 0 && offlineAfter > 0),
	)
	if strange > 0 {
		rows = append(rows, info(name, "unexpected pushes", float64(strange), "frames"))
		errs = append(errs, fmt.Errorf("%d unexpected pushes, first: %s", strange, firstStrange))
	}
	if lost+dup > 0 {
		errs = append(errs, fmt.Errorf("presence broken: %d lost, %d duplicated; first: %s", lost, dup, firstBad))
	}
	if w := askedWrong.Load(); w > 0 {
		errs = append(errs, fmt.Errorf("GetPresence while online wrong for %d users, first: %v", w, firstWrong.Load()))
	}
	if w := offWrong.Load(); w > 0 {
		errs = append(errs, fmt.Errorf("GetPresence after closing wrong for %d users, first: %v", w, firstOffWrong.Load()))
	}
	return rows, errors.Join(errs...)
}

// presenceWrong says what is wrong with a GetPresence answer about ask,
// everyone online (online) or everyone offline with a last seen.
func presenceWrong(resp *userpb.GetPresenceResponse, ask []uint64, online bool) string {
	got := resp.GetPresence()
	if len(got) != len(ask) {
		return fmt.Sprintf("%d presences for %d users", len(got), len(ask))
	}
	for k, p := range got {
		switch {
		case p.GetUserId() != ask[k]:
			return fmt.Sprintf("presence %d is of user %d, not %d", k, p.GetUserId(), ask[k])
		case p.GetOnline() != online:
			return fmt.Sprintf("user %d online %v", p.GetUserId(), p.GetOnline())
		case online && p.GetLastSeenAt() != nil:
			return fmt.Sprintf("user %d online with a last seen", p.GetUserId())
		case !online && p.GetLastSeenAt() == nil:
			return fmt.Sprintf("user %d offline without a last seen", p.GetUserId())
		}
	}
	return ""
}

// sessionsOf counts the presence sessions of ids, on any node.
func sessionsOf(ctx context.Context, e *env, ids []int64) (int, error) {
	var on int
	err := e.pool.QueryRow(ctx, `SELECT count(*) FROM users.presence_sessions WHERE user_id = ANY($1::bigint[])`, ids).Scan(&on)
	if err != nil {
		return 0, fmt.Errorf("count presence sessions: %w", err)
	}
	return on, nil
}

// openStamped opens one device per user, in the order given (indexes into
// users), openParallel at a time, stream i on conns[i%len(conns)], and
// stamps each: opened[i] just before the stream's call, ready[i] when the
// server answered its ping (it is registered then), both offsets from
// base. Unlike openDevices, every frame before the pong goes to handle
// too: pushes may reach a device as soon as the server has registered it.
// On error the devices already open are closed.
func openStamped(ctx context.Context, conns []*grpc.ClientConn, users []seededUser, order []int, prefix string,
	base time.Time, handle frameHandler, opened, ready []time.Duration) ([]*device, error) {
	devices := make([]*device, len(users))
	next := atomic.Int64{}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range min(openParallel, len(users)) {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= len(order) || ctx.Err() != nil {
					return
				}
				mu.Lock()
				failed := firstErr != nil
				mu.Unlock()
				if failed {
					return
				}
				i := order[k]
				d, err := openStampedDevice(ctx, conns[i%len(conns)], i, users[i], fmt.Sprintf("%s-%d", prefix, i), base, handle, &opened[i], &ready[i])
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("open stream %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
				devices[i] = d
			}
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		closeDevices(devices)
		return nil, firstErr
	}
	return devices, nil
}

func openStampedDevice(ctx context.Context, conn *grpc.ClientConn, index int, user seededUser, clientID string,
	base time.Time, handle frameHandler, opened, ready *time.Duration) (*device, error) {
	sctx, cancel := context.WithCancel(ctx)
	sctx = metadata.AppendToOutgoingContext(sctx, "authorization", "Bearer "+user.Token, "client-id", clientID)
	*opened = time.Since(base)
	stream, err := gatewaypb.NewGatewayServiceClient(conn).SendMessage(sctx)
	if err != nil {
		cancel()
		return nil, err
	}
	d := &device{index: index, user: user, stream: stream, cancel: cancel, done: make(chan struct{})}
	pong := make(chan time.Duration, 1)
	go d.receive(func(d *device, f *gatewaypb.SendMessageResponse) {
		if f.GetCmd() == cmdPong {
			select {
			case pong <- time.Since(base):
			default:
			}
			return
		}
		handle(d, f)
	})
	fail := func(err error) (*device, error) {
		closeDevices([]*device{d})
		return nil, err
	}
	if err := stream.Send(&gatewaypb.SendMessageRequest{Cmd: cmdPing, RequestId: 1}); err != nil {
		return fail(fmt.Errorf("send ping: %w", err))
	}
	select {
	case at := <-pong:
		*ready = at
		return d, nil
	case <-d.done:
		d.cancel()
		return nil, fmt.Errorf("the stream ended before its pong: %w", d.err)
	case <-time.After(30 * time.Second):
		return fail(errors.New("no pong"))
	}
}
