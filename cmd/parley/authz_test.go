package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/testdb"
)

// authzPassword is every matrix user's password.
const authzPassword = "secret123"

// authzEnv is the production wiring (build) served on a loopback port with a
// gateway secret, its background work running, and clients for every service.
type authzEnv struct {
	app      *parley.App
	pool     *pgxpool.Pool
	conn     *grpc.ClientConn
	secret   string // the edge gateway credential
	users    userpb.UserServiceClient
	groups   grouppb.GroupServiceClient
	feeds    feedpb.FeedServiceClient
	messages messagepb.MessageServiceClient
	gateway  gatewaypb.GatewayServiceClient
	common   commonpb.CommonServiceClient
}

// authzServe builds Parley as `parley serve` does, logging to log, with tune
// (if not nil) adjusting the configuration first. Everything stops when the
// test ends.
func authzServe(t *testing.T, log zerolog.Logger, tune func(*config.Config)) *authzEnv {
	t.Helper()
	cfg := parleytest.Config(t)
	cfg.GatewaySecret = "gw-" + authzRandom()
	// The matrix sends more messages per user than a person would.
	cfg.SendRate, cfg.SendBurst = 1000, 1000
	if tune != nil {
		tune(&cfg)
	}
	pool := testdb.Pool(t)
	served := parleytest.Serve(t, cfg, pool, parley.Options{Log: log})
	conn := served.Conn
	return &authzEnv{
		app: served.App, pool: pool, conn: conn, secret: cfg.GatewaySecret,
		users: userpb.NewUserServiceClient(conn), groups: grouppb.NewGroupServiceClient(conn),
		feeds: feedpb.NewFeedServiceClient(conn), messages: messagepb.NewMessageServiceClient(conn),
		gateway: gatewaypb.NewGatewayServiceClient(conn), common: commonpb.NewCommonServiceClient(conn),
	}
}

func authzRandom() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// authzBearer is ctx carrying a user token.
func authzBearer(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
}

// gatewayCtx is a context carrying the edge gateway credential.
func (e *authzEnv) gatewayCtx() context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Gateway "+e.secret)
}

// authzRole names a column of the matrix.
type authzRole string

const (
	authzAnonymous authzRole = "anonymous"
	authzStranger  authzRole = "stranger"
	authzOwner     authzRole = "owner"
	authzMember    authzRole = "member"
	authzAdmin     authzRole = "admin"
	authzGateway   authzRole = "gateway"
)

// authzUser is a caller: a signed-in user (id, token), or an anonymous or
// gateway caller (ctx only).
type authzUser struct {
	role     authzRole
	id       uint64
	nickname string
	password string
	token    string
	ctx      context.Context
}

// signUp creates a user through UserService, makes it an admin with
// `parley admin grant` if asked (before it logs in, so no cached identity
// predates the grant) and logs it in.
func (e *authzEnv) signUp(t *testing.T, role authzRole, admin bool) *authzUser {
	t.Helper()
	nick := uniqueNickname("az")
	created, err := e.users.CreateUser(context.Background(), &userpb.UserCreateRequest{
		Nickname: nick, Password: authzPassword, PasswordRpt: authzPassword,
	})
	require.NoError(t, err)
	if admin {
		var out, errOut bytes.Buffer
		require.NoError(t, run(context.Background(), []string{"admin", "-database-url", testdb.URL(t), "grant", nick}, &out, &errOut),
			"admin grant: %s", errOut.String())
	}
	u := &authzUser{role: role, id: created.GetUser().GetId(), nickname: nick, password: authzPassword}
	u.token = e.login(t, nick, authzPassword)
	u.ctx = authzBearer(u.token)
	return u
}

func (e *authzEnv) login(t *testing.T, nick, password string) string {
	t.Helper()
	resp, err := e.users.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: nick, Password: password})
	require.NoError(t, err)
	require.NotEmpty(t, resp.GetToken())
	return resp.GetToken()
}

// authzWorld is the matrix's cast and the shared resources they relate to.
type authzWorld struct {
	*authzEnv
	anonymous, stranger, owner, member, admin, gatewayCaller *authzUser
	bystander                                                *authzUser // a target no caller relates to
	group                                                    uint64     // owned by owner; member joined
	feed                                                     uint64     // owner's public feed
	conv                                                     string     // owner and member's 1:1 conversation
	text, recallable                                         uint64     // owner's texts to member in conv
	png                                                      []byte
}

func authzSetup(t *testing.T) *authzWorld {
	t.Helper()
	e := authzServe(t, zerolog.Nop(), nil)
	w := &authzWorld{authzEnv: e, png: authzPNG(t)}
	w.anonymous = &authzUser{role: authzAnonymous, ctx: context.Background()}
	w.gatewayCaller = &authzUser{role: authzGateway, ctx: e.gatewayCtx()}
	w.stranger = e.signUp(t, authzStranger, false)
	w.owner = e.signUp(t, authzOwner, false)
	w.member = e.signUp(t, authzMember, false)
	w.admin = e.signUp(t, authzAdmin, true)
	w.bystander = e.signUp(t, "bystander", false)
	w.group = w.newGroup(t)
	w.feed = w.newFeed(t)
	sent, err := e.messages.SendUserTextMessage(w.owner.ctx, &messagepb.SendUserTextMessageRequest{
		ToUserId: w.member.id, Text: &messagepb.TextMessage{Content: "hello"},
	})
	require.NoError(t, err)
	w.conv, w.text = authzPair(w.owner.id, w.member.id), sent.GetId()
	sent, err = e.messages.SendUserTextMessage(w.owner.ctx, &messagepb.SendUserTextMessageRequest{
		ToUserId: w.member.id, Text: &messagepb.TextMessage{Content: "to recall"},
	})
	require.NoError(t, err)
	w.recallable = sent.GetId()
	return w
}

