// Package apperr is the one error type modules return to say what went wrong
// with a request. The gRPC layer turns it into a status with the same code and
// message; any other error reaching the client becomes Internal.
package apperr

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is a client-facing error: a gRPC code and a message safe to show.
type Error struct {
	Code    codes.Code
	Message string
}

func (e *Error) Error() string { return e.Message }

// GRPCStatus lets grpc-go and status.FromError see the code.
func (e *Error) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

func newf(code codes.Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func InvalidArgument(format string, args ...any) *Error {
	return newf(codes.InvalidArgument, format, args...)
}

func NotFound(format string, args ...any) *Error { return newf(codes.NotFound, format, args...) }

func AlreadyExists(format string, args ...any) *Error {
	return newf(codes.AlreadyExists, format, args...)
}

func PermissionDenied(format string, args ...any) *Error {
	return newf(codes.PermissionDenied, format, args...)
}

func Unauthenticated(format string, args ...any) *Error {
	return newf(codes.Unauthenticated, format, args...)
}

func FailedPrecondition(format string, args ...any) *Error {
	return newf(codes.FailedPrecondition, format, args...)
}

func Unavailable(format string, args ...any) *Error {
	return newf(codes.Unavailable, format, args...)
}

func DeadlineExceeded(format string, args ...any) *Error {
	return newf(codes.DeadlineExceeded, format, args...)
}

func ResourceExhausted(format string, args ...any) *Error {
	return newf(codes.ResourceExhausted, format, args...)
}
