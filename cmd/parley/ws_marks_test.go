package main

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/api/gen/messagepb"
)

// Typing and receipts reach a browser as "typing" and "receipt" pushes in
// protobuf JSON, and a browser sends both through its socket.
func TestWebSocketTypingAndReceipts(t *testing.T) {
	t.Parallel()
	e := wsServe(t)
	peer, browser := clusterSignUpOn(t, e.conn), clusterSignUpOn(t, e.conn)
	c := wsDial(t, e)
	auth := c.call(t, "auth", map[string]string{"token": browser.token})
	require.Equal(t, "auth", auth.Cmd, "%s", auth.Data)
	msgs := messagepb.NewMessageServiceClient(e.conn)
	conv := pairConversation(peer.id, browser.id)
	id := strconv.FormatUint

	_, err := msgs.SendUserTextMessage(peer.ctx(), &messagepb.SendUserTextMessageRequest{ToUserId: browser.id, Text: &messagepb.TextMessage{Content: "are you there?"}})
	require.NoError(t, err)
	c.await(t, func(f wsFrame) bool { return f.Cmd == "message" })

	// The peer types: the browser is told.
	_, err = msgs.SendTyping(peer.ctx(), &messagepb.SendTypingRequest{ConversationId: conv})
	require.NoError(t, err)
	typing := c.await(t, func(f wsFrame) bool { return f.Cmd == "typing" })
	require.JSONEq(t, `{"conversation_id": "`+conv+`", "user_id": "`+id(peer.id, 10)+`", "stopped": false}`, string(typing.Data))

	// The browser types and reads through its socket.
	answer := c.call(t, "/message.MessageService/SendTyping", map[string]any{"conversation_id": conv, "stopped": true})
	require.Equal(t, "/message.MessageService/SendTyping", answer.Cmd, "%s", answer.Data)
	answer = c.call(t, "/message.MessageService/MarkRead", map[string]any{"conversation_id": conv, "seq": 1})
	require.Equal(t, "/message.MessageService/MarkRead", answer.Cmd, "%s", answer.Data)
	r, err := msgs.GetReceipts(peer.ctx(), &messagepb.GetReceiptsRequest{ConversationId: conv, Seq: 1})
	require.NoError(t, err)
	require.True(t, r.GetRead())

	// The browser's message is delivered to, then read by, the peer: two
	// receipt pushes.
	sent := c.call(t, "/message.MessageService/SendUserTextMessage", map[string]any{"to_user_id": peer.id, "text": map[string]string{"content": "yes"}})
	require.Equal(t, "/message.MessageService/SendUserTextMessage", sent.Cmd, "%s", sent.Data)
	_, err = msgs.MarkDelivered(peer.ctx(), &messagepb.MarkDeliveredRequest{ConversationId: conv, Seq: 2})
	require.NoError(t, err)
	receipt := c.await(t, func(f wsFrame) bool { return f.Cmd == "receipt" })
	require.JSONEq(t, `{"conversation_id": "`+conv+`", "user_id": "`+id(peer.id, 10)+`", "delivered_seq": "2", "read_seq": "1", "others": []}`, string(receipt.Data))
	_, err = msgs.MarkRead(peer.ctx(), &messagepb.MarkReadRequest{ConversationId: conv, Seq: 2})
	require.NoError(t, err)
	receipt = c.await(t, func(f wsFrame) bool { return f.Cmd == "receipt" })
	var marks struct {
		ReadSeq string `json:"read_seq"`
	}
	require.NoError(t, json.Unmarshal(receipt.Data, &marks))
	require.Equal(t, "2", marks.ReadSeq)
}
