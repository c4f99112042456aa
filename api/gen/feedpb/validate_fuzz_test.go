package feedpb

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/commonpb"

	"github.com/parley-im/parley/platform/validate/validatefuzz"
)

// FuzzValidate decodes the input as a request, the way the gRPC codec does
// before the validator interceptor runs, and checks what Validate promises.
// kind picks the request type: an index into feedRequestTypes.
func FuzzValidate(f *testing.F) {
	const img = "https://example.com/1.jpg"
	nineImages := []string{img, img, img, img, img, img, img, img, img}
	feedRequestTypes.AddValidSeeds(f,
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
	feedRequestTypes.AddSeeds(f,
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
	)
	// Bytes the codec refuses: a truncated field and a string with invalid UTF-8.
	f.Add(uint8(0), []byte{0x12, 0x05, 'a'})
	f.Add(uint8(0), []byte{0x12, 0x02, 0xff, 0xfe})

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		feedRequestTypes.Check(t, kind, data)
	})
}

// feedRequestTypes are the package's request types with a Validate method.
// Append only: committed corpus files select a type by its index.
var feedRequestTypes = validatefuzz.Types{
	{New: func() validatefuzz.Request { return new(FeedCreateRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*FeedCreateRequest)
		requirePost(t, r.GetType(), r.GetContent(), r.GetResource())
	}},
	{New: func() validatefuzz.Request { return new(FeedEditRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*FeedEditRequest)
		require.NotZero(t, r.GetId())
		requirePost(t, r.GetType(), r.GetContent(), r.GetResource())
	}},
	{New: func() validatefuzz.Request { return new(FeedGetRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*FeedGetRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(FeedDeleteRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*FeedDeleteRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(FeedLikeRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*FeedLikeRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(FeedUnLikeRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*FeedUnLikeRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(FeedOwnRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*FeedOwnRequest)
		s := r.GetReviewStatus()
		require.True(t, s >= commonpb.ReviewStatus_ReviewInit && s <= commonpb.ReviewStatus_ReviewFail, "accepted review_status %d", s)
		requireKeyword(t, r.GetKeyword())
	}},
	{New: func() validatefuzz.Request { return new(FeedQueryRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		requireKeyword(t, m.(*FeedQueryRequest).GetKeyword())
	}},
	{New: func() validatefuzz.Request { return new(FeedReviewRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*FeedReviewRequest)
		require.NotZero(t, r.GetId())
		s := r.GetReviewStatus()
		require.True(t, s == commonpb.ReviewStatus_ReviewPass || s == commonpb.ReviewStatus_ReviewFail, "accepted review_status %v", s)
		requireFreeText(t, "remark", r.GetRemark(), 0, MaxRemarkLength)
	}},
	{New: func() validatefuzz.Request { return new(FeedCommentCreateRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*FeedCommentCreateRequest)
		require.NotZero(t, r.GetFeedId())
		requireFreeText(t, "content", strings.TrimSpace(r.GetContent()), 1, MaxCommentLength)
	}},
	{New: func() validatefuzz.Request { return new(FeedCommentListRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*FeedCommentListRequest).GetFeedId())
	}},
	{New: func() validatefuzz.Request { return new(FeedCommentDeleteRequest) }, Accepted: func(t *testing.T, m proto.Message) {
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
		validatefuzz.RequireHTTPURL(t, "resource", r)
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
	validatefuzz.RequireRunes(t, field, s, min, max)
	require.NotContains(t, s, "\x00", "accepted %s with NUL", field)
}
