package grouppb

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
)

// FuzzValidate decodes the input as a request, the way the gRPC codec does
// before the validator interceptor runs, and checks what Validate promises.
// kind picks the request type: an index into groupRequestTypes.
func FuzzValidate(f *testing.F) {
	const avatar = "https://example.com/g.png"
	addValidSeeds(f,
		&CreateGroupRequest{Name: "book club", Introduction: "we read\nand talk", AvatarUrl: avatar},
		&CreateGroupRequest{Name: strings.Repeat("组", MaxNameLength), Introduction: strings.Repeat("i", MaxIntroductionLength)},
		&UpdateGroupRequest{Id: 1},
		&UpdateGroupRequest{Id: 1<<64 - 1, Name: " new name ", AvatarUrl: avatar},
		&GetGroupRequest{Id: 1},
		&DeleteGroupRequest{Id: 1},
		&JoinGroupRequest{Id: 1},
		&QuitGroupRequest{Id: 1},
		&GetGroupUserRequest{Id: 1, Page: 1 << 40, PageSize: 1<<64 - 1},
		&QueryGroupRequest{Keyword: "book"},
	)
	for _, req := range []validatable{
		&CreateGroupRequest{},
		&CreateGroupRequest{Name: " \t "},
		&CreateGroupRequest{Name: strings.Repeat("n", MaxNameLength+1)},
		&CreateGroupRequest{Name: "a\x00b"},
		&CreateGroupRequest{Name: "a\u200bb\u0085"},
		&CreateGroupRequest{Name: "g", Introduction: "nul\x00"},
		&CreateGroupRequest{Name: "g", Introduction: strings.Repeat("i", MaxIntroductionLength+1)},
		&CreateGroupRequest{Name: "g", AvatarUrl: "ftp://example.com/a.png"},
		&UpdateGroupRequest{Name: "g"},
		&UpdateGroupRequest{Id: 1, Name: "a\nb"},
		&GetGroupRequest{},
		&DeleteGroupRequest{},
		&JoinGroupRequest{UserId: 5},
		&QuitGroupRequest{},
		&GetGroupUserRequest{},
		&QueryGroupRequest{Keyword: strings.Repeat("k", MaxNameLength+1)},
		&QueryGroupRequest{Keyword: "k\x00"},
	} {
		f.Add(kindOf(req), mustMarshal(f, req))
	}
	// Bytes the codec refuses: a truncated field and a string with invalid UTF-8.
	f.Add(uint8(0), []byte{0x0a, 0x05, 'a'})
	f.Add(uint8(0), []byte{0x0a, 0x02, 0xff, 0xfe})

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		checkValidate(t, groupRequestTypes, kind, data)
	})
}

// groupRequestTypes are the package's request types with a Validate method.
// Append only: committed corpus files select a type by its index.
var groupRequestTypes = []requestType{
	{newRequest: func() validatable { return new(CreateGroupRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*CreateGroupRequest)
		requireGroupFields(t, r.GetName(), r.GetIntroduction(), r.GetAvatarUrl(), false)
	}},
	{newRequest: func() validatable { return new(UpdateGroupRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*UpdateGroupRequest)
		require.NotZero(t, r.GetId())
		requireGroupFields(t, r.GetName(), r.GetIntroduction(), r.GetAvatarUrl(), true)
	}},
	{newRequest: func() validatable { return new(GetGroupRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*GetGroupRequest).GetId())
	}},
	{newRequest: func() validatable { return new(DeleteGroupRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*DeleteGroupRequest).GetId())
	}},
	{newRequest: func() validatable { return new(JoinGroupRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*JoinGroupRequest).GetId())
	}},
	{newRequest: func() validatable { return new(QuitGroupRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*QuitGroupRequest).GetId())
	}},
	{newRequest: func() validatable { return new(GetGroupUserRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*GetGroupUserRequest).GetId())
	}},
	{newRequest: func() validatable { return new(QueryGroupRequest) }, accepted: func(t *testing.T, m proto.Message) {
		keyword := strings.TrimSpace(m.(*QueryGroupRequest).GetKeyword())
		requireRunes(t, "keyword", keyword, 0, MaxNameLength)
		require.NotContains(t, keyword, "\x00")
	}},
}

// requireGroupFields: the name is stored trimmed, so the trimmed name must
// be 1–64 characters without control characters (or empty, for an update
// that keeps the stored one); the introduction is free text.
func requireGroupFields(t *testing.T, name, introduction, avatarURL string, update bool) {
	t.Helper()
	if name := strings.TrimSpace(name); name != "" || !update {
		requireRunes(t, "name", name, 1, MaxNameLength)
		requireNoControl(t, "name", name)
	}
	requireRunes(t, "introduction", introduction, 0, MaxIntroductionLength)
	require.NotContains(t, introduction, "\x00")
	requireOptionalHTTPURL(t, "avatar_url", avatarURL)
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

func allRequestTypes() []requestType { return groupRequestTypes }

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
