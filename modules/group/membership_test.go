package group_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/modules/group"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
)

func TestJoinGroup(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, alice, bob, carol := e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t)
	g := e.createGroup(t, owner)
	id := g.GetId()

	_, err := e.groups.JoinGroup(alice.ctx, &grouppb.JoinGroupRequest{Id: id}) // user_id 0: the caller
	require.NoError(t, err)
	_, err = e.groups.JoinGroup(bob.ctx, &grouppb.JoinGroupRequest{Id: id, UserId: bob.id}) // the caller by id
	require.NoError(t, err)
	require.Equal(t, sorted(owner.id, alice.id, bob.id), e.memberIDs(t, id))

	t.Run("joining twice is a no-op", func(t *testing.T) {
		for range 2 {
			_, err := e.groups.JoinGroup(alice.ctx, &grouppb.JoinGroupRequest{Id: id})
			require.NoError(t, err)
		}
		_, err = e.groups.JoinGroup(owner.ctx, &grouppb.JoinGroupRequest{Id: id})
		require.NoError(t, err, "the owner is already a member")
		require.Equal(t, sorted(owner.id, alice.id, bob.id), e.memberIDs(t, id))
		t.Run("GetGroupUser lists each member once", func(t *testing.T) {
			ids, total := e.memberList(t, owner, id)
			require.Equal(t, []uint64{owner.id, alice.id, bob.id}, ids)
			require.Equal(t, uint64(3), total)
		})
	})
	t.Run("a non-member cannot add someone", func(t *testing.T) {
		_, err := e.groups.JoinGroup(carol.ctx, &grouppb.JoinGroupRequest{Id: id, UserId: alice.id})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		require.False(t, e.isMember(t, id, carol.id))
	})
	t.Run("a member adds another user", func(t *testing.T) {
		_, err := e.groups.JoinGroup(alice.ctx, &grouppb.JoinGroupRequest{Id: id, UserId: carol.id})
		require.NoError(t, err)
		require.True(t, e.isMember(t, id, carol.id))
		_, err = e.groups.JoinGroup(bob.ctx, &grouppb.JoinGroupRequest{Id: id, UserId: carol.id})
		require.NoError(t, err, "adding a member again is a no-op")
		require.Equal(t, sorted(owner.id, alice.id, bob.id, carol.id), e.memberIDs(t, id))
	})
	t.Run("the added user must exist", func(t *testing.T) {
		_, err := e.groups.JoinGroup(alice.ctx, &grouppb.JoinGroupRequest{Id: id, UserId: 1 << 60})
		st := testkit.RequireCode(t, err, codes.NotFound)
		require.Contains(t, st.Message(), "user")
		require.False(t, e.isMember(t, id, 1<<60))
		require.Len(t, e.memberIDs(t, id), 4)
	})
	t.Run("missing group", func(t *testing.T) {
		_, err := e.groups.JoinGroup(alice.ctx, &grouppb.JoinGroupRequest{Id: 1 << 60})
		st := testkit.RequireCode(t, err, codes.NotFound)
		require.Contains(t, st.Message(), "group")
	})
}

