package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/modules/message"
	"github.com/parley-im/parley/modules/user"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
)

const (
	password      = "secret123"
	nodeID        = "node-test"
	gatewaySecret = "test-secret"
)

// env is Parley, as `parley serve` wires it, over the package's database.
// Each test gets its own app (and so its own hub), so a broadcast in one
// test never reaches another's streams.
type env struct {
	conn     *grpc.ClientConn
	users    userpb.UserServiceClient
	groups   grouppb.GroupServiceClient
	messages messagepb.MessageServiceClient
	gateway  gatewaypb.GatewayServiceClient
	userMod  *user.Module
	gateMod  *gateway.Module
}

// setup serves Parley with gateway streams queueing at most queueSize
// frames (0: the default).
func setup(t *testing.T, queueSize int) *env {
	t.Helper()
	served := serve(t, queueSize)
	return &env{
		conn:     served.Conn,
		users:    userpb.NewUserServiceClient(served.Conn),
		groups:   grouppb.NewGroupServiceClient(served.Conn),
		messages: messagepb.NewMessageServiceClient(served.Conn),
		gateway:  gatewaypb.NewGatewayServiceClient(served.Conn),
		userMod:  served.Modules().User,
		gateMod:  served.Modules().Gateway,
	}
}

// serve runs Parley as the gateway tests need it: this node's id and edge
// gateway credential are known, and the send rate is one the tests' bursts
// never reach.
func serve(t testing.TB, queueSize int) *parleytest.Served {
	t.Helper()
	cfg := parleytest.Config(t)
	cfg.NodeID, cfg.GatewaySecret = nodeID, gatewaySecret
	cfg.SendRate, cfg.SendBurst = 1e6, 1e6
	if queueSize != 0 {
		cfg.GatewayQueue = queueSize
	}
	return parleytest.Serve(t, cfg, testdb.Pool(t), parleytest.Options())
}

// person is a signed-up, signed-in user.
type person struct {
	id       uint64
	nickname string
	token    string
	ctx      context.Context // carries the user's token
}

// registerCtx is how an edge gateway registers p's client: with the gateway
// credential, passing p's token along.
func registerCtx(p person) context.Context {
	return metadata.AppendToOutgoingContext(gatewayCtx(), gateway.ClientAuthorizationHeader, "Bearer "+p.token)
}

// newUser signs a user up through the user module and logs it in.
func (e *env) newUser(t *testing.T) person {
	t.Helper()
	nick := testkit.Unique("u")
	created, err := e.users.CreateUser(context.Background(), &userpb.UserCreateRequest{
		Nickname: nick, Password: password, PasswordRpt: password,
	})
	require.NoError(t, err)
	resp, err := e.users.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: nick, Password: password})
	require.NoError(t, err)
	require.NotEmpty(t, resp.GetToken())
	return person{id: created.GetUser().GetId(), nickname: nick, token: resp.GetToken(), ctx: testkit.WithToken(resp.GetToken())}
}

func (e *env) newUsers(t *testing.T, n int) []person {
	t.Helper()
	out := make([]person, n)
	for i := range out {
		out[i] = e.newUser(t)
	}
	return out
}

// gatewayCtx carries the edge gateway credential.
func gatewayCtx() context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Gateway "+gatewaySecret)
}

// sendText sends a 1:1 text message with a unary call and returns its id.
func (e *env) sendText(t *testing.T, from person, to uint64, text string) uint64 {
	t.Helper()
	resp, err := e.messages.SendUserTextMessage(from.ctx, &messagepb.SendUserTextMessageRequest{
		ToUserId: to, Text: &messagepb.TextMessage{Content: text},
	})
	require.NoError(t, err)
	require.NotZero(t, resp.GetId())
	return resp.GetId()
}

// createGroup makes a group owned by owner that members join, one after
// the other. Each join is a GROUP_EVENT message in the group's
// conversation, stored before JoinGroup answers: the group's next message
// has seq len(members)+1.
func (e *env) createGroup(t *testing.T, owner person, members ...person) uint64 {
	t.Helper()
	resp, err := e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{Name: testkit.Unique("g")})
	require.NoError(t, err)
	id := resp.GetGroup().GetId()
	require.NotZero(t, id)
	for _, m := range members {
		_, err := e.groups.JoinGroup(m.ctx, &grouppb.JoinGroupRequest{Id: id})
		require.NoError(t, err)
	}
	return id
}

// open starts a SendMessage stream as ctx's caller, with the metadata pairs
// kv added.
func (e *env) open(t *testing.T, ctx context.Context, kv ...string) *parleytest.Stream {
	t.Helper()
	return parleytest.OpenStream(t, e.gateway, ctx, kv...)
}

// openUnread opens a stream that nothing reads in the background: the test
// calls Recv itself, and the stream gives up after timeout so no Recv hangs.
func openUnread(t *testing.T, client gatewaypb.GatewayServiceClient, ctx context.Context, timeout time.Duration) gatewaypb.GatewayService_SendMessageClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel)
	raw, err := client.SendMessage(ctx)
	require.NoError(t, err)
	return raw
}