// authzPair is the conversation id of two users.
func authzPair(a, b uint64) string {
	return fmt.Sprintf("u:%d:%d", min(a, b), max(a, b))
}

func (w *authzWorld) caller(role authzRole) *authzUser {
	switch role {
	case authzAnonymous:
		return w.anonymous
	case authzStranger:
		return w.stranger
	case authzOwner:
		return w.owner
	case authzMember:
		return w.member
	case authzAdmin:
		return w.admin
	case authzGateway:
		return w.gatewayCaller
	}
	panic("no caller " + role)
}

// fresh returns a new user in c's place, for calls that would spoil the
// shared one (a password change revokes its tokens). Anonymous and gateway
// callers are returned as they are.
func (w *authzWorld) fresh(t *testing.T, c *authzUser) *authzUser {
	t.Helper()
	switch c.role {
	case authzAnonymous, authzGateway:
		return c
	}
	return w.signUp(t, c.role, c.role == authzAdmin)
}

// newGroup is a group owned by owner that member has joined.
func (w *authzWorld) newGroup(t *testing.T) uint64 {
	t.Helper()
	resp, err := w.groups.CreateGroup(w.owner.ctx, &grouppb.CreateGroupRequest{Name: "g-" + authzRandom(), Introduction: "about"})
	require.NoError(t, err)
	id := resp.GetGroup().GetId()
	_, err = w.groups.JoinGroup(w.member.ctx, &grouppb.JoinGroupRequest{Id: id})
	require.NoError(t, err)
	return id
}

// newJoinRequest is a group of owner's that member has joined, which asks
// for approval (JOIN_POLICY_APPROVAL), and bystander's pending request to
// join it.
func (w *authzWorld) newJoinRequest(t *testing.T) (group, request uint64) {
	t.Helper()
	group = w.newGroup(t)
	_, err := w.groups.UpdateGroup(w.owner.ctx, &grouppb.UpdateGroupRequest{Id: group, JoinPolicy: grouppb.JoinPolicy_JOIN_POLICY_APPROVAL.Enum()})
	require.NoError(t, err)
	resp, err := w.groups.JoinGroup(w.bystander.ctx, &grouppb.JoinGroupRequest{Id: group})
	require.NoError(t, err)
	require.NotZero(t, resp.GetRequestId(), "a pending request, not a join")
	return group, resp.GetRequestId()
}

// newInvite is an invite code of owner's to group.
func (w *authzWorld) newInvite(t *testing.T, group uint64) string {
	t.Helper()
	resp, err := w.groups.CreateGroupInvite(w.owner.ctx, &grouppb.CreateGroupInviteRequest{GroupId: group})
	require.NoError(t, err)
	return resp.GetCode()
}

// keepsGroupIfRefused runs call and, when it is refused, requires that it
// wrote nothing: group is stored as it was, and it recorded no event.
func (w *authzWorld) keepsGroupIfRefused(t *testing.T, group uint64, call func() error) error {
	t.Helper()
	before := w.groupState(t, group)
	err := call()
	if err != nil {
		require.Equal(t, before, w.groupState(t, group), "the refused call (%v) changed group %d", err, group)
	}
	return err
}

// groupState is everything stored of group id — its row, members, kicks,
// bans, join requests and invites, and its events, relayed into its
// conversation (its last seq) or not — once the relay has stored the
// events recorded so far.
func (e *authzEnv) groupState(t *testing.T, id uint64) string {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var pending int
		require.NoError(t, e.pool.QueryRow(ctx, "SELECT count(*) FROM groups.events WHERE group_id = $1", int64(id)).Scan(&pending))
		if pending == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "group %d's events are not relayed", id)
	}
	var state string
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT format(E'group %s\nmembers %s\nkicks %s\nbans %s\nrequests %s\ninvites %s\nevents %s, last seq %s',
		(SELECT g::text FROM groups.groups g WHERE g.id = $1),
		(SELECT string_agg(r::text, ' ' ORDER BY r::text) FROM groups.members r WHERE r.group_id = $1),
		(SELECT string_agg(r::text, ' ' ORDER BY r::text) FROM groups.kicks r WHERE r.group_id = $1),
		(SELECT string_agg(r::text, ' ' ORDER BY r::text) FROM groups.bans r WHERE r.group_id = $1),
		(SELECT string_agg(r::text, ' ' ORDER BY r::text) FROM groups.join_requests r WHERE r.group_id = $1),
		(SELECT string_agg(r::text, ' ' ORDER BY r::text) FROM groups.invites r WHERE r.group_id = $1),
		(SELECT count(*) FROM groups.events r WHERE r.group_id = $1),
		(SELECT c.last_seq FROM messages.conversations c WHERE c.id = 'g:' || $1::bigint))`, int64(id)).Scan(&state))
	return state
}

// newReportedGroupMessage is a group of owner's that member and bystander
// have joined, member's message in it, and bystander's open report of the
// message.
func (w *authzWorld) newReportedGroupMessage(t *testing.T) (group, message, report uint64) {
	t.Helper()
	group = w.newGroup(t)
	_, err := w.groups.JoinGroup(w.bystander.ctx, &grouppb.JoinGroupRequest{Id: group})
	require.NoError(t, err)
	sent, err := w.messages.SendGroupTextMessage(w.member.ctx, &messagepb.SendGroupTextMessageRequest{
		ToGroupId: group, Text: &messagepb.TextMessage{Content: "buy now"},
	})
	require.NoError(t, err)
	filed, err := w.common.ReportContent(w.bystander.ctx, &commonpb.ReportContentRequest{
		Kind: commonpb.ReportKind_REPORT_KIND_MESSAGE, Id: sent.GetId(), Reason: "spam",
	})
	require.NoError(t, err)
	return group, sent.GetId(), filed.GetReport().GetId()
}

// keepsReportsIfRefused runs call and, when it is refused, requires that it
// wrote nothing: the reports of content (kind, id) are stored as they were.
func (w *authzWorld) keepsReportsIfRefused(t *testing.T, kind commonpb.ReportKind, id uint64, call func() error) error {
	t.Helper()
	before := w.reportsState(t, kind, id)
	err := call()
	if err != nil {
		require.Equal(t, before, w.reportsState(t, kind, id), "the refused call (%v) changed the reports of %v %d", err, kind, id)
	}
	return err
}

// reportsState is everything stored of the reports of content (kind, id):
// their rows, open or resolved.
func (e *authzEnv) reportsState(t *testing.T, kind commonpb.ReportKind, id uint64) string {
	t.Helper()
	var state string
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT coalesce(string_agg(r::text, ' ' ORDER BY r.id), '') FROM common.reports r WHERE r.kind = $1 AND r.content_id = $2`,
		int16(kind), int64(id)).Scan(&state))
	return state
}

