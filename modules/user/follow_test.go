package user_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/user"
	"github.com/parley-im/parley/platform/grpcserver"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
	"github.com/parley-im/parley/platform/testserver"
)

func ids(users []*userpb.User) []uint64 {
	out := make([]uint64, len(users))
	for i, u := range users {
		out[i] = u.GetId()
	}
	return out
}

func TestFollowGraph(t *testing.T) {
	t.Parallel()
	mod := user.New(testdb.Pool(t), testkit.MediaLinks(t), defaultConfig())
	conn := testserver.Start(t, grpcserver.Options{Authenticator: mod, PublicMethods: user.PublicMethods}, mod.Register)
	c := userpb.NewUserServiceClient(conn)

	ann := createUser(t, c, testkit.Unique("ann"))
	bob := createUser(t, c, testkit.Unique("bob"))
	cat := createUser(t, c, testkit.Unique("cat"))
	annCtx := testkit.WithToken(login(t, c, ann.GetNickname(), password))
	catCtx := testkit.WithToken(login(t, c, cat.GetNickname(), password))

	_, err := c.FollowUser(annCtx, &userpb.FollowUserRequest{UserId: ann.GetId()})
	testkit.RequireCode(t, err, codes.InvalidArgument)
	_, err = c.FollowUser(annCtx, &userpb.FollowUserRequest{UserId: 0})
	testkit.RequireCode(t, err, codes.InvalidArgument)
	_, err = c.FollowUser(annCtx, &userpb.FollowUserRequest{UserId: cat.GetId() + 1_000_000})
	testkit.RequireCode(t, err, codes.NotFound)
	_, err = c.FollowUser(context.Background(), &userpb.FollowUserRequest{UserId: bob.GetId()})
	testkit.RequireCode(t, err, codes.Unauthenticated)

	for _, followee := range []*userpb.User{bob, cat, bob} { // the second bob is a no-op
		_, err := c.FollowUser(annCtx, &userpb.FollowUserRequest{UserId: followee.GetId()})
		require.NoError(t, err)
	}
	_, err = c.FollowUser(catCtx, &userpb.FollowUserRequest{UserId: bob.GetId()})
	require.NoError(t, err)

	following, err := c.ListFollowing(annCtx, &userpb.ListFollowingRequest{})
	require.NoError(t, err)
	require.Equal(t, []uint64{cat.GetId(), bob.GetId()}, ids(following.GetUser()), "most recent follow first, no duplicate")
	require.Equal(t, uint64(2), following.GetPager().GetTotalRows())

	followers, err := c.ListFollowers(annCtx, &userpb.ListFollowersRequest{UserId: bob.GetId()})
	require.NoError(t, err)
	require.Equal(t, []uint64{cat.GetId(), ann.GetId()}, ids(followers.GetUser()))

	firstPage, err := c.ListFollowers(annCtx, &userpb.ListFollowersRequest{UserId: bob.GetId(), Page: 2, PageSize: 1})
	require.NoError(t, err)
	require.Equal(t, []uint64{ann.GetId()}, ids(firstPage.GetUser()))
	require.Equal(t, uint64(2), firstPage.GetPager().GetTotalPages())

	following, err = c.ListFollowing(annCtx, &userpb.ListFollowingRequest{UserId: cat.GetId()})
	require.NoError(t, err)
	require.Equal(t, []uint64{bob.GetId()}, ids(following.GetUser()), "listing another user's follows")

	_, err = c.ListFollowing(annCtx, &userpb.ListFollowingRequest{UserId: cat.GetId() + 1_000_000})
	testkit.RequireCode(t, err, codes.NotFound)

	got, err := mod.FollowingIDs(context.Background(), ann.GetId())
	require.NoError(t, err)
	require.ElementsMatch(t, []uint64{bob.GetId(), cat.GetId()}, got)

	_, err = c.UnfollowUser(annCtx, &userpb.UnfollowUserRequest{UserId: bob.GetId()})
	require.NoError(t, err)
	_, err = c.UnfollowUser(annCtx, &userpb.UnfollowUserRequest{UserId: bob.GetId()})
	require.NoError(t, err, "unfollowing someone not followed is a no-op")
	following, err = c.ListFollowing(annCtx, &userpb.ListFollowingRequest{})
	require.NoError(t, err)
	require.Equal(t, []uint64{cat.GetId()}, ids(following.GetUser()))
}

func TestConcurrentFollowsLeaveOneEdge(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	ann := createUser(t, c, testkit.Unique("ann"))
	bob := createUser(t, c, testkit.Unique("bob"))
	annCtx := testkit.WithToken(login(t, c, ann.GetNickname(), password))

	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.FollowUser(annCtx, &userpb.FollowUserRequest{UserId: bob.GetId()})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	followers, err := c.ListFollowers(annCtx, &userpb.ListFollowersRequest{UserId: bob.GetId()})
	require.NoError(t, err)
	require.Equal(t, []uint64{ann.GetId()}, ids(followers.GetUser()))
	require.Equal(t, uint64(1), followers.GetPager().GetTotalRows())
}
