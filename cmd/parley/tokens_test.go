package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/testdb"
)

// tokWait bounds the wait for something that must happen.
const tokWait = 5 * time.Second

// tokCode requires err to be a gRPC status with code want.
func tokCode(t *testing.T, err error, want codes.Code, msgAndArgs ...any) *status.Status {
	t.Helper()
	st, ok := status.FromError(err)
	require.True(t, ok, "not a gRPC status: %v", err)
	require.Equal(t, want.String(), st.Code().String(), append([]any{"message: " + st.Message()}, msgAndArgs...)...)
	return st
}

// tokDevice opens a device stream for u and waits until it is online.
func tokDevice(t *testing.T, e *authzEnv, u *authzUser) *parleytest.Stream {
	t.Helper()
	s := parleytest.OpenStream(t, e.gateway, u.ctx, gateway.ClientIDHeader, "dev-"+authzRandom())
	require.Equal(t, gateway.CmdPong, s.Call(t, gateway.CmdPing, nil, "").GetCmd())
	return s
}

// tokFrameCode is the code a frame answers with: OK for an answer, the
// status of an error frame.
func tokFrameCode(t *testing.T, f *gatewaypb.SendMessageResponse) (codes.Code, string) {
	t.Helper()
	if f.GetCmd() != gateway.CmdError {
		return codes.OK, ""
	}
	var pb spb.Status
	require.NoError(t, proto.Unmarshal(f.GetData(), &pb))
	return codes.Code(pb.GetCode()), pb.GetMessage()
}

func tokRequireFrame(t *testing.T, f *gatewaypb.SendMessageResponse, want codes.Code) {
	t.Helper()
	got, msg := tokFrameCode(t, f)
	require.Equal(t, want.String(), got.String(), "frame %s: %s", f.GetCmd(), msg)
}

// tokEdgeCtx is an edge gateway's call passing u's token as its client's.
func tokEdgeCtx(e *authzEnv, token string) context.Context {
	return metadata.AppendToOutgoingContext(e.gatewayCtx(), gateway.ClientAuthorizationHeader, "Bearer "+token)
}

// An expired token is refused for unary calls, new streams and edge
// registration, and a stream opened with it ends when it expires; the auth cache
// never serves it past its expiry.
func TestTokExpiredTokenRefused(t *testing.T) {
	t.Parallel()
	const ttl = 1500 * time.Millisecond
	e := authzServe(t, zerolog.Nop(), func(cfg *config.Config) { cfg.TokenTTL = ttl })
	u := e.signUp(t, "expiring", false)
	get := &userpb.UserGetRequest{Id: u.id}

	// A second token whose issue time is known to within the login call.
	sent := time.Now()
	token := e.login(t, u.nickname, u.password)
	answered := time.Now()
	ctx := authzBearer(token)
	device := tokDevice(t, e, &authzUser{ctx: ctx})
	edgeID := "edge-" + authzRandom()
	edge := parleytest.OpenStream(t, e.gateway, e.gatewayCtx(), gateway.GatewayIDHeader, edgeID)
	require.Equal(t, gateway.CmdPong, edge.Call(t, gateway.CmdPing, nil, "").GetCmd()) // the edge is online
	e.registerClient(t, &authzUser{token: token}, edgeID, "web-1")
	_, err := e.users.GetUser(ctx, get) // cached from here on (-auth-cache-ttl 2s)
	require.NoError(t, err)

	// Poll until refused: every success was asked before the expiry, and
	// the first refusal came after it.
	var refusedAt time.Time
	for deadline := answered.Add(ttl + tokWait); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		asked := time.Now()
		_, err := e.users.GetUser(ctx, get)
		if err == nil {
			require.True(t, asked.Before(answered.Add(ttl)), "token still accepted %v after it was issued (ttl %v)", asked.Sub(answered), ttl)
			continue
		}
		tokCode(t, err, codes.Unauthenticated)
		refusedAt = asked
		break
	}
	require.False(t, refusedAt.IsZero(), "expired token never refused")
	require.False(t, refusedAt.Before(sent.Add(ttl)), "token refused %v after login, before its ttl %v", refusedAt.Sub(sent), ttl)

	t.Run("unary", func(t *testing.T) {
		_, err := e.groups.CreateGroup(ctx, &grouppb.CreateGroupRequest{Name: "late"})
		tokCode(t, err, codes.Unauthenticated)
	})
	t.Run("new stream", func(t *testing.T) {
		tokCode(t, authzPing(ctx, e.gateway), codes.Unauthenticated)
	})
	t.Run("a stream opened before the expiry ends at it", func(t *testing.T) {
		st := tokCode(t, device.Ended(t), codes.Unauthenticated)
		require.Contains(t, st.Message(), "token expired")
	})
	t.Run("an edge client registered before the expiry is unregistered at it", func(t *testing.T) {
		f := edge.Call(t, userpb.UserService_GetUser_FullMethodName, get, "web-1")
		code, msg := tokFrameCode(t, f)
		require.Equal(t, codes.PermissionDenied.String(), code.String(), "%s", msg)
		require.Contains(t, msg, "not a client registered")
	})
	t.Run("edge registration", func(t *testing.T) {
		gatewayID := "edge-" + authzRandom()
		e.openEdge(t, gatewayID)
		_, err := e.gateway.Register(tokEdgeCtx(e, token), &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: "c1"})
		tokCode(t, err, codes.Unauthenticated)
	})
	t.Run("a fresh login still works", func(t *testing.T) {
		_, err := e.users.GetUser(authzBearer(e.login(t, u.nickname, u.password)), get)
		require.NoError(t, err)
	})
}

