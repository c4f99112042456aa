package app

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/platform/apperr"
)

// Body is a message's content: one of the seven seed body messages, or a
// group event (only the server writes one).
type Body struct {
	Type messagepb.MESSAGE_TYPE
	Msg  proto.Message
}

// mediaFields are the body fields that may link to uploaded files.
var mediaFields = []protoreflect.Name{"url", "thumb_url", "cover_image"}

// fieldPrefix names a type's body in errors, as the validators do.
var fieldPrefix = map[messagepb.MESSAGE_TYPE]string{
	messagepb.MESSAGE_TYPE_LOCATION: "location", messagepb.MESSAGE_TYPE_SOUND: "sound",
	messagepb.MESSAGE_TYPE_Video: "video", messagepb.MESSAGE_TYPE_IMAGE: "image", messagepb.MESSAGE_TYPE_FILE: "file",
}

// eachMediaField sets every media field of body to edit(its name, value).
func eachMediaField(body proto.Message, edit func(name, value string) (string, error)) error {
	m := body.ProtoReflect()
	for _, name := range mediaFields {
		f := m.Descriptor().Fields().ByName(name)
		if f == nil || f.Kind() != protoreflect.StringKind || !m.Has(f) {
			continue
		}
		v, err := edit(string(name), m.Get(f).String())
		if err != nil {
			return err
		}
		m.Set(f, protoreflect.ValueOfString(v))
	}
	return nil
}

// acceptMedia stores the body's links to this server's media as keys; such
// a link must open (media.Links.Accept), so a hash alone reaches nothing.
func (s *Service) acceptMedia(typ messagepb.MESSAGE_TYPE, body proto.Message) error {
	return eachMediaField(body, func(name, value string) (string, error) {
		stored, err := s.links.Accept(fieldPrefix[typ]+"."+name, value)
		if err != nil {
			return "", apperr.InvalidArgument("%s", err)
		}
		return stored, nil
	})
}

// setBody puts the stored body into m's oneof, its id set to the message's
// and its media fields rendered as links.
func setBody(m *messagepb.Message, typ messagepb.MESSAGE_TYPE, raw []byte, link func(string) string) error {
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
	case messagepb.MESSAGE_TYPE_GROUP_EVENT:
		b := &grouppb.GroupEvent{}
		msg, m.Body = b, &messagepb.Message_GroupEvent{GroupEvent: b}
	default:
		return fmt.Errorf("message %d: unknown type %d", m.GetId(), typ)
	}
	if err := proto.Unmarshal(raw, msg); err != nil {
		return fmt.Errorf("message %d: body: %w", m.GetId(), err)
	}
	_ = eachMediaField(msg, func(_, value string) (string, error) { return link(value), nil })
	// Every body but the image item has an id: the message's.
	if id := msg.ProtoReflect().Descriptor().Fields().ByName("id"); id != nil {
		msg.ProtoReflect().Set(id, protoreflect.ValueOfUint64(m.GetId()))
	}
	return nil
}
