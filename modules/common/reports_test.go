package common_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
)

// app is the whole of Parley, as `parley serve` wires it: reports reach
// every other module.
type app struct {
	users  userpb.UserServiceClient
	groups grouppb.GroupServiceClient
	msgs   messagepb.MessageServiceClient
	feeds  feedpb.FeedServiceClient
	common commonpb.CommonServiceClient
	mods   parley.Modules
}

func serveApp(t *testing.T) *app {
	t.Helper()
	served := parleytest.Serve(t, parleytest.Config(t), testdb.Pool(t), parleytest.Options())
	return &app{
		users:  userpb.NewUserServiceClient(served.Conn),
		groups: grouppb.NewGroupServiceClient(served.Conn),
		msgs:   messagepb.NewMessageServiceClient(served.Conn),
		feeds:  feedpb.NewFeedServiceClient(served.Conn),
		common: commonpb.NewCommonServiceClient(served.Conn),
		mods:   served.Modules(),
	}
}

func (a *app) signUp(t *testing.T, admin bool) person {
	t.Helper()
	ctx := context.Background()
	nick := testkit.Unique("r")
	created, err := a.users.CreateUser(ctx, &userpb.UserCreateRequest{Nickname: nick, Password: password, PasswordRpt: password})
	require.NoError(t, err)
	if admin {
		require.NoError(t, a.mods.User.SetAdmin(ctx, nick, true))
	}
	login, err := a.users.UserLogin(ctx, &userpb.UserLoginRequest{Nickname: nick, Password: password})
	require.NoError(t, err)
	return person{id: created.GetUser().GetId(), nickname: nick, token: login.GetToken(), ctx: testkit.WithToken(login.GetToken())}
}

func (a *app) report(p person, kind commonpb.ReportKind, id uint64) (*commonpb.Report, error) {
	resp, err := a.common.ReportContent(p.ctx, &commonpb.ReportContentRequest{Kind: kind, Id: id, Reason: "spam"})
	return resp.GetReport(), err
}

func (a *app) resolve(p person, id uint64, action commonpb.ReportAction) (*commonpb.Report, error) {
	resp, err := a.common.ResolveReport(p.ctx, &commonpb.ResolveReportRequest{Id: id, Action: action})
	return resp.GetReport(), err
}

// scene is content of every kind: a group (ann owns it, bob and carl are
// members) with carl's message in it, carl's 1:1 message to bob, ann's
// public feed with carl's comment on it. dan is a stranger to all of it.
type scene struct {
	ann, bob, carl, dan, admin person
	groupID                    uint64
	groupMsg, directMsg        uint64
	feedID, commentID          uint64
}

func (a *app) scene(t *testing.T) scene {
	t.Helper()
	s := scene{ann: a.signUp(t, false), bob: a.signUp(t, false), carl: a.signUp(t, false), dan: a.signUp(t, false), admin: a.signUp(t, true)}
	g, err := a.groups.CreateGroup(s.ann.ctx, &grouppb.CreateGroupRequest{Name: testkit.Unique("g")})
	require.NoError(t, err)
	s.groupID = g.GetGroup().GetId()
	for _, p := range []person{s.bob, s.carl} {
		_, err := a.groups.JoinGroup(p.ctx, &grouppb.JoinGroupRequest{Id: s.groupID})
		require.NoError(t, err)
	}
	gm, err := a.msgs.SendGroupTextMessage(s.carl.ctx, &messagepb.SendGroupTextMessageRequest{ToGroupId: s.groupID, Text: &messagepb.TextMessage{Content: "buy now"}})
	require.NoError(t, err)
	s.groupMsg = gm.GetId()
	dm, err := a.msgs.SendUserTextMessage(s.carl.ctx, &messagepb.SendUserTextMessageRequest{ToUserId: s.bob.id, Text: &messagepb.TextMessage{Content: "buy now"}})
	require.NoError(t, err)
	s.directMsg = dm.GetId()
	f, err := a.feeds.FeedCreate(s.ann.ctx, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "hello"})
	require.NoError(t, err)
	s.feedID = f.GetFeed().GetId()
	c, err := a.feeds.FeedCommentCreate(s.carl.ctx, &feedpb.FeedCommentCreateRequest{FeedId: s.feedID, Content: "buy now"})
	require.NoError(t, err)
	s.commentID = c.GetComment().GetId()
	return s
}

