package user_test

import (
	"context"
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

func TestBlocking(t *testing.T) {
	t.Parallel()
	mod := user.New(testdb.Pool(t), testkit.MediaLinks(t), defaultConfig())
	conn := testserver.Start(t, grpcserver.Options{Authenticator: mod, PublicMethods: user.PublicMethods}, mod.Register)
	c := userpb.NewUserServiceClient(conn)
	ctx := context.Background()

	ann := createUser(t, c, testkit.Unique("ann"))
	bob := createUser(t, c, testkit.Unique("bob"))
	cat := createUser(t, c, testkit.Unique("cat"))
	annCtx := testkit.WithToken(login(t, c, ann.GetNickname(), password))

	_, err := c.BlockUser(annCtx, &userpb.BlockUserRequest{UserId: ann.GetId()})
	testkit.RequireCode(t, err, codes.InvalidArgument)
	_, err = c.BlockUser(annCtx, &userpb.BlockUserRequest{})
	testkit.RequireCode(t, err, codes.InvalidArgument)
	_, err = c.BlockUser(annCtx, &userpb.BlockUserRequest{UserId: cat.GetId() + 1_000_000})
	testkit.RequireCode(t, err, codes.NotFound)
	_, err = c.BlockUser(ctx, &userpb.BlockUserRequest{UserId: bob.GetId()})
	testkit.RequireCode(t, err, codes.Unauthenticated)

	for _, target := range []*userpb.User{bob, cat, bob} { // the second bob is a no-op
		_, err := c.BlockUser(annCtx, &userpb.BlockUserRequest{UserId: target.GetId()})
		require.NoError(t, err)
	}
	blocked, err := c.ListBlocked(annCtx, &userpb.ListBlockedRequest{})
	require.NoError(t, err)
	require.Equal(t, []uint64{cat.GetId(), bob.GetId()}, ids(blocked.GetUser()))
	require.Equal(t, uint64(2), blocked.GetPager().GetTotalRows())

	isBlocked, err := mod.IsBlocked(ctx, ann.GetId(), bob.GetId())
	require.NoError(t, err)
	require.True(t, isBlocked)
	isBlocked, err = mod.IsBlocked(ctx, bob.GetId(), ann.GetId())
	require.NoError(t, err)
	require.False(t, isBlocked, "blocking is one-way")

	_, err = c.UnblockUser(annCtx, &userpb.UnblockUserRequest{UserId: bob.GetId()})
	require.NoError(t, err)
	_, err = c.UnblockUser(annCtx, &userpb.UnblockUserRequest{UserId: bob.GetId()})
	require.NoError(t, err, "unblocking someone not blocked is a no-op")
	isBlocked, err = mod.IsBlocked(ctx, ann.GetId(), bob.GetId())
	require.NoError(t, err)
	require.False(t, isBlocked)
	blocked, err = c.ListBlocked(annCtx, &userpb.ListBlockedRequest{})
	require.NoError(t, err)
	require.Equal(t, []uint64{cat.GetId()}, ids(blocked.GetUser()))
}
