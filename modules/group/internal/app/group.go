package app

import (
	"time"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/modules/group/internal/db"
)

// Group is a group as the module answers it.
type Group struct {
	ID           uint64
	Name         string
	Introduction string
	// AvatarURL is as stored: a media reference or an outside URL.
	AvatarURL            string
	Extra                string
	OwnerID              uint64
	MemberCount          int32
	JoinPolicy           grouppb.JoinPolicy
	MuteAll              bool
	HistoryVisible       bool
	CreatedAt, UpdatedAt time.Time
	DeletedAt            *time.Time
}

// Membership is a group a user is in, and where its history starts there.
type Membership struct {
	Group       Group
	HistoryFrom time.Time
}

// groupOf is a stored group as the module answers it.
func groupOf(g db.GroupsGroup) Group {
	return Group{
		ID: g.ID, Name: g.Name, Introduction: g.Introduction, AvatarURL: g.AvatarUrl, Extra: g.Extra,
		OwnerID: g.OwnerID, MemberCount: g.MemberCount,
		JoinPolicy: grouppb.JoinPolicy(g.JoinPolicy), MuteAll: g.MuteAll, HistoryVisible: g.HistoryVisible,
		CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt, DeletedAt: g.DeletedAt,
	}
}
