package feed_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/api/rules/feedrules"
	"github.com/parley-im/parley/modules/feed"
	"github.com/parley-im/parley/platform/testkit"
)

// A viewer counts once per feed per day, however often and on whichever
// node it reads the feed: a tester's 50 FeedGet calls used to add 50 views
// and move the feed up the hot ranking.
func TestViewsCountOncePerViewerPerDay(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	other := setup(t, feed.ModerationOff) // a second node on the same database
	ann := e.signUp(t, "ann")
	viewers := e.signUpMany(t, "viewer", 5)
	f := e.post(t, ann, "watch me")

	const views = 50
	got := make([]uint64, 2*views)
	var g errgroup.Group
	for i := range 2 * views {
		node := []*env{e, other}[i%2]
		g.Go(func() error {
			resp, err := node.feeds.FeedGet(viewers[i%len(viewers)].ctx, &feedpb.FeedGetRequest{Id: f.GetId()})
			got[i] = resp.GetFeed().GetViewCount()
			return err
		})
	}
	require.NoError(t, g.Wait())
	for i, n := range got {
		require.GreaterOrEqual(t, n, uint64(1), "response %d does not count its own view", i)
		// A node shows a view another node counted until its flush returns.
		require.LessOrEqual(t, n, uint64(2*len(viewers)), "response %d counts views that never happened", i)
	}

	require.Eventually(t, func() bool {
		_, v, _ := e.dbCounts(t, f.GetId())
		return v == int64(len(viewers))
	}, 5*time.Second, flushInterval/2, "each viewer's view is written once")
	time.Sleep(3 * flushInterval)
	_, v, _ := e.dbCounts(t, f.GetId())
	require.EqualValues(t, len(viewers), v, "no viewer is counted twice")
	require.EqualValues(t, len(viewers), e.get(t, viewers[0], f.GetId()).GetViewCount())
	require.EqualValues(t, len(viewers), other.get(t, viewers[1], f.GetId()).GetViewCount())

	var hot, oneViewEach int64
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT hot, feeds.hot_score(0, 0, $2, created_at) FROM feeds.feeds WHERE id = $1`, int64(f.GetId()), len(viewers)).
		Scan(&hot, &oneViewEach))
	require.Equal(t, oneViewEach, hot, "the hot ranking counts each viewer once")

	newcomer := other.signUp(t, "newcomer")
	require.EqualValues(t, len(viewers)+1, other.get(t, newcomer, f.GetId()).GetViewCount())
	require.Eventually(t, func() bool {
		_, v, _ := e.dbCounts(t, f.GetId())
		return v == int64(len(viewers)+1)
	}, 5*time.Second, flushInterval/2)
}

// TestViewsWrittenOnStop shows Run writes the views still pending when its
// context ends.
func TestViewsWrittenOnStop(t *testing.T) {
	t.Parallel()
	e, stop := start(t, feed.ModerationOff, time.Hour)
	ann := e.signUp(t, "ann")
	f := e.post(t, ann, "seen before shutdown")
	for _, viewer := range e.signUpMany(t, "viewer", 7) {
		e.get(t, viewer, f.GetId())
		e.get(t, viewer, f.GetId())
	}
	_, v, _ := e.dbCounts(t, f.GetId())
	require.Zero(t, v, "precondition: nothing flushed yet")
	stop()
	_, v, _ = e.dbCounts(t, f.GetId())
	require.EqualValues(t, 7, v)
}

// TestFeedGetIncludesItsOwnView: each FeedGet response's view_count counts
// that very view and every viewer's view finished before it, whenever the
// module's background flush happens to run.
func TestFeedGetIncludesItsOwnView(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann")

	t.Run("sequential views by new and returning readers", func(t *testing.T) {
		f := e.post(t, ann, "count me")
		readers := e.signUpMany(t, "reader", 40)
		var wrong []string
		for k, reader := range readers {
			if n := e.get(t, reader, f.GetId()).GetViewCount(); n != uint64(k+1) {
				wrong = append(wrong, fmt.Sprintf("reader %d's first view reported %d", k+1, n))
			}
			if n := e.get(t, readers[k/2], f.GetId()).GetViewCount(); n != uint64(k+1) {
				wrong = append(wrong, fmt.Sprintf("a returning reader after %d reported %d", k+1, n))
			}
			time.Sleep(flushInterval / 5) // spans several flushes
		}
		require.Empty(t, wrong, "%d sequential FeedGet responses did not report exactly the viewers so far", len(wrong))
	})

	t.Run("concurrent views", func(t *testing.T) {
		// A response counts at least its own view and every viewer whose
		// response came back before its request went out, and never more
		// viewers than there are.
		f := e.post(t, ann, "count us")
		viewers := e.signUpMany(t, "viewer", 3)
		deadline := time.Now().Add(8 * flushInterval)
		var seen [3]atomic.Bool
		var mu sync.Mutex
		var wrong []string
		var g errgroup.Group
		for w := range 9 {
			g.Go(func() error {
				for time.Now().Before(deadline) {
					before := uint64(0)
					for i := range seen {
						if seen[i].Load() || i == w%3 {
							before++
						}
					}
					resp, err := e.feeds.FeedGet(viewers[w%3].ctx, &feedpb.FeedGetRequest{Id: f.GetId()})
					if err != nil {
						return err
					}
					seen[w%3].Store(true)
					if n := resp.GetFeed().GetViewCount(); n < before || n > 3 {
						mu.Lock()
						wrong = append(wrong, fmt.Sprintf("reported %d with %d viewers finished or in flight", n, before))
						mu.Unlock()
					}
				}
				return nil
			})
		}
		require.NoError(t, g.Wait())
		require.Empty(t, wrong, "%d concurrent FeedGet responses counted wrong", len(wrong))
	})
}

func TestLikes(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann")
	f := e.post(t, ann, "like me")
	likers := e.signUpMany(t, "liker", 200)

	likeRows := func() int64 {
		var n int64
		require.NoError(t, e.pool.QueryRow(context.Background(),
			`SELECT count(*) FROM feeds.likes WHERE feed_id = $1`, int64(f.GetId())).Scan(&n))
		return n
	}
	requireLikes := func(want int64) {
		t.Helper()
		require.Equal(t, want, likeRows(), "like rows")
		likes, _, _ := e.dbCounts(t, f.GetId())
		require.Equal(t, want, likes, "like_count in the row")
		require.EqualValues(t, want, e.get(t, ann, f.GetId()).GetLikeCount(), "like_count on the wire")
	}

	t.Run("200 concurrent likes", func(t *testing.T) {
		var g errgroup.Group
		for _, p := range likers {
			g.Go(func() error {
				_, err := e.feeds.FeedLike(p.ctx, &feedpb.FeedLikeRequest{Id: f.GetId()})
				return err
			})
		}
		require.NoError(t, g.Wait())
		requireLikes(200)
	})

	t.Run("liked is per caller", func(t *testing.T) {
		require.True(t, e.get(t, likers[0], f.GetId()).GetLiked())
		require.False(t, e.get(t, ann, f.GetId()).GetLiked())
		own, err := e.feeds.FeedOwn(ann.ctx, &feedpb.FeedOwnRequest{})
		require.NoError(t, err)
		require.False(t, own.GetFeed()[0].GetLiked())
	})

	t.Run("liking twice is one like", func(t *testing.T) {
		e.like(t, likers[0], f.GetId())
		var g errgroup.Group
		for range 10 {
			g.Go(func() error {
				_, err := e.feeds.FeedLike(likers[1].ctx, &feedpb.FeedLikeRequest{Id: f.GetId()})
				return err
			})
		}
		require.NoError(t, g.Wait())
		requireLikes(200)
	})

	t.Run("concurrent unlikes by half, each twice", func(t *testing.T) {
		var g errgroup.Group
		for _, p := range likers[:100] {
			for range 2 {
				g.Go(func() error {
					_, err := e.feeds.FeedUnLike(p.ctx, &feedpb.FeedUnLikeRequest{Id: f.GetId()})
					return err
				})
			}
		}
		require.NoError(t, g.Wait())
		requireLikes(100)
		require.False(t, e.get(t, likers[0], f.GetId()).GetLiked())
		require.True(t, e.get(t, likers[100], f.GetId()).GetLiked())
	})

	t.Run("unliking what one never liked changes nothing", func(t *testing.T) {
		_, err := e.feeds.FeedUnLike(ann.ctx, &feedpb.FeedUnLikeRequest{Id: f.GetId()})
		require.NoError(t, err)
		requireLikes(100)
	})

	t.Run("a like and unlike race per user leaves count equal to rows", func(t *testing.T) {
		var g errgroup.Group
		for _, p := range likers[:40] {
			g.Go(func() error {
				_, err := e.feeds.FeedLike(p.ctx, &feedpb.FeedLikeRequest{Id: f.GetId()})
				return err
			})
			g.Go(func() error {
				_, err := e.feeds.FeedUnLike(p.ctx, &feedpb.FeedUnLikeRequest{Id: f.GetId()})
				return err
			})
		}
		require.NoError(t, g.Wait())
		n := likeRows()
		require.GreaterOrEqual(t, n, int64(100))
		require.LessOrEqual(t, n, int64(140))
		requireLikes(n)
	})

	t.Run("missing feed", func(t *testing.T) {
		_, err := e.feeds.FeedLike(ann.ctx, &feedpb.FeedLikeRequest{Id: f.GetId() + 1_000_000})
		testkit.RequireCode(t, err, codes.NotFound)
		_, err = e.feeds.FeedLike(ann.ctx, &feedpb.FeedLikeRequest{})
		testkit.RequireCode(t, err, codes.InvalidArgument)
	})
}

func TestComments(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann") // the feed's owner
	bob := e.signUp(t, "bob")
	eve := e.signUp(t, "eve") // a stranger to bob's comments
	f := e.post(t, ann, "discuss")
	other := e.post(t, ann, "elsewhere")

	commentCount := func() uint64 {
		t.Helper()
		return e.get(t, ann, f.GetId()).GetCommentCount()
	}

	t.Run("validation", func(t *testing.T) {
		onOther := e.comment(t, bob, other.GetId(), "on the other feed")
		tests := []struct {
			name string
			req  *feedpb.FeedCommentCreateRequest
			code codes.Code
			msg  string
		}{
			{"empty", &feedpb.FeedCommentCreateRequest{FeedId: f.GetId()}, codes.InvalidArgument, "content"},
			{"blank", &feedpb.FeedCommentCreateRequest{FeedId: f.GetId(), Content: " \n\t "}, codes.InvalidArgument, "content"},
			{"1001 characters", &feedpb.FeedCommentCreateRequest{FeedId: f.GetId(), Content: strings.Repeat("评", feedrules.MaxCommentLength+1)}, codes.InvalidArgument, "content"},
			{"NUL", &feedpb.FeedCommentCreateRequest{FeedId: f.GetId(), Content: "a\x00b"}, codes.InvalidArgument, "content"},
			{"no feed_id", &feedpb.FeedCommentCreateRequest{Content: "x"}, codes.InvalidArgument, "feed_id"},
			{"missing feed", &feedpb.FeedCommentCreateRequest{FeedId: f.GetId() + 1_000_000, Content: "x"}, codes.NotFound, ""},
			{"reply to a missing comment", &feedpb.FeedCommentCreateRequest{FeedId: f.GetId(), Content: "x", ReplyToId: onOther.GetId() + 1_000_000}, codes.InvalidArgument, "reply_to_id"},
			{"reply to a comment on another feed", &feedpb.FeedCommentCreateRequest{FeedId: f.GetId(), Content: "x", ReplyToId: onOther.GetId()}, codes.InvalidArgument, "reply_to_id"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.feeds.FeedCommentCreate(bob.ctx, tt.req)
				st := testkit.RequireCode(t, err, tt.code)
				require.Contains(t, st.Message(), tt.msg)
			})
		}
		require.Zero(t, commentCount(), "no rejected comment counted")
	})

	var first *feedpb.FeedComment
	t.Run("create trims and replies", func(t *testing.T) {
		long := strings.Repeat("评", feedrules.MaxCommentLength)
		first = e.comment(t, bob, f.GetId(), "  "+long+"\n")
		require.Equal(t, long, first.GetContent(), "stored trimmed; 1000 characters after the trim are fine")
		require.Equal(t, bob.id, first.GetUserId())
		require.Equal(t, f.GetId(), first.GetFeedId())
		require.Zero(t, first.GetReplyToId())

		resp, err := e.feeds.FeedCommentCreate(ann.ctx, &feedpb.FeedCommentCreateRequest{FeedId: f.GetId(), Content: "thanks", ReplyToId: first.GetId()})
		require.NoError(t, err)
		require.Equal(t, first.GetId(), resp.GetComment().GetReplyToId())
		require.EqualValues(t, 2, commentCount())
	})

	t.Run("50 concurrent comments are all counted", func(t *testing.T) {
		authors := []person{ann, bob, eve}
		var g errgroup.Group
		for i := range 50 {
			g.Go(func() error {
				_, err := e.feeds.FeedCommentCreate(authors[i%3].ctx, &feedpb.FeedCommentCreateRequest{FeedId: f.GetId(), Content: "me too " + strconv.Itoa(i)})
				return err
			})
		}
		require.NoError(t, g.Wait())
		require.EqualValues(t, 52, commentCount())
		_, _, dbComments := e.dbCounts(t, f.GetId())
		require.EqualValues(t, 52, dbComments)
	})

	t.Run("list pages newest first", func(t *testing.T) {
		var ids []uint64
		var lastID uint64
		for {
			resp, err := e.feeds.FeedCommentList(eve.ctx, &feedpb.FeedCommentListRequest{FeedId: f.GetId(), LastId: lastID, Num: 7})
			require.NoError(t, err)
			require.EqualValues(t, 52, resp.GetPager().GetTotalRows(), "total_rows is comment_count")
			require.EqualValues(t, 7, resp.GetPager().GetPageZie())
			require.LessOrEqual(t, len(resp.GetComment()), 7)
			if len(resp.GetComment()) == 0 {
				break
			}
			for _, c := range resp.GetComment() {
				require.Equal(t, f.GetId(), c.GetFeedId())
				ids = append(ids, c.GetId())
			}
			lastID = ids[len(ids)-1]
		}
		require.Len(t, ids, 52)
		requireNewestFirst(t, ids)
		require.Equal(t, first.GetId(), ids[len(ids)-1], "the oldest comment comes last")

		resp, err := e.feeds.FeedCommentList(eve.ctx, &feedpb.FeedCommentListRequest{FeedId: f.GetId()})
		require.NoError(t, err)
		require.Equal(t, ids[:20], commentIDs(resp.GetComment()), "num defaults to 20")
		resp, err = e.feeds.FeedCommentList(eve.ctx, &feedpb.FeedCommentListRequest{FeedId: f.GetId(), Num: 1000})
		require.NoError(t, err)
		require.Equal(t, ids, commentIDs(resp.GetComment()), "num is capped at 100, above the 52 there are")
		require.EqualValues(t, 100, resp.GetPager().GetPageZie())

		_, err = e.feeds.FeedCommentList(eve.ctx, &feedpb.FeedCommentListRequest{FeedId: f.GetId() + 1_000_000})
		testkit.RequireCode(t, err, codes.NotFound)
	})

	t.Run("delete", func(t *testing.T) {
		c1 := e.comment(t, bob, f.GetId(), "bob deletes this himself")
		c2 := e.comment(t, bob, f.GetId(), "ann deletes this as the feed's owner")
		c3 := e.comment(t, bob, f.GetId(), "an admin deletes this")
		before := commentCount()

		_, err := e.feeds.FeedCommentDelete(eve.ctx, &feedpb.FeedCommentDeleteRequest{Id: c1.GetId()})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		_, err = e.feeds.FeedCommentDelete(bob.ctx, &feedpb.FeedCommentDeleteRequest{Id: c1.GetId()})
		require.NoError(t, err)
		_, err = e.feeds.FeedCommentDelete(ann.ctx, &feedpb.FeedCommentDeleteRequest{Id: c2.GetId()})
		require.NoError(t, err)
		_, err = e.feeds.FeedCommentDelete(e.signUpAdmin(t, "mod").ctx, &feedpb.FeedCommentDeleteRequest{Id: c3.GetId()})
		require.NoError(t, err)
		before-- // c3
		require.Equal(t, before-2, commentCount())

		_, err = e.feeds.FeedCommentDelete(bob.ctx, &feedpb.FeedCommentDeleteRequest{Id: c1.GetId()})
		testkit.RequireCode(t, err, codes.NotFound)
		_, err = e.feeds.FeedCommentDelete(bob.ctx, &feedpb.FeedCommentDeleteRequest{Id: c1.GetId() + 1_000_000})
		testkit.RequireCode(t, err, codes.NotFound)
		_, err = e.feeds.FeedCommentDelete(bob.ctx, &feedpb.FeedCommentDeleteRequest{})
		testkit.RequireCode(t, err, codes.InvalidArgument)
		require.Equal(t, before-2, commentCount())

		resp, err := e.feeds.FeedCommentList(eve.ctx, &feedpb.FeedCommentListRequest{FeedId: f.GetId(), Num: 100})
		require.NoError(t, err)
		require.NotContains(t, commentIDs(resp.GetComment()), c1.GetId())
		require.NotContains(t, commentIDs(resp.GetComment()), c2.GetId())
		require.Len(t, resp.GetComment(), int(before-2))
		_, err = e.feeds.FeedCommentCreate(bob.ctx, &feedpb.FeedCommentCreateRequest{FeedId: f.GetId(), Content: "x", ReplyToId: c1.GetId()})
		testkit.RequireCode(t, err, codes.InvalidArgument) // a deleted comment takes no replies
	})

	t.Run("concurrent deletes of one comment count once", func(t *testing.T) {
		var cs []*feedpb.FeedComment
		for i := range 10 {
			cs = append(cs, e.comment(t, bob, f.GetId(), "doomed "+strconv.Itoa(i)))
		}
		before := commentCount()
		var g errgroup.Group
		codesOf := make([]codes.Code, 2*len(cs))
		for i, c := range cs {
			for j, p := range []person{bob, ann} {
				g.Go(func() error {
					_, err := e.feeds.FeedCommentDelete(p.ctx, &feedpb.FeedCommentDeleteRequest{Id: c.GetId()})
					codesOf[2*i+j] = status.Code(err)
					return nil
				})
			}
		}
		require.NoError(t, g.Wait())
		for _, c := range codesOf {
			require.Contains(t, []codes.Code{codes.OK, codes.NotFound}, c)
		}
		require.Equal(t, before-10, commentCount())
		_, _, dbComments := e.dbCounts(t, f.GetId())
		var live int64
		require.NoError(t, e.pool.QueryRow(context.Background(),
			`SELECT count(*) FROM feeds.comments WHERE feed_id = $1 AND deleted_at IS NULL`, int64(f.GetId())).Scan(&live))
		require.Equal(t, live, dbComments, "comment_count equals the live comments")
	})

	t.Run("comments of a deleted feed", func(t *testing.T) {
		_, err := e.feeds.FeedDelete(ann.ctx, &feedpb.FeedDeleteRequest{Id: f.GetId()})
		require.NoError(t, err)
		for _, p := range []person{ann, bob} {
			_, err = e.feeds.FeedCommentList(p.ctx, &feedpb.FeedCommentListRequest{FeedId: f.GetId()})
			testkit.RequireCode(t, err, codes.NotFound)
		}
	})
}

func commentIDs(cs []*feedpb.FeedComment) []uint64 {
	out := make([]uint64, len(cs))
	for i, c := range cs {
		out[i] = c.GetId()
	}
	return slices.Clip(out)
}
