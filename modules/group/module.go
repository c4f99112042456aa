// Package group is the group module: groups, their owners and members, and
// the GroupService. Other modules use it only through API.
package group

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/modules/group/internal/app"
	"github.com/parley-im/parley/modules/group/internal/rpc"
	"github.com/parley-im/parley/platform/media"
)

// Config tunes the module.
type Config = app.Config

// Users is what the module needs of the user module.
type Users = app.Users

// DefaultMemberCap is the member cap when Config leaves it zero.
const DefaultMemberCap = app.DefaultMemberCap

// PublicMethods are the GroupService methods callable without a token.
var PublicMethods = []string{grouppb.GroupService_Ping_FullMethodName}

// Module is the built group module.
type Module struct {
	svc   *app.Service
	links *media.Links
}

var _ API = (*Module)(nil)

// New builds the module; group avatars are answered with links that do
// not expire.
func New(pool *pgxpool.Pool, users Users, links *media.Links, cfg Config) *Module {
	return &Module{svc: app.New(pool, users, cfg), links: links}
}

// Register adds the GroupService to s.
func (m *Module) Register(s grpc.ServiceRegistrar) {
	grouppb.RegisterGroupServiceServer(s, rpc.NewServer(m.svc, m.links))
}

// IsMember reports whether userID is a member of groupID (API).
func (m *Module) IsMember(ctx context.Context, groupID, userID uint64) (bool, error) {
	return m.svc.IsMember(ctx, groupID, userID)
}

// MemberIDsAfter pages a group's member ids in id order (API).
func (m *Module) MemberIDsAfter(ctx context.Context, groupID, afterUserID uint64, limit int) ([]uint64, error) {
	return m.svc.MemberIDsAfter(ctx, groupID, afterUserID, limit)
}

// MemberCount is how many members the live group groupID has, or
// ErrNotFound (API).
func (m *Module) MemberCount(ctx context.Context, groupID uint64) (int, error) {
	g, err := m.svc.GetGroup(ctx, groupID)
	return int(g.MemberCount), err
}

// MaySend says whether userID may send to groupID now, and if not why (API).
func (m *Module) MaySend(ctx context.Context, groupID, userID uint64) error {
	return m.svc.MaySend(ctx, groupID, userID)
}

// IsStaff reports whether userID is groupID's owner or an admin (API).
func (m *Module) IsStaff(ctx context.Context, groupID, userID uint64) (bool, error) {
	st, err := m.svc.Standing(ctx, groupID, userID)
	return st.Member && st.Role != grouppb.GroupRole_GROUP_ROLE_MEMBER, err
}

// HistoryFrom is where userID's history of groupID starts, if a member (API).
func (m *Module) HistoryFrom(ctx context.Context, groupID, userID uint64) (time.Time, bool, error) {
	st, err := m.svc.Standing(ctx, groupID, userID)
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, false, nil
	}
	return st.HistoryFrom, st.Member, err
}

// OwnerID is the live group's owner, or ErrNotFound.
func (m *Module) OwnerID(ctx context.Context, groupID uint64) (uint64, error) {
	g, err := m.svc.GetGroup(ctx, groupID)
	return g.OwnerID, err
}

// BanByModerator bans userID from groupID as moderatorID resolves a report
// of its message: the group's owner or an admin outranking userID, or a
// Parley admin (parleyAdmin), who may ban anyone but the owner.
func (m *Module) BanByModerator(ctx context.Context, moderatorID, groupID, userID uint64, reason string, parleyAdmin bool) error {
	return m.svc.BanMember(ctx, moderatorID, groupID, userID, reason, parleyAdmin)
}

// DeleteByAdmin deletes groupID as a Parley admin resolving a report.
func (m *Module) DeleteByAdmin(ctx context.Context, adminID, groupID uint64) error {
	return m.svc.DeleteGroup(ctx, adminID, groupID, true)
}

// SetEvents sets where group events are stored (the message module); the
// app calls it before serving.
func (m *Module) SetEvents(events Events) { m.svc.SetEvents(events) }

// RelayEvents stores the events a change left unstored (a failure, a
// crash) until ctx ends: the module's background work.
func (m *Module) RelayEvents(ctx context.Context) { m.svc.RelayEvents(ctx) }

// JoinedSince lists the members who joined groupID at or after since,
// with when (API).
func (m *Module) JoinedSince(ctx context.Context, groupID uint64, since time.Time, limit int) ([]uint64, []time.Time, error) {
	return m.svc.JoinedSince(ctx, groupID, since, limit)
}

// GroupsOf lists userID's groups and where its history starts in each (API).
func (m *Module) GroupsOf(ctx context.Context, userID uint64) ([]*grouppb.Group, []time.Time, error) {
	rows, err := m.svc.GroupsOf(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	groups, joined := make([]*grouppb.Group, len(rows)), make([]time.Time, len(rows))
	for i, r := range rows {
		groups[i], joined[i] = rpc.ToProto(r.Group, m.links), r.HistoryFrom
	}
	return groups, joined, nil
}
