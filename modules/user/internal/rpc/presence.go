package rpc

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/user/internal/app"
	"github.com/parley-im/parley/platform/auth"
)

func (s *Server) GetPresence(ctx context.Context, req *userpb.GetPresenceRequest) (*userpb.GetPresenceResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.GetPresence(ctx, caller.UserID, req.GetUserId())
	if err != nil {
		return nil, err
	}
	out := make([]*userpb.Presence, len(list))
	for i, p := range list {
		out[i] = presenceToProto(p)
	}
	return &userpb.GetPresenceResponse{Presence: out}, nil
}

func presenceToProto(p app.Presence) *userpb.Presence {
	pb := &userpb.Presence{UserId: p.UserID, Online: p.Online}
	if p.LastSeenAt != nil {
		pb.LastSeenAt = timestamppb.New(*p.LastSeenAt)
	}
	return pb
}

func (s *Server) UpdatePrivacy(ctx context.Context, req *userpb.UpdatePrivacyRequest) (*userpb.UpdatePrivacyResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	hides, err := s.svc.UpdatePrivacy(ctx, caller.UserID, req.GetHidePresence())
	if err != nil {
		return nil, err
	}
	return &userpb.UpdatePrivacyResponse{HidePresence: hides}, nil
}

func (s *Server) GetPrivacy(ctx context.Context, _ *userpb.GetPrivacyRequest) (*userpb.GetPrivacyResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	hides, err := s.svc.HidesPresence(ctx, caller.UserID)
	if err != nil {
		return nil, err
	}
	return &userpb.GetPrivacyResponse{HidePresence: hides}, nil
}
