package feedrules

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"

	"github.com/parley-im/parley/platform/validate/validatefuzz"
)

// FuzzValidate decodes the input as a request, the way the gRPC codec does
// before the validation interceptor runs, and checks what the rules promise.
// kind picks the request type: an index into feedRequestTypes.
func FuzzValidate(f *testing.F) {
	const img = "https://example.com/1.jpg"
	nineImages := []string{img, img, img, img, img, img, img, img, img}
	feedRequestTypes.AddValidSeeds(f,
		&feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "hello\nworld"},
		&feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: strings.Repeat("文", MaxContentLength)},
		&feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Resource: nineImages},
		&feedpb.FeedCreateRequest{Type: feedpb.FeedType_Video, Content: "clip", Resource: []string{"http://example.com/v.mp4"}},
		&feedpb.FeedEditRequest{Id: 1, Type: feedpb.FeedType_Image, Content: " caption ", Resource: []string{img}},
		&feedpb.FeedGetRequest{Id: 1},
		&feedpb.FeedDeleteRequest{Id: 1},
		&feedpb.FeedLikeRequest{Id: 1<<64 - 1},
		&feedpb.FeedUnLikeRequest{Id: 1},
		&feedpb.FeedOwnRequest{Keyword: "cat", ReviewStatus: commonpb.ReviewStatus_ReviewFail},
		&feedpb.FeedQueryRequest{Keyword: strings.Repeat("k", MaxKeywordLength), LastId: 1<<64 - 1, Num: 1<<64 - 1},
		&feedpb.FeedQueryRequest{UserId: 1<<64 - 1, Keyword: "cat"}, // any user_id: an unknown one has no feeds
		&feedpb.FeedReviewRequest{Id: 1, ReviewStatus: commonpb.ReviewStatus_ReviewPass, Remark: "ok"},
		&feedpb.FeedCommentCreateRequest{FeedId: 1, Content: "nice", ReplyToId: 2},
		&feedpb.FeedCommentListRequest{FeedId: 1},
		&feedpb.FeedCommentDeleteRequest{Id: 1},
	)
	feedRequestTypes.AddSeeds(f,
		&feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: " \n\t "},
		&feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: strings.Repeat("c", MaxContentLength+1)},
		&feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "a\x00b"},
		&feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "t", Resource: []string{img}},
		&feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image},
		&feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Resource: append(nineImages, img)},
		&feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Resource: []string{img, "javascript:alert(1)"}},
		&feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Resource: []string{img}, Content: "a\x00"},
		&feedpb.FeedCreateRequest{Type: feedpb.FeedType_Video, Resource: []string{img, img}},
		&feedpb.FeedCreateRequest{Type: 3, Content: "t"},
		&feedpb.FeedCreateRequest{Type: -1, Content: "t"},
		&feedpb.FeedEditRequest{Type: feedpb.FeedType_Txt, Content: "t"},
		&feedpb.FeedGetRequest{},
		&feedpb.FeedDeleteRequest{},
		&feedpb.FeedLikeRequest{},
		&feedpb.FeedUnLikeRequest{},
		&feedpb.FeedOwnRequest{ReviewStatus: 4},
		&feedpb.FeedOwnRequest{Keyword: "a\x00"},
		&feedpb.FeedQueryRequest{Keyword: strings.Repeat("k", MaxKeywordLength+1)},
		&feedpb.FeedReviewRequest{Id: 1, ReviewStatus: commonpb.ReviewStatus_ReviewInit},
		&feedpb.FeedReviewRequest{Id: 1, ReviewStatus: commonpb.ReviewStatus_ReviewPass, Remark: strings.Repeat("r", MaxRemarkLength+1)},
		&feedpb.FeedReviewRequest{ReviewStatus: commonpb.ReviewStatus_ReviewPass},
		&feedpb.FeedCommentCreateRequest{FeedId: 1, Content: "  "},
		&feedpb.FeedCommentCreateRequest{FeedId: 1, Content: strings.Repeat("c", MaxCommentLength+1)},
		&feedpb.FeedCommentCreateRequest{Content: "c"},
		&feedpb.FeedCommentListRequest{},
		&feedpb.FeedCommentDeleteRequest{},
	)
	// Bytes the codec refuses: a truncated field and a string with invalid UTF-8.
	f.Add(uint8(0), []byte{0x12, 0x05, 'a'})
	f.Add(uint8(0), []byte{0x12, 0x02, 0xff, 0xfe})

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		feedRequestTypes.Check(t, kind, data)
	})
}

