package group_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/modules/message"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
)

// The callers of TestGovernanceAuthorization.
const (
	byOwner       = "owner"
	byAdmin       = "admin"
	byMember      = "member"
	byMuted       = "muted member"
	byBanned      = "banned user"
	byPending     = "pending requester"
	byStranger    = "stranger"
	byAnonymous   = "anonymous"
	byParleyAdmin = "Parley admin"
)

var matrixCallers = []string{byOwner, byAdmin, byMember, byMuted, byBanned, byPending, byStranger, byAnonymous, byParleyAdmin}

// cast is the users of a governed group. They are the same users in every
// group newGoverned makes, in the same standing.
type cast struct {
	owner, admin, admin2, member, muted, victim person
	banned, pending, stranger, outsider         person
	parleyAdmin                                 person
}

func (e *env) newCast(t *testing.T) cast {
	t.Helper()
	return cast{
		owner: e.newUser(t), admin: e.newUser(t), admin2: e.newUser(t), member: e.newUser(t),
		muted: e.newUser(t), victim: e.newUser(t), banned: e.newUser(t), pending: e.newUser(t),
		stranger: e.newUser(t), outsider: e.newUser(t), parleyAdmin: e.newParleyAdmin(t),
	}
}

func (c cast) caller(name string) person {
	switch name {
	case byOwner:
		return c.owner
	case byAdmin:
		return c.admin
	case byMember:
		return c.member
	case byMuted:
		return c.muted
	case byBanned:
		return c.banned
	case byPending:
		return c.pending
	case byStranger:
		return c.stranger
	case byParleyAdmin:
		return c.parleyAdmin
	case byAnonymous:
		return person{ctx: anonymous}
	}
	panic("unknown caller " + name)
}

// governed is a group newGoverned made.
type governed struct {
	id        uint64
	requestID uint64 // the pending requester's request
	code      string // an invite code of the owner's, without limits
}

// newGoverned makes a group of c's: owned by owner; admins admin and
// admin2; plain members member, muted (muted for an hour) and victim;
// banned banned (never a member); a pending request of pending's; an
// invite code; then the join policy policy. It returns once the group's
// events are relayed: its rows hold still until the next change.
func (e *env) newGoverned(t *testing.T, c cast, policy grouppb.JoinPolicy) governed {
	t.Helper()
	g := governed{id: e.createGroup(t, c.owner).GetId()}
	e.setPolicy(t, c.owner, g.id, grouppb.JoinPolicy_JOIN_POLICY_APPROVAL)
	g.requestID = e.requestJoin(t, c.pending, g.id)
	for _, p := range []person{c.admin, c.admin2, c.member, c.muted, c.victim} {
		e.add(t, c.owner, g.id, p)
	}
	e.setRole(t, c.owner, g.id, c.admin, grouppb.GroupRole_GROUP_ROLE_ADMIN)
	e.setRole(t, c.owner, g.id, c.admin2, grouppb.GroupRole_GROUP_ROLE_ADMIN)
	e.mute(t, c.owner, g.id, c.muted, time.Now().Add(time.Hour))
	e.ban(t, c.owner, g.id, c.banned)
	g.code = e.newInvite(t, c.owner, g.id, 0, nil)
	if policy != grouppb.JoinPolicy_JOIN_POLICY_APPROVAL {
		e.setPolicy(t, c.owner, g.id, policy)
	}
	e.awaitRelayed(t, g.id)
	return g
}

// expect is a matrix cell: the call's code and, when it succeeds, whether
// it changes the group's rows.
type expect struct {
	code   codes.Code
	writes bool
}

var (
	wrote        = expect{code: codes.OK, writes: true}
	noop         = expect{code: codes.OK}
	denied       = expect{code: codes.PermissionDenied}
	notFound     = expect{code: codes.NotFound}
	precondition = expect{code: codes.FailedPrecondition}
	unauthed     = expect{code: codes.Unauthenticated}
)

// TestGovernanceAuthorization runs every GroupService call that governs
// a group as each kind of caller, each on a group of its own, and requires
// the code the README's table gives. A refused call writes nothing: the
// group's rows in every groups table, and its conversation, are as they
// were (an event recorded and already relayed is a message there). A call
// that succeeds changes them exactly when it should.
func TestGovernanceAuthorization(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	c := e.newCast(t)

	open, approval, inviteOnly := grouppb.JoinPolicy_JOIN_POLICY_OPEN, grouppb.JoinPolicy_JOIN_POLICY_APPROVAL, grouppb.JoinPolicy_JOIN_POLICY_INVITE_ONLY
	staff := func(cell expect) map[string]expect { return map[string]expect{byOwner: cell, byAdmin: cell} }
	owner := func(cell expect) map[string]expect { return map[string]expect{byOwner: cell} }
	members := func(cell expect) map[string]expect {
		return map[string]expect{byOwner: cell, byAdmin: cell, byMember: cell, byMuted: cell}
	}
	with := func(m map[string]expect, caller string, cell expect) map[string]expect {
		m[caller] = cell
		return m
	}
	update := func(req *grouppb.UpdateGroupRequest) func(p person, g governed) error {
		return func(p person, g governed) error {
			r := proto.CloneOf(req)
			r.Id = g.id
			_, err := e.groups.UpdateGroup(p.ctx, r)
			return err
		}
	}
	joinAs := func(userID func(p person) uint64) func(p person, g governed) error {
		return func(p person, g governed) error {
			_, err := e.groups.JoinGroup(p.ctx, &grouppb.JoinGroupRequest{Id: g.id, UserId: userID(p)})
			return err
		}
	}
	self := func(person) uint64 { return 0 }
	user := func(u person) func(person) uint64 { return func(person) uint64 { return u.id } }
	quit := func(userID func(p person) uint64) func(p person, g governed) error {
		return func(p person, g governed) error {
			_, err := e.groups.QuitGroup(p.ctx, &grouppb.QuitGroupRequest{Id: g.id, UserId: userID(p)})
			return err
		}
	}
	setRole := func(u person, role grouppb.GroupRole) func(p person, g governed) error {
		return func(p person, g governed) error {
			_, err := e.groups.SetGroupMemberRole(p.ctx, &grouppb.SetGroupMemberRoleRequest{GroupId: g.id, UserId: u.id, Role: role})
			return err
		}
	}
	decide := func(approve bool) func(p person, g governed) error {
		return func(p person, g governed) error {
			_, err := e.groups.DecideJoinRequest(p.ctx, &grouppb.DecideJoinRequestRequest{RequestId: g.requestID, Approve: approve})
			return err
		}
	}
	mute := func(u person) func(p person, g governed) error {
		return func(p person, g governed) error {
			_, err := e.groups.MuteGroupMember(p.ctx, &grouppb.MuteGroupMemberRequest{
				GroupId: g.id, UserId: u.id, Until: timestamppb.New(time.Now().Add(time.Hour)),
			})
			return err
		}
	}
	ban := func(u person) func(p person, g governed) error {
		return func(p person, g governed) error {
			_, err := e.groups.BanGroupMember(p.ctx, &grouppb.BanGroupMemberRequest{GroupId: g.id, UserId: u.id, Reason: "matrix"})
			return err
		}
	}
	byInvite := func(p person, g governed) error {
		_, err := e.groups.JoinGroupByInvite(p.ctx, &grouppb.JoinGroupByInviteRequest{Code: g.code})
		return err
	}

	// allow lists the callers whose answer is not PermissionDenied; the
	// anonymous caller is always Unauthenticated, and a Parley admin is
	// answered as a stranger unless listed.
	rows := []struct {
		method string
		policy grouppb.JoinPolicy
		call   func(p person, g governed) error
		allow  map[string]expect
	}{
		{"UpdateGroup fields", open, update(&grouppb.UpdateGroupRequest{Name: "renamed", Introduction: "new"}), staff(wrote)},
		{"UpdateGroup join_policy", open, update(&grouppb.UpdateGroupRequest{JoinPolicy: inviteOnly.Enum()}), staff(wrote)},
		{"UpdateGroup mute_all", open, update(&grouppb.UpdateGroupRequest{MuteAll: proto.Bool(true)}), staff(wrote)},
		{"UpdateGroup history_visible", open, update(&grouppb.UpdateGroupRequest{HistoryVisible: proto.Bool(true)}), staff(wrote)},
		{"DeleteGroup", open, func(p person, g governed) error {
			_, err := e.groups.DeleteGroup(p.ctx, &grouppb.DeleteGroupRequest{Id: g.id})
			return err
		}, owner(wrote)},
		{"JoinGroup self, open", open, joinAs(self), with(with(members(noop), byPending, wrote), byStranger, wrote)},
		// The pending requester asking again answers its request and writes
		// nothing; a stranger's request is a new row.
		{"JoinGroup self, approval", approval, joinAs(self), with(with(members(noop), byPending, noop), byStranger, wrote)},
		{"JoinGroup self, invite-only", inviteOnly, joinAs(self), members(noop)},
		{"JoinGroup outsider, open", open, joinAs(user(c.outsider)), members(wrote)},
		{"JoinGroup outsider, approval", approval, joinAs(user(c.outsider)), staff(wrote)},
		{"JoinGroup outsider, invite-only", inviteOnly, joinAs(user(c.outsider)), staff(wrote)},
		{"JoinGroup banned user", open, joinAs(user(c.banned)), members(precondition)},
		{"QuitGroup self", open, quit(self), map[string]expect{
			byOwner: precondition, byAdmin: wrote, byMember: wrote, byMuted: wrote,
			byBanned: notFound, byPending: notFound, byStranger: notFound,
		}},
		{"QuitGroup victim (kick)", open, quit(user(c.victim)), staff(wrote)},
		{"QuitGroup admin2 (kick)", open, quit(user(c.admin2)), owner(wrote)},
		{"QuitGroup owner (kick)", open, quit(user(c.owner)), owner(precondition)}, // the owner's own id: quitting
		{"GetGroupUser", open, func(p person, g governed) error {
			_, err := e.getGroupUser(p.ctx, &grouppb.GetGroupUserRequest{Id: g.id})
			return err
		}, members(noop)},
		{"SetGroupMemberRole victim admin", open, setRole(c.victim, grouppb.GroupRole_GROUP_ROLE_ADMIN), owner(wrote)},
		{"SetGroupMemberRole admin2 member", open, setRole(c.admin2, grouppb.GroupRole_GROUP_ROLE_MEMBER), owner(wrote)},
		{"TransferGroupOwner", open, func(p person, g governed) error {
			_, err := e.groups.TransferGroupOwner(p.ctx, &grouppb.TransferGroupOwnerRequest{GroupId: g.id, UserId: c.member.id})
			return err
		}, owner(wrote)},
		{"ListJoinRequests", approval, func(p person, g governed) error {
			_, err := e.groups.ListJoinRequests(p.ctx, &grouppb.ListJoinRequestsRequest{GroupId: g.id})
			return err
		}, staff(noop)},
		{"DecideJoinRequest approve", approval, decide(true), staff(wrote)},
		{"DecideJoinRequest reject", approval, decide(false), staff(wrote)},
		{"CreateGroupInvite", open, func(p person, g governed) error {
			_, err := e.groups.CreateGroupInvite(p.ctx, &grouppb.CreateGroupInviteRequest{GroupId: g.id, MaxUses: 3})
			return err
		}, staff(wrote)},
		{"RevokeGroupInvite", open, func(p person, g governed) error {
			_, err := e.groups.RevokeGroupInvite(p.ctx, &grouppb.RevokeGroupInviteRequest{Code: g.code})
			return err
		}, staff(wrote)},
		{"ListGroupInvites", open, func(p person, g governed) error {
			_, err := e.groups.ListGroupInvites(p.ctx, &grouppb.ListGroupInvitesRequest{GroupId: g.id})
			return err
		}, staff(noop)},
		{"JoinGroupByInvite, open", open, byInvite, with(with(members(noop), byPending, wrote), byStranger, wrote)},
		{"JoinGroupByInvite, invite-only", inviteOnly, byInvite, with(with(members(noop), byPending, wrote), byStranger, wrote)},
		{"MuteGroupMember victim", open, mute(c.victim), staff(wrote)},
		{"MuteGroupMember admin2", open, mute(c.admin2), owner(wrote)},
		{"BanGroupMember victim", open, ban(c.victim), staff(wrote)},
		{"BanGroupMember admin2", open, ban(c.admin2), owner(wrote)},
		{"BanGroupMember outsider (not a member)", open, ban(c.outsider), staff(wrote)},
		{"UnbanGroupMember", open, func(p person, g governed) error {
			_, err := e.groups.UnbanGroupMember(p.ctx, &grouppb.UnbanGroupMemberRequest{GroupId: g.id, UserId: c.banned.id})
			return err
		}, staff(wrote)},
		{"ListGroupBans", open, func(p person, g governed) error {
			_, err := e.groups.ListGroupBans(p.ctx, &grouppb.ListGroupBansRequest{GroupId: g.id})
			return err
		}, staff(noop)},
	}
	for _, row := range rows {
		for _, by := range matrixCallers {
			want, listed := row.allow[by]
			if !listed && by == byParleyAdmin { // no rights beyond any user's
				want, listed = row.allow[byStranger]
			}
			switch {
			case by == byAnonymous:
				want = unauthed
			case !listed:
				want = denied
			}
			t.Run(row.method+" by "+by, func(t *testing.T) {
				t.Parallel()
				g := e.newGoverned(t, c, row.policy)
				before := e.snapshot(t, g.id)
				err := row.call(c.caller(by), g)
				require.Equal(t, want.code, status.Code(err), "error: %v", err)
				after := e.snapshot(t, g.id)
				if want.writes {
					require.NotEqual(t, before, after, "the call changes the group")
				} else {
					require.Equal(t, before, after, "the call writes nothing")
				}
				e.requireConsistent(t, g.id)
			})
		}
	}
}

