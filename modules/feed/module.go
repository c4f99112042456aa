// Package feed is the feed module: posts with media, moderation, likes,
// views, comments and timelines, and the FeedService.
package feed

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/modules/feed/internal/app"
	"github.com/parley-im/parley/modules/feed/internal/rpc"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/media"
)

// Config tunes the module.
type Config = app.Config

// Users is what the module needs of the user module.
type Users = app.Users

// Moderation modes for Config.Moderation.
const (
	ModerationOff = app.ModerationOff
	ModerationPre = app.ModerationPre
)

// PublicMethods are the FeedService methods callable without a token.
var PublicMethods = []string{feedpb.FeedService_Ping_FullMethodName}

// Module is the built feed module.
type Module struct {
	svc *app.Service
}

// New builds the module; it fails on an unknown moderation mode. Feeds'
// media is answered with links that do not expire.
func New(pool *pgxpool.Pool, users Users, links *media.Links, cfg Config, log zerolog.Logger) (*Module, error) {
	svc, err := app.New(pool, users, links, cfg, log)
	if err != nil {
		return nil, err
	}
	return &Module{svc: svc}, nil
}

// Register adds the FeedService to s.
func (m *Module) Register(s grpc.ServiceRegistrar) {
	feedpb.RegisterFeedServiceServer(s, rpc.NewServer(m.svc))
}

// FeedAuthor is the author of a feed viewer may see, or NotFound.
func (m *Module) FeedAuthor(ctx context.Context, viewer auth.Identity, id uint64) (uint64, error) {
	return m.svc.FeedAuthor(ctx, viewer, id)
}

// CommentAuthor is the author of a comment viewer may see, or NotFound.
func (m *Module) CommentAuthor(ctx context.Context, viewer auth.Identity, id uint64) (uint64, error) {
	return m.svc.CommentAuthor(ctx, viewer, id)
}

// DeleteFeed deletes a feed as caller (its owner or an admin).
func (m *Module) DeleteFeed(ctx context.Context, caller auth.Identity, id uint64) error {
	return m.svc.Delete(ctx, caller, id)
}

// DeleteComment deletes a comment as caller (its author, the feed's owner
// or an admin).
func (m *Module) DeleteComment(ctx context.Context, caller auth.Identity, id uint64) error {
	return m.svc.DeleteComment(ctx, caller, id)
}

// Run does the module's background work (writing view counts) until ctx
// ends, then finishes it. Start it before serving; stop it after.
func (m *Module) Run(ctx context.Context) {
	m.svc.Run(ctx)
}
