package feed_test

import (
	"context"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/api/rules/feedrules"
	"github.com/parley-im/parley/modules/feed"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
)

func TestFeedOwn(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationPre)
	ann := e.signUp(t, "ann")
	bob := e.signUp(t, "bob")
	admin := e.signUpAdmin(t, "admin")

	f1 := e.post(t, ann, "Apple pie")
	f2 := e.post(t, ann, "banana")
	f3 := e.post(t, ann, "APPLE juice")
	f4 := e.post(t, ann, "cherry")
	f5 := e.post(t, ann, "apple 苹果")
	e.post(t, bob, "apple from bob")
	review := func(f *feedpb.Feed, s commonpb.ReviewStatus) {
		_, err := e.feeds.FeedReview(admin.ctx, &feedpb.FeedReviewRequest{Id: f.GetId(), ReviewStatus: s})
		require.NoError(t, err)
	}
	review(f1, commonpb.ReviewStatus_ReviewPass)
	review(f2, commonpb.ReviewStatus_ReviewPass)
	review(f4, commonpb.ReviewStatus_ReviewFail)
	id := func(fs ...*feedpb.Feed) []uint64 { return feedIDs(fs) }

	tests := []struct {
		name string
		req  *feedpb.FeedOwnRequest
		want []uint64
	}{
		{"all", &feedpb.FeedOwnRequest{}, id(f5, f4, f3, f2, f1)},
		{"waiting", &feedpb.FeedOwnRequest{ReviewStatus: commonpb.ReviewStatus_ReviewTo}, id(f5, f3)},
		{"passed", &feedpb.FeedOwnRequest{ReviewStatus: commonpb.ReviewStatus_ReviewPass}, id(f2, f1)},
		{"failed", &feedpb.FeedOwnRequest{ReviewStatus: commonpb.ReviewStatus_ReviewFail}, id(f4)},
		{"keyword in any case", &feedpb.FeedOwnRequest{Keyword: "aPPle"}, id(f5, f3, f1)},
		{"keyword and status", &feedpb.FeedOwnRequest{Keyword: " APPLE ", ReviewStatus: commonpb.ReviewStatus_ReviewPass}, id(f1)},
		{"CJK keyword", &feedpb.FeedOwnRequest{Keyword: "苹果"}, id(f5)},
		{"no match", &feedpb.FeedOwnRequest{Keyword: "durian"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.feeds.FeedOwn(ann.ctx, tt.req)
			require.NoError(t, err)
			require.Equal(t, tt.want, nilIfEmpty(feedIDs(resp.GetFeed())))
			require.EqualValues(t, len(tt.want), resp.GetPager().GetTotalRows())
			for _, f := range resp.GetFeed() {
				require.Equal(t, ann.id, f.GetUserId())
			}
		})
	}

	t.Run("keyset pages", func(t *testing.T) {
		var pages [][]uint64
		var lastID uint64
		for {
			resp, err := e.feeds.FeedOwn(ann.ctx, &feedpb.FeedOwnRequest{LastId: lastID, Num: 2})
			require.NoError(t, err)
			require.EqualValues(t, 5, resp.GetPager().GetTotalRows(), "total_rows counts all the caller's feeds")
			require.EqualValues(t, 2, resp.GetPager().GetPageZie())
			require.EqualValues(t, 3, resp.GetPager().GetTotalPages())
			ids := feedIDs(resp.GetFeed())
			if len(ids) == 0 {
				break
			}
			pages = append(pages, ids)
			lastID = ids[len(ids)-1]
		}
		require.Equal(t, [][]uint64{id(f5, f4), id(f3, f2), id(f1)}, pages)
	})

	t.Run("invalid requests", func(t *testing.T) {
		_, err := e.feeds.FeedOwn(ann.ctx, &feedpb.FeedOwnRequest{ReviewStatus: commonpb.ReviewStatus(9)})
		st := testkit.RequireCode(t, err, codes.InvalidArgument)
		require.Contains(t, st.Message(), "review_status")
		_, err = e.feeds.FeedOwn(ann.ctx, &feedpb.FeedOwnRequest{Keyword: strings.Repeat("k", feedrules.MaxKeywordLength+1)})
		st = testkit.RequireCode(t, err, codes.InvalidArgument)
		require.Contains(t, st.Message(), "keyword")
	})
}

