// Package group is the group module. Until it is built, its GroupService
// answers Ping and returns Unimplemented for every other method.
package group

import (
	"context"

	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/platform/pong"
)

// PublicMethods are the GroupService methods callable without a token.
var PublicMethods = []string{grouppb.GroupService_Ping_FullMethodName}

// Module is the built group module.
type Module struct{}

func New() *Module { return &Module{} }

// Register adds the GroupService to s.
func (m *Module) Register(s grpc.ServiceRegistrar) {
	grouppb.RegisterGroupServiceServer(s, server{})
}

type server struct {
	grouppb.UnimplementedGroupServiceServer
}

func (server) Ping(ctx context.Context, req *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return pong.Ping(ctx, req)
}
