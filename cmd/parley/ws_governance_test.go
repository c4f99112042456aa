package main

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/grouppb"
)

// A browser takes part in a group's governance through its socket: it asks
// to join an approval group, is let in, sees the group's events pushed in
// protobuf JSON, and is refused sends while muted.
func TestWebSocketGroupGovernance(t *testing.T) {
	t.Parallel()
	e := wsServe(t)
	owner, browser := clusterSignUpOn(t, e.conn), clusterSignUpOn(t, e.conn)
	groups := grouppb.NewGroupServiceClient(e.conn)
	created, err := groups.CreateGroup(owner.ctx(), &grouppb.CreateGroupRequest{Name: "governed"})
	require.NoError(t, err)
	gid := created.GetGroup().GetId()
	approval := grouppb.JoinPolicy_JOIN_POLICY_APPROVAL
	_, err = groups.UpdateGroup(owner.ctx(), &grouppb.UpdateGroupRequest{Id: gid, JoinPolicy: &approval})
	require.NoError(t, err)

	c := wsDial(t, e)
	auth := c.call(t, "auth", map[string]string{"token": browser.token})
	require.Equal(t, "auth", auth.Cmd, "%s", auth.Data)

	asked := c.call(t, "/group.GroupService/JoinGroup", map[string]any{"id": gid})
	require.Equal(t, "/group.GroupService/JoinGroup", asked.Cmd, "%s", asked.Data)
	var request struct {
		RequestID string `json:"request_id"`
	}
	require.NoError(t, json.Unmarshal(asked.Data, &request))
	require.NotEmpty(t, request.RequestID, "an approval group answers the request's id")
	requestID, err := strconv.ParseUint(request.RequestID, 10, 64)
	require.NoError(t, err)

	_, err = groups.DecideJoinRequest(owner.ctx(), &grouppb.DecideJoinRequestRequest{RequestId: requestID, Approve: true})
	require.NoError(t, err)
	type pushed struct {
		Type       string `json:"type"`
		FromUserID string `json:"from_user_id"`
		GroupEvent struct {
			Kind    string `json:"kind"`
			ActorID string `json:"actor_id"`
			UserID  string `json:"user_id"`
			Until   string `json:"until"`
		} `json:"group_event"`
	}
	event := func() pushed {
		f := c.await(t, func(f wsFrame) bool { return f.Cmd == "message" })
		var m pushed
		require.NoError(t, json.Unmarshal(f.Data, &m), "%s", f.Data)
		return m
	}
	joined := event()
	require.Equal(t, "GROUP_EVENT", joined.Type)
	require.Equal(t, "KIND_JOINED", joined.GroupEvent.Kind)
	require.Equal(t, strconv.FormatUint(owner.id, 10), joined.GroupEvent.ActorID, "the approver let it in")
	require.Equal(t, strconv.FormatUint(browser.id, 10), joined.GroupEvent.UserID)

	until := time.Now().Add(time.Hour)
	_, err = groups.MuteGroupMember(owner.ctx(), &grouppb.MuteGroupMemberRequest{GroupId: gid, UserId: browser.id, Until: timestamppb.New(until)})
	require.NoError(t, err)
	muted := event()
	require.Equal(t, "KIND_MUTED", muted.GroupEvent.Kind)
	require.NotEmpty(t, muted.GroupEvent.Until)

	refused := c.call(t, "/message.MessageService/SendGroupTextMessage", map[string]any{"to_group_id": gid, "text": map[string]string{"content": "let me speak"}})
	require.Contains(t, wsError(t, refused, int(codes.PermissionDenied)), "muted")

	// The browser, made an admin, lists the group's invites through the socket.
	_, err = groups.SetGroupMemberRole(owner.ctx(), &grouppb.SetGroupMemberRoleRequest{GroupId: gid, UserId: browser.id, Role: grouppb.GroupRole_GROUP_ROLE_ADMIN})
	require.NoError(t, err)
	require.Equal(t, "KIND_ROLE_CHANGED", event().GroupEvent.Kind)
	made := c.call(t, "/group.GroupService/CreateGroupInvite", map[string]any{"group_id": gid, "max_uses": 3})
	require.Equal(t, "/group.GroupService/CreateGroupInvite", made.Cmd, "%s", made.Data)
	var invite struct {
		Code string `json:"code"`
	}
	require.NoError(t, json.Unmarshal(made.Data, &invite))
	require.Len(t, invite.Code, 22)
}