// groupTables are the groups schema's tables and the column naming the
// group of a row.
var groupTables = []struct{ table, groupColumn string }{
	{"groups.groups", "id"},
	{"groups.members", "group_id"},
	{"groups.bans", "group_id"},
	{"groups.join_requests", "group_id"},
	{"groups.invites", "group_id"},
	{"groups.kicks", "group_id"},
	{"groups.events", "group_id"},
}

// tableState is a table's rows of one group: how many, and a digest of
// their contents.
type tableState struct {
	Rows   int
	Digest string
}

// snapshot is a group's rows in each groups table and the messages of its
// conversation, read at one moment. An event is deleted from groups.events
// only after its message is stored, so an event recorded before the
// moment shows in one or the other.
func (e *env) snapshot(t *testing.T, groupID uint64) map[string]tableState {
	t.Helper()
	ctx := context.Background()
	out := map[string]tableState{}
	err := pgx.BeginTxFunc(ctx, e.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		for _, tb := range groupTables {
			rows, err := tx.Query(ctx, fmt.Sprintf(
				"SELECT row_to_json(x)::text AS r FROM %s x WHERE x.%s = $1 ORDER BY r", tb.table, tb.groupColumn), int64(groupID))
			if err != nil {
				return err
			}
			texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			sum := sha256.Sum256([]byte(strings.Join(texts, "\n")))
			out[tb.table] = tableState{Rows: len(texts), Digest: hex.EncodeToString(sum[:8])}
		}
		var n int
		var lastSeq int64
		if err := tx.QueryRow(ctx, "SELECT count(*), coalesce(max(seq), 0) FROM messages.messages WHERE conversation_id = $1",
			groupConv(groupID)).Scan(&n, &lastSeq); err != nil {
			return err
		}
		out["messages.messages"] = tableState{Rows: n, Digest: fmt.Sprint("last seq ", lastSeq)}
		return nil
	})
	require.NoError(t, err)
	return out
}

// awaitRelayed waits until every event the group recorded is stored in
// its conversation.
func (e *env) awaitRelayed(t *testing.T, groupID uint64) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		err := e.pool.QueryRow(context.Background(), "SELECT count(*) FROM groups.events WHERE group_id = $1", int64(groupID)).Scan(&n)
		return err == nil && n == 0
	}, 20*time.Second, 10*time.Millisecond, "the group's events are relayed")
}

// requireConsistent checks what must hold of a group whatever happened:
// its member count counts its members, it has one owner (owner_id's
// member row), at most 50 admins, no banned member, and no pending
// request of a member or a banned user.
func (e *env) requireConsistent(t *testing.T, groupID uint64) {
	t.Helper()
	var (
		count, members, owners, admins, bannedMembers, strayRequests int
		ownerIsOwner                                                 bool
	)
	require.NoError(t, e.pool.QueryRow(context.Background(), `
		SELECT g.member_count,
		       (SELECT count(*) FROM groups.members m WHERE m.group_id = g.id),
		       (SELECT count(*) FROM groups.members m WHERE m.group_id = g.id AND m.role = 2),
		       EXISTS (SELECT 1 FROM groups.members m WHERE m.group_id = g.id AND m.user_id = g.owner_id AND m.role = 2),
		       (SELECT count(*) FROM groups.members m WHERE m.group_id = g.id AND m.role = 1),
		       (SELECT count(*) FROM groups.members m JOIN groups.bans b USING (group_id, user_id) WHERE m.group_id = g.id),
		       (SELECT count(*) FROM groups.join_requests r WHERE r.group_id = g.id AND (
		            EXISTS (SELECT 1 FROM groups.members m WHERE m.group_id = r.group_id AND m.user_id = r.user_id) OR
		            EXISTS (SELECT 1 FROM groups.bans b WHERE b.group_id = r.group_id AND b.user_id = r.user_id)))
		FROM groups.groups g WHERE g.id = $1`, int64(groupID)).Scan(
		&count, &members, &owners, &ownerIsOwner, &admins, &bannedMembers, &strayRequests))
	require.Equal(t, members, count, "member_count counts the members")
	require.Equal(t, 1, owners, "one owner")
	require.True(t, ownerIsOwner, "owner_id is the owner member")
	require.LessOrEqual(t, admins, 50)
	require.Zero(t, bannedMembers, "no banned member")
	require.Zero(t, strayRequests, "no pending request of a member or a banned user")
}

func groupConv(groupID uint64) string { return fmt.Sprintf("g:%d", groupID) }

func (e *env) setPolicy(t *testing.T, caller person, groupID uint64, policy grouppb.JoinPolicy) {
	t.Helper()
	_, err := e.groups.UpdateGroup(caller.ctx, &grouppb.UpdateGroupRequest{Id: groupID, JoinPolicy: policy.Enum()})
	require.NoError(t, err)
}

// requestJoin is p's JoinGroup of an approval group: its request's id.
func (e *env) requestJoin(t *testing.T, p person, groupID uint64) uint64 {
	t.Helper()
	resp, err := e.groups.JoinGroup(p.ctx, &grouppb.JoinGroupRequest{Id: groupID})
	require.NoError(t, err)
	require.NotZero(t, resp.GetRequestId(), "a request is filed")
	return resp.GetRequestId()
}

