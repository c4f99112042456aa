package gateway_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/modules/gateway"
)

// wsDial serves the module's WebSocket edge with opts and connects to it.
func wsDial(t *testing.T, e *env, opts gateway.WebSocketOptions) *websocket.Conn {
	t.Helper()
	if opts.MaxFrameBytes == 0 {
		opts.MaxFrameBytes = 64 << 10
	}
	if opts.Keepalive == 0 {
		opts.Keepalive, opts.KeepaliveWait = time.Minute, 10*time.Second
	}
	srv := httptest.NewServer(e.gateMod.WebSocket(opts))
	t.Cleanup(srv.Close)
	conn, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return conn
}

// A connection that does not sign in in time is closed; one that does stays.
func TestWebSocketMustSignInInTime(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	opts := gateway.WebSocketOptions{SignInWithin: 300 * time.Millisecond}

	anonymous := wsDial(t, e, opts)
	_, _, err := anonymous.Read(context.Background())
	require.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err), "%v", err)

	p := e.newUser(t)
	signedIn := wsDial(t, e, opts)
	auth, err := json.Marshal(map[string]any{"cmd": "auth", "request_id": 1, "data": map[string]string{"token": p.token}})
	require.NoError(t, err)
	require.NoError(t, signedIn.Write(context.Background(), websocket.MessageText, auth))
	_, answer, err := signedIn.Read(context.Background())
	require.NoError(t, err)
	require.Contains(t, string(answer), `"cmd":"auth"`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _, err = signedIn.Read(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "still open after the sign-in time")
}
