//go:build faults

package faults

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
)

// call is one unary call of the outage test's light load.
type call struct {
	method     string
	start, end time.Time
	code       codes.Code
	msg        string
}

// probe is one /readyz request.
type probe struct {
	start, end time.Time
	status     int // 0: no HTTP answer
}

// TestDatabaseOutage stops PostgreSQL for about 5 s under a light load of
// reads. Parley must stay up, fail calls fast with Unavailable and say so on
// /readyz, then serve again by itself once PostgreSQL is back on its port.
func TestDatabaseOutage(t *testing.T) {
	e := setup(t)
	srv := e.startServer()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	users := e.seedUsers(ctx, "outage", 2)
	conn := dial(t, srv.GRPC)
	uc := userpb.NewUserServiceClient(conn)
	mc := messagepb.NewMessageServiceClient(conn)
	conv := pairConv(users[0].ID, users[1].ID)
	for i := range 3 {
		a := &attempt{key: fmt.Sprintf("outage-%d", i), from: users[0], to: target{toUser: users[1].ID, conv: conv}}
		_, err := send(ctx, mc, a)
		require.NoError(t, err)
	}

	// The load: 4 callers alternating GetUser and SyncMessages, and a
	// /readyz poller, each recording what it saw.
	var (
		stop   atomic.Bool
		wg     sync.WaitGroup
		mu     sync.Mutex
		calls  []call
		probes []probe
	)
	do := func(method string, f func(context.Context) error) {
		c := call{method: method, start: time.Now()}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := f(cctx)
		cancel()
		c.end = time.Now()
		c.code, c.msg = status.Code(err), status.Convert(err).Message()
		mu.Lock()
		calls = append(calls, c)
		mu.Unlock()
	}
	getUser := func(cctx context.Context) error {
		_, err := uc.GetUser(users[0].ctx(cctx), &userpb.UserGetRequest{Id: users[1].ID})
		return err
	}
	syncConv := func(cctx context.Context) error {
		_, err := mc.SyncMessages(users[1].ctx(cctx), &messagepb.SyncMessagesRequest{ConversationId: conv})
		return err
	}
	for w := range 4 {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				if (n+w)%2 == 0 {
					do("GetUser", getUser)
				} else {
					do("SyncMessages", syncConv)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	wg.Go(func() {
		for !stop.Load() {
			p := probe{start: time.Now()}
			p.status, _ = readyz(srv.HTTP, 10*time.Second)
			p.end = time.Now()
			mu.Lock()
			probes = append(probes, p)
			mu.Unlock()
			time.Sleep(200 * time.Millisecond)
		}
	})
	t.Cleanup(func() { stop.Store(true); wg.Wait() })

	time.Sleep(1500 * time.Millisecond)
	stopBegin := time.Now()
	e.stopDB(ctx)
	stopEnd := time.Now()
	time.Sleep(5 * time.Second)
	require.True(t, srv.running(), "parley exited during the database outage: %v", srv.waitErr)
	restartBegin := time.Now()
	e.startDB(ctx)
	restartEnd := time.Now()
	t.Logf("PostgreSQL stopping took %s, down %s, starting took %s",
		stopEnd.Sub(stopBegin).Round(time.Millisecond), restartBegin.Sub(stopEnd).Round(time.Millisecond),
		restartEnd.Sub(restartBegin).Round(time.Millisecond))

	// Parley recovers by itself: /readyz 200 and a call succeeds.
	var recovered time.Time
	for deadline := restartEnd.Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		code, _ := readyz(srv.HTTP, 3*time.Second)
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := getUser(cctx)
		cancel()
		if code == http.StatusOK && err == nil {
			recovered = time.Now()
			break
		}
	}
	require.False(t, recovered.IsZero(), "parley did not serve again within 15s of PostgreSQL's restart")
	t.Logf("recovered %s after PostgreSQL was back", recovered.Sub(restartEnd).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // calls after recovery must all succeed
	stop.Store(true)
	wg.Wait()
	require.True(t, srv.running(), "parley exited: %v", srv.waitErr)

	rel := func(at time.Time) string { return at.Sub(stopBegin).Round(time.Millisecond).String() }
	var before, during, after, failed int
	for _, c := range calls {
		took := c.end.Sub(c.start)
		switch {
		case c.end.Before(stopBegin):
			before++
			if c.code != codes.OK {
				t.Errorf("%s before the outage failed: %s %q", c.method, c.code, c.msg)
			}
		case c.start.After(stopEnd) && c.end.Before(restartBegin):
			during++
			if c.code == codes.OK {
				t.Errorf("%s at %s succeeded with the database down", c.method, rel(c.start))
			}
		case c.start.After(recovered):
			after++
			if c.code != codes.OK {
				t.Errorf("%s at %s, after recovery, failed: %s %q", c.method, rel(c.start), c.code, c.msg)
			}
		}
		if c.code != codes.OK {
			failed++
			if c.code != codes.Unavailable {
				t.Errorf("%s started at %s (PostgreSQL stopped at 0..%s, back at %s) failed with %s %q, want Unavailable",
					c.method, rel(c.start), rel(stopEnd), rel(restartEnd), c.code, c.msg)
			}
			if took > 3*time.Second {
				t.Errorf("%s started at %s took %s to fail (%s), want under 3s", c.method, rel(c.start), took.Round(time.Millisecond), c.code)
			}
		}
	}
	t.Logf("%d calls: %d before the outage, %d during it, %d after recovery; %d failed", len(calls), before, during, after, failed)
	require.Positive(t, before)
	require.Greater(t, during, 10, "too few calls ran during the outage")
	require.Positive(t, after)

	var downProbes int
	for _, p := range probes {
		if p.start.After(stopEnd) && p.end.Before(restartBegin) {
			downProbes++
			if p.status == http.StatusOK || p.status == 0 {
				t.Errorf("/readyz at %s answered %d with the database down, want 503", rel(p.start), p.status)
			}
			if took := p.end.Sub(p.start); took > 3*time.Second {
				t.Errorf("/readyz at %s took %s", rel(p.start), took.Round(time.Millisecond))
			}
		}
		if p.start.After(recovered) && p.status != http.StatusOK {
			t.Errorf("/readyz at %s, after recovery, answered %d", rel(p.start), p.status)
		}
	}
	require.Greater(t, downProbes, 5, "too few /readyz probes during the outage")
	if lines := srv.logLines(`"message":"internal error"`); len(lines) > 0 {
		t.Errorf("parley logged %d internal errors, first: %s", len(lines), lines[0])
	}
}
