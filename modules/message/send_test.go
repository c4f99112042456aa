package message_test

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/api/rules/messagerules"
	"github.com/parley-im/parley/platform/testkit"
)

// bogusBodyID is a body id a client might send; the stored body's id is the
// message's whatever the client put there.
const bogusBodyID = 777_777_777

// bodyKinds are one valid body of each kind, every field set.
func bodyKinds() []struct {
	name string
	typ  messagepb.MESSAGE_TYPE
	body *messagepb.Message
} {
	return []struct {
		name string
		typ  messagepb.MESSAGE_TYPE
		body *messagepb.Message
	}{
		{"text", messagepb.MESSAGE_TYPE_TEXT, &messagepb.Message{Body: &messagepb.Message_Text{Text: &messagepb.TextMessage{
			Id: bogusBodyID, Content: "  hello, 世界 👋\nsecond line  ",
		}}}},
		{"location", messagepb.MESSAGE_TYPE_LOCATION, &messagepb.Message{Body: &messagepb.Message_Location{Location: &messagepb.LocationMessage{
			Id: bogusBodyID, CoverImage: "https://maps.example.com/cover.png", Lat: 48.8584, Lng: -2.2945,
			MapLink: "https://maps.example.com/?q=48.8584,-2.2945", Desc: "Tour Eiffel",
		}}}},
		{"face", messagepb.MESSAGE_TYPE_FACE, &messagepb.Message{Body: &messagepb.Message_Face{Face: &messagepb.FaceMessage{
			Id: bogusBodyID, Symbol: "[微笑]",
		}}}},
		{"sound", messagepb.MESSAGE_TYPE_SOUND, &messagepb.Message{Body: &messagepb.Message_Sound{Sound: &messagepb.SoundMessage{
			Id: bogusBodyID, Url: "https://cdn.example.com/a.amr", Size: 12_345, Seconds: 17,
		}}}},
		{"video", messagepb.MESSAGE_TYPE_Video, &messagepb.Message{Body: &messagepb.Message_Video{Video: &messagepb.VideoMessage{
			Id: bogusBodyID, Size: 9_876_543, Seconds: 95, Url: "https://cdn.example.com/v.mp4", Format: "mp4",
			ThumbUrl: "https://cdn.example.com/v.jpg", ThumbSize: 4321, ThumbWidth: 640.5, ThumbHeight: 360.25,
			ThumbFormat: messagepb.IMAGE_FORMAT_PNG,
		}}}},
		{"image", messagepb.MESSAGE_TYPE_IMAGE, &messagepb.Message{Body: &messagepb.Message_Image{Image: &messagepb.ImageMessageItem{
			Type: messagepb.IMAGE_TYPE_BIG, Format: messagepb.IMAGE_FORMAT_GIF, Size: 2048, Width: 800, Height: 600,
			Url: "https://cdn.example.com/i.gif",
		}}}},
		{"file", messagepb.MESSAGE_TYPE_FILE, &messagepb.Message{Body: &messagepb.Message_File{File: &messagepb.FileMessage{
			Id: bogusBodyID, Size: 1 << 20, Name: "Quarterly report (final).pdf", Url: "https://cdn.example.com/f.pdf",
		}}}},
	}
}

// withBodyID is a copy of m whose body carries id (the image item has no id).
func withBodyID(m *messagepb.Message, id uint64) *messagepb.Message {
	m = proto.Clone(m).(*messagepb.Message)
	switch b := m.GetBody().(type) {
	case *messagepb.Message_Text:
		b.Text.Id = id
	case *messagepb.Message_Location:
		b.Location.Id = id
	case *messagepb.Message_Face:
		b.Face.Id = id
	case *messagepb.Message_Sound:
		b.Sound.Id = id
	case *messagepb.Message_Video:
		b.Video.Id = id
	case *messagepb.Message_File:
		b.File.Id = id
	}
	return m
}

