// Package messagerules holds the rules of message.MessageService's requests, which the
// validation interceptor checks before a handler runs (api/rules).
package messagerules

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/platform/validate"
)

const (
	MaxTextLength        = 5000
	MaxFaceSymbolLength  = 64
	MaxSoundSeconds      = 600
	MaxVideoSeconds      = 24 * 3600
	MaxFileNameLength    = 255
	MaxDescriptionLength = 1000
	MaxFormatLength      = 16
	MaxAtUsers           = 100
	MaxSyncLimit         = 200
	MaxEmojiBytes        = 32
)

// ListConversations: the largest page, and the longest page token (a
// next_page_token is far shorter).
const (
	MaxConversationsPageSize = 1000
	MaxPageTokenLength       = 128
)

func validateText(b *messagepb.TextMessage) error {
	if b == nil {
		return errors.New("text: is required")
	}
	if strings.TrimSpace(b.GetContent()) == "" {
		return errors.New("text.content: must not be blank")
	}
	// Measured as sent: whitespace is part of a message (code, poems).
	return validate.Text("text.content", b.GetContent(), 1, MaxTextLength)
}

func validateLocation(b *messagepb.LocationMessage) error {
	if b == nil {
		return errors.New("location: is required")
	}
	// Written so that NaN fails too.
	if !(b.GetLat() >= -90 && b.GetLat() <= 90) {
		return errors.New("location.lat: must be between -90 and 90")
	}
	if !(b.GetLng() >= -180 && b.GetLng() <= 180) {
		return errors.New("location.lng: must be between -180 and 180")
	}
	if err := validate.OptionalHTTPURL("location.cover_image", b.GetCoverImage()); err != nil {
		return err
	}
	if err := validate.OptionalHTTPURL("location.map_link", b.GetMapLink()); err != nil {
		return err
	}
	return validate.Text("location.desc", b.GetDesc(), 0, MaxDescriptionLength)
}

func validateFace(b *messagepb.FaceMessage) error {
	if b == nil {
		return errors.New("face: is required")
	}
	if err := validate.Length("face.symbol", b.GetSymbol(), 1, MaxFaceSymbolLength); err != nil {
		return err
	}
	return validate.PlainText("face.symbol", b.GetSymbol())
}

func validateSound(b *messagepb.SoundMessage) error {
	if b == nil {
		return errors.New("sound: is required")
	}
	if err := validate.HTTPURL("sound.url", b.GetUrl()); err != nil {
		return err
	}
	if s := b.GetSeconds(); s < 1 || s > MaxSoundSeconds {
		return fmt.Errorf("sound.seconds: must be 1–%d", MaxSoundSeconds)
	}
	return nil
}

func validateVideo(b *messagepb.VideoMessage) error {
	if b == nil {
		return errors.New("video: is required")
	}
	if err := validate.HTTPURL("video.url", b.GetUrl()); err != nil {
		return err
	}
	if s := b.GetSeconds(); s < 1 || s > MaxVideoSeconds {
		return fmt.Errorf("video.seconds: must be 1–%d", MaxVideoSeconds)
	}
	if err := validate.OptionalHTTPURL("video.thumb_url", b.GetThumbUrl()); err != nil {
		return err
	}
	if _, ok := messagepb.IMAGE_FORMAT_name[int32(b.GetThumbFormat())]; !ok {
		return errors.New("video.thumb_format: must be a defined IMAGE_FORMAT")
	}
	if err := validate.Length("video.format", b.GetFormat(), 0, MaxFormatLength); err != nil {
		return err
	}
	return validate.PlainText("video.format", b.GetFormat())
}

func validateImage(b *messagepb.ImageMessageItem) error {
	if b == nil {
		return errors.New("image: is required")
	}
	if err := validate.HTTPURL("image.url", b.GetUrl()); err != nil {
		return err
	}
	if _, ok := messagepb.IMAGE_TYPE_name[int32(b.GetType())]; !ok {
		return errors.New("image.type: must be a defined IMAGE_TYPE")
	}
	if _, ok := messagepb.IMAGE_FORMAT_name[int32(b.GetFormat())]; !ok {
		return errors.New("image.format: must be a defined IMAGE_FORMAT")
	}
	return nil
}

func validateFile(b *messagepb.FileMessage) error {
	if b == nil {
		return errors.New("file: is required")
	}
	if err := validate.HTTPURL("file.url", b.GetUrl()); err != nil {
		return err
	}
	if err := validate.Length("file.name", b.GetName(), 1, MaxFileNameLength); err != nil {
		return err
	}
	if err := validate.PlainText("file.name", b.GetName()); err != nil {
		return err
	}
	if b.GetSize() == 0 {
		return errors.New("file.size: is required")
	}
	return nil
}

func validateToUser(id uint64) error {
	if id == 0 {
		return errors.New("to_user_id: is required")
	}
	return nil
}

