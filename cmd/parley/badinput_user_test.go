package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/userpb"
)

// badUserCases are the UserService's rows of badUnaryCases.
func badUserCases(t *testing.T, e *badEnv, f badFixtures) badTable {
	var table badTable
	add := table.add
	huge := badOversized(e.cfg)
	newUser := func(nickname string) *userpb.UserCreateRequest {
		return &userpb.UserCreateRequest{Nickname: nickname, Password: badPassword, PasswordRpt: badPassword}
	}
	add(userpb.UserService_CreateUser_FullMethodName,
		badCase{name: "empty nickname", as: "none", req: newUser(""), code: IA, want: "nickname"},
		badCase{name: "blank nickname", as: "none", req: newUser("   "), code: IA, want: "nickname"},
		badCase{name: "nickname of 33 characters", as: "none", req: newUser(badRunes(33)), code: IA, want: "nickname"},
		badCase{name: "nickname with NUL", as: "none", req: newUser("ann\x00ie"), code: IA, want: "nickname"},
		badCase{name: "nickname with newline", as: "none", req: newUser("ann\nie"), code: IA, want: "nickname"},
		badCase{name: "nickname invalid UTF-8", as: "none", code: IA, want: "invalid UTF-8",
			req: badWire(badStr(1, "ann"+bad), badStr(4, badPassword), badStr(5, badPassword))},
		badCase{name: "nickname taken (SQL metacharacters)", as: "none", code: codes.AlreadyExists, want: "nickname",
			req: newUser(strings.ToUpper(badMetaChars))},
		badCase{name: "unknown gender", as: "none", code: IA, want: "gender",
			req: &userpb.UserCreateRequest{Nickname: "gender99", Gender: 99, Password: badPassword, PasswordRpt: badPassword}},
		badCase{name: "negative gender", as: "none", code: IA, want: "gender",
			req: &userpb.UserCreateRequest{Nickname: "genderneg", Gender: -1, Password: badPassword, PasswordRpt: badPassword}},
		badCase{name: "avatar not http", as: "none", code: IA, want: "avatar_url",
			req: &userpb.UserCreateRequest{Nickname: "avjs", AvatarUrl: "javascript:alert(1)", Password: badPassword, PasswordRpt: badPassword}},
		badCase{name: "avatar of 1025 bytes", as: "none", code: IA, want: "avatar_url",
			req: &userpb.UserCreateRequest{Nickname: "avlong", AvatarUrl: badURL(1025), Password: badPassword, PasswordRpt: badPassword}},
		badCase{name: "avatar with NUL", as: "none", code: IA, want: "avatar_url",
			req: &userpb.UserCreateRequest{Nickname: "avnul", AvatarUrl: "https://example.com/\x00.png", Password: badPassword, PasswordRpt: badPassword}},
		badCase{name: "empty password", as: "none", code: IA, want: "password",
			req: &userpb.UserCreateRequest{Nickname: "pwempty"}},
		badCase{name: "password of 7", as: "none", code: IA, want: "password",
			req: &userpb.UserCreateRequest{Nickname: "pw7", Password: badX(7), PasswordRpt: badX(7)}},
		badCase{name: "password of 129", as: "none", code: IA, want: "password",
			req: &userpb.UserCreateRequest{Nickname: "pw129", Password: badX(129), PasswordRpt: badX(129)}},
		badCase{name: "password_rpt differs", as: "none", code: IA, want: "password_rpt",
			req: &userpb.UserCreateRequest{Nickname: "pwrpt", Password: badPassword, PasswordRpt: badPassword + "!"}},
		badCase{name: "over the receive limit", as: "none", req: newUser(huge), code: RE, want: tooLarge},
	)
	add(userpb.UserService_UserLogin_FullMethodName,
		badCase{name: "empty", as: "none", req: &userpb.UserLoginRequest{}, code: IA, want: "nickname"},
		badCase{name: "nickname of 33", as: "none", req: &userpb.UserLoginRequest{Nickname: badRunes(33), Password: badPassword}, code: IA, want: "nickname"},
		badCase{name: "nickname with NUL", as: "none", req: &userpb.UserLoginRequest{Nickname: "a\x00", Password: badPassword}, code: IA, want: "nickname"},
		badCase{name: "nickname invalid UTF-8", as: "none", req: badWire(badStr(1, bad), badStr(2, badPassword)), code: IA, want: "invalid UTF-8"},
		badCase{name: "empty password", as: "none", req: &userpb.UserLoginRequest{Nickname: "ann"}, code: IA, want: "password"},
		badCase{name: "password of 129", as: "none", req: &userpb.UserLoginRequest{Nickname: "ann", Password: badX(129)}, code: IA, want: "password"},
		badCase{name: "over the receive limit", as: "none", req: &userpb.UserLoginRequest{Nickname: "ann", Password: huge}, code: RE, want: tooLarge},
	)
	add(userpb.UserService_GetUser_FullMethodName,
		badCase{name: "id 0", req: &userpb.UserGetRequest{}, code: IA, want: "id"},
		badCase{name: "id max", req: &userpb.UserGetRequest{Id: badMaxID}, code: NF, want: "user"},
	)
	add(userpb.UserService_QueryUser_FullMethodName,
		badCase{name: "keyword of 33", req: &userpb.UserQueryRequest{Keyword: badRunes(33)}, code: IA, want: "keyword"},
		badCase{name: "keyword with NUL", req: &userpb.UserQueryRequest{Keyword: "a\x00"}, code: IA, want: "keyword"},
		badCase{name: "keyword invalid UTF-8", req: badWire(badStr(1, "a"+bad)), code: IA, want: "invalid UTF-8"},
		badCase{name: "keyword of 32 (maximal)", req: &userpb.UserQueryRequest{Keyword: badRunes(32)}, code: OK, check: badUsersFound()},
		badCase{name: "page_size max", req: &userpb.UserQueryRequest{PageSize: badMaxID}, code: OK,
			check: badPager(1, 100, &userpb.UserQueryResponse{})},
		badCase{name: "page max", req: &userpb.UserQueryRequest{Page: badMaxID, PageSize: badMaxID}, code: OK,
			check: func(t *testing.T, raw badRaw) {
				badPager(badMaxID, 100, &userpb.UserQueryResponse{})(t, raw)
				badUsersFound()(t, raw)
			}},
		badCase{name: "over the receive limit", req: &userpb.UserQueryRequest{Keyword: huge}, code: RE, want: tooLarge},
	)
	for _, k := range badMetaKeywords {
		add(userpb.UserService_QueryUser_FullMethodName, badCase{name: "keyword " + k,
			req: &userpb.UserQueryRequest{Keyword: k}, code: OK, check: badUsersFound(f.meta)})
	}
	add(userpb.UserService_UpdatePassword_FullMethodName,
		badCase{name: "empty", req: &userpb.UpdatePasswordRequest{}, code: IA, want: "password"},
		badCase{name: "password of 129", req: &userpb.UpdatePasswordRequest{Password: badX(129), PasswordRpt: badX(129)}, code: IA, want: "password"},
		badCase{name: "password_rpt differs", req: &userpb.UpdatePasswordRequest{Password: "new-secret-1", PasswordRpt: "new-secret-2"}, code: IA, want: "password_rpt"},
		badCase{name: "invalid UTF-8", req: badWire(badStr(1, bad+badX(8)), badStr(2, bad+badX(8))), code: IA, want: "invalid UTF-8"},
		badCase{name: "over the receive limit", req: &userpb.UpdatePasswordRequest{Password: huge}, code: RE, want: tooLarge},
	)
	add(userpb.UserService_UpdateAvatar_FullMethodName,
		badCase{name: "ftp url", req: &userpb.UpdateAvatarRequest{Url: "ftp://example.com/a.png"}, code: IA, want: "url"},
		badCase{name: "no host", req: &userpb.UpdateAvatarRequest{Url: "https://"}, code: IA, want: "url"},
		badCase{name: "1025 bytes", req: &userpb.UpdateAvatarRequest{Url: badURL(1025)}, code: IA, want: "url"},
		badCase{name: "NUL", req: &userpb.UpdateAvatarRequest{Url: "https://example.com/\x00"}, code: IA, want: "url"},
		badCase{name: "SQL metacharacters", req: &userpb.UpdateAvatarRequest{Url: "'; DROP TABLE users.users;--"}, code: IA, want: "url"},
		badCase{name: "invalid UTF-8", req: badWire(badStr(1, "https://example.com/"+bad)), code: IA, want: "invalid UTF-8"},
	)
	for _, m := range []string{userpb.UserService_FollowUser_FullMethodName, userpb.UserService_BlockUser_FullMethodName} {
		add(m,
			badCase{name: "user_id 0", req: badWire(), code: IA, want: "user_id"},
			badCase{name: "user_id max", req: badWire(badVarint(1, badMaxID)), code: NF, want: "user"},
			badCase{name: "self", req: badWire(badVarint(1, f.alice)), code: IA, want: "yourself"},
		)
	}
	// Undoing what was never done is idempotent: OK, and nothing changes.
	for _, m := range []string{userpb.UserService_UnfollowUser_FullMethodName, userpb.UserService_UnblockUser_FullMethodName} {
		add(m,
			badCase{name: "user_id 0", req: badWire(), code: IA, want: "user_id"},
			badCase{name: "user_id max", req: badWire(badVarint(1, badMaxID)), code: OK},
		)
	}
	for _, m := range []string{userpb.UserService_ListFollowing_FullMethodName, userpb.UserService_ListFollowers_FullMethodName} {
		add(m,
			badCase{name: "user_id max", req: badWire(badVarint(1, badMaxID)), code: NF, want: "user"},
			badCase{name: "page and page_size max", req: badWire(badVarint(2, badMaxID), badVarint(3, badMaxID)), code: OK,
				check: badPager(badMaxID, 100, &userpb.ListFollowingResponse{})},
		)
	}
	add(userpb.UserService_ListBlocked_FullMethodName,
		badCase{name: "page and page_size max", req: &userpb.ListBlockedRequest{Page: badMaxID, PageSize: badMaxID}, code: OK,
			check: badPager(badMaxID, 100, &userpb.ListBlockedResponse{})},
	)
	presenceIDs := func(n int) []uint64 {
		ids := make([]uint64, n)
		for i := range ids {
			ids[i] = badMaxID - uint64(i)
		}
		return ids
	}
	add(userpb.UserService_GetPresence_FullMethodName,
		badCase{name: "no ids", req: badWire(), code: IA, want: "user_id"},
		badCase{name: "201 ids", req: &userpb.GetPresenceRequest{UserId: presenceIDs(201)}, code: IA, want: "user_id"},
		badCase{name: "id 0", req: &userpb.GetPresenceRequest{UserId: []uint64{f.bob, 0}}, code: IA, want: "user_id"},
		badCase{name: "not packed varints", req: badWire(badStr(1, "\xff")), code: IA, want: "not a valid"},
		badCase{name: "200 unknown ids (maximal): left out", req: &userpb.GetPresenceRequest{UserId: presenceIDs(200)}, code: OK,
			check: func(t *testing.T, raw badRaw) {
				var resp userpb.GetPresenceResponse
				badDecode(t, raw, &resp)
				require.Empty(t, resp.GetPresence())
			}},
		badCase{name: "over the receive limit", req: badWire(badStr(1, strings.Repeat("\x01", e.cfg.MaxRecvMsgBytes+1))), code: RE, want: tooLarge},
	)
	// The setting as it is: OK, and nothing changes.
	add(userpb.UserService_UpdatePrivacy_FullMethodName,
		badCase{name: "unchanged", req: badWire(), code: OK, check: func(t *testing.T, raw badRaw) {
			var resp userpb.UpdatePrivacyResponse
			badDecode(t, raw, &resp)
			require.False(t, resp.GetHidePresence())
		}},
	)
	add(userpb.UserService_GetPrivacy_FullMethodName,
		badCase{name: "unknown field", req: badWire(badStr(9, "x")), code: OK},
	)
	return table
}
