package feed_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/api/rules/feedrules"
	"github.com/parley-im/parley/modules/feed"
	"github.com/parley-im/parley/platform/testkit"
)

func imageURLs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("https://cdn.example.com/img/%d.png", i)
	}
	return out
}

func imageURLsOf(f *feedpb.Feed) []string {
	var out []string
	for _, img := range f.GetImages() {
		out = append(out, img.GetImgUrl())
	}
	return out
}

func TestFeedCreate(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann")
	bob := e.signUp(t, "bob")

	t.Run("Txt", func(t *testing.T) {
		f := e.post(t, ann, "hello, 世界")
		require.Equal(t, ann.id, f.GetUserId())
		require.Equal(t, feedpb.FeedType_Txt, f.GetType())
		require.Equal(t, "hello, 世界", f.GetContent())
		require.Equal(t, commonpb.ReviewStatus_ReviewPass, f.GetReviewStatus(), "moderation off: public at once")
		require.Equal(t, commonpb.IsEnable_Enable, f.GetIsEnable())
		require.Zero(t, f.GetLikeCount())
		require.Zero(t, f.GetViewCount())
		require.Zero(t, f.GetCommentCount())
		require.Empty(t, f.GetImages())
		require.Nil(t, f.GetVideo())
		require.False(t, f.GetLiked())
		require.WithinDuration(t, time.Now(), f.GetCreatedAt().AsTime(), time.Minute)
		require.NotZero(t, f.GetHot())

		got := e.get(t, bob, f.GetId())
		require.Equal(t, f.GetContent(), got.GetContent(), "another user sees the public feed")
	})

	t.Run("Txt of 5000 characters", func(t *testing.T) {
		content := strings.Repeat("字", feedrules.MaxContentLength)
		f := e.post(t, ann, content)
		require.Equal(t, content, e.get(t, ann, f.GetId()).GetContent())
	})

	t.Run("Image keeps its URLs in order", func(t *testing.T) {
		urls := []string{"https://cdn.example.com/c.png", "http://cdn.example.com/a.png", "https://cdn.example.com/b.png"}
		f := e.create(t, ann, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Resource: urls})
		require.Equal(t, feedpb.FeedType_Image, f.GetType())
		require.Empty(t, f.GetContent(), "content may be empty for a media post")
		require.Equal(t, urls, imageURLsOf(f))
		require.Nil(t, f.GetVideo())
		for _, img := range f.GetImages() {
			require.Equal(t, f.GetId(), img.GetFeedId())
			require.NotZero(t, img.GetId())
		}
		got := e.get(t, bob, f.GetId())
		require.Equal(t, urls, imageURLsOf(got), "FeedGet returns the images in order")
	})

	t.Run("Image with nine URLs and a caption", func(t *testing.T) {
		f := e.create(t, ann, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Content: "nine", Resource: imageURLs(feedrules.MaxImages)})
		require.Equal(t, imageURLs(feedrules.MaxImages), imageURLsOf(e.get(t, ann, f.GetId())))
		require.Equal(t, "nine", f.GetContent())
	})

	t.Run("Video", func(t *testing.T) {
		f := e.create(t, ann, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Video, Resource: []string{"https://cdn.example.com/v.mp4"}})
		require.Equal(t, feedpb.FeedType_Video, f.GetType())
		require.Empty(t, f.GetImages())
		require.NotNil(t, f.GetVideo())
		require.Equal(t, "https://cdn.example.com/v.mp4", f.GetVideo().GetVideoUrl())
		require.Equal(t, f.GetId(), f.GetVideo().GetFeedId())
		got := e.get(t, bob, f.GetId())
		require.Equal(t, "https://cdn.example.com/v.mp4", got.GetVideo().GetVideoUrl())
	})
}