// openDevice opens a device stream for p (clientID "" lets the server pick
// one) and waits until it is online: a ping is answered only once the
// server has put the device online.
func (e *env) openDevice(t *testing.T, p person, clientID string) *parleytest.Stream {
	t.Helper()
	var kv []string
	if clientID != "" {
		kv = []string{gateway.ClientIDHeader, clientID}
	}
	s := e.open(t, p.ctx, kv...)
	pong := s.Ping(t, "")
	if clientID != "" {
		require.Equal(t, clientID, pong.GetReceiverId())
	}
	return s
}

// openEdge opens an edge gateway's stream. It is online once register
// succeeds on it.
func (e *env) openEdge(t *testing.T, gatewayID string) *parleytest.Stream {
	t.Helper()
	return e.open(t, gatewayCtx(), gateway.GatewayIDHeader, gatewayID)
}

// register binds clientID on edge gatewayID to p, waiting (briefly) for a
// just-opened edge stream to come online.
func (e *env) register(t *testing.T, p person, gatewayID, clientID string) {
	t.Helper()
	req := &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: clientID}
	deadline := time.Now().Add(parleytest.FrameWait)
	for {
		_, err := e.gateway.Register(registerCtx(p), req)
		if status.Code(err) != codes.NotFound || time.Now().After(deadline) {
			require.NoError(t, err, "register %s on %s", clientID, gatewayID)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// decodeStatus decodes an error frame's google.rpc.Status.
func decodeStatus(t *testing.T, f *gatewaypb.SendMessageResponse) *status.Status {
	t.Helper()
	var pb spb.Status
	require.NoError(t, proto.Unmarshal(f.GetData(), &pb), "error frame data is not a google.rpc.Status")
	return status.FromProto(&pb)
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	data, err := proto.Marshal(m)
	require.NoError(t, err)
	return data
}

// errorFrame requires f to be an error frame with code want and returns its status.
func errorFrame(t *testing.T, f *gatewaypb.SendMessageResponse, want codes.Code) *status.Status {
	t.Helper()
	require.Equal(t, gateway.CmdError, f.GetCmd(), "want an error frame, got %v", f)
	st := decodeStatus(t, f)
	require.Equal(t, want, st.Code(), "message: %s", st.Message())
	require.NotEmpty(t, st.Message())
	return st
}

// answerOf requires f to answer cmd successfully and decodes its data into out.
func answerOf(t *testing.T, f *gatewaypb.SendMessageResponse, cmd string, out proto.Message) {
	t.Helper()
	if f.GetCmd() == gateway.CmdError {
		var pb spb.Status
		_ = proto.Unmarshal(f.GetData(), &pb)
		require.FailNow(t, "error frame", "%s: %s", codes.Code(pb.GetCode()), pb.GetMessage())
	}
	require.Equal(t, cmd, f.GetCmd())
	require.NoError(t, proto.Unmarshal(f.GetData(), out))
}

// pushed requires f to be a pushed message and decodes it.
func pushed(t *testing.T, f *gatewaypb.SendMessageResponse) *messagepb.Message {
	t.Helper()
	require.Equal(t, message.CmdMessage, f.GetCmd(), "want a message push, got %v", f)
	require.Zero(t, f.GetRequestId(), "a push answers no request")
	m := new(messagepb.Message)
	require.NoError(t, proto.Unmarshal(f.GetData(), m))
	return m
}

// requireJoinedEvents requires s's next frames to be the pushes of users
// joining groupID by themselves (as createGroup's members do), in that
// order, with seqs rising by one from first: every change to a group's
// membership is stored in its conversation as a GROUP_EVENT message, from
// its actor, and pushed to the members (the joiner included) like a user's
// message.
func requireJoinedEvents(t *testing.T, s *parleytest.Stream, groupID, first uint64, users ...uint64) {
	t.Helper()
	for i, user := range users {
		m := pushed(t, s.Next(t))
		require.Equal(t, messagepb.MESSAGE_TYPE_GROUP_EVENT, m.GetType(), "want a group event, got %v", m)
		require.Equal(t, groupID, m.GetToGroupId())
		require.Equal(t, first+uint64(i), m.GetSeq())
		require.Equal(t, user, m.GetFromUserId(), "an event is from its actor")
		ev := m.GetGroupEvent()
		require.Equal(t, grouppb.GroupEvent_KIND_JOINED, ev.GetKind(), "%v", ev)
		require.Equal(t, user, ev.GetUserId(), "%v", ev)
		require.Equal(t, user, ev.GetActorId(), "%v", ev)
	}
}

// dialFixedWindow opens a second connection to e's server whose flow-control
// windows stay at the HTTP/2 minimum (no BDP growth), so a stream that is not
// read fills up after a bounded amount of data.
func (e *env) dialFixedWindow(t *testing.T) gatewaypb.GatewayServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(e.conn.Target(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(1<<16), grpc.WithInitialConnWindowSize(1<<16))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return gatewaypb.NewGatewayServiceClient(conn)
}
