// Package user is the user module: accounts, login tokens and the
// UserService. Other modules use it only through API.
package user

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/user/internal/app"
	"github.com/parley-im/parley/modules/user/internal/rpc"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/media"
)

// Config tunes the module.
type Config = app.Config

// PublicMethods are the UserService methods callable without a token.
var PublicMethods = []string{
	userpb.UserService_CreateUser_FullMethodName,
	userpb.UserService_UserLogin_FullMethodName,
	userpb.UserService_Ping_FullMethodName,
}

// Module is the built user module.
type Module struct {
	svc   *app.Service
	links *media.Links
}

var (
	_ API                = (*Module)(nil)
	_ auth.Authenticator = (*Module)(nil)
)

// New builds the module; avatars are answered with links that do not
// expire (links may be nil for a tool that answers no users).
func New(pool *pgxpool.Pool, links *media.Links, cfg Config) *Module {
	return &Module{svc: app.New(pool, cfg), links: links}
}

// Register adds the UserService to s.
func (m *Module) Register(s grpc.ServiceRegistrar) {
	userpb.RegisterUserServiceServer(s, rpc.NewServer(m.svc, m.links))
}

// Authenticate resolves a bearer token; the gRPC server's auth interceptor uses it.
func (m *Module) Authenticate(ctx context.Context, token string) (auth.Identity, error) {
	return m.svc.Authenticate(ctx, token)
}

// ForgetTokens drops the user's cached tokens on this node; for
// revocations announced by another node.
func (m *Module) ForgetTokens(userID uint64) { m.svc.ForgetTokens(userID) }

// GetUser returns a live user or ErrNotFound (API).
func (m *Module) GetUser(ctx context.Context, id uint64) (*userpb.User, error) {
	u, err := m.svc.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	return rpc.ToProto(u, m.links), nil
}

// GetUsers returns the live users among ids (API).
func (m *Module) GetUsers(ctx context.Context, ids []uint64) ([]*userpb.User, error) {
	users, err := m.svc.GetUsers(ctx, ids)
	if err != nil {
		return nil, err
	}
	return rpc.ToProtos(users, m.links), nil
}

// IsBlocked reports whether blockerID has blocked blockedID (API).
func (m *Module) IsBlocked(ctx context.Context, blockerID, blockedID uint64) (bool, error) {
	return m.svc.IsBlocked(ctx, blockerID, blockedID)
}

// BlockersAmong returns those of candidates who have blocked blockedID (API).
func (m *Module) BlockersAmong(ctx context.Context, blockedID uint64, candidates []uint64) ([]uint64, error) {
	return m.svc.BlockersAmong(ctx, blockedID, candidates)
}

// FollowingIDs returns the ids of the live users userID follows (API).
func (m *Module) FollowingIDs(ctx context.Context, userID uint64) ([]uint64, error) {
	return m.svc.FollowingIDs(ctx, userID)
}

// Suspend ends userID's sessions and keeps it from logging in: a report
// resolved by banning the user.
func (m *Module) Suspend(ctx context.Context, userID uint64) error {
	return m.svc.Suspend(ctx, userID)
}

// SetAdmin gives (admin true) or takes the admin role; for `parley admin`.
func (m *Module) SetAdmin(ctx context.Context, nickname string, admin bool) error {
	return m.svc.SetAdmin(ctx, nickname, admin)
}

// PresenceConfig is what presence needs: this node's id, the bus its
// pushes go out on, the message module's 1:1 peers (Peers), and its
// timings (production's when 0: a 10 s grace, a beat every 5 s).
type PresenceConfig = app.PresenceConfig

// Peers is what presence needs of the message module: the users one
// shares a 1:1 conversation with, most recently active first.
type Peers = app.Peers

// PresenceTracker keeps this node's presence sessions (docs/presence.md):
// the gateway's hub calls its UserOnline when a user gets a first
// endpoint on the node or loses the last; its Run writes them, beats,
// sweeps dead nodes and, when its context ends, ends this node's sessions.
type PresenceTracker = app.Tracker

// CmdPresence is the gateway frame cmd of a presence push to a user's
// contacts; its data is a serialized user.Presence.
const CmdPresence = app.CmdPresence

// NewPresence builds the node's presence tracker; from then on the
// module's privacy changes are pushed to contacts too. Call it once,
// before serving.
func (m *Module) NewPresence(cfg PresenceConfig) *PresenceTracker {
	return m.svc.NewTracker(cfg)
}

// DefaultPasswordParams is the argon2id cost used when Config leaves it nil.
var DefaultPasswordParams = app.DefaultPasswordParams
