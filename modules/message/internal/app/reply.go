package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/modules/message/internal/db"
	"github.com/parley-im/parley/platform/apperr"
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
