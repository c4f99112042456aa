package messagepb

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
	addValidSeeds(f,
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
	for _, req := range []validatable{
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
	} {
		f.Add(kindOf(req), mustMarshal(f, req))
	}
	// Bytes the codec refuses: a truncated field, a string with invalid
	// UTF-8 and a NaN latitude (which does decode, and must be refused).
	f.Add(uint8(0), []byte{0x12, 0x05, 'a'})
	f.Add(uint8(0), []byte{0x12, 0x04, 0x12, 0x02, 0xff, 0xfe})
	f.Add(uint8(1), []byte{0x08, 0x01, 0x12, 0x09, 0x19, 0x01, 0, 0, 0, 0, 0, 0xf8, 0x7f})

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		checkValidate(t, messageRequestTypes, kind, data)
	})
}

// messageRequestTypes are the package's request types with a Validate method.
// Append only: committed corpus files select a type by its index.
var messageRequestTypes = []requestType{
	{newRequest: func() validatable { return new(SendUserTextMessageRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendUserTextMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireText(t, r.GetText())
	}},
	{newRequest: func() validatable { return new(SendUserLocationMessageRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendUserLocationMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireLocation(t, r.GetLocation())
	}},
	{newRequest: func() validatable { return new(SendUserFaceMessageRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendUserFaceMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireFace(t, r.GetFace())
	}},
	{newRequest: func() validatable { return new(SendUserSoundMessageRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendUserSoundMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireSound(t, r.GetSound())
	}},
	{newRequest: func() validatable { return new(SendUserVideoMessageRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendUserVideoMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireVideo(t, r.GetVideo())
	}},
	{newRequest: func() validatable { return new(SendUserImageMessageRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendUserImageMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireImage(t, r.GetImage())
	}},
	{newRequest: func() validatable { return new(SendUserFileMessageRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendUserFileMessageRequest)
		require.NotZero(t, r.GetToUserId())
		requireFile(t, r.GetFile())
	}},
	{newRequest: func() validatable { return new(SendGroupTextMessageRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendGroupTextMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireText(t, r.GetText())
	}},
	{newRequest: func() validatable { return new(SendGroupLocationMessageRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendGroupLocationMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireLocation(t, r.GetLocation())
	}},
	{newRequest: func() validatable { return new(SendGroupFaceMessageRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendGroupFaceMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireFace(t, r.GetFace())
	}},
	{newRequest: func() validatable { return new(SendGroupSoundMessageRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendGroupSoundMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireSound(t, r.GetSound())
	}},
	{newRequest: func() validatable { return new(SendGroupVideoMessageRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendGroupVideoMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireVideo(t, r.GetVideo())
	}},
	{newRequest: func() validatable { return new(SendGroupImageMessageRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendGroupImageMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireImage(t, r.GetImage())
	}},
	{newRequest: func() validatable { return new(SendGroupFileMessageRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*SendGroupFileMessageRequest)
		requireToGroup(t, r.GetToGroupId(), r.GetAtUserId())
		requireFile(t, r.GetFile())
	}},
	{newRequest: func() validatable { return new(SyncMessagesRequest) }, accepted: func(t *testing.T, m proto.Message) {
		requireRunes(t, "conversation_id", m.(*SyncMessagesRequest).GetConversationId(), 1, 64)
	}},
	{newRequest: func() validatable { return new(MarkReadRequest) }, accepted: func(t *testing.T, m proto.Message) {
		requireRunes(t, "conversation_id", m.(*MarkReadRequest).GetConversationId(), 1, 64)
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
	requireRunes(t, "text.content", b.GetContent(), 1, MaxTextLength)
	require.NotContains(t, b.GetContent(), "\x00")
}

// requireLocation: coordinates on the globe (so not NaN), optional URLs,
// a free-text description.
func requireLocation(t *testing.T, b *LocationMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its location")
	require.True(t, b.GetLat() >= -90 && b.GetLat() <= 90, "accepted lat %v", b.GetLat())
	require.True(t, b.GetLng() >= -180 && b.GetLng() <= 180, "accepted lng %v", b.GetLng())
	requireOptionalHTTPURL(t, "location.cover_image", b.GetCoverImage())
	requireOptionalHTTPURL(t, "location.map_link", b.GetMapLink())
	requireRunes(t, "location.desc", b.GetDesc(), 0, MaxDescriptionLength)
	require.NotContains(t, b.GetDesc(), "\x00")
}

func requireFace(t *testing.T, b *FaceMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its face")
	requireRunes(t, "face.symbol", b.GetSymbol(), 1, MaxFaceSymbolLength)
	requireNoControl(t, "face.symbol", b.GetSymbol())
}

func requireSound(t *testing.T, b *SoundMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its sound")
	requireHTTPURL(t, "sound.url", b.GetUrl())
	require.True(t, b.GetSeconds() >= 1 && b.GetSeconds() <= MaxSoundSeconds, "accepted sound.seconds %d", b.GetSeconds())
}

func requireVideo(t *testing.T, b *VideoMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its video")
	requireHTTPURL(t, "video.url", b.GetUrl())
	require.True(t, b.GetSeconds() >= 1 && b.GetSeconds() <= MaxVideoSeconds, "accepted video.seconds %d", b.GetSeconds())
	requireOptionalHTTPURL(t, "video.thumb_url", b.GetThumbUrl())
	requireDefined(t, "video.thumb_format", b.GetThumbFormat())
	requireRunes(t, "video.format", b.GetFormat(), 0, MaxFormatLength)
	requireNoControl(t, "video.format", b.GetFormat())
}

func requireImage(t *testing.T, b *ImageMessageItem) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its image")
	requireHTTPURL(t, "image.url", b.GetUrl())
	requireDefined(t, "image.type", b.GetType())
	requireDefined(t, "image.format", b.GetFormat())
}

func requireFile(t *testing.T, b *FileMessage) {
	t.Helper()
	require.NotNil(t, b, "accepted a request without its file")
	requireHTTPURL(t, "file.url", b.GetUrl())
	requireRunes(t, "file.name", b.GetName(), 1, MaxFileNameLength)
	requireNoControl(t, "file.name", b.GetName())
	require.NotZero(t, b.GetSize())
}

// requireDefined requires an enum value the .proto defines.
func requireDefined(t *testing.T, field string, e protoreflect.Enum) {
	t.Helper()
	require.NotNil(t, e.Descriptor().Values().ByNumber(e.Number()), "accepted undefined %s %d", field, e.Number())
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

func allRequestTypes() []requestType { return messageRequestTypes }

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
