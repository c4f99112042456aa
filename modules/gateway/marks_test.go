package gateway_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/message"
)

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// nextOf requires the stream's next frame to be a cmd push and decodes it.
func nextOf(t *testing.T, s *parleytest.Stream, cmd string, out proto.Message) *gatewaypb.SendMessageResponse {
	t.Helper()
	f := s.Next(t)
	require.Equal(t, cmd, f.GetCmd(), "want a %s push, got %v", cmd, f)
	require.Zero(t, f.GetRequestId(), "a push answers no request")
	require.NoError(t, proto.Unmarshal(f.GetData(), out))
	return f
}

// Typing notices and receipts reach device streams and edge gateways'
// clients, and both are sent as frames.
func TestTypingAndReceiptsOverFrames(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a, b, c := e.newUser(t), e.newUser(t), e.newUser(t)
	aDev, cDev := e.openDevice(t, a, ""), e.openDevice(t, c, "")
	edge := e.openEdge(t, "edge-marks")
	e.register(t, b, "edge-marks", "b-phone")
	e.sendText(t, a, b.id, "lunch?")
	pushed(t, aDev.Next(t))
	pushed(t, edge.Next(t))
	conv := "u:" + itoa(min(a.id, b.id)) + ":" + itoa(max(a.id, b.id))

	// b types through its edge: a's device is told, c's is not.
	typing := messagepb.MessageService_SendTyping_FullMethodName
	answerOf(t, edge.Call(t, typing, &messagepb.SendTypingRequest{ConversationId: conv}, "b-phone"), typing, &messagepb.SendTypingResponse{})
	var got messagepb.Typing
	nextOf(t, aDev, message.CmdTyping, &got)
	require.Equal(t, b.id, got.GetUserId())
	require.Equal(t, conv, got.GetConversationId())

	// a types from its device: b's edge client gets it, addressed to it.
	answerOf(t, aDev.Call(t, typing, &messagepb.SendTypingRequest{ConversationId: conv}, ""), typing, &messagepb.SendTypingResponse{})
	f := nextOf(t, edge, message.CmdTyping, &got)
	require.Equal(t, "b-phone", f.GetReceiverId())
	require.Equal(t, a.id, got.GetUserId())

	// b reads through its edge: a's device gets the receipt.
	read := messagepb.MessageService_MarkRead_FullMethodName
	answerOf(t, edge.Call(t, read, &messagepb.MarkReadRequest{ConversationId: conv, Seq: 1}, "b-phone"), read, &messagepb.MarkReadResponse{})
	var receipt messagepb.Receipt
	nextOf(t, aDev, message.CmdReceipt, &receipt)
	require.True(t, proto.Equal(&messagepb.Receipt{ConversationId: conv, UserId: b.id, DeliveredSeq: 1, ReadSeq: 1}, &receipt), "%v", &receipt)

	// In a group, the other members' devices and clients get a typing
	// notice. First each join is pushed, as a group event, to the members
	// at the time: a's device and b's client get b's and c's, c's device
	// its own.
	g := e.createGroup(t, a, b, c)
	group := "g:" + itoa(g)
	requireJoinedEvents(t, aDev, g, 1, b.id, c.id)
	requireJoinedEvents(t, edge, g, 1, b.id, c.id)
	requireJoinedEvents(t, cDev, g, 2, c.id)
	answerOf(t, cDev.Call(t, typing, &messagepb.SendTypingRequest{ConversationId: group}, ""), typing, &messagepb.SendTypingResponse{})
	nextOf(t, aDev, message.CmdTyping, &got)
	require.Equal(t, group, got.GetConversationId())
	nextOf(t, edge, message.CmdTyping, &got)
	require.Equal(t, c.id, got.GetUserId())
	cDev.Quiet(t)
}
