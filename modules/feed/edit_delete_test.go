package feed_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/modules/feed"
	"github.com/parley-im/parley/platform/testkit"
)

func TestFeedEdit(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann")
	bob := e.signUp(t, "bob")
	admin := e.signUpAdmin(t, "admin")

	f := e.create(t, ann, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Content: "three", Resource: imageURLs(3)})
	edit := func(p person, req *feedpb.FeedEditRequest) error {
		req.Id = f.GetId()
		resp, err := e.feeds.FeedEdit(p.ctx, req)
		if err == nil {
			require.Equal(t, f.GetId(), resp.GetId(), "FeedEdit returns the id")
		}
		return err
	}

	t.Run("only the owner edits", func(t *testing.T) {
		testkit.RequireCode(t, edit(bob, &feedpb.FeedEditRequest{Type: feedpb.FeedType_Txt, Content: "bob's"}), codes.PermissionDenied)
		testkit.RequireCode(t, edit(admin, &feedpb.FeedEditRequest{Type: feedpb.FeedType_Txt, Content: "admin's"}), codes.PermissionDenied)
		_, err := e.feeds.FeedEdit(ann.ctx, &feedpb.FeedEditRequest{Id: f.GetId() + 1_000_000, Type: feedpb.FeedType_Txt, Content: "x"})
		testkit.RequireCode(t, err, codes.NotFound)
		got := e.get(t, ann, f.GetId())
		require.Equal(t, "three", got.GetContent())
		require.Equal(t, imageURLs(3), imageURLsOf(got))
	})

	t.Run("new images replace the old", func(t *testing.T) {
		urls := []string{"https://cdn.example.com/new/b.png", "https://cdn.example.com/new/a.png"}
		require.NoError(t, edit(ann, &feedpb.FeedEditRequest{Type: feedpb.FeedType_Image, Content: "two", Resource: urls}))
		got := e.get(t, bob, f.GetId())
		require.Equal(t, "two", got.GetContent())
		require.Equal(t, urls, imageURLsOf(got))
		require.True(t, got.GetUpdatedAt().AsTime().After(got.GetCreatedAt().AsTime()))
	})

	t.Run("Image to Txt removes the images", func(t *testing.T) {
		require.NoError(t, edit(ann, &feedpb.FeedEditRequest{Type: feedpb.FeedType_Txt, Content: "just text"}))
		got := e.get(t, bob, f.GetId())
		require.Equal(t, feedpb.FeedType_Txt, got.GetType())
		require.Equal(t, "just text", got.GetContent())
		require.Empty(t, got.GetImages())
		require.Nil(t, got.GetVideo())
	})

	t.Run("Txt to Video", func(t *testing.T) {
		require.NoError(t, edit(ann, &feedpb.FeedEditRequest{Type: feedpb.FeedType_Video, Resource: []string{"https://cdn.example.com/v1.mp4"}}))
		got := e.get(t, bob, f.GetId())
		require.Equal(t, feedpb.FeedType_Video, got.GetType())
		require.Empty(t, got.GetContent())
		require.Equal(t, "https://cdn.example.com/v1.mp4", got.GetVideo().GetVideoUrl())
	})

	t.Run("Video to another Video", func(t *testing.T) {
		require.NoError(t, edit(ann, &feedpb.FeedEditRequest{Type: feedpb.FeedType_Video, Resource: []string{"https://cdn.example.com/v2.mp4"}}))
		got := e.get(t, bob, f.GetId())
		require.Equal(t, "https://cdn.example.com/v2.mp4", got.GetVideo().GetVideoUrl())
	})

	t.Run("Video to Image removes the video", func(t *testing.T) {
		require.NoError(t, edit(ann, &feedpb.FeedEditRequest{Type: feedpb.FeedType_Image, Resource: imageURLs(1)}))
		got := e.get(t, bob, f.GetId())
		require.Equal(t, feedpb.FeedType_Image, got.GetType())
		require.Nil(t, got.GetVideo())
		require.Equal(t, imageURLs(1), imageURLsOf(got))
	})

	t.Run("lists show the edit", func(t *testing.T) {
		own, err := e.feeds.FeedOwn(ann.ctx, &feedpb.FeedOwnRequest{})
		require.NoError(t, err)
		require.Len(t, own.GetFeed(), 1)
		require.Equal(t, imageURLs(1), imageURLsOf(own.GetFeed()[0]))
		require.Nil(t, own.GetFeed()[0].GetVideo())
	})
}