// A user reports what it can see: the report names the content's author
// (and a group message's group); reporting again answers the same report;
// what it cannot see is NotFound; its own content is InvalidArgument.
func TestReportContent(t *testing.T) {
	t.Parallel()
	a := serveApp(t)
	s := a.scene(t)
	for _, tc := range []struct {
		name          string
		kind          commonpb.ReportKind
		id            uint64
		author, group uint64
	}{
		{"group message", commonpb.ReportKind_REPORT_KIND_MESSAGE, s.groupMsg, s.carl.id, s.groupID},
		{"1:1 message", commonpb.ReportKind_REPORT_KIND_MESSAGE, s.directMsg, s.carl.id, 0},
		{"feed", commonpb.ReportKind_REPORT_KIND_FEED, s.feedID, s.ann.id, 0},
		{"comment", commonpb.ReportKind_REPORT_KIND_COMMENT, s.commentID, s.carl.id, 0},
		{"user", commonpb.ReportKind_REPORT_KIND_USER, s.carl.id, s.carl.id, 0},
		{"group", commonpb.ReportKind_REPORT_KIND_GROUP, s.groupID, s.ann.id, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := a.report(s.bob, tc.kind, tc.id)
			require.NoError(t, err)
			require.Equal(t, tc.kind, r.GetKind())
			require.Equal(t, tc.id, r.GetContentId())
			require.Equal(t, s.bob.id, r.GetReporterId())
			require.Equal(t, tc.author, r.GetAuthorId())
			require.Equal(t, tc.group, r.GetGroupId())
			require.Equal(t, "spam", r.GetReason())
			require.Equal(t, commonpb.ReportAction_REPORT_ACTION_UNSPECIFIED, r.GetResolution())
			again, err := a.report(s.bob, tc.kind, tc.id)
			require.NoError(t, err)
			require.Equal(t, r.GetId(), again.GetId(), "an open report is filed once")
		})
	}
	for _, tc := range []struct {
		name string
		who  person
		kind commonpb.ReportKind
		id   uint64
		code codes.Code
	}{
		{"a stranger's view of a group message", s.dan, commonpb.ReportKind_REPORT_KIND_MESSAGE, s.groupMsg, codes.NotFound},
		{"a third user's view of a 1:1 message", s.ann, commonpb.ReportKind_REPORT_KIND_MESSAGE, s.directMsg, codes.NotFound},
		{"a missing feed", s.bob, commonpb.ReportKind_REPORT_KIND_FEED, 1 << 60, codes.NotFound},
		{"a missing comment", s.bob, commonpb.ReportKind_REPORT_KIND_COMMENT, 1 << 60, codes.NotFound},
		{"a missing user", s.bob, commonpb.ReportKind_REPORT_KIND_USER, 1 << 60, codes.NotFound},
		{"a missing group", s.bob, commonpb.ReportKind_REPORT_KIND_GROUP, 1 << 60, codes.NotFound},
		{"one's own message", s.carl, commonpb.ReportKind_REPORT_KIND_MESSAGE, s.groupMsg, codes.InvalidArgument},
		{"oneself", s.carl, commonpb.ReportKind_REPORT_KIND_USER, s.carl.id, codes.InvalidArgument},
		{"no kind", s.bob, commonpb.ReportKind_REPORT_KIND_UNSPECIFIED, s.carl.id, codes.InvalidArgument},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			_, err := a.report(tc.who, tc.kind, tc.id)
			testkit.RequireCode(t, err, tc.code)
		})
	}
	t.Run("anonymous", func(t *testing.T) {
		_, err := a.common.ReportContent(context.Background(), &commonpb.ReportContentRequest{Kind: commonpb.ReportKind_REPORT_KIND_USER, Id: s.carl.id})
		testkit.RequireCode(t, err, codes.Unauthenticated)
	})
}

// A reporter holds at most 50 open reports: the 51st waits until some are
// resolved.
func TestReportsPerReporterAreCapped(t *testing.T) {
	t.Parallel()
	a := serveApp(t)
	reporter, admin := a.signUp(t, false), a.signUp(t, true)
	var first *commonpb.Report
	for i := range 51 {
		target := a.signUp(t, false)
		r, err := a.report(reporter, commonpb.ReportKind_REPORT_KIND_USER, target.id)
		if i == 50 {
			testkit.RequireCode(t, err, codes.ResourceExhausted)
			break
		}
		require.NoError(t, err, "report %d", i)
		if first == nil {
			first = r
		}
	}
	_, err := a.resolve(admin, first.GetId(), commonpb.ReportAction_REPORT_ACTION_DISMISS)
	require.NoError(t, err)
	_, err = a.report(reporter, commonpb.ReportKind_REPORT_KIND_USER, admin.id)
	require.NoError(t, err, "a resolved report frees a place")
}

