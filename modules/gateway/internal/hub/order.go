package hub

import (
	"slices"
	"sync"
	"time"

	"github.com/parley-im/parley/api/gen/gatewaypb"
)

// Messages of one conversation sent through different nodes of a cluster
// at the same moment may reach a node out of seq order. Each endpoint puts
// them back in order: a message whose predecessor has not arrived waits for
// it, at most holdGaps, then goes out anyway (the client sees the gap and
// fills it with SyncMessages). On one node, messages arrive in order and
// never wait.
const (
	holdGaps = 250 * time.Millisecond
	// maxOrdered bounds the conversations an endpoint keeps order for; past
	// it, the ones with nothing waiting are forgotten.
	maxOrdered = 256
)

// sequencer orders one endpoint's messages per conversation. Its zero
// value is ready to use.
type sequencer struct {
	mu    sync.Mutex
	convs map[string]*conversationOrder
}

type conversationOrder struct {
	next  uint64 // the seq to push next
	held  map[uint64]*gatewaypb.SendMessageResponse
	timer *time.Timer // releases held when its wait is over
	wait  uint64      // which wait timer belongs to
}

// push queues f, entry seq of conversation, on out in seq order; a nil f
// is a skipped entry (bus.CmdSkip): it holds its place and sends nothing.
// The first entry of a conversation an endpoint sees sets where its order
// starts; an older one arriving later goes out at once.
func (q *sequencer) push(out *Stream, conversation string, seq uint64, f *gatewaypb.SendMessageResponse) {
	q.mu.Lock()
	defer q.mu.Unlock()
	c, ok := q.convs[conversation]
	if !ok {
		if !q.makeRoom() {
			enqueue(out, f)
			return
		}
		if q.convs == nil {
			q.convs = map[string]*conversationOrder{}
		}
		q.convs[conversation] = &conversationOrder{next: seq + 1}
		enqueue(out, f)
		return
	}
	switch {
	case seq < c.next:
		enqueue(out, f) // late, or one whose wait ran out
	case seq == c.next:
		enqueue(out, f)
		c.next++
		for held, ok := c.held[c.next]; ok; held, ok = c.held[c.next] {
			enqueue(out, held)
			delete(c.held, c.next)
			c.next++
		}
		if len(c.held) == 0 && c.timer != nil {
			c.timer.Stop()
			c.timer = nil
		}
	default:
		if c.held == nil {
			c.held = map[uint64]*gatewaypb.SendMessageResponse{}
		}
		c.held[seq] = f
		if c.timer == nil {
			c.wait++
			wait := c.wait
			c.timer = time.AfterFunc(holdGaps, func() { q.release(out, c, wait) })
		}
	}
}

// release pushes what c holds, in seq order, giving up on the gaps, unless
// the wait it was set for ended already (its gaps were filled).
func (q *sequencer) release(out *Stream, c *conversationOrder, wait uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if c.wait != wait || c.timer == nil {
		return
	}
	c.timer = nil
	seqs := make([]uint64, 0, len(c.held))
	for seq := range c.held {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	for _, seq := range seqs {
		enqueue(out, c.held[seq])
		delete(c.held, seq)
		c.next = seq + 1
	}
}

// makeRoom reports whether another conversation fits, forgetting the ones
// with nothing waiting when the endpoint keeps order for too many.
func (q *sequencer) makeRoom() bool {
	if len(q.convs) < maxOrdered {
		return true
	}
	for id, c := range q.convs {
		if len(c.held) == 0 {
			delete(q.convs, id)
		}
	}
	return len(q.convs) < maxOrdered
}

// enqueue queues f on out, unless it is a skipped entry's nil.
func enqueue(out *Stream, f *gatewaypb.SendMessageResponse) {
	if f != nil {
		out.Enqueue(f)
	}
}