func validateToGroup(id uint64, atUsers []uint64) error {
	if id == 0 {
		return errors.New("to_group_id: is required")
	}
	if len(atUsers) > MaxAtUsers {
		return fmt.Errorf("at_user_id: at most %d users", MaxAtUsers)
	}
	for _, u := range atUsers {
		if u == 0 {
			return errors.New("at_user_id: ids must be non-zero")
		}
	}
	return nil
}

func checkSendUserTextMessageRequest(r *messagepb.SendUserTextMessageRequest) error {
	return firstError(validateToUser(r.GetToUserId()), validateText(r.GetText()))
}

func checkSendUserLocationMessageRequest(r *messagepb.SendUserLocationMessageRequest) error {
	return firstError(validateToUser(r.GetToUserId()), validateLocation(r.GetLocation()))
}

func checkSendUserFaceMessageRequest(r *messagepb.SendUserFaceMessageRequest) error {
	return firstError(validateToUser(r.GetToUserId()), validateFace(r.GetFace()))
}

func checkSendUserSoundMessageRequest(r *messagepb.SendUserSoundMessageRequest) error {
	return firstError(validateToUser(r.GetToUserId()), validateSound(r.GetSound()))
}

func checkSendUserVideoMessageRequest(r *messagepb.SendUserVideoMessageRequest) error {
	return firstError(validateToUser(r.GetToUserId()), validateVideo(r.GetVideo()))
}

func checkSendUserImageMessageRequest(r *messagepb.SendUserImageMessageRequest) error {
	return firstError(validateToUser(r.GetToUserId()), validateImage(r.GetImage()))
}

func checkSendUserFileMessageRequest(r *messagepb.SendUserFileMessageRequest) error {
	return firstError(validateToUser(r.GetToUserId()), validateFile(r.GetFile()))
}

func checkSendGroupTextMessageRequest(r *messagepb.SendGroupTextMessageRequest) error {
	return firstError(validateToGroup(r.GetToGroupId(), r.GetAtUserId()), validateText(r.GetText()))
}

func checkSendGroupLocationMessageRequest(r *messagepb.SendGroupLocationMessageRequest) error {
	return firstError(validateToGroup(r.GetToGroupId(), r.GetAtUserId()), validateLocation(r.GetLocation()))
}

func checkSendGroupFaceMessageRequest(r *messagepb.SendGroupFaceMessageRequest) error {
	return firstError(validateToGroup(r.GetToGroupId(), r.GetAtUserId()), validateFace(r.GetFace()))
}

func checkSendGroupSoundMessageRequest(r *messagepb.SendGroupSoundMessageRequest) error {
	return firstError(validateToGroup(r.GetToGroupId(), r.GetAtUserId()), validateSound(r.GetSound()))
}

func checkSendGroupVideoMessageRequest(r *messagepb.SendGroupVideoMessageRequest) error {
	return firstError(validateToGroup(r.GetToGroupId(), r.GetAtUserId()), validateVideo(r.GetVideo()))
}

func checkSendGroupImageMessageRequest(r *messagepb.SendGroupImageMessageRequest) error {
	return firstError(validateToGroup(r.GetToGroupId(), r.GetAtUserId()), validateImage(r.GetImage()))
}

func checkSendGroupFileMessageRequest(r *messagepb.SendGroupFileMessageRequest) error {
	return firstError(validateToGroup(r.GetToGroupId(), r.GetAtUserId()), validateFile(r.GetFile()))
}

// firstError reports the first problem found, so the message names one field.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func validateConversationID(id string) error {
	if id == "" {
		return errors.New("conversation_id: is required")
	}
	return validate.Length("conversation_id", id, 1, 64)
}

func checkSyncMessagesRequest(r *messagepb.SyncMessagesRequest) error {
	if err := validateConversationID(r.GetConversationId()); err != nil {
		return err
	}
	// One direction a page: forward from after_seq, or back from before_seq.
	if r.GetAfterSeq() != 0 && r.GetBeforeSeq() != 0 {
		return errors.New("after_seq and before_seq: set one, not both")
	}
	return nil
}

func checkMarkReadRequest(r *messagepb.MarkReadRequest) error {
	return validateConversationID(r.GetConversationId())
}

func checkMarkDeliveredRequest(r *messagepb.MarkDeliveredRequest) error {
	return validateConversationID(r.GetConversationId())
}

func checkSendTypingRequest(r *messagepb.SendTypingRequest) error {
	return validateConversationID(r.GetConversationId())
}

func checkGetReceiptsRequest(r *messagepb.GetReceiptsRequest) error {
	if err := validateConversationID(r.GetConversationId()); err != nil {
		return err
	}
	if r.GetSeq() == 0 {
		return errors.New("seq: is required (the message's seq)")
	}
	return nil
}

func checkListConversationsRequest(r *messagepb.ListConversationsRequest) error {
	if r.GetPageSize() > MaxConversationsPageSize {
		return fmt.Errorf("page_size: at most %d (0: %d)", MaxConversationsPageSize, MaxConversationsPageSize)
	}
	if len(r.GetPageToken()) > MaxPageTokenLength {
		return fmt.Errorf("page_token: at most %d bytes (pass a next_page_token as it came)", MaxPageTokenLength)
	}
	return nil
}

