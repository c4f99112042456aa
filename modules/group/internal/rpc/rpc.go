// Package rpc is the group module's gRPC face: it maps GroupService
// requests to the app layer and its results back to the wire.
package rpc

import (
	"context"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/api/rules/grouprules"
	"github.com/parley-im/parley/modules/group/internal/app"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/grpcserver"
	"github.com/parley-im/parley/platform/identity"
	"github.com/parley-im/parley/platform/media"
	"github.com/parley-im/parley/platform/paging"
)

// Server implements grouppb.GroupServiceServer. Requests arrive validated
// (see api/rules/grouprules) and authenticated.
type Server struct {
	grouppb.UnimplementedGroupServiceServer
	svc   *app.Service
	links *media.Links
}

func NewServer(svc *app.Service, links *media.Links) *Server { return &Server{svc: svc, links: links} }

func (s *Server) Ping(ctx context.Context, req *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return grpcserver.Ping(ctx, req)
}

func (s *Server) CreateGroup(ctx context.Context, req *grouppb.CreateGroupRequest) (*grouppb.CreateGroupResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	name, err := identity.Name("name", req.GetName(), grouprules.MaxNameLength)
	if err != nil {
		return nil, apperr.InvalidArgument("%s", err)
	}
	avatar, err := s.links.Accept("avatar_url", req.GetAvatarUrl())
	if err != nil {
		return nil, apperr.InvalidArgument("%s", err)
	}
	g, err := s.svc.CreateGroup(ctx, caller.UserID, app.Fields{
		Name: name, Introduction: req.GetIntroduction(), AvatarURL: avatar,
	})
	if err != nil {
		return nil, err
	}
	return &grouppb.CreateGroupResponse{Group: ToProto(g, s.links)}, nil
}

func (s *Server) UpdateGroup(ctx context.Context, req *grouppb.UpdateGroupRequest) (*grouppb.UpdateGroupResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	var name string // empty keeps the stored one
	if strings.TrimSpace(req.GetName()) != "" {
		if name, err = identity.Name("name", req.GetName(), grouprules.MaxNameLength); err != nil {
			return nil, apperr.InvalidArgument("%s", err)
		}
	}
	avatar, err := s.links.Accept("avatar_url", req.GetAvatarUrl())
	if err != nil {
		return nil, apperr.InvalidArgument("%s", err)
	}
	_, err = s.svc.UpdateGroup(ctx, caller.UserID, req.GetId(), app.Fields{
		Name: name, Introduction: req.GetIntroduction(), AvatarURL: avatar,
		JoinPolicy: req.JoinPolicy, MuteAll: req.MuteAll, HistoryVisible: req.HistoryVisible,
	})
	if err != nil {
		return nil, err
	}
	return &grouppb.UpdateGroupResponse{}, nil
}

func (s *Server) GetGroup(ctx context.Context, req *grouppb.GetGroupRequest) (*grouppb.GetGroupResponse, error) {
	g, err := s.svc.GetGroup(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &grouppb.GetGroupResponse{Group: ToProto(g, s.links)}, nil
}

func (s *Server) QueryGroup(ctx context.Context, req *grouppb.QueryGroupRequest) (*grouppb.QueryGroupResponse, error) {
	page := paging.New(req.GetPage(), req.GetPageSize())
	groups, total, err := s.svc.QueryGroups(ctx, req.GetKeyword(), page)
	if err != nil {
		return nil, err
	}
	resp := &grouppb.QueryGroupResponse{Pager: page.Pager(total), Group: make([]*grouppb.Group, len(groups))}
	for i, g := range groups {
		resp.Group[i] = ToProto(g, s.links)
	}
	return resp, nil
}

func (s *Server) DeleteGroup(ctx context.Context, req *grouppb.DeleteGroupRequest) (*grouppb.DeleteGroupResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.DeleteGroup(ctx, caller.UserID, req.GetId(), false); err != nil {
		return nil, err
	}
	return &grouppb.DeleteGroupResponse{}, nil
}

func (s *Server) JoinGroup(ctx context.Context, req *grouppb.JoinGroupRequest) (*grouppb.JoinGroupResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	requestID, err := s.svc.JoinGroup(ctx, caller.UserID, req.GetId(), req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &grouppb.JoinGroupResponse{RequestId: requestID}, nil
}

func (s *Server) QuitGroup(ctx context.Context, req *grouppb.QuitGroupRequest) (*grouppb.QuitGroupResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.QuitGroup(ctx, caller.UserID, req.GetId(), req.GetUserId()); err != nil {
		return nil, err
	}
	return &grouppb.QuitGroupResponse{}, nil
}

func (s *Server) GetGroupUser(ctx context.Context, req *grouppb.GetGroupUserRequest) (*grouppb.GetGroupUserResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	page := paging.New(req.GetPage(), req.GetPageSize())
	members, total, err := s.svc.Members(ctx, caller.UserID, req.GetId(), page)
	if err != nil {
		return nil, err
	}
	resp := &grouppb.GetGroupUserResponse{
		Pager: page.Pager(total), User: make([]*userpb.User, len(members)), Member: make([]*grouppb.GroupMember, len(members)),
	}
	for i, m := range members {
		resp.User[i] = m.User
		resp.Member[i] = &grouppb.GroupMember{
			User: m.User, Role: m.Role, JoinedAt: timestamppb.New(m.JoinedAt), MutedUntil: optionalTime(m.MutedUntil),
		}
	}
	return resp, nil
}

// ToProto is a stored group on the wire, the avatar a public link.
func ToProto(g app.Group, links *media.Links) *grouppb.Group {
	pb := &grouppb.Group{
		Id:             g.ID,
		Name:           g.Name,
		Introduction:   g.Introduction,
		AvatarUrl:      links.RenderPublic(g.AvatarURL),
		Extra:          g.Extra,
		UserId:         g.OwnerID,
		CreatedAt:      timestamppb.New(g.CreatedAt),
		UpdatedAt:      timestamppb.New(g.UpdatedAt),
		JoinPolicy:     g.JoinPolicy,
		MuteAll:        g.MuteAll,
		HistoryVisible: g.HistoryVisible,
		MemberCount:    uint32(max(g.MemberCount, 0)),
	}
	if g.DeletedAt != nil {
		pb.DeletedAt = timestamppb.New(*g.DeletedAt)
	}
	return pb
}
