package rpc

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/modules/group/internal/app"
	"github.com/parley-im/parley/platform/auth"
)

func (s *Server) SetGroupMemberRole(ctx context.Context, req *grouppb.SetGroupMemberRoleRequest) (*grouppb.SetGroupMemberRoleResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.SetMemberRole(ctx, caller.UserID, req.GetGroupId(), req.GetUserId(), req.GetRole()); err != nil {
		return nil, err
	}
	return &grouppb.SetGroupMemberRoleResponse{}, nil
}

func (s *Server) TransferGroupOwner(ctx context.Context, req *grouppb.TransferGroupOwnerRequest) (*grouppb.TransferGroupOwnerResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.TransferOwner(ctx, caller.UserID, req.GetGroupId(), req.GetUserId()); err != nil {
		return nil, err
	}
	return &grouppb.TransferGroupOwnerResponse{}, nil
}

func (s *Server) ListJoinRequests(ctx context.Context, req *grouppb.ListJoinRequestsRequest) (*grouppb.ListJoinRequestsResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	requests, err := s.svc.ListJoinRequests(ctx, caller.UserID, req.GetGroupId())
	if err != nil {
		return nil, err
	}
	resp := &grouppb.ListJoinRequestsResponse{Request: make([]*grouppb.JoinRequest, len(requests))}
	for i, r := range requests {
		resp.Request[i] = &grouppb.JoinRequest{Id: r.ID, User: r.User, CreatedAt: timestamppb.New(r.CreatedAt)}
	}
	return resp, nil
}

func (s *Server) DecideJoinRequest(ctx context.Context, req *grouppb.DecideJoinRequestRequest) (*grouppb.DecideJoinRequestResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.DecideJoinRequest(ctx, caller.UserID, req.GetRequestId(), req.GetApprove()); err != nil {
		return nil, err
	}
	return &grouppb.DecideJoinRequestResponse{}, nil
}

func (s *Server) CreateGroupInvite(ctx context.Context, req *grouppb.CreateGroupInviteRequest) (*grouppb.CreateGroupInviteResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	var expires *time.Time
	if req.ExpiresAt != nil {
		at := req.GetExpiresAt().AsTime()
		expires = &at
	}
	inv, err := s.svc.CreateInvite(ctx, caller.UserID, req.GetGroupId(), req.GetMaxUses(), expires)
	if err != nil {
		return nil, err
	}
	return &grouppb.CreateGroupInviteResponse{Code: inv.Code, Invite: inviteToProto(inv)}, nil
}

func (s *Server) RevokeGroupInvite(ctx context.Context, req *grouppb.RevokeGroupInviteRequest) (*grouppb.RevokeGroupInviteResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.RevokeInvite(ctx, caller.UserID, req.GetCode()); err != nil {
		return nil, err
	}
	return &grouppb.RevokeGroupInviteResponse{}, nil
}

func (s *Server) ListGroupInvites(ctx context.Context, req *grouppb.ListGroupInvitesRequest) (*grouppb.ListGroupInvitesResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	invites, err := s.svc.ListInvites(ctx, caller.UserID, req.GetGroupId())
	if err != nil {
		return nil, err
	}
	resp := &grouppb.ListGroupInvitesResponse{Invite: make([]*grouppb.GroupInvite, len(invites))}
	for i, inv := range invites {
		resp.Invite[i] = inviteToProto(inv)
	}
	return resp, nil
}

func (s *Server) JoinGroupByInvite(ctx context.Context, req *grouppb.JoinGroupByInviteRequest) (*grouppb.JoinGroupByInviteResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	g, err := s.svc.JoinByInvite(ctx, caller.UserID, req.GetCode())
	if err != nil {
		return nil, err
	}
	return &grouppb.JoinGroupByInviteResponse{Group: ToProto(g, s.links)}, nil
}

func (s *Server) MuteGroupMember(ctx context.Context, req *grouppb.MuteGroupMemberRequest) (*grouppb.MuteGroupMemberResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	var until *time.Time
	if req.Until != nil {
		at := req.GetUntil().AsTime()
		until = &at
	}
	if err := s.svc.MuteMember(ctx, caller.UserID, req.GetGroupId(), req.GetUserId(), until); err != nil {
		return nil, err
	}
	return &grouppb.MuteGroupMemberResponse{}, nil
}

func (s *Server) BanGroupMember(ctx context.Context, req *grouppb.BanGroupMemberRequest) (*grouppb.BanGroupMemberResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.BanMember(ctx, caller.UserID, req.GetGroupId(), req.GetUserId(), req.GetReason(), false); err != nil {
		return nil, err
	}
	return &grouppb.BanGroupMemberResponse{}, nil
}

func (s *Server) UnbanGroupMember(ctx context.Context, req *grouppb.UnbanGroupMemberRequest) (*grouppb.UnbanGroupMemberResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.UnbanMember(ctx, caller.UserID, req.GetGroupId(), req.GetUserId()); err != nil {
		return nil, err
	}
	return &grouppb.UnbanGroupMemberResponse{}, nil
}

func (s *Server) ListGroupBans(ctx context.Context, req *grouppb.ListGroupBansRequest) (*grouppb.ListGroupBansResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	bans, err := s.svc.ListBans(ctx, caller.UserID, req.GetGroupId())
	if err != nil {
		return nil, err
	}
	resp := &grouppb.ListGroupBansResponse{Ban: make([]*grouppb.GroupBan, len(bans))}
	for i, b := range bans {
		resp.Ban[i] = &grouppb.GroupBan{User: b.User, Reason: b.Reason, BannedBy: b.BannedBy, BannedAt: timestamppb.New(b.BannedAt)}
	}
	return resp, nil
}

func inviteToProto(inv app.Invite) *grouppb.GroupInvite {
	return &grouppb.GroupInvite{
		Code: inv.Code, GroupId: inv.GroupID, CreatedBy: inv.CreatedBy, MaxUses: inv.MaxUses, Uses: inv.Uses,
		ExpiresAt: optionalTime(inv.ExpiresAt), CreatedAt: timestamppb.New(inv.CreatedAt),
	}
}

// optionalTime is t on the wire, unset for nil.
func optionalTime(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}
