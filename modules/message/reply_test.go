package message_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/api/gen/messagepb"
)

// A reply carries a quote of the message it answers, as that message was:
// its id, sender, type and a one-line preview, in what sync returns and in
// the push, so a client draws it without another call.
func TestRepliesQuoteTheMessage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)
	long := strings.Repeat("é", 150)

	for _, tc := range []struct {
		name    string
		body    *messagepb.Message
		typ     messagepb.MESSAGE_TYPE
		preview string
	}{
		{"text", text("hello there"), messagepb.MESSAGE_TYPE_TEXT, "hello there"},
		{"a long text ends in an ellipsis", text(long), messagepb.MESSAGE_TYPE_TEXT, strings.Repeat("é", 100) + "…"},
		{"photo", &messagepb.Message{Body: &messagepb.Message_Image{Image: &messagepb.ImageMessageItem{Url: "https://example.com/a.png"}}}, messagepb.MESSAGE_TYPE_IMAGE, "Photo"},
		{"file", &messagepb.Message{Body: &messagepb.Message_File{File: &messagepb.FileMessage{Url: "https://example.com/f", Size: 3, Name: "notes.txt"}}}, messagepb.MESSAGE_TYPE_FILE, "File: notes.txt"},
		{"location", &messagepb.Message{Body: &messagepb.Message_Location{Location: &messagepb.LocationMessage{Lat: 1, Lng: 2, Desc: "the station"}}}, messagepb.MESSAGE_TYPE_LOCATION, "Location: the station"},
		{"location without a description", &messagepb.Message{Body: &messagepb.Message_Location{Location: &messagepb.LocationMessage{Lat: 1, Lng: 2}}}, messagepb.MESSAGE_TYPE_LOCATION, "Location"},
		{"voice", &messagepb.Message{Body: &messagepb.Message_Sound{Sound: &messagepb.SoundMessage{Url: "https://example.com/a.ogg", Seconds: 3}}}, messagepb.MESSAGE_TYPE_SOUND, "Voice message"},
		{"video", &messagepb.Message{Body: &messagepb.Message_Video{Video: &messagepb.VideoMessage{Url: "https://example.com/v.mp4", Seconds: 5}}}, messagepb.MESSAGE_TYPE_Video, "Video"},
		{"sticker", &messagepb.Message{Body: &messagepb.Message_Face{Face: &messagepb.FaceMessage{Symbol: "👍"}}}, messagepb.MESSAGE_TYPE_FACE, "👍"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			quoted, err := e.send(alice.ctx, toUser(bob.id), tc.body)
			require.NoError(t, err)
			reply, err := e.send(bob.ctx, target{id: alice.id, replyTo: quoted}, text("answering "+tc.name))
			require.NoError(t, err)
			want := &messagepb.MessageReply{Id: quoted, FromUserId: alice.id, Type: tc.typ, Preview: tc.preview}

			var synced *messagepb.Message
			for _, m := range e.syncAll(t, alice, conv) {
				if m.GetId() == reply {
					synced = m
				}
			}
			require.NotNil(t, synced)
			requireProtoEqual(t, want, synced.GetReplyTo())
			pushes := e.rec.ofMessage(t, reply)
			require.NotEmpty(t, pushes)
			for _, d := range pushes {
				requireProtoEqual(t, want, d.msg.GetReplyTo())
			}
		})
	}
	for _, m := range e.syncAll(t, bob, conv) {
		if !strings.HasPrefix(m.GetText().GetContent(), "answering") {
			require.Nil(t, m.GetReplyTo(), "a message that replies to nothing quotes nothing")
		}
	}
}

