package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/modules/message"
	"github.com/parley-im/parley/platform/testdb"
)

const clusterWait = 10 * time.Second

// clusterNATS is an embedded NATS server on port (0: a free one).
type clusterNATS struct {
	t    *testing.T
	port int
	srv  *natsserver.Server
}

func clusterStartNATS(t *testing.T, port int) *clusterNATS {
	t.Helper()
	if port == 0 {
		port = freePort(t)
	}
	srv, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	require.NoError(t, err)
	srv.Start()
	require.True(t, srv.ReadyForConnections(10*time.Second), "NATS did not start")
	n := &clusterNATS{t: t, port: port, srv: srv}
	t.Cleanup(n.stop)
	return n
}

func (n *clusterNATS) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

func (n *clusterNATS) stop() {
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
}

// clusterNode is one Parley node of a test cluster.
type clusterNode struct {
	name string
	conn *grpc.ClientConn
	stop func()
}

// clusterStart serves n nodes over the package's database, joined by the
// NATS server at natsURL, each with its own gRPC server.
func clusterStart(t *testing.T, natsURL string, names ...string) []*clusterNode {
	t.Helper()
	nodes := make([]*clusterNode, len(names))
	for i, name := range names {
		cfg := parleytest.Config(t)
		cfg.NATSURL, cfg.NodeID = natsURL, name
		cfg.GatewaySecret = clusterGatewaySecret
		cfg.SendRate, cfg.SendBurst = 1000, 1000
		served := parleytest.Serve(t, cfg, testdb.Pool(t), parley.Options{Log: zerolog.Nop()})
		nodes[i] = &clusterNode{name: name, conn: served.Conn, stop: served.Stop}
	}
	return nodes
}

const clusterGatewaySecret = "cluster-gateway-secret"

type clusterUser struct {
	id       uint64
	nickname string
	token    string
}

func (u clusterUser) ctx() context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+u.token)
}

// clusterSignUp creates a user through node and logs in.
func clusterSignUp(t *testing.T, node *clusterNode) clusterUser {
	t.Helper()
	users := userpb.NewUserServiceClient(node.conn)
	nick := uniqueNickname("cl")
	const password = "cluster-password-1"
	created, err := users.CreateUser(context.Background(), &userpb.UserCreateRequest{Nickname: nick, Password: password, PasswordRpt: password})
	require.NoError(t, err)
	login, err := users.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: nick, Password: password})
	require.NoError(t, err)
	return clusterUser{id: created.GetUser().GetId(), nickname: nick, token: login.GetToken()}
}

// clusterOpen opens a stream on node with ctx's credentials and waits until
// it answers a ping.
func clusterOpen(t *testing.T, node *clusterNode, ctx context.Context) *parleytest.Stream {
	t.Helper()
	s := parleytest.OpenStream(t, gatewaypb.NewGatewayServiceClient(node.conn), ctx)
	require.Equal(t, gateway.CmdPong, s.Call(t, gateway.CmdPing, nil, "").GetCmd())
	return s
}

func clusterDeviceOf(t *testing.T, node *clusterNode, u clusterUser, clientID string) *parleytest.Stream {
	t.Helper()
	return clusterOpen(t, node, metadata.AppendToOutgoingContext(u.ctx(), gateway.ClientIDHeader, clientID))
}

// clusterMessages reads n pushed messages from d (skipping other frames).
func clusterMessages(t *testing.T, d *parleytest.Stream, n int) []*messagepb.Message {
	t.Helper()
	var out []*messagepb.Message
	deadline := time.After(clusterWait)
	for len(out) < n {
		select {
		case f := <-d.Frames:
			if f.GetCmd() != message.CmdMessage {
				continue
			}
			m := &messagepb.Message{}
			require.NoError(t, proto.Unmarshal(f.GetData(), m))
			out = append(out, m)
		case <-d.Done:
			t.Fatalf("stream ended after %d of %d messages: %v", len(out), n, d.Err)
		case <-deadline:
			t.Fatalf("%d of %d messages within %s", len(out), n, clusterWait)
		}
	}
	return out
}

// requireInOrder requires msgs to be conversation conv's seqs from..from+n-1.
func requireInOrder(t *testing.T, msgs []*messagepb.Message, conv string, from uint64) {
	t.Helper()
	for i, m := range msgs {
		require.Equal(t, conv, m.GetConversationId())
		require.Equal(t, from+uint64(i), m.GetSeq(), "message %d of %s", i, conv)
	}
}

