//go:build faults

package faults

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
)

// soakClients is how many clients run at once, each on its own connection:
// half hold a device stream and ping on it, half make unary calls.
const soakClients = 1000

// soakDuration is 60 s; PARLEY_SOAK_DURATION (a Go duration) changes it.
func soakDuration(t *testing.T) time.Duration {
	if v := os.Getenv("PARLEY_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "PARLEY_SOAK_DURATION")
		return d
	}
	return 60 * time.Second
}

// TestSoak runs 1,000 concurrent clients (unary calls, and device streams
// receiving the messages sent to them) for a minute: no call may fail, and
// afterwards the server's goroutines and live heap return to their
// baseline: nothing a client did stays behind. The baseline is taken after
// a short warm-up round of the same clients, so that what is bounded and
// kept on purpose (the database pool's connections and their statement
// caches, River's maintenance once elected) is in it.
func TestSoak(t *testing.T) {
	e := setup(t)
	srv := e.startServer("-pprof")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	users := e.seedUsers(ctx, "soak", soakClients/2) // each has a device; the callers send to them

	soakRound(ctx, t, srv, users, 5*time.Second)
	time.Sleep(10 * time.Second) // River's leader election, expiring token cache entries
	goroutines0, heap0 := serverGoroutines(t, srv), serverLiveHeap(t, srv)
	t.Logf("baseline after the warm-up: %d goroutines, %.1f MiB live heap", goroutines0, heap0/(1<<20))

	soakRound(ctx, t, srv, users, soakDuration(t))

	// Back to baseline: the connections' goroutines end, caches expire.
	var goroutines int
	var heap float64
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
		goroutines, heap = serverGoroutines(t, srv), serverLiveHeap(t, srv)
		if goroutines <= goroutines0+5 && heap <= heap0*1.2+1<<20 {
			break
		}
		if time.Now().After(deadline) {
			logProfile(t, srv, "goroutine?debug=1")
			logProfile(t, srv, "heap?gc=1&debug=1")
			t.Fatalf("30 s after the soak: %d goroutines (baseline %d), %.1f MiB live heap (baseline %.1f)",
				goroutines, goroutines0, heap/(1<<20), heap0/(1<<20))
		}
	}
	t.Logf("after: %d goroutines, %.1f MiB live heap", goroutines, heap/(1<<20))
}

// soakRound runs the clients, one connection each, for d: half hold
// users' device streams, half call as users and send to the devices. Any
// failed call fails the test.
func soakRound(ctx context.Context, t *testing.T, srv *server, users []user, d time.Duration) {
	t.Helper()
	var (
		calls, pushes atomic.Int64
		errMu         sync.Mutex
		errs          []string
	)
	fail := func(format string, args ...any) {
		errMu.Lock()
		defer errMu.Unlock()
		if len(errs) < 20 {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
	}
	conns := make([]*grpc.ClientConn, 2*len(users))
	for i := range conns {
		conns[i] = dial(t, srv.GRPC)
	}
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() { soakDevice(ctx, conns[i], u, i, end, &pushes, fail) })
		to := users[(i+1)%len(users)]
		wg.Go(func() { soakCaller(ctx, conns[len(users)+i], u, to, end, &calls, fail) })
	}
	wg.Wait()
	for _, c := range conns {
		require.NoError(t, c.Close())
	}
	t.Logf("%d clients: %d unary calls and %d pushes received in %s", len(conns), calls.Load(), pushes.Load(), d)
	require.Empty(t, errs, "unexpected errors")
	require.NotZero(t, pushes.Load(), "the devices received no message")
}

// soakDevice holds u's device stream until end, pinging every second and
// counting the messages pushed to it.
func soakDevice(ctx context.Context, conn *grpc.ClientConn, u user, i int, end time.Time, pushes *atomic.Int64, fail func(string, ...any)) {
	ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(u.ctx(ctx), "client-id", fmt.Sprintf("soak-%d", i)))
	defer cancel()
	stream, err := gatewaypb.NewGatewayServiceClient(conn).SendMessage(ctx)
	if err != nil {
		fail("device %d: open: %v", i, err)
		return
	}
	pongs := make(chan uint32, 4)
	go func() {
		for {
			f, err := stream.Recv()
			if err != nil {
				if ctx.Err() == nil {
					fail("device %d: stream ended: %v", i, err)
				}
				close(pongs)
				return
			}
			switch f.GetCmd() {
			case "pong":
				pongs <- f.GetRequestId()
			case "error":
				fail("device %d: error frame for request %d", i, f.GetRequestId())
			default:
				pushes.Add(1)
			}
		}
	}()
	for id := uint32(1); time.Now().Before(end); id++ {
		if err := stream.Send(&gatewaypb.SendMessageRequest{Cmd: "ping", RequestId: id}); err != nil {
			fail("device %d: ping: %v", i, err)
			return
		}
		select {
		case got, ok := <-pongs:
			if !ok {
				return
			}
			if got != id {
				fail("device %d: pong for %d, want %d", i, got, id)
			}
		case <-time.After(10 * time.Second):
			fail("device %d: no pong within 10s", i)
			return
		}
		time.Sleep(time.Second)
	}
}

// soakCaller makes unary calls as from until end: reads, and messages to
// to, whose device receives them.
func soakCaller(ctx context.Context, conn *grpc.ClientConn, from, to user, end time.Time, calls *atomic.Int64, fail func(string, ...any)) {
	users := userpb.NewUserServiceClient(conn)
	messages := messagepb.NewMessageServiceClient(conn)
	conv := pairConv(from.ID, to.ID)
	for n := 0; time.Now().Before(end); n++ {
		var err error
		switch n % 3 {
		case 0:
			_, err = users.GetUser(from.ctx(ctx), &userpb.UserGetRequest{Id: to.ID})
		case 1:
			_, err = messages.SendUserTextMessage(from.ctx(ctx),
				&messagepb.SendUserTextMessageRequest{ToUserId: to.ID, Text: &messagepb.TextMessage{Content: fmt.Sprintf("soak %d", n)}})
		case 2:
			_, err = messages.SyncMessages(from.ctx(ctx), &messagepb.SyncMessagesRequest{ConversationId: conv})
		}
		if err != nil {
			fail("caller %d, call %d: %v", from.ID, n, err)
			return
		}
		calls.Add(1)
		time.Sleep(100 * time.Millisecond)
	}
}

// serverGoroutines reads go_goroutines from the server's /metrics.
func serverGoroutines(t *testing.T, s *server) int {
	t.Helper()
	resp, err := http.Get("http://" + s.Admin + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			return int(n)
		}
	}
	t.Fatal("no go_goroutines in /metrics")
	return 0
}

// serverLiveHeap is the server's heap in use right after a collection
// (the heap profile with gc=1 collects first), in bytes.
func serverLiveHeap(t *testing.T, s *server) float64 {
	t.Helper()
	resp, err := http.Get("http://" + s.Admin + "/debug/pprof/heap?gc=1&debug=1")
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# HeapAlloc = "); ok {
			n, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no HeapAlloc in the heap profile")
	return 0
}

// logProfile logs the first lines of one of the server's pprof profiles.
func logProfile(t *testing.T, s *server, profile string) {
	resp, err := http.Get("http://" + s.Admin + "/debug/pprof/" + profile)
	if err != nil {
		t.Logf("%s: %v", profile, err)
		return
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 0; n < 120 && sc.Scan(); n++ {
		b.WriteString(sc.Text() + "\n")
	}
	t.Logf("%s:\n%s", profile, b.String())
}