// add is caller's JoinGroup of p.
func (e *env) add(t *testing.T, caller person, groupID uint64, p person) {
	t.Helper()
	_, err := e.groups.JoinGroup(caller.ctx, &grouppb.JoinGroupRequest{Id: groupID, UserId: p.id})
	require.NoError(t, err)
}

func (e *env) setRole(t *testing.T, caller person, groupID uint64, p person, role grouppb.GroupRole) {
	t.Helper()
	_, err := e.groups.SetGroupMemberRole(caller.ctx, &grouppb.SetGroupMemberRoleRequest{GroupId: groupID, UserId: p.id, Role: role})
	require.NoError(t, err)
}

func (e *env) mute(t *testing.T, caller person, groupID uint64, p person, until time.Time) {
	t.Helper()
	_, err := e.groups.MuteGroupMember(caller.ctx, &grouppb.MuteGroupMemberRequest{GroupId: groupID, UserId: p.id, Until: timestamppb.New(until)})
	require.NoError(t, err)
}

func (e *env) ban(t *testing.T, caller person, groupID uint64, p person) {
	t.Helper()
	_, err := e.groups.BanGroupMember(caller.ctx, &grouppb.BanGroupMemberRequest{GroupId: groupID, UserId: p.id})
	require.NoError(t, err)
}

func (e *env) kick(t *testing.T, caller person, groupID uint64, p person) {
	t.Helper()
	_, err := e.groups.QuitGroup(caller.ctx, &grouppb.QuitGroupRequest{Id: groupID, UserId: p.id})
	require.NoError(t, err)
}

// newInvite is caller's invite code for the group.
func (e *env) newInvite(t *testing.T, caller person, groupID uint64, maxUses uint32, expires *time.Time) string {
	t.Helper()
	req := &grouppb.CreateGroupInviteRequest{GroupId: groupID, MaxUses: maxUses}
	if expires != nil {
		req.ExpiresAt = timestamppb.New(*expires)
	}
	resp, err := e.groups.CreateGroupInvite(caller.ctx, req)
	require.NoError(t, err)
	require.Len(t, resp.GetCode(), 22)
	require.Equal(t, resp.GetCode(), resp.GetInvite().GetCode())
	return resp.GetCode()
}

func (e *env) joinByInvite(ctx context.Context, code string) error {
	_, err := e.groups.JoinGroupByInvite(ctx, &grouppb.JoinGroupByInviteRequest{Code: code})
	return err
}

// inviteUses is how many times the invite code was used, as stored.
func (e *env) inviteUses(t *testing.T, code string) int {
	t.Helper()
	var uses int
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT uses FROM groups.invites WHERE code = $1", code).Scan(&uses))
	return uses
}

func (e *env) sendText(p person, groupID uint64, text string) error {
	_, err := e.msgs.SendGroupTextMessage(p.ctx, &messagepb.SendGroupTextMessageRequest{
		ToGroupId: groupID, Text: &messagepb.TextMessage{Content: text},
	})
	return err
}

// conversation is every message of the group's conversation p may see, in
// seq order.
func (e *env) conversation(t *testing.T, p person, groupID uint64) []*messagepb.Message {
	t.Helper()
	var out []*messagepb.Message
	var after uint64
	for range 100 {
		resp, err := e.msgs.SyncMessages(p.ctx, &messagepb.SyncMessagesRequest{ConversationId: groupConv(groupID), AfterSeq: after, Limit: 200})
		require.NoError(t, err)
		out = append(out, resp.GetMessage()...)
		if !resp.GetHasMore() {
			return out
		}
		require.Greater(t, resp.GetCursor(), after, "the cursor moves")
		after = resp.GetCursor()
	}
	require.FailNow(t, "syncing does not end")
	return nil
}

// texts are the contents of the text messages among msgs.
func texts(msgs []*messagepb.Message) []string {
	var out []string
	for _, m := range msgs {
		if m.GetType() == messagepb.MESSAGE_TYPE_TEXT {
			out = append(out, m.GetText().GetContent())
		}
	}
	return out
}

// groupEvents are the GROUP_EVENT messages among msgs.
func groupEvents(msgs []*messagepb.Message) []*messagepb.Message {
	var out []*messagepb.Message
	for _, m := range msgs {
		if m.GetType() == messagepb.MESSAGE_TYPE_GROUP_EVENT {
			out = append(out, m)
		}
	}
	return out
}

// standing is p's GroupMember entry as caller sees GetGroupUser; nil when
// it is not listed.
func (e *env) standing(t *testing.T, caller person, groupID uint64, p person) *grouppb.GroupMember {
	t.Helper()
	resp, err := e.getGroupUser(caller.ctx, &grouppb.GetGroupUserRequest{Id: groupID, PageSize: 100})
	require.NoError(t, err)
	for _, m := range resp.GetMember() {
		if m.GetUser().GetId() == p.id {
			return m
		}
	}
	return nil
}

func TestGovernanceApprovalFlow(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, admin, r1, r2, r3 := e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t)
	id := e.createGroup(t, owner).GetId()
	e.add(t, owner, id, admin)
	e.setRole(t, owner, id, admin, grouppb.GroupRole_GROUP_ROLE_ADMIN)
	e.setPolicy(t, admin, id, grouppb.JoinPolicy_JOIN_POLICY_APPROVAL)
	require.Equal(t, grouppb.JoinPolicy_JOIN_POLICY_APPROVAL, e.getGroup(t, owner, id).GetJoinPolicy())

	id1 := e.requestJoin(t, r1, id)
	require.False(t, e.isMember(t, id, r1.id), "a request joins nothing yet")
	require.Equal(t, id1, e.requestJoin(t, r1, id), "asking again answers the same request")
	id2 := e.requestJoin(t, r2, id)
	id3 := e.requestJoin(t, r3, id)
	require.NotEqual(t, id1, id2)
	require.NotEqual(t, id2, id3)

	list := func(caller person) []uint64 {
		resp, err := e.groups.ListJoinRequests(caller.ctx, &grouppb.ListJoinRequestsRequest{GroupId: id})
		require.NoError(t, err)
		var ids []uint64
		for i, r := range resp.GetRequest() {
			ids = append(ids, r.GetId())
			if i > 0 {
				require.False(t, r.GetCreatedAt().AsTime().Before(resp.GetRequest()[i-1].GetCreatedAt().AsTime()), "oldest first")
			}
		}
		return ids
	}
	resp, err := e.groups.ListJoinRequests(admin.ctx, &grouppb.ListJoinRequestsRequest{GroupId: id})
	require.NoError(t, err)
	require.Len(t, resp.GetRequest(), 3)
	for i, want := range []person{r1, r2, r3} {
		require.Equal(t, want.id, resp.GetRequest()[i].GetUser().GetId(), "oldest first")
		require.Equal(t, want.nickname, resp.GetRequest()[i].GetUser().GetNickname())
	}
	require.Equal(t, []uint64{id1, id2, id3}, list(owner))

	decide := func(caller person, requestID uint64, approve bool) error {
		_, err := e.groups.DecideJoinRequest(caller.ctx, &grouppb.DecideJoinRequestRequest{RequestId: requestID, Approve: approve})
		return err
	}
	require.NoError(t, decide(admin, id1, true))
	require.True(t, e.isMember(t, id, r1.id), "approved: a member")
	require.NoError(t, decide(owner, id2, false))
	require.False(t, e.isMember(t, id, r2.id), "rejected: not a member")
	require.Equal(t, []uint64{id3}, list(admin), "decided requests are gone")
	require.Equal(t, uint32(3), e.getGroup(t, owner, id).GetMemberCount())

	for _, approve := range []bool{true, false} {
		testkit.RequireCode(t, decide(owner, id1, approve), codes.NotFound)
		testkit.RequireCode(t, decide(admin, id2, approve), codes.NotFound)
	}
	testkit.RequireCode(t, decide(owner, 1<<60, true), codes.NotFound)
	require.False(t, e.isMember(t, id, r2.id))
	require.Equal(t, uint32(3), e.getGroup(t, owner, id).GetMemberCount())

	t.Run("a member asking joins nothing and files nothing", func(t *testing.T) {
		resp, err := e.groups.JoinGroup(r1.ctx, &grouppb.JoinGroupRequest{Id: id})
		require.NoError(t, err)
		require.Zero(t, resp.GetRequestId())
		require.Equal(t, []uint64{id3}, list(owner))
	})
	t.Run("the rejected ask again: a new request", func(t *testing.T) {
		again := e.requestJoin(t, r2, id)
		require.NotEqual(t, id2, again)
		require.Equal(t, []uint64{id3, again}, list(owner))
	})
	t.Run("an open group admits the pending at once and drops their requests", func(t *testing.T) {
		e.setPolicy(t, owner, id, grouppb.JoinPolicy_JOIN_POLICY_OPEN)
		resp, err := e.groups.JoinGroup(r3.ctx, &grouppb.JoinGroupRequest{Id: id})
		require.NoError(t, err)
		require.Zero(t, resp.GetRequestId())
		require.True(t, e.isMember(t, id, r3.id))
		require.Len(t, list(owner), 1, "r2's request is left")
		testkit.RequireCode(t, decide(owner, id3, true), codes.NotFound)
	})
	e.requireConsistent(t, id)
}

