package grpcserver

import (
	"context"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/platform/validate"
)

// validation checks every request (and every message of a client stream)
// by its rules before a handler sees it: a refusal is InvalidArgument with
// the rule's message, naming the field; a request without rules
// (validate.ErrNoRules) is a bug, which the error mapping logs and answers
// as Internal.
type validation func(req any) error

// ValidationInterceptor is the unary validation the server runs, for
// checking rules as a client meets them (the rules' fuzz tests).
func ValidationInterceptor(rules func(req any) error) grpc.UnaryServerInterceptor {
	return validation(rules).unary
}

func (v validation) check(req any) error {
	err := v(req)
	if err == nil || errors.Is(err, validate.ErrNoRules) {
		return err
	}
	return status.Error(codes.InvalidArgument, err.Error())
}

func (v validation) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := v.check(req); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (v validation) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &validatedStream{ServerStream: ss, check: v.check})
}

type validatedStream struct {
	grpc.ServerStream
	check func(req any) error
}

func (s *validatedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.check(m)
}
