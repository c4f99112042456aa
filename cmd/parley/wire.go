package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	"github.com/parley-im/parley/platform/bus"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/grpcserver"
)

// module is what every module offers the server.
type module interface {
	Register(s grpc.ServiceRegistrar)
}

// parley is the wired application: the server and the modules' background
// work, which runs from before serving until after the last call ends.
type parley struct {
	server     *grpcserver.Server
	background []func(ctx context.Context)
	// closeStreams ends the long-lived gateway streams at shutdown.
	closeStreams func()
}

// build wires the modules onto one gRPC server: platform first, then each
// module from the modules it depends on.
func build(cfg config.Config, pool *pgxpool.Pool, log zerolog.Logger, reg prometheus.Registerer) (*parley, error) {
	users := user.New(pool, user.Config{
		TokenTTL:         cfg.TokenTTL,
		LoginMaxFailures: 10,
		LoginWindow:      time.Minute,
	})
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
		GatewaySecret:   cfg.GatewaySecret,
	})

	groups := group.New(pool, users, group.Config{MemberCap: cfg.GroupMemberCap})
	feeds, err := feed.New(pool, users, feed.Config{Moderation: cfg.FeedModeration}, log)
	if err != nil {
		return nil, err
	}
	deliveries := bus.NewLocal()
	if cfg.NodeID == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		cfg.NodeID = "parley-" + hex.EncodeToString(b)
	}
	messages := message.New(pool, users, groups, deliveries, message.Config{SendRate: cfg.SendRate, SendBurst: cfg.SendBurst}, log)
	// The gateway dispatches its clients' requests through the server itself.
	gateways := gateway.New(srv, users, deliveries, gateway.Config{NodeID: cfg.NodeID, QueueSize: cfg.GatewayQueue})

	for _, m := range []module{users, groups, feeds, messages, gateways, common.New()} {
		m.Register(srv)
	}
	srv.Ready()
	return &parley{
		server:       srv,
		background:   []func(context.Context){feeds.Run, messages.Run},
		closeStreams: gateways.CloseStreams,
	}, nil
}