// tokTampered are tokens near a valid one: none may be accepted.
func tokTampered(t *testing.T, token string) map[string]string {
	t.Helper()
	flip := func(i int) string {
		b := []byte(token)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	require.NoError(t, err)
	stored := sha256.Sum256([]byte(token))
	swapped := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, token)
	return map[string]string{
		"first character flipped":  flip(0),
		"middle character flipped": flip(len(token) / 2),
		"last character flipped":   flip(len(token) - 1),
		"truncated":                token[:len(token)-1],
		"one character longer":     token + "A",
		"case swapped":             swapped,
		"padded base64":            base64.URLEncoding.EncodeToString(raw),
		"standard base64":          base64.StdEncoding.EncodeToString(raw),
		"hex of its bytes":         hex.EncodeToString(raw),
		// What the server stores: a leaked database must not yield tokens.
		"its stored sha-256":    base64.RawURLEncoding.EncodeToString(stored[:]),
		"its sha-256 in hex":    hex.EncodeToString(stored[:]),
		"same length, all A":    strings.Repeat("A", len(token)),
		"with a trailing space": token + " ",
	}
}

func TestTokTamperedTokenRefused(t *testing.T) {
	t.Parallel()
	e := authzServe(t, zerolog.Nop(), nil)
	u := e.signUp(t, "tampered", false)
	get := &userpb.UserGetRequest{Id: u.id}
	_, err := e.users.GetUser(u.ctx, get) // the genuine token is cached
	require.NoError(t, err)
	gatewayID := "edge-" + authzRandom()
	e.openEdge(t, gatewayID)

	for name, bad := range tokTampered(t, u.token) {
		t.Run(name, func(t *testing.T) {
			require.NotEqual(t, u.token, bad)
			ctx := authzBearer(bad)
			_, err := e.users.GetUser(ctx, get)
			tokCode(t, err, codes.Unauthenticated)
			_, err = e.feeds.FeedCreate(ctx, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "forged"})
			tokCode(t, err, codes.Unauthenticated)
			tokCode(t, authzPing(ctx, e.gateway), codes.Unauthenticated, "device stream")
			_, err = e.gateway.Register(tokEdgeCtx(e, bad), &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: "c-" + authzRandom()})
			tokCode(t, err, codes.Unauthenticated, "edge registration")
		})
	}
	t.Run("other schemes", func(t *testing.T) {
		for _, header := range []string{"Gateway " + u.token, "Basic " + u.token, u.token, "Bearer", "Bearer "} {
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", header)
			_, err := e.users.GetUser(ctx, get)
			tokCode(t, err, codes.Unauthenticated, header)
		}
	})
	t.Run("a wrong gateway secret", func(t *testing.T) {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Gateway "+e.secret+"x")
		_, err := e.gateway.SendToAll(ctx, &gatewaypb.SendToAllRequest{Data: []byte("x")})
		tokCode(t, err, codes.Unauthenticated)
	})

	_, err = e.users.GetUser(u.ctx, get)
	require.NoError(t, err, "the genuine token still works: forgeries lock nobody out")
	var feeds int
	require.NoError(t, testdb.Pool(t).QueryRow(context.Background(),
		"SELECT count(*) FROM feeds.feeds WHERE user_id = $1", u.id).Scan(&feeds))
	require.Zero(t, feeds, "a forged token created a feed")
}

