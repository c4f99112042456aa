package grpcserver

import (
	"context"
	"errors"

	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/database"
)

// Status is the one mapping of an error to what a client is told, on every
// path (the interceptor chain, gateway and WebSocket frames, HTTP
// handlers): an apperr as it is, a status made by gRPC or a library as it
// is, a cancelled or expired context as such, an unreachable database as
// Unavailable (logged as a warning), and anything else as Internal, logged
// with the call's fields, its details never shown. Nil for a nil err.
func Status(ctx context.Context, log zerolog.Logger, err error) *status.Status {
	if err == nil {
		return nil
	}
	var appErr *apperr.Error
	switch {
	case errors.As(err, &appErr):
		return status.New(appErr.Code, appErr.Message)
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, "deadline exceeded")
	}
	// A wrapped status is not taken as is: its wrapping text would reach
	// the client too.
	if withStatus, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		return withStatus.GRPCStatus()
	}
	if database.IsUnavailable(err) {
		log.Warn().Fields(contextFields(ctx)).Err(err).Msg("a backing service (the database, object storage) is unavailable")
		return status.New(codes.Unavailable, "service temporarily unavailable, retry later")
	}
	log.Error().Fields(contextFields(ctx)).Err(err).Msg("internal error")
	return status.New(codes.Internal, "internal error")
}
