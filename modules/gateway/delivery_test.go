package gateway_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/platform/testkit"
)

func TestOfflineUserCatchesUpWithSync(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a, b := e.newUser(t), e.newUser(t)

	// b is offline while a sends.
	var sent []uint64
	for i := range 3 {
		sent = append(sent, e.sendText(t, a, b.id, fmt.Sprintf("offline %d", i)))
	}

	bDev := e.openDevice(t, b, "")
	bDev.Quiet(t) // no backlog is pushed on connect

	convs, err := e.messages.ListConversations(b.ctx, &messagepb.ListConversationsRequest{})
	require.NoError(t, err)
	require.Len(t, convs.GetConversation(), 1)
	convID := convs.GetConversation()[0].GetConversationId()

	synced, err := e.messages.SyncMessages(b.ctx, &messagepb.SyncMessagesRequest{ConversationId: convID})
	require.NoError(t, err)
	require.Len(t, synced.GetMessage(), 3)
	for i, m := range synced.GetMessage() {
		require.Equal(t, sent[i], m.GetId())
		require.EqualValues(t, i+1, m.GetSeq())
		require.Equal(t, fmt.Sprintf("offline %d", i), m.GetText().GetContent())
	}

	// Once online, b gets the next message pushed, its seq following on,
	// the same message SyncMessages returns.
	live := e.sendText(t, a, b.id, "live")
	m := pushed(t, bDev.Next(t))
	require.Equal(t, live, m.GetId())
	require.Equal(t, convID, m.GetConversationId())
	require.EqualValues(t, 4, m.GetSeq())

	after, err := e.messages.SyncMessages(b.ctx, &messagepb.SyncMessagesRequest{ConversationId: convID, AfterSeq: 3})
	require.NoError(t, err)
	require.Len(t, after.GetMessage(), 1)
	require.True(t, proto.Equal(after.GetMessage()[0], m), "pushed %v\nsynced %v", m, after.GetMessage()[0])
	bDev.Quiet(t)
}

func TestConcurrentGroupSendsArriveOnceInOneOrder(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	const senders = 20
	r1, r2 := e.newUser(t), e.newUser(t)
	members := e.newUsers(t, senders)
	joiners := append([]person{r2}, members...)
	groupID := e.createGroup(t, r1, joiners...)
	// The joins' events were stored and pushed before the devices opened:
	// the devices get the sends only, which follow the events' seqs.
	dev1, dev2 := e.openDevice(t, r1, ""), e.openDevice(t, r2, "")
	first := uint64(len(joiners)) + 1

	ids := make([]uint64, senders)
	errs := make([]error, senders)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, p := range members {
		wg.Go(func() {
			<-start
			resp, err := e.messages.SendGroupTextMessage(p.ctx, &messagepb.SendGroupTextMessageRequest{
				ToGroupId: groupID, Text: &messagepb.TextMessage{Content: fmt.Sprintf("from %d", i)},
			})
			ids[i], errs[i] = resp.GetId(), err
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}

	received := func(dev *parleytest.Stream) []uint64 {
		t.Helper()
		var got []uint64
		for i, f := range dev.NextN(t, senders) {
			m := pushed(t, f)
			require.Equal(t, groupID, m.GetToGroupId())
			require.Equal(t, first+uint64(i), m.GetSeq(), "seqs must rise by one with no gaps")
			got = append(got, m.GetId())
		}
		return got
	}
	got1, got2 := received(dev1), received(dev2)
	parleytest.QuietAll(t, dev1, dev2) // and nothing twice
	require.Equal(t, got1, got2, "both receivers see the same order")
	require.ElementsMatch(t, ids, got1, "every message exactly once")
}

func TestSlowClientIsCutOffAlone(t *testing.T) {
	t.Parallel()
	const queue = 8
	e := setup(t, queue)
	sender, slow, fast := e.newUser(t), e.newUser(t), e.newUser(t)
	joiners := []person{slow, fast}
	groupID := e.createGroup(t, sender, joiners...)

	// The slow device, on its own connection with fixed flow-control
	// windows, reads its pong and then nothing while messages pile up.
	slowDev := openUnread(t, e.dialFixedWindow(t), slow.ctx, 15*time.Second)
	require.NoError(t, slowDev.Send(&gatewaypb.SendMessageRequest{Cmd: gateway.CmdPing, RequestId: 1}))
	pong, err := slowDev.Recv()
	require.NoError(t, err)
	require.Equal(t, gateway.CmdPong, pong.GetCmd())
	fastDev := e.openDevice(t, fast, "")

	// ~4 KB a message: far more than the slow stream's queue, gRPC's write
	// quota and the client's window can hold.
	const n = 120
	text := strings.Repeat("x", 4000)
	var sent []uint64
	for range n {
		resp, err := e.messages.SendGroupTextMessage(sender.ctx, &messagepb.SendGroupTextMessageRequest{
			ToGroupId: groupID, Text: &messagepb.TextMessage{Content: text},
		})
		require.NoError(t, err)
		sent = append(sent, resp.GetId())
	}

	// The fast device gets everything, in order (after the joins' events,
	// pushed before it opened), and stays online.
	first := uint64(len(joiners)) + 1
	var got []uint64
	for i, f := range fastDev.NextN(t, n) {
		m := pushed(t, f)
		require.Equal(t, first+uint64(i), m.GetSeq())
		got = append(got, m.GetId())
	}
	require.Equal(t, sent, got)
	fastDev.Ping(t, "")

	// The slow device, reading at last, finds it was cut off part way.
	var pushes int
	for {
		var f *gatewaypb.SendMessageResponse
		if f, err = slowDev.Recv(); err != nil {
			break
		}
		pushed(t, f)
		pushes++
	}
	testkit.RequireCode(t, err, codes.ResourceExhausted)
	require.Less(t, pushes, n)

	// The others keep receiving.
	last := e.sendText(t, sender, fast.id, "still here")
	require.Equal(t, last, pushed(t, fastDev.Next(t)).GetId())
}

// A slow edge stream that has been cut off has ended: its clients go
// offline and its gateway-id is free again, even if the edge gateway is not
// reading at the moment.
func TestSlowEdgeStreamCutOffTakesItsClientsOffline(t *testing.T) {
	t.Parallel()
	e := setup(t, 8)
	u1, u2 := e.newUser(t), e.newUser(t)
	gatewayID := testkit.Unique("edge-")
	ctx := metadata.AppendToOutgoingContext(gatewayCtx(), gateway.GatewayIDHeader, gatewayID)
	edge := openUnread(t, e.dialFixedWindow(t), ctx, 15*time.Second)
	e.register(t, u1, gatewayID, "c1")

	text := strings.Repeat("x", 4000)
	for range 120 {
		e.sendText(t, u2, u1.id, text)
	}

	// The stream overflowed its queue long ago: it must be gone.
	req := &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: "c2"}
	var err error
	deadline := time.Now().Add(parleytest.FrameWait)
	for time.Now().Before(deadline) {
		if _, err = e.gateway.Register(registerCtx(u1), req); status.Code(err) == codes.NotFound {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	assert.Equal(t, codes.NotFound, status.Code(err),
		"Register on the cut-off edge stream %s (its client c1 still online): %v", gatewayID, err)

	// Reading at last, the edge finds ResourceExhausted after the frames it was sent.
	for {
		if _, err = edge.Recv(); err != nil {
			break
		}
	}
	testkit.RequireCode(t, err, codes.ResourceExhausted)
}
