package gateway_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/platform/testkit"
)

func TestSendToAll(t *testing.T) {
	t.Parallel()
	s := newEdge(t)
	admin, plain := s.newUser(t), s.newUser(t)
	require.NoError(t, s.userMod.SetAdmin(context.Background(), admin.nickname, true))
	d1, d2 := s.openDevice(t, s.u1, testkit.Unique("d1-")), s.openDevice(t, plain, testkit.Unique("d2-"))
	adminDev := s.openDevice(t, admin, "")

	// requireBroadcast checks that every device and both edge clients got data.
	requireBroadcast := func(data string) {
		t.Helper()
		for _, dev := range []*parleytest.Stream{d1, d2, adminDev} {
			f := dev.Next(t)
			require.Equal(t, gateway.CmdBroadcast, f.GetCmd())
			require.Equal(t, data, string(f.GetData()))
			require.Zero(t, f.GetRequestId())
		}
		clients := map[string]bool{}
		for _, f := range s.edge.NextN(t, 2) {
			require.Equal(t, gateway.CmdBroadcast, f.GetCmd())
			require.Equal(t, data, string(f.GetData()))
			require.Equal(t, s.gatewayID, f.GetGatewayId())
			clients[f.GetReceiverId()] = true
		}
		require.Equal(t, map[string]bool{s.client1: true, s.client2: true}, clients)
	}
	requireQuiet := func() {
		t.Helper()
		parleytest.QuietAll(t, d1, d2, adminDev, s.edge)
	}

	t.Run("by an admin", func(t *testing.T) {
		_, err := s.gateway.SendToAll(admin.ctx, &gatewaypb.SendToAllRequest{Data: []byte("from the admin")})
		require.NoError(t, err)
		requireBroadcast("from the admin")
		requireQuiet()
	})
	t.Run("by a user who is not an admin", func(t *testing.T) {
		_, err := s.gateway.SendToAll(plain.ctx, &gatewaypb.SendToAllRequest{Data: []byte("from a user")})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		requireQuiet()
	})
	t.Run("without a token", func(t *testing.T) {
		_, err := s.gateway.SendToAll(context.Background(), &gatewaypb.SendToAllRequest{Data: []byte("anonymous")})
		testkit.RequireCode(t, err, codes.Unauthenticated)
	})
	t.Run("with the gateway credential", func(t *testing.T) {
		_, err := s.gateway.SendToAll(gatewayCtx(), &gatewaypb.SendToAllRequest{Data: []byte("from an edge")})
		require.NoError(t, err)
		requireBroadcast("from an edge")
		requireQuiet()
	})
}