func nilIfEmpty(ids []uint64) []uint64 {
	if len(ids) == 0 {
		return nil
	}
	return ids
}

func TestFeedOwnPageSize(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann")
	const n = 105
	var g errgroup.Group
	g.SetLimit(4)
	for i := range n {
		g.Go(func() error {
			_, err := e.feeds.FeedCreate(ann.ctx, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "post " + strings.Repeat("x", i%7+1)})
			return err
		})
	}
	require.NoError(t, g.Wait())

	for _, tt := range []struct {
		num, want uint64
	}{{0, 20}, {1, 1}, {100, 100}, {101, 100}, {1 << 40, 100}} {
		resp, err := e.feeds.FeedOwn(ann.ctx, &feedpb.FeedOwnRequest{Num: tt.num})
		require.NoError(t, err)
		require.Len(t, resp.GetFeed(), int(tt.want), "num %d", tt.num)
		require.Equal(t, tt.want, resp.GetPager().GetPageZie(), "num %d", tt.num)
		require.EqualValues(t, n, resp.GetPager().GetTotalRows())
		requireNewestFirst(t, feedIDs(resp.GetFeed()))
	}
}

func TestFeedQuery(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann")
	bob := e.signUp(t, "bob")
	admin := e.signUpAdmin(t, "admin")
	tag := testkit.Unique("qt")

	greet := e.post(t, ann, "大家好，你好世界 "+tag)
	hello := e.post(t, bob, "Hello World "+tag)
	again := e.post(t, ann, "HELLO again "+tag)
	plain := e.create(t, bob, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Content: "nothing here " + tag, Resource: imageURLs(2)})
	accents := e.post(t, ann, "Café ÉCOLE "+tag)
	failed := e.post(t, ann, "你好 rejected hello "+tag)
	_, err := e.feeds.FeedReview(admin.ctx, &feedpb.FeedReviewRequest{Id: failed.GetId(), ReviewStatus: commonpb.ReviewStatus_ReviewFail})
	require.NoError(t, err)
	deleted := e.post(t, bob, "你好 deleted hello "+tag)
	_, err = e.feeds.FeedDelete(bob.ctx, &feedpb.FeedDeleteRequest{Id: deleted.GetId()})
	require.NoError(t, err)
	id := func(fs ...*feedpb.Feed) []uint64 { return feedIDs(fs) }

	tests := []struct {
		keyword string
		want    []uint64
	}{
		{"你好", id(greet)},
		{"好", id(greet)},
		{"你好世界", id(greet)},
		{"，你", id(greet)},
		{"你世", nil},
		{"hello", id(again, hello)},
		{"HeLLo WoRLD", id(hello)},
		{"  hello world  ", id(hello)},
		{"école", id(accents)},
		{"CAFÉ", id(accents)},
		{"%", nil},
		{"_", nil},
		{strings.ToUpper(tag), id(accents, plain, again, hello, greet)},
		{tag + "x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.keyword, func(t *testing.T) {
			for _, viewer := range []person{ann, bob} {
				resp, err := e.feeds.FeedQuery(viewer.ctx, &feedpb.FeedQueryRequest{Keyword: tt.keyword, Num: 100})
				require.NoError(t, err)
				got := byAuthors(resp.GetFeed(), ann, bob)
				require.Equal(t, tt.want, nilIfEmpty(feedIDs(got)), "as %s", viewer.nickname)
			}
		})
	}

	t.Run("results carry their media", func(t *testing.T) {
		resp, err := e.feeds.FeedQuery(ann.ctx, &feedpb.FeedQueryRequest{Keyword: "nothing here " + tag})
		require.NoError(t, err)
		require.Len(t, resp.GetFeed(), 1)
		require.Equal(t, imageURLs(2), imageURLsOf(resp.GetFeed()[0]))
	})

	t.Run("no keyword lists public feeds newest first", func(t *testing.T) {
		resp, err := e.feeds.FeedQuery(ann.ctx, &feedpb.FeedQueryRequest{LastId: accents.GetId() + 1, Num: 100})
		require.NoError(t, err)
		ids := feedIDs(resp.GetFeed())
		requireNewestFirst(t, ids)
		require.Equal(t, id(accents, plain, again, hello, greet), feedIDs(byAuthors(resp.GetFeed(), ann, bob)))
		for _, f := range resp.GetFeed() {
			require.Equal(t, commonpb.ReviewStatus_ReviewPass, f.GetReviewStatus())
		}
	})

	t.Run("keyword too long", func(t *testing.T) {
		_, err := e.feeds.FeedQuery(ann.ctx, &feedpb.FeedQueryRequest{Keyword: strings.Repeat("字", feedrules.MaxKeywordLength+1)})
		st := testkit.RequireCode(t, err, codes.InvalidArgument)
		require.Contains(t, st.Message(), "keyword")
	})
}