func TestGovernanceInvites(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, admin, member := e.newUser(t), e.newUser(t), e.newUser(t)
	id := e.createGroup(t, owner).GetId()
	e.add(t, owner, id, admin)
	e.add(t, owner, id, member)
	e.setRole(t, owner, id, admin, grouppb.GroupRole_GROUP_ROLE_ADMIN)
	e.setPolicy(t, owner, id, grouppb.JoinPolicy_JOIN_POLICY_INVITE_ONLY)

	listed := func() []string {
		resp, err := e.groups.ListGroupInvites(admin.ctx, &grouppb.ListGroupInvitesRequest{GroupId: id})
		require.NoError(t, err)
		var out []string
		for _, inv := range resp.GetInvite() {
			out = append(out, inv.GetCode())
		}
		return out
	}

	t.Run("max_uses used up", func(t *testing.T) {
		resp, err := e.groups.CreateGroupInvite(admin.ctx, &grouppb.CreateGroupInviteRequest{GroupId: id, MaxUses: 2})
		require.NoError(t, err)
		code := resp.GetCode()
		require.Len(t, code, 22)
		inv := resp.GetInvite()
		require.Equal(t, id, inv.GetGroupId())
		require.Equal(t, admin.id, inv.GetCreatedBy())
		require.Equal(t, uint32(2), inv.GetMaxUses())
		require.Zero(t, inv.GetUses())
		require.Nil(t, inv.GetExpiresAt())
		require.Contains(t, listed(), code)

		u1, u2, u3 := e.newUser(t), e.newUser(t), e.newUser(t)
		_, err = e.groups.JoinGroup(u1.ctx, &grouppb.JoinGroupRequest{Id: id})
		testkit.RequireCode(t, err, codes.PermissionDenied) // invite-only
		for _, u := range []person{u1, u2} {
			joined, err := e.groups.JoinGroupByInvite(u.ctx, &grouppb.JoinGroupByInviteRequest{Code: code})
			require.NoError(t, err)
			require.Equal(t, id, joined.GetGroup().GetId())
			require.True(t, e.isMember(t, id, u.id))
		}
		st := testkit.RequireCode(t, e.joinByInvite(u3.ctx, code), codes.FailedPrecondition)
		require.Contains(t, st.Message(), "used")
		require.False(t, e.isMember(t, id, u3.id))
		require.Equal(t, 2, e.inviteUses(t, code))
		require.NotContains(t, listed(), code, "a used-up code is not usable")

		t.Run("a member using a code uses nothing", func(t *testing.T) {
			one := e.newInvite(t, owner, id, 1, nil)
			require.NoError(t, e.joinByInvite(member.ctx, one))
			require.NoError(t, e.joinByInvite(u1.ctx, one))
			require.NoError(t, e.joinByInvite(u1.ctx, code), "even a used-up one")
			require.Zero(t, e.inviteUses(t, one))
			require.NoError(t, e.joinByInvite(u3.ctx, one), "its one use is left")
			require.Equal(t, 1, e.inviteUses(t, one))
			require.True(t, e.isMember(t, id, u3.id))
		})
	})
	t.Run("expired", func(t *testing.T) {
		past := time.Now().Add(-time.Minute)
		_, err := e.groups.CreateGroupInvite(owner.ctx, &grouppb.CreateGroupInviteRequest{GroupId: id, ExpiresAt: timestamppb.New(past)})
		testkit.RequireCode(t, err, codes.InvalidArgument)

		expires := time.Now().Add(1500 * time.Millisecond).Truncate(time.Millisecond)
		code := e.newInvite(t, owner, id, 0, &expires)
		require.Contains(t, listed(), code)
		time.Sleep(time.Until(expires) + 50*time.Millisecond) // a known deadline, not a guess
		u := e.newUser(t)
		st := testkit.RequireCode(t, e.joinByInvite(u.ctx, code), codes.FailedPrecondition)
		require.Contains(t, st.Message(), "expired")
		require.False(t, e.isMember(t, id, u.id))
		require.Zero(t, e.inviteUses(t, code))
		require.NotContains(t, listed(), code)
	})
	t.Run("revoked", func(t *testing.T) {
		code := e.newInvite(t, owner, id, 0, nil)
		_, err := e.groups.RevokeGroupInvite(member.ctx, &grouppb.RevokeGroupInviteRequest{Code: code})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		require.Contains(t, listed(), code)
		_, err = e.groups.RevokeGroupInvite(admin.ctx, &grouppb.RevokeGroupInviteRequest{Code: code})
		require.NoError(t, err)
		require.NotContains(t, listed(), code)
		u := e.newUser(t)
		st := testkit.RequireCode(t, e.joinByInvite(u.ctx, code), codes.FailedPrecondition)
		require.Contains(t, st.Message(), "revoked")
		require.False(t, e.isMember(t, id, u.id))
	})
	t.Run("unknown", func(t *testing.T) {
		u := e.newUser(t)
		testkit.RequireCode(t, e.joinByInvite(u.ctx, "AAAAAAAAAAAAAAAAAAAAAA"), codes.NotFound)
		_, err := e.groups.RevokeGroupInvite(owner.ctx, &grouppb.RevokeGroupInviteRequest{Code: "AAAAAAAAAAAAAAAAAAAAAA"})
		testkit.RequireCode(t, err, codes.NotFound)
	})
	t.Run("a kicked user rejoins by invite", func(t *testing.T) {
		u := e.newUser(t)
		code := e.newInvite(t, admin, id, 0, nil)
		require.NoError(t, e.joinByInvite(u.ctx, code))
		e.kick(t, admin, id, u)
		require.False(t, e.isMember(t, id, u.id))
		e.setPolicy(t, owner, id, grouppb.JoinPolicy_JOIN_POLICY_OPEN)
		_, err := e.groups.JoinGroup(u.ctx, &grouppb.JoinGroupRequest{Id: id})
		testkit.RequireCode(t, err, codes.PermissionDenied) // kicked: not by itself
		require.NoError(t, e.joinByInvite(u.ctx, code))
		require.True(t, e.isMember(t, id, u.id))
		var kicks int
		require.NoError(t, e.pool.QueryRow(context.Background(),
			"SELECT count(*) FROM groups.kicks WHERE group_id = $1 AND user_id = $2", int64(id), int64(u.id)).Scan(&kicks))
		require.Zero(t, kicks, "the invite lifts the kick")
		e.setPolicy(t, owner, id, grouppb.JoinPolicy_JOIN_POLICY_INVITE_ONLY)
	})
	t.Run("a banned user cannot use one", func(t *testing.T) {
		u, outsider := e.newUser(t), e.newUser(t)
		code := e.newInvite(t, admin, id, 0, nil)
		require.NoError(t, e.joinByInvite(u.ctx, code))
		e.ban(t, admin, id, u)
		e.ban(t, admin, id, outsider)
		for _, p := range []person{u, outsider} {
			st := testkit.RequireCode(t, e.joinByInvite(p.ctx, code), codes.PermissionDenied)
			require.Contains(t, st.Message(), "banned")
			require.False(t, e.isMember(t, id, p.id))
		}
		require.Equal(t, 1, e.inviteUses(t, code))
	})
	t.Run("at most 100 usable codes", func(t *testing.T) {
		other := e.createGroup(t, owner).GetId()
		var first string
		for i := range 100 {
			code := e.newInvite(t, owner, other, 0, nil)
			if i == 0 {
				first = code
			}
		}
		_, err := e.groups.CreateGroupInvite(owner.ctx, &grouppb.CreateGroupInviteRequest{GroupId: other})
		testkit.RequireCode(t, err, codes.ResourceExhausted)
		_, err = e.groups.RevokeGroupInvite(owner.ctx, &grouppb.RevokeGroupInviteRequest{Code: first})
		require.NoError(t, err)
		e.newInvite(t, owner, other, 0, nil)
	})
	e.requireConsistent(t, id)
}

