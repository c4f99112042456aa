package user_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
)

// presenceGrace is the tests' grace: a user without a device for longer
// is offline.
const presenceGrace = time.Second

// presenceEnv is Parley as `parley serve` wires it, with a short grace.
type presenceEnv struct {
	users    userpb.UserServiceClient
	messages messagepb.MessageServiceClient
	gateway  gatewaypb.GatewayServiceClient
	wsURL    string
}

func presenceSetup(t *testing.T) *presenceEnv {
	t.Helper()
	opts := parleytest.Options()
	opts.PresenceGrace, opts.PresenceBeat = presenceGrace, 200*time.Millisecond
	served := parleytest.Serve(t, parleytest.Config(t), testdb.Pool(t), opts)
	return &presenceEnv{
		users:    userpb.NewUserServiceClient(served.Conn),
		messages: messagepb.NewMessageServiceClient(served.Conn),
		gateway:  gatewaypb.NewGatewayServiceClient(served.Conn),
		wsURL:    "ws" + strings.TrimPrefix(served.HTTPURL, "http") + "/ws",
	}
}

type presenceUser struct {
	id    uint64
	token string
	ctx   context.Context
}

func (e *presenceEnv) signUp(t *testing.T) presenceUser {
	t.Helper()
	u := createUser(t, e.users, testkit.Unique("pr"))
	token := login(t, e.users, u.GetNickname(), password)
	return presenceUser{id: u.GetId(), token: token, ctx: testkit.WithToken(token)}
}

// device opens a gateway stream for u and waits until it is online.
func (e *presenceEnv) device(t *testing.T, u presenceUser) *parleytest.Stream {
	t.Helper()
	s := parleytest.OpenStream(t, e.gateway, u.ctx, gateway.ClientIDHeader, testkit.Unique("dev"))
	s.Ping(t, "")
	return s
}

// close ends a device stream and waits until the server has seen it end.
func closeDevice(t *testing.T, s *parleytest.Stream) {
	t.Helper()
	s.Cancel()
	<-s.Done
}

// talk makes a and b 1:1 peers: a sends b a message.
func (e *presenceEnv) talk(t *testing.T, a, b presenceUser) {
	t.Helper()
	_, err := e.messages.SendUserTextMessage(a.ctx, &messagepb.SendUserTextMessageRequest{
		ToUserId: b.id, Text: &messagepb.TextMessage{Content: "hi"}})
	require.NoError(t, err)
}

func (e *presenceEnv) follow(t *testing.T, fan, star presenceUser) {
	t.Helper()
	_, err := e.users.FollowUser(fan.ctx, &userpb.FollowUserRequest{UserId: star.id})
	require.NoError(t, err)
}

// presenceOf is GetPresence as viewer, of ids.
func (e *presenceEnv) presenceOf(t *testing.T, viewer presenceUser, ids ...uint64) []*userpb.Presence {
	t.Helper()
	resp, err := e.users.GetPresence(viewer.ctx, &userpb.GetPresenceRequest{UserId: ids})
	require.NoError(t, err)
	return resp.GetPresence()
}

func (e *presenceEnv) setHidden(t *testing.T, u presenceUser, hide bool) {
	t.Helper()
	resp, err := e.users.UpdatePrivacy(u.ctx, &userpb.UpdatePrivacyRequest{HidePresence: hide})
	require.NoError(t, err)
	require.Equal(t, hide, resp.GetHidePresence())
	got, err := e.users.GetPrivacy(u.ctx, &userpb.GetPrivacyRequest{})
	require.NoError(t, err)
	require.Equal(t, hide, got.GetHidePresence())
}

// nextOf is the next presence push of userID to s; pushes of other
// users' presence (contacts of s's user coming online as the test sets
// up) are skipped.
func nextOf(t *testing.T, s *parleytest.Stream, userID uint64) *userpb.Presence {
	t.Helper()
	for {
		if p := s.NextPresence(t); p.GetUserId() == userID {
			return p
		}
	}
}