// newFeed is a public text feed of owner's.
func (w *authzWorld) newFeed(t *testing.T) uint64 {
	t.Helper()
	resp, err := w.feeds.FeedCreate(w.owner.ctx, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "feed " + authzRandom()})
	require.NoError(t, err)
	require.Equal(t, commonpb.ReviewStatus_ReviewPass, resp.GetFeed().GetReviewStatus())
	return resp.GetFeed().GetId()
}

// newComment is member's comment on owner's feed.
func (w *authzWorld) newComment(t *testing.T) uint64 {
	t.Helper()
	resp, err := w.feeds.FeedCommentCreate(w.member.ctx, &feedpb.FeedCommentCreateRequest{FeedId: w.feed, Content: "nice"})
	require.NoError(t, err)
	return resp.GetComment().GetId()
}

// openEdge opens an edge gateway's stream and waits until it is online
// (its ping is answered once the hub has it); it closes when the test ends.
func (e *authzEnv) openEdge(t *testing.T, gatewayID string) gatewaypb.GatewayService_SendMessageClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.gatewayCtx(), 30*time.Second)
	t.Cleanup(cancel)
	ctx = metadata.AppendToOutgoingContext(ctx, gateway.GatewayIDHeader, gatewayID)
	s, err := e.gateway.SendMessage(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Send(&gatewaypb.SendMessageRequest{Cmd: gateway.CmdPing, RequestId: 1}))
	f, err := s.Recv()
	require.NoError(t, err)
	require.Equal(t, gateway.CmdPong, f.GetCmd())
	return s
}

// registerClient binds clientID on edge gatewayID to u, as the edge gateway.
func (e *authzEnv) registerClient(t *testing.T, u *authzUser, gatewayID, clientID string) {
	t.Helper()
	ctx := metadata.AppendToOutgoingContext(e.gatewayCtx(), gateway.ClientAuthorizationHeader, "Bearer "+u.token)
	_, err := e.gateway.Register(ctx, &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: clientID})
	require.NoError(t, err)
}

// authzPing opens a SendMessage stream as ctx's caller, sends a ping and
// returns how the stream answered: nil for a pong, else the stream's status.
func authzPing(ctx context.Context, client gatewaypb.GatewayServiceClient, kv ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if len(kv) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, kv...)
	}
	s, err := client.SendMessage(ctx)
	if err != nil {
		return err
	}
	if err := s.Send(&gatewaypb.SendMessageRequest{Cmd: gateway.CmdPing, RequestId: 7}); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	f, err := s.Recv()
	if err != nil {
		return err
	}
	if f.GetCmd() != gateway.CmdPong || f.GetRequestId() != 7 {
		return fmt.Errorf("answer to ping: %v", f)
	}
	return nil
}

// authzUpload streams content to UploadImage as ctx's caller and returns
// the call's status.
func authzUpload(ctx context.Context, client commonpb.CommonServiceClient, content []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	s, err := client.UploadImage(ctx)
	if err != nil {
		return "", err
	}
	if err := s.Send(&commonpb.UploadImageRequest{Content: content}); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	resp, err := s.CloseAndRecv()
	return resp.GetUrl(), err
}

// authzPNG is a small valid PNG image.
func authzPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// authzRow is one method's expected codes for each caller. insider is who
// the third column is: the resource's owner or a member of it.
type authzRow struct {
	insider                                    authzRole
	anonymous, stranger, inside, admin, gwCred codes.Code
	call                                       func(t *testing.T, w *authzWorld, c *authzUser) error
}

// authzE drops a unary call's response.
func authzE[R any](_ R, err error) error { return err }