// requireJoinedEvents requires msgs to be the GROUP_EVENT messages of
// users added to the group by actor, in that order: every change to a
// group's membership is a message of its conversation, from its actor.
func requireJoinedEvents(t *testing.T, msgs []*messagepb.Message, actor uint64, users ...clusterUser) {
	t.Helper()
	require.Len(t, msgs, len(users))
	for i, m := range msgs {
		require.Equal(t, messagepb.MESSAGE_TYPE_GROUP_EVENT, m.GetType(), "message %d: want a group event, got %v", i, m)
		require.Equal(t, actor, m.GetFromUserId(), "an event is from its actor")
		ev := m.GetGroupEvent()
		require.Equal(t, grouppb.GroupEvent_KIND_JOINED, ev.GetKind(), "%v", ev)
		require.Equal(t, actor, ev.GetActorId(), "%v", ev)
		require.Equal(t, users[i].id, ev.GetUserId(), "%v", ev)
	}
}

func clusterSendText(t *testing.T, node *clusterNode, from clusterUser, to uint64, text string) *messagepb.SendUserTextMessageResponse {
	t.Helper()
	resp, err := messagepb.NewMessageServiceClient(node.conn).SendUserTextMessage(from.ctx(),
		&messagepb.SendUserTextMessageRequest{ToUserId: to, Text: &messagepb.TextMessage{Content: text}})
	require.NoError(t, err)
	return resp
}

func pairConversation(a, b uint64) string {
	return fmt.Sprintf("u:%d:%d", min(a, b), max(a, b))
}

// Messages sent through one node reach, in order, the devices of their
// recipients on the other nodes: 1:1, and to a group whose members are
// spread over three nodes; a user's devices on two nodes both receive.
func TestClusterDeliversAcrossNodesInOrder(t *testing.T) {
	t.Parallel()
	nats := clusterStartNATS(t, 0)
	nodes := clusterStart(t, nats.url(), "node-a", "node-b", "node-c")
	a, b, c := nodes[0], nodes[1], nodes[2]
	alice, bob, carol := clusterSignUp(t, b), clusterSignUp(t, a), clusterSignUp(t, c)

	bobOnA := clusterDeviceOf(t, a, bob, "bob-phone")
	bobOnC := clusterDeviceOf(t, c, bob, "bob-laptop")
	carolOnC := clusterDeviceOf(t, c, carol, "carol-phone")

	const n = 30
	for i := range n {
		clusterSendText(t, b, alice, bob.id, fmt.Sprintf("hello %d", i))
	}
	conv := pairConversation(alice.id, bob.id)
	requireInOrder(t, clusterMessages(t, bobOnA, n), conv, 1)
	requireInOrder(t, clusterMessages(t, bobOnC, n), conv, 1)

	groups := grouppb.NewGroupServiceClient(b.conn)
	g, err := groups.CreateGroup(alice.ctx(), &grouppb.CreateGroupRequest{Name: "across"})
	require.NoError(t, err)
	joiners := []clusterUser{bob, carol}
	for _, u := range joiners {
		_, err := groups.JoinGroup(alice.ctx(), &grouppb.JoinGroupRequest{Id: g.GetGroup().GetId(), UserId: u.id})
		require.NoError(t, err)
	}
	messages := messagepb.NewMessageServiceClient(b.conn)
	for i := range n {
		_, err := messages.SendGroupTextMessage(alice.ctx(), &messagepb.SendGroupTextMessageRequest{
			ToGroupId: g.GetGroup().GetId(), Text: &messagepb.TextMessage{Content: fmt.Sprintf("all %d", i)}})
		require.NoError(t, err)
	}
	groupConv := fmt.Sprintf("g:%d", g.GetGroup().GetId())
	// Each add is a GROUP_EVENT message of the group, the i-th at seq i,
	// pushed through b to the members of the moment on a and c like the
	// sends after it: a joiner's devices get its own add and the later ones,
	// then the sends.
	for _, d := range []struct {
		stream *parleytest.Stream
		joined int // the user's index in joiners
	}{{bobOnA, 0}, {bobOnC, 0}, {carolOnC, 1}} {
		events := joiners[d.joined:]
		got := clusterMessages(t, d.stream, len(events)+n)
		requireInOrder(t, got, groupConv, uint64(d.joined)+1)
		requireJoinedEvents(t, got[:len(events)], alice.id, events...)
		for i, m := range got[len(events):] {
			require.Equal(t, fmt.Sprintf("all %d", i), m.GetText().GetContent())
		}
	}
}

