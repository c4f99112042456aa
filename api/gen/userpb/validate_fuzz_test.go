package userpb

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/validator"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/parley-im/parley/api/gen/commonpb"
)

// FuzzValidate decodes the input as a request, the way the gRPC codec does
// before the validator interceptor runs, and checks what Validate promises.
// kind picks the request type: an index into userRequestTypes.
func FuzzValidate(f *testing.F) {
	const avatar = "https://example.com/a.png"
	addValidSeeds(f,
		&UserCreateRequest{Nickname: "alice", Gender: commonpb.Gender_Female, AvatarUrl: avatar, Password: "secret123", PasswordRpt: "secret123"},
		&UserCreateRequest{Nickname: strings.Repeat("张", MaxNicknameLength), Password: strings.Repeat("p", MaxPasswordLength), PasswordRpt: strings.Repeat("p", MaxPasswordLength)},
		&UserLoginRequest{Nickname: " alice ", Password: "x"},
		&UserGetRequest{Id: 1},
		&UserQueryRequest{Keyword: "ali"},
		&UserQueryRequest{},
		&UpdatePasswordRequest{Password: "12345678", PasswordRpt: "12345678"},
		&UpdateAvatarRequest{Url: avatar},
		&UpdateAvatarRequest{},
		&FollowUserRequest{UserId: 1<<64 - 1},
		&UnfollowUserRequest{UserId: 7},
		&BlockUserRequest{UserId: 7},
		&UnblockUserRequest{UserId: 7},
	)
	for _, req := range []validatable{
		&UserCreateRequest{Nickname: strings.Repeat("a", MaxNicknameLength+1), Password: "secret123", PasswordRpt: "secret123"},
		&UserCreateRequest{Nickname: "   ", Password: "secret123", PasswordRpt: "secret123"},
		&UserCreateRequest{Nickname: "ali\x00ce", Password: "secret123", PasswordRpt: "secret123"},
		&UserCreateRequest{Nickname: "ali\u0085ce", Password: "secret123", PasswordRpt: "secret123"},
		&UserCreateRequest{Nickname: "alice\n", Password: "secret123", PasswordRpt: "secret123"},
		&UserCreateRequest{Nickname: "alice", Gender: 3, Password: "secret123", PasswordRpt: "secret123"},
		&UserCreateRequest{Nickname: "alice", Gender: -1, Password: "secret123", PasswordRpt: "secret123"},
		&UserCreateRequest{Nickname: "alice", AvatarUrl: "javascript:alert(1)", Password: "secret123", PasswordRpt: "secret123"},
		&UserCreateRequest{Nickname: "alice", Password: "1234567", PasswordRpt: "1234567"},
		&UserCreateRequest{Nickname: "alice", Password: "secret123", PasswordRpt: "secret124"},
		&UserLoginRequest{Nickname: "alice"},
		&UserLoginRequest{Nickname: "alice", Password: strings.Repeat("p", MaxPasswordLength+1)},
		&UserGetRequest{},
		&UserQueryRequest{Keyword: strings.Repeat("k", MaxNicknameLength+1)},
		&UserQueryRequest{Keyword: "a\x00"},
		&UpdatePasswordRequest{Password: "short", PasswordRpt: "short"},
		&UpdateAvatarRequest{Url: "https://example.com/" + strings.Repeat("a", 1100)},
		&UpdateAvatarRequest{Url: "http://exa mple.com"},
		&FollowUserRequest{},
		&UnfollowUserRequest{},
		&BlockUserRequest{},
		&UnblockUserRequest{},
	} {
		f.Add(kindOf(req), mustMarshal(f, req))
	}
	// Bytes the codec refuses: a truncated field and a string with invalid UTF-8.
	f.Add(uint8(0), []byte{0x0a, 0x05, 'a'})
	f.Add(uint8(0), []byte{0x0a, 0x02, 0xff, 0xfe})

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		checkValidate(t, userRequestTypes, kind, data)
	})
}