// TestSendStoresEveryKind sends each kind of body through each of the 14
// send methods and reads it back through SyncMessages and the bus.
func TestSendStoresEveryKind(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.newUsers(t, 4)
	alice, bob, carol, dave := u[0], u[1], u[2], u[3] // ids ascending
	g := e.groupOf(t, alice, bob, carol)              // dave is not a member

	for _, tc := range []struct {
		name       string
		from       person
		to         target
		convID     string
		readers    []person              // who syncs it; the first reads it all
		recipients []uint64              // who the delivery goes to
		events     []*grouppb.GroupEvent // what the conversation holds before the sends
	}{
		{
			// The sender has the larger id: the conversation id still puts
			// the smaller one first.
			name: "user", from: bob, to: toUser(alice.id), convID: "u:" + itoa(alice.id) + ":" + itoa(bob.id),
			readers: []person{alice, bob}, recipients: sorted(alice.id, bob.id),
		},
		{
			name: "group", from: bob, to: toGroup(g.GetId(), carol.id, alice.id), convID: "g:" + itoa(g.GetId()),
			readers: []person{alice, bob, carol}, recipients: sorted(alice.id, bob.id, carol.id),
			events: []*grouppb.GroupEvent{joined(bob.id, bob.id), joined(carol.id, carol.id)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := e.syncAll(t, tc.readers[0], tc.convID)
			require.Len(t, before, len(tc.events))
			for i, ev := range tc.events {
				requireEvent(t, ev, before[i])
			}
			for i, kind := range bodyKinds() {
				before := time.Now()
				id, err := e.send(tc.from.ctx, tc.to, kind.body)
				require.NoError(t, err, kind.name)
				require.NotZero(t, id, kind.name)
				after := time.Now()

				var got *messagepb.Message
				for _, r := range tc.readers {
					msgs := userMessages(e.syncAll(t, r, tc.convID))
					require.Len(t, msgs, i+1, "%s: %d messages in %s", kind.name, i+1, tc.convID)
					if got == nil {
						got = msgs[i]
					}
					requireProtoEqual(t, got, msgs[i])
				}
				require.NotNil(t, got.GetCreatedAt(), kind.name)
				require.WithinRange(t, got.GetCreatedAt().AsTime(), before.Add(-2*time.Second), after.Add(2*time.Second), kind.name)

				want := withBodyID(kind.body, id)
				want.Id = id
				want.ConversationId = tc.convID
				want.Seq = uint64(len(tc.events) + i + 1)
				want.FromUserId = tc.from.id
				if tc.to.group {
					want.ToGroupId = tc.to.id
				} else {
					want.ToUserId = tc.to.id
				}
				want.Type = kind.typ
				want.AtUserId = tc.to.at
				want.CreatedAt = got.GetCreatedAt()
				requireProtoEqual(t, want, got)

				pushed := e.rec.ofMessage(t, id)
				require.Len(t, pushed, 1, "%s: published once", kind.name)
				require.Equal(t, tc.recipients, pushed[0].userIDs, "%s: recipients", kind.name)
				requireProtoEqual(t, got, pushed[0].msg)
			}
			// Nobody outside the conversation was pushed anything.
			for _, d := range e.rec.messages(t, func(*messagepb.Message) bool { return true }) {
				require.NotContains(t, d.userIDs, dave.id)
			}
		})
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// TestSendValidation sends malformed requests to every send method kind,
// 1:1 and group: each is refused with InvalidArgument naming the field, and
// nothing is stored or pushed.
func TestSendValidation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	g := e.groupOf(t, alice, bob)
	gconv := groupConvID(g.GetId())
	// The group holds bob's join, which the refusals below must leave alone.
	groupBefore, groupPushed := e.syncAll(t, alice, gconv), len(e.rec.ofConversation(t, gconv))
	require.Len(t, groupBefore, 1)
	requireEvent(t, joined(bob.id, bob.id), groupBefore[0])

	longURL := "https://cdn.example.com/" + strings.Repeat("a", 1024-len("https://cdn.example.com/")+1) // 1025 bytes
	okSound := func() *messagepb.SoundMessage {
		return &messagepb.SoundMessage{Url: "https://cdn.example.com/a.amr", Seconds: 3}
	}
	okVideo := func() *messagepb.VideoMessage {
		return &messagepb.VideoMessage{Url: "https://cdn.example.com/v.mp4", Seconds: 3}
	}
	okImage := func() *messagepb.ImageMessageItem {
		return &messagepb.ImageMessageItem{Url: "https://cdn.example.com/i.png"}
	}
	okFile := func() *messagepb.FileMessage {
		return &messagepb.FileMessage{Url: "https://cdn.example.com/f.pdf", Name: "f.pdf", Size: 1}
	}
	okLocation := func() *messagepb.LocationMessage { return &messagepb.LocationMessage{Lat: 1, Lng: 2} }
	sound := func(f func(*messagepb.SoundMessage)) *messagepb.Message {
		b := okSound()
		f(b)
		return &messagepb.Message{Body: &messagepb.Message_Sound{Sound: b}}
	}
	video := func(f func(*messagepb.VideoMessage)) *messagepb.Message {
		b := okVideo()
		f(b)
		return &messagepb.Message{Body: &messagepb.Message_Video{Video: b}}
	}
	image := func(f func(*messagepb.ImageMessageItem)) *messagepb.Message {
		b := okImage()
		f(b)
		return &messagepb.Message{Body: &messagepb.Message_Image{Image: b}}
	}
	file := func(f func(*messagepb.FileMessage)) *messagepb.Message {
		b := okFile()
		f(b)
		return &messagepb.Message{Body: &messagepb.Message_File{File: b}}
	}
	location := func(f func(*messagepb.LocationMessage)) *messagepb.Message {
		b := okLocation()
		f(b)
		return &messagepb.Message{Body: &messagepb.Message_Location{Location: b}}
	}
	face := func(symbol string) *messagepb.Message {
		return &messagepb.Message{Body: &messagepb.Message_Face{Face: &messagepb.FaceMessage{Symbol: symbol}}}
	}

	bodies := []struct {
		name  string
		body  *messagepb.Message
		field string
	}{
		{"text empty", text(""), "text.content"},
		{"text blank", text(" \t\n  "), "text.content"},
		{"text 5001 characters", text(strings.Repeat("字", 5001)), "text.content"},
		{"text NUL", text("a\x00b"), "text.content"},
		{"location lat 91", location(func(b *messagepb.LocationMessage) { b.Lat = 91 }), "location.lat"},
		{"location lat -91", location(func(b *messagepb.LocationMessage) { b.Lat = -91 }), "location.lat"},
		{"location lat NaN", location(func(b *messagepb.LocationMessage) { b.Lat = math.NaN() }), "location.lat"},
		{"location lng 181", location(func(b *messagepb.LocationMessage) { b.Lng = 181 }), "location.lng"},
		{"location cover_image too long", location(func(b *messagepb.LocationMessage) { b.CoverImage = longURL }), "location.cover_image"},
		{"location map_link too long", location(func(b *messagepb.LocationMessage) { b.MapLink = longURL }), "location.map_link"},
		{"face symbol empty", face(""), "face.symbol"},
		{"face symbol 65 characters", face(strings.Repeat("😀", 65)), "face.symbol"},
		{"sound url missing", sound(func(b *messagepb.SoundMessage) { b.Url = "" }), "sound.url"},
		{"sound url ftp", sound(func(b *messagepb.SoundMessage) { b.Url = "ftp://cdn.example.com/a.amr" }), "sound.url"},
		{"sound url too long", sound(func(b *messagepb.SoundMessage) { b.Url = longURL }), "sound.url"},
		{"sound seconds 0", sound(func(b *messagepb.SoundMessage) { b.Seconds = 0 }), "sound.seconds"},
		{"sound seconds 601", sound(func(b *messagepb.SoundMessage) { b.Seconds = 601 }), "sound.seconds"},
		{"video url missing", video(func(b *messagepb.VideoMessage) { b.Url = "" }), "video.url"},
		{"video url too long", video(func(b *messagepb.VideoMessage) { b.Url = longURL }), "video.url"},
		{"video thumb_url too long", video(func(b *messagepb.VideoMessage) { b.ThumbUrl = longURL }), "video.thumb_url"},
		{"video seconds 0", video(func(b *messagepb.VideoMessage) { b.Seconds = 0 }), "video.seconds"},
		{"image url missing", image(func(b *messagepb.ImageMessageItem) { b.Url = "" }), "image.url"},
		{"image url too long", image(func(b *messagepb.ImageMessageItem) { b.Url = longURL }), "image.url"},
		{"image type undefined", image(func(b *messagepb.ImageMessageItem) { b.Type = 9 }), "image.type"},
		{"image format undefined", image(func(b *messagepb.ImageMessageItem) { b.Format = 7 }), "image.format"},
		{"file url missing", file(func(b *messagepb.FileMessage) { b.Url = "" }), "file.url"},
		{"file url too long", file(func(b *messagepb.FileMessage) { b.Url = longURL }), "file.url"},
		{"file name empty", file(func(b *messagepb.FileMessage) { b.Name = "" }), "file.name"},
		{"file name 256 characters", file(func(b *messagepb.FileMessage) { b.Name = strings.Repeat("n", 256) }), "file.name"},
		{"file size 0", file(func(b *messagepb.FileMessage) { b.Size = 0 }), "file.size"},
		{"missing text", &messagepb.Message{Body: &messagepb.Message_Text{}}, "text"},
		{"missing location", &messagepb.Message{Body: &messagepb.Message_Location{}}, "location"},
		{"missing face", &messagepb.Message{Body: &messagepb.Message_Face{}}, "face"},
		{"missing sound", &messagepb.Message{Body: &messagepb.Message_Sound{}}, "sound"},
		{"missing video", &messagepb.Message{Body: &messagepb.Message_Video{}}, "video"},
		{"missing image", &messagepb.Message{Body: &messagepb.Message_Image{}}, "image"},
		{"missing file", &messagepb.Message{Body: &messagepb.Message_File{}}, "file"},
	}
	// The boundaries just inside are accepted (on other conversations, so
	// the ones checked below stay empty).
	carol := e.newUser(t)
	for _, ok := range []*messagepb.Message{
		text(strings.Repeat("字", 5000)), face(strings.Repeat("😀", 64)),
		location(func(b *messagepb.LocationMessage) { b.Lat, b.Lng = -90, 180 }),
		sound(func(b *messagepb.SoundMessage) { b.Seconds = 600 }),
		file(func(b *messagepb.FileMessage) { b.Name = strings.Repeat("n", 255) }),
		image(func(b *messagepb.ImageMessageItem) { b.Format = messagepb.IMAGE_FORMAT_OTHER }),
	} {
		_, err := e.send(carol.ctx, toUser(alice.id), ok)
		require.NoError(t, err, "%v", ok)
	}

	for _, to := range []struct {
		name string
		to   target
	}{{"user", toUser(bob.id)}, {"group", toGroup(g.GetId())}} {
		t.Run(to.name, func(t *testing.T) {
			for _, tc := range bodies {
				_, err := e.send(alice.ctx, to.to, tc.body)
				requireInvalid(t, err, tc.field)
			}
		})
	}

	t.Run("recipients", func(t *testing.T) {
		tooMany := make([]uint64, 101)
		for i := range tooMany {
			tooMany[i] = bob.id
		}
		for _, tc := range []struct {
			name  string
			to    target
			field string
		}{
			{"to_user_id 0", toUser(0), "to_user_id"},
			{"to_group_id 0", toGroup(0), "to_group_id"},
			{"101 at_user_id", toGroup(g.GetId(), tooMany...), "at_user_id"},
			{"at_user_id 0", toGroup(g.GetId(), 0), "at_user_id"},
		} {
			for _, kind := range bodyKinds() {
				_, err := e.send(alice.ctx, tc.to, kind.body)
				requireInvalid(t, err, tc.field)
			}
		}
	})

	require.Empty(t, e.syncAll(t, alice, pairID(alice.id, bob.id)))
	requireMessagesEqual(t, groupBefore, e.syncAll(t, alice, gconv))
	require.Zero(t, e.rowCount(t, pairID(alice.id, bob.id)))
	require.Equal(t, len(groupBefore), e.rowCount(t, gconv))
	require.Empty(t, e.rec.ofConversation(t, pairID(alice.id, bob.id)))
	require.Len(t, e.rec.ofConversation(t, gconv), groupPushed)
}

// TestSendToUserAuthorization covers who may message whom.
func TestSendToUserAuthorization(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)

	t.Run("receiver missing", func(t *testing.T) {
		_, err := e.send(alice.ctx, toUser(bob.id+1_000_000), text("anyone there?"))
		st := testkit.RequireCode(t, err, codes.NotFound)
		require.Contains(t, st.Message(), "user")
	})

	t.Run("yourself", func(t *testing.T) {
		_, err := e.send(alice.ctx, toUser(alice.id), text("note to self"))
		requireInvalid(t, err, "to_user_id")
		require.Empty(t, e.syncAll(t, alice, pairID(alice.id, alice.id+1)))
	})

	t.Run("no token", func(t *testing.T) {
		for _, kind := range bodyKinds() {
			_, err := e.send(anonymous, toUser(bob.id), kind.body)
			testkit.RequireCode(t, err, codes.Unauthenticated)
		}
		_, err := e.msgs.SyncMessages(anonymous, &messagepb.SyncMessagesRequest{ConversationId: conv})
		testkit.RequireCode(t, err, codes.Unauthenticated)
		_, err = e.msgs.ListConversations(anonymous, &messagepb.ListConversationsRequest{})
		testkit.RequireCode(t, err, codes.Unauthenticated)
		_, err = e.msgs.MarkRead(anonymous, &messagepb.MarkReadRequest{ConversationId: conv})
		testkit.RequireCode(t, err, codes.Unauthenticated)
		_, err = e.msgs.Ping(anonymous, nil)
		require.NoError(t, err, "Ping is public")
	})
	require.Zero(t, e.rowCount(t, conv))

	t.Run("blocked by the receiver", func(t *testing.T) {
		_, err := e.users.BlockUser(bob.ctx, &userpb.BlockUserRequest{UserId: alice.id})
		require.NoError(t, err)
		for _, kind := range bodyKinds() {
			_, err := e.send(alice.ctx, toUser(bob.id), kind.body)
			testkit.RequireCode(t, err, codes.PermissionDenied)
		}
		require.Zero(t, e.rowCount(t, conv))
		require.Empty(t, e.rec.ofConversation(t, conv))

		// Blocking is one-way: bob may still write to alice.
		fromBob := e.sendText(t, bob, toUser(alice.id), "you can't answer this")

		_, err = e.users.UnblockUser(bob.ctx, &userpb.UnblockUserRequest{UserId: alice.id})
		require.NoError(t, err)
		fromAlice := e.sendText(t, alice, toUser(bob.id), "now I can")

		msgs := e.syncAll(t, bob, conv)
		require.Len(t, msgs, 2)
		require.Equal(t, []uint64{fromBob, fromAlice}, []uint64{msgs[0].GetId(), msgs[1].GetId()})
	})

	t.Run("the sender is the caller", func(t *testing.T) {
		carol := e.newUser(t)
		// carol writes to alice (smaller id): the message is carol's, in
		// alice and carol's conversation, and nobody else's.
		id := e.sendText(t, carol, toUser(alice.id), "from carol")
		msgs := e.syncAll(t, alice, pairID(alice.id, carol.id))
		require.Len(t, msgs, 1)
		require.Equal(t, id, msgs[0].GetId())
		require.Equal(t, carol.id, msgs[0].GetFromUserId())
		require.Equal(t, alice.id, msgs[0].GetToUserId())
		require.Zero(t, msgs[0].GetToGroupId())
		require.Equal(t, "u:"+itoa(alice.id)+":"+itoa(carol.id), msgs[0].GetConversationId())
		pushed := e.rec.ofMessage(t, id)
		require.Len(t, pushed, 1)
		require.Equal(t, sorted(alice.id, carol.id), pushed[0].userIDs)
		require.Len(t, e.syncAll(t, bob, conv), 2, "alice and bob's conversation is unchanged")
	})
}