// TestConcurrentEditsDoNotMix shows an edit replaces the media as one step:
// after concurrent edits the feed has exactly one edit's images.
func TestConcurrentEditsDoNotMix(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann")
	f := e.create(t, ann, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Resource: imageURLs(1)})

	sets := make([][]string, 10)
	for i := range sets {
		for j := range 3 {
			sets[i] = append(sets[i], fmt.Sprintf("https://cdn.example.com/edit%d/%d.png", i, j))
		}
	}
	var g errgroup.Group
	for i, urls := range sets {
		g.Go(func() error {
			_, err := e.feeds.FeedEdit(ann.ctx, &feedpb.FeedEditRequest{
				Id: f.GetId(), Type: feedpb.FeedType_Image, Content: fmt.Sprint("edit ", i), Resource: urls,
			})
			return err
		})
	}
	require.NoError(t, g.Wait())
	got := e.get(t, ann, f.GetId())
	var i int
	_, err := fmt.Sscanf(got.GetContent(), "edit %d", &i)
	require.NoError(t, err)
	require.Equal(t, sets[i], imageURLsOf(got), "the images are those of the edit whose content won")
}

func TestFeedDelete(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann")
	bob := e.signUp(t, "bob")
	admin := e.signUpAdmin(t, "admin")
	e.follow(t, bob, ann)
	tag := testkit.Unique("del")

	f := e.post(t, ann, "to be deleted "+tag)
	e.like(t, bob, f.GetId())
	c := e.comment(t, bob, f.GetId(), "a comment")
	require.Equal(t, public, e.observe(t, bob, f, tag), "precondition: the feed is visible everywhere")

	_, err := e.feeds.FeedDelete(bob.ctx, &feedpb.FeedDeleteRequest{Id: f.GetId()})
	testkit.RequireCode(t, err, codes.PermissionDenied)
	e.get(t, bob, f.GetId())

	_, err = e.feeds.FeedDelete(ann.ctx, &feedpb.FeedDeleteRequest{Id: f.GetId()})
	require.NoError(t, err)

	for _, p := range []person{ann, bob, admin} {
		v := e.observe(t, p, f, tag)
		require.Equal(t, hidden, v, "after delete, as %s", p.nickname)
	}
	for name, call := range map[string]func(context.Context) error{
		"FeedEdit": func(ctx context.Context) error {
			_, err := e.feeds.FeedEdit(ctx, &feedpb.FeedEditRequest{Id: f.GetId(), Type: feedpb.FeedType_Txt, Content: "back"})
			return err
		},
		"FeedDelete": func(ctx context.Context) error {
			_, err := e.feeds.FeedDelete(ctx, &feedpb.FeedDeleteRequest{Id: f.GetId()})
			return err
		},
		"FeedUnLike": func(ctx context.Context) error {
			_, err := e.feeds.FeedUnLike(ctx, &feedpb.FeedUnLikeRequest{Id: f.GetId()})
			return err
		},
		"FeedCommentDelete": func(ctx context.Context) error {
			_, err := e.feeds.FeedCommentDelete(ctx, &feedpb.FeedCommentDeleteRequest{Id: c.GetId()})
			return err
		},
	} {
		t.Run(name+" after delete", func(t *testing.T) {
			testkit.RequireCode(t, call(ann.ctx), codes.NotFound)
			testkit.RequireCode(t, call(bob.ctx), codes.NotFound)
		})
	}
	_, err = e.feeds.FeedReview(admin.ctx, &feedpb.FeedReviewRequest{Id: f.GetId(), ReviewStatus: commonpb.ReviewStatus_ReviewPass})
	testkit.RequireCode(t, err, codes.NotFound) // a review does not bring a deleted feed back

	own, err := e.feeds.FeedOwn(ann.ctx, &feedpb.FeedOwnRequest{})
	require.NoError(t, err)
	require.Empty(t, own.GetFeed())
	require.Zero(t, own.GetPager().GetTotalRows())

	t.Run("an admin deletes another user's feed", func(t *testing.T) {
		g := e.post(t, ann, "admin will remove "+tag)
		_, err := e.feeds.FeedDelete(admin.ctx, &feedpb.FeedDeleteRequest{Id: g.GetId()})
		require.NoError(t, err)
		_, err = e.feeds.FeedGet(ann.ctx, &feedpb.FeedGetRequest{Id: g.GetId()})
		testkit.RequireCode(t, err, codes.NotFound)
		q, err := e.feeds.FeedQuery(bob.ctx, &feedpb.FeedQueryRequest{Keyword: tag})
		require.NoError(t, err)
		require.False(t, slices.Contains(feedIDs(q.GetFeed()), g.GetId()))
	})
}
