// Package pong answers every service's Ping the same way.
package pong

import (
	"context"

	"github.com/parley-im/parley/api/gen/commonpb"
)

// Ping is the shared implementation of every service's Ping method.
func Ping(context.Context, *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return &commonpb.PingResponse{Content: "pong"}, nil
}
