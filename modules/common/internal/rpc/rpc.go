// Package rpc is the common module's gRPC face: image upload and email.
package rpc

import (
	"context"
	"sort"
	"strings"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/modules/common/internal/app"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/pong"
)

// Server implements commonpb.CommonServiceServer.
type Server struct {
	commonpb.UnimplementedCommonServiceServer
	svc *app.Service
}

func NewServer(svc *app.Service) *Server { return &Server{svc: svc} }

func (s *Server) Ping(ctx context.Context, req *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return pong.Ping(ctx, req)
}

// UploadImage reads the chunks as they come; see app.Service.Upload.
func (s *Server) UploadImage(stream commonpb.CommonService_UploadImageServer) error {
	caller, err := auth.Caller(stream.Context())
	if err != nil {
		return err
	}
	url, err := s.svc.Upload(stream.Context(), caller.UserID, func() ([]byte, error) {
		req, err := stream.Recv()
		return req.GetContent(), err
	})
	if err != nil {
		return err
	}
	return stream.SendAndClose(&commonpb.UploadImageResponse{Url: url})
}

func (s *Server) SendEmail(ctx context.Context, req *commonpb.SendEmailRequest) (*commonpb.SendEmailResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.svc.SendEmail(ctx, caller, app.Email{
		Receivers: addresses(req.GetReceiver()),
		Cc:        addresses(req.GetCc()),
		Subject:   strings.TrimSpace(req.GetSubject()),
		Content:   req.GetContent(),
	})
	if err != nil {
		return nil, err
	}
	return &commonpb.SendEmailResponse{}, nil
}

// addresses turns the seed's display name → address map into a list, by
// address (map order is random).
func addresses(entries map[string]string) []app.Address {
	out := make([]app.Address, 0, len(entries))
	for name, address := range entries {
		out = append(out, app.Address{Address: address, Name: name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}
