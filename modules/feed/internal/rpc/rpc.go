// Package rpc is the feed module's gRPC face: it maps FeedService requests
// to the app layer and its results back to the wire.
package rpc

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/modules/feed/internal/app"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/grpcserver"
	"github.com/parley-im/parley/platform/paging"
)

// Server implements feedpb.FeedServiceServer. Requests arrive validated
// (see api/rules/feedrules) and authenticated.
type Server struct {
	feedpb.UnimplementedFeedServiceServer
	svc *app.Service
}

func NewServer(svc *app.Service) *Server { return &Server{svc: svc} }

func (s *Server) Ping(ctx context.Context, req *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return grpcserver.Ping(ctx, req)
}

func (s *Server) FeedCreate(ctx context.Context, req *feedpb.FeedCreateRequest) (*feedpb.FeedCreateResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	f, err := s.svc.Create(ctx, caller, app.Post{Type: req.GetType(), Content: req.GetContent(), Resources: req.GetResource()})
	if err != nil {
		return nil, err
	}
	return &feedpb.FeedCreateResponse{Feed: toProto(f)}, nil
}

func (s *Server) FeedEdit(ctx context.Context, req *feedpb.FeedEditRequest) (*feedpb.FeedEditResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.svc.Edit(ctx, caller, req.GetId(), app.Post{Type: req.GetType(), Content: req.GetContent(), Resources: req.GetResource()})
	if err != nil {
		return nil, err
	}
	return &feedpb.FeedEditResponse{Id: req.GetId()}, nil
}

func (s *Server) FeedGet(ctx context.Context, req *feedpb.FeedGetRequest) (*feedpb.FeedGetResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	f, err := s.svc.Get(ctx, caller, req.GetId())
	if err != nil {
		return nil, err
	}
	return &feedpb.FeedGetResponse{Feed: toProto(f)}, nil
}

func (s *Server) FeedDelete(ctx context.Context, req *feedpb.FeedDeleteRequest) (*feedpb.FeedDeleteResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Delete(ctx, caller, req.GetId()); err != nil {
		return nil, err
	}
	return &feedpb.FeedDeleteResponse{}, nil
}

func (s *Server) FeedReview(ctx context.Context, req *feedpb.FeedReviewRequest) (*feedpb.FeedReviewResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Review(ctx, caller, req.GetId(), req.GetReviewStatus(), req.GetRemark()); err != nil {
		return nil, err
	}
	return &feedpb.FeedReviewResponse{}, nil
}

func (s *Server) FeedLike(ctx context.Context, req *feedpb.FeedLikeRequest) (*feedpb.FeedLikeResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Like(ctx, caller, req.GetId()); err != nil {
		return nil, err
	}
	return &feedpb.FeedLikeResponse{}, nil
}

func (s *Server) FeedUnLike(ctx context.Context, req *feedpb.FeedUnLikeRequest) (*feedpb.FeedUnLikeResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.Unlike(ctx, caller, req.GetId()); err != nil {
		return nil, err
	}
	return &feedpb.FeedUnLikeResponse{}, nil
}

func (s *Server) FeedOwn(ctx context.Context, req *feedpb.FeedOwnRequest) (*feedpb.FeedOwnResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	c := app.Cursor{LastID: req.GetLastId(), Num: paging.Num(req.GetNum())}
	feeds, total, err := s.svc.Own(ctx, caller, req.GetKeyword(), req.GetReviewStatus(), c)
	if err != nil {
		return nil, err
	}
	return &feedpb.FeedOwnResponse{Pager: cursorPager(c.Num, total), Feed: toProtos(feeds)}, nil
}

func (s *Server) FeedQuery(ctx context.Context, req *feedpb.FeedQueryRequest) (*feedpb.FeedQueryResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	c := app.Cursor{LastID: req.GetLastId(), Num: paging.Num(req.GetNum())}
	feeds, err := s.svc.Query(ctx, caller, req.GetKeyword(), req.GetUserId(), c)
	if err != nil {
		return nil, err
	}
	return &feedpb.FeedQueryResponse{Pager: cursorPager(c.Num, 0), Feed: toProtos(feeds)}, nil
}

func (s *Server) FeedFollow(ctx context.Context, req *feedpb.FeedFollowRequest) (*feedpb.FeedFollowResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	c := app.Cursor{LastID: req.GetLastId(), Num: paging.Num(req.GetNum())}
	feeds, err := s.svc.Following(ctx, caller, c)
	if err != nil {
		return nil, err
	}
	return &feedpb.FeedFollowResponse{Pager: cursorPager(c.Num, 0), Feed: toProtos(feeds)}, nil
}