func TestQuitGroup(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, alice, bob, carol, dave := e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t)
	g := e.createGroup(t, owner)
	id := g.GetId()
	for _, p := range []person{alice, bob, carol} {
		e.join(t, p, id)
	}

	_, err := e.groups.QuitGroup(alice.ctx, &grouppb.QuitGroupRequest{Id: id}) // user_id 0: the caller
	require.NoError(t, err)
	_, err = e.groups.QuitGroup(bob.ctx, &grouppb.QuitGroupRequest{Id: id, UserId: bob.id}) // the caller by id
	require.NoError(t, err)
	require.Equal(t, sorted(owner.id, carol.id), e.memberIDs(t, id), "those who left are no longer members")
	require.False(t, e.isMember(t, id, alice.id))
	t.Run("GetGroupUser no longer lists those who left", func(t *testing.T) {
		ids, total := e.memberList(t, owner, id)
		require.Equal(t, []uint64{owner.id, carol.id}, ids)
		require.Equal(t, uint64(2), total)
	})

	t.Run("quitting when not a member", func(t *testing.T) {
		for _, p := range []person{alice, dave} {
			_, err := e.groups.QuitGroup(p.ctx, &grouppb.QuitGroupRequest{Id: id})
			testkit.RequireCode(t, err, codes.NotFound)
		}
		_, err := e.groups.QuitGroup(owner.ctx, &grouppb.QuitGroupRequest{Id: id, UserId: dave.id})
		testkit.RequireCode(t, err, codes.NotFound)
	})
	t.Run("the owner cannot quit", func(t *testing.T) {
		for _, uid := range []uint64{0, owner.id} {
			_, err := e.groups.QuitGroup(owner.ctx, &grouppb.QuitGroupRequest{Id: id, UserId: uid})
			testkit.RequireCode(t, err, codes.FailedPrecondition)
		}
		require.True(t, e.isMember(t, id, owner.id))
	})
	t.Run("nobody else removes the owner", func(t *testing.T) {
		_, err := e.groups.QuitGroup(carol.ctx, &grouppb.QuitGroupRequest{Id: id, UserId: owner.id})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		require.True(t, e.isMember(t, id, owner.id))
	})
	t.Run("leaving and re-joining", func(t *testing.T) {
		e.join(t, alice, id)
		require.Equal(t, sorted(owner.id, carol.id, alice.id), e.memberIDs(t, id))
		t.Run("GetGroupUser lists the returner as the latest to join", func(t *testing.T) {
			ids, total := e.memberList(t, owner, id)
			require.Equal(t, []uint64{owner.id, carol.id, alice.id}, ids)
			require.Equal(t, uint64(3), total)
		})
	})
	t.Run("the owner removes a member", func(t *testing.T) {
		_, err := e.groups.QuitGroup(alice.ctx, &grouppb.QuitGroupRequest{Id: id, UserId: carol.id})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		require.True(t, e.isMember(t, id, carol.id))

		_, err = e.groups.QuitGroup(owner.ctx, &grouppb.QuitGroupRequest{Id: id, UserId: carol.id})
		require.NoError(t, err)
		require.False(t, e.isMember(t, id, carol.id))
		require.Equal(t, sorted(owner.id, alice.id), e.memberIDs(t, id))
		t.Run("GetGroupUser", func(t *testing.T) {
			_, err := e.getGroupUser(carol.ctx, &grouppb.GetGroupUserRequest{Id: id})
			testkit.RequireCode(t, err, codes.PermissionDenied)
			ids, total := e.memberList(t, owner, id)
			require.Equal(t, []uint64{owner.id, alice.id}, ids)
			require.Equal(t, uint64(2), total)
		})
	})
	t.Run("missing group", func(t *testing.T) {
		_, err := e.groups.QuitGroup(alice.ctx, &grouppb.QuitGroupRequest{Id: 1 << 60})
		testkit.RequireCode(t, err, codes.NotFound)
	})
}

