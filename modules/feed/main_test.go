package feed_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/user"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
)

func TestMain(m *testing.M) { testdb.Main(m) }

const password = "secret123"

// flushInterval is how often the feed module under test writes view counts.
const flushInterval = 50 * time.Millisecond

// env is Parley, as `parley serve` wires it, over the package's database.
// Every test gets its own, so the feed module's in-memory state (pending
// views) is the test's alone; the database is shared, so tests look only at
// the users and feeds they made.
type env struct {
	pool    *pgxpool.Pool
	userMod *user.Module
	users   userpb.UserServiceClient
	feeds   feedpb.FeedServiceClient
}

// setup serves Parley with the given moderation mode; the feed module's
// background work runs until the test ends.
func setup(t *testing.T, moderation string) *env {
	t.Helper()
	e, _ := start(t, moderation, flushInterval)
	return e
}

// start serves Parley with the moderation mode and the feed module writing
// views every viewFlush, until stop is called or the test ends; stop
// returns once the app, and so the feed module's Run, has.
func start(t *testing.T, moderation string, viewFlush time.Duration) (e *env, stop func()) {
	t.Helper()
	pool := testdb.Pool(t)
	cfg := parleytest.Config(t)
	cfg.FeedModeration = moderation
	opts := parleytest.Options()
	opts.ViewFlushInterval = viewFlush
	served := parleytest.Serve(t, cfg, pool, opts)
	return &env{
		pool:    pool,
		userMod: served.Modules().User,
		users:   userpb.NewUserServiceClient(served.Conn),
		feeds:   feedpb.NewFeedServiceClient(served.Conn),
	}, served.Stop
}

// person is a signed-up, signed-in user.
type person struct {
	id       uint64
	nickname string
	ctx      context.Context // carries the user's token
}

func (e *env) trySignUp(prefix string, admin bool) (person, error) {
	ctx := context.Background()
	nick := testkit.Unique(prefix)
	created, err := e.users.CreateUser(ctx, &userpb.UserCreateRequest{Nickname: nick, Password: password, PasswordRpt: password})
	if err != nil {
		return person{}, err
	}
	if admin {
		if err := e.userMod.SetAdmin(ctx, nick, true); err != nil {
			return person{}, err
		}
	}
	login, err := e.users.UserLogin(ctx, &userpb.UserLoginRequest{Nickname: nick, Password: password})
	if err != nil {
		return person{}, err
	}
	return person{id: created.GetUser().GetId(), nickname: nick, ctx: testkit.WithToken(login.GetToken())}, nil
}

// signUp creates a user over gRPC and logs them in.
func (e *env) signUp(t *testing.T, prefix string) person {
	t.Helper()
	p, err := e.trySignUp(prefix, false)
	require.NoError(t, err)
	return p
}

// signUpAdmin creates a user, makes them an admin and logs them in.
func (e *env) signUpAdmin(t *testing.T, prefix string) person {
	t.Helper()
	p, err := e.trySignUp(prefix, true)
	require.NoError(t, err)
	return p
}

// signUpMany creates n users, a few at a time.
func (e *env) signUpMany(t *testing.T, prefix string, n int) []person {
	t.Helper()
	out := make([]person, n)
	var g errgroup.Group
	g.SetLimit(8)
	for i := range out {
		g.Go(func() error {
			var err error
			out[i], err = e.trySignUp(prefix, false)
			return err
		})
	}
	require.NoError(t, g.Wait())
	return out
}

func (e *env) follow(t *testing.T, who, whom person) {
	t.Helper()
	_, err := e.users.FollowUser(who.ctx, &userpb.FollowUserRequest{UserId: whom.id})
	require.NoError(t, err)
}

// create posts req as p and returns the new feed.
func (e *env) create(t *testing.T, p person, req *feedpb.FeedCreateRequest) *feedpb.Feed {
	t.Helper()
	resp, err := e.feeds.FeedCreate(p.ctx, req)
	require.NoError(t, err)
	require.NotZero(t, resp.GetFeed().GetId())
	return resp.GetFeed()
}

// post creates a Txt feed.
func (e *env) post(t *testing.T, p person, content string) *feedpb.Feed {
	t.Helper()
	return e.create(t, p, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: content})
}

// get reads a feed (counting a view).
func (e *env) get(t *testing.T, p person, id uint64) *feedpb.Feed {
	t.Helper()
	resp, err := e.feeds.FeedGet(p.ctx, &feedpb.FeedGetRequest{Id: id})
	require.NoError(t, err)
	return resp.GetFeed()
}

func (e *env) like(t *testing.T, p person, id uint64) {
	t.Helper()
	_, err := e.feeds.FeedLike(p.ctx, &feedpb.FeedLikeRequest{Id: id})
	require.NoError(t, err)
}

func (e *env) comment(t *testing.T, p person, feedID uint64, content string) *feedpb.FeedComment {
	t.Helper()
	resp, err := e.feeds.FeedCommentCreate(p.ctx, &feedpb.FeedCommentCreateRequest{FeedId: feedID, Content: content})
	require.NoError(t, err)
	return resp.GetComment()
}

// dbCounts reads a feed's counters straight from its row.
func (e *env) dbCounts(t *testing.T, id uint64) (likes, views, comments int64) {
	t.Helper()
	err := e.pool.QueryRow(context.Background(),
		`SELECT like_count, view_count, comment_count FROM feeds.feeds WHERE id = $1`, int64(id)).
		Scan(&likes, &views, &comments)
	require.NoError(t, err)
	return likes, views, comments
}

func feedIDs(feeds []*feedpb.Feed) []uint64 {
	out := make([]uint64, len(feeds))
	for i, f := range feeds {
		out[i] = f.GetId()
	}
	return out
}

// byAuthors keeps the feeds written by the given users: the database is
// shared with the package's other tests, whose public feeds appear in the
// public lists too.
func byAuthors(feeds []*feedpb.Feed, authors ...person) []*feedpb.Feed {
	var out []*feedpb.Feed
	for _, f := range feeds {
		if slices.ContainsFunc(authors, func(p person) bool { return p.id == f.GetUserId() }) {
			out = append(out, f)
		}
	}
	return out
}

// requireNewestFirst checks ids strictly decrease.
func requireNewestFirst(t *testing.T, ids []uint64) {
	t.Helper()
	for i := 1; i < len(ids); i++ {
		require.Greater(t, ids[i-1], ids[i], "ids not strictly decreasing at %d: %v", i, ids)
	}
}
