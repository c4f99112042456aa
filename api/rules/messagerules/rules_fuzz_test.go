package messagerules

import (
	"strings"
	"testing"

	"github.com/rivo/uniseg"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/platform/validate/validatefuzz"
)

// FuzzValidate decodes the input as a request, the way the gRPC codec does
// before the validation interceptor runs, and checks what the rules promise.
// kind picks the request type: an index into messageRequestTypes.
func FuzzValidate(f *testing.F) {
	const link = "https://example.com/m"
	text := &messagepb.TextMessage{Content: "  hi\n"}
	location := &messagepb.LocationMessage{Lat: -90, Lng: 180, CoverImage: link, MapLink: link, Desc: "here"}
	face := &messagepb.FaceMessage{Symbol: "😀"}
	sound := &messagepb.SoundMessage{Url: link, Seconds: MaxSoundSeconds}
	video := &messagepb.VideoMessage{Url: link, Seconds: 1, ThumbUrl: link, ThumbFormat: messagepb.IMAGE_FORMAT_OTHER, Format: "mp4"}
	image := &messagepb.ImageMessageItem{Url: link, Type: messagepb.IMAGE_TYPE_THUMBNAIL, Format: messagepb.IMAGE_FORMAT_PNG}
	file := &messagepb.FileMessage{Url: link, Name: "report.pdf", Size: 1<<64 - 1}
	atUsers := make([]uint64, MaxAtUsers)
	for i := range atUsers {
		atUsers[i] = uint64(i + 1)
	}
	messageRequestTypes.AddValidSeeds(f,
		&messagepb.SendUserTextMessageRequest{ToUserId: 1, Text: text},
		&messagepb.SendUserTextMessageRequest{ToUserId: 1, Text: &messagepb.TextMessage{Content: strings.Repeat("字", MaxTextLength)}},
		&messagepb.SendUserLocationMessageRequest{ToUserId: 1, Location: location},
		&messagepb.SendUserFaceMessageRequest{ToUserId: 1, Face: face},
		&messagepb.SendUserSoundMessageRequest{ToUserId: 1, Sound: sound},
		&messagepb.SendUserVideoMessageRequest{ToUserId: 1, Video: video},
		&messagepb.SendUserImageMessageRequest{ToUserId: 1, Image: image},
		&messagepb.SendUserFileMessageRequest{ToUserId: 1, File: file},
		&messagepb.SendGroupTextMessageRequest{ToGroupId: 1, AtUserId: atUsers, Text: text},
		&messagepb.SendGroupLocationMessageRequest{ToGroupId: 1, Location: &messagepb.LocationMessage{Lat: 90, Lng: -180}},
		&messagepb.SendGroupFaceMessageRequest{ToGroupId: 1, Face: &messagepb.FaceMessage{Symbol: strings.Repeat("x", MaxFaceSymbolLength)}},
		&messagepb.SendGroupSoundMessageRequest{ToGroupId: 1, Sound: &messagepb.SoundMessage{Url: link, Seconds: 1}},
		&messagepb.SendGroupVideoMessageRequest{ToGroupId: 1, Video: &messagepb.VideoMessage{Url: link, Seconds: MaxVideoSeconds}},
		&messagepb.SendGroupImageMessageRequest{ToGroupId: 1, Image: image},
		&messagepb.SendGroupFileMessageRequest{ToGroupId: 1, AtUserId: []uint64{7}, File: &messagepb.FileMessage{Url: link, Name: strings.Repeat("n", MaxFileNameLength), Size: 1}},
		&messagepb.SyncMessagesRequest{ConversationId: "u1-2", AfterSeq: 1<<64 - 1, Limit: 1<<64 - 1},
		&messagepb.SyncMessagesRequest{ConversationId: "u1-2", BeforeSeq: 1<<64 - 1, Limit: 1},
		&messagepb.MarkReadRequest{ConversationId: strings.Repeat("c", 64), Seq: 1},
		&messagepb.EditMessageRequest{MessageId: 1<<64 - 1, Text: text},
		&messagepb.RecallMessageRequest{MessageId: 1},
		&messagepb.ReactToMessageRequest{MessageId: 1, Emoji: "👍🏽"},
		&messagepb.DeleteMessageForMeRequest{MessageId: 1},
		&messagepb.MarkDeliveredRequest{ConversationId: "g:1", Seq: 1<<64 - 1},
		&messagepb.SendTypingRequest{ConversationId: "u:1:2", Stopped: true},
		&messagepb.GetReceiptsRequest{ConversationId: "g:1", Seq: 1, AfterUserId: 1<<64 - 1, Limit: 1<<32 - 1},
		&messagepb.ListConversationsRequest{},
		&messagepb.ListConversationsRequest{IncludeArchived: true, PageSize: MaxConversationsPageSize, PageToken: strings.Repeat("t", MaxPageTokenLength)},
		&messagepb.UpdateConversationRequest{ConversationId: "g:1", Pinned: proto.Bool(false)},
		&messagepb.UpdateConversationRequest{ConversationId: "u:1:2", MutedUntil: &timestamppb.Timestamp{Seconds: 253402300799, Nanos: 999999999}, Archived: proto.Bool(true)},
		&messagepb.UpdateConversationRequest{ConversationId: "u:1:2", MutedUntil: &timestamppb.Timestamp{Seconds: -62135596800}},
	)
	messageRequestTypes.AddSeeds(f,
		&messagepb.SendUserTextMessageRequest{Text: text},
		&messagepb.SendUserTextMessageRequest{ToUserId: 1},
		&messagepb.SendUserTextMessageRequest{ToUserId: 1, Text: &messagepb.TextMessage{Content: " \n\t"}},
		&messagepb.SendUserTextMessageRequest{ToUserId: 1, Text: &messagepb.TextMessage{Content: "a\x00b"}},
		&messagepb.SendUserTextMessageRequest{ToUserId: 1, Text: &messagepb.TextMessage{Content: strings.Repeat("t", MaxTextLength) + " "}},
		&messagepb.SendUserLocationMessageRequest{ToUserId: 1, Location: &messagepb.LocationMessage{Lat: 90.0000001}},
		&messagepb.SendUserLocationMessageRequest{ToUserId: 1, Location: &messagepb.LocationMessage{Lng: -180.5}},
		&messagepb.SendUserLocationMessageRequest{ToUserId: 1, Location: &messagepb.LocationMessage{MapLink: "mailto:a@b"}},
		&messagepb.SendUserLocationMessageRequest{ToUserId: 1, Location: &messagepb.LocationMessage{Desc: "\x00"}},
		&messagepb.SendUserFaceMessageRequest{ToUserId: 1, Face: &messagepb.FaceMessage{}},
		&messagepb.SendUserFaceMessageRequest{ToUserId: 1, Face: &messagepb.FaceMessage{Symbol: "a\nb"}},
		&messagepb.SendUserSoundMessageRequest{ToUserId: 1, Sound: &messagepb.SoundMessage{Url: link}},
		&messagepb.SendUserSoundMessageRequest{ToUserId: 1, Sound: &messagepb.SoundMessage{Url: link, Seconds: MaxSoundSeconds + 1}},
		&messagepb.SendUserSoundMessageRequest{ToUserId: 1, Sound: &messagepb.SoundMessage{Seconds: 1}},
		&messagepb.SendUserVideoMessageRequest{ToUserId: 1, Video: &messagepb.VideoMessage{Url: link, Seconds: 1<<64 - 1}},
		&messagepb.SendUserVideoMessageRequest{ToUserId: 1, Video: &messagepb.VideoMessage{Url: link, Seconds: 1, ThumbFormat: 4}},
		&messagepb.SendUserVideoMessageRequest{ToUserId: 1, Video: &messagepb.VideoMessage{Url: link, Seconds: 1, Format: strings.Repeat("f", MaxFormatLength+1)}},
		&messagepb.SendUserVideoMessageRequest{ToUserId: 1, Video: &messagepb.VideoMessage{Url: link, Seconds: 1, Format: "mp\x004"}},
		&messagepb.SendUserImageMessageRequest{ToUserId: 1, Image: &messagepb.ImageMessageItem{Url: link, Type: 3}},
		&messagepb.SendUserImageMessageRequest{ToUserId: 1, Image: &messagepb.ImageMessageItem{Url: link, Format: -1}},
		&messagepb.SendUserImageMessageRequest{ToUserId: 1, Image: &messagepb.ImageMessageItem{Url: "/relative.png"}},
		&messagepb.SendUserFileMessageRequest{ToUserId: 1, File: &messagepb.FileMessage{Url: link, Name: "f"}},
		&messagepb.SendUserFileMessageRequest{ToUserId: 1, File: &messagepb.FileMessage{Url: link, Size: 1}},
		&messagepb.SendUserFileMessageRequest{ToUserId: 1, File: &messagepb.FileMessage{Url: link, Name: "a\x00.pdf", Size: 1}},
		&messagepb.SendGroupTextMessageRequest{ToGroupId: 1, AtUserId: append(atUsers, 101), Text: text},
		&messagepb.SendGroupTextMessageRequest{ToGroupId: 1, AtUserId: []uint64{1, 0}, Text: text},
		&messagepb.SendGroupTextMessageRequest{AtUserId: []uint64{1}, Text: text},
		&messagepb.SendGroupLocationMessageRequest{ToGroupId: 1},
		&messagepb.SendGroupFaceMessageRequest{ToGroupId: 1, Face: &messagepb.FaceMessage{Symbol: strings.Repeat("x", MaxFaceSymbolLength+1)}},
		&messagepb.SendGroupSoundMessageRequest{ToGroupId: 1},
		&messagepb.SendGroupVideoMessageRequest{ToGroupId: 1, Video: &messagepb.VideoMessage{Url: link, Seconds: MaxVideoSeconds + 1}},
		&messagepb.SendGroupImageMessageRequest{ToGroupId: 1},
		&messagepb.SendGroupFileMessageRequest{ToGroupId: 1, File: &messagepb.FileMessage{Url: link, Name: strings.Repeat("n", MaxFileNameLength+1), Size: 1}},
		&messagepb.SyncMessagesRequest{},
		&messagepb.SyncMessagesRequest{ConversationId: strings.Repeat("c", 65)},
		&messagepb.SyncMessagesRequest{ConversationId: "u:1:2", AfterSeq: 1, BeforeSeq: 3},
		&messagepb.MarkReadRequest{},
		&messagepb.EditMessageRequest{Text: text},
		&messagepb.EditMessageRequest{MessageId: 1},
		&messagepb.EditMessageRequest{MessageId: 1, Text: &messagepb.TextMessage{Content: " "}},
		&messagepb.RecallMessageRequest{},
		&messagepb.ReactToMessageRequest{MessageId: 1, Emoji: "👍👍"},
		&messagepb.ReactToMessageRequest{Emoji: "👍"},
		&messagepb.DeleteMessageForMeRequest{},
		&messagepb.MarkDeliveredRequest{Seq: 1},
		&messagepb.SendTypingRequest{ConversationId: strings.Repeat("c", 65)},
		&messagepb.GetReceiptsRequest{ConversationId: "g:1"},
		&messagepb.ListConversationsRequest{PageSize: MaxConversationsPageSize + 1},
		&messagepb.ListConversationsRequest{PageToken: strings.Repeat("t", MaxPageTokenLength+1)},
		&messagepb.UpdateConversationRequest{Pinned: proto.Bool(true)},
		&messagepb.UpdateConversationRequest{ConversationId: "g:1"},
		&messagepb.UpdateConversationRequest{ConversationId: "g:1", MutedUntil: &timestamppb.Timestamp{Seconds: 253402300800}},
		&messagepb.UpdateConversationRequest{ConversationId: "g:1", MutedUntil: &timestamppb.Timestamp{Nanos: -1}},
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

// messageRequestTypes are the package's request types with rules.
// Append only: committed corpus files select a type by its index.
var messageRequestTypes = validatefuzz.NewTypes(Rules, []validatefuzz.Type{
	{New: func() validatefuzz.Request { return new(messagepb.SendUserTextMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SendUserTextMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireText(t, r.GetText())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SendUserLocationMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SendUserLocationMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireLocation(t, r.GetLocation())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SendUserFaceMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SendUserFaceMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireFace(t, r.GetFace())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SendUserSoundMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SendUserSoundMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireSound(t, r.GetSound())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SendUserVideoMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SendUserVideoMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireVideo(t, r.GetVideo())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SendUserImageMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SendUserImageMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireImage(t, r.GetImage())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SendUserFileMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SendUserFileMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireFile(t, r.GetFile())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SendGroupTextMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SendGroupTextMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireText(t, r.GetText())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SendGroupLocationMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SendGroupLocationMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireLocation(t, r.GetLocation())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SendGroupFaceMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SendGroupFaceMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireFace(t, r.GetFace())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SendGroupSoundMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SendGroupSoundMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireSound(t, r.GetSound())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SendGroupVideoMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SendGroupVideoMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireVideo(t, r.GetVideo())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SendGroupImageMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SendGroupImageMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireImage(t, r.GetImage())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SendGroupFileMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SendGroupFileMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireFile(t, r.GetFile())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SyncMessagesRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.SyncMessagesRequest)
		validatefuzz.RequireRunes(t, "conversation_id", r.GetConversationId(), 1, 64)
		require.False(t, r.GetAfterSeq() != 0 && r.GetBeforeSeq() != 0, "accepted both after_seq and before_seq")
	}},
	{New: func() validatefuzz.Request { return new(messagepb.MarkReadRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		validatefuzz.RequireRunes(t, "conversation_id", m.(*messagepb.MarkReadRequest).GetConversationId(), 1, 64)
	}},
	{New: func() validatefuzz.Request { return new(messagepb.EditMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.EditMessageRequest)
		require.NotZero(t, r.GetMessageId())
		requireText(t, r.GetText())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.RecallMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*messagepb.RecallMessageRequest).GetMessageId())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.ReactToMessageRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.ReactToMessageRequest)
		require.NotZero(t, r.GetMessageId())
		require.LessOrEqual(t, len(r.GetEmoji()), MaxEmojiBytes)
		require.Equal(t, 1, uniseg.GraphemeClusterCount(r.GetEmoji()), "accepted %q", r.GetEmoji())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.DeleteMessageForMeRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*messagepb.DeleteMessageForMeRequest).GetMessageId())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.MarkDeliveredRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		validatefuzz.RequireRunes(t, "conversation_id", m.(*messagepb.MarkDeliveredRequest).GetConversationId(), 1, 64)
	}},
	{New: func() validatefuzz.Request { return new(messagepb.SendTypingRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		validatefuzz.RequireRunes(t, "conversation_id", m.(*messagepb.SendTypingRequest).GetConversationId(), 1, 64)
	}},
	{New: func() validatefuzz.Request { return new(messagepb.GetReceiptsRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.GetReceiptsRequest)
		validatefuzz.RequireRunes(t, "conversation_id", r.GetConversationId(), 1, 64)
		require.NotZero(t, r.GetSeq())
	}},
	{New: func() validatefuzz.Request { return new(messagepb.ListConversationsRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.ListConversationsRequest)
		require.LessOrEqual(t, r.GetPageSize(), uint32(MaxConversationsPageSize))
		require.LessOrEqual(t, len(r.GetPageToken()), MaxPageTokenLength)
	}},
	{New: func() validatefuzz.Request { return new(messagepb.UpdateConversationRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*messagepb.UpdateConversationRequest)
		validatefuzz.RequireRunes(t, "conversation_id", r.GetConversationId(), 1, 64)
		require.True(t, r.Pinned != nil || r.MutedUntil != nil || r.Archived != nil, "accepted a request that changes nothing")
		if r.MutedUntil != nil {
			require.NoError(t, r.GetMutedUntil().CheckValid(), "accepted muted_until %v", r.GetMutedUntil())
		}
	}},
})

