package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/modules/message"
	"github.com/parley-im/parley/platform/testkit"
)

const sendUserText = messagepb.MessageService_SendUserTextMessage_FullMethodName

func TestPingIsPublic(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	resp, err := e.gateway.Ping(context.Background(), &commonpb.PingRequest{})
	require.NoError(t, err)
	require.Equal(t, "pong", resp.GetContent())
}

func TestPingPong(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a := e.newUser(t)
	clientID := testkit.Unique("dev-")
	dev := e.openDevice(t, a, clientID)

	dev.Send(t, &gatewaypb.SendMessageRequest{Cmd: gateway.CmdPing, RequestId: 4242})
	f := dev.Next(t)
	require.Equal(t, gateway.CmdPong, f.GetCmd())
	require.EqualValues(t, 4242, f.GetRequestId())
	require.Equal(t, clientID, f.GetReceiverId())
	require.Equal(t, nodeID, f.GetGatewayId())

	// Without client-id metadata the server names the device, differently
	// each time.
	p1 := e.openDevice(t, a, "").Ping(t, "")
	p2 := e.openDevice(t, a, "").Ping(t, "")
	require.NotEmpty(t, p1.GetReceiverId())
	require.NotEmpty(t, p2.GetReceiverId())
	require.NotEqual(t, p1.GetReceiverId(), p2.GetReceiverId())
}

func TestFrameErrors(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a, b := e.newUser(t), e.newUser(t)
	dev := e.openDevice(t, a, "")
	valid := &messagepb.SendUserTextMessageRequest{ToUserId: b.id, Text: &messagepb.TextMessage{Content: "hi"}}
	validData := mustMarshal(t, valid)

	for _, tc := range []struct {
		name string
		cmd  string
		data []byte
		want codes.Code
	}{
		{"unknown cmd", "hello", validData, codes.InvalidArgument},
		{"empty cmd", "", nil, codes.InvalidArgument},
		{"pong is not a request", gateway.CmdPong, nil, codes.InvalidArgument},
		{"GatewayService SendToAll", gatewaypb.GatewayService_SendToAll_FullMethodName,
			mustMarshal(t, &gatewaypb.SendToAllRequest{Data: []byte("x")}), codes.InvalidArgument},
		{"GatewayService Register", gatewaypb.GatewayService_Register_FullMethodName,
			mustMarshal(t, &gatewaypb.RegisterRequest{GatewayId: "g", ClientId: "c"}), codes.InvalidArgument},
		{"GatewayService SendMessage", gatewaypb.GatewayService_SendMessage_FullMethodName, nil, codes.InvalidArgument},
		{"data not a serialized request", sendUserText, []byte{0xff, 0xff, 0xff}, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := dev.RequestRaw(t, tc.cmd, tc.data, "")
			f, pushes := dev.Await(t, id)
			require.Empty(t, pushes)
			errorFrame(t, f, tc.want)
		})
	}

	t.Run("unknown method", func(t *testing.T) {
		id := dev.RequestRaw(t, "/parley.NoSuchService/Method", validData, "")
		f, _ := dev.Await(t, id)
		// Either code says the cmd names nothing the server serves.
		require.Equal(t, gateway.CmdError, f.GetCmd())
		st := decodeStatus(t, f)
		require.Contains(t, []codes.Code{codes.InvalidArgument, codes.Unimplemented}, st.Code(), st.Message())
	})

	// Error frames leave the stream open, and nothing was sent.
	dev.Ping(t, "")
	dev.Quiet(t)
}