// TestSendToGroupAuthorization covers who may write to a group, and whom a
// group message may mention.
func TestSendToGroupAuthorization(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.newUsers(t, 4)
	owner, bob, carol, outsider := u[0], u[1], u[2], u[3]
	g := e.groupOf(t, owner, bob, carol)
	conv := groupConvID(g.GetId())
	rows := e.rowCount(t, conv) // the joins' events

	t.Run("non-member", func(t *testing.T) {
		for _, kind := range bodyKinds() {
			_, err := e.send(outsider.ctx, toGroup(g.GetId()), kind.body)
			testkit.RequireCode(t, err, codes.PermissionDenied)
		}
		require.Equal(t, rows, e.rowCount(t, conv), "a refused send stores nothing")
	})

	t.Run("missing group", func(t *testing.T) {
		_, err := e.send(bob.ctx, toGroup(g.GetId()+1_000_000), text("hello?"))
		st := testkit.RequireCode(t, err, codes.NotFound)
		require.Contains(t, st.Message(), "group")
	})

	t.Run("mentions", func(t *testing.T) {
		_, err := e.send(bob.ctx, toGroup(g.GetId(), carol.id, outsider.id), text("hi @carol @outsider"))
		requireInvalid(t, err, "at_user_id")
		_, err = e.send(bob.ctx, toGroup(g.GetId(), outsider.id+1_000_000), text("hi @nobody"))
		requireInvalid(t, err, "at_user_id")
		require.Equal(t, rows, e.rowCount(t, conv), "a refused send stores nothing")

		id := e.sendText(t, bob, toGroup(g.GetId(), carol.id, owner.id), "hi @carol @owner")
		all := e.syncAll(t, carol, conv)
		requireEvent(t, joined(carol.id, carol.id), all[0], "carol reads from her join")
		msgs := userMessages(all)
		require.Len(t, msgs, 1)
		require.Equal(t, id, msgs[0].GetId())
		require.Equal(t, []uint64{carol.id, owner.id}, msgs[0].GetAtUserId())
		require.Equal(t, g.GetId(), msgs[0].GetToGroupId())
		require.Zero(t, msgs[0].GetToUserId())
	})

	t.Run("former member", func(t *testing.T) {
		_, err := e.groups.QuitGroup(carol.ctx, &grouppb.QuitGroupRequest{Id: g.GetId()})
		require.NoError(t, err)
		_, err = e.send(carol.ctx, toGroup(g.GetId()), text("still here?"))
		testkit.RequireCode(t, err, codes.PermissionDenied)
		// nor may carol be mentioned any more
		_, err = e.send(bob.ctx, toGroup(g.GetId(), carol.id), text("@carol?"))
		requireInvalid(t, err, "at_user_id")

		id := e.sendText(t, bob, toGroup(g.GetId()), "carol left")
		pushed := e.rec.ofMessage(t, id)
		require.Len(t, pushed, 1)
		require.Equal(t, sorted(owner.id, bob.id), pushed[0].userIDs, "a former member gets no push")
	})

	t.Run("deleted group", func(t *testing.T) {
		rows := e.rowCount(t, conv)
		_, err := e.groups.DeleteGroup(owner.ctx, &grouppb.DeleteGroupRequest{Id: g.GetId()})
		require.NoError(t, err)
		for _, from := range []person{owner, bob} {
			_, err := e.send(from.ctx, toGroup(g.GetId()), text("anyone?"))
			testkit.RequireCode(t, err, codes.NotFound)
		}
		require.Equal(t, rows, e.rowCount(t, conv), "the group's messages stay; the refused sends store nothing")
		require.Equal(t, 2, e.userRowCount(t, conv))
	})
}

