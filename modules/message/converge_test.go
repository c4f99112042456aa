package message_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/platform/config"
)

// device is one user's device's copy of a conversation, applied from
// pushes or syncs in seq order: messages by id, the emoji the user holds
// on each, and the cursor.
type device struct {
	user   uint64
	byID   map[uint64]*messagepb.Message
	mine   map[uint64]map[string]bool
	cursor uint64
}

func newDevice(user uint64) *device {
	return &device{user: user, byID: map[uint64]*messagepb.Message{}, mine: map[uint64]map[string]bool{}}
}

// take holds m as the server says the device's user sees it.
func (d *device) take(m *messagepb.Message) {
	d.byID[m.GetId()] = proto.CloneOf(m)
	mine := map[string]bool{}
	for _, r := range m.GetReactions() {
		mine[r.GetEmoji()] = r.GetMine()
	}
	d.mine[m.GetId()] = mine
}

// applySynced applies a change from SyncMessages: mine is the caller's.
func (d *device) applySynced(c *messagepb.MessageChange) {
	if c.GetKind() == messagepb.ChangeKind_CHANGE_KIND_DELETED_FOR_ME {
		delete(d.byID, c.GetMessage().GetId())
		return
	}
	d.take(c.GetMessage())
}

// applyPushed applies a pushed change as the proto's comments tell a
// client to: mine is the actor's, so another user's device keeps its own.
func (d *device) applyPushed(c *messagepb.MessageChange) {
	if c.GetKind() == messagepb.ChangeKind_CHANGE_KIND_DELETED_FOR_ME || c.GetActorId() == d.user {
		d.applySynced(c)
		return
	}
	m := c.GetMessage()
	kept := d.mine[m.GetId()]
	d.take(m)
	for emoji := range d.mine[m.GetId()] {
		d.mine[m.GetId()][emoji] = kept[emoji]
	}
}

// states is what the device shows, by message id: a group event as its
// line, a message as its text, edits, recall and reactions.
func (d *device) states() map[uint64]string {
	out := make(map[uint64]string, len(d.byID))
	for id, m := range d.byID {
		if isGroupEvent(m) {
			out[id] = fmt.Sprintf("event at %d: %s", m.GetSeq(), describe(m))
			continue
		}
		var chips []string
		for _, r := range m.GetReactions() {
			chips = append(chips, fmt.Sprintf("%s×%d%v mine=%v", r.GetEmoji(), r.GetCount(), r.GetRecentUserId(), d.mine[id][r.GetEmoji()]))
		}
		out[id] = fmt.Sprintf("%q (edited %d, recalled %v by %d) [%s]", m.GetText().GetContent(), m.GetEditCount(),
			m.GetRecalled(), m.GetRecalledBy(), strings.Join(chips, " "))
	}
	return out
}

// syncFrom brings d up to date from its cursor, page by page, as a device
// coming back online would: entries in seq order, each once.
func (d *device) syncFrom(t *testing.T, e *env, p person, convID string) {
	t.Helper()
	for {
		page := e.sync(t, p, convID, d.cursor, 7) // small pages: many page boundaries
		msgs, changes := page.GetMessage(), page.GetChanges()
		last := d.cursor
		for len(msgs) > 0 || len(changes) > 0 {
			if len(changes) == 0 || (len(msgs) > 0 && msgs[0].GetSeq() < changes[0].GetSeq()) {
				require.Greater(t, msgs[0].GetSeq(), last, "message %d out of order", msgs[0].GetSeq())
				last = msgs[0].GetSeq()
				d.take(msgs[0])
				msgs = msgs[1:]
			} else {
				require.Greater(t, changes[0].GetSeq(), last, "change %d out of order", changes[0].GetSeq())
				last = changes[0].GetSeq()
				d.applySynced(changes[0])
				changes = changes[1:]
			}
		}
		require.GreaterOrEqual(t, page.GetCursor(), last, "the cursor covers the page")
		d.cursor = page.GetCursor()
		if !page.GetHasMore() {
			return
		}
	}
}