// TestFeedQueryPagingUnderInserts pages through a search while matching
// feeds keep being created: the pages join into one newest-first run with
// no repeats and no feed that existed at the start missing.
func TestFeedQueryPagingUnderInserts(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann")
	bob := e.signUp(t, "bob")
	tag := testkit.Unique("page")

	var initial []uint64
	for range 25 {
		initial = append(initial, e.post(t, ann, "早上好 "+tag).GetId())
	}

	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	var created atomic.Int64
	var g errgroup.Group
	g.Go(func() error {
		for ctx.Err() == nil {
			_, err := e.feeds.FeedCreate(bob.ctx, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "又一个 早上好 " + tag})
			if err != nil {
				return err
			}
			created.Add(1)
		}
		return nil
	})

	var got []uint64
	var lastID uint64
	for pages := 0; ; pages++ {
		require.Less(t, pages, 100, "paging does not end")
		resp, err := e.feeds.FeedQuery(ann.ctx, &feedpb.FeedQueryRequest{Keyword: "早上好 " + strings.ToUpper(tag), LastId: lastID, Num: 4})
		require.NoError(t, err)
		if len(resp.GetFeed()) == 0 {
			break
		}
		for _, f := range resp.GetFeed() {
			require.Contains(t, f.GetContent(), tag)
			got = append(got, f.GetId())
		}
		lastID = got[len(got)-1]
		// Let at least one more matching feed be created before the next page.
		seen := created.Load()
		require.Eventually(t, func() bool { return created.Load() > seen }, 5*time.Second, time.Millisecond)
	}
	stop()
	require.NoError(t, g.Wait())

	requireNewestFirst(t, got) // also rules out repeats
	for _, id := range initial {
		require.Contains(t, got, id, "feed %d existed before paging began", id)
	}
	require.Greater(t, created.Load(), int64(5), "feeds were created while paging")
}