// TestTextLengthIncludesSurroundingWhitespace: no text longer than 5000
// characters is ever stored (refusing it, or storing it trimmed, would both
// do). It is: the validator measures the content with surrounding
// whitespace trimmed (api/rules/messagerules) while the handler
// stores the untrimmed content, so padding smuggles any amount of text (up
// to the gRPC message size) past the limit.
func TestTextLengthIncludesSurroundingWhitespace(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	g := e.groupOf(t, alice, bob)
	for _, content := range []string{
		strings.Repeat("字", 4999) + "  ",    // 5001 characters
		"hi" + strings.Repeat(" ", 100_000), // 100,002 characters
		strings.Repeat("\n", 3000) + "hi" + strings.Repeat("\t", 3000),
	} {
		for _, to := range []target{toUser(bob.id), toGroup(g.GetId())} {
			id, err := e.send(alice.ctx, to, text(content))
			if err != nil {
				requireInvalid(t, err, "text.content")
				continue
			}
			conv := pairID(alice.id, bob.id)
			if to.group {
				conv = groupConvID(g.GetId())
			}
			msgs := e.syncAll(t, bob, conv)
			require.NotEmpty(t, msgs)
			stored := msgs[len(msgs)-1]
			require.Equal(t, id, stored.GetId())
			require.LessOrEqual(t, utf8.RuneCountInString(stored.GetText().GetContent()), messagerules.MaxTextLength,
				"%s: stored a text of more than %d characters", conv, messagerules.MaxTextLength)
		}
	}
}

