package messagepb

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/parley-im/parley/platform/validate/validatefuzz"
)

// FuzzValidate decodes the input as a request, the way the gRPC codec does
// before the validator interceptor runs, and checks what Validate promises.
// kind picks the request type: an index into messageRequestTypes.
func FuzzValidate(f *testing.F) {
	const link = "https://example.com/m"
	text := &TextMessage{Content: "  hi\n"}
	location := &LocationMessage{Lat: -90, Lng: 180, CoverImage: link, MapLink: link, Desc: "here"}
	face := &FaceMessage{Symbol: "😀"}
	sound := &SoundMessage{Url: link, Seconds: MaxSoundSeconds}
	video := &VideoMessage{Url: link, Seconds: 1, ThumbUrl: link, ThumbFormat: IMAGE_FORMAT_OTHER, Format: "mp4"}
	image := &ImageMessageItem{Url: link, Type: IMAGE_TYPE_THUMBNAIL, Format: IMAGE_FORMAT_PNG}
	file := &FileMessage{Url: link, Name: "report.pdf", Size: 1<<64 - 1}
	atUsers := make([]uint64, MaxAtUsers)
	for i := range atUsers {
		atUsers[i] = uint64(i + 1)
	}
	messageRequestTypes.AddValidSeeds(f,
		&SendUserTextMessageRequest{ToUserId: 1, Text: text},
		&SendUserTextMessageRequest{ToUserId: 1, Text: &TextMessage{Content: strings.Repeat("字", MaxTextLength)}},
		&SendUserLocationMessageRequest{ToUserId: 1, Location: location},
		&SendUserFaceMessageRequest{ToUserId: 1, Face: face},
		&SendUserSoundMessageRequest{ToUserId: 1, Sound: sound},
		&SendUserVideoMessageRequest{ToUserId: 1, Video: video},
		&SendUserImageMessageRequest{ToUserId: 1, Image: image},
		&SendUserFileMessageRequest{ToUserId: 1, File: file},
		&SendGroupTextMessageRequest{ToGroupId: 1, AtUserId: atUsers, Text: text},
		&SendGroupLocationMessageRequest{ToGroupId: 1, Location: &LocationMessage{Lat: 90, Lng: -180}},
		&SendGroupFaceMessageRequest{ToGroupId: 1, Face: &FaceMessage{Symbol: strings.Repeat("x", MaxFaceSymbolLength)}},
		&SendGroupSoundMessageRequest{ToGroupId: 1, Sound: &SoundMessage{Url: link, Seconds: 1}},
		&SendGroupVideoMessageRequest{ToGroupId: 1, Video: &VideoMessage{Url: link, Seconds: MaxVideoSeconds}},
		&SendGroupImageMessageRequest{ToGroupId: 1, Image: image},
		&SendGroupFileMessageRequest{ToGroupId: 1, AtUserId: []uint64{7}, File: &FileMessage{Url: link, Name: strings.Repeat("n", MaxFileNameLength), Size: 1}},
		&SyncMessagesRequest{ConversationId: "u1-2", AfterSeq: 1<<64 - 1, Limit: 1<<64 - 1},
		&MarkReadRequest{ConversationId: strings.Repeat("c", 64), Seq: 1},
	)
	messageRequestTypes.AddSeeds(f,
		&SendUserTextMessageRequest{Text: text},
		&SendUserTextMessageRequest{ToUserId: 1},
		&SendUserTextMessageRequest{ToUserId: 1, Text: &TextMessage{Content: " \n\t"}},
		&SendUserTextMessageRequest{ToUserId: 1, Text: &TextMessage{Content: "a\x00b"}},
		&SendUserTextMessageRequest{ToUserId: 1, Text: &TextMessage{Content: strings.Repeat("t", MaxTextLength) + " "}},
		&SendUserLocationMessageRequest{ToUserId: 1, Location: &LocationMessage{Lat: 90.0000001}},
		&SendUserLocationMessageRequest{ToUserId: 1, Location: &LocationMessage{Lng: -180.5}},
		&SendUserLocationMessageRequest{ToUserId: 1, Location: &LocationMessage{MapLink: "mailto:a@b"}},
		&SendUserLocationMessageRequest{ToUserId: 1, Location: &LocationMessage{Desc: "\x00"}},
		&SendUserFaceMessageRequest{ToUserId: 1, Face: &FaceMessage{}},
		&SendUserFaceMessageRequest{ToUserId: 1, Face: &FaceMessage{Symbol: "a\nb"}},
		&SendUserSoundMessageRequest{ToUserId: 1, Sound: &SoundMessage{Url: link}},
		&SendUserSoundMessageRequest{ToUserId: 1, Sound: &SoundMessage{Url: link, Seconds: MaxSoundSeconds + 1}},
		&SendUserSoundMessageRequest{ToUserId: 1, Sound: &SoundMessage{Seconds: 1}},
		&SendUserVideoMessageRequest{ToUserId: 1, Video: &VideoMessage{Url: link, Seconds: 1<<64 - 1}},
		&SendUserVideoMessageRequest{ToUserId: 1, Video: &VideoMessage{Url: link, Seconds: 1, ThumbFormat: 4}},
		&SendUserVideoMessageRequest{ToUserId: 1, Video: &VideoMessage{Url: link, Seconds: 1, Format: strings.Repeat("f", MaxFormatLength+1)}},
		&SendUserVideoMessageRequest{ToUserId: 1, Video: &VideoMessage{Url: link, Seconds: 1, Format: "mp\x004"}},
		&SendUserImageMessageRequest{ToUserId: 1, Image: &ImageMessageItem{Url: link, Type: 3}},
		&SendUserImageMessageRequest{ToUserId: 1, Image: &ImageMessageItem{Url: link, Format: -1}},
		&SendUserImageMessageRequest{ToUserId: 1, Image: &ImageMessageItem{Url: "/relative.png"}},
		&SendUserFileMessageRequest{ToUserId: 1, File: &FileMessage{Url: link, Name: "f"}},
		&SendUserFileMessageRequest{ToUserId: 1, File: &FileMessage{Url: link, Size: 1}},
		&SendUserFileMessageRequest{ToUserId: 1, File: &FileMessage{Url: link, Name: "a\x00.pdf", Size: 1}},
		&SendGroupTextMessageRequest{ToGroupId: 1, AtUserId: append(atUsers, 101), Text: text},
		&SendGroupTextMessageRequest{ToGroupId: 1, AtUserId: []uint64{1, 0}, Text: text},
		&SendGroupTextMessageRequest{AtUserId: []uint64{1}, Text: text},
		&SendGroupLocationMessageRequest{ToGroupId: 1},
		&SendGroupFaceMessageRequest{ToGroupId: 1, Face: &FaceMessage{Symbol: strings.Repeat("x", MaxFaceSymbolLength+1)}},
		&SendGroupSoundMessageRequest{ToGroupId: 1},
		&SendGroupVideoMessageRequest{ToGroupId: 1, Video: &VideoMessage{Url: link, Seconds: MaxVideoSeconds + 1}},
		&SendGroupImageMessageRequest{ToGroupId: 1},
		&SendGroupFileMessageRequest{ToGroupId: 1, File: &FileMessage{Url: link, Name: strings.Repeat("n", MaxFileNameLength+1), Size: 1}},
		&SyncMessagesRequest{},
		&SyncMessagesRequest{ConversationId: strings.Repeat("c", 65)},
		&MarkReadRequest{},
	)
	// Bytes the codec refuses: a truncated field, a string with invalid
	// UTF-8 and a NaN latitude (which does decode, and must be refused).
	f.Add(uint8(0), []byte{0x12, 0x05, 'a'})
	f.Add(uint8(0), []byte{0x12, 0x04, 0x12, 0x02, 0xff, 0xfe})
	f.Add(uint8(1), []byte{0x08, 0x01, 0x12, 0x09, 0x19, 0x01, 0, 0, 0, 0, 0, 0xf8, 0x7f})

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		messageRequestTypes.Check(t, kind, data)
	})
}