func checkUpdateConversationRequest(r *messagepb.UpdateConversationRequest) error {
	if err := validateConversationID(r.GetConversationId()); err != nil {
		return err
	}
	if r.Pinned == nil && r.MutedUntil == nil && r.Archived == nil {
		return errors.New("pinned or muted_until or archived: set at least one")
	}
	if r.MutedUntil != nil && r.GetMutedUntil().CheckValid() != nil {
		return errors.New("muted_until: must be a valid time from 0001-01-01 to 9999-12-31")
	}
	return nil
}

func checkEditMessageRequest(r *messagepb.EditMessageRequest) error {
	var missing error
	if r.GetMessageId() == 0 {
		missing = errors.New("message_id: is required")
	}
	return firstError(missing, validateText(r.GetText()))
}

func checkRecallMessageRequest(r *messagepb.RecallMessageRequest) error {
	if r.GetMessageId() == 0 {
		return errors.New("message_id: is required")
	}
	return nil
}

func checkReactToMessageRequest(r *messagepb.ReactToMessageRequest) error {
	var missing error
	if r.GetMessageId() == 0 {
		missing = errors.New("message_id: is required")
	}
	return firstError(missing, validateEmoji(r.GetEmoji()))
}

func checkDeleteMessageForMeRequest(r *messagepb.DeleteMessageForMeRequest) error {
	if r.GetMessageId() == 0 {
		return errors.New("message_id: is required")
	}
	return nil
}

// validateEmoji accepts one emoji: a single grapheme cluster (uniseg
// implements Unicode's segmentation, so a skin tone, a ZWJ sequence, a
// flag or a keycap is one) of at most MaxEmojiBytes, made of symbols
// (category So: pictographs, dingbats, regional indicators) and the
// characters that join them, or a keycap. Letters, digits, punctuation
// and combining accents are text, not reactions.
func validateEmoji(e string) error {
	switch {
	case e == "":
		return errors.New("emoji: is required")
	case len(e) > MaxEmojiBytes:
		return fmt.Errorf("emoji: at most %d bytes", MaxEmojiBytes)
	case !utf8.ValidString(e):
		return errors.New("emoji: must be valid UTF-8")
	}
	if n := uniseg.GraphemeClusterCount(e); n != 1 {
		return fmt.Errorf("emoji: must be one emoji, not %d characters", n)
	}
	first, size := utf8.DecodeRuneInString(e)
	keycap := strings.ContainsRune("0123456789#*", first) && strings.HasSuffix(e, "\u20e3")
	if !keycap && !unicode.Is(unicode.So, first) {
		return fmt.Errorf("emoji: %q is not an emoji", e)
	}
	for _, r := range e[size:] {
		if !unicode.Is(unicode.So, r) && !unicode.Is(emojiJoiners, r) {
			return fmt.Errorf("emoji: %q is not an emoji (it holds %U)", e, r)
		}
	}
	return nil
}

// emojiJoiners are the characters that follow an emoji's first within one
// emoji: variation selectors, the zero-width joiner, the keycap, skin tones
// and tag characters (subdivision flags). Anything else, such as a stack of
// combining accents, makes it text.
var emojiJoiners = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x200d, Hi: 0x200d, Stride: 1},
		{Lo: 0x20e3, Hi: 0x20e3, Stride: 1},
		{Lo: 0xfe0e, Hi: 0xfe0f, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x1f3fb, Hi: 0x1f3ff, Stride: 1},
		{Lo: 0xe0020, Hi: 0xe007f, Stride: 1},
	},
}

// Rules are the package's request rules, one per request type.
var Rules = []validate.Rule{
	validate.For(checkSendUserTextMessageRequest),
	validate.For(checkSendUserLocationMessageRequest),
	validate.For(checkSendUserFaceMessageRequest),
	validate.For(checkSendUserSoundMessageRequest),
	validate.For(checkSendUserVideoMessageRequest),
	validate.For(checkSendUserImageMessageRequest),
	validate.For(checkSendUserFileMessageRequest),
	validate.For(checkSendGroupTextMessageRequest),
	validate.For(checkSendGroupLocationMessageRequest),
	validate.For(checkSendGroupFaceMessageRequest),
	validate.For(checkSendGroupSoundMessageRequest),
	validate.For(checkSendGroupVideoMessageRequest),
	validate.For(checkSendGroupImageMessageRequest),
	validate.For(checkSendGroupFileMessageRequest),
	validate.For(checkSyncMessagesRequest),
	validate.For(checkMarkReadRequest),
	validate.For(checkListConversationsRequest),
	validate.For(checkEditMessageRequest),
	validate.For(checkRecallMessageRequest),
	validate.For(checkReactToMessageRequest),
	validate.For(checkDeleteMessageForMeRequest),
	validate.For(checkUpdateConversationRequest),
	validate.For(checkMarkDeliveredRequest),
	validate.For(checkSendTypingRequest),
	validate.For(checkGetReceiptsRequest),
}