// TestFeedQueryByAuthor: FeedQuery's user_id lists one author's public
// feeds (a profile's posts), the same to every viewer, newest first, with
// the keyset cursor and the keyword.
func TestFeedQueryByAuthor(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationPre)
	ann := e.signUp(t, "ann") // the profile
	bob := e.signUp(t, "bob") // another author
	cat := e.signUp(t, "cat") // a viewer who wrote nothing
	admin := e.signUpAdmin(t, "admin")
	tag := testkit.Unique("by")
	review := func(f *feedpb.Feed, s commonpb.ReviewStatus) {
		t.Helper()
		_, err := e.feeds.FeedReview(admin.ctx, &feedpb.FeedReviewRequest{Id: f.GetId(), ReviewStatus: s})
		require.NoError(t, err)
	}
	// published posts p as a and passes its review.
	published := func(a person, req *feedpb.FeedCreateRequest) *feedpb.Feed {
		t.Helper()
		f := e.create(t, a, req)
		review(f, commonpb.ReviewStatus_ReviewPass)
		return f
	}
	txt := func(content string) *feedpb.FeedCreateRequest {
		return &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: content + " " + tag}
	}

	a1 := published(ann, txt("Apple one"))
	a2 := published(ann, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Content: "banana " + tag, Resource: imageURLs(2)})
	e.post(t, ann, "apple waiting for review "+tag) // ReviewTo
	b1 := published(bob, txt("apple from bob"))
	a3 := published(ann, txt("APPLE three"))
	rejected := e.post(t, ann, "apple rejected "+tag)
	review(rejected, commonpb.ReviewStatus_ReviewFail)
	disabled := published(ann, txt("apple disabled"))
	_, err := e.pool.Exec(context.Background(), `UPDATE feeds.feeds SET is_enable = 0 WHERE id = $1`, int64(disabled.GetId()))
	require.NoError(t, err)
	deleted := published(ann, txt("apple deleted"))
	_, err = e.feeds.FeedDelete(ann.ctx, &feedpb.FeedDeleteRequest{Id: deleted.GetId()})
	require.NoError(t, err)
	a4 := published(ann, txt("cherry"))
	b2 := published(bob, txt("bob's cherry"))
	a5 := published(ann, txt("apple five 苹果"))
	id := func(fs ...*feedpb.Feed) []uint64 { return feedIDs(fs) }

	query := func(viewer person, req *feedpb.FeedQueryRequest) []*feedpb.Feed {
		t.Helper()
		resp, err := e.feeds.FeedQuery(viewer.ctx, req)
		require.NoError(t, err)
		require.Zero(t, resp.GetPager().GetTotalRows(), "no total, as for FeedQuery without user_id")
		return resp.GetFeed()
	}

	tests := []struct {
		name string
		req  *feedpb.FeedQueryRequest
		want []uint64
	}{
		{"the author's public feeds", &feedpb.FeedQueryRequest{UserId: ann.id}, id(a5, a4, a3, a2, a1)},
		{"another author's", &feedpb.FeedQueryRequest{UserId: bob.id}, id(b2, b1)},
		{"an author with none", &feedpb.FeedQueryRequest{UserId: cat.id}, nil},
		{"keyword in any case", &feedpb.FeedQueryRequest{UserId: ann.id, Keyword: " aPPle "}, id(a5, a3, a1)},
		{"CJK keyword", &feedpb.FeedQueryRequest{UserId: ann.id, Keyword: "苹果"}, id(a5)},
		{"keyword of the other author", &feedpb.FeedQueryRequest{UserId: bob.id, Keyword: "apple"}, id(b1)},
		{"keyword matching nothing", &feedpb.FeedQueryRequest{UserId: ann.id, Keyword: "durian"}, nil},
		{"below a cursor", &feedpb.FeedQueryRequest{UserId: ann.id, LastId: a3.GetId()}, id(a2, a1)},
		{"keyword below a cursor", &feedpb.FeedQueryRequest{UserId: ann.id, Keyword: "apple", LastId: a5.GetId()}, id(a3, a1)},
		{"an unknown user", &feedpb.FeedQueryRequest{UserId: 1 << 62}, nil},
		{"a user id beyond bigint", &feedpb.FeedQueryRequest{UserId: math.MaxUint64, Keyword: "apple"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// What anyone may see: the author and an admin get the public feeds too.
			for _, viewer := range []person{cat, bob, ann, admin} {
				got := query(viewer, tt.req)
				require.Equal(t, tt.want, nilIfEmpty(feedIDs(got)), "as %s", viewer.nickname)
				for _, f := range got {
					require.Equal(t, tt.req.GetUserId(), f.GetUserId())
					require.Equal(t, commonpb.ReviewStatus_ReviewPass, f.GetReviewStatus())
					require.Equal(t, commonpb.IsEnable_Enable, f.GetIsEnable())
				}
			}
		})
	}

	t.Run("results carry their media", func(t *testing.T) {
		got := query(cat, &feedpb.FeedQueryRequest{UserId: ann.id, Keyword: "banana"})
		require.Equal(t, id(a2), feedIDs(got))
		require.Equal(t, imageURLs(2), imageURLsOf(got[0]))
	})

	t.Run("user_id 0 is everyone's", func(t *testing.T) {
		got := query(cat, &feedpb.FeedQueryRequest{Keyword: tag, Num: 100})
		require.Equal(t, id(a5, b2, a4, a3, b1, a2, a1), feedIDs(byAuthors(got, ann, bob)))
	})

	t.Run("keyword too long", func(t *testing.T) {
		_, err := e.feeds.FeedQuery(cat.ctx, &feedpb.FeedQueryRequest{UserId: ann.id, Keyword: strings.Repeat("k", feedrules.MaxKeywordLength+1)})
		st := testkit.RequireCode(t, err, codes.InvalidArgument)
		require.Contains(t, st.Message(), "keyword")
	})

	// pages follows the cursor from the newest feed until a page is empty;
	// between pages, between(n) may create feeds.
	pages := func(req *feedpb.FeedQueryRequest, between func(n int)) [][]uint64 {
		t.Helper()
		var out [][]uint64
		req.LastId = 0
		for n := 0; ; n++ {
			require.Less(t, n, 20, "paging does not end")
			resp, err := e.feeds.FeedQuery(cat.ctx, req)
			require.NoError(t, err)
			require.Equal(t, req.GetNum(), resp.GetPager().GetPageZie())
			ids := feedIDs(resp.GetFeed())
			if len(ids) == 0 {
				return out
			}
			out = append(out, ids)
			req.LastId = ids[len(ids)-1]
			between(n)
		}
	}
	none := func(int) {}

	t.Run("keyset pages", func(t *testing.T) {
		require.Equal(t, [][]uint64{id(a5, a4), id(a3, a2), id(a1)},
			pages(&feedpb.FeedQueryRequest{UserId: ann.id, Num: 2}, none))
		require.Equal(t, [][]uint64{id(a5, a3), id(a1)},
			pages(&feedpb.FeedQueryRequest{UserId: ann.id, Keyword: "APPLE", Num: 2}, none))
	})

	// Last: it adds feeds. New feeds of the author (and others) published
	// while paging do not shift the pages: no gaps, no repeats.
	t.Run("keyset pages under new feeds", func(t *testing.T) {
		var added []uint64
		got := pages(&feedpb.FeedQueryRequest{UserId: ann.id, Num: 2}, func(n int) {
			added = append(added, published(ann, txt("apple newer")).GetId())
			published(bob, txt("apple bob newer"))
		})
		require.Equal(t, [][]uint64{id(a5, a4), id(a3, a2), id(a1)}, got)
		require.Len(t, added, 3)
		slices.Reverse(added)
		require.Equal(t, append(added, id(a5, a4, a3, a2, a1)...),
			feedIDs(query(cat, &feedpb.FeedQueryRequest{UserId: ann.id, Num: 100})), "the new feeds head the next first page")
	})
}