// quietOf requires that no presence push of userID reaches s within wait.
func quietOf(t *testing.T, s *parleytest.Stream, userID uint64, wait time.Duration) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case f := <-s.Presence:
			p := &userpb.Presence{}
			require.NoError(t, proto.Unmarshal(f.GetData(), p))
			require.NotEqual(t, userID, p.GetUserId(), "unexpected presence push: %v", p)
		case <-deadline:
			return
		}
	}
}

// requireOnline and requireOffline check a presence; seen says whether an
// offline one carries last_seen_at.
func requireOnline(t *testing.T, p *userpb.Presence, userID uint64) {
	t.Helper()
	require.Equal(t, userID, p.GetUserId(), "%v", p)
	require.True(t, p.GetOnline(), "%v", p)
	require.Nil(t, p.GetLastSeenAt(), "no last seen while online: %v", p)
}

func requireOffline(t *testing.T, p *userpb.Presence, userID uint64, seen bool) {
	t.Helper()
	require.Equal(t, userID, p.GetUserId(), "%v", p)
	require.False(t, p.GetOnline(), "%v", p)
	require.Equal(t, seen, p.GetLastSeenAt() != nil, "last_seen_at: %v", p)
}

// A user's coming online and going offline (after the grace) is pushed
// to its 1:1 peer and its follower, never to a stranger; GetPresence says
// the same, with last_seen_at once it is offline.
func TestPresencePushesToPeersAndFollowers(t *testing.T) {
	t.Parallel()
	e := presenceSetup(t)
	ann, peer, fan, stranger := e.signUp(t), e.signUp(t), e.signUp(t), e.signUp(t)
	e.talk(t, peer, ann)
	e.follow(t, fan, ann)
	e.follow(t, ann, stranger) // ann follows the stranger: no contact of the stranger's way
	peerDev, fanDev, strangerDev := e.device(t, peer), e.device(t, fan), e.device(t, stranger)

	requireOffline(t, e.presenceOf(t, peer, ann.id)[0], ann.id, false) // never seen
	annDev := e.device(t, ann)
	for _, d := range []*parleytest.Stream{peerDev, fanDev} {
		requireOnline(t, nextOf(t, d, ann.id), ann.id)
	}
	quietOf(t, strangerDev, ann.id, parleytest.QuietWait)
	requireOnline(t, e.presenceOf(t, peer, ann.id)[0], ann.id)

	before := time.Now()
	closeDevice(t, annDev)
	for _, d := range []*parleytest.Stream{peerDev, fanDev} {
		p := nextOf(t, d, ann.id)
		requireOffline(t, p, ann.id, true)
		require.WithinRange(t, p.GetLastSeenAt().AsTime(), before.Add(-time.Second), time.Now())
	}
	require.GreaterOrEqual(t, time.Since(before), presenceGrace-100*time.Millisecond, "offline only after the grace")
	quietOf(t, strangerDev, ann.id, parleytest.QuietWait)
	got := e.presenceOf(t, stranger, ann.id)[0]
	requireOffline(t, got, ann.id, true)
	require.WithinRange(t, got.GetLastSeenAt().AsTime(), before.Add(-time.Second), time.Now())
}

// wsClient is a browser on the WebSocket edge, signed in.
type wsClient struct {
	conn   *websocket.Conn
	frames chan wsFrame
	done   chan struct{}
}