func TestGetGroupUser(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner := e.newUser(t)
	others := e.newUsers(t, 4) // ids ascending in creation order
	outsider := e.newUser(t)
	g := e.createGroup(t, owner)
	id := g.GetId()
	// Join in an order unlike id order, so join time and id order differ.
	joinOrder := []person{others[2], others[0], others[3], others[1]}
	for _, p := range joinOrder {
		e.join(t, p, id)
	}
	want := []uint64{owner.id}
	for _, p := range joinOrder {
		want = append(want, p.id)
	}

	resp, err := e.getGroupUser(others[1].ctx, &grouppb.GetGroupUserRequest{Id: id})
	require.NoError(t, err)
	require.Equal(t, uint64(1), resp.GetPager().GetPage())
	require.Equal(t, uint64(20), resp.GetPager().GetPageZie())
	require.Equal(t, uint64(5), resp.GetPager().GetTotalRows())
	require.Equal(t, uint64(1), resp.GetPager().GetTotalPages())
	var got []uint64
	for _, u := range resp.GetUser() {
		got = append(got, u.GetId())
	}
	require.Equal(t, want, got, "ordered by join time")
	require.Equal(t, owner.nickname, resp.GetUser()[0].GetNickname(), "members are full users")
	require.NotNil(t, resp.GetUser()[0].GetCreatedAt())

	t.Run("paging", func(t *testing.T) {
		var paged []uint64
		for page := uint64(1); page <= 3; page++ {
			resp, err := e.getGroupUser(owner.ctx, &grouppb.GetGroupUserRequest{Id: id, Page: page, PageSize: 2})
			require.NoError(t, err)
			require.Equal(t, uint64(5), resp.GetPager().GetTotalRows())
			require.Equal(t, uint64(3), resp.GetPager().GetTotalPages())
			require.Equal(t, page, resp.GetPager().GetPage())
			require.Equal(t, uint64(2), resp.GetPager().GetPageZie())
			for _, u := range resp.GetUser() {
				paged = append(paged, u.GetId())
			}
		}
		require.Equal(t, want, paged)
		resp, err := e.getGroupUser(owner.ctx, &grouppb.GetGroupUserRequest{Id: id, Page: 0, PageSize: 2})
		require.NoError(t, err)
		require.Equal(t, uint64(1), resp.GetPager().GetPage(), "page 0 is the first")
		require.Len(t, resp.GetUser(), 2)
		resp, err = e.getGroupUser(owner.ctx, &grouppb.GetGroupUserRequest{Id: id, Page: 4, PageSize: 2})
		require.NoError(t, err)
		require.Empty(t, resp.GetUser())
	})
	t.Run("members only", func(t *testing.T) {
		_, err := e.getGroupUser(outsider.ctx, &grouppb.GetGroupUserRequest{Id: id})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		_, err = e.getGroupUser(anonymous, &grouppb.GetGroupUserRequest{Id: id})
		testkit.RequireCode(t, err, codes.Unauthenticated)
	})
	t.Run("missing group", func(t *testing.T) {
		_, err := e.getGroupUser(owner.ctx, &grouppb.GetGroupUserRequest{Id: 1 << 60})
		testkit.RequireCode(t, err, codes.NotFound)
	})
}

func TestGoAPI(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	ctx := context.Background()
	owner := e.newUser(t)
	members := e.newUsers(t, 24)
	outsider := e.newUser(t)
	g := e.createGroup(t, owner)
	id := g.GetId()
	// Join in reverse id order: keyset paging must follow ids, not join time.
	for i := len(members) - 1; i >= 0; i-- {
		e.join(t, members[i], id)
	}
	all := []uint64{owner.id}
	for _, m := range members {
		all = append(all, m.id)
	}
	all = sorted(all...)
	require.Len(t, all, 25)

	t.Run("MaySend", func(t *testing.T) {
		require.NoError(t, e.mod.MaySend(ctx, id, owner.id))
		require.NoError(t, e.mod.MaySend(ctx, id, members[0].id))
		testkit.RequireCode(t, e.mod.MaySend(ctx, 1<<60, owner.id), codes.NotFound)
	})
	t.Run("IsMember", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			group  uint64
			userID uint64
			want   bool
		}{
			{"owner", id, owner.id, true},
			{"member", id, members[7].id, true},
			{"outsider", id, outsider.id, false},
			{"missing group", 1 << 60, owner.id, false},
		} {
			ok, err := e.mod.IsMember(ctx, tc.group, tc.userID)
			require.NoError(t, err, tc.name)
			require.Equal(t, tc.want, ok, tc.name)
		}
	})
	t.Run("MemberIDsAfter pages by id", func(t *testing.T) {
		var (
			got   []uint64
			sizes []int
			after uint64
		)
		for {
			page, err := e.mod.MemberIDsAfter(ctx, id, after, 10)
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			sizes = append(sizes, len(page))
			got = append(got, page...)
			after = page[len(page)-1]
			require.Less(t, len(sizes), 10, "paging must end")
		}
		require.Equal(t, []int{10, 10, 5}, sizes)
		require.Equal(t, all, got, "ids ascending, no duplicates, every member")
	})
	t.Run("MemberIDsAfter mid-way", func(t *testing.T) {
		page, err := e.mod.MemberIDsAfter(ctx, id, all[11], 3)
		require.NoError(t, err)
		require.Equal(t, all[12:15], page)
	})
	t.Run("MemberIDsAfter follows quits", func(t *testing.T) {
		_, err := e.groups.QuitGroup(members[3].ctx, &grouppb.QuitGroupRequest{Id: id})
		require.NoError(t, err)
		ids := e.memberIDs(t, id)
		require.Len(t, ids, 24)
		require.NotContains(t, ids, members[3].id)
		require.False(t, e.isMember(t, id, members[3].id))
	})
	t.Run("missing group", func(t *testing.T) {
		_, err := e.mod.MemberIDsAfter(ctx, 1<<60, 0, 10)
		require.ErrorIs(t, err, group.ErrNotFound)
	})
}

