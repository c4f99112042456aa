// Package message is the message module: stored messages with gap-free
// per-conversation sequence numbers, conversations and read state, and the
// MessageService. Stored messages are published on the bus for the gateway
// to push.
package message

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/modules/message/internal/app"
	"github.com/parley-im/parley/modules/message/internal/rpc"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/bus"
	"github.com/parley-im/parley/platform/media"
)

// Config tunes the module.
type Config = app.Config

type (
	// Users is what the module needs of the user module.
	Users = app.Users
	// Groups is what the module needs of the group module.
	Groups = app.Groups
)

// CmdMessage is the gateway frame cmd of a pushed message; its data is a
// serialized message.Message.
const CmdMessage = app.CmdMessage

// CmdChange is the gateway frame cmd of a pushed change to a message (an
// edit); its data is a messagepb.MessageChange.
const CmdChange = app.CmdChange

// CmdTyping and CmdReceipt are the gateway frame cmds of a typing notice
// (a messagepb.Typing) and of moved delivery and read marks (a
// messagepb.Receipt).
const (
	CmdTyping  = app.CmdTyping
	CmdReceipt = app.CmdReceipt
)

// IdempotencyKeyHeader is the metadata that makes a send idempotent.
const IdempotencyKeyHeader = rpc.IdempotencyKeyHeader

// PublicMethods are the MessageService methods callable without a token.
var PublicMethods = []string{messagepb.MessageService_Ping_FullMethodName}

// Module is the built message module.
type Module struct {
	svc *app.Service
}

// New builds the module; messages' media is answered with private links.
func New(pool *pgxpool.Pool, users Users, groups Groups, b bus.Bus, links *media.Links, cfg Config, log zerolog.Logger) *Module {
	return &Module{svc: app.New(pool, users, groups, b, links, cfg, log)}
}

// Run does the module's background work (deleting idempotency keys older
// than a day, hourly) until ctx ends.
func (m *Module) Run(ctx context.Context) {
	m.svc.Run(ctx)
}

// ReportedMessage is the sender and group (0 for a 1:1 message) of a
// message viewerID may see and report, or NotFound.
func (m *Module) ReportedMessage(ctx context.Context, viewerID, id uint64) (senderID, groupID uint64, err error) {
	return m.svc.ReportedMessage(ctx, viewerID, id)
}

// RecallAsModerator recalls message id as moderator resolving a report: a
// Parley admin, or an owner or admin of the message's group.
func (m *Module) RecallAsModerator(ctx context.Context, moderator auth.Identity, id uint64) error {
	return m.svc.Recall(ctx, moderator, id, "")
}

// StoreGroupEvent stores a group's event in its conversation and pushes
// it, once per key: the group module's events relay.
func (m *Module) StoreGroupEvent(ctx context.Context, groupID uint64, ev *grouppb.GroupEvent, alsoTo uint64, key string) error {
	return m.svc.StoreGroupEvent(ctx, groupID, ev, alsoTo, key)
}

// ConversationPeersOf lists, for each of userIDs, up to limit users it
// shares a 1:1 conversation with, most recently active first: their
// contacts for presence.
func (m *Module) ConversationPeersOf(ctx context.Context, userIDs []uint64, limit int) (map[uint64][]uint64, error) {
	return m.svc.ConversationPeersOf(ctx, userIDs, limit)
}

// Register adds the MessageService to s.
func (m *Module) Register(s grpc.ServiceRegistrar) {
	messagepb.RegisterMessageServiceServer(s, rpc.NewServer(m.svc))
}