// messageRequestTypes are the package's request types with a Validate method.
// Append only: committed corpus files select a type by its index.
var messageRequestTypes = validatefuzz.Types{
	{New: func() validatefuzz.Request { return new(SendUserTextMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendUserTextMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireText(t, r.GetText())
	}},
	{New: func() validatefuzz.Request { return new(SendUserLocationMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendUserLocationMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireLocation(t, r.GetLocation())
	}},
	{New: func() validatefuzz.Request { return new(SendUserFaceMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendUserFaceMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireFace(t, r.GetFace())
	}},
	{New: func() validatefuzz.Request { return new(SendUserSoundMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendUserSoundMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireSound(t, r.GetSound())
	}},
	{New: func() validatefuzz.Request { return new(SendUserVideoMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendUserVideoMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireVideo(t, r.GetVideo())
	}},
	{New: func() validatefuzz.Request { return new(SendUserImageMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendUserImageMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireImage(t, r.GetImage())
	}},
	{New: func() validatefuzz.Request { return new(SendUserFileMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendUserFileMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireFile(t, r.GetFile())
	}},
	{New: func() validatefuzz.Request { return new(SendGroupTextMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendGroupTextMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireText(t, r.GetText())
	}},
	{New: func() validatefuzz.Request { return new(SendGroupLocationMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendGroupLocationMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireLocation(t, r.GetLocation())
	}},
	{New: func() validatefuzz.Request { return new(SendGroupFaceMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendGroupFaceMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireFace(t, r.GetFace())
	}},
	{New: func() validatefuzz.Request { return new(SendGroupSoundMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendGroupSoundMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireSound(t, r.GetSound())
	}},
	{New: func() validatefuzz.Request { return new(SendGroupVideoMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendGroupVideoMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireVideo(t, r.GetVideo())
	}},
	{New: func() validatefuzz.Request { return new(SendGroupImageMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendGroupImageMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireImage(t, r.GetImage())
	}},
	{New: func() validatefuzz.Request { return new(SendGroupFileMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendGroupFileMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireFile(t, r.GetFile())
	}},
	{New: func() validatefuzz.Request { return new(SyncMessagesRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		validatefuzz.RequireRunes(t, "conversation_id", m.(*SyncMessagesRequest).GetConversationId(), 1, 64)
	}},
	{New: func() validatefuzz.Request { return new(MarkReadRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		validatefuzz.RequireRunes(t, "conversation_id", m.(*MarkReadRequest).GetConversationId(), 1, 64)
	}},
}

func requireToGroup(t *testing.T, groupID uint64, atUsers []uint64) {
	t.Helper()
	require.NotZero(t, groupID)
	require.LessOrEqual(t, len(atUsers), MaxAtUsers)
	require.NotContains(t, atUsers, uint64(0))
}

// requireText: not blank, 1–5000 characters as sent, no NUL.
func requireText(t *testing.T, b *TextMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its text")
	require.NotEmpty(t, strings.TrimSpace(b.GetContent()), "accepted blank text")
	validatefuzz.RequireRunes(t, "text.content", b.GetContent(), 1, MaxTextLength)
	require.NotContains(t, b.GetContent(), "\x00")
}

// requireLocation: coordinates on the globe (so not NaN), optional URLs,
// a free-text description.
func requireLocation(t *testing.T, b *LocationMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its location")
	require.True(t, b.GetLat() >= -90 && b.GetLat() <= 90, "accepted lat %v", b.GetLat())
	require.True(t, b.GetLng() >= -180 && b.GetLng() <= 180, "accepted lng %v", b.GetLng())
	validatefuzz.RequireOptionalHTTPURL(t, "location.cover_image", b.GetCoverImage())
	validatefuzz.RequireOptionalHTTPURL(t, "location.map_link", b.GetMapLink())
	validatefuzz.RequireRunes(t, "location.desc", b.GetDesc(), 0, MaxDescriptionLength)
	require.NotContains(t, b.GetDesc(), "\x00")
}

func requireFace(t *testing.T, b *FaceMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its face")
	validatefuzz.RequireRunes(t, "face.symbol", b.GetSymbol(), 1, MaxFaceSymbolLength)
	validatefuzz.RequireNoControl(t, "face.symbol", b.GetSymbol())
}

func requireSound(t *testing.T, b *SoundMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its sound")
	validatefuzz.RequireHTTPURL(t, "sound.url", b.GetUrl())
	require.True(t, b.GetSeconds() >= 1 && b.GetSeconds() <= MaxSoundSeconds, "accepted sound.seconds %d", b.GetSeconds())
}

func requireVideo(t *testing.T, b *VideoMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its video")
	validatefuzz.RequireHTTPURL(t, "video.url", b.GetUrl())
	require.True(t, b.GetSeconds() >= 1 && b.GetSeconds() <= MaxVideoSeconds, "accepted video.seconds %d", b.GetSeconds())
	validatefuzz.RequireOptionalHTTPURL(t, "video.thumb_url", b.GetThumbUrl())
	requireDefined(t, "video.thumb_format", b.GetThumbFormat())
	validatefuzz.RequireRunes(t, "video.format", b.GetFormat(), 0, MaxFormatLength)
	validatefuzz.RequireNoControl(t, "video.format", b.GetFormat())
}

func requireImage(t *testing.T, b *ImageMessageItem) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its image")
	validatefuzz.RequireHTTPURL(t, "image.url", b.GetUrl())
	requireDefined(t, "image.type", b.GetType())
	requireDefined(t, "image.format", b.GetFormat())
}

func requireFile(t *testing.T, b *FileMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its file")
	validatefuzz.RequireHTTPURL(t, "file.url", b.GetUrl())
	validatefuzz.RequireRunes(t, "file.name", b.GetName(), 1, MaxFileNameLength)
	validatefuzz.RequireNoControl(t, "file.name", b.GetName())
	require.NotZero(t, b.GetSize())
}

// requireDefined requires an enum value the .proto defines.
func requireDefined(t *testing.T, field string, e protoreflect.Enum) {
	t.Helper()
	require.NotNil(t, e.Descriptor().Values().ByNumber(e.Number()), "accepted undefined %s %d", field, e.Number())
}