// Fields this server does not know are not stored or pushed: a client
// cannot smuggle megabytes into every recipient's sync through them.
func TestUnknownBodyFieldsAreDropped(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a, b := e.newUser(t), e.newUser(t)

	body := &messagepb.TextMessage{Content: "hi"}
	raw, err := proto.Marshal(body)
	require.NoError(t, err)
	raw = protowire.AppendTag(raw, 99, protowire.BytesType)
	raw = protowire.AppendBytes(raw, make([]byte, 1<<20))
	smuggled := &messagepb.TextMessage{}
	require.NoError(t, proto.Unmarshal(raw, smuggled))
	require.NotEmpty(t, smuggled.ProtoReflect().GetUnknown(), "the request carries an unknown field")

	resp, err := e.msgs.SendUserTextMessage(a.ctx, &messagepb.SendUserTextMessageRequest{ToUserId: b.id, Text: smuggled})
	require.NoError(t, err)
	got := e.syncAll(t, b, pairID(a.id, b.id))
	require.Len(t, got, 1)
	require.Equal(t, resp.GetId(), got[0].GetId())
	require.Equal(t, "hi", got[0].GetText().GetContent())
	require.Empty(t, got[0].GetText().ProtoReflect().GetUnknown())
	require.Less(t, proto.Size(got[0]), 1024)
}