type wsFrame struct {
	Cmd       string          `json:"cmd"`
	RequestID uint32          `json:"request_id,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

func (e *presenceEnv) browser(t *testing.T, u presenceUser) *wsClient {
	t.Helper()
	conn, _, err := websocket.Dial(context.Background(), e.wsURL, nil)
	require.NoError(t, err)
	c := &wsClient{conn: conn, frames: make(chan wsFrame, 64), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var f wsFrame
			if json.Unmarshal(data, &f) == nil {
				c.frames <- f
			}
		}
	}()
	t.Cleanup(func() { _ = conn.CloseNow(); <-c.done })
	auth, err := json.Marshal(wsFrame{Cmd: "auth", RequestID: 1, Data: json.RawMessage(`{"token":"` + u.token + `"}`)})
	require.NoError(t, err)
	require.NoError(t, conn.Write(context.Background(), websocket.MessageText, auth))
	require.Equal(t, "auth", c.next(t, func(f wsFrame) bool { return f.RequestID == 1 }).Cmd)
	return c
}

func (c *wsClient) next(t *testing.T, match func(wsFrame) bool) wsFrame {
	t.Helper()
	deadline := time.After(parleytest.FrameWait)
	for {
		select {
		case f := <-c.frames:
			if match(f) {
				return f
			}
		case <-c.done:
			require.FailNow(t, "the connection ended")
		case <-deadline:
			require.FailNow(t, "no such frame within "+parleytest.FrameWait.String())
		}
	}
}

// wsPresence is a presence push as the WebSocket edge renders it.
type wsPresence struct {
	UserID     string  `json:"user_id"`
	Online     bool    `json:"online"`
	LastSeenAt *string `json:"last_seen_at"`
}

func (c *wsClient) nextPresence(t *testing.T) wsPresence {
	t.Helper()
	f := c.next(t, func(f wsFrame) bool { return f.Cmd == "presence" })
	var p wsPresence
	require.NoError(t, json.Unmarshal(f.Data, &p), "%s", f.Data)
	return p
}

// A browser's WebSocket counts as a device: its user comes online for its
// contacts when it signs in and goes offline after it closes, and a
// browser receives its contacts' presence as JSON.
func TestPresenceOverWebSocket(t *testing.T) {
	t.Parallel()
	e := presenceSetup(t)
	ann, fan, peer := e.signUp(t), e.signUp(t), e.signUp(t)
	e.follow(t, fan, ann)
	e.talk(t, ann, peer)
	fanWeb := e.browser(t, fan)
	peerDev := e.device(t, peer)

	annWeb := e.browser(t, ann)
	requireOnline(t, nextOf(t, peerDev, ann.id), ann.id)
	p := fanWeb.nextPresence(t)
	require.Equal(t, wsPresence{UserID: jsonID(ann.id), Online: true}, p)

	require.NoError(t, annWeb.conn.Close(websocket.StatusNormalClosure, "bye"))
	requireOffline(t, nextOf(t, peerDev, ann.id), ann.id, true)
	p = fanWeb.nextPresence(t)
	require.Equal(t, jsonID(ann.id), p.UserID)
	require.False(t, p.Online)
	require.NotNil(t, p.LastSeenAt, "offline with last_seen_at")
	seen, err := time.Parse(time.RFC3339Nano, *p.LastSeenAt)
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), seen, 10*time.Second)
}

// jsonID is an id as protobuf JSON writes a uint64: a string.
func jsonID(id uint64) string { return strconv.FormatUint(id, 10) }

// A device reconnecting within the grace is no offline and online; one
// gone longer than the grace is both. A second device of the same user
// changes nothing.
func TestPresenceDebouncesReconnects(t *testing.T) {
	t.Parallel()
	e := presenceSetup(t)
	ann, peer := e.signUp(t), e.signUp(t)
	e.talk(t, ann, peer)
	peerDev := e.device(t, peer)
	annDev := e.device(t, ann)
	requireOnline(t, nextOf(t, peerDev, ann.id), ann.id)

	second := e.device(t, ann)
	closeDevice(t, second)
	closeDevice(t, annDev)
	annDev = e.device(t, ann) // back well within the grace
	quietOf(t, peerDev, ann.id, presenceGrace+700*time.Millisecond)
	requireOnline(t, e.presenceOf(t, peer, ann.id)[0], ann.id)

	closeDevice(t, annDev)
	requireOffline(t, nextOf(t, peerDev, ann.id), ann.id, true)
	e.device(t, ann)
	requireOnline(t, nextOf(t, peerDev, ann.id), ann.id)
}

// GetPresence answers one entry per existing user asked, in the order
// asked, repeats once, unknown ids left out; 1 to 200 ids. last_seen_at
// is when the last device closed, kept to a minute: a user who comes and
// goes again within a minute keeps its first last_seen_at.
func TestGetPresence(t *testing.T) {
	t.Parallel()
	e := presenceSetup(t)
	ann, bob, cat := e.signUp(t), e.signUp(t), e.signUp(t)
	e.device(t, bob)
	require.Eventually(t, func() bool { return e.presenceOf(t, ann, bob.id)[0].GetOnline() }, parleytest.FrameWait, 10*time.Millisecond)

	got := e.presenceOf(t, ann, cat.id, bob.id, 1<<62, cat.id, ann.id)
	require.Len(t, got, 3, "%v", got)
	requireOffline(t, got[0], cat.id, false)
	requireOnline(t, got[1], bob.id)
	requireOffline(t, got[2], ann.id, false) // no device: the caller itself is offline

	many := make([]uint64, 201)
	for i := range many {
		many[i] = bob.id + uint64(i)
	}
	_, err := e.users.GetPresence(ann.ctx, &userpb.GetPresenceRequest{UserId: many})
	testkit.RequireCode(t, err, codes.InvalidArgument)
	_, err = e.users.GetPresence(ann.ctx, &userpb.GetPresenceRequest{})
	testkit.RequireCode(t, err, codes.InvalidArgument)
	_, err = e.users.GetPresence(ann.ctx, &userpb.GetPresenceRequest{UserId: []uint64{bob.id, 0}})
	testkit.RequireCode(t, err, codes.InvalidArgument)
	resp, err := e.users.GetPresence(ann.ctx, &userpb.GetPresenceRequest{UserId: many[:200]})
	require.NoError(t, err)
	require.NotEmpty(t, resp.GetPresence())
	requireOnline(t, resp.GetPresence()[0], bob.id)
	_, err = e.users.GetPresence(context.Background(), &userpb.GetPresenceRequest{UserId: []uint64{bob.id}})
	testkit.RequireCode(t, err, codes.Unauthenticated)

	// cat comes and goes twice within a minute: last seen the first time.
	catDev := e.device(t, cat)
	require.Eventually(t, func() bool { return e.presenceOf(t, ann, cat.id)[0].GetOnline() }, parleytest.FrameWait, 10*time.Millisecond)
	before := time.Now()
	closeDevice(t, catDev)
	first := awaitOffline(t, e, ann, cat.id)
	require.WithinRange(t, first, before.Add(-time.Second), time.Now())
	catDev = e.device(t, cat)
	require.Eventually(t, func() bool { return e.presenceOf(t, ann, cat.id)[0].GetOnline() }, parleytest.FrameWait, 10*time.Millisecond)
	closeDevice(t, catDev)
	require.Equal(t, first, awaitOffline(t, e, ann, cat.id), "written at most once a minute")
}

// awaitOffline waits until viewer sees userID offline and returns its last seen.
func awaitOffline(t *testing.T, e *presenceEnv, viewer presenceUser, userID uint64) time.Time {
	t.Helper()
	var p *userpb.Presence
	require.Eventually(t, func() bool {
		p = e.presenceOf(t, viewer, userID)[0]
		return !p.GetOnline()
	}, parleytest.FrameWait, 20*time.Millisecond)
	require.NotNil(t, p.GetLastSeenAt(), "%v", p)
	return p.GetLastSeenAt().AsTime()
}

// A user hiding its presence is offline with no last seen to others (its
// contacts are told at once), pushes nothing while hidden, sees no one's
// last seen (in GetPresence and in pushes: a contact that does not hide
// gets it), and sees its own presence as it is. Showing it again tells
// its contacts its real state.
func TestPresenceHidden(t *testing.T) {
	t.Parallel()
	e := presenceSetup(t)
	ann, peer, cat := e.signUp(t), e.signUp(t), e.signUp(t)
	e.talk(t, ann, peer)
	e.talk(t, cat, ann)
	e.talk(t, cat, peer)
	peerDev := e.device(t, peer)
	annDev := e.device(t, ann)
	requireOnline(t, nextOf(t, peerDev, ann.id), ann.id)

	e.setHidden(t, ann, true)
	requireOffline(t, nextOf(t, peerDev, ann.id), ann.id, false)
	requireOffline(t, e.presenceOf(t, peer, ann.id)[0], ann.id, false)
	requireOnline(t, e.presenceOf(t, ann, ann.id)[0], ann.id)
	e.setHidden(t, ann, true) // no change: nothing told
	quietOf(t, peerDev, ann.id, parleytest.QuietWait)

	// cat comes and goes: peer is told when cat was last seen, ann not.
	catDev := e.device(t, cat)
	requireOnline(t, nextOf(t, peerDev, cat.id), cat.id)
	requireOnline(t, nextOf(t, annDev, cat.id), cat.id)
	closeDevice(t, catDev)
	requireOffline(t, nextOf(t, peerDev, cat.id), cat.id, true)
	requireOffline(t, nextOf(t, annDev, cat.id), cat.id, false)
	requireOffline(t, e.presenceOf(t, ann, cat.id)[0], cat.id, false)
	requireOffline(t, e.presenceOf(t, peer, cat.id)[0], cat.id, true)

	// Hidden, ann's own comings and goings are told to no one.
	closeDevice(t, annDev)
	quietOf(t, peerDev, ann.id, presenceGrace+700*time.Millisecond)
	requireOffline(t, e.presenceOf(t, ann, ann.id)[0], ann.id, true)
	requireOffline(t, e.presenceOf(t, peer, ann.id)[0], ann.id, false)

	e.setHidden(t, ann, false)
	requireOffline(t, nextOf(t, peerDev, ann.id), ann.id, true)
	requireOffline(t, e.presenceOf(t, peer, ann.id)[0], ann.id, true)
	e.device(t, ann)
	requireOnline(t, nextOf(t, peerDev, ann.id), ann.id)
}

// No presence crosses a block, whichever way it goes: neither pushes nor
// GetPresence.
func TestPresenceBlocked(t *testing.T) {
	t.Parallel()
	e := presenceSetup(t)
	for _, blockerIsWatcher := range []bool{true, false} {
		watcher, user, fan := e.signUp(t), e.signUp(t), e.signUp(t)
		e.talk(t, watcher, user)
		e.follow(t, watcher, user)
		e.follow(t, fan, user)
		blocker, blocked := watcher, user
		if !blockerIsWatcher {
			blocker, blocked = user, watcher
		}
		_, err := e.users.BlockUser(blocker.ctx, &userpb.BlockUserRequest{UserId: blocked.id})
		require.NoError(t, err)

		watcherDev, fanDev := e.device(t, watcher), e.device(t, fan)
		userDev := e.device(t, user)
		requireOnline(t, nextOf(t, fanDev, user.id), user.id) // the push went out
		quietOf(t, watcherDev, user.id, parleytest.QuietWait)
		requireOffline(t, e.presenceOf(t, watcher, user.id)[0], user.id, false)
		requireOffline(t, e.presenceOf(t, user, watcher.id)[0], watcher.id, false)

		closeDevice(t, userDev)
		requireOffline(t, nextOf(t, fanDev, user.id), user.id, true)
		quietOf(t, watcherDev, user.id, parleytest.QuietWait)
		requireOffline(t, e.presenceOf(t, watcher, user.id)[0], user.id, false)

		_, err = e.users.UnblockUser(blocker.ctx, &userpb.UnblockUserRequest{UserId: blocked.id})
		require.NoError(t, err)
		requireOffline(t, e.presenceOf(t, watcher, user.id)[0], user.id, true)
		e.device(t, user)
		requireOnline(t, nextOf(t, watcherDev, user.id), user.id)
	}
}

// A user's presence is pushed to the devices of its contacts only: its own
// other devices get nothing.
func TestPresenceIsNotPushedToItsOwnDevices(t *testing.T) {
	t.Parallel()
	e := presenceSetup(t)
	ann, peer := e.signUp(t), e.signUp(t)
	e.talk(t, ann, peer)
	peerDev := e.device(t, peer)
	annPhone := e.device(t, ann)
	requireOnline(t, nextOf(t, peerDev, ann.id), ann.id)
	quietOf(t, annPhone, ann.id, parleytest.QuietWait)
}