// UpdatePassword revokes every token of the user at once: unary calls, an
// open device stream (which ends) and edge clients (unregistered), with the
// token cache warm.
func TestTokRevokedAfterUpdatePassword(t *testing.T) {
	t.Parallel()
	e := authzServe(t, zerolog.Nop(), nil)
	u := e.signUp(t, "revoked", false)
	other := e.signUp(t, "unaffected", false)
	first := u.token
	second := e.login(t, u.nickname, u.password)
	get := &userpb.UserGetRequest{Id: u.id}
	for _, token := range []string{first, second} {
		_, err := e.users.GetUser(authzBearer(token), get) // now cached (-auth-cache-ttl 2s)
		require.NoError(t, err)
	}
	device := tokDevice(t, e, &authzUser{ctx: authzBearer(second)})
	otherDevice := tokDevice(t, e, other)

	gatewayID := "edge-" + authzRandom()
	edge := parleytest.OpenStream(t, e.gateway, e.gatewayCtx(), gateway.GatewayIDHeader, gatewayID)
	require.Equal(t, gateway.CmdPong, edge.Call(t, gateway.CmdPing, nil, "").GetCmd())
	_, err := e.gateway.Register(tokEdgeCtx(e, second), &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: "u-web"})
	require.NoError(t, err)
	_, err = e.gateway.Register(tokEdgeCtx(e, other.token), &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: "other-web"})
	require.NoError(t, err)
	tokRequireFrame(t, edge.Call(t, userpb.UserService_GetUser_FullMethodName, get, "u-web"), codes.OK)

	_, err = e.users.UpdatePassword(authzBearer(first), &userpb.UpdatePasswordRequest{Password: "new-secret-1", PasswordRpt: "new-secret-1"})
	require.NoError(t, err)

	t.Run("unary calls with either old token", func(t *testing.T) {
		for _, token := range []string{first, second} {
			_, err := e.users.GetUser(authzBearer(token), get)
			tokCode(t, err, codes.Unauthenticated)
			_, err = e.users.UpdatePassword(authzBearer(token), &userpb.UpdatePasswordRequest{Password: "new-secret-2", PasswordRpt: "new-secret-2"})
			tokCode(t, err, codes.Unauthenticated)
		}
	})
	t.Run("the open device stream ends", func(t *testing.T) {
		tokCode(t, device.Ended(t), codes.Unauthenticated)
	})
	t.Run("a new stream", func(t *testing.T) {
		tokCode(t, authzPing(authzBearer(second), e.gateway), codes.Unauthenticated)
	})
	t.Run("the edge client is unregistered", func(t *testing.T) {
		tokRequireFrame(t, edge.Call(t, userpb.UserService_GetUser_FullMethodName, get, "u-web"), codes.PermissionDenied)
		_, err := e.gateway.UnRegister(e.gatewayCtx(), &gatewaypb.UnRegisterRequest{GatewayId: gatewayID, ClientId: "u-web"})
		tokCode(t, err, codes.NotFound)
		_, err = e.gateway.Register(tokEdgeCtx(e, second), &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: "u-web"})
		tokCode(t, err, codes.Unauthenticated)
	})
	t.Run("other users keep their sessions", func(t *testing.T) {
		tokRequireFrame(t, edge.Call(t, userpb.UserService_GetUser_FullMethodName, get, "other-web"), codes.OK)
		tokRequireFrame(t, otherDevice.Call(t, userpb.UserService_GetUser_FullMethodName, get, ""), codes.OK)
	})
	t.Run("only the new password logs in", func(t *testing.T) {
		_, err := e.users.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: u.nickname, Password: u.password})
		tokCode(t, err, codes.Unauthenticated)
		_, err = e.users.GetUser(authzBearer(e.login(t, u.nickname, "new-secret-1")), get)
		require.NoError(t, err)
	})
}

// tokIDOR is a victim with a friend, and an attacker holding a valid token
// of its own.
type tokIDOR struct {
	*authzEnv
	alice, bob, mallory, admin *authzUser
}

