package grouprules

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/platform/validate/validatefuzz"
)

// FuzzValidate decodes the input as a request, the way the gRPC codec does
// before the validation interceptor runs, and checks what the rules promise.
// kind picks the request type: an index into groupRequestTypes.
func FuzzValidate(f *testing.F) {
	const avatar = "https://example.com/g.png"
	groupRequestTypes.AddValidSeeds(f,
		&grouppb.CreateGroupRequest{Name: "book club", Introduction: "we read\nand talk", AvatarUrl: avatar},
		&grouppb.CreateGroupRequest{Name: strings.Repeat("组", MaxNameLength), Introduction: strings.Repeat("i", MaxIntroductionLength)},
		&grouppb.UpdateGroupRequest{Id: 1},
		&grouppb.UpdateGroupRequest{Id: 1<<64 - 1, Name: " new name ", AvatarUrl: avatar},
		&grouppb.GetGroupRequest{Id: 1},
		&grouppb.DeleteGroupRequest{Id: 1},
		&grouppb.JoinGroupRequest{Id: 1},
		&grouppb.QuitGroupRequest{Id: 1},
		&grouppb.GetGroupUserRequest{Id: 1, Page: 1 << 40, PageSize: 1<<64 - 1},
		&grouppb.QueryGroupRequest{Keyword: "book"},
	)
	groupRequestTypes.AddSeeds(f,
		&grouppb.CreateGroupRequest{},
		&grouppb.CreateGroupRequest{Name: " \t "},
		&grouppb.CreateGroupRequest{Name: strings.Repeat("n", MaxNameLength+1)},
		&grouppb.CreateGroupRequest{Name: "a\x00b"},
		&grouppb.CreateGroupRequest{Name: "a\u200bb\u0085"},
		&grouppb.CreateGroupRequest{Name: "g", Introduction: "nul\x00"},
		&grouppb.CreateGroupRequest{Name: "g", Introduction: strings.Repeat("i", MaxIntroductionLength+1)},
		&grouppb.CreateGroupRequest{Name: "g", AvatarUrl: "ftp://example.com/a.png"},
		&grouppb.UpdateGroupRequest{Name: "g"},
		&grouppb.UpdateGroupRequest{Id: 1, Name: "a\nb"},
		&grouppb.GetGroupRequest{},
		&grouppb.DeleteGroupRequest{},
		&grouppb.JoinGroupRequest{UserId: 5},
		&grouppb.QuitGroupRequest{},
		&grouppb.GetGroupUserRequest{},
		&grouppb.QueryGroupRequest{Keyword: strings.Repeat("k", MaxNameLength+1)},
		&grouppb.QueryGroupRequest{Keyword: "k\x00"},
	)
	// Bytes the codec refuses: a truncated field and a string with invalid UTF-8.
	f.Add(uint8(0), []byte{0x0a, 0x05, 'a'})
	f.Add(uint8(0), []byte{0x0a, 0x02, 0xff, 0xfe})

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		groupRequestTypes.Check(t, kind, data)
	})
}

// groupRequestTypes are the package's request types with rules.
// Append only: committed corpus files select a type by its index.
var groupRequestTypes = validatefuzz.NewTypes(Rules, []validatefuzz.Type{
	{New: func() validatefuzz.Request { return new(grouppb.CreateGroupRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*grouppb.CreateGroupRequest)
		requireGroupFields(t, r.GetName(), r.GetIntroduction(), r.GetAvatarUrl(), false)
	}},
	{New: func() validatefuzz.Request { return new(grouppb.UpdateGroupRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*grouppb.UpdateGroupRequest)
		require.NotZero(t, r.GetId())
		requireGroupFields(t, r.GetName(), r.GetIntroduction(), r.GetAvatarUrl(), true)
	}},
	{New: func() validatefuzz.Request { return new(grouppb.GetGroupRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*grouppb.GetGroupRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(grouppb.DeleteGroupRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*grouppb.DeleteGroupRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(grouppb.JoinGroupRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*grouppb.JoinGroupRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(grouppb.QuitGroupRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*grouppb.QuitGroupRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(grouppb.GetGroupUserRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*grouppb.GetGroupUserRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(grouppb.QueryGroupRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		keyword := strings.TrimSpace(m.(*grouppb.QueryGroupRequest).GetKeyword())
		validatefuzz.RequireRunes(t, "keyword", keyword, 0, MaxNameLength)
		require.NotContains(t, keyword, "\x00")
	}},
})

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