// A password changed through one node ends the user's streams on every
// node at once, and the old token, though cached there, stops working.
func TestClusterRevocationReachesEveryNode(t *testing.T) {
	t.Parallel()
	nats := clusterStartNATS(t, 0)
	nodes := clusterStart(t, nats.url(), "node-a", "node-b")
	a, b := nodes[0], nodes[1]
	bob := clusterSignUp(t, a)
	onB := clusterDeviceOf(t, b, bob, "bob-phone")
	usersOnB := userpb.NewUserServiceClient(b.conn)
	_, err := usersOnB.GetUser(bob.ctx(), &userpb.UserGetRequest{Id: bob.id}) // cached on b now
	require.NoError(t, err)

	_, err = userpb.NewUserServiceClient(a.conn).UpdatePassword(bob.ctx(),
		&userpb.UpdatePasswordRequest{Password: "another-password-2", PasswordRpt: "another-password-2"})
	require.NoError(t, err)

	select {
	case <-onB.Done:
		require.Equal(t, codes.Unauthenticated, status.Code(onB.Err), "%v", onB.Err)
	case <-time.After(clusterWait):
		t.Fatal("the stream on the other node is still open")
	}
	require.Eventually(t, func() bool {
		_, err := usersOnB.GetUser(bob.ctx(), &userpb.UserGetRequest{Id: bob.id})
		return status.Code(err) == codes.Unauthenticated
	}, time.Second, 10*time.Millisecond, "the old token still works on the other node")
}

// SendToAll through one node reaches the clients of every node; an edge
// gateway's client registered through a node other than the one holding
// the edge's stream gets its pushes on that stream.
func TestClusterBroadcastAndEdgeRegistration(t *testing.T) {
	t.Parallel()
	nats := clusterStartNATS(t, 0)
	nodes := clusterStart(t, nats.url(), "node-a", "node-b")
	a, b := nodes[0], nodes[1]
	alice, bob := clusterSignUp(t, a), clusterSignUp(t, b)
	aliceOnA := clusterDeviceOf(t, a, alice, "alice-phone")

	gatewayCtx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Gateway "+clusterGatewaySecret)
	edge := clusterOpen(t, a, metadata.AppendToOutgoingContext(gatewayCtx, gateway.GatewayIDHeader, "edge-1"))

	// The id is taken cluster-wide: a second stream for it on b is refused.
	second, err := gatewaypb.NewGatewayServiceClient(b.conn).SendMessage(
		metadata.AppendToOutgoingContext(gatewayCtx, gateway.GatewayIDHeader, "edge-1"))
	require.NoError(t, err)
	_, err = second.Recv()
	require.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)

	_, err = gatewaypb.NewGatewayServiceClient(b.conn).Register(
		metadata.AppendToOutgoingContext(gatewayCtx, gateway.ClientAuthorizationHeader, "Bearer "+bob.token),
		&gatewaypb.RegisterRequest{GatewayId: "edge-1", ClientId: "bob-web"})
	require.NoError(t, err, "Register through the node without the edge's stream")
	_, err = gatewaypb.NewGatewayServiceClient(b.conn).Register(
		metadata.AppendToOutgoingContext(gatewayCtx, gateway.ClientAuthorizationHeader, "Bearer "+bob.token),
		&gatewaypb.RegisterRequest{GatewayId: "no-such-edge", ClientId: "bob-web"})
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
	_, err = gatewaypb.NewGatewayServiceClient(b.conn).Register(
		metadata.AppendToOutgoingContext(gatewayCtx, gateway.ClientAuthorizationHeader, "Bearer not-a-token"),
		&gatewaypb.RegisterRequest{GatewayId: "edge-1", ClientId: "mallory"})
	require.Equal(t, codes.Unauthenticated, status.Code(err), "the edge's node checks the token: %v", err)

	// Registration is routed like a device: a message for bob sent through b
	// reaches the edge stream on a.
	clusterSendText(t, b, alice, bob.id, "to the edge")
	got := clusterMessages(t, edge, 1)
	require.Equal(t, pairConversation(alice.id, bob.id), got[0].GetConversationId())

	_, err = gatewaypb.NewGatewayServiceClient(b.conn).SendToAll(gatewayCtx, &gatewaypb.SendToAllRequest{Data: []byte("hi all")})
	require.NoError(t, err)
	for name, d := range map[string]*parleytest.Stream{"device on a": aliceOnA, "edge on a": edge} {
		require.Eventually(t, func() bool {
			for {
				select {
				case f := <-d.Frames:
					if f.GetCmd() == gateway.CmdBroadcast && string(f.GetData()) == "hi all" {
						return true
					}
				default:
					return false
				}
			}
		}, clusterWait, 20*time.Millisecond, "no broadcast on the %s", name)
	}
}

