package feedpb

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
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
// kind picks the request type: an index into feedRequestTypes.
func FuzzValidate(f *testing.F) {
	const img = "https://example.com/1.jpg"
	nineImages := []string{img, img, img, img, img, img, img, img, img}
	addValidSeeds(f,
		&FeedCreateRequest{Type: FeedType_Txt, Content: "hello\nworld"},
		&FeedCreateRequest{Type: FeedType_Txt, Content: strings.Repeat("文", MaxContentLength)},
		&FeedCreateRequest{Type: FeedType_Image, Resource: nineImages},
		&FeedCreateRequest{Type: FeedType_Video, Content: "clip", Resource: []string{"http://example.com/v.mp4"}},
		&FeedEditRequest{Id: 1, Type: FeedType_Image, Content: " caption ", Resource: []string{img}},
		&FeedGetRequest{Id: 1},
		&FeedDeleteRequest{Id: 1},
		&FeedLikeRequest{Id: 1<<64 - 1},
		&FeedUnLikeRequest{Id: 1},
		&FeedOwnRequest{Keyword: "cat", ReviewStatus: commonpb.ReviewStatus_ReviewFail},
		&FeedQueryRequest{Keyword: strings.Repeat("k", MaxKeywordLength), LastId: 1<<64 - 1, Num: 1<<64 - 1},
		&FeedReviewRequest{Id: 1, ReviewStatus: commonpb.ReviewStatus_ReviewPass, Remark: "ok"},
		&FeedCommentCreateRequest{FeedId: 1, Content: "nice", ReplyToId: 2},
		&FeedCommentListRequest{FeedId: 1},
		&FeedCommentDeleteRequest{Id: 1},
	)
	for _, req := range []validatable{
		&FeedCreateRequest{Type: FeedType_Txt, Content: " \n\t "},
		&FeedCreateRequest{Type: FeedType_Txt, Content: strings.Repeat("c", MaxContentLength+1)},
		&FeedCreateRequest{Type: FeedType_Txt, Content: "a\x00b"},
		&FeedCreateRequest{Type: FeedType_Txt, Content: "t", Resource: []string{img}},
		&FeedCreateRequest{Type: FeedType_Image},
		&FeedCreateRequest{Type: FeedType_Image, Resource: append(nineImages, img)},
		&FeedCreateRequest{Type: FeedType_Image, Resource: []string{img, "javascript:alert(1)"}},
		&FeedCreateRequest{Type: FeedType_Image, Resource: []string{img}, Content: "a\x00"},
		&FeedCreateRequest{Type: FeedType_Video, Resource: []string{img, img}},
		&FeedCreateRequest{Type: 3, Content: "t"},
		&FeedCreateRequest{Type: -1, Content: "t"},
		&FeedEditRequest{Type: FeedType_Txt, Content: "t"},
		&FeedGetRequest{},
		&FeedDeleteRequest{},
		&FeedLikeRequest{},
		&FeedUnLikeRequest{},
		&FeedOwnRequest{ReviewStatus: 4},
		&FeedOwnRequest{Keyword: "a\x00"},
		&FeedQueryRequest{Keyword: strings.Repeat("k", MaxKeywordLength+1)},
		&FeedReviewRequest{Id: 1, ReviewStatus: commonpb.ReviewStatus_ReviewInit},
		&FeedReviewRequest{Id: 1, ReviewStatus: commonpb.ReviewStatus_ReviewPass, Remark: strings.Repeat("r", MaxRemarkLength+1)},
		&FeedReviewRequest{ReviewStatus: commonpb.ReviewStatus_ReviewPass},
		&FeedCommentCreateRequest{FeedId: 1, Content: "  "},
		&FeedCommentCreateRequest{FeedId: 1, Content: strings.Repeat("c", MaxCommentLength+1)},
		&FeedCommentCreateRequest{Content: "c"},
		&FeedCommentListRequest{},
		&FeedCommentDeleteRequest{},
	} {
		f.Add(kindOf(req), mustMarshal(f, req))
	}
	// Bytes the codec refuses: a truncated field and a string with invalid UTF-8.
	f.Add(uint8(0), []byte{0x12, 0x05, 'a'})
	f.Add(uint8(0), []byte{0x12, 0x02, 0xff, 0xfe})

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		checkValidate(t, feedRequestTypes, kind, data)
	})
}

