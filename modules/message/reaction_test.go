package message_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/platform/testkit"
)

func (e *env) react(ctx context.Context, id uint64, emoji string) ([]*messagepb.Reaction, error) {
	resp, err := e.msgs.ReactToMessage(ctx, &messagepb.ReactToMessageRequest{MessageId: id, Emoji: emoji})
	return resp.GetReactions(), err
}

func (e *env) unreact(ctx context.Context, id uint64, emoji string) ([]*messagepb.Reaction, error) {
	resp, err := e.msgs.ReactToMessage(ctx, &messagepb.ReactToMessageRequest{MessageId: id, Emoji: emoji, Remove: true})
	return resp.GetReactions(), err
}

// reactionsOf is message id's reactions as p syncs them.
func (e *env) reactionsOf(t *testing.T, p person, convID string, id uint64) []*messagepb.Reaction {
	t.Helper()
	for _, m := range e.syncAll(t, p, convID) {
		if m.GetId() == id {
			return m.GetReactions()
		}
	}
	t.Fatalf("message %d not in %s for user %d", id, convID, p.id)
	return nil
}

// chip is a reaction as a test writes it.
func chip(emoji string, mine bool, recent ...uint64) *messagepb.Reaction {
	return &messagepb.Reaction{Emoji: emoji, Count: uint64(len(recent)), Mine: mine, RecentUserId: recent}
}

func requireReactions(t *testing.T, want []*messagepb.Reaction, got []*messagepb.Reaction, msgAndArgs ...any) {
	t.Helper()
	require.Len(t, got, len(want), msgAndArgs...)
	for i := range want {
		requireProtoEqual(t, want[i], got[i])
	}
}