func TestMemberCap(t *testing.T) {
	t.Parallel()
	e := setup(t, 3)
	owner, alice, bob, carol := e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t)
	g := e.createGroup(t, owner)
	id := g.GetId()
	e.join(t, alice, id)
	e.join(t, bob, id) // 3 of 3

	_, err := e.groups.JoinGroup(carol.ctx, &grouppb.JoinGroupRequest{Id: id})
	testkit.RequireCode(t, err, codes.FailedPrecondition)
	_, err = e.groups.JoinGroup(alice.ctx, &grouppb.JoinGroupRequest{Id: id, UserId: carol.id})
	testkit.RequireCode(t, err, codes.FailedPrecondition) // adding someone to a full group
	require.False(t, e.isMember(t, id, carol.id))

	_, err = e.groups.JoinGroup(alice.ctx, &grouppb.JoinGroupRequest{Id: id})
	require.NoError(t, err, "a member re-joining a full group")
	_, err = e.groups.JoinGroup(owner.ctx, &grouppb.JoinGroupRequest{Id: id, UserId: bob.id})
	require.NoError(t, err, "adding an existing member to a full group")
	require.Equal(t, sorted(owner.id, alice.id, bob.id), e.memberIDs(t, id))

	_, err = e.groups.QuitGroup(bob.ctx, &grouppb.QuitGroupRequest{Id: id})
	require.NoError(t, err)
	e.join(t, carol, id) // a place is free again
	_, err = e.groups.JoinGroup(bob.ctx, &grouppb.JoinGroupRequest{Id: id})
	testkit.RequireCode(t, err, codes.FailedPrecondition)
	require.Equal(t, sorted(owner.id, alice.id, carol.id), e.memberIDs(t, id))

	t.Run("each group has its own cap", func(t *testing.T) {
		other := e.createGroup(t, carol)
		e.join(t, bob, other.GetId())
	})
}