func TestDispatchSendsAndPushesToEveryDevice(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a, b := e.newUser(t), e.newUser(t)
	aPhone, aLaptop := e.openDevice(t, a, testkit.Unique("a-phone-")), e.openDevice(t, a, testkit.Unique("a-laptop-"))
	bID := testkit.Unique("b-")
	bDev := e.openDevice(t, b, bID)

	id := aPhone.Request(t, sendUserText, &messagepb.SendUserTextMessageRequest{
		ToUserId: b.id, Text: &messagepb.TextMessage{Content: "hello over the stream"},
	}, "")
	answer, pushes := aPhone.Await(t, id)
	var resp messagepb.SendUserTextMessageResponse
	answerOf(t, answer, sendUserText, &resp)
	require.NotZero(t, resp.GetId())
	require.Equal(t, nodeID, answer.GetGatewayId())

	// The sender's own device gets its send pushed too, before or after
	// the answer.
	if len(pushes) == 0 {
		pushes = append(pushes, aPhone.Next(t))
	}
	require.Len(t, pushes, 1)

	check := func(f *gatewaypb.SendMessageResponse) {
		t.Helper()
		m := pushed(t, f)
		require.Equal(t, resp.GetId(), m.GetId())
		require.Equal(t, a.id, m.GetFromUserId())
		require.Equal(t, b.id, m.GetToUserId())
		require.Equal(t, "hello over the stream", m.GetText().GetContent())
		require.NotEmpty(t, m.GetConversationId())
		require.EqualValues(t, 1, m.GetSeq())
		require.Equal(t, nodeID, f.GetGatewayId())
	}
	check(pushes[0])
	check(aLaptop.Next(t))
	bFrame := bDev.Next(t)
	check(bFrame)
	require.Equal(t, bID, bFrame.GetReceiverId())

	// A reply reaches both of a's devices, next in the conversation.
	replyID := e.sendText(t, b, a.id, "reply")
	for _, dev := range []*parleytest.Stream{aPhone, aLaptop, bDev} {
		m := pushed(t, dev.Next(t))
		require.Equal(t, replyID, m.GetId())
		require.EqualValues(t, 2, m.GetSeq())
	}
	parleytest.QuietAll(t, aPhone, aLaptop, bDev)
}

func TestDispatchErrorsComeBackAsErrorFrames(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a, b, c := e.newUser(t), e.newUser(t), e.newUser(t)
	_, err := e.users.BlockUser(c.ctx, &userpb.BlockUserRequest{UserId: a.id})
	require.NoError(t, err)
	aDev, bDev, cDev := e.openDevice(t, a, ""), e.openDevice(t, b, ""), e.openDevice(t, c, "")

	for _, tc := range []struct {
		name string
		req  *messagepb.SendUserTextMessageRequest
		want codes.Code
	}{
		{"empty text", &messagepb.SendUserTextMessageRequest{ToUserId: b.id, Text: &messagepb.TextMessage{Content: "  "}}, codes.InvalidArgument},
		{"no body", &messagepb.SendUserTextMessageRequest{ToUserId: b.id}, codes.InvalidArgument},
		{"to oneself", &messagepb.SendUserTextMessageRequest{ToUserId: a.id, Text: &messagepb.TextMessage{Content: "me"}}, codes.InvalidArgument},
		{"to a user who blocked the sender", &messagepb.SendUserTextMessageRequest{ToUserId: c.id, Text: &messagepb.TextMessage{Content: "hi"}}, codes.PermissionDenied},
		{"to nobody", &messagepb.SendUserTextMessageRequest{ToUserId: 1 << 60, Text: &messagepb.TextMessage{Content: "hi"}}, codes.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, pushes := aDev.Await(t, aDev.Request(t, sendUserText, tc.req, ""))
			require.Empty(t, pushes)
			errorFrame(t, f, tc.want)
			require.NotEmpty(t, f.GetReceiverId())
		})
	}
	// Nothing was stored, so nothing was pushed.
	parleytest.QuietAll(t, aDev, bDev, cDev)
}

func TestDeviceSenderIDIsIgnored(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a, b, c := e.newUser(t), e.newUser(t), e.newUser(t)
	aID, bID := testkit.Unique("a-"), testkit.Unique("b-")
	aDev, bDev, cDev := e.openDevice(t, a, aID), e.openDevice(t, b, bID), e.openDevice(t, c, "")

	// a's device names b's client as the sender: it still speaks as a.
	id := aDev.Request(t, sendUserText, &messagepb.SendUserTextMessageRequest{
		ToUserId: c.id, Text: &messagepb.TextMessage{Content: "who am I"},
	}, bID)
	answer, _ := aDev.Await(t, id)
	var resp messagepb.SendUserTextMessageResponse
	answerOf(t, answer, sendUserText, &resp)
	require.Equal(t, aID, answer.GetReceiverId())

	m := pushed(t, cDev.Next(t))
	require.Equal(t, resp.GetId(), m.GetId())
	require.Equal(t, a.id, m.GetFromUserId())
	bDev.Quiet(t)
}