// Another user's token cannot act on the first user's resources; each
// resource is read back afterwards to show it is unchanged.
func TestTokIDOR(t *testing.T) {
	t.Parallel()
	e := authzServe(t, zerolog.Nop(), nil)
	w := &tokIDOR{authzEnv: e,
		alice: e.signUp(t, "alice", false), bob: e.signUp(t, "bob", false),
		mallory: e.signUp(t, "mallory", false), admin: e.signUp(t, "admin", true)}
	ctx := context.Background()

	newFeed := func(t *testing.T) *feedpb.Feed {
		resp, err := e.feeds.FeedCreate(w.alice.ctx, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "alice's words"})
		require.NoError(t, err)
		return resp.GetFeed()
	}
	readFeed := func(t *testing.T, id uint64) *feedpb.Feed {
		resp, err := e.feeds.FeedGet(w.alice.ctx, &feedpb.FeedGetRequest{Id: id})
		require.NoError(t, err)
		return resp.GetFeed()
	}
	newGroup := func(t *testing.T) *grouppb.Group {
		resp, err := e.groups.CreateGroup(w.alice.ctx, &grouppb.CreateGroupRequest{Name: "alice " + authzRandom(), Introduction: "ours"})
		require.NoError(t, err)
		_, err = e.groups.JoinGroup(w.bob.ctx, &grouppb.JoinGroupRequest{Id: resp.GetGroup().GetId()})
		require.NoError(t, err)
		return resp.GetGroup()
	}
	members := func(t *testing.T, group uint64) []uint64 {
		resp, err := e.groups.GetGroupUser(w.alice.ctx, &grouppb.GetGroupUserRequest{Id: group})
		require.NoError(t, err)
		var ids []uint64
		for _, u := range resp.GetUser() {
			ids = append(ids, u.GetId())
		}
		return ids
	}

	t.Run("edit another's feed", func(t *testing.T) {
		f := newFeed(t)
		_, err := e.feeds.FeedEdit(w.mallory.ctx, &feedpb.FeedEditRequest{Id: f.GetId(), Type: feedpb.FeedType_Txt, Content: "defaced"})
		tokCode(t, err, codes.PermissionDenied)
		got := readFeed(t, f.GetId())
		require.Equal(t, "alice's words", got.GetContent())
		require.Equal(t, w.alice.id, got.GetUserId())
		require.True(t, got.GetUpdatedAt().AsTime().Equal(f.GetUpdatedAt().AsTime()), "updated_at moved")
	})
	t.Run("delete another's feed", func(t *testing.T) {
		f := newFeed(t)
		_, err := e.feeds.FeedDelete(w.mallory.ctx, &feedpb.FeedDeleteRequest{Id: f.GetId()})
		tokCode(t, err, codes.PermissionDenied)
		require.Nil(t, readFeed(t, f.GetId()).GetDeletedAt())
		var deleted bool
		require.NoError(t, testdb.Pool(t).QueryRow(ctx, "SELECT deleted_at IS NOT NULL FROM feeds.feeds WHERE id = $1", f.GetId()).Scan(&deleted))
		require.False(t, deleted)
	})
	t.Run("a feed the caller cannot see is NotFound", func(t *testing.T) {
		f := newFeed(t)
		_, err := e.feeds.FeedReview(w.admin.ctx, &feedpb.FeedReviewRequest{Id: f.GetId(), ReviewStatus: commonpb.ReviewStatus_ReviewFail, Remark: "no"})
		require.NoError(t, err)
		_, err = e.feeds.FeedGet(w.mallory.ctx, &feedpb.FeedGetRequest{Id: f.GetId()})
		tokCode(t, err, codes.NotFound)
		_, err = e.feeds.FeedEdit(w.mallory.ctx, &feedpb.FeedEditRequest{Id: f.GetId(), Type: feedpb.FeedType_Txt, Content: "defaced"})
		tokCode(t, err, codes.NotFound)
		_, err = e.feeds.FeedDelete(w.mallory.ctx, &feedpb.FeedDeleteRequest{Id: f.GetId()})
		tokCode(t, err, codes.NotFound)
		_, err = e.feeds.FeedCommentCreate(w.mallory.ctx, &feedpb.FeedCommentCreateRequest{FeedId: f.GetId(), Content: "hi"})
		tokCode(t, err, codes.NotFound)
		got := readFeed(t, f.GetId()) // its owner still sees it
		require.Equal(t, "alice's words", got.GetContent())
		require.Equal(t, commonpb.ReviewStatus_ReviewFail, got.GetReviewStatus())
	})
	t.Run("delete another's comment", func(t *testing.T) {
		f := newFeed(t)
		c, err := e.feeds.FeedCommentCreate(w.bob.ctx, &feedpb.FeedCommentCreateRequest{FeedId: f.GetId(), Content: "bob says hi"})
		require.NoError(t, err)
		_, err = e.feeds.FeedCommentDelete(w.mallory.ctx, &feedpb.FeedCommentDeleteRequest{Id: c.GetComment().GetId()})
		tokCode(t, err, codes.PermissionDenied)
		list, err := e.feeds.FeedCommentList(w.alice.ctx, &feedpb.FeedCommentListRequest{FeedId: f.GetId()})
		require.NoError(t, err)
		require.Len(t, list.GetComment(), 1)
		require.Equal(t, "bob says hi", list.GetComment()[0].GetContent())
		require.EqualValues(t, 1, readFeed(t, f.GetId()).GetCommentCount())
	})
	t.Run("update another's group", func(t *testing.T) {
		g := newGroup(t)
		_, err := e.groups.UpdateGroup(w.mallory.ctx, &grouppb.UpdateGroupRequest{Id: g.GetId(), Name: "mallory's now", Introduction: "pwned"})
		tokCode(t, err, codes.PermissionDenied)
		// Not as a member either.
		_, err = e.groups.JoinGroup(w.mallory.ctx, &grouppb.JoinGroupRequest{Id: g.GetId()})
		require.NoError(t, err)
		_, err = e.groups.UpdateGroup(w.mallory.ctx, &grouppb.UpdateGroupRequest{Id: g.GetId(), Name: "mallory's now"})
		tokCode(t, err, codes.PermissionDenied)
		got, err := e.groups.GetGroup(w.alice.ctx, &grouppb.GetGroupRequest{Id: g.GetId()})
		require.NoError(t, err)
		require.Equal(t, g.GetName(), got.GetGroup().GetName())
		require.Equal(t, "ours", got.GetGroup().GetIntroduction())
		require.Equal(t, w.alice.id, got.GetGroup().GetUserId())
	})
	t.Run("delete another's group", func(t *testing.T) {
		g := newGroup(t)
		_, err := e.groups.DeleteGroup(w.mallory.ctx, &grouppb.DeleteGroupRequest{Id: g.GetId()})
		tokCode(t, err, codes.PermissionDenied)
		_, err = e.groups.JoinGroup(w.mallory.ctx, &grouppb.JoinGroupRequest{Id: g.GetId()})
		require.NoError(t, err)
		_, err = e.groups.DeleteGroup(w.mallory.ctx, &grouppb.DeleteGroupRequest{Id: g.GetId()})
		tokCode(t, err, codes.PermissionDenied, "as a member")
		got, err := e.groups.GetGroup(w.bob.ctx, &grouppb.GetGroupRequest{Id: g.GetId()})
		require.NoError(t, err)
		require.Nil(t, got.GetGroup().GetDeletedAt())
	})
	t.Run("kick members of another's group", func(t *testing.T) {
		g := newGroup(t)
		_, err := e.groups.QuitGroup(w.mallory.ctx, &grouppb.QuitGroupRequest{Id: g.GetId(), UserId: w.bob.id})
		tokCode(t, err, codes.PermissionDenied, "as a stranger")
		_, err = e.groups.JoinGroup(w.mallory.ctx, &grouppb.JoinGroupRequest{Id: g.GetId()})
		require.NoError(t, err)
		_, err = e.groups.QuitGroup(w.mallory.ctx, &grouppb.QuitGroupRequest{Id: g.GetId(), UserId: w.bob.id})
		tokCode(t, err, codes.PermissionDenied, "as a member")
		_, err = e.groups.QuitGroup(w.mallory.ctx, &grouppb.QuitGroupRequest{Id: g.GetId(), UserId: w.alice.id})
		tokCode(t, err, codes.PermissionDenied, "the owner")
		require.ElementsMatch(t, []uint64{w.alice.id, w.bob.id, w.mallory.id}, members(t, g.GetId()))
	})
	t.Run("add members to a group one is not in", func(t *testing.T) {
		g := newGroup(t)
		_, err := e.groups.JoinGroup(w.mallory.ctx, &grouppb.JoinGroupRequest{Id: g.GetId(), UserId: w.admin.id})
		tokCode(t, err, codes.PermissionDenied)
		_, err = e.groups.GetGroupUser(w.mallory.ctx, &grouppb.GetGroupUserRequest{Id: g.GetId()})
		tokCode(t, err, codes.PermissionDenied, "list members")
		require.ElementsMatch(t, []uint64{w.alice.id, w.bob.id}, members(t, g.GetId()))
	})

	// alice and bob's conversation, and a group conversation without mallory.
	sent, err := e.messages.SendUserTextMessage(w.alice.ctx, &messagepb.SendUserTextMessageRequest{
		ToUserId: w.bob.id, Text: &messagepb.TextMessage{Content: "private"}})
	require.NoError(t, err)
	require.NotZero(t, sent.GetId())
	pair := authzPair(w.alice.id, w.bob.id)
	g := newGroup(t)
	_, err = e.messages.SendGroupTextMessage(w.alice.ctx, &messagepb.SendGroupTextMessageRequest{
		ToGroupId: g.GetId(), Text: &messagepb.TextMessage{Content: "members only"}})
	require.NoError(t, err)
	conversation := func(t *testing.T, u *authzUser, id string) *messagepb.Conversation {
		resp, err := e.messages.ListConversations(u.ctx, &messagepb.ListConversationsRequest{})
		require.NoError(t, err)
		for _, c := range resp.GetConversation() {
			if c.GetConversationId() == id {
				return c
			}
		}
		return nil
	}

	t.Run("read another's conversation", func(t *testing.T) {
		for _, id := range []string{pair, "g:" + strconv.FormatUint(g.GetId(), 10)} {
			_, err := e.messages.SyncMessages(w.mallory.ctx, &messagepb.SyncMessagesRequest{ConversationId: id})
			tokCode(t, err, codes.PermissionDenied, id)
			require.Nil(t, conversation(t, w.mallory, id), "%s listed for mallory", id)
		}
		// Nor through a gateway stream, whose frames run the same checks.
		device := tokDevice(t, e, w.mallory)
		f := device.Call(t, messagepb.MessageService_SyncMessages_FullMethodName, &messagepb.SyncMessagesRequest{ConversationId: pair}, "")
		tokRequireFrame(t, f, codes.PermissionDenied)
	})
	t.Run("mark another's conversation read", func(t *testing.T) {
		before := conversation(t, w.bob, pair)
		require.NotNil(t, before)
		require.NotZero(t, before.GetUnreadCount())
		_, err := e.messages.MarkRead(w.mallory.ctx, &messagepb.MarkReadRequest{ConversationId: pair, Seq: before.GetLastSeq()})
		tokCode(t, err, codes.PermissionDenied)
		after := conversation(t, w.bob, pair)
		require.Equal(t, before.GetReadSeq(), after.GetReadSeq())
		require.Equal(t, before.GetUnreadCount(), after.GetUnreadCount())
	})
	t.Run("a device cannot speak for another client", func(t *testing.T) {
		device := tokDevice(t, e, w.mallory)
		f := device.Call(t, messagepb.MessageService_SendUserTextMessage_FullMethodName, &messagepb.SendUserTextMessageRequest{
			ToUserId: w.bob.id, Text: &messagepb.TextMessage{Content: "it's alice, honest"}}, "alice-web")
		tokRequireFrame(t, f, codes.OK)
		resp, err := e.messages.SyncMessages(w.bob.ctx, &messagepb.SyncMessagesRequest{ConversationId: authzPair(w.mallory.id, w.bob.id)})
		require.NoError(t, err)
		require.NotEmpty(t, resp.GetMessage())
		for _, m := range resp.GetMessage() {
			require.Equal(t, w.mallory.id, m.GetFromUserId())
		}
		synced, err := e.messages.SyncMessages(w.bob.ctx, &messagepb.SyncMessagesRequest{ConversationId: pair})
		require.NoError(t, err)
		require.Len(t, synced.GetMessage(), 1, "nothing new in alice and bob's conversation")
	})
	t.Run("a device with another's client id gets none of their pushes", func(t *testing.T) {
		clientID := "phone-" + authzRandom()
		alicePhone := parleytest.OpenStream(t, e.gateway, w.alice.ctx, gateway.ClientIDHeader, clientID)
		require.Equal(t, gateway.CmdPong, alicePhone.Call(t, gateway.CmdPing, nil, "").GetCmd())
		malloryPhone := parleytest.OpenStream(t, e.gateway, w.mallory.ctx, gateway.ClientIDHeader, clientID)
		require.Equal(t, gateway.CmdPong, malloryPhone.Call(t, gateway.CmdPing, nil, "").GetCmd())

		_, err := e.messages.SendUserTextMessage(w.bob.ctx, &messagepb.SendUserTextMessageRequest{
			ToUserId: w.alice.id, Text: &messagepb.TextMessage{Content: "for alice's eyes"}})
		require.NoError(t, err)
		select {
		case f := <-alicePhone.Frames:
			require.Equal(t, "message", f.GetCmd())
			require.Equal(t, clientID, f.GetReceiverId())
		case <-time.After(tokWait):
			require.FailNow(t, "alice's device got no push")
		}
		select {
		case f := <-malloryPhone.Frames:
			require.FailNow(t, "mallory's device got a frame", "%v", f)
		case <-time.After(300 * time.Millisecond):
		}
		tokRequireFrame(t, alicePhone.Call(t, gateway.CmdPing, nil, ""), codes.OK) // still online
	})
	t.Run("unregister another's edge client", func(t *testing.T) {
		gatewayID := "edge-" + authzRandom()
		edge := parleytest.OpenStream(t, e.gateway, e.gatewayCtx(), gateway.GatewayIDHeader, gatewayID)
		require.Equal(t, gateway.CmdPong, edge.Call(t, gateway.CmdPing, nil, "").GetCmd())
		_, err := e.gateway.Register(tokEdgeCtx(e, w.alice.token), &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: "alice-web"})
		require.NoError(t, err)

		_, err = e.gateway.UnRegister(w.mallory.ctx, &gatewaypb.UnRegisterRequest{GatewayId: gatewayID, ClientId: "alice-web"})
		tokCode(t, err, codes.PermissionDenied, "with a user token")
		_, err = e.gateway.Register(w.mallory.ctx, &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: "alice-web"})
		tokCode(t, err, codes.PermissionDenied, "rebind with a user token")
		_, err = e.gateway.Register(tokEdgeCtx(e, w.mallory.token), &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: "alice-web"})
		tokCode(t, err, codes.AlreadyExists, "take alice's client id through the gateway")

		// alice-web is still alice's: a request from it runs as alice.
		f := edge.Call(t, feedpb.FeedService_FeedCreate_FullMethodName, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "from the web"}, "alice-web")
		tokRequireFrame(t, f, codes.OK)
		var created feedpb.FeedCreateResponse
		require.NoError(t, proto.Unmarshal(f.GetData(), &created))
		require.Equal(t, w.alice.id, created.GetFeed().GetUserId())
	})
}

