package message_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/testkit"
)

func (e *env) edit(ctx context.Context, id uint64, content string) (*messagepb.Message, error) {
	resp, err := e.msgs.EditMessage(ctx, &messagepb.EditMessageRequest{MessageId: id, Text: &messagepb.TextMessage{Content: content}})
	return resp.GetMessage(), err
}

// lastSeq is the conversation's last seq as the database has it.
func (e *env) lastSeq(t *testing.T, convID string) uint64 {
	t.Helper()
	var seq uint64
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT last_seq FROM messages.conversations WHERE id = $1`, convID).Scan(&seq))
	return seq
}

// An edit replaces the text and is an entry of the conversation's stream:
// the next seq, pushed as a change to both users, synced after a cursor
// older than it, counted as no unread message; the list's last message is
// the edited one. Editing to the same text changes nothing.
func TestEditMessage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)
	id := e.sendText(t, alice, toUser(bob.id), "helo bob")

	edited, err := e.edit(alice.ctx, id, "hello bob")
	require.NoError(t, err)
	require.Equal(t, "hello bob", edited.GetText().GetContent())
	require.Equal(t, uint32(1), edited.GetEditCount())
	require.NotNil(t, edited.GetEditedAt())
	require.Equal(t, uint64(1), edited.GetSeq(), "the message keeps its place")
	require.Equal(t, uint64(2), e.lastSeq(t, conv), "the edit is the next entry")

	pushed := e.rec.changes(t)
	require.Len(t, pushed, 1)
	require.Equal(t, sorted(alice.id, bob.id), pushed[0].userIDs)
	require.Equal(t, uint64(2), pushed[0].change.GetSeq())
	require.Equal(t, messagepb.ChangeKind_CHANGE_KIND_EDITED, pushed[0].change.GetKind())
	require.Equal(t, alice.id, pushed[0].change.GetActorId())
	requireProtoEqual(t, edited, pushed[0].change.GetMessage())

	fromStart := e.sync(t, bob, conv, 0, 0)
	require.Equal(t, []uint64{1}, seqs(fromStart.GetMessage()))
	require.Equal(t, "hello bob", fromStart.GetMessage()[0].GetText().GetContent(), "a message is synced as it is now")
	require.Len(t, fromStart.GetChanges(), 1)
	afterMessage := e.sync(t, bob, conv, 1, 0)
	require.Empty(t, afterMessage.GetMessage())
	require.Len(t, afterMessage.GetChanges(), 1, "a device whose cursor is the message gets the edit")
	requireProtoEqual(t, edited, afterMessage.GetChanges()[0].GetMessage())
	require.Empty(t, e.sync(t, bob, conv, 2, 0).GetChanges())

	c := e.conversationOf(t, bob, conv)
	require.Equal(t, uint64(2), c.GetLastSeq())
	require.Equal(t, uint64(1), c.GetUnreadCount(), "an edit is not an unread message")
	require.Equal(t, "hello bob", c.GetLastMessage().GetText().GetContent())
	require.NoError(t, e.markRead(bob, conv, 2))
	require.Zero(t, e.conversationOf(t, bob, conv).GetUnreadCount())

	same, err := e.edit(alice.ctx, id, "hello bob")
	require.NoError(t, err)
	requireProtoEqual(t, edited, same)
	require.Equal(t, uint64(2), e.lastSeq(t, conv), "the same text is no change")
	require.Len(t, e.rec.changes(t), 1)

	e.sendText(t, bob, toUser(alice.id), "thanks")
	again, err := e.edit(alice.ctx, id, "hello, bob")
	require.NoError(t, err)
	require.Equal(t, uint32(2), again.GetEditCount())
	page := e.sync(t, alice, conv, 1, 0)
	require.Equal(t, []uint64{3}, seqs(page.GetMessage()))
	require.Len(t, page.GetChanges(), 2)
	require.Equal(t, []uint64{2, 4}, []uint64{page.GetChanges()[0].GetSeq(), page.GetChanges()[1].GetSeq()},
		"messages and changes share one gap-free stream")
}

// Only the sender edits, only a text, only within the edit window; to
// anyone outside the conversation the message does not exist. No refusal
// writes anything.
func TestEditRefusals(t *testing.T) {
	t.Parallel()
	e := setupWith(t, func(cfg *config.Config, _ *parley.Options) { cfg.EditWindow = time.Second })
	alice, bob, carol := e.newUser(t), e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)
	text := e.sendText(t, alice, toUser(bob.id), "a text")
	photo, err := e.send(alice.ctx, toUser(bob.id), &messagepb.Message{Body: &messagepb.Message_Image{Image: &messagepb.ImageMessageItem{Url: "https://example.com/a.png"}}})
	require.NoError(t, err)
	before := e.lastSeq(t, conv)

	_, err = e.edit(bob.ctx, text, "bob's words")
	testkit.RequireCode(t, err, codes.PermissionDenied)
	_, err = e.edit(alice.ctx, photo, "a caption")
	testkit.RequireCode(t, err, codes.FailedPrecondition)
	_, err = e.edit(carol.ctx, text, "carol's words")
	outsider := testkit.RequireCode(t, err, codes.NotFound)
	_, err = e.edit(carol.ctx, 1<<62, "no such message")
	require.Equal(t, outsider.Message(), testkit.RequireCode(t, err, codes.NotFound).Message(), "the same answer whether it exists or not")
	_, err = e.edit(alice.ctx, text, "")
	requireInvalid(t, err, "text.content")

	time.Sleep(1100 * time.Millisecond)
	_, err = e.edit(alice.ctx, text, "too late")
	st := testkit.RequireCode(t, err, codes.FailedPrecondition)
	require.Contains(t, st.Message(), "edit window")

	require.Equal(t, before, e.lastSeq(t, conv), "no refusal takes a seq")
	require.Empty(t, e.rec.changes(t))
	require.Equal(t, "a text", e.syncAll(t, bob, conv)[0].GetText().GetContent())
}

// A member sees a group message's edits only if it sees the message: one
// who joined after it gets neither the push nor the change in sync.
func TestGroupEditsReachOnlyWhoSeesTheMessage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, carol, bob := e.newUser(t), e.newUser(t), e.newUser(t)
	g := e.groupOf(t, alice, carol)
	conv := groupConvID(g.GetId())
	early := e.sendText(t, alice, toGroup(g.GetId()), "before bob")
	e.join(t, bob, g.GetId())
	late := e.sendText(t, alice, toGroup(g.GetId()), "after bob joined")

	_, err := e.edit(alice.ctx, early, "before bob, edited")
	require.NoError(t, err)
	_, err = e.edit(alice.ctx, late, "after bob joined, edited")
	require.NoError(t, err)

	pushed := e.rec.changes(t)
	require.Len(t, pushed, 2)
	require.Equal(t, sorted(alice.id, carol.id), pushed[0].userIDs, "bob does not see the message from before his join")
	require.Equal(t, sorted(alice.id, carol.id, bob.id), pushed[1].userIDs)

	bobs := e.sync(t, bob, conv, 0, 0)
	require.Len(t, bobs.GetChanges(), 1)
	require.Equal(t, late, bobs.GetChanges()[0].GetMessage().GetId())
	carols := e.sync(t, carol, conv, 0, 0)
	require.Len(t, carols.GetChanges(), 2)
	_, err = e.edit(bob.ctx, early, "not bob's")
	testkit.RequireCode(t, err, codes.NotFound)
}

// A user who blocks the sender gets no edited words from it either.
func TestEditToABlockerIsRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	id := e.sendText(t, alice, toUser(bob.id), "hello")
	_, err := e.users.BlockUser(bob.ctx, &userpb.BlockUserRequest{UserId: alice.id})
	require.NoError(t, err)
	seq := e.lastSeq(t, pairID(alice.id, bob.id))
	_, err = e.edit(alice.ctx, id, "something else")
	testkit.RequireCode(t, err, codes.PermissionDenied)
	require.Equal(t, seq, e.lastSeq(t, pairID(alice.id, bob.id)))
}
