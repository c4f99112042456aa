// Package rpc is the message module's gRPC face: it maps MessageService
// requests to the app layer and its results back to the wire.
package rpc

import (
	"context"

	"google.golang.org/grpc/metadata"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/modules/message/internal/app"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/grpcserver"
)

// IdempotencyKeyHeader is the metadata a client may send to make a send
// idempotent: the same sender and key within 24 hours is stored once.
const IdempotencyKeyHeader = "idempotency-key"

const maxIdempotencyKeyLength = 64

// Server implements messagepb.MessageServiceServer. Requests arrive
// validated (see api/rules/messagerules) and authenticated.
type Server struct {
	messagepb.UnimplementedMessageServiceServer
	svc *app.Service
}

func NewServer(svc *app.Service) *Server { return &Server{svc: svc} }

func (s *Server) Ping(ctx context.Context, req *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return grpcserver.Ping(ctx, req)
}

// outgoing builds a send from the caller and the request's idempotency key.
func outgoing(ctx context.Context, body app.Body) (app.Outgoing, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return app.Outgoing{}, err
	}
	key, err := idempotencyKey(ctx)
	if err != nil {
		return app.Outgoing{}, err
	}
	return app.Outgoing{From: caller.UserID, Body: body, IdempotencyKey: key}, nil
}

// idempotencyKey is the request's idempotency key, if it has one.
func idempotencyKey(ctx context.Context) (string, error) {
	keys := metadata.ValueFromIncomingContext(ctx, IdempotencyKeyHeader)
	if len(keys) == 0 {
		return "", nil
	}
	if len(keys[0]) > maxIdempotencyKeyLength || !printable(keys[0]) {
		return "", apperr.InvalidArgument("%s: must be at most %d printable ASCII characters",
			IdempotencyKeyHeader, maxIdempotencyKeyLength)
	}
	return keys[0], nil
}

// changer is the caller of a change to a message and its idempotency key.
func changer(ctx context.Context) (auth.Identity, string, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return auth.Identity{}, "", err
	}
	key, err := idempotencyKey(ctx)
	return caller, key, err
}

