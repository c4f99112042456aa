package app

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/parley-im/parley/api/gen/messagepb"
)

// Body is a message's content: one of the seven seed body messages.
type Body struct {
	Type messagepb.MESSAGE_TYPE
	Msg  proto.Message
}

// setBody puts the stored body into m's oneof, its id set to the message's.
func setBody(m *messagepb.Message, typ messagepb.MESSAGE_TYPE, raw []byte) error {
	var msg proto.Message
	switch typ {
	case messagepb.MESSAGE_TYPE_TEXT:
		b := &messagepb.TextMessage{}
		msg, m.Body = b, &messagepb.Message_Text{Text: b}
	case messagepb.MESSAGE_TYPE_LOCATION:
		b := &messagepb.LocationMessage{}
		msg, m.Body = b, &messagepb.Message_Location{Location: b}
	case messagepb.MESSAGE_TYPE_FACE:
		b := &messagepb.FaceMessage{}
		msg, m.Body = b, &messagepb.Message_Face{Face: b}
	case messagepb.MESSAGE_TYPE_SOUND:
		b := &messagepb.SoundMessage{}
		msg, m.Body = b, &messagepb.Message_Sound{Sound: b}
	case messagepb.MESSAGE_TYPE_Video:
		b := &messagepb.VideoMessage{}
		msg, m.Body = b, &messagepb.Message_Video{Video: b}
	case messagepb.MESSAGE_TYPE_IMAGE:
		b := &messagepb.ImageMessageItem{}
		msg, m.Body = b, &messagepb.Message_Image{Image: b}
	case messagepb.MESSAGE_TYPE_FILE:
		b := &messagepb.FileMessage{}
		msg, m.Body = b, &messagepb.Message_File{File: b}
	default:
		return fmt.Errorf("message %d: unknown type %d", m.GetId(), typ)
	}
	if err := proto.Unmarshal(raw, msg); err != nil {
		return fmt.Errorf("message %d: body: %w", m.GetId(), err)
	}
	// Every body but the image item has an id: the message's.
	if id := msg.ProtoReflect().Descriptor().Fields().ByName("id"); id != nil {
		msg.ProtoReflect().Set(id, protoreflect.ValueOfUint64(m.GetId()))
	}
	return nil
}