func requireToGroup(t *testing.T, groupID uint64, atUsers []uint64) {
	t.Helper()
	require.NotZero(t, groupID)
	require.LessOrEqual(t, len(atUsers), MaxAtUsers)
	require.NotContains(t, atUsers, uint64(0))
}

// requireText: not blank, 1–5000 characters as sent, no NUL.
func requireText(t *testing.T, b *messagepb.TextMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its text")
	require.NotEmpty(t, strings.TrimSpace(b.GetContent()), "accepted blank text")
	validatefuzz.RequireRunes(t, "text.content", b.GetContent(), 1, MaxTextLength)
	require.NotContains(t, b.GetContent(), "\x00")
}

// requireLocation: coordinates on the globe (so not NaN), optional URLs,
// a free-text description.
func requireLocation(t *testing.T, b *messagepb.LocationMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its location")
	require.True(t, b.GetLat() >= -90 && b.GetLat() <= 90, "accepted lat %v", b.GetLat())
	require.True(t, b.GetLng() >= -180 && b.GetLng() <= 180, "accepted lng %v", b.GetLng())
	validatefuzz.RequireOptionalHTTPURL(t, "location.cover_image", b.GetCoverImage())
	validatefuzz.RequireOptionalHTTPURL(t, "location.map_link", b.GetMapLink())
	validatefuzz.RequireRunes(t, "location.desc", b.GetDesc(), 0, MaxDescriptionLength)
	require.NotContains(t, b.GetDesc(), "\x00")
}

