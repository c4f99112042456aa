package main

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/grouppb"
)

// badGroupCases are the GroupService's rows of badUnaryCases.
func badGroupCases(t *testing.T, e *badEnv, f badFixtures) badTable {
	var table badTable
	add := table.add
	huge := badOversized(e.cfg)
	add(grouppb.GroupService_CreateGroup_FullMethodName,
		badCase{name: "empty name", req: &grouppb.CreateGroupRequest{}, code: IA, want: "name"},
		badCase{name: "blank name", req: &grouppb.CreateGroupRequest{Name: " \t "}, code: IA, want: "name"},
		badCase{name: "name of 65", req: &grouppb.CreateGroupRequest{Name: badRunes(65)}, code: IA, want: "name"},
		badCase{name: "name with NUL", req: &grouppb.CreateGroupRequest{Name: "g\x00"}, code: IA, want: "name"},
		badCase{name: "name invalid UTF-8", req: badWire(badStr(1, "g"+bad)), code: IA, want: "invalid UTF-8"},
		badCase{name: "introduction of 1001", req: &grouppb.CreateGroupRequest{Name: "g", Introduction: badRunes(1001)}, code: IA, want: "introduction"},
		badCase{name: "introduction with NUL", req: &grouppb.CreateGroupRequest{Name: "g", Introduction: "a\x00b"}, code: IA, want: "introduction"},
		badCase{name: "avatar file url", req: &grouppb.CreateGroupRequest{Name: "g", AvatarUrl: "file:///etc/passwd"}, code: IA, want: "avatar_url"},
		badCase{name: "over the receive limit", req: &grouppb.CreateGroupRequest{Name: "g", Introduction: huge}, code: RE, want: tooLarge},
	)
	add(grouppb.GroupService_UpdateGroup_FullMethodName,
		badCase{name: "id 0", req: &grouppb.UpdateGroupRequest{Name: "g"}, code: IA, want: "id"},
		badCase{name: "id max", req: &grouppb.UpdateGroupRequest{Id: badMaxID, Name: "g"}, code: NF, want: "group"},
		badCase{name: "name of 65", req: &grouppb.UpdateGroupRequest{Id: f.group, Name: badRunes(65)}, code: IA, want: "name"},
		badCase{name: "name with NUL", req: &grouppb.UpdateGroupRequest{Id: f.group, Name: "\x00"}, code: IA, want: "name"},
		badCase{name: "introduction with NUL", req: &grouppb.UpdateGroupRequest{Id: f.group, Introduction: "\x00"}, code: IA, want: "introduction"},
		badCase{name: "avatar 1025 bytes", req: &grouppb.UpdateGroupRequest{Id: f.group, AvatarUrl: badURL(1025)}, code: IA, want: "avatar_url"},
		badCase{name: "introduction invalid UTF-8", req: badWire(badVarint(1, f.group), badStr(3, bad)), code: IA, want: "invalid UTF-8"},
		badCase{name: "join_policy 3", req: &grouppb.UpdateGroupRequest{Id: f.group, JoinPolicy: grouppb.JoinPolicy(3).Enum()}, code: IA, want: "join_policy: 3"},
		badCase{name: "join_policy -1", req: badWire(badVarint(1, f.group), badVarint(5, badMaxID)), code: IA, want: "join_policy: -1"},
		badCase{name: "join_policy unknown with a valid name", req: &grouppb.UpdateGroupRequest{Id: f.group, Name: "renamed",
			JoinPolicy: grouppb.JoinPolicy(1 << 20).Enum()}, code: IA, want: "join_policy"},
	)
	for _, m := range []string{grouppb.GroupService_GetGroup_FullMethodName, grouppb.GroupService_DeleteGroup_FullMethodName} {
		add(m,
			badCase{name: "id 0", req: badWire(), code: IA, want: "id"},
			badCase{name: "id max", req: badWire(badVarint(1, badMaxID)), code: NF, want: "group"},
		)
	}
	add(grouppb.GroupService_QueryGroup_FullMethodName,
		badCase{name: "keyword of 65", req: &grouppb.QueryGroupRequest{Keyword: badRunes(65)}, code: IA, want: "keyword"},
		badCase{name: "keyword with NUL", req: &grouppb.QueryGroupRequest{Keyword: "\x00"}, code: IA, want: "keyword"},
		badCase{name: "keyword invalid UTF-8", req: badWire(badStr(1, bad)), code: IA, want: "invalid UTF-8"},
		badCase{name: "keyword of 64 (maximal)", req: &grouppb.QueryGroupRequest{Keyword: badRunes(64)}, code: OK, check: badGroupsFound()},
		badCase{name: "page and page_size max", req: &grouppb.QueryGroupRequest{Page: badMaxID, PageSize: badMaxID}, code: OK,
			check: badPager(badMaxID, 100, &grouppb.QueryGroupResponse{})},
	)
	for _, k := range badMetaKeywords {
		add(grouppb.GroupService_QueryGroup_FullMethodName, badCase{name: "keyword " + k,
			req: &grouppb.QueryGroupRequest{Keyword: k}, code: OK, check: badGroupsFound(f.metaGroup)})
	}
	add(grouppb.GroupService_JoinGroup_FullMethodName,
		badCase{name: "id 0", req: &grouppb.JoinGroupRequest{}, code: IA, want: "id"},
		badCase{name: "id max", req: &grouppb.JoinGroupRequest{Id: badMaxID}, code: NF, want: "group"},
		badCase{name: "user_id max", req: &grouppb.JoinGroupRequest{Id: f.group, UserId: badMaxID}, code: NF, want: "user"},
	)
	add(grouppb.GroupService_QuitGroup_FullMethodName,
		badCase{name: "id 0", req: &grouppb.QuitGroupRequest{}, code: IA, want: "id"},
		badCase{name: "id max", req: &grouppb.QuitGroupRequest{Id: badMaxID}, code: NF, want: "group"},
		badCase{name: "user_id max", req: &grouppb.QuitGroupRequest{Id: f.group, UserId: badMaxID}, code: NF, want: "member"},
		badCase{name: "owner quits", req: &grouppb.QuitGroupRequest{Id: f.group}, code: codes.FailedPrecondition, want: "owner"},
	)
	add(grouppb.GroupService_GetGroupUser_FullMethodName,
		badCase{name: "id 0", req: &grouppb.GetGroupUserRequest{}, code: IA, want: "id"},
		badCase{name: "id max", req: &grouppb.GetGroupUserRequest{Id: badMaxID}, code: NF, want: "group"},
		badCase{name: "page and page_size max", req: &grouppb.GetGroupUserRequest{Id: f.group, Page: badMaxID, PageSize: badMaxID}, code: OK,
			check: badPager(badMaxID, 100, &grouppb.GetGroupUserResponse{})},
	)
	badGovernanceCases(add, f)
	return table
}

