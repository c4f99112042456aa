package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

func init() {
	scenarios = append(scenarios, scenario{"ws-idle", runWSIdle})
}

// wsSourceIPs are the loopback addresses the WebSocket clients connect
// from: one source address has about 28,000 ephemeral ports towards one
// server port, and the server lets each address hold 16 connections that
// have not signed in yet, so several spread both.
var wsSourceIPs = []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8", "127.0.0.9"}

// wsOpenersPerIP open connections at once from each source address, under
// the server's 16 anonymous connections per address.
const wsOpenersPerIP = 8

// wsFrame is a frame of the WebSocket edge, as the page sends and reads it.
type wsFrame struct {
	Cmd       string          `json:"cmd"`
	RequestID uint32          `json:"request_id,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// wsClient is one idle browser: its connection and the frames it got.
type wsClient struct {
	conn   *websocket.Conn
	frames chan wsFrame
}

// raiseFileLimit lifts this process's open-file limit to want (parley,
// started after, inherits it): each WebSocket is a file on both sides. It
// answers the limit in force, which may stay lower without the privilege.
func raiseFileLimit(want uint64) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur >= want {
		return lim.Cur
	}
	raised := syscall.Rlimit{Cur: want, Max: max(lim.Max, want)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
		return want
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		return lim.Max
	}
	return lim.Cur
}

// wsFileLimit is the open-file limit the harness asks for at start: 50,000
// sockets on each side and room for the rest.
const wsFileLimit = 120_000

// runWSIdle: 50,000 WebSocket connections to the edge (/ws), each signed in
// with a token of one of 1,000 users (50 devices each, as "idle"), held
// open and idle for 60 s; then each must still answer a ping. The figure
// is the server's RSS growth per connection, its peak during the hold over
// the settled RSS before.
func runWSIdle(ctx context.Context, e *env) ([]Row, error) {
	const name = "ws-idle"
	conns, hold := 50_000, 60*time.Second
	if e.quick || e.phase > 0 {
		hold = e.duration()
	}
	if e.quick {
		conns = 500
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(2*conns+10_000) {
		scaled := max(500, (int(lim.Cur)-10_000)/2)
		fmt.Fprintf(os.Stderr, "   open-file limit %d: %d connections instead of %d\n", lim.Cur, scaled, conns)
		conns = scaled
	}
	users, err := seedUsers(ctx, e, "wsidle", (conns+devicesPerIdleUser-1)/devicesPerIdleUser)
	if err != nil {
		return nil, err
	}
	url := "ws://" + e.parley.HTTP + "/ws"

	baseline := settledRSS(ctx, e.parley, 10*time.Second)
	fmt.Fprintf(os.Stderr, "   opening %d idle WebSocket connections from %d addresses (server RSS %.1f MiB)\n", conns, len(wsSourceIPs), float64(baseline)/(1<<20))
	clients := make([]*wsClient, conns)
	defer func() {
		for _, c := range clients {
			if c != nil {
				_ = c.conn.CloseNow()
			}
		}
	}()
	opened := time.Now()
	var (
		next      atomic.Int64
		failed    atomic.Int64
		firstFail atomic.Value
		wg        sync.WaitGroup
	)
	for _, ip := range wsSourceIPs {
		client := &http.Client{Transport: &http.Transport{
			DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}).DialContext,
		}}
		for range wsOpenersPerIP {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= conns || ctx.Err() != nil {
						return
					}
					c, err := wsOpen(ctx, client, url, users[i/devicesPerIdleUser].Token)
					if err != nil {
						failed.Add(1)
						firstFail.CompareAndSwap(nil, fmt.Sprintf("connection %d: %v", i, err))
						continue
					}
					clients[i] = c
				}
			})
		}
	}
	wg.Wait()
	openTime := time.Since(opened)
	if n := failed.Load(); n > 0 {
		return nil, fmt.Errorf("%d of %d WebSocket connections failed to open and sign in, first: %v", n, conns, firstFail.Load())
	}

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

	// Every connection must still be open and signed in: each answers a ping.
	var dead atomic.Int64
	var firstDead atomic.Value
	next.Store(0)
	for range min(openParallel, conns) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= conns {
					return
				}
				if err := clients[i].ping(ctx, 10*time.Second); err != nil {
					dead.Add(1)
					firstDead.CompareAndSwap(nil, fmt.Sprintf("connection %d: %v", i, err))
				}
			}
		})
	}
	wg.Wait()

	perConn := float64(peak-baseline) / float64(conns)
	rows := []Row{
		info(name, "connections", float64(conns), "conns"),
		info(name, "source addresses", float64(len(wsSourceIPs)), "addresses"),
		info(name, "connections opened and signed in/s", float64(conns)/openTime.Seconds(), "conns/s"),
		info(name, "held", hold.Seconds(), "s"),
		info(name, "server RSS before", float64(baseline)/(1<<20), "MiB"),
		info(name, "server RSS open (peak)", float64(peak)/(1<<20), "MiB"),
		info(name, "server RSS open (end)", float64(last)/(1<<20), "MiB"),
		check(name, "RSS per connection", perConn, "B", "≤ 8 KB (8,000 B)", perConn <= 8_000),
		info(name, "server CPU while held", idleCPU, "cores"),
		correct(name, "connections alive at the end", float64(int64(conns)-dead.Load()), "conns", fmt.Sprintf("all %d", conns), dead.Load() == 0),
	}
	if n := dead.Load(); n > 0 {
		return rows, fmt.Errorf("%d of %d idle WebSocket connections did not answer a ping after %s, first: %v", n, conns, hold, firstDead.Load())
	}
	return rows, nil
}

// wsOpen connects to the edge and signs in with token.
func wsOpen(ctx context.Context, client *http.Client, url, token string) (*wsClient, error) {
	dialCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dialCtx, url, &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		return nil, err
	}
	c := &wsClient{conn: conn, frames: make(chan wsFrame, 4)}
	go c.read()
	auth, err := json.Marshal(map[string]string{"token": token})
	if err != nil {
		return nil, err
	}
	f, err := c.call(dialCtx, wsFrame{Cmd: "auth", RequestID: 1, Data: auth})
	if err != nil {
		_ = conn.CloseNow()
		return nil, err
	}
	if f.Cmd != "auth" {
		_ = conn.CloseNow()
		return nil, fmt.Errorf("sign-in answered %s: %s", f.Cmd, f.Data)
	}
	return c, nil
}

// read hands the connection's frames over until it ends (reading also
// answers the server's pings).
func (c *wsClient) read() {
	defer close(c.frames)
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			return
		}
		var f wsFrame
		if json.Unmarshal(data, &f) == nil {
			select {
			case c.frames <- f:
			default: // an idle client keeps no backlog of pushes
			}
		}
	}
}

// call sends f and waits for the frame answering its request id.
func (c *wsClient) call(ctx context.Context, f wsFrame) (wsFrame, error) {
	data, err := json.Marshal(f)
	if err != nil {
		return wsFrame{}, err
	}
	if err := c.conn.Write(ctx, websocket.MessageText, data); err != nil {
		return wsFrame{}, err
	}
	for {
		select {
		case got, ok := <-c.frames:
			if !ok {
				return wsFrame{}, errors.New("connection closed")
			}
			if got.RequestID == f.RequestID {
				return got, nil
			}
		case <-ctx.Done():
			return wsFrame{}, ctx.Err()
		}
	}
}

func (c *wsClient) ping(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	f, err := c.call(ctx, wsFrame{Cmd: "ping", RequestID: 2})
	if err != nil {
		return err
	}
	if f.Cmd != "pong" {
		return fmt.Errorf("ping answered %s: %s", f.Cmd, f.Data)
	}
	return nil
}