func requireFace(t *testing.T, b *messagepb.FaceMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its face")
	validatefuzz.RequireRunes(t, "face.symbol", b.GetSymbol(), 1, MaxFaceSymbolLength)
	validatefuzz.RequireNoControl(t, "face.symbol", b.GetSymbol())
}

func requireSound(t *testing.T, b *messagepb.SoundMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its sound")
	validatefuzz.RequireHTTPURL(t, "sound.url", b.GetUrl())
	require.True(t, b.GetSeconds() >= 1 && b.GetSeconds() <= MaxSoundSeconds, "accepted sound.seconds %d", b.GetSeconds())
}

func requireVideo(t *testing.T, b *messagepb.VideoMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its video")
	validatefuzz.RequireHTTPURL(t, "video.url", b.GetUrl())
	require.True(t, b.GetSeconds() >= 1 && b.GetSeconds() <= MaxVideoSeconds, "accepted video.seconds %d", b.GetSeconds())
	validatefuzz.RequireOptionalHTTPURL(t, "video.thumb_url", b.GetThumbUrl())
	requireDefined(t, "video.thumb_format", b.GetThumbFormat())
	validatefuzz.RequireRunes(t, "video.format", b.GetFormat(), 0, MaxFormatLength)
	validatefuzz.RequireNoControl(t, "video.format", b.GetFormat())
}

func requireImage(t *testing.T, b *messagepb.ImageMessageItem) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its image")
	validatefuzz.RequireHTTPURL(t, "image.url", b.GetUrl())
	requireDefined(t, "image.type", b.GetType())
	requireDefined(t, "image.format", b.GetFormat())
}

func requireFile(t *testing.T, b *messagepb.FileMessage) {
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
