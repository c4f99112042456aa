package rpc

import (
	"context"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/platform/auth"
)

func (s *Server) MarkDelivered(ctx context.Context, req *messagepb.MarkDeliveredRequest) (*messagepb.MarkDeliveredResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.MarkDelivered(ctx, caller.UserID, req.GetConversationId(), req.GetSeq()); err != nil {
		return nil, err
	}
	return &messagepb.MarkDeliveredResponse{}, nil
}

func (s *Server) GetReceipts(ctx context.Context, req *messagepb.GetReceiptsRequest) (*messagepb.GetReceiptsResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	return s.svc.Receipts(ctx, caller.UserID, req.GetConversationId(), req.GetSeq(), req.GetAfterUserId(), req.GetLimit())
}

func (s *Server) SendTyping(ctx context.Context, req *messagepb.SendTypingRequest) (*messagepb.SendTypingResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.SendTyping(ctx, caller.UserID, req.GetConversationId(), req.GetStopped()); err != nil {
		return nil, err
	}
	return &messagepb.SendTypingResponse{}, nil
}