// A reaction is one per (user, emoji), a user may hold several emoji, the
// message's reactions are in the order each emoji was first used, newest
// reactors first, mine as the caller sees it; each change is an entry
// pushed to both users with the actor's view; adding a held reaction or
// removing one not held changes nothing; reactions are no unread messages.
func TestReactToMessage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)
	id := e.sendText(t, alice, toUser(bob.id), "lunch?")

	got, err := e.react(bob.ctx, id, "👍")
	require.NoError(t, err)
	requireReactions(t, []*messagepb.Reaction{chip("👍", true, bob.id)}, got)
	got, err = e.react(alice.ctx, id, "👍")
	require.NoError(t, err)
	requireReactions(t, []*messagepb.Reaction{chip("👍", true, alice.id, bob.id)}, got)
	got, err = e.react(bob.ctx, id, "🍕")
	require.NoError(t, err)
	requireReactions(t, []*messagepb.Reaction{chip("👍", true, alice.id, bob.id), chip("🍕", true, bob.id)}, got)
	requireReactions(t, []*messagepb.Reaction{chip("👍", true, alice.id, bob.id), chip("🍕", false, bob.id)},
		e.reactionsOf(t, alice, conv, id), "mine is the caller's")

	seq := e.lastSeq(t, conv)
	_, err = e.react(bob.ctx, id, "👍")
	require.NoError(t, err, "reacting again is no error")
	_, err = e.unreact(alice.ctx, id, "🍕")
	require.NoError(t, err, "removing a reaction one does not hold is no error")
	require.Equal(t, seq, e.lastSeq(t, conv), "and neither is a change")

	got, err = e.unreact(bob.ctx, id, "👍")
	require.NoError(t, err)
	requireReactions(t, []*messagepb.Reaction{chip("👍", false, alice.id), chip("🍕", true, bob.id)}, got)

	pushed := e.rec.changes(t)
	require.Len(t, pushed, 4)
	for i, want := range []struct {
		kind  messagepb.ChangeKind
		actor uint64
		emoji string
	}{
		{messagepb.ChangeKind_CHANGE_KIND_REACTION_ADDED, bob.id, "👍"},
		{messagepb.ChangeKind_CHANGE_KIND_REACTION_ADDED, alice.id, "👍"},
		{messagepb.ChangeKind_CHANGE_KIND_REACTION_ADDED, bob.id, "🍕"},
		{messagepb.ChangeKind_CHANGE_KIND_REACTION_REMOVED, bob.id, "👍"},
	} {
		c := pushed[i]
		require.Equal(t, sorted(alice.id, bob.id), c.userIDs)
		require.Equal(t, want.kind, c.change.GetKind())
		require.Equal(t, want.actor, c.change.GetActorId())
		require.Equal(t, want.emoji, c.change.GetEmoji())
		require.Equal(t, uint64(i+2), c.change.GetSeq())
	}
	// A pushed change's mine is its actor's: bob took his 👍 back and still
	// holds 🍕.
	requireReactions(t, []*messagepb.Reaction{chip("👍", false, alice.id), chip("🍕", true, bob.id)},
		pushed[3].change.GetMessage().GetReactions())

	synced := e.sync(t, alice, conv, 1, 0).GetChanges()
	require.Len(t, synced, 4)
	require.Equal(t, "🍕", synced[2].GetEmoji())
	requireReactions(t, []*messagepb.Reaction{chip("👍", true, alice.id), chip("🍕", false, bob.id)},
		synced[3].GetMessage().GetReactions(), "a synced change's mine is the caller's")
	require.Zero(t, e.conversationOf(t, alice, conv).GetUnreadCount(), "reactions are no unread messages")

	// A tombstone has no reactions and takes none.
	require.NoError(t, e.recall(alice.ctx, id))
	require.Empty(t, e.reactionsOf(t, bob, conv, id))
	var left int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM messages.reactions WHERE message_id = $1) +
		(SELECT count(*) FROM messages.reaction_counts WHERE message_id = $1)`, id).Scan(&left))
	require.Zero(t, left, "a recall deletes the reactions and their counts")
	seq = e.lastSeq(t, conv)
	_, err = e.react(bob.ctx, id, "😮")
	testkit.RequireCode(t, err, codes.FailedPrecondition)
	require.Equal(t, seq, e.lastSeq(t, conv))
}

// The limits of reactions, and who may react: a message holds at most 20
// different emoji (one held already may still be added); an emoji is one
// grapheme cluster; an outsider, or a member who joined after the message,
// is told it does not exist. No refusal writes anything.
func TestReactionRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t)
	users := e.newUsers(t, 7)
	alice, bob, carol := users[0], users[1], users[2]
	g := e.groupOf(t, alice, users[1:6]...)
	conv := groupConvID(g.GetId())
	id := e.sendText(t, alice, toGroup(g.GetId()), "vote with emoji")

	emoji := []rune("😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗")
	for i, r := range emoji {
		_, err := e.react(users[i%5].ctx, id, string(r))
		require.NoError(t, err)
	}
	seq := e.lastSeq(t, conv)
	_, err := e.react(bob.ctx, id, "🤔")
	st := testkit.RequireCode(t, err, codes.FailedPrecondition)
	require.Contains(t, st.Message(), "20 different reactions")
	_, err = e.react(users[5].ctx, id, string(emoji[0]))
	require.NoError(t, err, "an emoji in use may still be added")
	seq++

	for _, bad := range []string{"", "ok", "👍👍", "1", "👍 "} {
		_, err := e.react(bob.ctx, id, bad)
		requireInvalid(t, err, "emoji")
	}
	outsider := users[6]
	_, err = e.react(outsider.ctx, id, "👍")
	st = testkit.RequireCode(t, err, codes.NotFound)
	_, err = e.react(outsider.ctx, 1<<62, "👍")
	require.Equal(t, st.Message(), testkit.RequireCode(t, err, codes.NotFound).Message(), "the same answer whether it exists or not")
	require.Equal(t, seq, e.lastSeq(t, conv), "no refusal takes a seq")
	e.join(t, outsider, g.GetId())
	seq++ // the join's event
	require.Equal(t, seq, e.lastSeq(t, conv))
	_, err = e.react(outsider.ctx, id, "👍")
	testkit.RequireCode(t, err, codes.NotFound)
	require.Equal(t, seq, e.lastSeq(t, conv), "no refusal takes a seq")

	// Up to five recent reactors, newest first; the count is all of them.
	other := e.sendText(t, alice, toGroup(g.GetId()), "and this one")
	for _, u := range users[:6] {
		_, err := e.react(u.ctx, other, "🎉")
		require.NoError(t, err)
	}
	got := e.reactionsOf(t, carol, conv, other)
	require.Len(t, got, 1)
	require.Equal(t, uint64(6), got[0].GetCount())
	require.Equal(t, []uint64{users[5].id, users[4].id, users[3].id, users[2].id, users[1].id}, got[0].GetRecentUserId())
	require.True(t, got[0].GetMine())
}

// The same idempotency key on a retried change has one effect: a retried
// reaction, edit, recall or delete-for-me answers OK and changes nothing
// more, even after a later change.
func TestChangesAreIdempotent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)
	id := e.sendText(t, alice, toUser(bob.id), "first draft")
	keyed := func(p person, key string) context.Context {
		return metadata.AppendToOutgoingContext(p.ctx, "idempotency-key", key)
	}

	_, err := e.edit(keyed(alice, "edit-1"), id, "second draft")
	require.NoError(t, err)
	_, err = e.edit(keyed(alice, "edit-2"), id, "third draft")
	require.NoError(t, err)
	m, err := e.edit(keyed(alice, "edit-1"), id, "second draft")
	require.NoError(t, err, "a retry answers OK")
	require.Equal(t, "third draft", m.GetText().GetContent(), "a late retry does not revert a later edit")
	require.Equal(t, uint32(2), m.GetEditCount())

	_, err = e.react(keyed(bob, "react-1"), id, "👍")
	require.NoError(t, err)
	_, err = e.unreact(bob.ctx, id, "👍")
	require.NoError(t, err)
	got, err := e.react(keyed(bob, "react-1"), id, "👍")
	require.NoError(t, err)
	require.Empty(t, got, "the retried reaction does not come back")

	seq := e.lastSeq(t, conv)
	require.NoError(t, e.deleteForMe(keyed(bob, "delete-1"), id))
	require.NoError(t, e.deleteForMe(keyed(bob, "delete-1"), id))
	require.NoError(t, e.recall(keyed(alice, "recall-1"), id))
	require.NoError(t, e.recall(keyed(alice, "recall-1"), id))
	require.Equal(t, seq+2, e.lastSeq(t, conv), "one entry for each")

	// A retry answers OK whatever changed since: the change it repeats was
	// made (here the message was deleted for bob and recalled meanwhile).
	m, err = e.edit(keyed(alice, "edit-2"), id, "third draft")
	require.NoError(t, err)
	require.True(t, m.GetRecalled())
	_, err = e.react(keyed(bob, "react-1"), id, "👍")
	require.NoError(t, err)
	require.Equal(t, seq+2, e.lastSeq(t, conv))

	var changes int
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM messages.changes WHERE conversation_id = $1`, conv).Scan(&changes))
	require.Equal(t, 6, changes, "2 edits, a reaction and its removal, a delete-for-me, a recall")
}

