// Package common is the common module. Until it is built, its CommonService
// answers Ping and returns Unimplemented for every other method.
package common

import (
	"context"

	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/platform/pong"
)

// PublicMethods are the CommonService methods callable without a token.
var PublicMethods = []string{commonpb.CommonService_Ping_FullMethodName}

// Module is the built common module.
type Module struct{}

func New() *Module { return &Module{} }

// Register adds the CommonService to s.
func (m *Module) Register(s grpc.ServiceRegistrar) {
	commonpb.RegisterCommonServiceServer(s, server{})
}

type server struct {
	commonpb.UnimplementedCommonServiceServer
}

func (server) Ping(ctx context.Context, req *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return pong.Ping(ctx, req)
}