// TestAuthorizationMatrix runs every mutating method as each kind of caller,
// each row on a fresh group. A refused call must leave the group and its
// members as they were; an accepted one must take effect.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, member, nonMember, victim, target := e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t)
	anon := person{ctx: anonymous}

	type method struct {
		call func(caller person, groupID uint64) error
		// applied checks the call's effect on the group.
		applied func(t *testing.T, caller person, groupID uint64)
	}
	methods := map[string]method{
		"UpdateGroup": {
			call: func(c person, id uint64) error {
				_, err := e.groups.UpdateGroup(c.ctx, &grouppb.UpdateGroupRequest{Id: id, Name: "renamed", Introduction: "new"})
				return err
			},
			applied: func(t *testing.T, c person, id uint64) {
				g := e.getGroup(t, owner, id)
				require.Equal(t, "renamed", g.GetName())
				require.Equal(t, "new", g.GetIntroduction())
			},
		},
		"DeleteGroup": {
			call: func(c person, id uint64) error {
				_, err := e.groups.DeleteGroup(c.ctx, &grouppb.DeleteGroupRequest{Id: id})
				return err
			},
			applied: func(t *testing.T, c person, id uint64) {
				_, err := e.groups.GetGroup(c.ctx, &grouppb.GetGroupRequest{Id: id})
				testkit.RequireCode(t, err, codes.NotFound)
			},
		},
		"JoinGroup self": {
			call: func(c person, id uint64) error {
				_, err := e.groups.JoinGroup(c.ctx, &grouppb.JoinGroupRequest{Id: id})
				return err
			},
			applied: func(t *testing.T, c person, id uint64) {
				want := setOf([]uint64{owner.id, member.id, victim.id}, c.id)
				require.Equal(t, sorted(want...), e.memberIDs(t, id), "the caller is a member, once")
			},
		},
		"JoinGroup another user": {
			call: func(c person, id uint64) error {
				_, err := e.groups.JoinGroup(c.ctx, &grouppb.JoinGroupRequest{Id: id, UserId: target.id})
				return err
			},
			applied: func(t *testing.T, c person, id uint64) {
				require.Equal(t, sorted(owner.id, member.id, victim.id, target.id), e.memberIDs(t, id))
			},
		},
		"QuitGroup self": {
			call: func(c person, id uint64) error {
				_, err := e.groups.QuitGroup(c.ctx, &grouppb.QuitGroupRequest{Id: id})
				return err
			},
			applied: func(t *testing.T, c person, id uint64) {
				require.False(t, e.isMember(t, id, c.id))
				require.Len(t, e.memberIDs(t, id), 2)
			},
		},
		"QuitGroup another member": {
			call: func(c person, id uint64) error {
				_, err := e.groups.QuitGroup(c.ctx, &grouppb.QuitGroupRequest{Id: id, UserId: victim.id})
				return err
			},
			applied: func(t *testing.T, c person, id uint64) {
				require.Equal(t, sorted(owner.id, member.id), e.memberIDs(t, id))
			},
		},
	}
	callers := map[string]person{"owner": owner, "member": member, "non-member": nonMember, "anonymous": anon}
	const (
		ok           = codes.OK
		denied       = codes.PermissionDenied
		unauthed     = codes.Unauthenticated
		notFound     = codes.NotFound
		precondition = codes.FailedPrecondition
	)
	for _, tc := range []struct {
		method, caller string
		want           codes.Code
	}{
		{"UpdateGroup", "owner", ok},
		{"UpdateGroup", "member", denied},
		{"UpdateGroup", "non-member", denied},
		{"UpdateGroup", "anonymous", unauthed},
		{"DeleteGroup", "owner", ok},
		{"DeleteGroup", "member", denied},
		{"DeleteGroup", "non-member", denied},
		{"DeleteGroup", "anonymous", unauthed},
		{"JoinGroup self", "owner", ok},
		{"JoinGroup self", "member", ok},
		{"JoinGroup self", "non-member", ok},
		{"JoinGroup self", "anonymous", unauthed},
		{"JoinGroup another user", "owner", ok},
		{"JoinGroup another user", "member", ok},
		{"JoinGroup another user", "non-member", denied},
		{"JoinGroup another user", "anonymous", unauthed},
		{"QuitGroup self", "owner", precondition},
		{"QuitGroup self", "member", ok},
		{"QuitGroup self", "non-member", notFound},
		{"QuitGroup self", "anonymous", unauthed},
		{"QuitGroup another member", "owner", ok},
		{"QuitGroup another member", "member", denied},
		{"QuitGroup another member", "non-member", denied},
		{"QuitGroup another member", "anonymous", unauthed},
	} {
		t.Run(tc.method+" by "+tc.caller, func(t *testing.T) {
			t.Parallel()
			m, caller := methods[tc.method], callers[tc.caller]
			g := e.createGroup(t, owner)
			id := g.GetId()
			e.join(t, member, id)
			e.join(t, victim, id)
			before := e.getGroup(t, owner, id)
			beforeMembers := e.memberIDs(t, id)

			err := m.call(caller, id)
			require.Equal(t, tc.want, status.Code(err), "error: %v", err)
			if tc.want == ok {
				m.applied(t, caller, id)
				return
			}
			after := e.getGroup(t, owner, id)
			require.Equal(t, before.GetName(), after.GetName())
			require.Equal(t, before.GetUpdatedAt().AsTime(), after.GetUpdatedAt().AsTime())
			require.Equal(t, beforeMembers, e.memberIDs(t, id))
		})
	}
}

