package group_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/platform/testkit"
)

// The member cap holds on every path that adds a member: an approved
// request and an invite code stop at it as a join does, and the refusal
// leaves the request pending and the code unused.
func TestMemberCapOnEveryPath(t *testing.T) {
	t.Parallel()
	e := setup(t, 2)
	owner, first, late := e.newUser(t), e.newUser(t), e.newUser(t)
	g := e.createGroup(t, owner)
	approval := grouppb.JoinPolicy_JOIN_POLICY_APPROVAL
	_, err := e.groups.UpdateGroup(owner.ctx, &grouppb.UpdateGroupRequest{Id: g.GetId(), JoinPolicy: &approval})
	require.NoError(t, err)

	asked, err := e.groups.JoinGroup(late.ctx, &grouppb.JoinGroupRequest{Id: g.GetId()})
	require.NoError(t, err)
	require.NotZero(t, asked.GetRequestId())
	invite, err := e.groups.CreateGroupInvite(owner.ctx, &grouppb.CreateGroupInviteRequest{GroupId: g.GetId(), MaxUses: 1})
	require.NoError(t, err)
	_, err = e.groups.JoinGroup(owner.ctx, &grouppb.JoinGroupRequest{Id: g.GetId(), UserId: first.id})
	require.NoError(t, err) // the group is full: owner and first

	_, err = e.groups.DecideJoinRequest(owner.ctx, &grouppb.DecideJoinRequestRequest{RequestId: asked.GetRequestId(), Approve: true})
	testkit.RequireCode(t, err, codes.FailedPrecondition)
	_, err = e.groups.JoinGroupByInvite(late.ctx, &grouppb.JoinGroupByInviteRequest{Code: invite.GetCode()})
	testkit.RequireCode(t, err, codes.FailedPrecondition)
	require.Equal(t, sorted(owner.id, first.id), e.memberIDs(t, g.GetId()))

	pending, err := e.groups.ListJoinRequests(owner.ctx, &grouppb.ListJoinRequestsRequest{GroupId: g.GetId()})
	require.NoError(t, err)
	require.Len(t, pending.GetRequest(), 1, "the refused approval left the request pending")
	invites, err := e.groups.ListGroupInvites(owner.ctx, &grouppb.ListGroupInvitesRequest{GroupId: g.GetId()})
	require.NoError(t, err)
	require.Len(t, invites.GetInvite(), 1)
	require.Zero(t, invites.GetInvite()[0].GetUses(), "the refused join used nothing")

	// Room again: both paths work.
	_, err = e.groups.QuitGroup(first.ctx, &grouppb.QuitGroupRequest{Id: g.GetId()})
	require.NoError(t, err)
	_, err = e.groups.JoinGroupByInvite(late.ctx, &grouppb.JoinGroupByInviteRequest{Code: invite.GetCode()})
	require.NoError(t, err)
	require.True(t, e.isMember(t, g.GetId(), late.id))
}

// A group holds at most 100 usable invite codes and 1,000 pending
// requests; a refusal writes nothing, and a code that stops being usable
// (revoked) frees its place.
func TestGovernanceLimits(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner := e.newUser(t)
	g := e.createGroup(t, owner)

	var codes100 []string
	for i := range 100 {
		inv, err := e.groups.CreateGroupInvite(owner.ctx, &grouppb.CreateGroupInviteRequest{GroupId: g.GetId()})
		require.NoError(t, err, "invite %d", i)
		codes100 = append(codes100, inv.GetCode())
	}
	_, err := e.groups.CreateGroupInvite(owner.ctx, &grouppb.CreateGroupInviteRequest{GroupId: g.GetId()})
	testkit.RequireCode(t, err, codes.ResourceExhausted)
	_, err = e.groups.RevokeGroupInvite(owner.ctx, &grouppb.RevokeGroupInviteRequest{Code: codes100[0]})
	require.NoError(t, err)
	_, err = e.groups.CreateGroupInvite(owner.ctx, &grouppb.CreateGroupInviteRequest{GroupId: g.GetId()})
	require.NoError(t, err, "a revoked code frees its place")

	// 1,000 requests, filed by SQL: signing up 1,000 users would take long.
	ctx := context.Background()
	_, err = e.pool.Exec(ctx, `
		INSERT INTO groups.join_requests (group_id, user_id)
		SELECT $1, u FROM generate_series(1000000001, 1000001000) AS u`, int64(g.GetId()))
	require.NoError(t, err)
	approval := grouppb.JoinPolicy_JOIN_POLICY_APPROVAL
	_, err = e.groups.UpdateGroup(owner.ctx, &grouppb.UpdateGroupRequest{Id: g.GetId(), JoinPolicy: &approval})
	require.NoError(t, err)
	one := e.newUser(t)
	_, err = e.groups.JoinGroup(one.ctx, &grouppb.JoinGroupRequest{Id: g.GetId()})
	testkit.RequireCode(t, err, codes.ResourceExhausted)
	var pending int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM groups.join_requests WHERE group_id = $1`, int64(g.GetId())).Scan(&pending))
	require.Equal(t, 1000, pending, "the refused request was not kept")
}

// Unmuting a member who is not muted changes nothing: no event.
func TestUnmutingTheUnmutedRecordsNothing(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, member := e.newUser(t), e.newUser(t)
	g := e.createGroup(t, owner)
	e.join(t, member, g.GetId())
	ctx := context.Background()
	// Events stored in the conversation, once the relay has stored all.
	events := func() int {
		var outbox, stored int
		require.Eventually(t, func() bool {
			require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM groups.events WHERE group_id = $1`, int64(g.GetId())).Scan(&outbox))
			return outbox == 0
		}, 10*time.Second, 20*time.Millisecond)
		require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM messages.messages WHERE conversation_id = $1`,
			fmt.Sprintf("g:%d", g.GetId())).Scan(&stored))
		return stored
	}
	require.Equal(t, 1, events(), "the join's event")
	_, err := e.groups.MuteGroupMember(owner.ctx, &grouppb.MuteGroupMemberRequest{GroupId: g.GetId(), UserId: member.id})
	require.NoError(t, err)
	require.Equal(t, 1, events(), "no event was recorded")
}
