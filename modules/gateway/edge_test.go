package gateway_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/platform/testkit"
)

// edgeSetup is an edge gateway stream with two clients of two users
// registered on it, and a third user who is not on it.
type edgeSetup struct {
	*env
	gatewayID        string
	edge             *parleytest.Stream
	u1, u2, u3       person
	client1, client2 string
}

func newEdge(t *testing.T) *edgeSetup {
	t.Helper()
	e := setup(t, 0)
	s := &edgeSetup{env: e, gatewayID: testkit.Unique("edge-"), client1: testkit.Unique("c1-"), client2: testkit.Unique("c2-")}
	s.u1, s.u2, s.u3 = e.newUser(t), e.newUser(t), e.newUser(t)
	s.edge = e.openEdge(t, s.gatewayID)
	e.register(t, s.u1, s.gatewayID, s.client1)
	e.register(t, s.u2, s.gatewayID, s.client2)
	return s
}

// requirePushFor requires f to push message id to clientID on the edge.
func (s *edgeSetup) requirePushFor(t *testing.T, f *gatewaypb.SendMessageResponse, clientID string, id uint64) *messagepb.Message {
	t.Helper()
	m := pushed(t, f)
	require.Equal(t, id, m.GetId())
	require.Equal(t, clientID, f.GetReceiverId())
	require.Equal(t, s.gatewayID, f.GetGatewayId())
	return m
}

func TestEdgePushesGoToRegisteredClients(t *testing.T) {
	t.Parallel()
	s := newEdge(t)

	to1 := s.sendText(t, s.u3, s.u1.id, "to one")
	s.requirePushFor(t, s.edge.Next(t), s.client1, to1)
	to2 := s.sendText(t, s.u3, s.u2.id, "to two")
	s.requirePushFor(t, s.edge.Next(t), s.client2, to2)
	s.edge.Quiet(t)
}

func TestEdgeFramesRunAsTheSendersUser(t *testing.T) {
	t.Parallel()
	s := newEdge(t)

	pong := s.edge.Ping(t, s.client1)
	require.Equal(t, s.client1, pong.GetReceiverId())
	require.Equal(t, s.gatewayID, pong.GetGatewayId())

	id := s.edge.Request(t, sendUserText, &messagepb.SendUserTextMessageRequest{
		ToUserId: s.u2.id, Text: &messagepb.TextMessage{Content: "via the edge"},
	}, s.client1)
	answer, frames := s.edge.Await(t, id)
	var resp messagepb.SendUserTextMessageResponse
	answerOf(t, answer, sendUserText, &resp)
	require.Equal(t, s.client1, answer.GetReceiverId())
	require.Equal(t, s.gatewayID, answer.GetGatewayId())

	// Both clients get the message pushed, sent by client 1's user.
	for len(frames) < 2 {
		frames = append(frames, s.edge.Next(t))
	}
	require.Len(t, frames, 2)
	byClient := map[string]*gatewaypb.SendMessageResponse{}
	for _, f := range frames {
		byClient[f.GetReceiverId()] = f
	}
	require.Len(t, byClient, 2, "one push for each client")
	for _, c := range []string{s.client1, s.client2} {
		require.Contains(t, byClient, c)
		m := s.requirePushFor(t, byClient[c], c, resp.GetId())
		require.Equal(t, s.u1.id, m.GetFromUserId())
		require.Equal(t, s.u2.id, m.GetToUserId())
	}

	// Client 2 asking for its own user gets u2's view: GetUser runs as u2.
	getUser := userpb.UserService_GetUser_FullMethodName
	f := s.edge.Call(t, getUser, &userpb.UserGetRequest{Id: s.u2.id}, s.client2)
	var got userpb.UserGetResponse
	answerOf(t, f, getUser, &got)
	require.Equal(t, s.u2.nickname, got.GetUser().GetNickname())
	require.Equal(t, s.client2, f.GetReceiverId())
	s.edge.Quiet(t)
}

func TestEdgeFrameFromUnregisteredClientIsRefused(t *testing.T) {
	t.Parallel()
	s := newEdge(t)
	bDev := s.openDevice(t, s.u3, "")

	for _, sender := range []string{"nobody", ""} {
		id := s.edge.Request(t, sendUserText, &messagepb.SendUserTextMessageRequest{
			ToUserId: s.u3.id, Text: &messagepb.TextMessage{Content: "spoof"},
		}, sender)
		f, pushes := s.edge.Await(t, id)
		require.Empty(t, pushes)
		errorFrame(t, f, codes.PermissionDenied)
		require.Equal(t, sender, f.GetReceiverId())
	}
	parleytest.QuietAll(t, bDev, s.edge)
}

func TestEdgeUnRegister(t *testing.T) {
	t.Parallel()
	s := newEdge(t)
	req := &gatewaypb.UnRegisterRequest{GatewayId: s.gatewayID, ClientId: s.client1}

	// Users may not unbind clients, not even their own: the edge does.
	for _, p := range []person{s.u2, s.u1} {
		_, err := s.gateway.UnRegister(p.ctx, req)
		testkit.RequireCode(t, err, codes.PermissionDenied)
	}
	to1 := s.sendText(t, s.u3, s.u1.id, "still bound")
	s.requirePushFor(t, s.edge.Next(t), s.client1, to1)

	// The edge gateway removes client 1 and nothing else.
	_, err := s.gateway.UnRegister(gatewayCtx(), req)
	require.NoError(t, err)
	s.sendText(t, s.u3, s.u1.id, "unbound")
	to2 := s.sendText(t, s.u3, s.u2.id, "to two")
	s.requirePushFor(t, s.edge.Next(t), s.client2, to2)
	s.edge.Quiet(t)

	f := s.edge.Call(t, sendUserText, &messagepb.SendUserTextMessageRequest{
		ToUserId: s.u3.id, Text: &messagepb.TextMessage{Content: "as a ghost"},
	}, s.client1)
	errorFrame(t, f, codes.PermissionDenied)

	_, err = s.gateway.UnRegister(gatewayCtx(), req)
	testkit.RequireCode(t, err, codes.NotFound)
}