// Revoking a user's tokens (a password change) ends that user's device
// streams and unregisters its edge clients at once: no push reaches a
// session signed in with an old token, and no request runs as it.
func TestRevokedTokenEndsTheUsersSessions(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a, b := e.newUser(t), e.newUser(t)
	dev := e.openDevice(t, a, "")
	bDev := e.openDevice(t, b, "")
	edgeID, clientID := testkit.Unique("edge-"), testkit.Unique("a-web-")
	edge := e.openEdge(t, edgeID)
	e.register(t, a, edgeID, clientID)
	getUser := userpb.UserService_GetUser_FullMethodName

	f := dev.Call(t, getUser, &userpb.UserGetRequest{Id: a.id}, "")
	var got userpb.UserGetResponse
	answerOf(t, f, getUser, &got)
	require.Equal(t, a.nickname, got.GetUser().GetNickname())

	_, err := e.users.UpdatePassword(a.ctx, &userpb.UpdatePasswordRequest{Password: "another123", PasswordRpt: "another123"})
	require.NoError(t, err)

	testkit.RequireCode(t, dev.Ended(t), codes.Unauthenticated)
	f = edge.Call(t, getUser, &userpb.UserGetRequest{Id: a.id}, clientID)
	errorFrame(t, f, codes.PermissionDenied) // no longer a registered client
	// Other users and the edge stream itself are unaffected.
	e.sendText(t, b, a.id, "to a, who is signed out")
	pushed(t, bDev.Next(t))
	edge.Quiet(t)
}

func TestStreamOpenErrors(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a := e.newUser(t)

	for _, tc := range []struct {
		name string
		ctx  context.Context
		kv   []string
		want codes.Code
	}{
		{"no token", context.Background(), nil, codes.Unauthenticated},
		{"unknown token", testkit.WithToken(strings.Repeat("A", 43)), nil, codes.Unauthenticated},
		{"client-id over 64 characters", a.ctx, []string{gateway.ClientIDHeader, strings.Repeat("c", 65)}, codes.InvalidArgument},
		{"wrong gateway secret", context.Background(), []string{"authorization", "Gateway nope", gateway.GatewayIDHeader, "edge"}, codes.Unauthenticated},
		{"gateway without gateway-id", gatewayCtx(), nil, codes.InvalidArgument},
		{"gateway-id over 64 characters", gatewayCtx(), []string{gateway.GatewayIDHeader, strings.Repeat("g", 65)}, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := e.open(t, tc.ctx, tc.kv...)
			testkit.RequireCode(t, s.Ended(t), tc.want)
		})
	}

	t.Run("client-id of 64 characters", func(t *testing.T) {
		id := strings.Repeat("c", 64)
		require.Equal(t, id, e.openDevice(t, a, id).Ping(t, "").GetReceiverId())
	})
}

func TestCloseStreamsEndsEveryStream(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a := e.newUser(t)
	dev := e.openDevice(t, a, "")
	gatewayID := testkit.Unique("edge-")
	edge := e.openEdge(t, gatewayID)
	// The edge is online once a client can register on it.
	e.register(t, a, gatewayID, "c1")

	e.gateMod.CloseStreams()
	testkit.RequireCode(t, dev.Ended(t), codes.Unavailable)
	testkit.RequireCode(t, edge.Ended(t), codes.Unavailable)

	// A stream that opens during shutdown ends at once too.
	testkit.RequireCode(t, e.open(t, a.ctx).Ended(t), codes.Unavailable)
}

func TestDevicesPerUserAreCapped(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a := e.newUser(t)
	for i := range gateway.MaxEndpointsPerUser {
		e.openDevice(t, a, fmt.Sprintf("dev-%d", i))
	}
	testkit.RequireCode(t, e.open(t, a.ctx).Ended(t), codes.ResourceExhausted)
	e.openDevice(t, e.newUser(t), "") // other users are unaffected
}

// Metadata the stream was opened with is not the metadata of each request
// sent on it: an idempotency key on the stream must not turn every send
// into a repeat of the first.
func TestStreamMetadataDoesNotApplyToRequests(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a, b := e.newUser(t), e.newUser(t)
	s := e.open(t, a.ctx, gateway.ClientIDHeader, testkit.Unique("a-"), message.IdempotencyKeyHeader, "same-key")
	s.Ping(t, "")

	var ids []uint64
	for _, text := range []string{"first", "second"} {
		answer := s.Call(t, sendUserText, &messagepb.SendUserTextMessageRequest{
			ToUserId: b.id, Text: &messagepb.TextMessage{Content: text},
		}, "")
		var resp messagepb.SendUserTextMessageResponse
		answerOf(t, answer, sendUserText, &resp)
		ids = append(ids, resp.GetId())
	}
	require.NotEqual(t, ids[0], ids[1], "two sends on one stream are two messages")
}