// authzRows is the matrix: every method of the six services. gwCred is an
// edge gateway's credential, which only the GatewayService accepts (public
// methods ignore credentials altogether).
func authzRows() map[string]authzRow {
	const (
		ok     = codes.OK
		unauth = codes.Unauthenticated
		denied = codes.PermissionDenied
	)
	// public: anyone, with any credential or none.
	public := func(call func(t *testing.T, w *authzWorld, c *authzUser) error) authzRow {
		return authzRow{authzOwner, ok, ok, ok, ok, ok, call}
	}
	// signedIn: any user, acting on its own behalf or on something public.
	signedIn := func(call func(t *testing.T, w *authzWorld, c *authzUser) error) authzRow {
		return authzRow{authzOwner, unauth, ok, ok, ok, denied, call}
	}
	// ownerOnly: the resource's owner; admins have no say either.
	ownerOnly := func(call func(t *testing.T, w *authzWorld, c *authzUser) error) authzRow {
		return authzRow{authzOwner, unauth, denied, ok, denied, denied, call}
	}
	// membersOnly: members of the group or participants of the conversation.
	membersOnly := func(call func(t *testing.T, w *authzWorld, c *authzUser) error) authzRow {
		return authzRow{authzMember, unauth, denied, ok, denied, denied, call}
	}
	// at names a member in a group message (the owner).
	at := func(w *authzWorld) []uint64 { return []uint64{w.owner.id} }
	url := "https://cdn.example.com/a"

	return map[string]authzRow{
		// CommonService
		"/common.CommonService/Ping": public(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.common.Ping(c.ctx, &commonpb.PingRequest{}))
		}),
		"/common.CommonService/UploadImage": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(authzUpload(c.ctx, w.common, w.png))
		}),
		"/common.CommonService/SendEmail": {authzOwner, unauth, denied, denied, ok, denied,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				return authzE(w.common.SendEmail(c.ctx, &commonpb.SendEmailRequest{
					Receiver: map[string]string{"Ann": "ann@example.com"}, Subject: "matrix " + authzRandom(), Content: "hello",
				}))
			}},
		// Reports: anyone signed in reports content it can see, not its own.
		// owner's text to member is seen by member alone of the callers; to
		// the others it does not exist. A refused report files nothing.
		"/common.CommonService/ReportContent": {authzMember, unauth, codes.NotFound, ok, codes.NotFound, denied,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				return w.keepsReportsIfRefused(t, commonpb.ReportKind_REPORT_KIND_MESSAGE, w.text, func() error {
					return authzE(w.common.ReportContent(c.ctx, &commonpb.ReportContentRequest{
						Kind: commonpb.ReportKind_REPORT_KIND_MESSAGE, Id: w.text, Reason: "spam"}))
				})
			}},
		// A group's reports: its owner and admins list them, and Parley
		// admins (who alone list every report, group_id 0).
		"/common.CommonService/ListReports": {authzOwner, unauth, denied, ok, ok, denied,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				return authzE(w.common.ListReports(c.ctx, &commonpb.ListReportsRequest{GroupId: w.group, IncludeResolved: true}))
			}},
		// A report of a group message: the group's owner and admins resolve
		// it, and Parley admins; to anyone else it does not exist. Banning
		// its sender (member) acts on a group of its own, and a refused
		// resolution leaves that group and the report as they were.
		"/common.CommonService/ResolveReport": {authzOwner, unauth, codes.NotFound, ok, ok, denied,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				g, message, report := w.newReportedGroupMessage(t)
				return w.keepsGroupIfRefused(t, g, func() error {
					return w.keepsReportsIfRefused(t, commonpb.ReportKind_REPORT_KIND_MESSAGE, message, func() error {
						return authzE(w.common.ResolveReport(c.ctx, &commonpb.ResolveReportRequest{
							Id: report, Action: commonpb.ReportAction_REPORT_ACTION_BAN_USER}))
					})
				})
			}},

		// UserService
		"/user.UserService/Ping": public(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.Ping(c.ctx, &commonpb.PingRequest{}))
		}),
		"/user.UserService/CreateUser": public(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.CreateUser(c.ctx, &userpb.UserCreateRequest{
				Nickname: uniqueNickname("azc"), Password: authzPassword, PasswordRpt: authzPassword,
			}))
		}),
		"/user.UserService/UserLogin": public(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.UserLogin(c.ctx, &userpb.UserLoginRequest{Nickname: w.bystander.nickname, Password: authzPassword}))
		}),
		"/user.UserService/GetUser": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.GetUser(c.ctx, &userpb.UserGetRequest{Id: w.owner.id}))
		}),
		"/user.UserService/QueryUser": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.QueryUser(c.ctx, &userpb.UserQueryRequest{Keyword: "az", Page: 1, PageSize: 5}))
		}),
		// Changes the caller's own password (revoking its tokens): a fresh
		// user in each role.
		"/user.UserService/UpdatePassword": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			c = w.fresh(t, c)
			return authzE(w.users.UpdatePassword(c.ctx, &userpb.UpdatePasswordRequest{Password: "new-secret-1", PasswordRpt: "new-secret-1"}))
		}),
		"/user.UserService/UpdateAvatar": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.UpdateAvatar(c.ctx, &userpb.UpdateAvatarRequest{Url: "https://img.example.com/me.png"}))
		}),
		"/user.UserService/FollowUser": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.FollowUser(c.ctx, &userpb.FollowUserRequest{UserId: w.bystander.id}))
		}),
		"/user.UserService/UnfollowUser": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.UnfollowUser(c.ctx, &userpb.UnfollowUserRequest{UserId: w.bystander.id}))
		}),
		"/user.UserService/ListFollowing": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.ListFollowing(c.ctx, &userpb.ListFollowingRequest{UserId: w.owner.id}))
		}),
		"/user.UserService/ListFollowers": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.ListFollowers(c.ctx, &userpb.ListFollowersRequest{UserId: w.owner.id}))
		}),
		"/user.UserService/BlockUser": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.BlockUser(c.ctx, &userpb.BlockUserRequest{UserId: w.bystander.id}))
		}),
		"/user.UserService/UnblockUser": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.UnblockUser(c.ctx, &userpb.UnblockUserRequest{UserId: w.bystander.id}))
		}),
		"/user.UserService/ListBlocked": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.ListBlocked(c.ctx, &userpb.ListBlockedRequest{}))
		}),
		"/user.UserService/GetPresence": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.GetPresence(c.ctx, &userpb.GetPresenceRequest{UserId: []uint64{w.owner.id, w.bystander.id}}))
		}),
		// Sets the caller's own setting to what it is: no one is told.
		"/user.UserService/UpdatePrivacy": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.UpdatePrivacy(c.ctx, &userpb.UpdatePrivacyRequest{}))
		}),
		"/user.UserService/GetPrivacy": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.users.GetPrivacy(c.ctx, &userpb.GetPrivacyRequest{}))
		}),

		// GroupService
		"/group.GroupService/Ping": public(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.groups.Ping(c.ctx, &commonpb.PingRequest{}))
		}),
		"/group.GroupService/CreateGroup": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.groups.CreateGroup(c.ctx, &grouppb.CreateGroupRequest{Name: "new " + authzRandom()}))
		}),
		"/group.GroupService/UpdateGroup": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.groups.UpdateGroup(c.ctx, &grouppb.UpdateGroupRequest{Id: w.newGroup(t), Name: "renamed"}))
		}),
		"/group.GroupService/GetGroup": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.groups.GetGroup(c.ctx, &grouppb.GetGroupRequest{Id: w.group}))
		}),
		"/group.GroupService/QueryGroup": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.groups.QueryGroup(c.ctx, &grouppb.QueryGroupRequest{Keyword: "g-"}))
		}),
		"/group.GroupService/DeleteGroup": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.groups.DeleteGroup(c.ctx, &grouppb.DeleteGroupRequest{Id: w.newGroup(t)}))
		}),
		// Adding someone else (bystander) to the group: members only.
		"/group.GroupService/JoinGroup": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.groups.JoinGroup(c.ctx, &grouppb.JoinGroupRequest{Id: w.newGroup(t), UserId: w.bystander.id}))
		}),
		// Removing someone else (member) from the group: the owner only.
		"/group.GroupService/QuitGroup": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.groups.QuitGroup(c.ctx, &grouppb.QuitGroupRequest{Id: w.newGroup(t), UserId: w.member.id}))
		}),
		"/group.GroupService/GetGroupUser": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.groups.GetGroupUser(c.ctx, &grouppb.GetGroupUserRequest{Id: w.group}))
		}),
		// Governance: the owner, or the owner and the group's admins (the
		// matrix's admin is a Parley admin, who has no say inside a group).
		// Each change acts on a group of its own, and a refused one leaves
		// that group as it was.
		"/group.GroupService/SetGroupMemberRole": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			g := w.newGroup(t)
			return w.keepsGroupIfRefused(t, g, func() error {
				return authzE(w.groups.SetGroupMemberRole(c.ctx, &grouppb.SetGroupMemberRoleRequest{
					GroupId: g, UserId: w.member.id, Role: grouppb.GroupRole_GROUP_ROLE_ADMIN}))
			})
		}),
		"/group.GroupService/TransferGroupOwner": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			g := w.newGroup(t)
			return w.keepsGroupIfRefused(t, g, func() error {
				return authzE(w.groups.TransferGroupOwner(c.ctx, &grouppb.TransferGroupOwnerRequest{GroupId: g, UserId: w.member.id}))
			})
		}),
		"/group.GroupService/ListJoinRequests": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.groups.ListJoinRequests(c.ctx, &grouppb.ListJoinRequestsRequest{GroupId: w.group}))
		}),
		// Approving bystander's request to join.
		"/group.GroupService/DecideJoinRequest": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			g, request := w.newJoinRequest(t)
			return w.keepsGroupIfRefused(t, g, func() error {
				return authzE(w.groups.DecideJoinRequest(c.ctx, &grouppb.DecideJoinRequestRequest{RequestId: request, Approve: true}))
			})
		}),
		"/group.GroupService/CreateGroupInvite": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			g := w.newGroup(t)
			return w.keepsGroupIfRefused(t, g, func() error {
				return authzE(w.groups.CreateGroupInvite(c.ctx, &grouppb.CreateGroupInviteRequest{GroupId: g, MaxUses: 3}))
			})
		}),
		"/group.GroupService/RevokeGroupInvite": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			g := w.newGroup(t)
			code := w.newInvite(t, g)
			return w.keepsGroupIfRefused(t, g, func() error {
				return authzE(w.groups.RevokeGroupInvite(c.ctx, &grouppb.RevokeGroupInviteRequest{Code: code}))
			})
		}),
		"/group.GroupService/ListGroupInvites": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.groups.ListGroupInvites(c.ctx, &grouppb.ListGroupInvitesRequest{GroupId: w.group}))
		}),
		// Anyone signed in with a code (the owner, a member already, joins
		// nothing and uses nothing).
		"/group.GroupService/JoinGroupByInvite": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			g := w.newGroup(t)
			code := w.newInvite(t, g)
			return w.keepsGroupIfRefused(t, g, func() error {
				return authzE(w.groups.JoinGroupByInvite(c.ctx, &grouppb.JoinGroupByInviteRequest{Code: code}))
			})
		}),
		// Muting or banning member, whom the owner outranks.
		"/group.GroupService/MuteGroupMember": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			g := w.newGroup(t)
			return w.keepsGroupIfRefused(t, g, func() error {
				return authzE(w.groups.MuteGroupMember(c.ctx, &grouppb.MuteGroupMemberRequest{
					GroupId: g, UserId: w.member.id, Until: timestamppb.New(time.Now().Add(time.Hour))}))
			})
		}),
		"/group.GroupService/BanGroupMember": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			g := w.newGroup(t)
			return w.keepsGroupIfRefused(t, g, func() error {
				return authzE(w.groups.BanGroupMember(c.ctx, &grouppb.BanGroupMemberRequest{GroupId: g, UserId: w.member.id, Reason: "spam"}))
			})
		}),
		// Lifting the owner's ban of bystander.
		"/group.GroupService/UnbanGroupMember": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			g := w.newGroup(t)
			_, err := w.groups.BanGroupMember(w.owner.ctx, &grouppb.BanGroupMemberRequest{GroupId: g, UserId: w.bystander.id})
			require.NoError(t, err)
			return w.keepsGroupIfRefused(t, g, func() error {
				return authzE(w.groups.UnbanGroupMember(c.ctx, &grouppb.UnbanGroupMemberRequest{GroupId: g, UserId: w.bystander.id}))
			})
		}),
		"/group.GroupService/ListGroupBans": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.groups.ListGroupBans(c.ctx, &grouppb.ListGroupBansRequest{GroupId: w.group}))
		}),

		// FeedService
		"/feed.FeedService/Ping": public(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.feeds.Ping(c.ctx, &commonpb.PingRequest{}))
		}),
		"/feed.FeedService/FeedCreate": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.feeds.FeedCreate(c.ctx, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "mine"}))
		}),
		"/feed.FeedService/FeedEdit": ownerOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.feeds.FeedEdit(c.ctx, &feedpb.FeedEditRequest{Id: w.newFeed(t), Type: feedpb.FeedType_Txt, Content: "edited"}))
		}),
		"/feed.FeedService/FeedLike": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.feeds.FeedLike(c.ctx, &feedpb.FeedLikeRequest{Id: w.feed}))
		}),
		"/feed.FeedService/FeedUnLike": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.feeds.FeedUnLike(c.ctx, &feedpb.FeedUnLikeRequest{Id: w.feed}))
		}),
		"/feed.FeedService/FeedGet": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.feeds.FeedGet(c.ctx, &feedpb.FeedGetRequest{Id: w.feed}))
		}),
		// The owner or an admin.
		"/feed.FeedService/FeedDelete": {authzOwner, unauth, denied, ok, ok, denied,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				return authzE(w.feeds.FeedDelete(c.ctx, &feedpb.FeedDeleteRequest{Id: w.newFeed(t)}))
			}},
		"/feed.FeedService/FeedOwn": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.feeds.FeedOwn(c.ctx, &feedpb.FeedOwnRequest{}))
		}),
		"/feed.FeedService/FeedQuery": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.feeds.FeedQuery(c.ctx, &feedpb.FeedQueryRequest{Keyword: "feed"}))
		}),
		"/feed.FeedService/FeedFollow": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.feeds.FeedFollow(c.ctx, &feedpb.FeedFollowRequest{}))
		}),
		"/feed.FeedService/FeedRecommend": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.feeds.FeedRecommend(c.ctx, &feedpb.FeedRecommendRequest{}))
		}),
		// Admins only: not even the feed's owner.
		"/feed.FeedService/FeedReview": {authzOwner, unauth, denied, denied, ok, denied,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				return authzE(w.feeds.FeedReview(c.ctx, &feedpb.FeedReviewRequest{
					Id: w.newFeed(t), ReviewStatus: commonpb.ReviewStatus_ReviewPass, Remark: "fine",
				}))
			}},
		"/feed.FeedService/FeedCommentCreate": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.feeds.FeedCommentCreate(c.ctx, &feedpb.FeedCommentCreateRequest{FeedId: w.feed, Content: "hi"}))
		}),
		"/feed.FeedService/FeedCommentList": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.feeds.FeedCommentList(c.ctx, &feedpb.FeedCommentListRequest{FeedId: w.feed}))
		}),
		// The comment's author (member), the feed's owner or a Parley admin
		// (who deletes reported comments).
		"/feed.FeedService/FeedCommentDelete": {authzMember, unauth, denied, ok, ok, denied,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				return authzE(w.feeds.FeedCommentDelete(c.ctx, &feedpb.FeedCommentDeleteRequest{Id: w.newComment(t)}))
			}},

		// MessageService: 1:1 sends go to member (owner is the insider, the
		// other participant; anyone signed in may message anyone who has not
		// blocked them); group sends go to the shared group, members only.
		"/message.MessageService/Ping": public(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.Ping(c.ctx, &commonpb.PingRequest{}))
		}),
		"/message.MessageService/SendUserTextMessage": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendUserTextMessage(c.ctx, &messagepb.SendUserTextMessageRequest{
				ToUserId: w.member.id, Text: &messagepb.TextMessage{Content: "hi"}}))
		}),
		"/message.MessageService/SendUserLocationMessage": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendUserLocationMessage(c.ctx, &messagepb.SendUserLocationMessageRequest{
				ToUserId: w.member.id, Location: &messagepb.LocationMessage{Lat: 48.85, Lng: 2.35, Desc: "Paris"}}))
		}),
		"/message.MessageService/SendUserFaceMessage": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendUserFaceMessage(c.ctx, &messagepb.SendUserFaceMessageRequest{
				ToUserId: w.member.id, Face: &messagepb.FaceMessage{Symbol: "smile"}}))
		}),
		"/message.MessageService/SendUserSoundMessage": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendUserSoundMessage(c.ctx, &messagepb.SendUserSoundMessageRequest{
				ToUserId: w.member.id, Sound: &messagepb.SoundMessage{Url: url, Seconds: 3}}))
		}),
		"/message.MessageService/SendUserVideoMessage": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendUserVideoMessage(c.ctx, &messagepb.SendUserVideoMessageRequest{
				ToUserId: w.member.id, Video: &messagepb.VideoMessage{Url: url, Seconds: 3}}))
		}),
		"/message.MessageService/SendUserImageMessage": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendUserImageMessage(c.ctx, &messagepb.SendUserImageMessageRequest{
				ToUserId: w.member.id, Image: &messagepb.ImageMessageItem{Url: url, Format: messagepb.IMAGE_FORMAT_PNG}}))
		}),
		"/message.MessageService/SendUserFileMessage": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendUserFileMessage(c.ctx, &messagepb.SendUserFileMessageRequest{
				ToUserId: w.member.id, File: &messagepb.FileMessage{Url: url, Name: "a.txt", Size: 10}}))
		}),
		"/message.MessageService/SendGroupTextMessage": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendGroupTextMessage(c.ctx, &messagepb.SendGroupTextMessageRequest{
				ToGroupId: w.group, AtUserId: at(w), Text: &messagepb.TextMessage{Content: "hi all"}}))
		}),
		"/message.MessageService/SendGroupLocationMessage": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendGroupLocationMessage(c.ctx, &messagepb.SendGroupLocationMessageRequest{
				ToGroupId: w.group, Location: &messagepb.LocationMessage{Lat: 1, Lng: 2}}))
		}),
		"/message.MessageService/SendGroupFceMessage": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendGroupFceMessage(c.ctx, &messagepb.SendGroupFaceMessageRequest{
				ToGroupId: w.group, Face: &messagepb.FaceMessage{Symbol: "wave"}}))
		}),
		"/message.MessageService/SendGroupSoundMessage": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendGroupSoundMessage(c.ctx, &messagepb.SendGroupSoundMessageRequest{
				ToGroupId: w.group, Sound: &messagepb.SoundMessage{Url: url, Seconds: 2}}))
		}),
		"/message.MessageService/SendGroupVideoMessage": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendGroupVideoMessage(c.ctx, &messagepb.SendGroupVideoMessageRequest{
				ToGroupId: w.group, Video: &messagepb.VideoMessage{Url: url, Seconds: 2}}))
		}),
		"/message.MessageService/SendGroupImageMessage": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendGroupImageMessage(c.ctx, &messagepb.SendGroupImageMessageRequest{
				ToGroupId: w.group, Image: &messagepb.ImageMessageItem{Url: url}}))
		}),
		"/message.MessageService/SendGroupFileMessage": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendGroupFileMessage(c.ctx, &messagepb.SendGroupFileMessageRequest{
				ToGroupId: w.group, File: &messagepb.FileMessage{Url: url, Name: "b.pdf", Size: 99}}))
		}),
		"/message.MessageService/ListConversations": signedIn(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.ListConversations(c.ctx, &messagepb.ListConversationsRequest{}))
		}),
		// owner and member's conversation: its two participants only.
		"/message.MessageService/SyncMessages": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SyncMessages(c.ctx, &messagepb.SyncMessagesRequest{ConversationId: w.conv}))
		}),
		"/message.MessageService/MarkRead": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.MarkRead(c.ctx, &messagepb.MarkReadRequest{ConversationId: w.conv, Seq: 1}))
		}),
		"/message.MessageService/MarkDelivered": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.MarkDelivered(c.ctx, &messagepb.MarkDeliveredRequest{ConversationId: w.conv, Seq: 1}))
		}),
		"/message.MessageService/GetReceipts": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.GetReceipts(c.ctx, &messagepb.GetReceiptsRequest{ConversationId: w.conv, Seq: 1}))
		}),
		"/message.MessageService/SendTyping": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.SendTyping(c.ctx, &messagepb.SendTypingRequest{ConversationId: w.conv}))
		}),
		// Its sender only: to others the message does not exist (admins
		// included: they recall, they do not edit).
		"/message.MessageService/EditMessage": {authzOwner, unauth, codes.NotFound, ok, codes.NotFound, denied,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				return authzE(w.messages.EditMessage(c.ctx, &messagepb.EditMessageRequest{
					MessageId: w.text, Text: &messagepb.TextMessage{Content: "edited " + authzRandom()}}))
			}},
		// Its sender (and a group's owner: not this 1:1's); admins any
		// message. Recalling again is no error.
		"/message.MessageService/RecallMessage": {authzOwner, unauth, codes.NotFound, ok, ok, denied,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				return authzE(w.messages.RecallMessage(c.ctx, &messagepb.RecallMessageRequest{MessageId: w.recallable}))
			}},
		// Its conversation's participants; to others (admins included) the
		// message does not exist. Reacting again is no error.
		"/message.MessageService/ReactToMessage": {authzMember, unauth, codes.NotFound, ok, codes.NotFound, denied,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				return authzE(w.messages.ReactToMessage(c.ctx, &messagepb.ReactToMessageRequest{MessageId: w.text, Emoji: "👍"}))
			}},
		// The same; deleting again, or deleting a recalled message, is no
		// error.
		"/message.MessageService/DeleteMessageForMe": {authzMember, unauth, codes.NotFound, ok, codes.NotFound, denied,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				return authzE(w.messages.DeleteMessageForMe(c.ctx, &messagepb.DeleteMessageForMeRequest{MessageId: w.recallable}))
			}},
		// The caller's own settings of a conversation it takes part in
		// (pinning a pinned one again is no error).
		"/message.MessageService/UpdateConversation": membersOnly(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.messages.UpdateConversation(c.ctx, &messagepb.UpdateConversationRequest{ConversationId: w.conv, Pinned: proto.Bool(true)}))
		}),

		// GatewayService: Register and UnRegister are for edge gateways only
		// (users, admins included, cannot bind endpoints onto a gateway's
		// stream); a device stream is any user's; broadcasts are for admins
		// and edge gateways. The insider is owner, whose client is bound.
		"/gateway.GatewayService/Ping": public(func(t *testing.T, w *authzWorld, c *authzUser) error {
			return authzE(w.gateway.Ping(c.ctx, &commonpb.PingRequest{}))
		}),
		"/gateway.GatewayService/Register": {authzOwner, unauth, denied, denied, denied, ok,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				gatewayID := "edge-" + authzRandom()
				w.openEdge(t, gatewayID)
				// The client being bound: the caller itself, or owner for
				// callers without a token of their own.
				client := c
				if c.token == "" {
					client = w.owner
				}
				ctx := metadata.AppendToOutgoingContext(c.ctx, gateway.ClientAuthorizationHeader, "Bearer "+client.token)
				return authzE(w.gateway.Register(ctx, &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: "c-" + authzRandom()}))
			}},
		"/gateway.GatewayService/UnRegister": {authzOwner, unauth, denied, denied, denied, ok,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				gatewayID, clientID := "edge-"+authzRandom(), "c-"+authzRandom()
				w.openEdge(t, gatewayID)
				w.registerClient(t, w.owner, gatewayID, clientID)
				return authzE(w.gateway.UnRegister(c.ctx, &gatewaypb.UnRegisterRequest{GatewayId: gatewayID, ClientId: clientID}))
			}},
		"/gateway.GatewayService/SendMessage": {authzOwner, unauth, ok, ok, ok, ok,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				if c.role == authzGateway {
					return authzPing(c.ctx, w.gateway, gateway.GatewayIDHeader, "edge-"+authzRandom())
				}
				return authzPing(c.ctx, w.gateway, gateway.ClientIDHeader, "dev-"+authzRandom())
			}},
		"/gateway.GatewayService/SendToAll": {authzOwner, unauth, denied, denied, ok, ok,
			func(t *testing.T, w *authzWorld, c *authzUser) error {
				return authzE(w.gateway.SendToAll(c.ctx, &gatewaypb.SendToAllRequest{Data: []byte("notice")}))
			}},
	}
}

