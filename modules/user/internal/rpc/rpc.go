// Package rpc is the user module's gRPC face: it maps UserService requests
// to the app layer and its results back to the wire.
package rpc

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/api/rules/userrules"
	"github.com/parley-im/parley/modules/user/internal/app"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/grpcserver"
	"github.com/parley-im/parley/platform/identity"
	"github.com/parley-im/parley/platform/media"
	"github.com/parley-im/parley/platform/paging"
)

// Server implements userpb.UserServiceServer. Requests arrive validated
// (see api/rules/userrules).
type Server struct {
	userpb.UnimplementedUserServiceServer
	svc   *app.Service
	links *media.Links
}

func NewServer(svc *app.Service, links *media.Links) *Server { return &Server{svc: svc, links: links} }

func (s *Server) Ping(ctx context.Context, req *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return grpcserver.Ping(ctx, req)
}

func (s *Server) CreateUser(ctx context.Context, req *userpb.UserCreateRequest) (*userpb.UserCreateResponse, error) {
	nickname, err := identity.Name("nickname", req.GetNickname(), userrules.MaxNicknameLength)
	if err != nil {
		return nil, apperr.InvalidArgument("%s", err)
	}
	avatar, err := s.links.Accept("avatar_url", req.GetAvatarUrl())
	if err != nil {
		return nil, apperr.InvalidArgument("%s", err)
	}
	u, err := s.svc.CreateUser(ctx, app.NewUser{
		Nickname:  nickname,
		Gender:    int16(req.GetGender()),
		AvatarURL: avatar,
		Password:  req.GetPassword(),
	})
	if err != nil {
		return nil, err
	}
	return &userpb.UserCreateResponse{User: ToProto(u, s.links)}, nil
}

func (s *Server) UserLogin(ctx context.Context, req *userpb.UserLoginRequest) (*userpb.UserLoginResponse, error) {
	token, err := s.svc.Login(ctx, req.GetNickname(), req.GetPassword())
	if err != nil {
		return nil, err
	}
	return &userpb.UserLoginResponse{Token: token}, nil
}

func (s *Server) GetUser(ctx context.Context, req *userpb.UserGetRequest) (*userpb.UserGetResponse, error) {
	u, err := s.svc.GetUser(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &userpb.UserGetResponse{User: ToProto(u, s.links)}, nil
}

func (s *Server) QueryUser(ctx context.Context, req *userpb.UserQueryRequest) (*userpb.UserQueryResponse, error) {
	page := paging.New(req.GetPage(), req.GetPageSize())
	users, total, err := s.svc.QueryUsers(ctx, req.GetKeyword(), page)
	if err != nil {
		return nil, err
	}
	return &userpb.UserQueryResponse{Pager: page.Pager(total), User: ToProtos(users, s.links)}, nil
}

func (s *Server) UpdatePassword(ctx context.Context, req *userpb.UpdatePasswordRequest) (*userpb.UpdatePasswordResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.UpdatePassword(ctx, caller, req.GetOldPassword(), req.GetPassword()); err != nil {
		return nil, err
	}
	return &userpb.UpdatePasswordResponse{}, nil
}

func (s *Server) UpdateAvatar(ctx context.Context, req *userpb.UpdateAvatarRequest) (*userpb.UpdateAvatarResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	avatar, err := s.links.Accept("url", req.GetUrl())
	if err != nil {
		return nil, apperr.InvalidArgument("%s", err)
	}
	if err := s.svc.UpdateAvatar(ctx, caller.UserID, avatar); err != nil {
		return nil, err
	}
	return &userpb.UpdateAvatarResponse{}, nil
}

// ToProto is a stored user on the wire, the avatar a public link;
// credentials never leave.
func ToProto(u app.User, links *media.Links) *userpb.User {
	pb := &userpb.User{
		Id:        u.ID,
		Nickname:  u.Nickname,
		Gender:    commonpb.Gender(u.Gender),
		AvatarUrl: links.RenderPublic(u.AvatarURL),
		Extra:     u.Extra,
		CreatedAt: timestamppb.New(u.CreatedAt),
		UpdatedAt: timestamppb.New(u.UpdatedAt),
	}
	if u.DeletedAt != nil {
		pb.DeletedAt = timestamppb.New(*u.DeletedAt)
	}
	return pb
}

func (s *Server) FollowUser(ctx context.Context, req *userpb.FollowUserRequest) (*userpb.FollowUserResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Follow(ctx, caller.UserID, req.GetUserId()); err != nil {
		return nil, err
	}
	return &userpb.FollowUserResponse{}, nil
}

func (s *Server) UnfollowUser(ctx context.Context, req *userpb.UnfollowUserRequest) (*userpb.UnfollowUserResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Unfollow(ctx, caller.UserID, req.GetUserId()); err != nil {
		return nil, err
	}
	return &userpb.UnfollowUserResponse{}, nil
}

func (s *Server) ListFollowing(ctx context.Context, req *userpb.ListFollowingRequest) (*userpb.ListFollowingResponse, error) {
	userID, err := subject(ctx, req.GetUserId())
	if err != nil {
		return nil, err
	}
	page := paging.New(req.GetPage(), req.GetPageSize())
	users, total, err := s.svc.Following(ctx, userID, page)
	if err != nil {
		return nil, err
	}
	return &userpb.ListFollowingResponse{Pager: page.Pager(total), User: ToProtos(users, s.links)}, nil
}

func (s *Server) ListFollowers(ctx context.Context, req *userpb.ListFollowersRequest) (*userpb.ListFollowersResponse, error) {
	userID, err := subject(ctx, req.GetUserId())
	if err != nil {
		return nil, err
	}
	page := paging.New(req.GetPage(), req.GetPageSize())
	users, total, err := s.svc.Followers(ctx, userID, page)
	if err != nil {
		return nil, err
	}
	return &userpb.ListFollowersResponse{Pager: page.Pager(total), User: ToProtos(users, s.links)}, nil
}

// subject is the user a listing is about: userID, or the caller for 0.
func subject(ctx context.Context, userID uint64) (uint64, error) {
	if userID != 0 {
		return userID, nil
	}
	caller, err := auth.Caller(ctx)
	return caller.UserID, err
}

// ToProtos maps ToProto over users.
func ToProtos(users []app.User, links *media.Links) []*userpb.User {
	out := make([]*userpb.User, len(users))
	for i, u := range users {
		out[i] = ToProto(u, links)
	}
	return out
}

func (s *Server) BlockUser(ctx context.Context, req *userpb.BlockUserRequest) (*userpb.BlockUserResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Block(ctx, caller.UserID, req.GetUserId()); err != nil {
		return nil, err
	}
	return &userpb.BlockUserResponse{}, nil
}

func (s *Server) UnblockUser(ctx context.Context, req *userpb.UnblockUserRequest) (*userpb.UnblockUserResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Unblock(ctx, caller.UserID, req.GetUserId()); err != nil {
		return nil, err
	}
	return &userpb.UnblockUserResponse{}, nil
}

func (s *Server) ListBlocked(ctx context.Context, req *userpb.ListBlockedRequest) (*userpb.ListBlockedResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	page := paging.New(req.GetPage(), req.GetPageSize())
	users, total, err := s.svc.Blocked(ctx, caller.UserID, page)
	if err != nil {
		return nil, err
	}
	return &userpb.ListBlockedResponse{Pager: page.Pager(total), User: ToProtos(users, s.links)}, nil
}