// setOf returns ids with extra added if it is missing.
func setOf(ids []uint64, extra uint64) []uint64 {
	if slices.Contains(ids, extra) {
		return ids
	}
	return append(ids, extra)
}

func TestConcurrentJoinsOfOneUser(t *testing.T) {
	t.Parallel()
	e := setup(t, 3)
	owner, joiner := e.newUser(t), e.newUser(t)
	g := e.createGroup(t, owner)
	id := g.GetId()

	errs := make([]error, 50)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = e.groups.JoinGroup(joiner.ctx, &grouppb.JoinGroupRequest{Id: id})
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, sorted(owner.id, joiner.id), e.memberIDs(t, id), "exactly one membership")
	t.Run("GetGroupUser total_rows and list", func(t *testing.T) {
		ids, total := e.memberList(t, owner, id)
		require.Equal(t, []uint64{owner.id, joiner.id}, ids)
		require.Equal(t, uint64(2), total)
	})

	// The member count the cap is checked against counted the joiner once:
	// of a cap of 3, exactly one place is left.
	third, fourth := e.newUser(t), e.newUser(t)
	e.join(t, third, id)
	_, err := e.groups.JoinGroup(fourth.ctx, &grouppb.JoinGroupRequest{Id: id})
	testkit.RequireCode(t, err, codes.FailedPrecondition)
}

func TestConcurrentJoinsRespectTheCap(t *testing.T) {
	t.Parallel()
	e := setup(t, 20)
	owner := e.newUser(t)
	joiners := e.newUsers(t, 50)
	g := e.createGroup(t, owner)
	id := g.GetId()

	errs := make([]error, len(joiners))
	var wg sync.WaitGroup
	for i, p := range joiners {
		wg.Go(func() {
			_, errs[i] = e.groups.JoinGroup(p.ctx, &grouppb.JoinGroupRequest{Id: id})
		})
	}
	wg.Wait()
	want := []uint64{owner.id}
	for i, err := range errs {
		if err == nil {
			want = append(want, joiners[i].id)
			continue
		}
		testkit.RequireCode(t, err, codes.FailedPrecondition)
	}
	require.Len(t, want, 20, "exactly 19 joined besides the owner")
	require.Equal(t, sorted(want...), e.memberIDs(t, id))
	t.Run("GetGroupUser total_rows and list", func(t *testing.T) {
		ids, total := e.memberList(t, owner, id)
		require.Equal(t, uint64(20), total)
		require.Equal(t, sorted(want...), sorted(ids...))
	})
}

// TestConcurrentAddsDoNotStarveThePool: members adding other users to one
// group at the same time, as many as the pool has connections. Each call
// holds a pooled connection inside its transaction while it waits for the
// group's row lock; the one holding the lock then asks the pool for a second
// connection (the user module's GetUser) and none is free, so every call
// hangs until its deadline. The calls must all succeed.
func TestConcurrentAddsDoNotStarveThePool(t *testing.T) {
	t.Parallel()
	// A pool of its own with the default size, so a hang here does not stall
	// the other tests.
	pool, err := pgxpool.New(context.Background(), testdb.URL(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	e := setupOn(t, pool, 0)
	n := int(pool.Config().MaxConns) * 2
	owner := e.newUser(t)
	targets := e.newUsers(t, n)
	g := e.createGroup(t, owner)
	id := g.GetId()

	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, p := range targets {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(owner.ctx, 5*time.Second)
			defer cancel()
			_, errs[i] = e.groups.JoinGroup(ctx, &grouppb.JoinGroupRequest{Id: id, UserId: p.id})
		})
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
		}
	}
	require.Zero(t, failed, "%d of %d adds failed; first errors: %v", failed, n, errs[:min(n, 3)])
	require.Len(t, e.memberIDs(t, id), n+1)
}

