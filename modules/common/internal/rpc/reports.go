package rpc

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/modules/common/internal/app"
	"github.com/parley-im/parley/platform/auth"
)

func (s *Server) ReportContent(ctx context.Context, req *commonpb.ReportContentRequest) (*commonpb.ReportContentResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.reports.File(ctx, caller, req.GetKind(), req.GetId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &commonpb.ReportContentResponse{Report: reportToProto(r)}, nil
}

func (s *Server) ListReports(ctx context.Context, req *commonpb.ListReportsRequest) (*commonpb.ListReportsResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	reports, next, err := s.reports.List(ctx, caller, req.GetGroupId(), req.GetIncludeResolved(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &commonpb.ListReportsResponse{Report: make([]*commonpb.Report, len(reports)), NextPageToken: next}
	for i, r := range reports {
		resp.Report[i] = reportToProto(r)
	}
	return resp, nil
}

func (s *Server) ResolveReport(ctx context.Context, req *commonpb.ResolveReportRequest) (*commonpb.ResolveReportResponse, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.reports.Resolve(ctx, caller, req.GetId(), req.GetAction())
	if err != nil {
		return nil, err
	}
	return &commonpb.ResolveReportResponse{Report: reportToProto(r)}, nil
}

func reportToProto(r app.Report) *commonpb.Report {
	pb := &commonpb.Report{
		Id: r.ID, Kind: r.Kind, ContentId: r.ContentID, ReporterId: r.ReporterID, Reason: r.Reason,
		AuthorId: r.AuthorID, GroupId: r.GroupID, CreatedAt: timestamppb.New(r.CreatedAt),
		Resolution: r.Resolution, ResolvedBy: r.ResolvedBy,
	}
	if r.ResolvedAt != nil {
		pb.ResolvedAt = timestamppb.New(*r.ResolvedAt)
	}
	return pb
}
