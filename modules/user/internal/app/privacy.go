package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/modules/user/internal/db"
)

// Presence is a user's presence as one viewer sees it.
type Presence struct {
	UserID uint64
	Online bool
	// LastSeenAt is when its last session ended (to a minute); nil while
	// online, never seen, or hidden from the viewer.
	LastSeenAt *time.Time
}

// GetPresence answers the presence of the live users among ids as viewerID
// sees it, in the order asked, each once; other ids are left out. A user
// who hides its presence, or with a block between it and the viewer
// either way, is never online and has no last seen; a viewer who hides
// its own sees no one's last seen. Its own presence it sees as it is.
func (s *Service) GetPresence(ctx context.Context, viewerID uint64, ids []uint64) ([]Presence, error) {
	viewerHides, err := s.q.GetHidePresence(ctx, viewerID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get privacy: %w", err)
	}
	rows, err := s.q.GetPresence(ctx, db.GetPresenceParams{ViewerID: viewerID, Ids: int64s(ids)})
	if err != nil {
		return nil, fmt.Errorf("get presence: %w", err)
	}
	byID := make(map[uint64]db.GetPresenceRow, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	out := make([]Presence, 0, len(rows))
	for _, id := range ids {
		r, ok := byID[id]
		if !ok {
			continue // unknown, or answered already
		}
		delete(byID, id)
		p := Presence{UserID: id}
		switch {
		case id == viewerID:
			p.Online = r.Online
			if !r.Online {
				p.LastSeenAt = r.LastSeenAt
			}
		case r.Blocked || r.HidePresence:
		default:
			p.Online = r.Online
			if !r.Online && !viewerHides {
				p.LastSeenAt = r.LastSeenAt
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// HidesPresence reports userID's privacy setting.
func (s *Service) HidesPresence(ctx context.Context, userID uint64) (bool, error) {
	hides, err := s.q.GetHidePresence(ctx, userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("get privacy: %w", err)
	}
	return hides, nil
}

// UpdatePrivacy sets whether userID hides its presence and returns the
// setting now. A change is told to the user's contacts: hidden, it is
// offline with no last seen to them; shown, its presence as it is.
func (s *Service) UpdatePrivacy(ctx context.Context, userID uint64, hide bool) (bool, error) {
	update := func(q *db.Queries) ([]announcement, error) {
		// Under the row lock a change of sessions takes too: the state
		// told is the one after every transition before it.
		was, err := q.LockHidePresence(ctx, userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, ErrNotFound
		}
		if err != nil || was.HidePresence == hide {
			return nil, err
		}
		if err := q.SetHidePresence(ctx, db.SetHidePresenceParams{HidePresence: hide, ID: userID}); err != nil {
			return nil, err
		}
		a := announcement{userID: userID} // hidden: offline, never seen
		if !hide {
			a.online = was.Online
			if !was.Online {
				a.lastSeen = was.LastSeenAt
			}
		}
		return []announcement{a}, nil
	}
	var err error
	if s.tracker != nil {
		err = s.tracker.change(ctx, update)
	} else { // no presence here (a tool): nobody to tell
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			_, err := update(s.q.WithTx(tx))
			return err
		})
	}
	if errors.Is(err, ErrNotFound) {
		return false, err
	}
	if err != nil {
		return false, fmt.Errorf("update privacy: %w", err)
	}
	return hide, nil
}