func (s *Server) FeedRecommend(ctx context.Context, req *feedpb.FeedRecommendRequest) (*feedpb.FeedRecommendResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	num := paging.Num(req.GetNum())
	feeds, err := s.svc.Recommend(ctx, caller, num)
	if err != nil {
		return nil, err
	}
	return &feedpb.FeedRecommendResponse{Pager: cursorPager(num, 0), Feed: toProtos(feeds)}, nil
}

func (s *Server) FeedCommentCreate(ctx context.Context, req *feedpb.FeedCommentCreateRequest) (*feedpb.FeedCommentCreateResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.svc.Comment(ctx, caller, req.GetFeedId(), req.GetContent(), req.GetReplyToId())
	if err != nil {
		return nil, err
	}
	return &feedpb.FeedCommentCreateResponse{Comment: commentProto(c)}, nil
}

func (s *Server) FeedCommentList(ctx context.Context, req *feedpb.FeedCommentListRequest) (*feedpb.FeedCommentListResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	c := app.Cursor{LastID: req.GetLastId(), Num: paging.Num(req.GetNum())}
	comments, total, err := s.svc.Comments(ctx, caller, req.GetFeedId(), c)
	if err != nil {
		return nil, err
	}
	resp := &feedpb.FeedCommentListResponse{Pager: cursorPager(c.Num, total), Comment: make([]*feedpb.FeedComment, len(comments))}
	for i, cm := range comments {
		resp.Comment[i] = commentProto(cm)
	}
	return resp, nil
}

func (s *Server) FeedCommentDelete(ctx context.Context, req *feedpb.FeedCommentDeleteRequest) (*feedpb.FeedCommentDeleteResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.svc.DeleteComment(ctx, caller, req.GetId()); err != nil {
		return nil, err
	}
	return &feedpb.FeedCommentDeleteResponse{}, nil
}

// cursorPager fills Pager for a keyset page: page_zie is the num used;
// total_rows and total_pages only where the total is cheap to know (0 otherwise).
func cursorPager(num, total uint64) *commonpb.Pager {
	p := &commonpb.Pager{Page: 1, PageZie: num, TotalRows: total}
	if total > 0 {
		p.TotalPages = (total + num - 1) / num
	}
	return p
}

func toProtos(feeds []app.Feed) []*feedpb.Feed {
	out := make([]*feedpb.Feed, len(feeds))
	for i, f := range feeds {
		out[i] = toProto(f)
	}
	return out
}

func toProto(f app.Feed) *feedpb.Feed {
	pb := &feedpb.Feed{
		Id:           f.ID,
		UserId:       f.UserID,
		Content:      f.Content,
		Type:         feedpb.FeedType(f.Type),
		LikeCount:    uint64(f.LikeCount),
		ViewCount:    uint64(f.ViewCount),
		CommentCount: uint64(f.CommentCount),
		Operator:     f.Operator,
		Remark:       f.Remark,
		Hot:          uint64(max(f.Hot, 0)),
		IsEnable:     commonpb.IsEnable(f.IsEnable),
		ReviewStatus: commonpb.ReviewStatus(f.ReviewStatus),
		CreatedAt:    timestamppb.New(f.CreatedAt),
		UpdatedAt:    timestamppb.New(f.UpdatedAt),
		Liked:        f.Liked,
	}
	for _, img := range f.Images {
		pb.Images = append(pb.Images, &feedpb.FeedImage{
			Id: img.ID, FeedId: img.FeedID, ImgUrl: img.URL,
			CreatedAt: timestamppb.New(img.CreatedAt), UpdatedAt: timestamppb.New(img.UpdatedAt),
		})
	}
	if v := f.Video; v != nil {
		pb.Video = &feedpb.FeedVideo{
			Id: v.ID, FeedId: v.FeedID, VideoUrl: v.URL, CoverUrl: v.CoverURL,
			Width: uint64(v.Width), Height: uint64(v.Height), Duration: v.Duration,
			CreatedAt: timestamppb.New(v.CreatedAt), UpdatedAt: timestamppb.New(v.UpdatedAt),
		}
	}
	return pb
}

func commentProto(c app.Comment) *feedpb.FeedComment {
	return &feedpb.FeedComment{
		Id: c.ID, FeedId: c.FeedID, UserId: c.UserID,
		Content: c.Content, ReplyToId: c.ReplyToID, CreatedAt: timestamppb.New(c.CreatedAt),
	}
}
