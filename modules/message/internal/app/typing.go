package app

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/platform/bus"
)

// CmdTyping is the gateway frame cmd of a typing notice: a messagepb.Typing.
const CmdTyping = "typing"

// typingRate is how many typing notices a second each user may send to
// each conversation (a start and a stop each); more are dropped.
const typingRate = 1

type typingKey struct {
	userID         uint64
	conversationID string
	stopped        bool
}

// SendTyping tells the conversation's other participants' online devices
// that userID is typing, or stopped: a push, never stored. Notices beyond
// typingRate are dropped, and groups above TypingGroupCap members get none
// (a notice to thousands of devices per keystroke burst costs more than it
// tells); both answer nil, since a keyboard is bursty and the caller did
// nothing wrong. What would refuse a send refuses it too: a peer who
// blocks userID (ErrBlocked), a group mute.
func (s *Service) SendTyping(ctx context.Context, userID uint64, conversationID string, stopped bool) error {
	conv, err := s.participate(ctx, userID, conversationID)
	if err != nil {
		return err
	}
	if conv.groupID != 0 {
		if err := s.groups.MaySend(ctx, conv.groupID, userID); err != nil {
			return err
		}
	}
	var to []uint64
	if conv.groupID == 0 {
		peer := conv.userA
		if peer == userID {
			peer = conv.userB
		}
		blocked, err := s.users.IsBlocked(ctx, peer, userID)
		if err != nil {
			return err
		}
		if blocked {
			return ErrBlocked
		}
		to = []uint64{peer}
	}
	if !s.typing.Allow(typingKey{userID, conv.ID(), stopped}) {
		return nil
	}
	if conv.groupID != 0 {
		members, err := s.groups.MemberIDsAfter(ctx, conv.groupID, 0, s.cfg.TypingGroupCap+1)
		if err != nil {
			return err
		}
		if len(members) > s.cfg.TypingGroupCap {
			return nil
		}
		for _, u := range members {
			if u != userID {
				to = append(to, u)
			}
		}
	}
	data, err := proto.Marshal(&messagepb.Typing{ConversationId: conv.ID(), UserId: userID, Stopped: stopped})
	if err != nil {
		return fmt.Errorf("typing frame: %w", err)
	}
	// A lost notice is replaced by the next; it is not the caller's error.
	_ = s.bus.Publish(ctx, bus.Delivery{UserIDs: to, Cmd: CmdTyping, Data: data})
	return nil
}
