package app

import (
	"context"
	"fmt"

	"github.com/parley-im/parley/modules/message/internal/db"
)

// ConversationPeers lists up to limit users userID shares a 1:1
// conversation with, most recently active first.
func (s *Service) ConversationPeers(ctx context.Context, userID uint64, limit int) ([]uint64, error) {
	rows, err := s.q.ConversationPeers(ctx, db.ConversationPeersParams{UserID: userID, RowLimit: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("conversation peers of %d: %w", userID, err)
	}
	peers := make([]uint64, len(rows))
	for i, p := range rows {
		peers[i] = uint64(p)
	}
	return peers, nil
}
