package main

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"

	"github.com/parley-im/parley/modules/common"
	"github.com/parley-im/parley/modules/feed"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/modules/group"
	"github.com/parley-im/parley/modules/message"
	"github.com/parley-im/parley/modules/user"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/grpcserver"
)

// module is what every module offers the server.
type module interface {
	Register(s grpc.ServiceRegistrar)
}

// buildServer wires the modules onto one gRPC server: platform first, then
// each module from the modules it depends on.
func buildServer(cfg config.Config, pool *pgxpool.Pool, log zerolog.Logger, reg prometheus.Registerer) *grpcserver.Server {
	users := user.New(pool, user.Config{
		TokenTTL:         cfg.TokenTTL,
		LoginMaxFailures: 10,
		LoginWindow:      time.Minute,
	})
	groups := group.New(pool, users, group.Config{MemberCap: cfg.GroupMemberCap})
	modules := []module{users, groups, feed.New(), message.New(), gateway.New(), common.New()}

	var public []string
	for _, methods := range [][]string{
		user.PublicMethods, group.PublicMethods, feed.PublicMethods,
		message.PublicMethods, gateway.PublicMethods, common.PublicMethods,
	} {
		public = append(public, methods...)
	}
	srv := grpcserver.New(grpcserver.Options{
		Logger:          log,
		Authenticator:   users,
		PublicMethods:   public,
		Registerer:      reg,
		MaxRecvMsgBytes: cfg.MaxRecvMsgBytes,
	})
	for _, m := range modules {
		m.Register(srv)
	}
	srv.Ready()
	return srv
}