func TestGovernanceBans(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, admin, member, victim, outsider := e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t)
	id := e.createGroup(t, owner).GetId()
	for _, p := range []person{admin, member, victim} {
		e.join(t, p, id)
	}
	e.setRole(t, owner, id, admin, grouppb.GroupRole_GROUP_ROLE_ADMIN)
	require.Equal(t, uint32(4), e.getGroup(t, owner, id).GetMemberCount())

	_, err := e.groups.BanGroupMember(admin.ctx, &grouppb.BanGroupMemberRequest{GroupId: id, UserId: victim.id, Reason: "spam"})
	require.NoError(t, err)
	require.False(t, e.isMember(t, id, victim.id), "a ban removes")
	require.Equal(t, uint32(3), e.getGroup(t, owner, id).GetMemberCount())

	_, err = e.groups.JoinGroup(victim.ctx, &grouppb.JoinGroupRequest{Id: id})
	st := testkit.RequireCode(t, err, codes.PermissionDenied)
	require.Contains(t, st.Message(), "banned")
	for _, adder := range []person{owner, admin, member} {
		_, err := e.groups.JoinGroup(adder.ctx, &grouppb.JoinGroupRequest{Id: id, UserId: victim.id})
		st := testkit.RequireCode(t, err, codes.FailedPrecondition)
		require.Contains(t, st.Message(), "unban")
	}
	code := e.newInvite(t, owner, id, 0, nil)
	testkit.RequireCode(t, e.joinByInvite(victim.ctx, code), codes.PermissionDenied)
	require.False(t, e.isMember(t, id, victim.id))

	_, err = e.groups.BanGroupMember(owner.ctx, &grouppb.BanGroupMemberRequest{GroupId: id, UserId: outsider.id})
	require.NoError(t, err, "banning a non-member")
	_, err = e.groups.JoinGroup(outsider.ctx, &grouppb.JoinGroupRequest{Id: id})
	testkit.RequireCode(t, err, codes.PermissionDenied)
	require.False(t, e.isMember(t, id, outsider.id))
	require.Equal(t, uint32(3), e.getGroup(t, owner, id).GetMemberCount())

	bans, err := e.groups.ListGroupBans(admin.ctx, &grouppb.ListGroupBansRequest{GroupId: id})
	require.NoError(t, err)
	require.Len(t, bans.GetBan(), 2)
	require.Equal(t, outsider.id, bans.GetBan()[0].GetUser().GetId(), "newest first")
	require.Equal(t, owner.id, bans.GetBan()[0].GetBannedBy())
	require.Equal(t, victim.id, bans.GetBan()[1].GetUser().GetId())
	require.Equal(t, admin.id, bans.GetBan()[1].GetBannedBy())
	require.Equal(t, "spam", bans.GetBan()[1].GetReason())

	t.Run("a ban drops a pending request", func(t *testing.T) {
		asker := e.newUser(t)
		e.setPolicy(t, owner, id, grouppb.JoinPolicy_JOIN_POLICY_APPROVAL)
		request := e.requestJoin(t, asker, id)
		e.ban(t, admin, id, asker)
		resp, err := e.groups.ListJoinRequests(owner.ctx, &grouppb.ListJoinRequestsRequest{GroupId: id})
		require.NoError(t, err)
		require.Empty(t, resp.GetRequest())
		_, err = e.groups.DecideJoinRequest(owner.ctx, &grouppb.DecideJoinRequestRequest{RequestId: request, Approve: true})
		testkit.RequireCode(t, err, codes.NotFound)
		require.False(t, e.isMember(t, id, asker.id))
		e.setPolicy(t, owner, id, grouppb.JoinPolicy_JOIN_POLICY_OPEN)
	})
	t.Run("unban lets them in again", func(t *testing.T) {
		_, err := e.groups.UnbanGroupMember(member.ctx, &grouppb.UnbanGroupMemberRequest{GroupId: id, UserId: victim.id})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		_, err = e.groups.UnbanGroupMember(admin.ctx, &grouppb.UnbanGroupMemberRequest{GroupId: id, UserId: victim.id})
		require.NoError(t, err)
		e.join(t, victim, id)
		require.True(t, e.isMember(t, id, victim.id))
		_, err = e.groups.UnbanGroupMember(admin.ctx, &grouppb.UnbanGroupMemberRequest{GroupId: id, UserId: victim.id})
		testkit.RequireCode(t, err, codes.NotFound) // not banned any more
		_, err = e.groups.UnbanGroupMember(owner.ctx, &grouppb.UnbanGroupMemberRequest{GroupId: id, UserId: outsider.id})
		require.NoError(t, err)
		require.NoError(t, e.joinByInvite(outsider.ctx, code))
		require.True(t, e.isMember(t, id, outsider.id))
	})
	t.Run("refusals", func(t *testing.T) {
		_, err := e.groups.BanGroupMember(admin.ctx, &grouppb.BanGroupMemberRequest{GroupId: id, UserId: admin.id})
		testkit.RequireCode(t, err, codes.InvalidArgument) // oneself
		_, err = e.groups.BanGroupMember(owner.ctx, &grouppb.BanGroupMemberRequest{GroupId: id, UserId: victim.id, Reason: strings.Repeat("x", 501)})
		testkit.RequireCode(t, err, codes.InvalidArgument)
		_, err = e.groups.BanGroupMember(owner.ctx, &grouppb.BanGroupMemberRequest{GroupId: id, UserId: 1 << 60})
		testkit.RequireCode(t, err, codes.NotFound) // no such user
		require.True(t, e.isMember(t, id, victim.id))
	})
	e.requireConsistent(t, id)
}

func TestGovernanceMutes(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, admin, member, other := e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t)
	id := e.createGroup(t, owner).GetId()
	for _, p := range []person{admin, member, other} {
		e.join(t, p, id)
	}
	e.setRole(t, owner, id, admin, grouppb.GroupRole_GROUP_ROLE_ADMIN)

	until := time.Now().Add(time.Hour).Truncate(time.Second)
	e.mute(t, admin, id, member, until)
	err := e.sendText(member, id, "let me speak")
	st := testkit.RequireCode(t, err, codes.PermissionDenied)
	require.Contains(t, st.Message(), "muted")
	require.Contains(t, st.Message(), until.UTC().Format(time.RFC3339))
	require.NoError(t, e.sendText(other, id, "others speak"))
	require.Equal(t, until.UTC(), e.standing(t, owner, id, member).GetMutedUntil().AsTime(), "GetGroupUser answers the mute")
	require.Nil(t, e.standing(t, owner, id, other).GetMutedUntil())
	require.Contains(t, texts(e.conversation(t, member, id)), "others speak", "a muted member reads")
	require.NotContains(t, texts(e.conversation(t, owner, id)), "let me speak")

	t.Run("unmute with a past time", func(t *testing.T) {
		e.mute(t, admin, id, member, time.Now().Add(-time.Minute))
		require.Nil(t, e.standing(t, owner, id, member).GetMutedUntil())
		require.NoError(t, e.sendText(member, id, "free again"))
	})
	t.Run("unmute with no time", func(t *testing.T) {
		e.mute(t, owner, id, member, time.Now().Add(time.Hour))
		testkit.RequireCode(t, e.sendText(member, id, "muted"), codes.PermissionDenied)
		_, err := e.groups.MuteGroupMember(owner.ctx, &grouppb.MuteGroupMemberRequest{GroupId: id, UserId: member.id})
		require.NoError(t, err)
		require.NoError(t, e.sendText(member, id, "free once more"))
	})
	t.Run("a mute ends by itself", func(t *testing.T) {
		end := time.Now().Add(time.Second)
		e.mute(t, owner, id, member, end)
		testkit.RequireCode(t, e.sendText(member, id, "too soon"), codes.PermissionDenied)
		time.Sleep(time.Until(end) + 50*time.Millisecond) // a known deadline, not a guess
		require.NoError(t, e.sendText(member, id, "on time"))
		require.Nil(t, e.standing(t, owner, id, member).GetMutedUntil())
	})
	t.Run("mute_all lets only the owner and admins send", func(t *testing.T) {
		_, err := e.groups.UpdateGroup(admin.ctx, &grouppb.UpdateGroupRequest{Id: id, MuteAll: proto.Bool(true)})
		require.NoError(t, err)
		require.True(t, e.getGroup(t, owner, id).GetMuteAll())
		for _, p := range []person{member, other} {
			st := testkit.RequireCode(t, e.sendText(p, id, "hush"), codes.PermissionDenied)
			require.Contains(t, st.Message(), "the group is muted")
		}
		require.NoError(t, e.sendText(owner, id, "owner speaks"))
		require.NoError(t, e.sendText(admin, id, "admin speaks"))
		_, err = e.groups.UpdateGroup(owner.ctx, &grouppb.UpdateGroupRequest{Id: id, MuteAll: proto.Bool(false)})
		require.NoError(t, err)
		require.NoError(t, e.sendText(member, id, "all may speak"))
		require.NotContains(t, texts(e.conversation(t, owner, id)), "hush")
	})
	t.Run("who may mute", func(t *testing.T) {
		_, err := e.groups.MuteGroupMember(other.ctx, &grouppb.MuteGroupMemberRequest{GroupId: id, UserId: member.id, Until: timestamppb.New(until)})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		_, err = e.groups.MuteGroupMember(admin.ctx, &grouppb.MuteGroupMemberRequest{GroupId: id, UserId: admin.id, Until: timestamppb.New(until)})
		testkit.RequireCode(t, err, codes.InvalidArgument)
		stranger := e.newUser(t)
		_, err = e.groups.MuteGroupMember(admin.ctx, &grouppb.MuteGroupMemberRequest{GroupId: id, UserId: stranger.id, Until: timestamppb.New(until)})
		testkit.RequireCode(t, err, codes.NotFound)
		require.NoError(t, e.sendText(member, id, "never muted by them"))
	})
}

func TestGovernanceTransferOwner(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, heir, member, stranger := e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t)
	id := e.createGroup(t, owner).GetId()
	e.join(t, heir, id)
	e.join(t, member, id)

	transfer := func(caller person, to uint64) error {
		_, err := e.groups.TransferGroupOwner(caller.ctx, &grouppb.TransferGroupOwnerRequest{GroupId: id, UserId: to})
		return err
	}
	testkit.RequireCode(t, transfer(owner, stranger.id), codes.NotFound)
	testkit.RequireCode(t, transfer(owner, owner.id), codes.InvalidArgument)
	testkit.RequireCode(t, transfer(member, heir.id), codes.PermissionDenied)

	require.NoError(t, transfer(owner, heir.id))
	require.Equal(t, heir.id, e.getGroup(t, member, id).GetUserId(), "GetGroup answers the new owner")
	require.Equal(t, grouppb.GroupRole_GROUP_ROLE_OWNER, e.standing(t, member, id, heir).GetRole())
	require.Equal(t, grouppb.GroupRole_GROUP_ROLE_ADMIN, e.standing(t, member, id, owner).GetRole(), "the old owner is an admin")
	testkit.RequireCode(t, transfer(owner, member.id), codes.PermissionDenied)

	_, err := e.groups.QuitGroup(heir.ctx, &grouppb.QuitGroupRequest{Id: id})
	testkit.RequireCode(t, err, codes.FailedPrecondition)
	require.True(t, e.isMember(t, id, heir.id), "the new owner cannot quit")
	_, err = e.groups.QuitGroup(owner.ctx, &grouppb.QuitGroupRequest{Id: id})
	require.NoError(t, err, "the old owner can quit now")
	require.False(t, e.isMember(t, id, owner.id))
	require.Equal(t, uint32(2), e.getGroup(t, member, id).GetMemberCount())
	e.requireConsistent(t, id)
}

