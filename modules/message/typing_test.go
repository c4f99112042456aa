package message_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/modules/message"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/testkit"
)

func (e *env) typing(p person, convID string, stopped bool) error {
	_, err := e.msgs.SendTyping(p.ctx, &messagepb.SendTypingRequest{ConversationId: convID, Stopped: stopped})
	return err
}

// typingFrames decodes the recorded typing deliveries.
func (e *env) typingFrames(t *testing.T) (to [][]uint64, frames []*messagepb.Typing) {
	t.Helper()
	for _, d := range e.rec.frames(message.CmdTyping) {
		f := new(messagepb.Typing)
		require.NoError(t, proto.Unmarshal(d.Data, f))
		require.Empty(t, d.Conversation, "typing is not an entry of the conversation's stream")
		to, frames = append(to, d.UserIDs), append(frames, f)
	}
	return to, frames
}

func TestTypingReachesThePeerOnlyAndIsNotStored(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	e.sendText(t, alice, toUser(bob.id), "hi")
	conv := pairID(alice.id, bob.id)
	rows := e.rowCount(t, conv)

	require.NoError(t, e.typing(alice, conv, false))
	require.NoError(t, e.typing(alice, conv, true)) // a stop is not held back by the start
	to, frames := e.typingFrames(t)
	require.Equal(t, [][]uint64{{bob.id}, {bob.id}}, to)
	requireProtoEqual(t, &messagepb.Typing{ConversationId: conv, UserId: alice.id}, frames[0])
	requireProtoEqual(t, &messagepb.Typing{ConversationId: conv, UserId: alice.id, Stopped: true}, frames[1])
	require.Equal(t, rows, e.rowCount(t, conv), "typing stores nothing")
	require.Len(t, e.sync(t, bob, conv, 0, 0).GetMessage(), 1)
}

func TestTypingFasterThanOnceASecondIsDroppedSilently(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	e.sendText(t, alice, toUser(bob.id), "hi")
	conv := pairID(alice.id, bob.id)
	for range 5 {
		require.NoError(t, e.typing(alice, conv, false), "a burst is no error")
	}
	_, frames := e.typingFrames(t)
	require.Len(t, frames, 1)
	// Per conversation: another one's notice goes.
	carol := e.newUser(t)
	e.sendText(t, alice, toUser(carol.id), "hi")
	require.NoError(t, e.typing(alice, pairID(alice.id, carol.id), false))
	_, frames = e.typingFrames(t)
	require.Len(t, frames, 2)

	time.Sleep(1100 * time.Millisecond)
	require.NoError(t, e.typing(alice, conv, false))
	_, frames = e.typingFrames(t)
	require.Len(t, frames, 3, "a second later the next notice goes")
}

func TestTypingInGroupsGoesToTheOtherMembersUpToTheCap(t *testing.T) {
	t.Parallel()
	e := setupWith(t, func(cfg *config.Config, _ *parley.Options) { cfg.TypingGroupCap = 3 })
	us := e.newUsers(t, 5)
	small := e.groupOf(t, us[0], us[1], us[2])
	require.NoError(t, e.typing(us[1], groupConvID(small.GetId()), false))
	to, frames := e.typingFrames(t)
	require.Equal(t, [][]uint64{ids(us[0], us[2])}, to)
	require.Equal(t, us[1].id, frames[0].GetUserId())

	large := e.groupOf(t, us[0], us[1], us[2], us[3])
	require.NoError(t, e.typing(us[1], groupConvID(large.GetId()), false), "above the cap typing answers OK")
	_, frames = e.typingFrames(t)
	require.Len(t, frames, 1, "and is not sent on")

	testkit.RequireCode(t, e.typing(us[4], groupConvID(small.GetId()), false), codes.PermissionDenied)
}

func TestTypingIsForParticipantsAndHeldByBlocks(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob, mallory := e.newUser(t), e.newUser(t), e.newUser(t)
	e.sendText(t, alice, toUser(bob.id), "hi")
	conv := pairID(alice.id, bob.id)

	testkit.RequireCode(t, e.typing(mallory, conv, false), codes.PermissionDenied)
	_, err := e.msgs.SendTyping(anonymous, &messagepb.SendTypingRequest{ConversationId: conv})
	testkit.RequireCode(t, err, codes.Unauthenticated)
	requireInvalid(t, e.typing(alice, "u:1", false), "conversation_id")
	requireInvalid(t, e.typing(alice, "", false), "conversation_id")

	_, err = e.users.BlockUser(bob.ctx, &userpb.BlockUserRequest{UserId: alice.id})
	require.NoError(t, err)
	testkit.RequireCode(t, e.typing(alice, conv, false), codes.PermissionDenied)
	require.NoError(t, e.typing(bob, conv, false), "the blocker may still type to the one it blocks")
	to, _ := e.typingFrames(t)
	require.Equal(t, [][]uint64{{alice.id}}, to, "nothing of a blocked user reaches its blocker")
}
