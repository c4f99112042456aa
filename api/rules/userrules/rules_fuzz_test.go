package userrules

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/userpb"

	"github.com/parley-im/parley/platform/validate/validatefuzz"
)

// FuzzValidate decodes the input as a request, the way the gRPC codec does
// before the validation interceptor runs, and checks what the rules promise.
// kind picks the request type: an index into userRequestTypes.
func FuzzValidate(f *testing.F) {
	const avatar = "https://example.com/a.png"
	// The longest password, of no pattern zxcvbn knows.
	longest := make([]byte, MaxPasswordLength)
	for i := range longest {
		longest[i] = byte('!' + (i*37+i*i)%94)
	}
	userRequestTypes.AddValidSeeds(f,
		&userpb.UserCreateRequest{Nickname: "alice", Gender: commonpb.Gender_Female, AvatarUrl: avatar, Password: "secret123", PasswordRpt: "secret123"},
		&userpb.UserCreateRequest{Nickname: strings.Repeat("张", MaxNicknameLength), Password: string(longest), PasswordRpt: string(longest)},
		&userpb.UserLoginRequest{Nickname: " alice ", Password: "x"},
		&userpb.UserGetRequest{Id: 1},
		&userpb.UserQueryRequest{Keyword: "ali"},
		&userpb.UserQueryRequest{},
		&userpb.UpdatePasswordRequest{Password: "new-secret-1", PasswordRpt: "new-secret-1"},
		&userpb.UpdateAvatarRequest{Url: avatar},
		&userpb.UpdateAvatarRequest{},
		&userpb.FollowUserRequest{UserId: 1<<64 - 1},
		&userpb.UnfollowUserRequest{UserId: 7},
		&userpb.BlockUserRequest{UserId: 7},
		&userpb.UnblockUserRequest{UserId: 7},
		&userpb.GetPresenceRequest{UserId: []uint64{7}},
		&userpb.GetPresenceRequest{UserId: presenceIDs(MaxPresenceIDs)},
		&userpb.GetPresenceRequest{UserId: []uint64{7, 7, 1<<64 - 1}},
		&userpb.UpdatePrivacyRequest{HidePresence: true},
		&userpb.UpdatePrivacyRequest{},
		&userpb.GetPrivacyRequest{},
	)
	userRequestTypes.AddSeeds(f,
		// The commonest passwords, and spaces.
		&userpb.UpdatePasswordRequest{Password: "12345678", PasswordRpt: "12345678"},
		&userpb.UpdatePasswordRequest{Password: "password", PasswordRpt: "password"},
		&userpb.UpdatePasswordRequest{Password: "        ", PasswordRpt: "        "},
		&userpb.UserCreateRequest{Nickname: "alice", Password: "alice123", PasswordRpt: "alice123"},
		&userpb.UserCreateRequest{Nickname: strings.Repeat("a", MaxNicknameLength+1), Password: "secret123", PasswordRpt: "secret123"},
		&userpb.UserCreateRequest{Nickname: "   ", Password: "secret123", PasswordRpt: "secret123"},
		&userpb.UserCreateRequest{Nickname: "ali\x00ce", Password: "secret123", PasswordRpt: "secret123"},
		&userpb.UserCreateRequest{Nickname: "ali\u0085ce", Password: "secret123", PasswordRpt: "secret123"},
		&userpb.UserCreateRequest{Nickname: "alice\n", Password: "secret123", PasswordRpt: "secret123"},
		&userpb.UserCreateRequest{Nickname: "alice\u200b", Password: "secret123", PasswordRpt: "secret123"},
		&userpb.UserCreateRequest{Nickname: "alice\u2800", Password: "secret123", PasswordRpt: "secret123"},
		&userpb.UserCreateRequest{Nickname: "\u202eecila", Password: "secret123", PasswordRpt: "secret123"},
		&userpb.UserCreateRequest{Nickname: "alice", Gender: 3, Password: "secret123", PasswordRpt: "secret123"},
		&userpb.UserCreateRequest{Nickname: "alice", Gender: -1, Password: "secret123", PasswordRpt: "secret123"},
		&userpb.UserCreateRequest{Nickname: "alice", AvatarUrl: "javascript:alert(1)", Password: "secret123", PasswordRpt: "secret123"},
		&userpb.UserCreateRequest{Nickname: "alice", Password: "1234567", PasswordRpt: "1234567"},
		&userpb.UserCreateRequest{Nickname: "alice", Password: "secret123", PasswordRpt: "secret124"},
		&userpb.UserLoginRequest{Nickname: "alice"},
		&userpb.UserLoginRequest{Nickname: "alice", Password: strings.Repeat("p", MaxPasswordLength+1)},
		&userpb.UserGetRequest{},
		&userpb.UserQueryRequest{Keyword: strings.Repeat("k", MaxNicknameLength+1)},
		&userpb.UserQueryRequest{Keyword: "a\x00"},
		&userpb.UpdatePasswordRequest{Password: "short", PasswordRpt: "short"},
		&userpb.UpdateAvatarRequest{Url: "https://example.com/" + strings.Repeat("a", 1100)},
		&userpb.UpdateAvatarRequest{Url: "http://exa mple.com"},
		&userpb.FollowUserRequest{},
		&userpb.UnfollowUserRequest{},
		&userpb.BlockUserRequest{},
		&userpb.UnblockUserRequest{},
		&userpb.GetPresenceRequest{},
		&userpb.GetPresenceRequest{UserId: presenceIDs(MaxPresenceIDs + 1)},
		&userpb.GetPresenceRequest{UserId: []uint64{7, 0}},
	)
	// Bytes the codec refuses: a truncated field and a string with invalid UTF-8.
	f.Add(uint8(0), []byte{0x0a, 0x05, 'a'})
	f.Add(uint8(0), []byte{0x0a, 0x02, 0xff, 0xfe})

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		userRequestTypes.Check(t, kind, data)
	})
}