func TestFeedCreateValidation(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann")
	video := []string{"https://cdn.example.com/v.mp4"}

	tests := []struct {
		name      string
		req       *feedpb.FeedCreateRequest
		wantField string
	}{
		{"undefined type", &feedpb.FeedCreateRequest{Type: feedpb.FeedType(3), Content: "x"}, "type"},
		{"Txt empty", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt}, "content"},
		{"Txt blank", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: " \t\n "}, "content"},
		{"Txt of 5001 characters", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: strings.Repeat("字", feedrules.MaxContentLength+1)}, "content"},
		{"Txt with a resource", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "x", Resource: imageURLs(1)}, "resource"},
		{"Txt with NUL", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "a\x00b"}, "content"},
		{"Image without URLs", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Content: "x"}, "resource"},
		{"Image with ten URLs", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Resource: imageURLs(feedrules.MaxImages + 1)}, "resource"},
		{"Image with an ftp URL", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Resource: []string{imageURLs(1)[0], "ftp://cdn.example.com/a.png"}}, "resource[1]"},
		{"Image with a URL over 1024 bytes", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Resource: []string{"https://cdn.example.com/" + strings.Repeat("a", 1010)}}, "resource[0]"},
		{"Image with a relative URL", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Resource: []string{"/a.png"}}, "resource[0]"},
		{"Image with NUL in content", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Content: "a\x00", Resource: imageURLs(1)}, "content"},
		{"Image with 5001 characters", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Content: strings.Repeat("a", feedrules.MaxContentLength+1), Resource: imageURLs(1)}, "content"},
		{"Video without a URL", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Video}, "resource"},
		{"Video with two URLs", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Video, Resource: append(video, video...)}, "resource"},
		{"Video with a non-http URL", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Video, Resource: []string{"javascript:alert(1)"}}, "resource[0]"},
		{"Video with NUL in content", &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Video, Content: "\x00", Resource: video}, "content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.feeds.FeedCreate(ann.ctx, tt.req)
			st := testkit.RequireCode(t, err, codes.InvalidArgument)
			require.True(t, strings.HasPrefix(st.Message(), tt.wantField+":"), "message %q should name %q", st.Message(), tt.wantField)
		})
	}

	own, err := e.feeds.FeedOwn(ann.ctx, &feedpb.FeedOwnRequest{})
	require.NoError(t, err)
	require.Empty(t, own.GetFeed(), "no rejected request created a feed")

	// FeedEdit checks a post the same way, and needs the id.
	f := e.post(t, ann, "to edit")
	_, err = e.feeds.FeedEdit(ann.ctx, &feedpb.FeedEditRequest{Type: feedpb.FeedType_Txt, Content: "x"})
	st := testkit.RequireCode(t, err, codes.InvalidArgument)
	require.Contains(t, st.Message(), "id")
	for _, tt := range tests {
		_, err := e.feeds.FeedEdit(ann.ctx, &feedpb.FeedEditRequest{Id: f.GetId(), Type: tt.req.GetType(), Content: tt.req.GetContent(), Resource: tt.req.GetResource()})
		st := testkit.RequireCode(t, err, codes.InvalidArgument)
		require.True(t, strings.HasPrefix(st.Message(), tt.wantField+":"), "edit %s: message %q", tt.name, st.Message())
	}
	require.Equal(t, "to edit", e.get(t, ann, f.GetId()).GetContent(), "rejected edits change nothing")
}

// TestAnonymousCalls shows every FeedService method but Ping needs a token.
func TestAnonymousCalls(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann")
	f := e.post(t, ann, "public")
	c := e.feeds
	calls := map[string]func(ctx context.Context) error{
		"FeedCreate": func(ctx context.Context) error {
			_, err := c.FeedCreate(ctx, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "x"})
			return err
		},
		"FeedEdit": func(ctx context.Context) error {
			_, err := c.FeedEdit(ctx, &feedpb.FeedEditRequest{Id: f.GetId(), Type: feedpb.FeedType_Txt, Content: "x"})
			return err
		},
		"FeedLike": func(ctx context.Context) error {
			_, err := c.FeedLike(ctx, &feedpb.FeedLikeRequest{Id: f.GetId()})
			return err
		},
		"FeedUnLike": func(ctx context.Context) error {
			_, err := c.FeedUnLike(ctx, &feedpb.FeedUnLikeRequest{Id: f.GetId()})
			return err
		},
		"FeedGet": func(ctx context.Context) error {
			_, err := c.FeedGet(ctx, &feedpb.FeedGetRequest{Id: f.GetId()})
			return err
		},
		"FeedDelete": func(ctx context.Context) error {
			_, err := c.FeedDelete(ctx, &feedpb.FeedDeleteRequest{Id: f.GetId()})
			return err
		},
		"FeedOwn": func(ctx context.Context) error {
			_, err := c.FeedOwn(ctx, &feedpb.FeedOwnRequest{})
			return err
		},
		"FeedQuery": func(ctx context.Context) error {
			_, err := c.FeedQuery(ctx, &feedpb.FeedQueryRequest{Keyword: "public"})
			return err
		},
		"FeedFollow": func(ctx context.Context) error {
			_, err := c.FeedFollow(ctx, &feedpb.FeedFollowRequest{})
			return err
		},
		"FeedRecommend": func(ctx context.Context) error {
			_, err := c.FeedRecommend(ctx, &feedpb.FeedRecommendRequest{})
			return err
		},
		"FeedReview": func(ctx context.Context) error {
			_, err := c.FeedReview(ctx, &feedpb.FeedReviewRequest{Id: f.GetId(), ReviewStatus: commonpb.ReviewStatus_ReviewPass})
			return err
		},
		"FeedCommentCreate": func(ctx context.Context) error {
			_, err := c.FeedCommentCreate(ctx, &feedpb.FeedCommentCreateRequest{FeedId: f.GetId(), Content: "x"})
			return err
		},
		"FeedCommentList": func(ctx context.Context) error {
			_, err := c.FeedCommentList(ctx, &feedpb.FeedCommentListRequest{FeedId: f.GetId()})
			return err
		},
		"FeedCommentDelete": func(ctx context.Context) error {
			_, err := c.FeedCommentDelete(ctx, &feedpb.FeedCommentDeleteRequest{Id: 1})
			return err
		},
	}
	// Every method of the service but Ping is listed above.
	require.Len(t, calls, len(feedpb.FeedService_ServiceDesc.Methods)-1)

	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			testkit.RequireCode(t, call(context.Background()), codes.Unauthenticated)
			testkit.RequireCode(t, call(testkit.WithToken(strings.Repeat("A", 43))), codes.Unauthenticated)
		})
	}
	t.Run("Ping", func(t *testing.T) {
		_, err := c.Ping(context.Background(), &commonpb.PingRequest{})
		require.NoError(t, err)
	})

	got := e.get(t, ann, f.GetId())
	require.Equal(t, "public", got.GetContent(), "anonymous edits changed nothing")
	require.Zero(t, got.GetLikeCount())
	require.Zero(t, got.GetCommentCount())
}