// An idempotency key is one request's: the same key on a change of another
// message, or another kind of change, or a send, is refused and does
// nothing.
func TestIdempotencyKeysAreOneRequests(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)
	first := e.sendText(t, alice, toUser(bob.id), "first")
	second := e.sendText(t, alice, toUser(bob.id), "second")
	keyed := metadata.AppendToOutgoingContext(bob.ctx, "idempotency-key", "bob-1")

	_, err := e.react(keyed, first, "👍")
	require.NoError(t, err)
	seq := e.lastSeq(t, conv)
	_, err = e.react(keyed, second, "👍")
	requireInvalid(t, err, "idempotency-key")
	_, err = e.unreact(keyed, first, "👍")
	requireInvalid(t, err, "idempotency-key")
	requireInvalid(t, e.deleteForMe(keyed, first), "idempotency-key")
	_, err = e.send(keyed, toUser(alice.id), text("a send with a reaction's key"))
	requireInvalid(t, err, "idempotency-key")
	require.Equal(t, seq, e.lastSeq(t, conv), "no refusal writes")
	require.Empty(t, e.reactionsOf(t, bob, conv, second))
}

// A user the other side blocks cannot react in their conversation either.
func TestReactionToABlockerIsRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	id := e.sendText(t, bob, toUser(alice.id), "hi")
	_, err := e.users.BlockUser(bob.ctx, &userpb.BlockUserRequest{UserId: alice.id})
	require.NoError(t, err)
	_, err = e.react(alice.ctx, id, "👍")
	testkit.RequireCode(t, err, codes.PermissionDenied)
	require.Empty(t, e.reactionsOf(t, bob, pairID(alice.id, bob.id), id))
}
