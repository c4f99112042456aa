// Package rpc is the common module's gRPC face: image upload, email and
// reports.
package rpc

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/modules/common/internal/app"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/grpcserver"
)

// Server implements commonpb.CommonServiceServer.
type Server struct {
	commonpb.UnimplementedCommonServiceServer
	svc     *app.Service
	reports *app.Reports
}

func NewServer(svc *app.Service, reports *app.Reports) *Server {
	return &Server{svc: svc, reports: reports}
}

func (s *Server) Ping(ctx context.Context, req *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return grpcserver.Ping(ctx, req)
}

// UploadImage reads the chunks as they come; see app.Service.Upload.
func (s *Server) UploadImage(stream commonpb.CommonService_UploadImageServer) error {
	caller, err := auth.Caller(stream.Context())
	if err != nil {
		return err
	}
	url, err := s.svc.Upload(stream.Context(), caller.UserID, s.timedChunks(stream))
	if err != nil {
		return err
	}
	return stream.SendAndClose(&commonpb.UploadImageResponse{Url: url})
}

// received is one Recv's result.
type received struct {
	content []byte
	err     error
}

// timedChunks receives the stream's chunks on a goroutine of its own, so a
// chunk that does not come within the idle timeout, or an upload that
// takes too long, ends the call. The goroutine receives one chunk ahead at
// most, and ends when the stream does: once the handler returns, a blocked
// Recv fails.
func (s *Server) timedChunks(stream commonpb.CommonService_UploadImageServer) app.Chunks {
	idle, total := s.svc.UploadTimeouts()
	deadline := time.Now().Add(total)
	chunks := make(chan received)
	go func() {
		for {
			req, err := stream.Recv()
			select {
			case chunks <- received{req.GetContent(), err}:
			case <-stream.Context().Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return func() ([]byte, error) {
		wait := min(idle, time.Until(deadline))
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case r := <-chunks:
			return r.content, r.err
		case <-stream.Context().Done(): // the client went away
			return nil, stream.Context().Err()
		case <-timer.C:
			if wait < idle {
				return nil, app.ErrUploadTooSlow
			}
			return nil, app.ErrUploadStalled
		}
	}
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