// userRequestTypes are the package's request types with a Validate method.
// Append only: committed corpus files select a type by its index.
var userRequestTypes = []requestType{
	{newRequest: func() validatable { return new(UserCreateRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*UserCreateRequest)
		requireNickname(t, r.GetNickname())
		_, defined := commonpb.Gender_name[int32(r.GetGender())]
		require.True(t, defined, "accepted gender %d", r.GetGender())
		requireOptionalHTTPURL(t, "avatar_url", r.GetAvatarUrl())
		requireNewPassword(t, r.GetPassword(), r.GetPasswordRpt())
	}},
	{newRequest: func() validatable { return new(UserLoginRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*UserLoginRequest)
		requireNickname(t, r.GetNickname())
		requireRunes(t, "password", r.GetPassword(), 1, MaxPasswordLength)
	}},
	{newRequest: func() validatable { return new(UserGetRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*UserGetRequest).GetId())
	}},
	{newRequest: func() validatable { return new(UserQueryRequest) }, accepted: func(t *testing.T, m proto.Message) {
		keyword := strings.TrimSpace(m.(*UserQueryRequest).GetKeyword())
		requireRunes(t, "keyword", keyword, 0, MaxNicknameLength)
		require.NotContains(t, keyword, "\x00")
	}},
	{newRequest: func() validatable { return new(UpdatePasswordRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*UpdatePasswordRequest)
		requireNewPassword(t, r.GetPassword(), r.GetPasswordRpt())
	}},
	{newRequest: func() validatable { return new(UpdateAvatarRequest) }, accepted: func(t *testing.T, m proto.Message) {
		requireOptionalHTTPURL(t, "url", m.(*UpdateAvatarRequest).GetUrl())
	}},
	{newRequest: func() validatable { return new(FollowUserRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*FollowUserRequest).GetUserId())
	}},
	{newRequest: func() validatable { return new(UnfollowUserRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*UnfollowUserRequest).GetUserId())
	}},
	{newRequest: func() validatable { return new(BlockUserRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*BlockUserRequest).GetUserId())
	}},
	{newRequest: func() validatable { return new(UnblockUserRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*UnblockUserRequest).GetUserId())
	}},
}

// requireNickname: the nickname is stored trimmed, so the trimmed one must
// be 1–32 characters with no control characters.
func requireNickname(t *testing.T, nickname string) {
	t.Helper()
	n := strings.TrimSpace(nickname)
	requireRunes(t, "nickname", n, 1, MaxNicknameLength)
	requireNoControl(t, "nickname", n)
}

func requireNewPassword(t *testing.T, password, repeat string) {
	t.Helper()
	requireRunes(t, "password", password, MinPasswordLength, MaxPasswordLength)
	require.Equal(t, password, repeat, "accepted a password_rpt that differs")
}

func requireRunes(t *testing.T, field, s string, min, max int) {
	t.Helper()
	n := utf8.RuneCountInString(s)
	require.True(t, n >= min && n <= max, "accepted %s of %d characters, want %d–%d", field, n, min, max)
}

func requireNoControl(t *testing.T, field, s string) {
	t.Helper()
	for _, r := range s {
		require.False(t, unicode.IsControl(r), "accepted %s %q contains the control character %U", field, s, r)
	}
}

// requireOptionalHTTPURL: empty, or an absolute http(s) URL with a host,
// at most 1024 bytes, without whitespace.
func requireOptionalHTTPURL(t *testing.T, field, s string) {
	t.Helper()
	if s != "" {
		requireHTTPURL(t, field, s)
	}
}

func requireHTTPURL(t *testing.T, field, s string) {
	t.Helper()
	require.LessOrEqual(t, len(s), 1024, "accepted %s of %d bytes", field, len(s))
	require.False(t, strings.ContainsAny(s, " \t\r\n"), "accepted %s %q with whitespace", field, s)
	u, err := url.Parse(s)
	require.NoError(t, err, "accepted %s %q", field, s)
	scheme := strings.ToLower(u.Scheme)
	require.True(t, scheme == "http" || scheme == "https", "accepted %s %q: scheme %q", field, s, u.Scheme)
	require.NotEmpty(t, u.Host, "accepted %s %q without a host", field, s)
}

// What follows is the same in every package's validate_fuzz_test.go.

