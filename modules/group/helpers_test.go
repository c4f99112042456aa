package group_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/group"
	"github.com/parley-im/parley/modules/user"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
)

const password = "secret123"

// env is Parley, as `parley serve` wires it, over the package's database.
type env struct {
	conn   *grpc.ClientConn
	users  userpb.UserServiceClient
	groups grouppb.GroupServiceClient
	mod    *group.Module // the group module's Go API, on the same database
	pool   *pgxpool.Pool
	// The message service and device streams, to see a group's
	// conversation (its GROUP_EVENT messages, sends under mutes).
	msgs    messagepb.MessageServiceClient
	gateway gatewaypb.GatewayServiceClient
	userMod *user.Module // to make Parley admins
}

// setup serves Parley with the given member cap (0: the default).
func setup(t *testing.T, memberCap int) *env {
	t.Helper()
	return setupOn(t, testdb.Pool(t), memberCap)
}

func setupOn(t *testing.T, pool *pgxpool.Pool, memberCap int) *env {
	t.Helper()
	cfg := parleytest.Config(t)
	if memberCap != 0 {
		cfg.GroupMemberCap = memberCap
	}
	served := parleytest.Serve(t, cfg, pool, parleytest.Options())
	return &env{
		conn:   served.Conn,
		users:  userpb.NewUserServiceClient(served.Conn),
		groups: grouppb.NewGroupServiceClient(served.Conn),
		mod:    served.Modules().Group,
		pool:   pool,

		msgs:    messagepb.NewMessageServiceClient(served.Conn),
		gateway: gatewaypb.NewGatewayServiceClient(served.Conn),
		userMod: served.Modules().User,
	}
}

// person is a signed-up, signed-in user.
type person struct {
	id       uint64
	nickname string
	ctx      context.Context // carries the user's token
}

// newUser signs a user up through the user module and logs it in.
func (e *env) newUser(t *testing.T) person {
	t.Helper()
	return e.signUp(t, false)
}

// newParleyAdmin signs up a user with Parley's admin role (before it logs
// in, so its token carries the role).
func (e *env) newParleyAdmin(t *testing.T) person {
	t.Helper()
	return e.signUp(t, true)
}

func (e *env) signUp(t *testing.T, admin bool) person {
	t.Helper()
	nick := testkit.Unique("u")
	created, err := e.users.CreateUser(context.Background(), &userpb.UserCreateRequest{
		Nickname: nick, Password: password, PasswordRpt: password,
	})
	require.NoError(t, err)
	if admin {
		require.NoError(t, e.userMod.SetAdmin(context.Background(), nick, true))
	}
	resp, err := e.users.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: nick, Password: password})
	require.NoError(t, err)
	require.NotEmpty(t, resp.GetToken())
	return person{id: created.GetUser().GetId(), nickname: nick, ctx: testkit.WithToken(resp.GetToken())}
}

func (e *env) newUsers(t *testing.T, n int) []person {
	t.Helper()
	out := make([]person, n)
	for i := range out {
		out[i] = e.newUser(t)
	}
	return out
}

// anonymous is a caller without a token.
var anonymous = context.Background()

// createGroup creates a group owned by owner with a unique name.
func (e *env) createGroup(t *testing.T, owner person) *grouppb.Group {
	t.Helper()
	resp, err := e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{Name: testkit.Unique("g")})
	require.NoError(t, err)
	require.NotZero(t, resp.GetGroup().GetId())
	return resp.GetGroup()
}

func (e *env) getGroup(t *testing.T, p person, id uint64) *grouppb.Group {
	t.Helper()
	resp, err := e.groups.GetGroup(p.ctx, &grouppb.GetGroupRequest{Id: id})
	require.NoError(t, err)
	return resp.GetGroup()
}

func (e *env) join(t *testing.T, p person, groupID uint64) {
	t.Helper()
	_, err := e.groups.JoinGroup(p.ctx, &grouppb.JoinGroupRequest{Id: groupID})
	require.NoError(t, err)
}

// getGroupUserMethod is GroupService.GetGroupUser. group.proto declares its
// request and response but not the method, so there is no generated client
// method: the call goes by name, as a client built from a corrected
// group.proto would send it.
const getGroupUserMethod = "/group.GroupService/GetGroupUser"

func (e *env) getGroupUser(ctx context.Context, req *grouppb.GetGroupUserRequest) (*grouppb.GetGroupUserResponse, error) {
	resp := new(grouppb.GetGroupUserResponse)
	if err := e.conn.Invoke(ctx, getGroupUserMethod, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// memberList returns the member ids GetGroupUser lists (one page of up to
// 100, in the order given) and its total_rows, as seen by caller.
func (e *env) memberList(t *testing.T, caller person, groupID uint64) ([]uint64, uint64) {
	t.Helper()
	resp, err := e.getGroupUser(caller.ctx, &grouppb.GetGroupUserRequest{Id: groupID, PageSize: 100})
	require.NoError(t, err)
	ids := make([]uint64, len(resp.GetUser()))
	for i, u := range resp.GetUser() {
		ids[i] = u.GetId()
	}
	return ids, resp.GetPager().GetTotalRows()
}

// memberIDs returns every member id of a live group, ascending, through the
// Go API.
func (e *env) memberIDs(t *testing.T, groupID uint64) []uint64 {
	t.Helper()
	ids, err := e.mod.MemberIDsAfter(context.Background(), groupID, 0, 1000)
	require.NoError(t, err)
	return ids
}

func (e *env) isMember(t *testing.T, groupID, userID uint64) bool {
	t.Helper()
	ok, err := e.mod.IsMember(context.Background(), groupID, userID)
	require.NoError(t, err)
	return ok
}

func sorted(ids ...uint64) []uint64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}