// An edit sent as a frame is pushed to every device of both users as a
// "change" frame, in its place in the conversation's stream.
func TestEditsArePushedAsChanges(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a, b := e.newUser(t), e.newUser(t)
	aPhone, bDev := e.openDevice(t, a, ""), e.openDevice(t, b, "")
	sent := e.sendText(t, a, b.id, "see you at 5")
	require.Equal(t, sent, pushed(t, bDev.Next(t)).GetId())
	require.Equal(t, sent, pushed(t, aPhone.Next(t)).GetId())

	answer := aPhone.Call(t, messagepb.MessageService_EditMessage_FullMethodName, &messagepb.EditMessageRequest{
		MessageId: sent, Text: &messagepb.TextMessage{Content: "see you at 6"},
	}, "")
	var resp messagepb.EditMessageResponse
	answerOf(t, answer, messagepb.MessageService_EditMessage_FullMethodName, &resp)
	require.Equal(t, uint32(1), resp.GetMessage().GetEditCount())

	f := bDev.Next(t)
	require.Equal(t, message.CmdChange, f.GetCmd())
	require.Zero(t, f.GetRequestId(), "a push answers no request")
	var change messagepb.MessageChange
	require.NoError(t, proto.Unmarshal(f.GetData(), &change))
	require.Equal(t, uint64(2), change.GetSeq(), "after the message, seq 1")
	require.Equal(t, messagepb.ChangeKind_CHANGE_KIND_EDITED, change.GetKind())
	require.Equal(t, "see you at 6", change.GetMessage().GetText().GetContent())
	require.Equal(t, sent, change.GetMessage().GetId())
}

// Reactions and deletes-for-me sent as frames: a reaction reaches the other
// user's device as a change; a delete-for-me reaches the deleter's other
// device only, and the other user's device goes straight on to the next
// message (it never gets a frame for the skipped seq).
func TestReactionsAndDeletesOverFrames(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a, b := e.newUser(t), e.newUser(t)
	aPhone, aLaptop, bDev := e.openDevice(t, a, ""), e.openDevice(t, a, ""), e.openDevice(t, b, "")
	sent := e.sendText(t, a, b.id, "pizza tonight?")
	for _, d := range []*parleytest.Stream{aPhone, aLaptop, bDev} {
		require.Equal(t, sent, pushed(t, d.Next(t)).GetId())
	}

	react := messagepb.MessageService_ReactToMessage_FullMethodName
	var reacted messagepb.ReactToMessageResponse
	answerOf(t, bDev.Call(t, react, &messagepb.ReactToMessageRequest{MessageId: sent, Emoji: "🍕"}, ""), react, &reacted)
	require.Len(t, reacted.GetReactions(), 1)
	change := func(d *parleytest.Stream) *messagepb.MessageChange {
		t.Helper()
		f := d.Next(t)
		require.Equal(t, message.CmdChange, f.GetCmd())
		var c messagepb.MessageChange
		require.NoError(t, proto.Unmarshal(f.GetData(), &c))
		return &c
	}
	got := change(aPhone)
	require.Equal(t, messagepb.ChangeKind_CHANGE_KIND_REACTION_ADDED, got.GetKind())
	require.Equal(t, b.id, got.GetActorId())
	require.Equal(t, "🍕", got.GetEmoji())
	require.Equal(t, uint64(1), got.GetMessage().GetReactions()[0].GetCount())
	require.Equal(t, uint64(2), change(aLaptop).GetSeq())

	del := messagepb.MessageService_DeleteMessageForMe_FullMethodName
	answer, before := aPhone.Await(t, aPhone.Request(t, del, &messagepb.DeleteMessageForMeRequest{MessageId: sent}, ""))
	answerOf(t, answer, del, &messagepb.DeleteMessageForMeResponse{})
	got = change(aLaptop)
	require.Equal(t, messagepb.ChangeKind_CHANGE_KIND_DELETED_FOR_ME, got.GetKind())
	require.Equal(t, uint64(3), got.GetSeq())
	require.Len(t, before, 1, "the calling device gets the change too, before the answer")
	require.Equal(t, message.CmdChange, before[0].GetCmd())

	next := e.sendText(t, a, b.id, "or sushi")
	m := pushed(t, bDev.Next(t))
	require.Equal(t, next, m.GetId(), "b's device gets nothing for a's delete-for-me")
	require.Equal(t, uint64(4), m.GetSeq())
}
