// Package gateway is the gateway module. Until it is built, its GatewayService
// answers Ping and returns Unimplemented for every other method.
package gateway

import (
	"context"

	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/platform/pong"
)

// PublicMethods are the GatewayService methods callable without a token.
var PublicMethods = []string{gatewaypb.GatewayService_Ping_FullMethodName}

// Module is the built gateway module.
type Module struct{}

func New() *Module { return &Module{} }

// Register adds the GatewayService to s.
func (m *Module) Register(s grpc.ServiceRegistrar) {
	gatewaypb.RegisterGatewayServiceServer(s, server{})
}

type server struct {
	gatewaypb.UnimplementedGatewayServiceServer
}

func (server) Ping(ctx context.Context, req *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return pong.Ping(ctx, req)
}