// printable reports whether key is visible ASCII: what a header value holds.
func printable(key string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

func (s *Server) sendToUser(ctx context.Context, to, replyTo uint64, body app.Body) (uint64, error) {
	out, err := outgoing(ctx, body)
	if err != nil {
		return 0, err
	}
	out.ToUser, out.ReplyToID = to, replyTo
	return s.svc.SendToUser(ctx, out)
}

func (s *Server) sendToGroup(ctx context.Context, to uint64, at []uint64, replyTo uint64, body app.Body) (uint64, error) {
	out, err := outgoing(ctx, body)
	if err != nil {
		return 0, err
	}
	out.ToGroup, out.AtUsers, out.ReplyToID = to, at, replyTo
	return s.svc.SendToGroup(ctx, out)
}

func (s *Server) SendUserTextMessage(ctx context.Context, req *messagepb.SendUserTextMessageRequest) (*messagepb.SendUserTextMessageResponse, error) {
	id, err := s.sendToUser(ctx, req.GetToUserId(), req.GetReplyToId(), app.Body{Type: messagepb.MESSAGE_TYPE_TEXT, Msg: req.GetText()})
	if err != nil {
		return nil, err
	}
	return &messagepb.SendUserTextMessageResponse{Id: id}, nil
}

func (s *Server) SendUserLocationMessage(ctx context.Context, req *messagepb.SendUserLocationMessageRequest) (*messagepb.SendUserLocationMessageResponse, error) {
	id, err := s.sendToUser(ctx, req.GetToUserId(), req.GetReplyToId(), app.Body{Type: messagepb.MESSAGE_TYPE_LOCATION, Msg: req.GetLocation()})
	if err != nil {
		return nil, err
	}
	return &messagepb.SendUserLocationMessageResponse{Id: id}, nil
}

func (s *Server) SendUserFaceMessage(ctx context.Context, req *messagepb.SendUserFaceMessageRequest) (*messagepb.SendUserFaceMessageResponse, error) {
	id, err := s.sendToUser(ctx, req.GetToUserId(), req.GetReplyToId(), app.Body{Type: messagepb.MESSAGE_TYPE_FACE, Msg: req.GetFace()})
	if err != nil {
		return nil, err
	}
	return &messagepb.SendUserFaceMessageResponse{Id: id}, nil
}

func (s *Server) SendUserSoundMessage(ctx context.Context, req *messagepb.SendUserSoundMessageRequest) (*messagepb.SendUserSoundMessageResponse, error) {
	id, err := s.sendToUser(ctx, req.GetToUserId(), req.GetReplyToId(), app.Body{Type: messagepb.MESSAGE_TYPE_SOUND, Msg: req.GetSound()})
	if err != nil {
		return nil, err
	}
	return &messagepb.SendUserSoundMessageResponse{Id: id}, nil
}

func (s *Server) SendUserVideoMessage(ctx context.Context, req *messagepb.SendUserVideoMessageRequest) (*messagepb.SendUserVideoMessageResponse, error) {
	id, err := s.sendToUser(ctx, req.GetToUserId(), req.GetReplyToId(), app.Body{Type: messagepb.MESSAGE_TYPE_Video, Msg: req.GetVideo()})
	if err != nil {
		return nil, err
	}
	return &messagepb.SendUserVideoMessageResponse{Id: id}, nil
}

func (s *Server) SendUserImageMessage(ctx context.Context, req *messagepb.SendUserImageMessageRequest) (*messagepb.SendUserImageMessageResponse, error) {
	id, err := s.sendToUser(ctx, req.GetToUserId(), req.GetReplyToId(), app.Body{Type: messagepb.MESSAGE_TYPE_IMAGE, Msg: req.GetImage()})
	if err != nil {
		return nil, err
	}
	return &messagepb.SendUserImageMessageResponse{Id: id}, nil
}

func (s *Server) SendUserFileMessage(ctx context.Context, req *messagepb.SendUserFileMessageRequest) (*messagepb.SendUserFileMessageResponse, error) {
	id, err := s.sendToUser(ctx, req.GetToUserId(), req.GetReplyToId(), app.Body{Type: messagepb.MESSAGE_TYPE_FILE, Msg: req.GetFile()})
	if err != nil {
		return nil, err
	}
	return &messagepb.SendUserFileMessageResponse{Id: id}, nil
}

func (s *Server) SendGroupTextMessage(ctx context.Context, req *messagepb.SendGroupTextMessageRequest) (*messagepb.SendGroupTextMessageResponse, error) {
	id, err := s.sendToGroup(ctx, req.GetToGroupId(), req.GetAtUserId(), req.GetReplyToId(), app.Body{Type: messagepb.MESSAGE_TYPE_TEXT, Msg: req.GetText()})
	if err != nil {
		return nil, err
	}
	return &messagepb.SendGroupTextMessageResponse{Id: id}, nil
}

func (s *Server) SendGroupLocationMessage(ctx context.Context, req *messagepb.SendGroupLocationMessageRequest) (*messagepb.SendGroupLocationMessageResponse, error) {
	id, err := s.sendToGroup(ctx, req.GetToGroupId(), req.GetAtUserId(), req.GetReplyToId(), app.Body{Type: messagepb.MESSAGE_TYPE_LOCATION, Msg: req.GetLocation()})
	if err != nil {
		return nil, err
	}
	return &messagepb.SendGroupLocationMessageResponse{Id: id}, nil
}

// SendGroupFceMessage keeps the seed's misspelt name.
func (s *Server) SendGroupFceMessage(ctx context.Context, req *messagepb.SendGroupFaceMessageRequest) (*messagepb.SendGroupFaceMessageResponse, error) {
	id, err := s.sendToGroup(ctx, req.GetToGroupId(), req.GetAtUserId(), req.GetReplyToId(), app.Body{Type: messagepb.MESSAGE_TYPE_FACE, Msg: req.GetFace()})
	if err != nil {
		return nil, err
	}
	return &messagepb.SendGroupFaceMessageResponse{Id: id}, nil
}

func (s *Server) SendGroupSoundMessage(ctx context.Context, req *messagepb.SendGroupSoundMessageRequest) (*messagepb.SendGroupSoundMessageResponse, error) {
	id, err := s.sendToGroup(ctx, req.GetToGroupId(), req.GetAtUserId(), req.GetReplyToId(), app.Body{Type: messagepb.MESSAGE_TYPE_SOUND, Msg: req.GetSound()})
	if err != nil {
		return nil, err
	}
	return &messagepb.SendGroupSoundMessageResponse{Id: id}, nil
}

func (s *Server) SendGroupVideoMessage(ctx context.Context, req *messagepb.SendGroupVideoMessageRequest) (*messagepb.SendGroupVideoMessageResponse, error) {
	id, err := s.sendToGroup(ctx, req.GetToGroupId(), req.GetAtUserId(), req.GetReplyToId(), app.Body{Type: messagepb.MESSAGE_TYPE_Video, Msg: req.GetVideo()})
	if err != nil {
		return nil, err
	}
	return &messagepb.SendGroupVideoMessageResponse{Id: id}, nil
}

func (s *Server) SendGroupImageMessage(ctx context.Context, req *messagepb.SendGroupImageMessageRequest) (*messagepb.SendGroupImageMessageResponse, error) {
	id, err := s.sendToGroup(ctx, req.GetToGroupId(), req.GetAtUserId(), req.GetReplyToId(), app.Body{Type: messagepb.MESSAGE_TYPE_IMAGE, Msg: req.GetImage()})
	if err != nil {
		return nil, err
	}
	return &messagepb.SendGroupImageMessageResponse{Id: id}, nil
}

func (s *Server) SendGroupFileMessage(ctx context.Context, req *messagepb.SendGroupFileMessageRequest) (*messagepb.SendGroupFileMessageResponse, error) {
	id, err := s.sendToGroup(ctx, req.GetToGroupId(), req.GetAtUserId(), req.GetReplyToId(), app.Body{Type: messagepb.MESSAGE_TYPE_FILE, Msg: req.GetFile()})
	if err != nil {
		return nil, err
	}
	return &messagepb.SendGroupFileMessageResponse{Id: id}, nil
}

func (s *Server) ListConversations(ctx context.Context, req *messagepb.ListConversationsRequest) (*messagepb.ListConversationsResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	convs, next, err := s.svc.Conversations(ctx, caller.UserID, app.ListOptions{
		IncludeArchived: req.GetIncludeArchived(), PageSize: req.GetPageSize(), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, err
	}
	return &messagepb.ListConversationsResponse{Conversation: convs, NextPageToken: next}, nil
}

func (s *Server) UpdateConversation(ctx context.Context, req *messagepb.UpdateConversationRequest) (*messagepb.UpdateConversationResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	set := app.Settings{Pinned: req.Pinned, Archived: req.Archived}
	if req.MutedUntil != nil { // the rule checked it is a valid time
		until := req.GetMutedUntil().AsTime()
		set.MutedUntil = &until
	}
	conv, err := s.svc.UpdateConversation(ctx, caller.UserID, req.GetConversationId(), set)
	if err != nil {
		return nil, err
	}
	return &messagepb.UpdateConversationResponse{Conversation: conv}, nil
}

func (s *Server) SyncMessages(ctx context.Context, req *messagepb.SyncMessagesRequest) (*messagepb.SyncMessagesResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetBeforeSeq() != 0 { // the rule refuses it beside after_seq
		msgs, more, err := s.svc.SyncBefore(ctx, caller.UserID, req.GetConversationId(), req.GetBeforeSeq(), req.GetLimit())
		if err != nil {
			return nil, err
		}
		return &messagepb.SyncMessagesResponse{Message: msgs, HasMore: more}, nil
	}
	return s.svc.Sync(ctx, caller.UserID, req.GetConversationId(), req.GetAfterSeq(), req.GetLimit())
}

func (s *Server) EditMessage(ctx context.Context, req *messagepb.EditMessageRequest) (*messagepb.EditMessageResponse, error) {
	caller, key, err := changer(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.svc.Edit(ctx, caller.UserID, req.GetMessageId(), req.GetText(), key)
	if err != nil {
		return nil, err
	}
	return &messagepb.EditMessageResponse{Message: m}, nil
}

func (s *Server) RecallMessage(ctx context.Context, req *messagepb.RecallMessageRequest) (*messagepb.RecallMessageResponse, error) {
	caller, key, err := changer(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Recall(ctx, caller, req.GetMessageId(), key); err != nil {
		return nil, err
	}
	return &messagepb.RecallMessageResponse{}, nil
}

func (s *Server) ReactToMessage(ctx context.Context, req *messagepb.ReactToMessageRequest) (*messagepb.ReactToMessageResponse, error) {
	caller, key, err := changer(ctx)
	if err != nil {
		return nil, err
	}
	reactions, err := s.svc.React(ctx, caller.UserID, req.GetMessageId(), req.GetEmoji(), req.GetRemove(), key)
	if err != nil {
		return nil, err
	}
	return &messagepb.ReactToMessageResponse{Reactions: reactions}, nil
}

func (s *Server) DeleteMessageForMe(ctx context.Context, req *messagepb.DeleteMessageForMeRequest) (*messagepb.DeleteMessageForMeResponse, error) {
	caller, key, err := changer(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.DeleteForMe(ctx, caller.UserID, req.GetMessageId(), key); err != nil {
		return nil, err
	}
	return &messagepb.DeleteMessageForMeResponse{}, nil
}

func (s *Server) MarkRead(ctx context.Context, req *messagepb.MarkReadRequest) (*messagepb.MarkReadResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.MarkRead(ctx, caller.UserID, req.GetConversationId(), req.GetSeq()); err != nil {
		return nil, err
	}
	return &messagepb.MarkReadResponse{}, nil
}
