package message_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/platform/testkit"
)

// seedMembers adds n users, each with a token, to the group as members
// who joined an hour ago: signing 10,000 users up through the API would
// spend the test hashing passwords.
func (e *env) seedMembers(t *testing.T, groupID uint64, n int) []person {
	t.Helper()
	ctx := context.Background()
	names := make([]string, n)
	for i := range names {
		names[i] = testkit.Unique("m")
	}
	rows, err := e.pool.Query(ctx, `
		INSERT INTO users.users (nickname, nickname_folded, password_hash)
		SELECT name, lower(name), 'x' FROM unnest($1::text[]) WITH ORDINALITY AS n(name, i) ORDER BY i
		RETURNING id`, names)
	require.NoError(t, err)
	var ids []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	people := make([]person, n)
	hashes := make([][]byte, n)
	for i, id := range ids {
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		token := base64.RawURLEncoding.EncodeToString(raw)
		sum := sha256.Sum256([]byte(token))
		people[i], hashes[i] = person{id: uint64(id), ctx: testkit.WithToken(token)}, sum[:]
	}
	_, err = e.pool.Exec(ctx, `INSERT INTO users.tokens (token_hash, user_id, expires_at)
		SELECT h, u, now() + interval '1 day' FROM unnest($1::bytea[], $2::bigint[]) AS t(h, u)`, hashes, ids)
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `INSERT INTO groups.members (group_id, user_id, joined_at)
		SELECT $1, u, now() - interval '1 hour' FROM unnest($2::bigint[]) AS u`, groupID, ids)
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `UPDATE groups.groups SET member_count = member_count + $2 WHERE id = $1`, groupID, n)
	require.NoError(t, err)
	return people
}

// A 10,000-member group's receipts cost a row per member however many
// messages and marks there are, count right, and push no frame (above
// -receipt-group-cap).
func TestReceiptsOfATenThousandMemberGroup(t *testing.T) {
	t.Parallel()
	const members, messages = 10_000, 20
	e := setup(t)
	owner := e.newUser(t)
	g := e.createGroup(t, owner)
	conv := groupConvID(g.GetId())
	people := e.seedMembers(t, g.GetId(), members-1)
	for i := range messages {
		e.sendText(t, owner, toGroup(g.GetId()), fmt.Sprintf("announcement %d", i))
	}

	// 2,000 members mark, 16 at a time: delivered up to a random seq, and
	// read up to a lower one for half of them. (All 10,000 would only make
	// the test slower: the bench's receipts scenario marks at scale.)
	const marking = 2000
	rng := mrand.New(mrand.NewPCG(19, 10_000))
	delivered, read := make([]uint64, marking), make([]uint64, marking)
	for i := range delivered {
		delivered[i] = 1 + rng.Uint64N(messages)
		if i%2 == 0 {
			read[i] = 1 + rng.Uint64N(delivered[i])
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	start := time.Now()
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < marking; i = int(next.Add(1) - 1) {
				p := people[i]
				if err := e.markDelivered(p, conv, delivered[i]); err != nil {
					errs <- err
					return
				}
				if read[i] != 0 {
					if err := e.markRead(p, conv, read[i]); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	marks := marking + marking/2
	t.Logf("%d marks in %v: %.0f marks/s (-race, c=16)", marks, time.Since(start).Round(time.Millisecond), float64(marks)/time.Since(start).Seconds())

	var rows int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM messages.reads WHERE conversation_id = $1`, conv).Scan(&rows))
	require.Equal(t, marking+1, rows, "one row per member who marked (and the sender), not per (member, message)")

	seq := uint64(messages / 2)
	var wantDelivered, wantRead uint64
	for i := range delivered {
		if delivered[i] >= seq {
			wantDelivered++
		}
		if read[i] >= seq {
			wantRead++
		}
	}
	var took []time.Duration
	for range 5 {
		began := time.Now()
		r := e.receipts(t, owner, conv, seq, 0, 0)
		took = append(took, time.Since(began))
		require.Equal(t, uint64(members-1), r.GetMemberCount())
		require.Equal(t, wantDelivered, r.GetDeliveredCount())
		require.Equal(t, wantRead, r.GetReadCount())
		require.Empty(t, r.GetReadUserId(), "counts only above the cap")
	}
	slices.Sort(took)
	t.Logf("GetReceipts over %d members: median %v (-race)", members, took[len(took)/2].Round(time.Microsecond))
	_, frames := e.receiptFrames(t)
	require.Empty(t, frames, "no receipt frames above the cap")
	_, err := e.msgs.GetReceipts(people[0].ctx, &messagepb.GetReceiptsRequest{ConversationId: conv, Seq: seq})
	require.NoError(t, err, "any member may ask")
}