// Every device of a user converges: with several users sending, editing,
// recalling, reacting and deleting for themselves at once (seeded, so a
// failing interleaving reproduces), the pushes a device received live, a
// device that was offline and syncs from where it stopped, and a fresh
// device syncing from the start all hold what the database holds.
func TestChangesConvergeOnEveryDevice(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{18, 1818, 181818} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			users := e.newUsers(t, 3)
			g := e.groupOf(t, users[0], users[1], users[2])
			conv := groupConvID(g.GetId())
			watcher := users[2]
			// The watcher joined last: its first seq is its JOINED event.
			first := e.lastSeq(t, conv)
			joinedAt := e.syncAll(t, watcher, conv)
			require.Len(t, joinedAt, 1)
			requireEvent(t, joined(watcher.id, watcher.id), joinedAt[0])

			var (
				mu  sync.Mutex
				all []uint64 // every message sent so far
			)
			pick := func(rng *rand.Rand) (uint64, bool) {
				mu.Lock()
				defer mu.Unlock()
				if len(all) == 0 {
					return 0, false
				}
				return all[rng.IntN(len(all))], true
			}
			expect := func(err error, op string, allowed ...codes.Code) {
				if err != nil && !slices.Contains(allowed, status.Code(err)) {
					t.Errorf("%s: %v", op, err)
				}
			}
			offline := newDevice(watcher.id)
			var wg sync.WaitGroup
			for i, u := range users {
				rng := rand.New(rand.NewPCG(seed, uint64(i)))
				wg.Go(func() {
					var mine []uint64
					for n := range 30 {
						id, any := pick(rng)
						switch op := rng.IntN(10); {
						case op < 3 || !any:
							sent, err := e.send(u.ctx, toGroup(g.GetId()), text(fmt.Sprintf("u%d says %d", i, n)))
							expect(err, "send")
							mu.Lock()
							all = append(all, sent)
							mu.Unlock()
							mine = append(mine, sent)
						case op < 5 && len(mine) > 0:
							_, err := e.edit(u.ctx, mine[rng.IntN(len(mine))], fmt.Sprintf("u%d edit %d", i, n))
							expect(err, "edit", codes.FailedPrecondition, codes.NotFound) // recalled, or deleted for itself
						case op < 6 && len(mine) > 0:
							expect(e.recall(u.ctx, mine[rng.IntN(len(mine))]), "recall", codes.NotFound)
						case op < 9:
							emoji := []string{"👍", "❤️", "😂"}[rng.IntN(3)]
							var err error
							if rng.IntN(3) == 0 {
								_, err = e.unreact(u.ctx, id, emoji)
							} else {
								_, err = e.react(u.ctx, id, emoji)
							}
							expect(err, "react", codes.FailedPrecondition, codes.NotFound)
						default:
							expect(e.deleteForMe(u.ctx, id), "delete for me")
						}
					}
				})
			}
			// The offline device saw the start, then went away.
			offline.syncFrom(t, e, watcher, conv)
			wg.Wait()
			offline.syncFrom(t, e, watcher, conv)

			// The online device applies what was pushed to it, in seq order
			// (the gateway's order): an entry, or a skip, for every seq.
			type entry struct {
				msg    *messagepb.Message
				change *messagepb.MessageChange
				skip   bool
			}
			pushed := map[uint64]entry{}
			for _, d := range e.rec.ofConversation(t, conv) {
				if slices.Contains(d.userIDs, watcher.id) {
					require.GreaterOrEqual(t, d.msg.GetSeq(), first, "pushed a message from before the join")
					pushed[d.msg.GetSeq()] = entry{msg: d.msg}
				}
			}
			for _, c := range e.rec.changes(t) {
				if slices.Contains(c.userIDs, watcher.id) {
					require.NotContains(t, pushed, c.change.GetSeq())
					pushed[c.change.GetSeq()] = entry{change: c.change}
				}
			}
			for _, s := range e.rec.skips() {
				if slices.Contains(s.UserIDs, watcher.id) {
					require.NotContains(t, pushed, s.Seq, "a seq both pushed and skipped")
					pushed[s.Seq] = entry{skip: true}
				}
			}
			last := e.lastSeq(t, conv)
			require.Len(t, pushed, int(last-first+1), "a push or a skip for every seq from the join on")
			online := newDevice(watcher.id)
			for seq := first; seq <= last; seq++ {
				switch p := pushed[seq]; {
				case p.msg != nil:
					online.take(p.msg)
				case p.change != nil:
					online.applyPushed(p.change)
				}
			}
			fresh := newDevice(watcher.id)
			fresh.syncFrom(t, e, watcher, conv)

			truthDevice := newDevice(watcher.id)
			for _, m := range e.syncAll(t, watcher, conv) {
				truthDevice.take(m)
			}
			truth := truthDevice.states()
			require.Equal(t, truth, online.states(), "the device that was online")
			require.Equal(t, truth, offline.states(), "the device that was offline")
			require.Equal(t, truth, fresh.states(), "a new device")
			require.Equal(t, last, offline.cursor)
			require.Equal(t, last, fresh.cursor)
			requireDatabaseHolds(t, e, watcher, conv, first, truthDevice)
		})
	}
}