// feedRequestTypes are the package's request types with rules.
// Append only: committed corpus files select a type by its index.
var feedRequestTypes = validatefuzz.NewTypes(Rules, []validatefuzz.Type{
	{New: func() validatefuzz.Request { return new(feedpb.FeedCreateRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*feedpb.FeedCreateRequest)
		requirePost(t, r.GetType(), r.GetContent(), r.GetResource())
	}},
	{New: func() validatefuzz.Request { return new(feedpb.FeedEditRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*feedpb.FeedEditRequest)
		require.NotZero(t, r.GetId())
		requirePost(t, r.GetType(), r.GetContent(), r.GetResource())
	}},
	{New: func() validatefuzz.Request { return new(feedpb.FeedGetRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*feedpb.FeedGetRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(feedpb.FeedDeleteRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*feedpb.FeedDeleteRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(feedpb.FeedLikeRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*feedpb.FeedLikeRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(feedpb.FeedUnLikeRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*feedpb.FeedUnLikeRequest).GetId())
	}},
	{New: func() validatefuzz.Request { return new(feedpb.FeedOwnRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*feedpb.FeedOwnRequest)
		s := r.GetReviewStatus()
		require.True(t, s >= commonpb.ReviewStatus_ReviewInit && s <= commonpb.ReviewStatus_ReviewFail, "accepted review_status %d", s)
		requireKeyword(t, r.GetKeyword())
	}},
	{New: func() validatefuzz.Request { return new(feedpb.FeedQueryRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		requireKeyword(t, m.(*feedpb.FeedQueryRequest).GetKeyword())
	}},
	{New: func() validatefuzz.Request { return new(feedpb.FeedReviewRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*feedpb.FeedReviewRequest)
		require.NotZero(t, r.GetId())
		s := r.GetReviewStatus()
		require.True(t, s == commonpb.ReviewStatus_ReviewPass || s == commonpb.ReviewStatus_ReviewFail, "accepted review_status %v", s)
		requireFreeText(t, "remark", r.GetRemark(), 0, MaxRemarkLength)
	}},
	{New: func() validatefuzz.Request { return new(feedpb.FeedCommentCreateRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*feedpb.FeedCommentCreateRequest)
		require.NotZero(t, r.GetFeedId())
		requireFreeText(t, "content", strings.TrimSpace(r.GetContent()), 1, MaxCommentLength)
	}},
	{New: func() validatefuzz.Request { return new(feedpb.FeedCommentListRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*feedpb.FeedCommentListRequest).GetFeedId())
	}},
	{New: func() validatefuzz.Request { return new(feedpb.FeedCommentDeleteRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		require.NotZero(t, m.(*feedpb.FeedCommentDeleteRequest).GetId())
	}},
})

// requirePost: a Txt feed has 1–5000 characters of (trimmed) content and no
// resources; an Image feed 1–9 image URLs, a Video feed exactly one; the
// content is stored trimmed and never holds NUL.
func requirePost(t *testing.T, typ feedpb.FeedType, content string, resources []string) {
	t.Helper()
	content = strings.TrimSpace(content)
	switch typ {
	case feedpb.FeedType_Txt:
		requireFreeText(t, "content", content, 1, MaxContentLength)
		require.Empty(t, resources, "accepted a Txt feed with resources")
	case feedpb.FeedType_Image:
		require.True(t, len(resources) >= 1 && len(resources) <= MaxImages, "accepted an Image feed with %d images", len(resources))
	case feedpb.FeedType_Video:
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