type validatable interface {
	proto.Message
	Validate() error
}

// requestType is a request type and what must hold of a request of that
// type Validate accepts, checked here independently of the validator.
type requestType struct {
	newRequest func() validatable
	accepted   func(t *testing.T, req proto.Message)
}

// checkValidate decodes data as the request type kind selects and checks
// Validate: it must not panic; an error must name a field of the request
// and reach the client as InvalidArgument through the validator
// interceptor the server uses; a request it accepts must pass the handler
// and satisfy the type's accepted check.
func checkValidate(t *testing.T, types []requestType, kind uint8, data []byte) {
	rt := types[int(kind)%len(types)]
	req := rt.newRequest()
	if proto.Unmarshal(data, req) != nil {
		return // the codec refuses it before any validator runs
	}
	err := req.Validate()
	requireInterceptorAgrees(t, req, err)
	if err != nil {
		requireNamesField(t, req, err.Error())
		return
	}
	rt.accepted(t, req)
}

// requireInterceptorAgrees runs req through the server's validator
// interceptor, which calls Validate again: it must decide the same way and
// turn a refusal into InvalidArgument with a message naming a field.
func requireInterceptorAgrees(t *testing.T, req validatable, validateErr error) {
	t.Helper()
	handled := false
	_, err := validator.UnaryServerInterceptor()(context.Background(), req, &grpc.UnaryServerInfo{FullMethod: "/fuzz/Validate"},
		func(context.Context, any) (any, error) { handled = true; return nil, nil })
	if validateErr == nil {
		require.NoError(t, err)
		require.True(t, handled, "the interceptor did not call the handler for a valid request")
		return
	}
	require.False(t, handled, "the handler ran for a request Validate refused")
	st, ok := status.FromError(err)
	require.True(t, ok, "not a gRPC status: %v", err)
	require.Equal(t, codes.InvalidArgument, st.Code(), "message: %s", st.Message())
	requireNamesField(t, req, st.Message())
}

// elementIndex is the "[3]" of an error about one element of a list.
var elementIndex = regexp.MustCompile(`\[\d+\]`)

// requireNamesField requires msg to read "<field>: <what is wrong>", where
// field is a field path of req such as "text.content", "resource[2]" or
// "receiver name" (the name in the receiver map).
func requireNamesField(t *testing.T, req proto.Message, msg string) {
	t.Helper()
	path, detail, ok := strings.Cut(msg, ": ")
	require.True(t, ok && strings.TrimSpace(detail) != "", "error %q does not read \"<field>: <problem>\"", msg)
	path, _, _ = strings.Cut(path, " ")
	path = elementIndex.ReplaceAllString(path, "")
	desc := req.ProtoReflect().Descriptor()
	parts := strings.Split(path, ".")
	for i, part := range parts {
		fd := desc.Fields().ByName(protoreflect.Name(part))
		require.NotNil(t, fd, "error %q names %q, not a field of %s", msg, part, desc.FullName())
		if i < len(parts)-1 {
			desc = fd.Message()
			require.NotNil(t, desc, "error %q: %s is not a message", msg, part)
		}
	}
}

// kindOf is the kind argument that selects req's type.
func kindOf(req validatable) uint8 {
	for i, rt := range allRequestTypes() {
		if rt.newRequest().ProtoReflect().Descriptor() == req.ProtoReflect().Descriptor() {
			return uint8(i)
		}
	}
	panic("no requestType for " + string(req.ProtoReflect().Descriptor().FullName()))
}

func allRequestTypes() []requestType { return userRequestTypes }

// addValidSeeds adds requests Validate must accept, so the seeds alone
// reach every type's accepted check.
func addValidSeeds(f *testing.F, reqs ...validatable) {
	f.Helper()
	for _, req := range reqs {
		require.NoError(f, req.Validate(), "seed %v", req)
		f.Add(kindOf(req), mustMarshal(f, req))
	}
}

func mustMarshal(f *testing.F, m proto.Message) []byte {
	f.Helper()
	data, err := proto.Marshal(m)
	require.NoError(f, err)
	return data
}