// Parley admins list every report, newest first, in pages; a group's owner
// and admins list its message reports; nobody else lists any.
func TestListReports(t *testing.T) {
	t.Parallel()
	a := serveApp(t)
	s := a.scene(t)
	var filed []uint64
	for _, c := range []struct {
		kind commonpb.ReportKind
		id   uint64
	}{
		{commonpb.ReportKind_REPORT_KIND_MESSAGE, s.groupMsg},
		{commonpb.ReportKind_REPORT_KIND_FEED, s.feedID},
		{commonpb.ReportKind_REPORT_KIND_USER, s.carl.id},
	} {
		r, err := a.report(s.bob, c.kind, c.id)
		require.NoError(t, err)
		filed = append(filed, r.GetId())
	}

	list := func(p person, req *commonpb.ListReportsRequest) ([]uint64, string, error) {
		resp, err := a.common.ListReports(p.ctx, req)
		var ids []uint64
		for _, r := range resp.GetReport() {
			ids = append(ids, r.GetId())
		}
		return ids, resp.GetNextPageToken(), err
	}
	// Other tests' reports share the database: look at these only.
	mine := func(ids []uint64) []uint64 {
		var out []uint64
		for _, id := range ids {
			for _, f := range filed {
				if id == f {
					out = append(out, id)
				}
			}
		}
		return out
	}
	var all []uint64
	token := ""
	for range 100 {
		ids, next, err := list(s.admin, &commonpb.ListReportsRequest{PageSize: 2, PageToken: token})
		require.NoError(t, err)
		require.LessOrEqual(t, len(ids), 2)
		all = append(all, ids...)
		if next == "" {
			break
		}
		token = next
	}
	require.Equal(t, []uint64{filed[2], filed[1], filed[0]}, mine(all), "newest first, every page")

	ids, _, err := list(s.ann, &commonpb.ListReportsRequest{GroupId: s.groupID})
	require.NoError(t, err)
	require.Equal(t, []uint64{filed[0]}, ids, "the group's owner sees its message reports only")

	for _, tc := range []struct {
		name string
		who  person
		req  *commonpb.ListReportsRequest
	}{
		{"a user listing all", s.bob, &commonpb.ListReportsRequest{}},
		{"a plain member listing the group's", s.bob, &commonpb.ListReportsRequest{GroupId: s.groupID}},
		{"a stranger listing the group's", s.dan, &commonpb.ListReportsRequest{GroupId: s.groupID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := list(tc.who, tc.req)
			testkit.RequireCode(t, err, codes.PermissionDenied)
		})
	}
	_, _, err = list(s.admin, &commonpb.ListReportsRequest{PageToken: "not-a-token"})
	testkit.RequireCode(t, err, codes.InvalidArgument)

	_, err = a.resolve(s.admin, filed[2], commonpb.ReportAction_REPORT_ACTION_DISMISS)
	require.NoError(t, err)
	open, _, err := list(s.admin, &commonpb.ListReportsRequest{PageSize: 500})
	require.NoError(t, err)
	require.Equal(t, []uint64{filed[1], filed[0]}, mine(open), "resolved reports only when asked")
	withResolved, _, err := list(s.admin, &commonpb.ListReportsRequest{PageSize: 500, IncludeResolved: true})
	require.NoError(t, err)
	require.Equal(t, []uint64{filed[2], filed[1], filed[0]}, mine(withResolved))
}