// TestAuthorListUsesIndex shows FeedQuery's user_id list (ListPublicByAuthor
// in queries.sql) walks feeds_public_author_idx, with or without a keyword,
// once the table is large. Like TestSearchUsesIndex it runs on a copy of
// feeds.feeds.
func TestAuthorListUsesIndex(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	ctx := context.Background()

	// 1000 authors of 100 feeds each, a third of them not public.
	_, err := pool.Exec(ctx, `
		DROP TABLE IF EXISTS feeds.feeds_explain_author;
		CREATE TABLE feeds.feeds_explain_author (LIKE feeds.feeds INCLUDING ALL);
		INSERT INTO feeds.feeds_explain_author (user_id, type, content, content_folded, review_status)
		SELECT i % 1000 + 1, 0, 'post ' || i, 'post ' || i, CASE WHEN i % 3 = 0 THEN 1 ELSE 2 END
		FROM generate_series(1, 100000) AS i;
		ANALYZE feeds.feeds_explain_author;`)
	require.NoError(t, err)

	var authorIdx, authorDef string
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = 'feeds' AND tablename = 'feeds_explain_author' AND indexdef LIKE '%(user_id, id DESC) WHERE is_public'`).Scan(&authorIdx, &authorDef))
	var origDef string
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT indexdef FROM pg_indexes WHERE schemaname = 'feeds' AND indexname = 'feeds_public_author_idx'`).Scan(&origDef))
	require.Equal(t,
		strings.ReplaceAll(strings.ReplaceAll(origDef, "feeds_public_author_idx", authorIdx), "feeds.feeds ", "feeds.feeds_explain_author "),
		authorDef, "the copy's index is the original's")

	query, params := sqlcQuery(t, "ListPublicByAuthor")
	query = strings.ReplaceAll(query, "feeds.feeds", "feeds.feeds_explain_author")
	args := func(keyword string) []any {
		values := map[string]any{"user_id": int64(7), "keyword": keyword, "before_id": int64(math.MaxInt64), "row_limit": int64(20)}
		out := make([]any, len(params))
		for i, p := range params {
			v, ok := values[p]
			require.True(t, ok, "ListPublicByAuthor has a parameter %s this test does not know", p)
			out[i] = v
		}
		return out
	}
	for _, keyword := range []string{"", "post 10"} {
		plan := explain(t, pool, query, args(keyword)...)
		require.Contains(t, plan, authorIdx, "keyword %q:\n%s", keyword, plan)
		require.NotContains(t, plan, "Seq Scan", plan)
	}
}