func TestGovernanceRoles(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, admin, admin2, member := e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t)
	id := e.createGroup(t, owner).GetId()
	for _, p := range []person{admin, admin2, member} {
		e.join(t, p, id)
	}
	e.setRole(t, owner, id, admin, grouppb.GroupRole_GROUP_ROLE_ADMIN)
	e.setRole(t, owner, id, admin2, grouppb.GroupRole_GROUP_ROLE_ADMIN)
	require.Equal(t, grouppb.GroupRole_GROUP_ROLE_ADMIN, e.standing(t, member, id, admin).GetRole())
	require.Equal(t, grouppb.GroupRole_GROUP_ROLE_MEMBER, e.standing(t, member, id, member).GetRole())

	t.Run("an admin cannot act on another admin or the owner", func(t *testing.T) {
		until := timestamppb.New(time.Now().Add(time.Hour))
		e.awaitRelayed(t, id)
		for _, target := range []person{admin2, owner} {
			before := e.snapshot(t, id)
			_, err := e.groups.QuitGroup(admin.ctx, &grouppb.QuitGroupRequest{Id: id, UserId: target.id})
			st := testkit.RequireCode(t, err, codes.PermissionDenied)
			require.Contains(t, st.Message(), "cannot act on the owner or another admin")
			_, err = e.groups.MuteGroupMember(admin.ctx, &grouppb.MuteGroupMemberRequest{GroupId: id, UserId: target.id, Until: until})
			st = testkit.RequireCode(t, err, codes.PermissionDenied)
			require.Contains(t, st.Message(), "cannot act on the owner or another admin")
			_, err = e.groups.BanGroupMember(admin.ctx, &grouppb.BanGroupMemberRequest{GroupId: id, UserId: target.id})
			st = testkit.RequireCode(t, err, codes.PermissionDenied)
			require.Contains(t, st.Message(), "cannot act on the owner or another admin")
			require.Equal(t, before, e.snapshot(t, id))
			require.True(t, e.isMember(t, id, target.id))
		}
		_, err := e.groups.SetGroupMemberRole(admin.ctx, &grouppb.SetGroupMemberRoleRequest{GroupId: id, UserId: admin2.id})
		testkit.RequireCode(t, err, codes.PermissionDenied) // owner only
	})
	t.Run("refusals", func(t *testing.T) {
		_, err := e.groups.SetGroupMemberRole(owner.ctx, &grouppb.SetGroupMemberRoleRequest{GroupId: id, UserId: member.id, Role: grouppb.GroupRole_GROUP_ROLE_OWNER})
		testkit.RequireCode(t, err, codes.InvalidArgument)
		_, err = e.groups.SetGroupMemberRole(owner.ctx, &grouppb.SetGroupMemberRoleRequest{GroupId: id, UserId: owner.id, Role: grouppb.GroupRole_GROUP_ROLE_ADMIN})
		testkit.RequireCode(t, err, codes.InvalidArgument)
		stranger := e.newUser(t)
		_, err = e.groups.SetGroupMemberRole(owner.ctx, &grouppb.SetGroupMemberRoleRequest{GroupId: id, UserId: stranger.id, Role: grouppb.GroupRole_GROUP_ROLE_ADMIN})
		testkit.RequireCode(t, err, codes.NotFound)
	})
	t.Run("a demoted admin loses its powers", func(t *testing.T) {
		e.setRole(t, owner, id, admin2, grouppb.GroupRole_GROUP_ROLE_MEMBER)
		_, err := e.groups.ListGroupBans(admin2.ctx, &grouppb.ListGroupBansRequest{GroupId: id})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		_, err = e.groups.QuitGroup(admin2.ctx, &grouppb.QuitGroupRequest{Id: id, UserId: member.id})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		require.True(t, e.isMember(t, id, member.id))
		e.kick(t, admin, id, admin2) // a plain member again: an admin outranks it
		require.False(t, e.isMember(t, id, admin2.id))
	})
	t.Run("at most 50 admins", func(t *testing.T) {
		g := e.createGroup(t, owner).GetId()
		people := e.newUsers(t, 52)
		for _, p := range people {
			e.join(t, p, g)
		}
		for _, p := range people[:50] {
			e.setRole(t, owner, g, p, grouppb.GroupRole_GROUP_ROLE_ADMIN)
		}
		e.awaitRelayed(t, g)
		before := e.snapshot(t, g)
		_, err := e.groups.SetGroupMemberRole(owner.ctx, &grouppb.SetGroupMemberRoleRequest{GroupId: g, UserId: people[50].id, Role: grouppb.GroupRole_GROUP_ROLE_ADMIN})
		st := testkit.RequireCode(t, err, codes.FailedPrecondition)
		require.Contains(t, st.Message(), "50 admins")
		// The old owner would take a 51st admin's place.
		_, err = e.groups.TransferGroupOwner(owner.ctx, &grouppb.TransferGroupOwnerRequest{GroupId: g, UserId: people[51].id})
		testkit.RequireCode(t, err, codes.FailedPrecondition)
		require.Equal(t, before, e.snapshot(t, g))

		e.setRole(t, owner, g, people[0], grouppb.GroupRole_GROUP_ROLE_MEMBER)
		e.setRole(t, owner, g, people[50], grouppb.GroupRole_GROUP_ROLE_ADMIN)
		// An admin heir leaves its place to the old owner: still 50.
		_, err = e.groups.TransferGroupOwner(owner.ctx, &grouppb.TransferGroupOwnerRequest{GroupId: g, UserId: people[1].id})
		require.NoError(t, err)
		var admins int
		require.NoError(t, e.pool.QueryRow(context.Background(),
			"SELECT count(*) FROM groups.members WHERE group_id = $1 AND role = 1", int64(g)).Scan(&admins))
		require.Equal(t, 50, admins)
		e.requireConsistent(t, g)
	})
	e.requireConsistent(t, id)
}

func TestGovernanceHistoryVisible(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, early, late, later := e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t)
	id := e.createGroup(t, owner).GetId()
	e.join(t, early, id)
	require.False(t, e.getGroup(t, owner, id).GetHistoryVisible(), "off by default")
	require.NoError(t, e.sendText(owner, id, "before one"))
	require.NoError(t, e.sendText(early, id, "before two"))

	e.join(t, late, id)
	require.NoError(t, e.sendText(owner, id, "after"))
	require.Equal(t, []string{"after"}, texts(e.conversation(t, late, id)), "off: from its join")
	require.Equal(t, []string{"before one", "before two", "after"}, texts(e.conversation(t, early, id)))

	_, err := e.groups.UpdateGroup(owner.ctx, &grouppb.UpdateGroupRequest{Id: id, HistoryVisible: proto.Bool(true)})
	require.NoError(t, err)
	require.True(t, e.getGroup(t, owner, id).GetHistoryVisible())
	require.Equal(t, []string{"before one", "before two", "after"}, texts(e.conversation(t, late, id)), "on: the whole history, at once")
	e.join(t, later, id)
	require.Equal(t, []string{"before one", "before two", "after"}, texts(e.conversation(t, later, id)))

	_, err = e.groups.UpdateGroup(owner.ctx, &grouppb.UpdateGroupRequest{Id: id, HistoryVisible: proto.Bool(false)})
	require.NoError(t, err)
	require.Equal(t, []string{"after"}, texts(e.conversation(t, late, id)), "off again: from its join")
	require.Empty(t, texts(e.conversation(t, later, id)))
}

// wantEvent is a group event as the conversation should hold it.
func wantEvent(kind grouppb.GroupEvent_Kind, actor, user person) *grouppb.GroupEvent {
	return &grouppb.GroupEvent{Kind: kind, ActorId: actor.id, UserId: user.id}
}

