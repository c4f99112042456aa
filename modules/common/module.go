// Package common is the common module: streamed uploads (images, and
// files of any content for pages) to object storage, durable email through
// a River job queue, and the CommonService.
package common

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/modules/common/internal/app"
	"github.com/parley-im/parley/modules/common/internal/db"
	"github.com/parley-im/parley/modules/common/internal/rpc"
	"github.com/parley-im/parley/platform/media"
	"github.com/parley-im/parley/platform/storage"
)

type (
	// Config tunes the module.
	Config = app.Config
	// SMTP is where emails are sent (an empty host writes them to the log).
	SMTP = app.SMTP
	// Content is the modules reports reach: to check a reporter sees what
	// it reports, and to act on a resolution.
	Content = app.Content
)

// PublicMethods are the CommonService methods callable without a token.
var PublicMethods = []string{commonpb.CommonService_Ping_FullMethodName}

// Module is the built common module.
type Module struct {
	svc     *app.Service
	reports *app.Reports
	log     zerolog.Logger
}

// New builds the module over store; uploads are answered with links.
// Reports reach content through content.
func New(pool *pgxpool.Pool, store storage.Storage, links *media.Links, content Content, cfg Config, log zerolog.Logger) (*Module, error) {
	svc, err := app.New(pool, store, links, cfg, log)
	if err != nil {
		return nil, err
	}
	return &Module{svc: svc, reports: app.NewReports(pool, content), log: log}, nil
}

// MediaLinkSecret is the secret media links are signed with: made by the
// first node that asks, the same on every node of the database.
func MediaLinkSecret(ctx context.Context, pool *pgxpool.Pool) ([]byte, error) {
	return app.Secret(ctx, db.New(pool), "media-links")
}

// Register adds the CommonService to s.
func (m *Module) Register(s grpc.ServiceRegistrar) {
	commonpb.RegisterCommonServiceServer(s, rpc.NewServer(m.svc, m.reports))
}

// Run sends accepted emails until ctx ends.
func (m *Module) Run(ctx context.Context) {
	if err := m.svc.Run(ctx); err != nil {
		m.log.Error().Err(err).Msg("email queue")
	}
}
