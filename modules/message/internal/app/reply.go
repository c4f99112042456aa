package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/modules/message/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/bus"
	"github.com/parley-im/parley/platform/database"
)

// ErrBadReplyTo is the answer for a reply_to_id the sender may not quote,
// the same whether the message exists elsewhere or not at all.
var ErrBadReplyTo = apperr.InvalidArgument("reply_to_id: not a message of this conversation that you can see (or it was recalled)")

// previewLength is how many characters of a text a quote keeps.
const previewLength = 100

// replyTo is the message id a send into conv by from quotes: one of conv
// that from sees (a group member, from their join on).
func (s *Service) replyTo(ctx context.Context, conv conversation, from, id uint64) (db.MessagesMessage, error) {
	_, firstSeq, err := s.authorize(ctx, from, conv.ID())
	if err != nil {
		return db.MessagesMessage{}, err
	}
	m, err := s.q.VisibleMessage(ctx, db.VisibleMessageParams{ID: id, ConversationID: conv.ID(), FirstSeq: firstSeq, ViewerID: from})
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && m.RecalledAt != nil) {
		return db.MessagesMessage{}, ErrBadReplyTo
	}
	if err != nil {
		return db.MessagesMessage{}, fmt.Errorf("message replied to: %w", err)
	}
	if messagepb.MESSAGE_TYPE(m.Type) == messagepb.MESSAGE_TYPE_GROUP_EVENT {
		return db.MessagesMessage{}, ErrGroupEvent
	}
	return m, nil
}

// preview is the one line a quote of m shows.
func (s *Service) preview(m db.MessagesMessage) (string, error) {
	pb := &messagepb.Message{Id: m.ID}
	if err := setBody(pb, messagepb.MESSAGE_TYPE(m.Type), m.Body, func(v string) string { return v }); err != nil {
		return "", err
	}
	switch b := pb.GetBody().(type) {
	case *messagepb.Message_Text:
		return truncate(b.Text.GetContent(), previewLength), nil
	case *messagepb.Message_Image:
		return "Photo", nil
	case *messagepb.Message_File:
		return truncate(labelled("File", b.File.GetName()), previewLength), nil
	case *messagepb.Message_Location:
		return truncate(labelled("Location", b.Location.GetDesc()), previewLength), nil
	case *messagepb.Message_Sound:
		return "Voice message", nil
	case *messagepb.Message_Video:
		return "Video", nil
	case *messagepb.Message_Face:
		return truncate(b.Face.GetSymbol(), previewLength), nil
	}
	return "", fmt.Errorf("message %d: no body", m.ID)
}

// labelled is "label: detail", or the label alone.
func labelled(label, detail string) string {
	if detail == "" {
		return label
	}
	return label + ": " + detail
}

// truncate keeps the first n characters of s, marking a cut with "…".
func truncate(s string, n int) string {
	runes := []rune(s)
	if len(runes) <= n {
		return s
	}
	return string(runes[:n]) + "…"
}

// beforeJoinQuote is what a member sees of a quote of a message from before
// it joined: only the id.
func beforeJoinQuote(q *messagepb.MessageReply) *messagepb.MessageReply {
	return &messagepb.MessageReply{Id: q.GetId(), BeforeJoin: true}
}

// redactQuotes leaves, in msgs as a member whose history starts at firstSeq
// sees them, only the id of quotes of messages from before firstSeq.
func (s *Service) redactQuotes(ctx context.Context, firstSeq uint64, msgs []*messagepb.Message) error {
	if firstSeq <= 1 {
		return nil
	}
	var quoted []uint64
	for _, m := range msgs {
		if q := m.GetReplyTo(); q != nil {
			quoted = append(quoted, q.GetId())
		}
	}
	if len(quoted) == 0 {
		return nil
	}
	rows, err := s.q.SeqsOf(ctx, database.BigintArray(quoted))
	if err != nil {
		return fmt.Errorf("quoted messages: %w", err)
	}
	seqOf := make(map[uint64]uint64, len(rows))
	for _, r := range rows {
		seqOf[r.ID] = r.Seq
	}
	for _, m := range msgs {
		if q := m.GetReplyTo(); q != nil && seqOf[q.GetId()] < firstSeq {
			m.ReplyTo = beforeJoinQuote(q)
		}
	}
	return nil
}

// publishQuoting publishes d, the push of pb (a message, or the message of
// a change), with data encoded by encode: one push, unless pb is a group
// reply (of members members) quoting a message some never saw (they joined
// after it): those get the push with the quote redacted, the others as it
// is.
func (s *Service) publishQuoting(ctx context.Context, conv conversation, members int, pb *messagepb.Message, d bus.Delivery, encode func(*messagepb.Message) ([]byte, error)) {
	q := pb.GetReplyTo()
	if q == nil || conv.groupID == 0 { // everyone sees the same: one push
		data, err := encode(pb)
		if err != nil {
			s.log.Error().Err(err).Msg("push not sent")
			return
		}
		d.Data = data
		_ = s.bus.Publish(ctx, d)
		return
	}
	quoted, err := s.q.GetMessage(ctx, q.GetId())
	blind := map[uint64]bool{}
	if err == nil {
		err = s.addBlind(ctx, conv, quoted, members, blind)
	}
	if err != nil {
		s.log.Warn().Err(err).Str("conversation", conv.ID()).Msg("push not sent: who saw the quoted message is unknown")
		return
	}
	var seeing, notSeeing []uint64
	for _, u := range d.UserIDs {
		if blind[u] {
			notSeeing = append(notSeeing, u)
		} else {
			seeing = append(seeing, u)
		}
	}
	for _, part := range []struct {
		users  []uint64
		redact bool
	}{{seeing, false}, {notSeeing, true}} {
		if len(part.users) == 0 {
			continue
		}
		m := pb
		if part.redact {
			m = proto.CloneOf(pb)
			m.ReplyTo = beforeJoinQuote(pb.GetReplyTo())
		}
		data, err := encode(m)
		if err != nil {
			s.log.Error().Err(err).Msg("push not sent")
			return
		}
		push := d
		push.UserIDs, push.Data = part.users, data
		_ = s.bus.Publish(ctx, push)
	}
}