func TestGroupsOf(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	ctx := context.Background()
	ann, bob := e.newUser(t), e.newUser(t)
	first := e.createGroup(t, ann)
	second := e.createGroup(t, bob)
	third := e.createGroup(t, bob)
	beforeJoin := time.Now()
	e.join(t, ann, second.GetId())
	e.join(t, ann, third.GetId())
	_, err := e.groups.DeleteGroup(bob.ctx, &grouppb.DeleteGroupRequest{Id: third.GetId()})
	require.NoError(t, err)

	groups, joinedAt, err := e.mod.GroupsOf(ctx, ann.id)
	require.NoError(t, err)
	require.Len(t, joinedAt, len(groups))
	var got []uint64
	for _, g := range groups {
		got = append(got, g.GetId())
	}
	require.Equal(t, []uint64{first.GetId(), second.GetId()}, got, "live groups only, by id")
	require.Equal(t, second.GetName(), groups[1].GetName())
	require.Equal(t, bob.id, groups[1].GetUserId())
	require.True(t, joinedAt[0].Before(beforeJoin), "ann created the first group before joining the second")
	require.WithinDuration(t, beforeJoin, joinedAt[1], time.Minute)
	at, member, err := e.mod.HistoryFrom(ctx, second.GetId(), ann.id)
	require.NoError(t, err)
	require.True(t, member)
	require.Equal(t, joinedAt[1], at)
	_, member, err = e.mod.HistoryFrom(ctx, third.GetId(), ann.id)
	require.NoError(t, err)
	require.False(t, member, "a deleted group has no members")

	groups, _, err = e.mod.GroupsOf(ctx, 1<<60)
	require.NoError(t, err)
	require.Empty(t, groups)
}

// A kick sticks: the owner removes a member with QuitGroup{id, user_id},
// and the member can neither rejoin by themselves nor be added back by
// another member; the kick is recorded with who and when. The owner adding
// them again lifts it. Leaving by oneself is no kick.
func TestKickedIsOut(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, alice, carol := e.newUser(t), e.newUser(t), e.newUser(t)
	id := e.createGroup(t, owner).GetId()
	e.join(t, alice, id)
	e.join(t, carol, id)

	before := time.Now()
	_, err := e.groups.QuitGroup(owner.ctx, &grouppb.QuitGroupRequest{Id: id, UserId: carol.id})
	require.NoError(t, err)
	var kickedBy int64
	var kickedAt time.Time
	require.NoError(t, e.pool.QueryRow(context.Background(),
		"SELECT kicked_by, kicked_at FROM groups.kicks WHERE group_id = $1 AND user_id = $2", int64(id), int64(carol.id)).Scan(&kickedBy, &kickedAt))
	require.Equal(t, int64(owner.id), kickedBy)
	require.WithinDuration(t, before, kickedAt, time.Minute)

	_, err = e.groups.JoinGroup(carol.ctx, &grouppb.JoinGroupRequest{Id: id})
	st := testkit.RequireCode(t, err, codes.PermissionDenied)
	require.Contains(t, st.Message(), "removed from this group: only its owner or an admin can add you back")
	_, err = e.groups.JoinGroup(carol.ctx, &grouppb.JoinGroupRequest{Id: id, UserId: carol.id})
	testkit.RequireCode(t, err, codes.PermissionDenied)
	_, err = e.groups.JoinGroup(alice.ctx, &grouppb.JoinGroupRequest{Id: id, UserId: carol.id})
	testkit.RequireCode(t, err, codes.PermissionDenied)
	require.False(t, e.isMember(t, id, carol.id), "a refused join writes nothing")
	require.Equal(t, sorted(owner.id, alice.id), e.memberIDs(t, id))

	_, err = e.groups.JoinGroup(owner.ctx, &grouppb.JoinGroupRequest{Id: id, UserId: carol.id})
	require.NoError(t, err, "the owner may add a removed member back")
	require.True(t, e.isMember(t, id, carol.id))
	var kicks int
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM groups.kicks WHERE group_id = $1", int64(id)).Scan(&kicks))
	require.Zero(t, kicks, "the owner's invitation lifts the kick")

	_, err = e.groups.QuitGroup(carol.ctx, &grouppb.QuitGroupRequest{Id: id})
	require.NoError(t, err)
	e.join(t, carol, id) // leaving by oneself is no kick
}