// With NATS down, sends still commit (clients catch up with SyncMessages);
// once NATS is back on its port, the nodes reconnect by themselves and
// live pushes across nodes resume. A node that stops loses nothing it
// acknowledged.
func TestClusterSurvivesNATSRestartAndANodeStopping(t *testing.T) {
	t.Parallel()
	nats := clusterStartNATS(t, 0)
	nodes := clusterStart(t, nats.url(), "node-a", "node-b")
	a, b := nodes[0], nodes[1]
	alice, bob := clusterSignUp(t, b), clusterSignUp(t, a)
	bobOnA := clusterDeviceOf(t, a, bob, "bob-phone")
	conv := pairConversation(alice.id, bob.id)

	clusterSendText(t, b, alice, bob.id, "before")
	requireInOrder(t, clusterMessages(t, bobOnA, 1), conv, 1)

	nats.stop()
	for i := range 5 {
		clusterSendText(t, b, alice, bob.id, fmt.Sprintf("while NATS is down %d", i))
	}
	synced, err := messagepb.NewMessageServiceClient(a.conn).SyncMessages(bob.ctx(), &messagepb.SyncMessagesRequest{ConversationId: conv})
	require.NoError(t, err)
	require.Len(t, synced.GetMessage(), 6, "the sends committed while NATS was down")

	clusterStartNATS(t, nats.port)
	// Pushes resume once both nodes are back: a fresh send gets through.
	// (Pushes buffered while NATS was away may arrive first.)
	require.Eventually(t, func() bool {
		last := clusterSendText(t, b, alice, bob.id, "after")
		deadline := time.After(time.Second)
		for {
			select {
			case f := <-bobOnA.Frames:
				m := &messagepb.Message{}
				if f.GetCmd() == message.CmdMessage && proto.Unmarshal(f.GetData(), m) == nil && m.GetId() == last.GetId() {
					return true
				}
			case <-deadline:
				return false
			}
		}
	}, 20*time.Second, 10*time.Millisecond, "no live push across nodes after NATS came back")

	// Node b stops after acknowledging: every message it acknowledged is
	// there for bob, through node a.
	acked := clusterSendText(t, b, alice, bob.id, "last words")
	b.stop()
	synced, err = messagepb.NewMessageServiceClient(a.conn).SyncMessages(bob.ctx(), &messagepb.SyncMessagesRequest{ConversationId: conv})
	require.NoError(t, err)
	msgs := synced.GetMessage()
	require.Equal(t, acked.GetId(), msgs[len(msgs)-1].GetId())
	requireInOrder(t, msgs, conv, 1)
}

// Messages of one conversation sent at the same moment through two nodes
// reach a device on a third in seq order: the receiving node puts them
// back in order.
func TestClusterKeepsOrderOfConcurrentSendsThroughTwoNodes(t *testing.T) {
	t.Parallel()
	nats := clusterStartNATS(t, 0)
	nodes := clusterStart(t, nats.url(), "node-a", "node-b", "node-c")
	alice, bob := clusterSignUp(t, nodes[0]), clusterSignUp(t, nodes[2])
	bobOnC := clusterDeviceOf(t, nodes[2], bob, "bob-phone")
	conv := pairConversation(alice.id, bob.id)

	// The first message sets where the device's order starts.
	clusterSendText(t, nodes[0], alice, bob.id, "first")
	requireInOrder(t, clusterMessages(t, bobOnC, 1), conv, 1)

	const perNode = 40
	var wg sync.WaitGroup
	for _, through := range nodes[:2] {
		wg.Go(func() {
			for i := range perNode {
				clusterSendText(t, through, alice, bob.id, fmt.Sprintf("%s %d", through.name, i))
			}
		})
	}
	wg.Wait()
	requireInOrder(t, clusterMessages(t, bobOnC, 2*perNode), conv, 2)
}