// userRequestTypes are the package's request types with rules.
// Append only: committed corpus files select a type by its index.
var userRequestTypes = validatefuzz.NewTypes(Rules, []validatefuzz.Type{
	{New: func() validatefuzz.Request { return new(userpb.UserCreateRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*userpb.UserCreateRequest)
		validatefuzz.RequireVisibleName(t, "nickname", r.GetNickname(), MaxNicknameLength)
		_, defined := commonpb.Gender_name[int32(r.GetGender())]
		require.True(t, defined, "accepted gender %d", r.GetGender())
		validatefuzz.RequireOptionalHTTPURL(t, "avatar_url", r.GetAvatarUrl())
		requireNewPassword(t, r.GetPassword(), r.GetPasswordRpt())
	}},
	{New: func() validatefuzz.Request { return new(userpb.UserLoginRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*userpb.UserLoginRequest)
		requireNickname(t, r.GetNickname())
		validatefuzz.RequireRunes(t, "password", r.GetPassword(), 1, MaxPasswordLength)
	}},
	{New: func() validatefuzz.Request { return new(userpb.UserGetRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*userpb.UserGetRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(userpb.UserQueryRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		keyword := strings.TrimSpace(m.(*userpb.UserQueryRequest).GetKeyword())
		validatefuzz.RequireRunes(t, "keyword", keyword, 0, MaxNicknameLength)
		require.NotContains(t, keyword, "\x00")
	}},
	{New: func() validatefuzz.Request { return new(userpb.UpdatePasswordRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*userpb.UpdatePasswordRequest)
		requireNewPassword(t, r.GetPassword(), r.GetPasswordRpt())
	}},
	{New: func() validatefuzz.Request { return new(userpb.UpdateAvatarRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		validatefuzz.RequireOptionalHTTPURL(t, "url", m.(*userpb.UpdateAvatarRequest).GetUrl())
	}},
	{New: func() validatefuzz.Request { return new(userpb.FollowUserRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*userpb.FollowUserRequest).GetUserId())
	}},
	{New: func() validatefuzz.Request { return new(userpb.UnfollowUserRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*userpb.UnfollowUserRequest).GetUserId())
	}},
	{New: func() validatefuzz.Request { return new(userpb.BlockUserRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*userpb.BlockUserRequest).GetUserId())
	}},
	{New: func() validatefuzz.Request { return new(userpb.UnblockUserRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*userpb.UnblockUserRequest).GetUserId())
	}},
	{New: func() validatefuzz.Request { return new(userpb.GetPresenceRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		ids := m.(*userpb.GetPresenceRequest).GetUserId()
		require.NotEmpty(t, ids, "accepted no ids")
		require.LessOrEqual(t, len(ids), MaxPresenceIDs, "accepted more than %d ids", MaxPresenceIDs)
		require.NotContains(t, ids, uint64(0), "accepted id 0")
	}},
	// Any bool, and nothing: every request decodes to a valid one.
	{New: func() validatefuzz.Request { return new(userpb.UpdatePrivacyRequest) }, Accepted: func(*testing.T, proto.Message) {}},
	{New: func() validatefuzz.Request { return new(userpb.GetPrivacyRequest) }, Accepted: func(*testing.T, proto.Message) {}},
})

// presenceIDs is n distinct user ids.
func presenceIDs(n int) []uint64 {
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i + 1)
	}
	return ids
}

// requireNickname: a nickname at login is looked up trimmed, so the trimmed
// one must be 1–32 characters with no control characters.
func requireNickname(t *testing.T, nickname string) {
	t.Helper()
	n := strings.TrimSpace(nickname)
	validatefuzz.RequireRunes(t, "nickname", n, 1, MaxNicknameLength)
	validatefuzz.RequireNoControl(t, "nickname", n)
}

func requireNewPassword(t *testing.T, password, repeat string) {
	t.Helper()
	validatefuzz.RequireRunes(t, "password", password, MinPasswordLength, MaxPasswordLength)
	require.NotEmpty(t, strings.TrimSpace(password), "accepted a password of spaces only")
	for _, common := range []string{"password", "12345678", "123456789", "qwertyuiop", "iloveyou", "password1"} {
		require.NotEqual(t, common, strings.ToLower(password), "accepted one of the commonest passwords")
	}
	require.Equal(t, password, repeat, "accepted a password_rpt that differs")
}