func TestEdgeRegisterErrors(t *testing.T) {
	t.Parallel()
	s := newEdge(t)

	for _, tc := range []struct {
		name string
		req  *gatewaypb.RegisterRequest
		want codes.Code
	}{
		{"no such gateway", &gatewaypb.RegisterRequest{GatewayId: testkit.Unique("nowhere-"), ClientId: "c"}, codes.NotFound},
		{"empty client id", &gatewaypb.RegisterRequest{GatewayId: s.gatewayID}, codes.InvalidArgument},
		{"empty gateway id", &gatewaypb.RegisterRequest{ClientId: "c"}, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.gateway.Register(registerCtx(s.u1), tc.req)
			testkit.RequireCode(t, err, tc.want)
		})
	}

	req := &gatewaypb.RegisterRequest{GatewayId: s.gatewayID, ClientId: "c"}
	t.Run("without any credential", func(t *testing.T) {
		_, err := s.gateway.Register(t.Context(), req)
		testkit.RequireCode(t, err, codes.Unauthenticated)
	})
	t.Run("by a user, not the edge", func(t *testing.T) {
		// Otherwise any user could bind endpoints onto an edge's stream.
		_, err := s.gateway.Register(s.u1.ctx, req)
		testkit.RequireCode(t, err, codes.PermissionDenied)
	})
	t.Run("by the edge without the client's token", func(t *testing.T) {
		_, err := s.gateway.Register(gatewayCtx(), req)
		testkit.RequireCode(t, err, codes.Unauthenticated)
	})
	t.Run("by the edge with a bad client token", func(t *testing.T) {
		_, err := s.gateway.Register(registerCtx(person{token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}), req)
		testkit.RequireCode(t, err, codes.Unauthenticated)
	})
	t.Run("second stream with the same gateway-id", func(t *testing.T) {
		testkit.RequireCode(t, s.openEdge(t, s.gatewayID).Ended(t), codes.AlreadyExists)
		// The first stream is unharmed.
		to1 := s.sendText(t, s.u3, s.u1.id, "first stream")
		s.requirePushFor(t, s.edge.Next(t), s.client1, to1)
	})
}

// A user must not be able to take over a client another user registered:
// that would undo the other user's binding, which UnRegister refuses, and
// make the client's frames run as the taker.
func TestEdgeRegisterDoesNotTakeOverAnotherUsersClient(t *testing.T) {
	t.Parallel()
	s := newEdge(t)

	_, err := s.gateway.Register(registerCtx(s.u3), &gatewaypb.RegisterRequest{GatewayId: s.gatewayID, ClientId: s.client1})
	assert.Contains(t, []codes.Code{codes.PermissionDenied, codes.AlreadyExists}, status.Code(err),
		"u3 re-registering u1's client %s: %v", s.client1, err)

	// Client 1 still speaks as u1 and still gets u1's pushes.
	id := s.edge.Request(t, sendUserText, &messagepb.SendUserTextMessageRequest{
		ToUserId: s.u2.id, Text: &messagepb.TextMessage{Content: "who sends this"},
	}, s.client1)
	answer, frames := s.edge.Await(t, id)
	var resp messagepb.SendUserTextMessageResponse
	answerOf(t, answer, sendUserText, &resp)
	for len(frames) < 2 {
		frames = append(frames, s.edge.Next(t))
	}
	var from1 *gatewaypb.SendMessageResponse
	for _, f := range frames {
		if f.GetReceiverId() == s.client1 {
			from1 = f
		}
	}
	require.NotNil(t, from1, "client 1 got no push of its own send")
	require.Equal(t, s.u1.id, s.requirePushFor(t, from1, s.client1, resp.GetId()).GetFromUserId(),
		"client 1's frame ran as the user who re-registered it")
}

func TestEdgeStreamEndTakesItsClientsOffline(t *testing.T) {
	t.Parallel()
	s := newEdge(t)
	s.edge.Cancel()
	require.Error(t, s.edge.Ended(t))

	// Register finds no gateway once the server has seen the stream end.
	req := &gatewaypb.RegisterRequest{GatewayId: s.gatewayID, ClientId: s.client1}
	require.Eventually(t, func() bool {
		_, err := s.gateway.Register(registerCtx(s.u1), req)
		return status.Code(err) == codes.NotFound
	}, parleytest.FrameWait, 10*time.Millisecond)

	// A new stream with the same id starts empty: client 1's binding did not
	// survive, so only client 2, registered again, gets pushes.
	edge := s.openEdge(t, s.gatewayID)
	s.register(t, s.u2, s.gatewayID, s.client2)
	s.sendText(t, s.u3, s.u1.id, "to the old client")
	to2 := s.sendText(t, s.u3, s.u2.id, "to the new client")
	s.requirePushFor(t, edge.Next(t), s.client2, to2)
	edge.Quiet(t)
}

func TestGatewayCredentialOnlyForGatewayService(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	a := e.newUser(t)
	_, err := e.users.GetUser(gatewayCtx(), &userpb.UserGetRequest{Id: a.id})
	testkit.RequireCode(t, err, codes.PermissionDenied)
	_, err = e.messages.ListConversations(gatewayCtx(), &messagepb.ListConversationsRequest{})
	testkit.RequireCode(t, err, codes.PermissionDenied)
}