// tokLog is a goroutine-safe log sink.
type tokLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *tokLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *tokLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// tokForms are a secret and the encodings of it one could find in a log.
func tokForms(secret string) []string {
	forms := []string{secret, hex.EncodeToString([]byte(secret)), base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.RawStdEncoding.EncodeToString([]byte(secret))}
	if raw, err := base64.RawURLEncoding.DecodeString(secret); err == nil && len(raw) == 32 { // a token
		sum := sha256.Sum256([]byte(secret))
		forms = append(forms, hex.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw),
			base64.RawStdEncoding.EncodeToString(raw), base64.URLEncoding.EncodeToString(raw),
			hex.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString(sum[:]), base64.RawURLEncoding.EncodeToString(sum[:]))
	}
	return forms
}

// Passwords and tokens never reach the log, at debug level, whatever the
// call and however it ends.
func TestTokNoSecretsInLog(t *testing.T) {
	t.Parallel()
	sink := &tokLog{}
	e := authzServe(t, zerolog.New(sink).Level(zerolog.DebugLevel).With().Timestamp().Logger(), nil)
	ctx := context.Background()
	nick := uniqueNickname("logged")
	first, second, wrong := "pw-first-"+authzRandom(), "pw-second-"+authzRandom(), "pw-wrong-"+authzRandom()
	mismatch := "pw-mismatch-" + authzRandom()
	secrets := []string{first, second, wrong, mismatch, e.secret}

	created, err := e.users.CreateUser(ctx, &userpb.UserCreateRequest{Nickname: nick, Password: first, PasswordRpt: first})
	require.NoError(t, err)
	_, err = e.users.CreateUser(ctx, &userpb.UserCreateRequest{Nickname: nick + "x", Password: mismatch, PasswordRpt: mismatch + "!"})
	tokCode(t, err, codes.InvalidArgument)
	_, err = e.users.UserLogin(ctx, &userpb.UserLoginRequest{Nickname: nick, Password: wrong})
	tokCode(t, err, codes.Unauthenticated)
	token := e.login(t, nick, first)
	secrets = append(secrets, token)
	get := &userpb.UserGetRequest{Id: created.GetUser().GetId()}
	_, err = e.users.GetUser(authzBearer(token), get)
	require.NoError(t, err)
	_, err = e.users.UpdatePassword(authzBearer(token), &userpb.UpdatePasswordRequest{Password: mismatch, PasswordRpt: second})
	tokCode(t, err, codes.InvalidArgument)
	_, err = e.users.UpdatePassword(authzBearer(token), &userpb.UpdatePasswordRequest{Password: second, PasswordRpt: second})
	require.NoError(t, err)
	_, err = e.users.GetUser(authzBearer(token), get) // revoked
	tokCode(t, err, codes.Unauthenticated)

	fresh := e.login(t, nick, second)
	secrets = append(secrets, fresh)
	forged := tokTampered(t, fresh)["middle character flipped"]
	secrets = append(secrets, forged)
	_, err = e.users.GetUser(authzBearer(forged), get)
	tokCode(t, err, codes.Unauthenticated)
	_, err = e.users.QueryUser(authzBearer(fresh), &userpb.UserQueryRequest{Keyword: nick})
	require.NoError(t, err)

	// A device stream with frames: a ping, requests that succeed and fail.
	device := tokDevice(t, e, &authzUser{ctx: authzBearer(fresh)})
	tokRequireFrame(t, device.Call(t, userpb.UserService_GetUser_FullMethodName, get, ""), codes.OK)
	tokRequireFrame(t, device.Call(t, userpb.UserService_UpdateAvatar_FullMethodName,
		&userpb.UpdateAvatarRequest{Url: "https://img.example.com/" + nick + ".png"}, ""), codes.OK)
	tokRequireFrame(t, device.Call(t, userpb.UserService_UpdatePassword_FullMethodName,
		&userpb.UpdatePasswordRequest{Password: mismatch, PasswordRpt: second}, ""), codes.InvalidArgument)
	tokRequireFrame(t, device.Call(t, userpb.UserService_UserLogin_FullMethodName,
		&userpb.UserLoginRequest{Nickname: nick, Password: wrong}, ""), codes.Unauthenticated)

	// An edge gateway: its credential, a client's token passed along.
	gatewayID := "edge-" + authzRandom()
	edge := parleytest.OpenStream(t, e.gateway, e.gatewayCtx(), gateway.GatewayIDHeader, gatewayID)
	require.Equal(t, gateway.CmdPong, edge.Call(t, gateway.CmdPing, nil, "").GetCmd())
	_, err = e.gateway.Register(tokEdgeCtx(e, fresh), &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: "web-1"})
	require.NoError(t, err)
	_, err = e.gateway.Register(tokEdgeCtx(e, forged), &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: "web-2"})
	tokCode(t, err, codes.Unauthenticated)
	tokRequireFrame(t, edge.Call(t, userpb.UserService_GetUser_FullMethodName, get, "web-1"), codes.OK)
	_, err = e.gateway.SendToAll(metadata.AppendToOutgoingContext(ctx, "authorization", "Gateway "+e.secret+"-guess"),
		&gatewaypb.SendToAllRequest{Data: []byte("x")})
	tokCode(t, err, codes.Unauthenticated)

	// The streams end; their access-log lines are written as they do.
	device.Cancel()
	edge.Cancel()
	require.Eventually(t, func() bool {
		return strings.Count(sink.String(), gatewaypb.GatewayService_SendMessage_FullMethodName) >= 2
	}, tokWait, 20*time.Millisecond, "the streams' access-log lines")

	log := sink.String()
	for _, method := range []string{userpb.UserService_UserLogin_FullMethodName, userpb.UserService_UpdatePassword_FullMethodName,
		userpb.UserService_CreateUser_FullMethodName, gatewaypb.GatewayService_Register_FullMethodName} {
		require.Contains(t, log, method, "the log has the calls")
	}
	for _, secret := range secrets {
		for _, form := range tokForms(secret) {
			require.NotContains(t, log, form, "a secret (or an encoding of it) is in the log")
		}
	}
}

// The production wiring limits login guesses per nickname (the user
// module's TestLoginRateLimit* cover the limiter itself).
func TestTokLoginGuessesAreLimited(t *testing.T) {
	t.Parallel()
	e := authzServe(t, zerolog.Nop(), nil)
	u := e.signUp(t, "guessed", false)
	for i := range 10 {
		_, err := e.users.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: u.nickname, Password: "guess-" + strconv.Itoa(i)})
		tokCode(t, err, codes.Unauthenticated)
	}
	_, err := e.users.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: u.nickname, Password: "guess-10"})
	tokCode(t, err, codes.ResourceExhausted)
	_, err = e.users.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: strings.ToUpper(u.nickname), Password: u.password})
	tokCode(t, err, codes.ResourceExhausted, "the right password too")
	_, err = e.users.GetUser(u.ctx, &userpb.UserGetRequest{Id: u.id})
	require.NoError(t, err, "tokens already issued keep working")
}