// Resolving acts on the content and closes the report, once.
func TestResolveReport(t *testing.T) {
	t.Parallel()
	a := serveApp(t)

	t.Run("a group's owner recalls a reported message", func(t *testing.T) {
		s := a.scene(t)
		r, err := a.report(s.bob, commonpb.ReportKind_REPORT_KIND_MESSAGE, s.groupMsg)
		require.NoError(t, err)
		_, err = a.resolve(s.bob, r.GetId(), commonpb.ReportAction_REPORT_ACTION_DELETE_CONTENT)
		testkit.RequireCode(t, err, codes.NotFound) // a plain member may not
		done, err := a.resolve(s.ann, r.GetId(), commonpb.ReportAction_REPORT_ACTION_DELETE_CONTENT)
		require.NoError(t, err)
		require.Equal(t, commonpb.ReportAction_REPORT_ACTION_DELETE_CONTENT, done.GetResolution())
		require.Equal(t, s.ann.id, done.GetResolvedBy())
		require.NotNil(t, done.GetResolvedAt())
		sync, err := a.msgs.SyncMessages(s.bob.ctx, &messagepb.SyncMessagesRequest{ConversationId: fmt.Sprintf("g:%d", s.groupID)})
		require.NoError(t, err)
		var recalled bool
		for _, m := range sync.GetMessage() {
			if m.GetId() == s.groupMsg {
				recalled = m.GetRecalled() && m.GetRecalledBy() == s.ann.id
			}
		}
		require.True(t, recalled, "the message is a tombstone recalled by the owner")
		_, err = a.resolve(s.ann, r.GetId(), commonpb.ReportAction_REPORT_ACTION_DISMISS)
		testkit.RequireCode(t, err, codes.FailedPrecondition)
	})

	t.Run("a group's owner bans a reported sender from the group", func(t *testing.T) {
		s := a.scene(t)
		r, err := a.report(s.bob, commonpb.ReportKind_REPORT_KIND_MESSAGE, s.groupMsg)
		require.NoError(t, err)
		_, err = a.resolve(s.ann, r.GetId(), commonpb.ReportAction_REPORT_ACTION_BAN_USER)
		require.NoError(t, err)
		_, err = a.groups.JoinGroup(s.carl.ctx, &grouppb.JoinGroupRequest{Id: s.groupID})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		_, err = a.msgs.SendGroupTextMessage(s.carl.ctx, &messagepb.SendGroupTextMessageRequest{ToGroupId: s.groupID, Text: &messagepb.TextMessage{Content: "again"}})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		// Banned from the group only: carl's account works.
		_, err = a.users.GetUser(s.carl.ctx, &userpb.UserGetRequest{Id: s.carl.id})
		require.NoError(t, err)
	})

	t.Run("an admin deletes a reported feed and comment and group", func(t *testing.T) {
		s := a.scene(t)
		for _, c := range []struct {
			kind commonpb.ReportKind
			id   uint64
		}{
			{commonpb.ReportKind_REPORT_KIND_COMMENT, s.commentID},
			{commonpb.ReportKind_REPORT_KIND_FEED, s.feedID},
			{commonpb.ReportKind_REPORT_KIND_GROUP, s.groupID},
		} {
			r, err := a.report(s.bob, c.kind, c.id)
			require.NoError(t, err)
			_, err = a.resolve(s.ann, r.GetId(), commonpb.ReportAction_REPORT_ACTION_DELETE_CONTENT)
			testkit.RequireCode(t, err, codes.NotFound) // only Parley admins resolve these
			_, err = a.resolve(s.admin, r.GetId(), commonpb.ReportAction_REPORT_ACTION_DELETE_CONTENT)
			require.NoError(t, err, "kind %v", c.kind)
		}
		comments, err := a.feeds.FeedCommentList(s.bob.ctx, &feedpb.FeedCommentListRequest{FeedId: s.feedID})
		if err == nil {
			require.Empty(t, comments.GetComment())
		}
		_, err = a.feeds.FeedGet(s.bob.ctx, &feedpb.FeedGetRequest{Id: s.feedID})
		testkit.RequireCode(t, err, codes.NotFound)
		_, err = a.groups.GetGroup(s.bob.ctx, &grouppb.GetGroupRequest{Id: s.groupID})
		testkit.RequireCode(t, err, codes.NotFound)
	})

	t.Run("an admin suspends a reported user", func(t *testing.T) {
		s := a.scene(t)
		r, err := a.report(s.bob, commonpb.ReportKind_REPORT_KIND_USER, s.carl.id)
		require.NoError(t, err)
		_, err = a.resolve(s.admin, r.GetId(), commonpb.ReportAction_REPORT_ACTION_DELETE_CONTENT)
		testkit.RequireCode(t, err, codes.InvalidArgument)
		again, err := a.report(s.bob, commonpb.ReportKind_REPORT_KIND_USER, s.carl.id)
		require.NoError(t, err)
		require.Equal(t, r.GetId(), again.GetId(), "a refused resolution leaves the report open")
		_, err = a.resolve(s.admin, r.GetId(), commonpb.ReportAction_REPORT_ACTION_BAN_USER)
		require.NoError(t, err)
		_, err = a.users.GetUser(s.carl.ctx, &userpb.UserGetRequest{Id: s.carl.id})
		testkit.RequireCode(t, err, codes.Unauthenticated)
		_, err = a.users.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: s.carl.nickname, Password: password})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		_, err = a.users.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: s.carl.nickname, Password: "wrong password"})
		testkit.RequireCode(t, err, codes.Unauthenticated) // suspension is told only to whoever knows the password
	})
}
