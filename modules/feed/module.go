// Package feed is the feed module. Until it is built, its FeedService
// answers Ping and returns Unimplemented for every other method.
package feed

import (
	"context"

	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/platform/pong"
)

// PublicMethods are the FeedService methods callable without a token.
var PublicMethods = []string{feedpb.FeedService_Ping_FullMethodName}

// Module is the built feed module.
type Module struct{}

func New() *Module { return &Module{} }

// Register adds the FeedService to s.
func (m *Module) Register(s grpc.ServiceRegistrar) {
	feedpb.RegisterFeedServiceServer(s, server{})
}

type server struct {
	feedpb.UnimplementedFeedServiceServer
}

func (server) Ping(ctx context.Context, req *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return pong.Ping(ctx, req)
}