// TestSearchUsesIndex shows FeedQuery's search (SearchPublic in
// queries.sql) is served by the search GIN index, not a scan, once the table
// is large. It runs on a copy of feeds.feeds, so its rows stay out of the
// other tests' lists.
func TestSearchUsesIndex(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	ctx := context.Background()

	_, err := pool.Exec(ctx, `
		DROP TABLE IF EXISTS feeds.feeds_explain;
		CREATE TABLE feeds.feeds_explain (LIKE feeds.feeds INCLUDING ALL);
		INSERT INTO feeds.feeds_explain (user_id, type, content, content_folded, review_status)
		SELECT 1, 0, c, c, 2
		FROM (SELECT 'post ' || i || ' 日常生活' || CASE WHEN i % 20000 = 0 THEN ' 鲸鱼 zebra' ELSE '' END AS c
		      FROM generate_series(1, 100000) AS i) AS s;
		ANALYZE feeds.feeds_explain;`)
	require.NoError(t, err)

	// The copy's GIN index, defined as feeds_public_search_idx is.
	var searchIdx, searchDef string
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = 'feeds' AND tablename = 'feeds_explain' AND indexdef LIKE '%USING gin%'`).Scan(&searchIdx, &searchDef))
	var origDef string
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT indexdef FROM pg_indexes WHERE schemaname = 'feeds' AND indexname = 'feeds_public_search_idx'`).Scan(&origDef))
	require.Equal(t,
		strings.ReplaceAll(strings.ReplaceAll(origDef, "feeds_public_search_idx", searchIdx), "feeds.feeds ", "feeds.feeds_explain "),
		searchDef, "the copy's index is the original's")

	query, params := sqlcQuery(t, "SearchPublic")
	query = strings.ReplaceAll(query, "feeds.feeds", "feeds.feeds_explain")
	args := func(keyword string) []any {
		values := map[string]any{"keyword": keyword, "before_id": int64(math.MaxInt64), "row_limit": int64(20)}
		out := make([]any, len(params))
		for i, p := range params {
			v, ok := values[p]
			require.True(t, ok, "SearchPublic has a parameter %s this test does not know", p)
			out[i] = v
		}
		return out
	}
	for _, keyword := range []string{"鲸鱼", "zebra"} {
		plan := explain(t, pool, query, args(keyword)...)
		require.Contains(t, plan, searchIdx, "keyword %q:\n%s", keyword, plan)
		require.NotContains(t, plan, "Seq Scan", plan)
	}

	rows, err := pool.Query(ctx, query, args("鲸鱼")...)
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 5, n, "the query finds the five rows that have the word")
}

