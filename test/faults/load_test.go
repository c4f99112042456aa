//go:build faults

package faults

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/messagepb"
)

// target is where a worker's message goes: a user or a group.
type target struct {
	toUser  uint64
	toGroup uint64
	conv    string
}

// attempt is one send: its idempotency key (also the message text), when it
// ran and what came back.
type attempt struct {
	key        string
	from       user
	to         target
	start, end time.Time
	id         uint64 // set when acknowledged
	err        error
}

func (a *attempt) acked() bool { return a.err == nil }

// send sends a's text message with a's idempotency key.
func send(ctx context.Context, mc messagepb.MessageServiceClient, a *attempt) (uint64, error) {
	ctx = a.from.ctx(ctx, "idempotency-key", a.key)
	text := &messagepb.TextMessage{Content: a.key}
	if a.to.toGroup != 0 {
		resp, err := mc.SendGroupTextMessage(ctx, &messagepb.SendGroupTextMessageRequest{ToGroupId: a.to.toGroup, Text: text})
		return resp.GetId(), err
	}
	resp, err := mc.SendUserTextMessage(ctx, &messagepb.SendUserTextMessageRequest{ToUserId: a.to.toUser, Text: text})
	return resp.GetId(), err
}

// worker sends as one user to its targets in turn.
type worker struct {
	from    user
	targets []target
}

// load runs workers until halted, recording every attempt.
type load struct {
	halted   atomic.Bool
	haltedAt atomic.Int64 // unix nanos
	wg       sync.WaitGroup
	mu       sync.Mutex
	attempts []*attempt
}

func startLoad(ctx context.Context, conn *grpc.ClientConn, prefix string, workers []worker) *load {
	l := &load{}
	mc := messagepb.NewMessageServiceClient(conn)
	for w, spec := range workers {
		l.wg.Go(func() {
			for n := 0; !l.halted.Load() && ctx.Err() == nil; n++ {
				a := &attempt{key: fmt.Sprintf("%s-w%d-n%d", prefix, w, n), from: spec.from, to: spec.targets[n%len(spec.targets)]}
				a.start = time.Now()
				cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				a.id, a.err = send(cctx, mc, a)
				cancel()
				a.end = time.Now()
				l.mu.Lock()
				l.attempts = append(l.attempts, a)
				l.mu.Unlock()
				if a.err != nil {
					if l.halted.Load() {
						return
					}
					time.Sleep(50 * time.Millisecond) // an error before the fault: recorded, judged later
				}
			}
		})
	}
	return l
}

// halt stops workers from starting new sends; calls in flight go on.
func (l *load) halt() {
	l.haltedAt.Store(time.Now().UnixNano())
	l.halted.Store(true)
}

// wait waits for the workers and returns every attempt.
func (l *load) wait() []*attempt {
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.attempts
}

func (l *load) haltTime() time.Time { return time.Unix(0, l.haltedAt.Load()) }

// verifyConversations syncs every conversation of attempts and checks: seqs
// 1, 2, 3… in order; each message's text is the key of an attempt sent to
// that conversation and no key appears twice; every acknowledged attempt's
// message is there with the acknowledged id. It returns id → seq of all
// messages and key → message id.
func verifyConversations(ctx context.Context, conn *grpc.ClientConn, attempts []*attempt, readers map[string]user) (seqOf map[uint64]uint64, idOfKey map[string]uint64, errs []string) {
	byConv := map[string][]*attempt{}
	for _, a := range attempts {
		byConv[a.to.conv] = append(byConv[a.to.conv], a)
	}
	seqOf, idOfKey = map[uint64]uint64{}, map[string]uint64{}
	for conv, as := range byConv {
		msgs, err := syncAll(ctx, conn, readers[conv], conv)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if err := checkSeqs(conv, msgs); err != nil {
			errs = append(errs, err.Error())
		}
		sent := map[string]*attempt{}
		for _, a := range as {
			sent[a.key] = a
		}
		for _, m := range msgs {
			key := m.GetText().GetContent()
			if _, ok := sent[key]; !ok {
				errs = append(errs, fmt.Sprintf("%s: message id %d seq %d has text %q, not a key sent here", conv, m.GetId(), m.GetSeq(), key))
				continue
			}
			if prev, dup := idOfKey[key]; dup {
				errs = append(errs, fmt.Sprintf("%s: key %s stored twice: ids %d and %d", conv, key, prev, m.GetId()))
				continue
			}
			idOfKey[key] = m.GetId()
			seqOf[m.GetId()] = m.GetSeq()
		}
		for _, a := range as {
			if !a.acked() {
				continue
			}
			got, ok := idOfKey[a.key]
			switch {
			case !ok:
				errs = append(errs, fmt.Sprintf("%s: acknowledged message %s (id %d) is missing", conv, a.key, a.id))
			case got != a.id:
				errs = append(errs, fmt.Sprintf("%s: acknowledged message %s has id %d, the send answered %d", conv, a.key, got, a.id))
			}
		}
	}
	return seqOf, idOfKey, errs
}