// A reply may quote only a message of its own conversation that the sender
// can see; any other reply_to_id (another conversation's message, one from
// before the sender joined the group, none at all) is refused with the same
// answer, and nothing is stored.
func TestRepliesQuoteOnlyWhatTheSenderSees(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob, carol := e.newUser(t), e.newUser(t), e.newUser(t)
	elsewhere := e.sendText(t, carol, toUser(alice.id), "between carol and alice")
	g := e.groupOf(t, alice, carol)
	beforeJoin := e.sendText(t, alice, toGroup(g.GetId()), "before bob joined")
	e.join(t, bob, g.GetId())
	afterJoin := e.sendText(t, alice, toGroup(g.GetId()), "after bob joined")

	pair, group := pairID(alice.id, bob.id), groupConvID(g.GetId())
	rows := map[string]int{pair: e.rowCount(t, pair), group: e.rowCount(t, group)}
	for name, to := range map[string]target{
		"another conversation's message": {id: alice.id, replyTo: elsewhere},
		"no such message":                {id: alice.id, replyTo: 1 << 62},
		"the largest id":                 {id: alice.id, replyTo: 1<<64 - 1},
		"from before the sender joined":  {group: true, id: g.GetId(), replyTo: beforeJoin},
		"a group message into a 1:1":     {id: alice.id, replyTo: afterJoin},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.send(bob.ctx, to, text("a reply"))
			requireInvalid(t, err, "reply_to_id")
		})
	}
	require.Equal(t, rows, map[string]int{pair: e.rowCount(t, pair), group: e.rowCount(t, group)}, "a refused reply stores nothing")

	reply := e.sendText(t, bob, target{group: true, id: g.GetId(), replyTo: afterJoin}, "a reply bob may send")
	got := e.syncAll(t, carol, group)
	require.Equal(t, reply, got[len(got)-1].GetId())
	require.Equal(t, afterJoin, got[len(got)-1].GetReplyTo().GetId())
	require.Equal(t, "after bob joined", got[len(got)-1].GetReplyTo().GetPreview())
}

// A reply may quote a message from before some member joined the group:
// that member sees only the quote's id (before_join), in the push, in sync,
// in scroll-back and in the list, also when the reply is edited; the others
// see the quote. So nothing of the old message leaks, and its recall leaves
// nothing stale behind.
func TestLateJoinersSeeOnlyTheIDOfOlderQuotes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, carol, bob := e.newUser(t), e.newUser(t), e.newUser(t)
	g := e.groupOf(t, alice, carol)
	conv := groupConvID(g.GetId())
	old := e.sendText(t, alice, toGroup(g.GetId()), "the plan from last week")
	e.join(t, bob, g.GetId())
	reply := e.sendText(t, carol, target{group: true, id: g.GetId(), replyTo: old}, "still on?")

	redacted := &messagepb.MessageReply{Id: old, BeforeJoin: true}
	pushes := e.rec.ofMessage(t, reply)
	require.Len(t, pushes, 2)
	for _, p := range pushes {
		if slices.Contains(p.userIDs, bob.id) {
			require.Equal(t, []uint64{bob.id}, p.userIDs)
			requireProtoEqual(t, redacted, p.msg.GetReplyTo())
		} else {
			require.Equal(t, sorted(alice.id, carol.id), p.userIDs)
			require.Equal(t, "the plan from last week", p.msg.GetReplyTo().GetPreview())
		}
	}
	bobs := e.syncAll(t, bob, conv)
	require.Len(t, bobs, 2, "his JOINED event, then the reply")
	requireEvent(t, joined(bob.id, bob.id), bobs[0])
	require.Equal(t, reply, bobs[1].GetId())
	requireProtoEqual(t, redacted, bobs[1].GetReplyTo())
	back := e.syncBefore(t, bob, conv, 1<<62, 0).GetMessage()
	requireMessagesEqual(t, bobs, back)
	requireProtoEqual(t, redacted, back[1].GetReplyTo())
	requireProtoEqual(t, redacted, e.conversationOf(t, bob, conv).GetLastMessage().GetReplyTo())
	alices := userMessages(e.syncAll(t, alice, conv))
	require.Equal(t, []uint64{old, reply}, messageIDs(alices))
	require.Equal(t, "the plan from last week", alices[1].GetReplyTo().GetPreview())

	_, err := e.edit(carol.ctx, reply, "still on for tonight?")
	require.NoError(t, err)
	for _, c := range e.rec.changes(t) {
		if slices.Contains(c.userIDs, bob.id) {
			requireProtoEqual(t, redacted, c.change.GetMessage().GetReplyTo())
		} else {
			require.Equal(t, "the plan from last week", c.change.GetMessage().GetReplyTo().GetPreview())
		}
	}
	requireProtoEqual(t, redacted, e.sync(t, bob, conv, 0, 0).GetChanges()[0].GetMessage().GetReplyTo())

	// Members who deleted the reply for themselves do not count among who
	// sees it when telling who saw the quoted message.
	require.NoError(t, e.deleteForMe(carol.ctx, reply))
	_, err = e.react(alice.ctx, reply, "👍")
	require.NoError(t, err)
	pushed := e.rec.changes(t)
	last := pushed[len(pushed)-1]
	require.Equal(t, []uint64{bob.id}, last.userIDs)
	requireProtoEqual(t, redacted, last.change.GetMessage().GetReplyTo())
}
