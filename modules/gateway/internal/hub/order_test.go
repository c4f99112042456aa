package hub

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/api/gen/gatewaypb"
)

// sentSeqs is a stream whose frames (their request ids standing for seqs)
// arrive on a channel.
func sentSeqs(t *testing.T) (*Stream, chan uint32) {
	sent := make(chan uint32, 1000)
	s := NewStream("node", 1000, func(f *gatewaypb.SendMessageResponse) error {
		sent <- f.GetRequestId()
		return nil
	})
	t.Cleanup(func() { s.Close(nil) })
	return s, sent
}

func frame(seq uint64) *gatewaypb.SendMessageResponse {
	return &gatewaypb.SendMessageResponse{Cmd: "message", RequestId: uint32(seq)}
}

func receive(t *testing.T, sent chan uint32, n int, within time.Duration) []uint32 {
	t.Helper()
	var got []uint32
	deadline := time.After(within)
	for len(got) < n {
		select {
		case seq := <-sent:
			got = append(got, seq)
		case <-deadline:
			t.Fatalf("got %v, want %d frames within %s", got, n, within)
		}
	}
	return got
}

func TestSequencerPutsAConversationBackInOrder(t *testing.T) {
	t.Parallel()
	out, sent := sentSeqs(t)
	var q sequencer
	for _, seq := range []uint64{1, 3, 4, 2, 5} {
		q.push(out, "u:1:2", seq, frame(seq))
	}
	require.Equal(t, []uint32{1, 2, 3, 4, 5}, receive(t, sent, 5, time.Second))

	// Conversations are ordered apart: one's gap does not hold the other.
	q.push(out, "g:7", 10, frame(10))
	q.push(out, "u:1:2", 7, frame(7)) // 6 is missing: held
	q.push(out, "g:7", 11, frame(11))
	require.Equal(t, []uint32{10, 11}, receive(t, sent, 2, 100*time.Millisecond))
}

func TestSequencerGivesUpOnAGapAfterItsWait(t *testing.T) {
	t.Parallel()
	out, sent := sentSeqs(t)
	var q sequencer
	start := time.Now()
	for _, seq := range []uint64{1, 4, 3} {
		q.push(out, "u:1:2", seq, frame(seq))
	}
	require.Equal(t, []uint32{1}, receive(t, sent, 1, time.Second))
	require.Equal(t, []uint32{3, 4}, receive(t, sent, 2, 2*holdGaps), "held past the wait for 2")
	require.GreaterOrEqual(t, time.Since(start), holdGaps)

	// The late one goes out as it comes; the order goes on after 4.
	q.push(out, "u:1:2", 2, frame(2))
	q.push(out, "u:1:2", 5, frame(5))
	require.Equal(t, []uint32{2, 5}, receive(t, sent, 2, 100*time.Millisecond))
}

func TestSequencerForgetsIdleConversationsWhenFull(t *testing.T) {
	t.Parallel()
	out, sent := sentSeqs(t)
	var q sequencer
	for i := range maxOrdered + 10 {
		q.push(out, "c"+strconv.Itoa(i), 1, frame(1))
	}
	receive(t, sent, maxOrdered+10, time.Second)
	require.LessOrEqual(t, len(q.convs), maxOrdered)
}

// A skipped entry (an entry the endpoint's user does not see) holds its
// place without a frame: what follows it goes out at once, not after
// holdGaps, however the two arrive.
func TestSequencerPassesSkippedEntriesWithoutWaiting(t *testing.T) {
	t.Parallel()
	out, sent := sentSeqs(t)
	var q sequencer
	q.push(out, "u:1:2", 1, frame(1))
	q.push(out, "u:1:2", 2, nil)
	q.push(out, "u:1:2", 3, frame(3))
	q.push(out, "u:1:2", 5, frame(5)) // before the skip of 4: held
	q.push(out, "u:1:2", 4, nil)
	require.Equal(t, []uint32{1, 3, 5}, receive(t, sent, 3, time.Second))
	q.mu.Lock()
	c := q.convs["u:1:2"]
	require.Equal(t, uint64(6), c.next)
	require.Empty(t, c.held)
	require.Nil(t, c.timer, "no wait left running")
	q.mu.Unlock()
	select {
	case seq := <-sent:
		t.Fatalf("a skipped entry sent frame %d", seq)
	default:
	}
}