// sqlcQuery returns the named query from internal/db/queries.sql with its
// sqlc parameters numbered in order of appearance, as sqlc does, and their
// names in that order.
func sqlcQuery(t *testing.T, name string) (string, []string) {
	t.Helper()
	src, err := os.ReadFile("internal/db/queries.sql")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(src), "-- name: "+name+" ")
	require.True(t, ok, "query %s not in queries.sql", name)
	_, body, _ := strings.Cut(after, "\n")
	body, _, _ = strings.Cut(body, ";")
	var names []string
	query := regexp.MustCompile(`@[a-z_]+`).ReplaceAllStringFunc(body, func(p string) string {
		i := slices.Index(names, p[1:])
		if i < 0 {
			names = append(names, p[1:])
			i = len(names) - 1
		}
		return "$" + strconv.Itoa(i+1)
	})
	return query, names
}

func explain(t *testing.T, pool *pgxpool.Pool, query string, args ...any) string {
	t.Helper()
	rows, err := pool.Query(context.Background(), "EXPLAIN "+query, args...)
	require.NoError(t, err)
	var plan strings.Builder
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		plan.WriteString(line + "\n")
	}
	require.NoError(t, rows.Err())
	return plan.String()
}

func TestFeedFollow(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann")
	bob := e.signUp(t, "bob")
	cat := e.signUp(t, "cat")
	dan := e.signUp(t, "dan") // not followed
	admin := e.signUpAdmin(t, "admin")
	e.follow(t, ann, bob)
	e.follow(t, ann, cat)

	t.Run("following nobody", func(t *testing.T) {
		resp, err := e.feeds.FeedFollow(dan.ctx, &feedpb.FeedFollowRequest{})
		require.NoError(t, err)
		require.Empty(t, resp.GetFeed())
	})

	b1 := e.post(t, bob, "bob one")
	e.post(t, ann, "ann's own")
	c1 := e.post(t, cat, "cat one")
	e.post(t, dan, "dan's, unfollowed")
	b2 := e.create(t, bob, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Video, Resource: []string{"https://cdn.example.com/b.mp4"}})
	rejected := e.post(t, bob, "bob rejected")
	_, err := e.feeds.FeedReview(admin.ctx, &feedpb.FeedReviewRequest{Id: rejected.GetId(), ReviewStatus: commonpb.ReviewStatus_ReviewFail})
	require.NoError(t, err)
	gone := e.post(t, cat, "cat deleted")
	_, err = e.feeds.FeedDelete(cat.ctx, &feedpb.FeedDeleteRequest{Id: gone.GetId()})
	require.NoError(t, err)
	c2 := e.post(t, cat, "cat two")
	id := func(fs ...*feedpb.Feed) []uint64 { return feedIDs(fs) }

	resp, err := e.feeds.FeedFollow(ann.ctx, &feedpb.FeedFollowRequest{})
	require.NoError(t, err)
	require.Equal(t, id(c2, b2, c1, b1), feedIDs(resp.GetFeed()))
	require.Equal(t, "https://cdn.example.com/b.mp4", resp.GetFeed()[1].GetVideo().GetVideoUrl())

	var pages [][]uint64
	var lastID uint64
	for {
		resp, err := e.feeds.FeedFollow(ann.ctx, &feedpb.FeedFollowRequest{Num: 3, LastId: lastID})
		require.NoError(t, err)
		require.EqualValues(t, 3, resp.GetPager().GetPageZie())
		ids := feedIDs(resp.GetFeed())
		if len(ids) == 0 {
			break
		}
		pages = append(pages, ids)
		lastID = ids[len(ids)-1]
	}
	require.Equal(t, [][]uint64{id(c2, b2, c1), id(b1)}, pages)

	_, err = e.users.UnfollowUser(ann.ctx, &userpb.UnfollowUserRequest{UserId: cat.id})
	require.NoError(t, err)
	resp, err = e.feeds.FeedFollow(ann.ctx, &feedpb.FeedFollowRequest{})
	require.NoError(t, err)
	require.Equal(t, id(b2, b1), feedIDs(resp.GetFeed()), "an unfollowed user's feeds leave the timeline")
}

