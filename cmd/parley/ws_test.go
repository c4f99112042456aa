package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
)

// wsEnv is Parley's gRPC server and its /ws handler on an HTTP server.
type wsEnv struct {
	conn    *grpc.ClientConn
	wsURL   string
	host    string
	httpURL string
}

func wsServe(t *testing.T) *wsEnv {
	t.Helper()
	cfg := parleytest.Config(t)
	cfg.WSMaxFrameBytes = 4 << 10
	served := parleytest.Serve(t, cfg, testdb.Pool(t), parley.Options{Log: zerolog.Nop()})
	return &wsEnv{conn: served.Conn, wsURL: "ws" + strings.TrimPrefix(served.HTTPURL, "http") + "/ws",
		host: strings.TrimPrefix(served.HTTPURL, "http://"), httpURL: served.HTTPURL}
}

// wsFrame is a frame of the WebSocket protocol.
type wsFrame struct {
	Cmd       string          `json:"cmd"`
	RequestID uint32          `json:"request_id,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// wsClient is a browser's connection, read in the background.
type wsClient struct {
	conn   *websocket.Conn
	frames chan wsFrame
	done   chan struct{}
	err    error
	nextID uint32
}

func wsDial(t *testing.T, e *wsEnv) *wsClient {
	t.Helper()
	conn, _, err := websocket.Dial(context.Background(), e.wsURL, nil)
	require.NoError(t, err)
	c := &wsClient{conn: conn, frames: make(chan wsFrame, 64), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				c.err = err
				return
			}
			var f wsFrame
			if err := json.Unmarshal(data, &f); err != nil {
				c.err = err
				return
			}
			c.frames <- f
		}
	}()
	t.Cleanup(func() { _ = conn.CloseNow(); <-c.done })
	return c
}

// call sends cmd with data (JSON) and returns the frame answering it.
func (c *wsClient) call(t *testing.T, cmd string, data any) wsFrame {
	t.Helper()
	c.nextID++
	raw, err := json.Marshal(data)
	require.NoError(t, err)
	c.sendRaw(t, wsFrame{Cmd: cmd, RequestID: c.nextID, Data: raw})
	return c.await(t, func(f wsFrame) bool { return f.RequestID == c.nextID })
}

func (c *wsClient) sendRaw(t *testing.T, f any) {
	t.Helper()
	data, err := json.Marshal(f)
	require.NoError(t, err)
	require.NoError(t, c.conn.Write(context.Background(), websocket.MessageText, data))
}

// await returns the first frame for which match is true.
func (c *wsClient) await(t *testing.T, match func(wsFrame) bool) wsFrame {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f := <-c.frames:
			if match(f) {
				return f
			}
		case <-c.done:
			t.Fatalf("connection ended: %v", c.err)
		case <-deadline:
			t.Fatal("no such frame within 10s")
		}
	}
}

// wsError requires f to be an error frame with code and returns its message.
func wsError(t *testing.T, f wsFrame, code int) string {
	t.Helper()
	require.Equal(t, "error", f.Cmd, "%s", f.Data)
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	require.NoError(t, json.Unmarshal(f.Data, &e))
	require.Equal(t, code, e.Code, e.Message)
	require.NotEmpty(t, e.Message)
	return e.Message
}

// A browser signs up, logs in and authenticates over the socket, then
// calls methods as its user and receives pushes, in JSON.
func TestWebSocketSignUpLoginDispatchAndPush(t *testing.T) {
	t.Parallel()
	e := wsServe(t)
	c := wsDial(t, e)
	require.Equal(t, "pong", c.call(t, "ping", nil).Cmd)

	nick := uniqueNickname("ws")
	created := c.call(t, "/user.UserService/CreateUser", map[string]string{"nickname": nick, "password": "browser-pw-1", "password_rpt": "browser-pw-1"})
	require.Equal(t, "/user.UserService/CreateUser", created.Cmd, "%s", created.Data)
	var user struct {
		User struct {
			ID       string `json:"id"`
			Nickname string `json:"nickname"`
		} `json:"user"`
	}
	require.NoError(t, json.Unmarshal(created.Data, &user))
	require.Equal(t, nick, user.User.Nickname)

	// Before it authenticates, a connection may call only public methods.
	wsError(t, c.call(t, "/message.MessageService/ListConversations", map[string]any{}), 16)
	login := c.call(t, "/user.UserService/UserLogin", map[string]string{"nickname": nick, "password": "browser-pw-1"})
	var token struct {
		Token string `json:"token"`
	}
	require.NoError(t, json.Unmarshal(login.Data, &token))
	require.NotEmpty(t, token.Token)
	wsError(t, c.call(t, "auth", map[string]string{"token": "not-a-token"}), 16)
	auth := c.call(t, "auth", map[string]string{"token": token.Token})
	require.Equal(t, "auth", auth.Cmd, "%s", auth.Data)
	require.JSONEq(t, `{"user_id": "`+user.User.ID+`"}`, string(auth.Data))
	wsError(t, c.call(t, "auth", map[string]string{"token": token.Token}), 9) // FailedPrecondition

	// A message sent to the user over gRPC is pushed to the browser.
	sender := clusterSignUpOn(t, e.conn)
	var browserID uint64
	require.NoError(t, json.Unmarshal([]byte(user.User.ID), &browserID))
	_, err := messagepb.NewMessageServiceClient(e.conn).SendUserTextMessage(sender.ctx(),
		&messagepb.SendUserTextMessageRequest{ToUserId: browserID, Text: &messagepb.TextMessage{Content: "hello browser"}})
	require.NoError(t, err)
	push := c.await(t, func(f wsFrame) bool { return f.Cmd == "message" })
	var msg struct {
		Seq  string `json:"seq"`
		Text struct {
			Content string `json:"content"`
		} `json:"text"`
	}
	require.NoError(t, json.Unmarshal(push.Data, &msg), "%s", push.Data)
	require.Equal(t, "hello browser", msg.Text.Content)
	require.Equal(t, "1", msg.Seq)

	// And the browser answers through the socket, as its own user.
	sent := c.call(t, "/message.MessageService/SendUserTextMessage", map[string]any{"to_user_id": sender.id, "text": map[string]string{"content": "hi back"}})
	require.Equal(t, "/message.MessageService/SendUserTextMessage", sent.Cmd, "%s", sent.Data)
	synced, err := messagepb.NewMessageServiceClient(e.conn).SyncMessages(sender.ctx(),
		&messagepb.SyncMessagesRequest{ConversationId: pairConversation(sender.id, browserID)})
	require.NoError(t, err)
	require.Len(t, synced.GetMessage(), 2)
	require.Equal(t, browserID, synced.GetMessage()[1].GetFromUserId())

	// Its user edits the answer (from another device): the edit reaches the
	// browser as a "change" push in protobuf JSON, in the stream after the
	// message.
	_, err = messagepb.NewMessageServiceClient(e.conn).EditMessage(testkit.WithToken(token.Token), &messagepb.EditMessageRequest{
		MessageId: synced.GetMessage()[1].GetId(), Text: &messagepb.TextMessage{Content: "hi back!"}})
	require.NoError(t, err)
	change := c.await(t, func(f wsFrame) bool { return f.Cmd == "change" })
	var pushedChange struct {
		Seq     string `json:"seq"`
		Kind    string `json:"kind"`
		Message struct {
			Text struct {
				Content string `json:"content"`
			} `json:"text"`
			EditCount int `json:"edit_count"`
		} `json:"message"`
	}
	require.NoError(t, json.Unmarshal(change.Data, &pushedChange), "%s", change.Data)
	require.Equal(t, "3", pushedChange.Seq)
	require.Equal(t, "CHANGE_KIND_EDITED", pushedChange.Kind)
	require.Equal(t, "hi back!", pushedChange.Message.Text.Content)
	require.Equal(t, 1, pushedChange.Message.EditCount)

	// The browser reacts to the first message through the socket; the
	// sender's reaction and the user's delete-for-me from another device
	// reach the browser as "change" pushes. (A change the socket itself
	// makes is pushed before its answer, which call skips.)
	first := synced.GetMessage()[0].GetId()
	reacted := c.call(t, "/message.MessageService/ReactToMessage", map[string]any{"message_id": first, "emoji": "👋"})
	require.JSONEq(t, `{"reactions": [{"emoji": "👋", "count": "1", "mine": true, "recent_user_id": ["`+user.User.ID+`"]}]}`, string(reacted.Data))
	_, err = messagepb.NewMessageServiceClient(e.conn).ReactToMessage(sender.ctx(), &messagepb.ReactToMessageRequest{MessageId: first, Emoji: "👋"})
	require.NoError(t, err)
	reaction := c.await(t, func(f wsFrame) bool { return f.Cmd == "change" })
	var pushedReaction struct {
		Kind    string `json:"kind"`
		Emoji   string `json:"emoji"`
		Message struct {
			Reactions []struct {
				Emoji string `json:"emoji"`
				Count string `json:"count"`
			} `json:"reactions"`
		} `json:"message"`
	}
	require.NoError(t, json.Unmarshal(reaction.Data, &pushedReaction), "%s", reaction.Data)
	require.Equal(t, "CHANGE_KIND_REACTION_ADDED", pushedReaction.Kind)
	require.Equal(t, "👋", pushedReaction.Emoji)
	require.Len(t, pushedReaction.Message.Reactions, 1)
	require.Equal(t, "2", pushedReaction.Message.Reactions[0].Count)
	_, err = messagepb.NewMessageServiceClient(e.conn).DeleteMessageForMe(testkit.WithToken(token.Token), &messagepb.DeleteMessageForMeRequest{MessageId: first})
	require.NoError(t, err)
	deleted := c.await(t, func(f wsFrame) bool { return f.Cmd == "change" })
	require.Contains(t, string(deleted.Data), "CHANGE_KIND_DELETED_FOR_ME")
	mine, err := messagepb.NewMessageServiceClient(e.conn).SyncMessages(testkit.WithToken(token.Token),
		&messagepb.SyncMessagesRequest{ConversationId: pairConversation(sender.id, browserID)})
	require.NoError(t, err)
	require.Len(t, mine.GetMessage(), 1, "the first message is gone for the browser's user")
}

// Frames that are not the protocol get error frames, and the connection
// stays usable.
func TestWebSocketBadFrames(t *testing.T) {
	t.Parallel()
	e := wsServe(t)
	c := wsDial(t, e)
	require.NoError(t, c.conn.Write(context.Background(), websocket.MessageText, []byte("not json")))
	wsError(t, c.await(t, func(wsFrame) bool { return true }), 3)
	require.NoError(t, c.conn.Write(context.Background(), websocket.MessageBinary, []byte(`{"cmd":"ping"}`)))
	wsError(t, c.await(t, func(wsFrame) bool { return true }), 3)

	wsError(t, c.call(t, "nonsense", nil), 3)
	wsError(t, c.call(t, "/gateway.GatewayService/SendToAll", map[string]any{}), 3)
	wsError(t, c.call(t, "/user.UserService/NoSuchMethod", map[string]any{}), 12)
	wsError(t, c.call(t, "/common.CommonService/UploadImage", map[string]any{}), 12) // streaming
	msg := wsError(t, c.call(t, "/user.UserService/UserLogin", map[string]any{"nickname": 5}), 3)
	require.Contains(t, msg, "user.UserLoginRequest")
	wsError(t, c.call(t, "/user.UserService/UserLogin", map[string]any{"nickname": "", "password": ""}), 3) // validation
	wsError(t, c.call(t, "auth", "no object"), 3)
	require.Equal(t, "pong", c.call(t, "ping", nil).Cmd, "still open")
}

// A frame over -ws-max-frame-bytes closes the connection (1009); a page
// from another origin may not connect; a password change ends the
// signed-in connections.
func TestWebSocketLimits(t *testing.T) {
	t.Parallel()
	e := wsServe(t)

	big := wsDial(t, e)
	big.sendRaw(t, wsFrame{Cmd: "ping", Data: json.RawMessage(`"` + strings.Repeat("x", 8<<10) + `"`)})
	<-big.done
	require.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(big.err), "%v", big.err)

	_, resp, err := websocket.Dial(context.Background(), e.wsURL, &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": []string{"https://evil.example"}}})
	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	ok, _, err := websocket.Dial(context.Background(), e.wsURL, &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": []string{"http://" + e.host}}})
	require.NoError(t, err, "the page's own origin")
	_ = ok.CloseNow()

	u := clusterSignUpOn(t, e.conn)
	c := wsDial(t, e)
	require.Equal(t, "auth", c.call(t, "auth", map[string]string{"token": u.token}).Cmd)
	_, err = userpb.NewUserServiceClient(e.conn).UpdatePassword(u.ctx(),
		&userpb.UpdatePasswordRequest{Password: "changed-pw-22", PasswordRpt: "changed-pw-22"})
	require.NoError(t, err)
	<-c.done
	require.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(c.err), "%v", c.err)
}

// clusterSignUpOn is clusterSignUp on a bare connection.
func clusterSignUpOn(t *testing.T, conn *grpc.ClientConn) clusterUser {
	t.Helper()
	return clusterSignUp(t, &clusterNode{conn: conn})
}

// Pages upload images with POST /upload: the caller's token, the image as
// the body; the same checks as UploadImage.
func TestUploadOverHTTP(t *testing.T) {
	t.Parallel()
	e := wsServe(t)
	u := clusterSignUpOn(t, e.conn)
	post := func(token string, body []byte) (int, map[string]any) {
		req, err := http.NewRequest(http.MethodPost, e.httpURL+"/upload", bytes.NewReader(body))
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return resp.StatusCode, out
	}
	pixel, err := base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
	require.NoError(t, err)

	code, out := post(u.token, pixel)
	require.Equal(t, http.StatusOK, code, "%v", out)
	require.Contains(t, out["url"], "/media/")
	require.Contains(t, out["url"], ".png?exp=")

	code, out = post("", pixel)
	require.Equal(t, http.StatusUnauthorized, code, "%v", out)
	code, out = post("not-a-token", pixel)
	require.Equal(t, http.StatusUnauthorized, code, "%v", out)
	code, out = post(u.token, []byte("just text, not an image"))
	require.Equal(t, http.StatusBadRequest, code, "%v", out)
	require.Contains(t, out["message"], "not a JPEG, PNG")
	code, out = post(u.token, nil)
	require.Equal(t, http.StatusBadRequest, code, "%v", out)
}

// One address may hold 16 WebSocket connections that have not signed in;
// the next is refused with 429 before the upgrade, and signing one in
// frees its place.
func TestWebSocketAnonymousConnectionsArePerAddressBounded(t *testing.T) {
	t.Parallel()
	e := wsServe(t)
	anonymous := make([]*wsClient, 16)
	for i := range anonymous {
		anonymous[i] = wsDial(t, e)
		require.Equal(t, "pong", anonymous[i].call(t, "ping", nil).Cmd)
	}
	_, resp, err := websocket.Dial(context.Background(), e.wsURL, nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)

	nick := uniqueNickname("wsanon")
	c := anonymous[0]
	c.call(t, "/user.UserService/CreateUser", map[string]string{"nickname": nick, "password": "browser-pw-1", "password_rpt": "browser-pw-1"})
	login := c.call(t, "/user.UserService/UserLogin", map[string]string{"nickname": nick, "password": "browser-pw-1"})
	var token struct {
		Token string `json:"token"`
	}
	require.NoError(t, json.Unmarshal(login.Data, &token))
	require.Equal(t, "auth", c.call(t, "auth", map[string]string{"token": token.Token}).Cmd)
	require.Equal(t, "pong", wsDial(t, e).call(t, "ping", nil).Cmd, "a sign-in frees a place")
}
