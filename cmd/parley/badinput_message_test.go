package main

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/messagepb"
)

// badMessageCases are the MessageService's rows of badUnaryCases.
func badMessageCases(t *testing.T, e *badEnv, f badFixtures) badTable {
	var table badTable
	add := table.add
	huge := badOversized(e.cfg)
	text := func(s string) *messagepb.TextMessage { return &messagepb.TextMessage{Content: s} }
	goodText := text("hello")
	image := func(typ messagepb.IMAGE_TYPE, format messagepb.IMAGE_FORMAT, url string) *messagepb.ImageMessageItem {
		return &messagepb.ImageMessageItem{Type: typ, Format: format, Url: url}
	}
	atMany := make([]uint64, 101)
	for i := range atMany {
		atMany[i] = f.alice
	}
	add(messagepb.MessageService_SendUserTextMessage_FullMethodName,
		badCase{name: "to_user_id 0", req: &messagepb.SendUserTextMessageRequest{Text: goodText}, code: IA, want: "to_user_id"},
		badCase{name: "to_user_id max", req: &messagepb.SendUserTextMessageRequest{ToUserId: badMaxID, Text: goodText}, code: NF, want: "user"},
		badCase{name: "to self", req: &messagepb.SendUserTextMessageRequest{ToUserId: f.alice, Text: goodText}, code: IA, want: "yourself"},
		badCase{name: "no text", req: &messagepb.SendUserTextMessageRequest{ToUserId: f.bob}, code: IA, want: "text"},
		badCase{name: "empty text", req: &messagepb.SendUserTextMessageRequest{ToUserId: f.bob, Text: text("")}, code: IA, want: "text.content"},
		badCase{name: "blank text", req: &messagepb.SendUserTextMessageRequest{ToUserId: f.bob, Text: text(" \n\t")}, code: IA, want: "text.content"},
		badCase{name: "text of 5001", req: &messagepb.SendUserTextMessageRequest{ToUserId: f.bob, Text: text(badRunes(5001))}, code: IA, want: "text.content"},
		badCase{name: "text with NUL", req: &messagepb.SendUserTextMessageRequest{ToUserId: f.bob, Text: text("hi\x00")}, code: IA, want: "text.content"},
		badCase{name: "text invalid UTF-8", req: badWire(badVarint(1, f.bob), badMsg(2, badWire(badStr(2, "hi "+bad)))), code: IA, want: "invalid UTF-8"},
		badCase{name: "over the receive limit", req: &messagepb.SendUserTextMessageRequest{ToUserId: f.bob, Text: text(huge)}, code: RE, want: tooLarge},
		badCase{name: "idempotency-key of 65", req: &messagepb.SendUserTextMessageRequest{ToUserId: f.bob, Text: goodText},
			md: []string{"idempotency-key", badX(65)}, code: IA, want: "idempotency-key"},
	)
	add(messagepb.MessageService_SendUserLocationMessage_FullMethodName,
		badCase{name: "to_user_id max", req: &messagepb.SendUserLocationMessageRequest{ToUserId: badMaxID, Location: &messagepb.LocationMessage{}}, code: NF, want: "user"},
		badCase{name: "no location", req: &messagepb.SendUserLocationMessageRequest{ToUserId: f.bob}, code: IA, want: "location"},
		badCase{name: "lat 91", req: &messagepb.SendUserLocationMessageRequest{ToUserId: f.bob, Location: &messagepb.LocationMessage{Lat: 91}}, code: IA, want: "location.lat"},
		badCase{name: "lat NaN", req: &messagepb.SendUserLocationMessageRequest{ToUserId: f.bob, Location: &messagepb.LocationMessage{Lat: math.NaN()}}, code: IA, want: "location.lat"},
		badCase{name: "lng -Inf", req: &messagepb.SendUserLocationMessageRequest{ToUserId: f.bob, Location: &messagepb.LocationMessage{Lng: math.Inf(-1)}}, code: IA, want: "location.lng"},
		badCase{name: "desc with NUL", req: &messagepb.SendUserLocationMessageRequest{ToUserId: f.bob, Location: &messagepb.LocationMessage{Desc: "\x00"}}, code: IA, want: "location.desc"},
		badCase{name: "map_link not http", req: &messagepb.SendUserLocationMessageRequest{ToUserId: f.bob, Location: &messagepb.LocationMessage{MapLink: "geo:1,2"}}, code: IA, want: "location.map_link"},
	)
	add(messagepb.MessageService_SendUserFaceMessage_FullMethodName,
		badCase{name: "to_user_id 0", req: &messagepb.SendUserFaceMessageRequest{Face: &messagepb.FaceMessage{Symbol: ":)"}}, code: IA, want: "to_user_id"},
		badCase{name: "empty symbol", req: &messagepb.SendUserFaceMessageRequest{ToUserId: f.bob, Face: &messagepb.FaceMessage{}}, code: IA, want: "face.symbol"},
		badCase{name: "symbol of 65", req: &messagepb.SendUserFaceMessageRequest{ToUserId: f.bob, Face: &messagepb.FaceMessage{Symbol: badRunes(65)}}, code: IA, want: "face.symbol"},
		badCase{name: "symbol with NUL", req: &messagepb.SendUserFaceMessageRequest{ToUserId: f.bob, Face: &messagepb.FaceMessage{Symbol: "\x00"}}, code: IA, want: "face.symbol"},
	)
	add(messagepb.MessageService_SendUserSoundMessage_FullMethodName,
		badCase{name: "no url", req: &messagepb.SendUserSoundMessageRequest{ToUserId: f.bob, Sound: &messagepb.SoundMessage{Seconds: 3}}, code: IA, want: "sound.url"},
		badCase{name: "0 seconds", req: &messagepb.SendUserSoundMessageRequest{ToUserId: f.bob, Sound: &messagepb.SoundMessage{Url: "https://example.com/a.mp3"}}, code: IA, want: "sound.seconds"},
		badCase{name: "max seconds", req: &messagepb.SendUserSoundMessageRequest{ToUserId: f.bob, Sound: &messagepb.SoundMessage{Url: "https://example.com/a.mp3", Seconds: badMaxID}}, code: IA, want: "sound.seconds"},
	)
	add(messagepb.MessageService_SendUserVideoMessage_FullMethodName,
		badCase{name: "unknown thumb_format", req: &messagepb.SendUserVideoMessageRequest{ToUserId: f.bob, Video: &messagepb.VideoMessage{Url: "https://example.com/a.mp4", Seconds: 3, ThumbFormat: 1000}}, code: IA, want: "video.thumb_format"},
		badCase{name: "url with NUL", req: &messagepb.SendUserVideoMessageRequest{ToUserId: f.bob, Video: &messagepb.VideoMessage{Url: "https://example.com/\x00", Seconds: 3}}, code: IA, want: "video.url"},
		badCase{name: "format of 17", req: &messagepb.SendUserVideoMessageRequest{ToUserId: f.bob, Video: &messagepb.VideoMessage{Url: "https://example.com/a.mp4", Seconds: 3, Format: badX(17)}}, code: IA, want: "video.format"},
	)
	add(messagepb.MessageService_SendUserImageMessage_FullMethodName,
		badCase{name: "unknown type", req: &messagepb.SendUserImageMessageRequest{ToUserId: f.bob, Image: image(9, messagepb.IMAGE_FORMAT_PNG, "https://example.com/a.png")}, code: IA, want: "image.type"},
		badCase{name: "unknown format", req: &messagepb.SendUserImageMessageRequest{ToUserId: f.bob, Image: image(0, 77, "https://example.com/a.png")}, code: IA, want: "image.format"},
		badCase{name: "no url", req: &messagepb.SendUserImageMessageRequest{ToUserId: f.bob, Image: image(0, 0, "")}, code: IA, want: "image.url"},
	)
	add(messagepb.MessageService_SendUserFileMessage_FullMethodName,
		badCase{name: "empty name", req: &messagepb.SendUserFileMessageRequest{ToUserId: f.bob, File: &messagepb.FileMessage{Url: "https://example.com/f", Size: 1}}, code: IA, want: "file.name"},
		badCase{name: "name of 256", req: &messagepb.SendUserFileMessageRequest{ToUserId: f.bob, File: &messagepb.FileMessage{Url: "https://example.com/f", Size: 1, Name: badRunes(256)}}, code: IA, want: "file.name"},
		badCase{name: "name with NUL", req: &messagepb.SendUserFileMessageRequest{ToUserId: f.bob, File: &messagepb.FileMessage{Url: "https://example.com/f", Size: 1, Name: "a\x00.txt"}}, code: IA, want: "file.name"},
		badCase{name: "size 0", req: &messagepb.SendUserFileMessageRequest{ToUserId: f.bob, File: &messagepb.FileMessage{Url: "https://example.com/f", Name: "a.txt"}}, code: IA, want: "file.size"},
		badCase{name: "to_user_id max", req: &messagepb.SendUserFileMessageRequest{ToUserId: badMaxID, File: &messagepb.FileMessage{Url: "https://example.com/f", Size: 1, Name: "a.txt"}}, code: NF, want: "user"},
	)
	add(messagepb.MessageService_SendGroupTextMessage_FullMethodName,
		badCase{name: "to_group_id 0", req: &messagepb.SendGroupTextMessageRequest{Text: goodText}, code: IA, want: "to_group_id"},
		badCase{name: "to_group_id max", req: &messagepb.SendGroupTextMessageRequest{ToGroupId: badMaxID, Text: goodText}, code: NF, want: "group"},
		badCase{name: "at_user_id 0", req: &messagepb.SendGroupTextMessageRequest{ToGroupId: f.group, AtUserId: []uint64{0}, Text: goodText}, code: IA, want: "at_user_id"},
		badCase{name: "101 at_user_id", req: &messagepb.SendGroupTextMessageRequest{ToGroupId: f.group, AtUserId: atMany, Text: goodText}, code: IA, want: "at_user_id"},
		badCase{name: "at_user_id max", req: &messagepb.SendGroupTextMessageRequest{ToGroupId: f.group, AtUserId: []uint64{badMaxID}, Text: goodText}, code: IA, want: "at_user_id"},
		badCase{name: "empty text", req: &messagepb.SendGroupTextMessageRequest{ToGroupId: f.group, Text: text("")}, code: IA, want: "text.content"},
		badCase{name: "text invalid UTF-8", req: badWire(badVarint(1, f.group), badMsg(3, badWire(badStr(2, bad)))), code: IA, want: "invalid UTF-8"},
		badCase{name: "reply_to_id max", req: &messagepb.SendGroupTextMessageRequest{ToGroupId: f.group, Text: goodText, ReplyToId: badMaxID}, code: IA, want: "reply_to_id"},
	)
	add(messagepb.MessageService_SendGroupLocationMessage_FullMethodName,
		badCase{name: "to_group_id max", req: &messagepb.SendGroupLocationMessageRequest{ToGroupId: badMaxID, Location: &messagepb.LocationMessage{}}, code: NF, want: "group"},
		badCase{name: "lng 181", req: &messagepb.SendGroupLocationMessageRequest{ToGroupId: f.group, Location: &messagepb.LocationMessage{Lng: 181}}, code: IA, want: "location.lng"},
	)
	add(messagepb.MessageService_SendGroupFceMessage_FullMethodName,
		badCase{name: "to_group_id max", req: &messagepb.SendGroupFaceMessageRequest{ToGroupId: badMaxID, Face: &messagepb.FaceMessage{Symbol: ":)"}}, code: NF, want: "group"},
		badCase{name: "no face", req: &messagepb.SendGroupFaceMessageRequest{ToGroupId: f.group}, code: IA, want: "face"},
	)
	add(messagepb.MessageService_SendGroupSoundMessage_FullMethodName,
		badCase{name: "to_group_id 0", req: &messagepb.SendGroupSoundMessageRequest{Sound: &messagepb.SoundMessage{Url: "https://example.com/a.mp3", Seconds: 1}}, code: IA, want: "to_group_id"},
		badCase{name: "601 seconds", req: &messagepb.SendGroupSoundMessageRequest{ToGroupId: f.group, Sound: &messagepb.SoundMessage{Url: "https://example.com/a.mp3", Seconds: 601}}, code: IA, want: "sound.seconds"},
	)
	add(messagepb.MessageService_SendGroupVideoMessage_FullMethodName,
		badCase{name: "to_group_id max", req: &messagepb.SendGroupVideoMessageRequest{ToGroupId: badMaxID, Video: &messagepb.VideoMessage{Url: "https://example.com/a.mp4", Seconds: 1}}, code: NF, want: "group"},
		badCase{name: "negative thumb_format", req: &messagepb.SendGroupVideoMessageRequest{ToGroupId: f.group, Video: &messagepb.VideoMessage{Url: "https://example.com/a.mp4", Seconds: 1, ThumbFormat: -1}}, code: IA, want: "video.thumb_format"},
	)
	add(messagepb.MessageService_SendGroupImageMessage_FullMethodName,
		badCase{name: "to_group_id max", req: &messagepb.SendGroupImageMessageRequest{ToGroupId: badMaxID, Image: image(0, 0, "https://example.com/a.png")}, code: NF, want: "group"},
		badCase{name: "unknown format", req: &messagepb.SendGroupImageMessageRequest{ToGroupId: f.group, Image: image(0, 254, "https://example.com/a.png")}, code: IA, want: "image.format"},
	)
	add(messagepb.MessageService_SendGroupFileMessage_FullMethodName,
		badCase{name: "to_group_id max", req: &messagepb.SendGroupFileMessageRequest{ToGroupId: badMaxID, File: &messagepb.FileMessage{Url: "https://example.com/f", Size: 1, Name: "a"}}, code: NF, want: "group"},
		badCase{name: "idempotency-key of 65", req: &messagepb.SendGroupFileMessageRequest{ToGroupId: f.group, File: &messagepb.FileMessage{Url: "https://example.com/f", Size: 1, Name: "a"}},
			md: []string{"idempotency-key", badX(65)}, code: IA, want: "idempotency-key"},
		badCase{name: "url SQL metacharacters", req: &messagepb.SendGroupFileMessageRequest{ToGroupId: f.group, File: &messagepb.FileMessage{Url: "'; DROP TABLE messages.messages;--", Size: 1, Name: "a"}}, code: IA, want: "file.url"},
	)
	add(messagepb.MessageService_ListConversations_FullMethodName,
		badCase{name: "unknown fields only", req: badWire(badVarint(99, badMaxID), badStr(100, "junk")), code: OK},
		badCase{name: "page_size 1001", req: &messagepb.ListConversationsRequest{PageSize: 1001}, code: IA, want: "page_size"},
		badCase{name: "page_size max", req: &messagepb.ListConversationsRequest{PageSize: math.MaxUint32}, code: IA, want: "page_size"},
		badCase{name: "page_size 1000", req: &messagepb.ListConversationsRequest{PageSize: 1000, IncludeArchived: true}, code: OK},
		badCase{name: "page_token of 129", req: &messagepb.ListConversationsRequest{PageToken: badX(129)}, code: IA, want: "page_token"},
		badCase{name: "page_token not a token", req: &messagepb.ListConversationsRequest{PageToken: "'; DROP TABLE messages.reads;--"}, code: IA, want: "page_token"},
		badCase{name: "page_token with NUL", req: &messagepb.ListConversationsRequest{PageToken: "AQ\x00"}, code: IA, want: "page_token"},
		badCase{name: "page_token invalid UTF-8", req: badWire(badStr(3, bad)), code: IA, want: "invalid UTF-8"},
	)
	sync := func(id string) *messagepb.SyncMessagesRequest {
		return &messagepb.SyncMessagesRequest{ConversationId: id}
	}
	add(messagepb.MessageService_SyncMessages_FullMethodName,
		badCase{name: "empty conversation_id", req: sync(""), code: IA, want: "conversation_id"},
		badCase{name: "conversation_id of 65", req: sync(badX(65)), code: IA, want: "conversation_id"},
		badCase{name: "conversation_id with NUL", req: sync("u:1:\x002"), code: IA, want: "conversation_id"},
		badCase{name: "conversation_id invalid UTF-8", req: badWire(badStr(1, "u:1:"+bad)), code: IA, want: "invalid UTF-8"},
		badCase{name: "conversation_id SQL", req: sync("g:1' OR '1'='1"), code: IA, want: "conversation_id"},
		badCase{name: "user 0", req: sync(fmt.Sprintf("u:0:%d", f.alice)), code: IA, want: "conversation_id"},
		badCase{name: "pair out of order", req: sync(fmt.Sprintf("u:%d:%d", max(f.alice, f.bob), min(f.alice, f.bob))), code: IA, want: "conversation_id"},
		badCase{name: "group 0", req: sync("g:0"), code: IA, want: "conversation_id"},
		// A group the caller is not in, existing or not: no leak of which ids exist.
		badCase{name: "group max", req: sync(fmt.Sprintf("g:%d", badMaxID)), code: codes.PermissionDenied, want: "participant"},
		badCase{name: "group beyond uint64", req: sync("g:18446744073709551616"), code: IA, want: "conversation_id"},
		badCase{name: "after_seq and limit max", req: &messagepb.SyncMessagesRequest{ConversationId: f.conversation, AfterSeq: badMaxID, Limit: badMaxID}, code: OK,
			check: func(t *testing.T, raw badRaw) {
				var resp messagepb.SyncMessagesResponse
				badDecode(t, raw, &resp)
				require.Empty(t, resp.GetMessage())
				require.False(t, resp.GetHasMore())
			}},
		// before_seq beyond the last seq is the newest page: the fixture's one message.
		badCase{name: "before_seq max", req: &messagepb.SyncMessagesRequest{ConversationId: f.conversation, BeforeSeq: badMaxID}, code: OK,
			check: func(t *testing.T, raw badRaw) {
				var resp messagepb.SyncMessagesResponse
				badDecode(t, raw, &resp)
				require.Len(t, resp.GetMessage(), 1)
				require.Equal(t, uint64(1), resp.GetMessage()[0].GetSeq())
				require.False(t, resp.GetHasMore())
			}},
		badCase{name: "before_seq 1", req: &messagepb.SyncMessagesRequest{ConversationId: f.conversation, BeforeSeq: 1, Limit: badMaxID}, code: OK,
			check: func(t *testing.T, raw badRaw) {
				var resp messagepb.SyncMessagesResponse
				badDecode(t, raw, &resp)
				require.Empty(t, resp.GetMessage())
				require.False(t, resp.GetHasMore())
			}},
		badCase{name: "after_seq and before_seq", req: &messagepb.SyncMessagesRequest{ConversationId: f.conversation, AfterSeq: 1, BeforeSeq: badMaxID}, code: IA,
			want: "after_seq and before_seq"},
		badCase{name: "before_seq on a group not in", req: &messagepb.SyncMessagesRequest{ConversationId: fmt.Sprintf("g:%d", badMaxID), BeforeSeq: badMaxID},
			code: codes.PermissionDenied, want: "participant"},
	)
	add(messagepb.MessageService_MarkRead_FullMethodName,
		badCase{name: "empty conversation_id", req: &messagepb.MarkReadRequest{Seq: 1}, code: IA, want: "conversation_id"},
		badCase{name: "conversation_id invalid UTF-8", req: badWire(badStr(1, bad), badVarint(2, 1)), code: IA, want: "invalid UTF-8"},
		badCase{name: "seq max", req: &messagepb.MarkReadRequest{ConversationId: f.conversation, Seq: badMaxID}, code: IA, want: "seq"},
		badCase{name: "peer max", req: &messagepb.MarkReadRequest{ConversationId: fmt.Sprintf("u:%d:%d", f.alice, badMaxID), Seq: 1}, code: NF, want: "conversation"},
	)
	add(messagepb.MessageService_MarkDelivered_FullMethodName,
		badCase{name: "empty conversation_id", req: &messagepb.MarkDeliveredRequest{Seq: 1}, code: IA, want: "conversation_id"},
		badCase{name: "conversation_id invalid UTF-8", req: badWire(badStr(1, bad), badVarint(2, 1)), code: IA, want: "invalid UTF-8"},
		badCase{name: "seq max", req: &messagepb.MarkDeliveredRequest{ConversationId: f.conversation, Seq: badMaxID}, code: IA, want: "seq"},
		badCase{name: "peer max", req: &messagepb.MarkDeliveredRequest{ConversationId: fmt.Sprintf("u:%d:%d", f.alice, badMaxID), Seq: 1}, code: NF, want: "conversation"},
	)
	add(messagepb.MessageService_GetReceipts_FullMethodName,
		badCase{name: "empty conversation_id", req: &messagepb.GetReceiptsRequest{Seq: 1}, code: IA, want: "conversation_id"},
		badCase{name: "seq 0", req: &messagepb.GetReceiptsRequest{ConversationId: f.conversation}, code: IA, want: "seq"},
		badCase{name: "seq max", req: &messagepb.GetReceiptsRequest{ConversationId: f.conversation, Seq: badMaxID}, code: NF, want: "seq"},
		badCase{name: "limit max", req: &messagepb.GetReceiptsRequest{ConversationId: f.conversation, Seq: 1, AfterUserId: badMaxID, Limit: 1<<32 - 1}, code: OK},
		badCase{name: "conversation_id of 65", req: &messagepb.GetReceiptsRequest{ConversationId: badRunes(65), Seq: 1}, code: IA, want: "conversation_id"},
	)
	add(messagepb.MessageService_SendTyping_FullMethodName,
		badCase{name: "empty conversation_id", req: &messagepb.SendTypingRequest{}, code: IA, want: "conversation_id"},
		badCase{name: "not a conversation id", req: &messagepb.SendTypingRequest{ConversationId: "g:x"}, code: IA, want: "conversation_id"},
		badCase{name: "conversation_id invalid UTF-8", req: badWire(badStr(1, bad)), code: IA, want: "invalid UTF-8"},
		badCase{name: "group max", req: &messagepb.SendTypingRequest{ConversationId: fmt.Sprintf("g:%d", badMaxID)}, code: codes.PermissionDenied, want: "participant"},
	)
	add(messagepb.MessageService_EditMessage_FullMethodName,
		badCase{name: "message_id 0", req: &messagepb.EditMessageRequest{Text: goodText}, code: IA, want: "message_id"},
		badCase{name: "no text", req: &messagepb.EditMessageRequest{MessageId: 1}, code: IA, want: "text"},
		badCase{name: "blank text", req: &messagepb.EditMessageRequest{MessageId: 1, Text: text(" \n")}, code: IA, want: "text.content"},
		badCase{name: "text of 5001", req: &messagepb.EditMessageRequest{MessageId: 1, Text: text(badRunes(5001))}, code: IA, want: "text.content"},
		badCase{name: "message_id max", req: &messagepb.EditMessageRequest{MessageId: badMaxID, Text: goodText}, code: NF, want: "message not found"},
		badCase{name: "text invalid UTF-8", req: badWire(badVarint(1, 1), badMsg(2, badWire(badStr(2, bad)))), code: IA, want: "invalid UTF-8"},
	)
	add(messagepb.MessageService_RecallMessage_FullMethodName,
		badCase{name: "message_id 0", req: &messagepb.RecallMessageRequest{}, code: IA, want: "message_id"},
		badCase{name: "message_id max", req: &messagepb.RecallMessageRequest{MessageId: badMaxID}, code: NF, want: "message not found"},
	)
	add(messagepb.MessageService_ReactToMessage_FullMethodName,
		badCase{name: "message_id 0", req: &messagepb.ReactToMessageRequest{Emoji: "👍"}, code: IA, want: "message_id"},
		badCase{name: "no emoji", req: &messagepb.ReactToMessageRequest{MessageId: 1}, code: IA, want: "emoji"},
		badCase{name: "text", req: &messagepb.ReactToMessageRequest{MessageId: 1, Emoji: "lol"}, code: IA, want: "emoji"},
		badCase{name: "two emoji", req: &messagepb.ReactToMessageRequest{MessageId: 1, Emoji: "👍👍"}, code: IA, want: "emoji"},
		badCase{name: "one cluster of 39 bytes", req: &messagepb.ReactToMessageRequest{MessageId: 1, Emoji: "👍" + strings.Repeat("\u200d👍", 5)}, code: IA, want: "emoji"},
		badCase{name: "message_id max", req: &messagepb.ReactToMessageRequest{MessageId: badMaxID, Emoji: "👍"}, code: NF, want: "message not found"},
	)
	add(messagepb.MessageService_DeleteMessageForMe_FullMethodName,
		badCase{name: "message_id 0", req: &messagepb.DeleteMessageForMeRequest{}, code: IA, want: "message_id"},
		badCase{name: "message_id max", req: &messagepb.DeleteMessageForMeRequest{MessageId: badMaxID}, code: NF, want: "message not found"},
	)
	settings := func(id string) *messagepb.UpdateConversationRequest {
		return &messagepb.UpdateConversationRequest{ConversationId: id, Pinned: proto.Bool(true)}
	}
	add(messagepb.MessageService_UpdateConversation_FullMethodName,
		badCase{name: "empty conversation_id", req: settings(""), code: IA, want: "conversation_id"},
		badCase{name: "conversation_id of 65", req: settings(badX(65)), code: IA, want: "conversation_id"},
		badCase{name: "not a conversation id", req: settings("g:x"), code: IA, want: "conversation_id"},
		badCase{name: "conversation_id invalid UTF-8", req: badWire(badStr(1, bad), badVarint(2, 1)), code: IA, want: "invalid UTF-8"},
		badCase{name: "no setting", req: &messagepb.UpdateConversationRequest{ConversationId: f.conversation}, code: IA, want: "set at least one"},
		badCase{name: "muted_until beyond 9999", req: &messagepb.UpdateConversationRequest{ConversationId: f.conversation,
			MutedUntil: &timestamppb.Timestamp{Seconds: 253402300800}}, code: IA, want: "muted_until"},
		badCase{name: "muted_until nanos -1", req: &messagepb.UpdateConversationRequest{ConversationId: f.conversation,
			MutedUntil: &timestamppb.Timestamp{Seconds: 1, Nanos: -1}}, code: IA, want: "muted_until"},
		badCase{name: "group max", req: settings(fmt.Sprintf("g:%d", badMaxID)), code: codes.PermissionDenied, want: "participant"},
		badCase{name: "pair without a message", req: settings(fmt.Sprintf("u:%d:%d", f.alice, badMaxID)), code: NF, want: "conversation"},
	)
	return table
}