// TestGovernanceEvents makes every kind of change and requires the group's
// conversation to hold its GROUP_EVENT, from its actor, in the order the
// changes happened; calls that change nothing, or are refused, make none.
// A kicked or banned user's device is pushed the event of its removal and
// nothing of the group after it. The database is the test's own, so no
// other test's app relays (and pushes) these events.
func TestGovernanceEvents(t *testing.T) {
	t.Parallel()
	e := setupOn(t, testdb.Fresh(t), 0)
	ann, bob, cat, dan, eve := e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t)
	none := person{}
	id := e.createGroup(t, ann).GetId()
	danDevice := e.device(t, dan)
	eveDevice := e.device(t, eve)

	var want []*grouppb.GroupEvent
	expect := func(ev *grouppb.GroupEvent) { want = append(want, ev) }

	e.join(t, bob, id)
	expect(wantEvent(grouppb.GroupEvent_KIND_JOINED, bob, bob))
	e.add(t, ann, id, cat)
	expect(wantEvent(grouppb.GroupEvent_KIND_JOINED, ann, cat))
	e.setRole(t, ann, id, bob, grouppb.GroupRole_GROUP_ROLE_ADMIN)
	ev := wantEvent(grouppb.GroupEvent_KIND_ROLE_CHANGED, ann, bob)
	ev.Role = grouppb.GroupRole_GROUP_ROLE_ADMIN
	expect(ev)
	_, err := e.groups.UpdateGroup(ann.ctx, &grouppb.UpdateGroupRequest{Id: id, Name: "no event", Introduction: "none"})
	require.NoError(t, err) // fields only: no event
	e.setPolicy(t, bob, id, grouppb.JoinPolicy_JOIN_POLICY_APPROVAL)
	ev = wantEvent(grouppb.GroupEvent_KIND_POLICY_CHANGED, bob, none)
	ev.JoinPolicy = grouppb.JoinPolicy_JOIN_POLICY_APPROVAL
	expect(ev)
	request := e.requestJoin(t, dan, id)
	_, err = e.groups.DecideJoinRequest(bob.ctx, &grouppb.DecideJoinRequestRequest{RequestId: request, Approve: true})
	require.NoError(t, err)
	expect(wantEvent(grouppb.GroupEvent_KIND_JOINED, bob, dan))
	require.NoError(t, e.joinByInvite(eve.ctx, e.newInvite(t, bob, id, 1, nil)))
	expect(wantEvent(grouppb.GroupEvent_KIND_JOINED, eve, eve))
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	e.mute(t, bob, id, cat, until)
	ev = wantEvent(grouppb.GroupEvent_KIND_MUTED, bob, cat)
	ev.Until = timestamppb.New(until)
	expect(ev)
	_, err = e.groups.MuteGroupMember(bob.ctx, &grouppb.MuteGroupMemberRequest{GroupId: id, UserId: cat.id})
	require.NoError(t, err)
	expect(wantEvent(grouppb.GroupEvent_KIND_MUTED, bob, cat)) // until unset: unmuted
	_, err = e.groups.QuitGroup(cat.ctx, &grouppb.QuitGroupRequest{Id: id, UserId: dan.id})
	testkit.RequireCode(t, err, codes.PermissionDenied) // refused: no event
	e.kick(t, bob, id, dan)
	expect(wantEvent(grouppb.GroupEvent_KIND_KICKED, bob, dan))
	_, err = e.groups.BanGroupMember(bob.ctx, &grouppb.BanGroupMemberRequest{GroupId: id, UserId: eve.id, Reason: "spam"})
	require.NoError(t, err)
	ev = wantEvent(grouppb.GroupEvent_KIND_BANNED, bob, eve)
	ev.Reason = "spam"
	expect(ev)
	_, err = e.groups.UnbanGroupMember(bob.ctx, &grouppb.UnbanGroupMemberRequest{GroupId: id, UserId: eve.id})
	require.NoError(t, err)
	expect(wantEvent(grouppb.GroupEvent_KIND_UNBANNED, bob, eve))
	_, err = e.groups.QuitGroup(cat.ctx, &grouppb.QuitGroupRequest{Id: id})
	require.NoError(t, err)
	expect(wantEvent(grouppb.GroupEvent_KIND_LEFT, cat, cat))
	_, err = e.groups.TransferGroupOwner(ann.ctx, &grouppb.TransferGroupOwnerRequest{GroupId: id, UserId: bob.id})
	require.NoError(t, err)
	ev = wantEvent(grouppb.GroupEvent_KIND_OWNER_TRANSFERRED, ann, bob)
	ev.Role = grouppb.GroupRole_GROUP_ROLE_OWNER
	expect(ev)
	_, err = e.groups.UpdateGroup(bob.ctx, &grouppb.UpdateGroupRequest{Id: id, MuteAll: proto.Bool(true), HistoryVisible: proto.Bool(true)})
	require.NoError(t, err)
	ev = wantEvent(grouppb.GroupEvent_KIND_POLICY_CHANGED, bob, none)
	ev.JoinPolicy, ev.MuteAll, ev.HistoryVisible = grouppb.JoinPolicy_JOIN_POLICY_APPROVAL, true, true
	expect(ev)
	_, err = e.groups.UpdateGroup(bob.ctx, &grouppb.UpdateGroupRequest{Id: id, MuteAll: proto.Bool(true)})
	require.NoError(t, err) // as it was: no event
	e.setRole(t, bob, id, ann, grouppb.GroupRole_GROUP_ROLE_MEMBER)
	ev = wantEvent(grouppb.GroupEvent_KIND_ROLE_CHANGED, bob, ann)
	ev.Role = grouppb.GroupRole_GROUP_ROLE_MEMBER
	expect(ev)

	// ann has been a member from the start: she sees every event.
	var got []*messagepb.Message
	require.Eventually(t, func() bool {
		got = groupEvents(e.conversation(t, ann, id))
		return len(got) >= len(want)
	}, 20*time.Second, 20*time.Millisecond, "the events are relayed")
	e.awaitRelayed(t, id)
	got = groupEvents(e.conversation(t, ann, id))
	require.Len(t, got, len(want))
	for i, m := range got {
		require.Truef(t, proto.Equal(want[i], m.GetGroupEvent()), "event %d: want %v, got %v", i, want[i], m.GetGroupEvent())
		require.Equal(t, want[i].GetActorId(), m.GetFromUserId(), "event %d is from its actor", i)
		require.Equal(t, id, m.GetToGroupId())
		if i > 0 {
			require.Greater(t, m.GetSeq(), got[i-1].GetSeq())
		}
	}

	t.Run("events cannot be changed", func(t *testing.T) {
		_, err := e.msgs.RecallMessage(bob.ctx, &messagepb.RecallMessageRequest{MessageId: got[0].GetId()})
		testkit.RequireCode(t, err, codes.FailedPrecondition)
		_, err = e.msgs.ReactToMessage(bob.ctx, &messagepb.ReactToMessageRequest{MessageId: got[0].GetId(), Emoji: "👍"})
		testkit.RequireCode(t, err, codes.FailedPrecondition)
	})
	t.Run("the kicked user's device gets its removal, then nothing", func(t *testing.T) {
		kicked := e.pushedEvents(t, danDevice, id)
		require.NotEmpty(t, kicked)
		last := kicked[len(kicked)-1]
		require.Truef(t, proto.Equal(wantEvent(grouppb.GroupEvent_KIND_KICKED, bob, dan), last.GetGroupEvent()), "last push: %v", last)
		_, err := e.msgs.SyncMessages(dan.ctx, &messagepb.SyncMessagesRequest{ConversationId: groupConv(id)})
		testkit.RequireCode(t, err, codes.PermissionDenied) // no longer reads the group
	})
	t.Run("the banned user's device gets its removal, then its unban", func(t *testing.T) {
		pushed := e.pushedEvents(t, eveDevice, id)
		require.GreaterOrEqual(t, len(pushed), 2)
		banned, unbanned := pushed[len(pushed)-2], pushed[len(pushed)-1]
		wantBan := wantEvent(grouppb.GroupEvent_KIND_BANNED, bob, eve)
		wantBan.Reason = "spam"
		require.Truef(t, proto.Equal(wantBan, banned.GetGroupEvent()), "push: %v", banned)
		require.Truef(t, proto.Equal(wantEvent(grouppb.GroupEvent_KIND_UNBANNED, bob, eve), unbanned.GetGroupEvent()), "push: %v", unbanned)
	})
}

// device opens a device stream of p's and waits until it is online.
func (e *env) device(t *testing.T, p person) *parleytest.Stream {
	t.Helper()
	s := parleytest.OpenStream(t, e.gateway, p.ctx, gateway.ClientIDHeader, testkit.Unique("dev"))
	s.Ping(t, "")
	return s
}

// pushedEvents reads the frames pushed to s until none comes for a while
// (every event is relayed by now), and returns the group's events among
// them, in the order pushed.
func (e *env) pushedEvents(t *testing.T, s *parleytest.Stream, groupID uint64) []*messagepb.Message {
	t.Helper()
	var out []*messagepb.Message
	for {
		select {
		case f := <-s.Frames:
			if f.GetCmd() != message.CmdMessage {
				continue
			}
			m := new(messagepb.Message)
			require.NoError(t, proto.Unmarshal(f.GetData(), m))
			if m.GetConversationId() == groupConv(groupID) && m.GetType() == messagepb.MESSAGE_TYPE_GROUP_EVENT {
				out = append(out, m)
			}
		case <-time.After(parleytest.QuietWait):
			return out
		}
	}
}