func TestFeedRecommend(t *testing.T) {
	t.Parallel()
	e := setup(t, feed.ModerationOff)
	ann := e.signUp(t, "ann") // the reader
	bob := e.signUp(t, "bob")
	cat := e.signUp(t, "cat")
	fans := e.signUpMany(t, "fan", 6)

	x := e.post(t, bob, "older, more liked")
	y := e.post(t, cat, "newer, less liked")
	mine := e.post(t, ann, "ann's own, much liked")
	for _, p := range fans[:3] {
		e.like(t, p, x.GetId())
	}
	e.comment(t, fans[0], x.GetId(), "nice")
	e.like(t, fans[0], y.GetId())
	for _, p := range fans {
		e.like(t, p, mine.GetId())
	}

	recommend := func(p person) []*feedpb.Feed {
		t.Helper()
		resp, err := e.feeds.FeedRecommend(p.ctx, &feedpb.FeedRecommendRequest{Num: 100})
		require.NoError(t, err)
		fs := resp.GetFeed()
		for i, f := range fs {
			require.Equal(t, commonpb.ReviewStatus_ReviewPass, f.GetReviewStatus())
			require.NotEqual(t, p.id, f.GetUserId(), "the caller's own feeds are not recommended to them")
			if i > 0 {
				require.GreaterOrEqual(t, fs[i-1].GetHot(), f.GetHot(), "hottest first")
			}
		}
		return fs
	}
	find := func(fs []*feedpb.Feed, f *feedpb.Feed) (int, *feedpb.Feed) {
		i := slices.IndexFunc(fs, func(g *feedpb.Feed) bool { return g.GetId() == f.GetId() })
		require.GreaterOrEqual(t, i, 0, "feed %d not recommended", f.GetId())
		return i, fs[i]
	}

	fs := recommend(ann)
	ix, hx := find(fs, x)
	iy, hy := find(fs, y)
	require.Less(t, ix, iy, "more likes and comments outrank a slightly newer feed")
	require.Greater(t, hx.GetHot(), hy.GetHot())
	require.NotContains(t, feedIDs(fs), mine.GetId())
	_, _ = find(recommend(bob), mine)

	// y gains likes and comments: its hot rises and it overtakes x.
	for _, p := range fans[1:] {
		e.like(t, p, y.GetId())
	}
	for _, p := range fans[:3] {
		e.comment(t, p, y.GetId(), "agreed")
	}
	fs = recommend(ann)
	ix, _ = find(fs, x)
	iy, hy2 := find(fs, y)
	require.Greater(t, hy2.GetHot(), hy.GetHot(), "hot rises with likes")
	require.Less(t, iy, ix, "now y has more likes and comments")

	resp, err := e.feeds.FeedRecommend(ann.ctx, &feedpb.FeedRecommendRequest{Num: 1})
	require.NoError(t, err)
	require.Len(t, resp.GetFeed(), 1)
	resp, err = e.feeds.FeedRecommend(ann.ctx, &feedpb.FeedRecommendRequest{})
	require.NoError(t, err)
	require.EqualValues(t, 20, resp.GetPager().GetPageZie(), "num defaults to 20")
	require.LessOrEqual(t, len(resp.GetFeed()), 20)
}
