package grpcserver

import (
	"context"

	"github.com/parley-im/parley/api/gen/commonpb"
)

// Ping is every service's Ping method: it answers "pong".
func Ping(context.Context, *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return &commonpb.PingResponse{Content: "pong"}, nil
}