// authzServedMethods lists the full names of the methods the built server
// serves, health checking and reflection aside.
func authzServedMethods(app *parley.App) []string {
	var out []string
	for service, info := range app.Server().GetServiceInfo() {
		if strings.HasPrefix(service, "grpc.health.") || strings.HasPrefix(service, "grpc.reflection.") {
			continue
		}
		for _, m := range info.Methods {
			out = append(out, "/"+service+"/"+m.Name)
		}
	}
	sort.Strings(out)
	return out
}

// The matrix has exactly one row per served method: a new method without
// a row, or a row for a method that is gone, fails here.
func TestAuthzMatrixCoversEveryMethod(t *testing.T) {
	t.Parallel()
	e := authzServe(t, zerolog.Nop(), nil)
	served := authzServedMethods(e.app)
	rows := authzRows()
	services := map[string]bool{}
	for _, m := range served {
		services[strings.Split(m, "/")[1]] = true
		if _, ok := rows[m]; !ok {
			t.Errorf("%s is served but has no row in the authorization matrix", m)
		}
	}
	for m := range rows {
		if !slices.Contains(served, m) {
			t.Errorf("the matrix has a row for %s, which the server does not serve", m)
		}
	}
	require.Len(t, services, 6, "services served: %v", services)
}

// TestAuthzMatrix calls every method as each caller, against real seeded
// resources with a request that is otherwise valid, and checks the code.
func TestAuthzMatrix(t *testing.T) {
	w := authzSetup(t)

	rows := authzRows()
	for _, method := range authzServedMethods(w.app) {
		row, ok := rows[method]
		if !ok {
			t.Errorf("%s has no row in the authorization matrix", method)
			continue
		}
		t.Run(strings.TrimPrefix(method, "/"), func(t *testing.T) {
			require.Contains(t, []authzRole{authzOwner, authzMember}, row.insider)
			for _, cell := range []struct {
				role authzRole
				want codes.Code
			}{
				{authzAnonymous, row.anonymous},
				{authzStranger, row.stranger},
				{row.insider, row.inside},
				{authzAdmin, row.admin},
				{authzGateway, row.gwCred},
			} {
				t.Run(string(cell.role), func(t *testing.T) {
					err := row.call(t, w, w.caller(cell.role))
					st, isStatus := status.FromError(err)
					require.True(t, isStatus, "not a gRPC status: %v", err)
					require.Equal(t, cell.want.String(), st.Code().String(), "%s as %s: %s", method, cell.role, st.Message())
				})
			}
		})
	}
}
