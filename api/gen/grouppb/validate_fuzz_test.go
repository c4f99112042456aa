package grouppb

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/platform/validate/validatefuzz"
)

// FuzzValidate decodes the input as a request, the way the gRPC codec does
// before the validator interceptor runs, and checks what Validate promises.
// kind picks the request type: an index into groupRequestTypes.
func FuzzValidate(f *testing.F) {
	const avatar = "https://example.com/g.png"
	groupRequestTypes.AddValidSeeds(f,
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
	groupRequestTypes.AddSeeds(f,
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
	)
	// Bytes the codec refuses: a truncated field and a string with invalid UTF-8.
	f.Add(uint8(0), []byte{0x0a, 0x05, 'a'})
	f.Add(uint8(0), []byte{0x0a, 0x02, 0xff, 0xfe})

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		groupRequestTypes.Check(t, kind, data)
	})
}

// groupRequestTypes are the package's request types with a Validate method.
// Append only: committed corpus files select a type by its index.
var groupRequestTypes = validatefuzz.Types{
	{New: func() validatefuzz.Request { return new(CreateGroupRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*CreateGroupRequest)
		requireGroupFields(t, r.GetName(), r.GetIntroduction(), r.GetAvatarUrl(), false)
	}},
	{New: func() validatefuzz.Request { return new(UpdateGroupRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*UpdateGroupRequest)
		require.NotZero(t, r.GetId())
		requireGroupFields(t, r.GetName(), r.GetIntroduction(), r.GetAvatarUrl(), true)
	}},
	{New: func() validatefuzz.Request { return new(GetGroupRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*GetGroupRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(DeleteGroupRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*DeleteGroupRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(JoinGroupRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*JoinGroupRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(QuitGroupRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*QuitGroupRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(GetGroupUserRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*GetGroupUserRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(QueryGroupRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		keyword := strings.TrimSpace(m.(*QueryGroupRequest).GetKeyword())
		validatefuzz.RequireRunes(t, "keyword", keyword, 0, MaxNameLength)
		require.NotContains(t, keyword, "\x00")
	}},
}

// requireGroupFields: the name is a visible name of 1–64 characters once
// normalised (or empty, for an update that keeps the stored one); the
// introduction is free text.
func requireGroupFields(t *testing.T, name, introduction, avatarURL string, update bool) {
	t.Helper()
	if strings.TrimSpace(name) != "" || !update {
		validatefuzz.RequireVisibleName(t, "name", name, MaxNameLength)
	}
	validatefuzz.RequireRunes(t, "introduction", introduction, 0, MaxIntroductionLength)
	require.NotContains(t, introduction, "\x00")
	validatefuzz.RequireOptionalHTTPURL(t, "avatar_url", avatarURL)
}