// race starts each of calls on its own goroutine in an order rng picks,
// each after a pause of up to a millisecond it picks, and waits for them.
func race(rng *rand.Rand, calls ...func()) {
	pauses := make([]time.Duration, len(calls))
	for i := range pauses {
		pauses[i] = time.Duration(rng.IntN(1000)) * time.Microsecond
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, i := range rng.Perm(len(calls)) {
		wg.Go(func() {
			<-start
			time.Sleep(pauses[i])
			calls[i]()
		})
	}
	close(start)
	wg.Wait()
}

const raceRounds = 8

func TestGovernanceConcurrentDecisions(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	owner, a1, a2 := e.newUser(t), e.newUser(t), e.newUser(t)
	for round := range raceRounds {
		id := e.createGroup(t, owner).GetId()
		e.add(t, owner, id, a1)
		e.add(t, owner, id, a2)
		e.setRole(t, owner, id, a1, grouppb.GroupRole_GROUP_ROLE_ADMIN)
		e.setRole(t, owner, id, a2, grouppb.GroupRole_GROUP_ROLE_ADMIN)
		e.setPolicy(t, owner, id, grouppb.JoinPolicy_JOIN_POLICY_APPROVAL)
		asker := e.newUser(t)
		request := e.requestJoin(t, asker, id)
		approve := [2]bool{true, rng.IntN(2) == 0} // the second admin approves or rejects
		var errs [2]error
		race(rng, func() {
			_, errs[0] = e.groups.DecideJoinRequest(a1.ctx, &grouppb.DecideJoinRequestRequest{RequestId: request, Approve: approve[0]})
		}, func() {
			_, errs[1] = e.groups.DecideJoinRequest(a2.ctx, &grouppb.DecideJoinRequestRequest{RequestId: request, Approve: approve[1]})
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "round %d: both decisions succeeded", round)
				winner = i
				continue
			}
			testkit.RequireCode(t, err, codes.NotFound)
		}
		require.NotEqual(t, -1, winner, "round %d: one decision succeeds", round)
		require.Equal(t, approve[winner], e.isMember(t, id, asker.id), "round %d: the winner's decision holds", round)
		want := 3
		if approve[winner] {
			want = 4
		}
		require.Len(t, e.memberIDs(t, id), want, "round %d: one member added at most", round)
		resp, err := e.groups.ListJoinRequests(owner.ctx, &grouppb.ListJoinRequestsRequest{GroupId: id})
		require.NoError(t, err)
		require.Empty(t, resp.GetRequest())
		e.requireConsistent(t, id)
	}
}

func TestGovernanceBanRacesInvite(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	rng := rand.New(rand.NewPCG(3, 4))
	owner, admin := e.newUser(t), e.newUser(t)
	joinedFirst := 0
	for round := range raceRounds {
		id := e.createGroup(t, owner).GetId()
		e.add(t, owner, id, admin)
		e.setRole(t, owner, id, admin, grouppb.GroupRole_GROUP_ROLE_ADMIN)
		code := e.newInvite(t, owner, id, 0, nil)
		u := e.newUser(t)
		var banErr, joinErr error
		race(rng, func() {
			_, banErr = e.groups.BanGroupMember(admin.ctx, &grouppb.BanGroupMemberRequest{GroupId: id, UserId: u.id})
		}, func() {
			joinErr = e.joinByInvite(u.ctx, code)
		})
		require.NoError(t, banErr, "round %d", round)
		if joinErr == nil {
			joinedFirst++ // and the ban removed it
			require.Equal(t, 1, e.inviteUses(t, code))
		} else {
			st := testkit.RequireCode(t, joinErr, codes.PermissionDenied)
			require.Contains(t, st.Message(), "banned")
			require.Zero(t, e.inviteUses(t, code))
		}
		require.False(t, e.isMember(t, id, u.id), "round %d: never banned and a member", round)
		bans, err := e.groups.ListGroupBans(owner.ctx, &grouppb.ListGroupBansRequest{GroupId: id})
		require.NoError(t, err)
		require.Len(t, bans.GetBan(), 1)
		require.Equal(t, u.id, bans.GetBan()[0].GetUser().GetId())
		require.Equal(t, uint32(2), e.getGroup(t, owner, id).GetMemberCount())
		e.requireConsistent(t, id)
	}
	t.Logf("the join came first in %d of %d rounds", joinedFirst, raceRounds)
}

func TestGovernanceDemoteRacesKick(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	rng := rand.New(rand.NewPCG(5, 6))
	owner, admin := e.newUser(t), e.newUser(t)
	for round := range raceRounds {
		id := e.createGroup(t, owner).GetId()
		victim := e.newUser(t)
		e.add(t, owner, id, admin)
		e.add(t, owner, id, victim)
		e.setRole(t, owner, id, admin, grouppb.GroupRole_GROUP_ROLE_ADMIN) // the only admin
		var demoteErr, kickErr error
		race(rng, func() {
			_, demoteErr = e.groups.SetGroupMemberRole(owner.ctx, &grouppb.SetGroupMemberRoleRequest{
				GroupId: id, UserId: admin.id, Role: grouppb.GroupRole_GROUP_ROLE_MEMBER,
			})
		}, func() {
			_, kickErr = e.groups.QuitGroup(admin.ctx, &grouppb.QuitGroupRequest{Id: id, UserId: victim.id})
		})
		require.NoError(t, demoteErr, "round %d", round)
		require.Equal(t, grouppb.GroupRole_GROUP_ROLE_MEMBER, e.standing(t, owner, id, admin).GetRole())
		var kicks int
		require.NoError(t, e.pool.QueryRow(context.Background(),
			"SELECT count(*) FROM groups.kicks WHERE group_id = $1 AND user_id = $2", int64(id), int64(victim.id)).Scan(&kicks))
		if kickErr == nil { // the kick came first
			require.False(t, e.isMember(t, id, victim.id), "round %d", round)
			require.Equal(t, 1, kicks)
			require.Equal(t, uint32(2), e.getGroup(t, owner, id).GetMemberCount())
		} else { // the demotion came first
			testkit.RequireCode(t, kickErr, codes.PermissionDenied)
			require.True(t, e.isMember(t, id, victim.id), "round %d", round)
			require.Zero(t, kicks)
			require.Equal(t, uint32(3), e.getGroup(t, owner, id).GetMemberCount())
		}
		e.requireConsistent(t, id)
	}
}

func TestGovernanceConcurrentInviteJoins(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	rng := rand.New(rand.NewPCG(7, 8))
	owner := e.newUser(t)
	joiners := e.newUsers(t, 24)
	for round, maxUses := range []uint32{1, 5, 12} {
		id := e.createGroup(t, owner).GetId()
		e.setPolicy(t, owner, id, grouppb.JoinPolicy_JOIN_POLICY_INVITE_ONLY)
		code := e.newInvite(t, owner, id, maxUses, nil)
		errs := make([]error, len(joiners))
		calls := make([]func(), len(joiners))
		for i, p := range joiners {
			calls[i] = func() { errs[i] = e.joinByInvite(p.ctx, code) }
		}
		race(rng, calls...)
		want := []uint64{owner.id}
		for i, err := range errs {
			if err == nil {
				want = append(want, joiners[i].id)
				continue
			}
			st := testkit.RequireCode(t, err, codes.FailedPrecondition)
			require.Contains(t, st.Message(), "used")
		}
		require.Len(t, want, int(maxUses)+1, "round %d: exactly max_uses join", round)
		require.Equal(t, sorted(want...), e.memberIDs(t, id))
		require.Equal(t, int(maxUses), e.inviteUses(t, code))
		e.requireConsistent(t, id)
	}
}

// nextEventID is the id the next group event recorded will get.
func (e *env) nextEventID(t *testing.T) uint64 {
	t.Helper()
	var last *int64
	require.NoError(t, e.pool.QueryRow(context.Background(),
		"SELECT pg_sequence_last_value(pg_get_serial_sequence('groups.events', 'id')::regclass)").Scan(&last))
	if last == nil {
		return 1
	}
	return uint64(*last) + 1
}

// TestGovernanceEventsIgnoreClientKeys: the relay stores each event under
// an idempotency key of its actor's. A client's own idempotency keys must
// not meet it: a send with the key would stand in for the event (the event
// lost), a change with it would make storing the event fail for good and
// stall the relay, and every group's events behind it. The database is the
// test's own, so the next event id is known and no other test's relay
// takes these events.
func TestGovernanceEventsIgnoreClientKeys(t *testing.T) {
	t.Parallel()
	e := setupOn(t, testdb.Fresh(t), 0)
	ann, bob, cat := e.newUser(t), e.newUser(t), e.newUser(t)
	id := e.createGroup(t, ann).GetId()
	other := e.createGroup(t, cat).GetId()
	next := e.nextEventID(t)
	withKey := func(p person, key string) context.Context {
		return metadata.AppendToOutgoingContext(p.ctx, message.IdempotencyKeyHeader, key)
	}
	sent, err := e.msgs.SendUserTextMessage(withKey(bob, fmt.Sprintf("group-event:%d", next)),
		&messagepb.SendUserTextMessageRequest{ToUserId: ann.id, Text: &messagepb.TextMessage{Content: "hi"}})
	require.NoError(t, err)
	_, err = e.msgs.ReactToMessage(withKey(bob, fmt.Sprintf("group-event:%d", next+1)),
		&messagepb.ReactToMessageRequest{MessageId: sent.GetId(), Emoji: "👍"})
	require.NoError(t, err)

	e.join(t, bob, id) // event next: bob joined
	_, err = e.groups.QuitGroup(bob.ctx, &grouppb.QuitGroupRequest{Id: id})
	require.NoError(t, err)   // event next+1: bob left
	e.add(t, cat, other, ann) // event next+2, another group's: cat added ann
	require.Equal(t, next+3, e.nextEventID(t))

	e.awaitRelayed(t, other)
	e.awaitRelayed(t, id)
	got := groupEvents(e.conversation(t, ann, id))
	require.Len(t, got, 2)
	require.Truef(t, proto.Equal(wantEvent(grouppb.GroupEvent_KIND_JOINED, bob, bob), got[0].GetGroupEvent()), "%v", got[0])
	require.Truef(t, proto.Equal(wantEvent(grouppb.GroupEvent_KIND_LEFT, bob, bob), got[1].GetGroupEvent()), "%v", got[1])
	require.Len(t, groupEvents(e.conversation(t, ann, other)), 1)
}