// feedRequestTypes are the package's request types with a Validate method.
// Append only: committed corpus files select a type by its index.
var feedRequestTypes = []requestType{
	{newRequest: func() validatable { return new(FeedCreateRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*FeedCreateRequest)
		requirePost(t, r.GetType(), r.GetContent(), r.GetResource())
	}},
	{newRequest: func() validatable { return new(FeedEditRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*FeedEditRequest)
		require.NotZero(t, r.GetId())
		requirePost(t, r.GetType(), r.GetContent(), r.GetResource())
	}},
	{newRequest: func() validatable { return new(FeedGetRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*FeedGetRequest).GetId())
	}},
	{newRequest: func() validatable { return new(FeedDeleteRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*FeedDeleteRequest).GetId())
	}},
	{newRequest: func() validatable { return new(FeedLikeRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*FeedLikeRequest).GetId())
	}},
	{newRequest: func() validatable { return new(FeedUnLikeRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*FeedUnLikeRequest).GetId())
	}},
	{newRequest: func() validatable { return new(FeedOwnRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*FeedOwnRequest)
		s := r.GetReviewStatus()
		require.True(t, s >= commonpb.ReviewStatus_ReviewInit && s <= commonpb.ReviewStatus_ReviewFail, "accepted review_status %d", s)
		requireKeyword(t, r.GetKeyword())
	}},
	{newRequest: func() validatable { return new(FeedQueryRequest) }, accepted: func(t *testing.T, m proto.Message) {
		requireKeyword(t, m.(*FeedQueryRequest).GetKeyword())
	}},
	{newRequest: func() validatable { return new(FeedReviewRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*FeedReviewRequest)
		require.NotZero(t, r.GetId())
		s := r.GetReviewStatus()
		require.True(t, s == commonpb.ReviewStatus_ReviewPass || s == commonpb.ReviewStatus_ReviewFail, "accepted review_status %v", s)
		requireFreeText(t, "remark", r.GetRemark(), 0, MaxRemarkLength)
	}},
	{newRequest: func() validatable { return new(FeedCommentCreateRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*FeedCommentCreateRequest)
		require.NotZero(t, r.GetFeedId())
		requireFreeText(t, "content", strings.TrimSpace(r.GetContent()), 1, MaxCommentLength)
	}},
	{newRequest: func() validatable { return new(FeedCommentListRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*FeedCommentListRequest).GetFeedId())
	}},
	{newRequest: func() validatable { return new(FeedCommentDeleteRequest) }, accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*FeedCommentDeleteRequest).GetId())
	}},
}

// requirePost: a Txt feed has 1–5000 characters of (trimmed) content and no
// resources; an Image feed 1–9 image URLs, a Video feed exactly one; the
// content is stored trimmed and never holds NUL.
func requirePost(t *testing.T, typ FeedType, content string, resources []string) {
	t.Helper()
	content = strings.TrimSpace(content)
	switch typ {
	case FeedType_Txt:
		requireFreeText(t, "content", content, 1, MaxContentLength)
		require.Empty(t, resources, "accepted a Txt feed with resources")
	case FeedType_Image:
		require.True(t, len(resources) >= 1 && len(resources) <= MaxImages, "accepted an Image feed with %d images", len(resources))
	case FeedType_Video:
		require.Len(t, resources, 1, "accepted a Video feed with %d videos", len(resources))
	default:
		require.Failf(t, "accepted an undefined feed type", "%d", typ)
	}
	requireFreeText(t, "content", content, 0, MaxContentLength)
	for _, r := range resources {
		requireHTTPURL(t, "resource", r)
	}
}

func requireKeyword(t *testing.T, keyword string) {
	t.Helper()
	requireFreeText(t, "keyword", strings.TrimSpace(keyword), 0, MaxKeywordLength)
}

// requireFreeText: min–max characters and no NUL (PostgreSQL text cannot
// hold it); newlines and tabs are fine.
func requireFreeText(t *testing.T, field, s string, min, max int) {
	t.Helper()
	n := utf8.RuneCountInString(s)
	require.True(t, n >= min && n <= max, "accepted %s of %d characters, want %d–%d", field, n, min, max)
	require.NotContains(t, s, "\x00", "accepted %s with NUL", field)
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

func allRequestTypes() []requestType { return feedRequestTypes }

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