// badGovernanceCases are the rows of the governance methods. alice owns
// f.group, of which she is the only member; bob is in no group.
func badGovernanceCases(add func(string, ...badCase), f badFixtures) {
	admin := grouppb.GroupRole_GROUP_ROLE_ADMIN
	add(grouppb.GroupService_SetGroupMemberRole_FullMethodName,
		badCase{name: "empty", req: &grouppb.SetGroupMemberRoleRequest{}, code: IA, want: "group_id: is required"},
		badCase{name: "group_id 0", req: &grouppb.SetGroupMemberRoleRequest{UserId: f.bob, Role: admin}, code: IA, want: "group_id: is required"},
		badCase{name: "user_id 0", req: &grouppb.SetGroupMemberRoleRequest{GroupId: f.group, Role: admin}, code: IA, want: "user_id: is required"},
		badCase{name: "role 3", req: &grouppb.SetGroupMemberRoleRequest{GroupId: f.group, UserId: f.bob, Role: 3}, code: IA, want: "role: 3 is not one of its values"},
		badCase{name: "role -1", req: badWire(badVarint(1, f.group), badVarint(2, f.bob), badVarint(3, badMaxID)), code: IA, want: "role: -1"},
		badCase{name: "role owner", req: &grouppb.SetGroupMemberRoleRequest{GroupId: f.group, UserId: f.bob, Role: grouppb.GroupRole_GROUP_ROLE_OWNER},
			code: IA, want: "role: ownership moves with TransferGroupOwner"},
		badCase{name: "group_id max", req: &grouppb.SetGroupMemberRoleRequest{GroupId: badMaxID, UserId: f.bob, Role: admin}, code: NF, want: "group not found"},
		badCase{name: "user_id max", req: &grouppb.SetGroupMemberRoleRequest{GroupId: f.group, UserId: badMaxID, Role: admin}, code: NF, want: "not a member"},
		badCase{name: "user_id not a member", req: &grouppb.SetGroupMemberRoleRequest{GroupId: f.group, UserId: f.bob, Role: admin}, code: NF, want: "not a member"},
		badCase{name: "user_id oneself", req: &grouppb.SetGroupMemberRoleRequest{GroupId: f.group, UserId: f.alice}, code: IA, want: "yourself"},
	)
	add(grouppb.GroupService_TransferGroupOwner_FullMethodName,
		badCase{name: "group_id 0", req: &grouppb.TransferGroupOwnerRequest{UserId: f.bob}, code: IA, want: "group_id: is required"},
		badCase{name: "user_id 0", req: &grouppb.TransferGroupOwnerRequest{GroupId: f.group}, code: IA, want: "user_id: is required"},
		badCase{name: "group_id max", req: &grouppb.TransferGroupOwnerRequest{GroupId: badMaxID, UserId: f.bob}, code: NF, want: "group not found"},
		badCase{name: "user_id max", req: &grouppb.TransferGroupOwnerRequest{GroupId: f.group, UserId: badMaxID}, code: NF, want: "not a member"},
		badCase{name: "user_id not a member", req: &grouppb.TransferGroupOwnerRequest{GroupId: f.group, UserId: f.bob}, code: NF, want: "not a member"},
		badCase{name: "user_id the owner", req: &grouppb.TransferGroupOwnerRequest{GroupId: f.group, UserId: f.alice}, code: IA, want: "owner already"},
	)
	for _, m := range []string{grouppb.GroupService_ListJoinRequests_FullMethodName, grouppb.GroupService_ListGroupInvites_FullMethodName,
		grouppb.GroupService_ListGroupBans_FullMethodName} {
		add(m,
			badCase{name: "group_id 0", req: badWire(), code: IA, want: "group_id: is required"},
			badCase{name: "group_id max", req: badWire(badVarint(1, badMaxID)), code: NF, want: "group not found"},
		)
	}
	add(grouppb.GroupService_DecideJoinRequest_FullMethodName,
		badCase{name: "request_id 0", req: &grouppb.DecideJoinRequestRequest{Approve: true}, code: IA, want: "request_id: is required"},
		badCase{name: "request_id max", req: &grouppb.DecideJoinRequestRequest{RequestId: badMaxID, Approve: true}, code: NF, want: "join request not found"},
		badCase{name: "request_id unknown", req: &grouppb.DecideJoinRequestRequest{RequestId: 1 << 40}, code: NF, want: "join request not found"},
	)
	add(grouppb.GroupService_CreateGroupInvite_FullMethodName,
		badCase{name: "group_id 0", req: &grouppb.CreateGroupInviteRequest{MaxUses: 1}, code: IA, want: "group_id: is required"},
		badCase{name: "group_id max", req: &grouppb.CreateGroupInviteRequest{GroupId: badMaxID}, code: NF, want: "group not found"},
		badCase{name: "expires_at in the past", req: &grouppb.CreateGroupInviteRequest{GroupId: f.group, ExpiresAt: timestamppb.New(time.Now().Add(-time.Minute))},
			code: IA, want: "expires_at: is in the past"},
		badCase{name: "expires_at the epoch", req: &grouppb.CreateGroupInviteRequest{GroupId: f.group, ExpiresAt: &timestamppb.Timestamp{}}, code: IA, want: "expires_at"},
		badCase{name: "expires_at after year 9999", req: &grouppb.CreateGroupInviteRequest{GroupId: f.group, ExpiresAt: &timestamppb.Timestamp{Seconds: 253402300800}},
			code: IA, want: "expires_at"},
		badCase{name: "expires_at nanos out of range", req: &grouppb.CreateGroupInviteRequest{GroupId: f.group,
			ExpiresAt: &timestamppb.Timestamp{Seconds: time.Now().Add(time.Hour).Unix(), Nanos: 1e9}}, code: IA, want: "expires_at"},
	)
	for _, m := range []string{grouppb.GroupService_RevokeGroupInvite_FullMethodName, grouppb.GroupService_JoinGroupByInvite_FullMethodName} {
		add(m,
			badCase{name: "code empty", req: badWire(), code: IA, want: "code: is required"},
			badCase{name: "code of 65", req: badWire(badStr(1, badX(65))), code: IA, want: "code: must be 1–64 characters"},
			badCase{name: "code of 65 runes", req: badWire(badStr(1, badRunes(65))), code: IA, want: "code"},
			badCase{name: "code invalid UTF-8", req: badWire(badStr(1, "c"+bad)), code: IA, want: "invalid UTF-8"},
			badCase{name: "code with NUL", req: badWire(badStr(1, "c\x00")), code: IA, want: "code"},
			badCase{name: "code unknown", req: badWire(badStr(1, "AAAAAAAAAAAAAAAAAAAAAA")), code: NF, want: "invite code not found"},
			badCase{name: "code of 64 (maximal), unknown", req: badWire(badStr(1, badRunes(64))), code: NF, want: "invite code not found"},
			badCase{name: "code SQL", req: badWire(badStr(1, "'; DROP TABLE groups.invites;--")), code: NF, want: "invite code not found"},
			badCase{name: "code a LIKE wildcard", req: badWire(badStr(1, "%")), code: NF, want: "invite code not found"},
		)
	}
	add(grouppb.GroupService_MuteGroupMember_FullMethodName,
		badCase{name: "group_id 0", req: &grouppb.MuteGroupMemberRequest{UserId: f.bob}, code: IA, want: "group_id: is required"},
		badCase{name: "user_id 0", req: &grouppb.MuteGroupMemberRequest{GroupId: f.group}, code: IA, want: "user_id: is required"},
		badCase{name: "until nanos out of range", req: &grouppb.MuteGroupMemberRequest{GroupId: f.group, UserId: f.bob,
			Until: &timestamppb.Timestamp{Seconds: time.Now().Add(time.Hour).Unix(), Nanos: -1}}, code: IA, want: "until"},
		badCase{name: "until after year 9999", req: &grouppb.MuteGroupMemberRequest{GroupId: f.group, UserId: f.bob,
			Until: &timestamppb.Timestamp{Seconds: 253402300800}}, code: IA, want: "until"},
		badCase{name: "group_id max", req: &grouppb.MuteGroupMemberRequest{GroupId: badMaxID, UserId: f.bob}, code: NF, want: "group not found"},
		badCase{name: "user_id max", req: &grouppb.MuteGroupMemberRequest{GroupId: f.group, UserId: badMaxID}, code: NF, want: "not a member"},
		badCase{name: "user_id not a member", req: &grouppb.MuteGroupMemberRequest{GroupId: f.group, UserId: f.bob}, code: NF, want: "not a member"},
		badCase{name: "user_id oneself", req: &grouppb.MuteGroupMemberRequest{GroupId: f.group, UserId: f.alice}, code: IA, want: "yourself"},
	)
	add(grouppb.GroupService_BanGroupMember_FullMethodName,
		badCase{name: "group_id 0", req: &grouppb.BanGroupMemberRequest{UserId: f.bob}, code: IA, want: "group_id: is required"},
		badCase{name: "user_id 0", req: &grouppb.BanGroupMemberRequest{GroupId: f.group}, code: IA, want: "user_id: is required"},
		badCase{name: "reason of 501", req: &grouppb.BanGroupMemberRequest{GroupId: f.group, UserId: f.bob, Reason: badRunes(501)}, code: IA, want: "reason: must be at most 500"},
		badCase{name: "reason with NUL", req: &grouppb.BanGroupMemberRequest{GroupId: f.group, UserId: f.bob, Reason: "spam\x00"}, code: IA, want: "reason"},
		badCase{name: "reason invalid UTF-8", req: badWire(badVarint(1, f.group), badVarint(2, f.bob), badStr(3, bad)), code: IA, want: "invalid UTF-8"},
		badCase{name: "group_id max", req: &grouppb.BanGroupMemberRequest{GroupId: badMaxID, UserId: f.bob}, code: NF, want: "group not found"},
		badCase{name: "user_id max", req: &grouppb.BanGroupMemberRequest{GroupId: f.group, UserId: badMaxID}, code: NF, want: "user"},
		badCase{name: "user_id oneself", req: &grouppb.BanGroupMemberRequest{GroupId: f.group, UserId: f.alice}, code: IA, want: "yourself"},
	)
	add(grouppb.GroupService_UnbanGroupMember_FullMethodName,
		badCase{name: "group_id 0", req: &grouppb.UnbanGroupMemberRequest{UserId: f.bob}, code: IA, want: "group_id: is required"},
		badCase{name: "user_id 0", req: &grouppb.UnbanGroupMemberRequest{GroupId: f.group}, code: IA, want: "user_id: is required"},
		badCase{name: "group_id max", req: &grouppb.UnbanGroupMemberRequest{GroupId: badMaxID, UserId: f.bob}, code: NF, want: "group not found"},
		badCase{name: "user_id max", req: &grouppb.UnbanGroupMemberRequest{GroupId: f.group, UserId: badMaxID}, code: NF, want: "not banned"},
		badCase{name: "user_id not banned", req: &grouppb.UnbanGroupMemberRequest{GroupId: f.group, UserId: f.bob}, code: NF, want: "not banned"},
	)
}
