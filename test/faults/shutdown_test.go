//go:build faults

package faults

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/api/gen/gatewaypb"
)

// TestGracefulShutdown sends SIGTERM while users send messages and devices
// are online: calls in flight complete, device streams end with
// Unavailable, the process exits 0 within -shutdown-timeout, and every
// acknowledged message is in the database after a restart.
func TestGracefulShutdown(t *testing.T) {
	const shutdownTimeout = 5 * time.Second
	e := setup(t)
	srv := e.startServer("-shutdown-timeout", shutdownTimeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	users := e.seedUsers(ctx, "term", 8)
	conn := dial(t, srv.GRPC)
	group := e.createGroup(ctx, conn, "term group", users)

	// One device online per user; each stream's receive loop records how
	// the stream ended.
	type device struct {
		cancel context.CancelFunc
		ended  chan error
	}
	gc := gatewaypb.NewGatewayServiceClient(conn)
	devices := make([]device, len(users))
	for i, u := range users {
		sctx, scancel := context.WithCancel(ctx)
		t.Cleanup(scancel)
		sctx = metadata.AppendToOutgoingContext(sctx, "authorization", "Bearer "+u.Token, "client-id", fmt.Sprintf("phone-%d", i))
		stream, err := gc.SendMessage(sctx)
		require.NoError(t, err)
		require.NoError(t, stream.Send(&gatewaypb.SendMessageRequest{Cmd: "ping", RequestId: 1}))
		for {
			f, err := stream.Recv()
			require.NoError(t, err)
			if f.GetCmd() == "pong" {
				break
			}
		}
		d := device{cancel: scancel, ended: make(chan error, 1)}
		go func() {
			for {
				if _, err := stream.Recv(); err != nil {
					d.ended <- err
					return
				}
			}
		}()
		devices[i] = d
	}

	readers := map[string]user{groupConv(group): users[0]}
	var workers []worker
	for i := range 8 {
		peer := users[i^1]
		pair := pairConv(users[i].ID, peer.ID)
		readers[pair] = users[i]
		workers = append(workers, worker{from: users[i], targets: []target{
			{toUser: peer.ID, conv: pair}, {toGroup: group, conv: groupConv(group)},
		}})
	}
	l := startLoad(ctx, conn, "term", workers)
	time.Sleep(1500 * time.Millisecond)

	termAt := time.Now()
	require.NoError(t, srv.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-srv.done:
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatalf("parley still running %s after SIGTERM (-shutdown-timeout %s)", time.Since(termAt).Round(time.Millisecond), shutdownTimeout)
	}
	l.halt()
	exitAfter := srv.exitedAt.Sub(termAt)
	t.Logf("parley exited %s after SIGTERM: %v", exitAfter.Round(time.Millisecond), srv.waitErr)
	require.NoError(t, srv.waitErr, "parley's exit status after SIGTERM")
	require.Less(t, exitAfter, shutdownTimeout+time.Second, "parley took longer than -shutdown-timeout to exit")

	for i, d := range devices {
		select {
		case err := <-d.ended:
			if status.Code(err) != codes.Unavailable {
				t.Errorf("device %d's stream ended with %v (%s), want Unavailable", i, err, status.Code(err))
			}
		case <-time.After(5 * time.Second):
			t.Errorf("device %d's stream did not end after parley exited", i)
		}
	}

	// Calls well under way at SIGTERM completed; any other call failed with
	// Unavailable (refused, so safe to retry), never anything else.
	attempts := l.wait()
	var acked, inFlight, refused int
	for _, a := range attempts {
		if a.acked() {
			acked++
			if a.end.After(termAt) {
				inFlight++
			}
			continue
		}
		refused++
		if a.start.Before(termAt.Add(-100 * time.Millisecond)) {
			t.Errorf("send %s, started %s before SIGTERM, failed: %v", a.key, termAt.Sub(a.start).Round(time.Millisecond), a.err)
		}
		if status.Code(a.err) != codes.Unavailable {
			t.Errorf("send %s failed with %v, want Unavailable", a.key, a.err)
		}
	}
	t.Logf("%d sends: %d acknowledged (%d finished after SIGTERM), %d refused", len(attempts), acked, inFlight, refused)
	require.Greater(t, acked, 50)

	srv = e.startServer()
	conn = dial(t, srv.GRPC)
	_, _, errs := verifyConversations(ctx, conn, attempts, readers)
	for _, msg := range errs {
		t.Errorf("after restart: %s", msg)
	}
}
