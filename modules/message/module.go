// Package message is the message module. Until it is built, its MessageService
// answers Ping and returns Unimplemented for every other method.
package message

import (
	"context"

	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/platform/pong"
)

// PublicMethods are the MessageService methods callable without a token.
var PublicMethods = []string{messagepb.MessageService_Ping_FullMethodName}

// Module is the built message module.
type Module struct{}

func New() *Module { return &Module{} }

// Register adds the MessageService to s.
func (m *Module) Register(s grpc.ServiceRegistrar) {
	messagepb.RegisterMessageServiceServer(s, server{})
}

type server struct {
	messagepb.UnimplementedMessageServiceServer
}

func (server) Ping(ctx context.Context, req *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return pong.Ping(ctx, req)
}
