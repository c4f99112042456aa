package app

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/parley-im/parley/platform/apperr"
)

// conversation names a 1:1 pair (userA < userB) or a group.
type conversation struct {
	userA, userB uint64
	groupID      uint64
}

func pairConversation(x, y uint64) conversation {
	return conversation{userA: min(x, y), userB: max(x, y)}
}

func groupConversation(groupID uint64) conversation {
	return conversation{groupID: groupID}
}

// ID is the conversation's wire id: "u:<a>:<b>" or "g:<group id>".
func (c conversation) ID() string {
	if c.groupID != 0 {
		return fmt.Sprintf("g:%d", c.groupID)
	}
	return fmt.Sprintf("u:%d:%d", c.userA, c.userB)
}

var errBadConversationID = apperr.InvalidArgument(`conversation_id: not a conversation id (want "u:<user id>:<user id>" or "g:<group id>")`)

// parseConversation reads a wire conversation id.
func parseConversation(id string) (conversation, error) {
	kind, rest, ok := strings.Cut(id, ":")
	switch {
	case !ok:
		return conversation{}, errBadConversationID
	case kind == "g":
		g, err := strconv.ParseUint(rest, 10, 64)
		if err != nil || g == 0 {
			return conversation{}, errBadConversationID
		}
		return groupConversation(g), nil
	case kind == "u":
		as, bs, ok := strings.Cut(rest, ":")
		a, errA := strconv.ParseUint(as, 10, 64)
		b, errB := strconv.ParseUint(bs, 10, 64)
		if !ok || errA != nil || errB != nil || a == 0 || a >= b {
			return conversation{}, errBadConversationID
		}
		return conversation{userA: a, userB: b}, nil
	}
	return conversation{}, errBadConversationID
}
