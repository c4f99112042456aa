package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/parley-im/parley/api/gen/gatewaypb"
)

// Gateway frame commands the bench speaks (see the gateway module).
const (
	cmdMessage = "message"
	cmdPing    = "ping"
	cmdPong    = "pong"
)

// openParallel is how many streams are being opened at once.
const openParallel = 64

// device is one device online on its own gateway stream, as a phone would
// be: pushes go to the handler on the stream's own receive goroutine.
type device struct {
	index   int
	user    seededUser
	stream  gatewaypb.GatewayService_SendMessageClient
	cancel  context.CancelFunc
	closing atomic.Bool
	done    chan struct{} // closed when the receive loop ends; nil without one
	err     error         // why the receive loop ended, if not closed by us
}

// frameHandler handles a pushed frame of device d, on d's receive goroutine.
type frameHandler func(d *device, f *gatewaypb.SendMessageResponse)

// dialConns opens n connections of its own to addr, to spread streams over.
func dialConns(addr string, n int) ([]*grpc.ClientConn, func(), error) {
	conns := make([]*grpc.ClientConn, 0, n)
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	for range n {
		c, err := dial(addr)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		c.Connect()
		conns = append(conns, c)
	}
	return conns, closeAll, nil
}

// openDevices puts one device online per entry of users (a user listed
// several times gets several devices), stream i on conns[i%len(conns)],
// openParallel at a time. Each stream is confirmed with a ping/pong, so
// when openDevices returns every device is registered and pushes reach it.
// With a handler, each device gets a receive loop calling it; without, the
// streams stay unread (idle devices) and pingDevice may use them.
// On error the devices already open are closed.
func openDevices(ctx context.Context, conns []*grpc.ClientConn, users []seededUser, prefix string, handle frameHandler) ([]*device, error) {
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
				i := int(next.Add(1) - 1)
				if i >= len(users) || ctx.Err() != nil {
					return
				}
				mu.Lock()
				failed := firstErr != nil
				mu.Unlock()
				if failed {
					return
				}
				d, err := openDevice(ctx, conns[i%len(conns)], i, users[i], fmt.Sprintf("%s-%d", prefix, i), handle)
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

func openDevice(ctx context.Context, conn *grpc.ClientConn, index int, user seededUser, clientID string, handle frameHandler) (*device, error) {
	sctx, cancel := context.WithCancel(ctx)
	sctx = metadata.AppendToOutgoingContext(sctx, "authorization", "Bearer "+user.Token, "client-id", clientID)
	stream, err := gatewaypb.NewGatewayServiceClient(conn).SendMessage(sctx)
	if err != nil {
		cancel()
		return nil, err
	}
	d := &device{index: index, user: user, stream: stream, cancel: cancel}
	// The pong comes after the server has put the device online.
	if err := pingDevice(d, 30*time.Second); err != nil {
		cancel()
		return nil, err
	}
	if handle != nil {
		d.done = make(chan struct{})
		go d.receive(handle)
	}
	return d, nil
}

// pingDevice sends a ping on a stream without a receive loop and waits for
// its pong, skipping other frames.
func pingDevice(d *device, timeout time.Duration) error {
	if err := d.stream.Send(&gatewaypb.SendMessageRequest{Cmd: cmdPing, RequestId: 1}); err != nil {
		return fmt.Errorf("send ping: %w", err)
	}
	got := make(chan error, 1)
	go func() {
		for {
			f, err := d.stream.Recv()
			if err != nil {
				got <- fmt.Errorf("wait for pong: %w", err)
				return
			}
			if f.GetCmd() == cmdPong {
				got <- nil
				return
			}
		}
	}()
	select {
	case err := <-got:
		return err
	case <-time.After(timeout):
		d.cancel() // ends the Recv above
		return errors.New("no pong")
	}
}

func (d *device) receive(handle frameHandler) {
	defer close(d.done)
	for {
		f, err := d.stream.Recv()
		if err != nil {
			if !d.closing.Load() {
				d.err = err
			}
			return
		}
		handle(d, f)
	}
}

// closeDevices ends every stream and waits for the receive loops.
func closeDevices(devices []*device) {
	for _, d := range devices {
		if d != nil {
			d.closing.Store(true)
			d.cancel()
		}
	}
	for _, d := range devices {
		if d != nil && d.done != nil {
			<-d.done
		}
	}
}

// streamErrors says which devices' streams ended before the bench closed
// them (the server cut them off, say); call after closeDevices.
func streamErrors(devices []*device) error {
	n := 0
	var first error
	for _, d := range devices {
		if d != nil && d.err != nil {
			n++
			if first == nil {
				first = fmt.Errorf("stream %d (user %d): %w", d.index, d.user.ID, d.err)
			}
		}
	}
	if n > 0 {
		return fmt.Errorf("%d of %d streams ended early, first: %w", n, len(devices), first)
	}
	return nil
}

// order checks one receiver's pushes of one conversation: seq 1, 2, 3…
// each exactly once.
type order struct {
	last       map[string]uint64
	violations int
	first      string // the first violation, described
}

// see records seq of conv and says whether it was the next one.
func (o *order) see(conv string, seq uint64) bool {
	if o.last == nil {
		o.last = map[string]uint64{}
	}
	want := o.last[conv] + 1
	if seq == want {
		o.last[conv] = seq
		return true
	}
	o.violate("%s: got seq %d after %d", conv, seq, want-1)
	if seq > want {
		o.last[conv] = seq // a gap: go on from there
	}
	return false
}

func (o *order) violate(format string, args ...any) {
	o.violations++
	if o.first == "" {
		o.first = fmt.Sprintf(format, args...)
	}
}

// integrity is what a delivery scenario found wrong.
type integrity struct {
	lost, duplicated, disordered int
	first                        string
}

func (in *integrity) note(what string) {
	if in.first == "" {
		in.first = what
	}
}

// rows reports the counts as checks against zero.
func (in integrity) rows(scenario string) []Row {
	return []Row{
		correct(scenario, "lost deliveries", float64(in.lost), "msgs", "0", in.lost == 0),
		correct(scenario, "duplicate deliveries", float64(in.duplicated), "msgs", "0", in.duplicated == 0),
		correct(scenario, "out-of-order deliveries", float64(in.disordered), "msgs", "0", in.disordered == 0),
	}
}

// failure fails the scenario on any loss, duplicate or disorder: a fast run
// that lost a message is not a result.
func (in integrity) failure() error {
	if in.lost+in.duplicated+in.disordered == 0 {
		return nil
	}
	return fmt.Errorf("delivery broken: %d lost, %d duplicated, %d out of order; first: %s",
		in.lost, in.duplicated, in.disordered, in.first)
}

// settledRSS waits (up to limit) for the server's resident memory to stop
// moving, then returns it: a baseline not inflated by the previous phase's
// garbage on its way back to the OS.
func settledRSS(ctx context.Context, p *process, limit time.Duration) int64 {
	deadline := time.Now().Add(limit)
	prev := p.RSSBytes()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(500 * time.Millisecond)
		cur := p.RSSBytes()
		if d := cur - prev; d < 1<<20 && d > -(1<<20) {
			return cur
		}
		prev = cur
	}
	return prev
}

// openServerStreams is how many gateway streams the server has open, from
// its gRPC metrics: SendMessage streams started and not yet handled.
func openServerStreams(ctx context.Context, p *process) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.Admin+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var started, handled float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `grpc_method="SendMessage"`) || !strings.Contains(line, `grpc_service="gateway.GatewayService"`) {
			continue
		}
		var sum *float64
		switch {
		case strings.HasPrefix(line, "grpc_server_started_total{"):
			sum = &started
		case strings.HasPrefix(line, "grpc_server_handled_total{"):
			sum = &handled
		default:
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("metrics: %q: %w", line, err)
		}
		*sum += v
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return int64(started - handled), nil
}

// awaitServerStreams waits (up to limit) until the server has at most want
// gateway streams open: closing thousands of streams takes the server a
// moment, which the next phase should not pay for.
func awaitServerStreams(ctx context.Context, p *process, want int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		open, err := openServerStreams(ctx, p)
		if err != nil {
			return err
		}
		if open <= want {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the server still has %d gateway streams open %s after the bench closed its own", open, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
