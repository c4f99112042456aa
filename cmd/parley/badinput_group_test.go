package main

import (
	"testing"

	"google.golang.org/grpc/codes"

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
	return table
}
