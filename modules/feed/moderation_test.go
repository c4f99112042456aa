package feed_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/modules/feed"
	"github.com/parley-im/parley/platform/testkit"
)

// visibility is what one user can see of one feed through every read path.
type visibility struct {
	get, like, commentCreate, commentList     codes.Code // codes.OK or NotFound
	inQuery, inProfile, inFollow, inRecommend bool
}

// observe reads feed f as viewer through every path. keyword finds f with
// FeedQuery; inProfile is FeedQuery by f's author (user_id); viewer must
// follow f's author for FeedFollow to be meaningful.
func (e *env) observe(t *testing.T, viewer person, f *feedpb.Feed, keyword string) visibility {
	t.Helper()
	var v visibility
	_, err := e.feeds.FeedGet(viewer.ctx, &feedpb.FeedGetRequest{Id: f.GetId()})
	v.get = status.Code(err)
	_, err = e.feeds.FeedLike(viewer.ctx, &feedpb.FeedLikeRequest{Id: f.GetId()})
	v.like = status.Code(err)
	_, err = e.feeds.FeedCommentCreate(viewer.ctx, &feedpb.FeedCommentCreateRequest{FeedId: f.GetId(), Content: "seen"})
	v.commentCreate = status.Code(err)
	_, err = e.feeds.FeedCommentList(viewer.ctx, &feedpb.FeedCommentListRequest{FeedId: f.GetId()})
	v.commentList = status.Code(err)

	q, err := e.feeds.FeedQuery(viewer.ctx, &feedpb.FeedQueryRequest{Keyword: keyword, Num: 100})
	require.NoError(t, err)
	v.inQuery = slices.Contains(feedIDs(q.GetFeed()), f.GetId())
	p, err := e.feeds.FeedQuery(viewer.ctx, &feedpb.FeedQueryRequest{UserId: f.GetUserId(), Num: 100})
	require.NoError(t, err)
	v.inProfile = slices.Contains(feedIDs(p.GetFeed()), f.GetId())
	fl, err := e.feeds.FeedFollow(viewer.ctx, &feedpb.FeedFollowRequest{Num: 100})
	require.NoError(t, err)
	v.inFollow = slices.Contains(feedIDs(fl.GetFeed()), f.GetId())
	r, err := e.feeds.FeedRecommend(viewer.ctx, &feedpb.FeedRecommendRequest{Num: 100})
	require.NoError(t, err)
	v.inRecommend = slices.Contains(feedIDs(r.GetFeed()), f.GetId())
	return v
}

var (
	hidden = visibility{get: codes.NotFound, like: codes.NotFound, commentCreate: codes.NotFound, commentList: codes.NotFound}
	public = visibility{inQuery: true, inProfile: true, inFollow: true, inRecommend: true}
)

func TestModerationOffPublishesAtOnce(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann")
	bob := e.signUp(t, "bob")
	e.follow(t, bob, ann)
	tag := testkit.Unique("off")

	f := e.post(t, ann, "hello "+tag)
	require.Equal(t, commonpb.ReviewStatus_ReviewPass, f.GetReviewStatus())
	require.Equal(t, public, e.observe(t, bob, f, tag))

	_, err := e.feeds.FeedEdit(ann.ctx, &feedpb.FeedEditRequest{Id: f.GetId(), Type: feedpb.FeedType_Txt, Content: "edited " + tag})
	require.NoError(t, err)
	got := e.get(t, bob, f.GetId())
	require.Equal(t, commonpb.ReviewStatus_ReviewPass, got.GetReviewStatus(), "an edit stays public")
	require.Equal(t, "edited "+tag, got.GetContent())
}