// requireDatabaseHolds checks d against the database's own rows: the
// messages p sees (from its first seq on) and did not delete for itself,
// their texts' edit counts, and each one's reactions (counted from their
// rows, which the kept counts must equal).
func requireDatabaseHolds(t *testing.T, e *env, p person, conv string, first uint64, d *device) {
	t.Helper()
	ctx := context.Background()
	rows, err := e.pool.Query(ctx, `
		SELECT m.id, m.edit_count, m.recalled_at IS NOT NULL,
		       coalesce((SELECT string_agg(r.emoji || '×' || r.n || ' ' || r.mine, ',' ORDER BY c.first_at, r.emoji)
		                 FROM (SELECT emoji, count(*) AS n, bool_or(user_id = $2) AS mine
		                       FROM messages.reactions WHERE message_id = m.id GROUP BY emoji) r
		                 JOIN messages.reaction_counts c ON c.message_id = m.id AND c.emoji = r.emoji AND c.count = r.n), '')
		FROM messages.messages m
		WHERE m.conversation_id = $1 AND m.seq >= $3
		  AND NOT EXISTS (SELECT 1 FROM messages.hidden h WHERE h.user_id = $2 AND h.message_id = m.id)`, conv, p.id, int64(first))
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			id, edits uint64
			recalled  bool
			reactions string
		)
		require.NoError(t, rows.Scan(&id, &edits, &recalled, &reactions))
		m, ok := d.byID[id]
		require.True(t, ok, "message %d is in the database, not on the device", id)
		require.Equal(t, edits, uint64(m.GetEditCount()))
		require.Equal(t, recalled, m.GetRecalled())
		var chips []string
		for _, r := range m.GetReactions() {
			chips = append(chips, fmt.Sprintf("%s×%d %v", r.GetEmoji(), r.GetCount(), d.mine[id][r.GetEmoji()]))
		}
		require.Equal(t, reactions, strings.Join(chips, ","), "message %d's reactions", id)
		n++
	}
	require.NoError(t, rows.Err())
	require.Len(t, d.byID, n)
}

// A page of SyncMessages stays under MaxPageBytes however often a long
// message changes (each change carries it whole): a device still walks
// the stream, page by page, to the end.
func TestSyncPagesAreBoundedInBytes(t *testing.T) {
	t.Parallel()
	e := setupWith(t, func(cfg *config.Config, _ *parley.Options) { cfg.SendRate, cfg.SendBurst = 1000, 1000 })
	alice, bob := e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)
	long := e.sendText(t, alice, toUser(bob.id), strings.Repeat("😀", 5000)) // 20 KB
	for range 30 {
		_, err := e.react(bob.ctx, long, "👍")
		require.NoError(t, err)
		_, err = e.unreact(bob.ctx, long, "👍")
		require.NoError(t, err)
	}
	first := e.sync(t, alice, conv, 0, 0)
	require.True(t, first.GetHasMore(), "60 changes of 20 KB do not fit one page")
	require.LessOrEqual(t, proto.Size(first), 1<<20+1<<10)
	require.Less(t, first.GetCursor(), e.lastSeq(t, conv))
	d := newDevice(alice.id)
	d.syncFrom(t, e, alice, conv)
	require.Equal(t, e.lastSeq(t, conv), d.cursor)
	require.Empty(t, d.byID[long].GetReactions())
}