func TestModerationPre(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationPre)
	ann := e.signUp(t, "ann")
	bob := e.signUp(t, "bob")
	admin := e.signUpAdmin(t, "admin")
	e.follow(t, bob, ann)
	tag := testkit.Unique("pre")

	f := e.post(t, ann, "waiting "+tag)
	require.Equal(t, commonpb.ReviewStatus_ReviewTo, f.GetReviewStatus())

	t.Run("a new feed is hidden from others", func(t *testing.T) {
		require.Equal(t, hidden, e.observe(t, bob, f, tag))
		_, err := e.feeds.FeedUnLike(bob.ctx, &feedpb.FeedUnLikeRequest{Id: f.GetId()})
		testkit.RequireCode(t, err, codes.NotFound)
	})

	t.Run("its owner and admins see it", func(t *testing.T) {
		require.Equal(t, commonpb.ReviewStatus_ReviewTo, e.get(t, ann, f.GetId()).GetReviewStatus())
		require.Equal(t, "waiting "+tag, e.get(t, admin, f.GetId()).GetContent())
		for _, p := range []person{ann, admin} {
			_, err := e.feeds.FeedCommentList(p.ctx, &feedpb.FeedCommentListRequest{FeedId: f.GetId()})
			require.NoError(t, err)
		}
		own, err := e.feeds.FeedOwn(ann.ctx, &feedpb.FeedOwnRequest{ReviewStatus: commonpb.ReviewStatus_ReviewTo})
		require.NoError(t, err)
		require.Equal(t, []uint64{f.GetId()}, feedIDs(own.GetFeed()))
	})

	t.Run("only admins review", func(t *testing.T) {
		for _, p := range []person{bob, ann} {
			_, err := e.feeds.FeedReview(p.ctx, &feedpb.FeedReviewRequest{Id: f.GetId(), ReviewStatus: commonpb.ReviewStatus_ReviewPass})
			testkit.RequireCode(t, err, codes.PermissionDenied)
		}
		require.Equal(t, commonpb.ReviewStatus_ReviewTo, e.get(t, ann, f.GetId()).GetReviewStatus())
	})

	t.Run("review requests are checked", func(t *testing.T) {
		for _, s := range []commonpb.ReviewStatus{commonpb.ReviewStatus_ReviewInit, commonpb.ReviewStatus_ReviewTo, commonpb.ReviewStatus(9)} {
			_, err := e.feeds.FeedReview(admin.ctx, &feedpb.FeedReviewRequest{Id: f.GetId(), ReviewStatus: s})
			st := testkit.RequireCode(t, err, codes.InvalidArgument)
			require.Contains(t, st.Message(), "review_status")
		}
		_, err := e.feeds.FeedReview(admin.ctx, &feedpb.FeedReviewRequest{ReviewStatus: commonpb.ReviewStatus_ReviewPass})
		testkit.RequireCode(t, err, codes.InvalidArgument)
		_, err = e.feeds.FeedReview(admin.ctx, &feedpb.FeedReviewRequest{Id: f.GetId() + 1_000_000, ReviewStatus: commonpb.ReviewStatus_ReviewPass})
		testkit.RequireCode(t, err, codes.NotFound)
	})

	// The subtests above run in order; from here the feed changes state.
	_, err := e.feeds.FeedReview(admin.ctx, &feedpb.FeedReviewRequest{Id: f.GetId(), ReviewStatus: commonpb.ReviewStatus_ReviewPass, Remark: "looks fine"})
	require.NoError(t, err)
	got := e.get(t, bob, f.GetId())
	require.Equal(t, commonpb.ReviewStatus_ReviewPass, got.GetReviewStatus())
	require.Equal(t, admin.id, got.GetOperator())
	require.Equal(t, "looks fine", got.GetRemark())
	e.like(t, bob, f.GetId()) // engagement keeps it among the hottest feeds of the shared database
	require.Equal(t, public, e.observe(t, bob, f, tag), "public once passed")

	// An edit goes back to review.
	_, err = e.feeds.FeedEdit(ann.ctx, &feedpb.FeedEditRequest{Id: f.GetId(), Type: feedpb.FeedType_Txt, Content: "edited " + tag})
	require.NoError(t, err)
	require.Equal(t, commonpb.ReviewStatus_ReviewTo, e.get(t, ann, f.GetId()).GetReviewStatus())
	require.Equal(t, hidden, e.observe(t, bob, f, tag), "hidden again after an edit")

	// A failed review keeps it hidden.
	_, err = e.feeds.FeedReview(admin.ctx, &feedpb.FeedReviewRequest{Id: f.GetId(), ReviewStatus: commonpb.ReviewStatus_ReviewFail, Remark: "spam"})
	require.NoError(t, err)
	require.Equal(t, hidden, e.observe(t, bob, f, tag), "hidden after a failed review")
	got = e.get(t, ann, f.GetId())
	require.Equal(t, commonpb.ReviewStatus_ReviewFail, got.GetReviewStatus())
	require.Equal(t, admin.id, got.GetOperator())
	require.Equal(t, "spam", got.GetRemark())
	require.Equal(t, "edited "+tag, got.GetContent())
	own, err := e.feeds.FeedOwn(ann.ctx, &feedpb.FeedOwnRequest{ReviewStatus: commonpb.ReviewStatus_ReviewFail})
	require.NoError(t, err)
	require.Equal(t, []uint64{f.GetId()}, feedIDs(own.GetFeed()))

	// A stranger cannot tell a hidden feed exists: edit and delete say NotFound.
	_, err = e.feeds.FeedEdit(bob.ctx, &feedpb.FeedEditRequest{Id: f.GetId(), Type: feedpb.FeedType_Txt, Content: "mine"})
	testkit.RequireCode(t, err, codes.NotFound)
	_, err = e.feeds.FeedDelete(bob.ctx, &feedpb.FeedDeleteRequest{Id: f.GetId()})
	testkit.RequireCode(t, err, codes.NotFound)

	// An admin may delete a hidden feed.
	_, err = e.feeds.FeedDelete(admin.ctx, &feedpb.FeedDeleteRequest{Id: f.GetId()})
	require.NoError(t, err)
	_, err = e.feeds.FeedGet(ann.ctx, &feedpb.FeedGetRequest{Id: f.GetId()})
	testkit.RequireCode(t, err, codes.NotFound)
}

// Without moderation an edit keeps the feed's review state: the owner cannot
// undo an admin's rejection by editing.
func TestModerationOffEditKeepsRejection(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann")
	bob := e.signUp(t, "bob")
	admin := e.signUpAdmin(t, "admin")
	f := e.post(t, ann, "spam "+testkit.Unique("rej"))

	_, err := e.feeds.FeedReview(admin.ctx, &feedpb.FeedReviewRequest{Id: f.GetId(), ReviewStatus: commonpb.ReviewStatus_ReviewFail, Remark: "spam"})
	require.NoError(t, err)
	_, err = e.feeds.FeedEdit(ann.ctx, &feedpb.FeedEditRequest{Id: f.GetId(), Type: feedpb.FeedType_Txt, Content: "  not spam, honest  "})
	require.NoError(t, err)

	own := e.get(t, ann, f.GetId())
	require.Equal(t, commonpb.ReviewStatus_ReviewFail, own.GetReviewStatus())
	require.Equal(t, "not spam, honest", own.GetContent(), "content is stored trimmed")
	_, err = e.feeds.FeedGet(bob.ctx, &feedpb.FeedGetRequest{Id: f.GetId()})
	testkit.RequireCode(t, err, codes.NotFound)
}
