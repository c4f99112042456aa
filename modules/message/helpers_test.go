package message_test

import (
	"cmp"
	"context"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/message"
	"github.com/parley-im/parley/platform/bus"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
)

const password = "secret123"

// env is Parley, as `parley serve` wires it, over the package's database;
// rec records every delivery the app publishes on its bus.
type env struct {
	pool   *pgxpool.Pool
	users  userpb.UserServiceClient
	groups grouppb.GroupServiceClient
	msgs   messagepb.MessageServiceClient
	rec    *recorder
	mods   parley.Modules
}

// setup serves Parley with its defaults.
func setup(t *testing.T) *env {
	t.Helper()
	return setupWith(t, func(*config.Config, *parley.Options) {})
}

// setupWith serves Parley as tune changes its configuration. Each call
// runs its own app (so its own send limiter) and bus.
func setupWith(t *testing.T, tune func(*config.Config, *parley.Options)) *env {
	t.Helper()
	pool := testdb.Pool(t)
	cfg, opts := parleytest.Config(t), parleytest.Options()
	tune(&cfg, &opts)
	served := parleytest.Serve(t, cfg, pool, opts)
	rec := &recorder{}
	t.Cleanup(served.Bus().Subscribe(rec.handle))
	return &env{
		pool:   pool,
		users:  userpb.NewUserServiceClient(served.Conn),
		groups: grouppb.NewGroupServiceClient(served.Conn),
		msgs:   messagepb.NewMessageServiceClient(served.Conn),
		rec:    rec,
		mods:   served.Modules(),
	}
}

// recorder keeps every delivery published on the bus, in the order the bus
// handed them over.
type recorder struct {
	mu     sync.Mutex
	got    []bus.Delivery
	jitter bool
}

// setJitter makes handle pause up to 2ms before recording a delivery, as a
// busy subscriber might, so that publishers racing each other would be seen
// out of order.
func (r *recorder) setJitter(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jitter = on
}

// handle is the bus subscriber: it must not block, so it only appends
// (after a short pause, with jitter on).
func (r *recorder) handle(d bus.Delivery) {
	r.mu.Lock()
	jitter := r.jitter
	r.mu.Unlock()
	if jitter {
		time.Sleep(mrand.N(2 * time.Millisecond))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	d.UserIDs = slices.Clone(d.UserIDs)
	d.Data = slices.Clone(d.Data)
	r.got = append(r.got, d)
}

// delivery is a recorded delivery of a message.
type delivery struct {
	userIDs []uint64 // sorted
	msg     *messagepb.Message
}

// messages decodes every recorded delivery (each must be a "message" frame
// carrying a messagepb.Message) and returns those keep selects, in publish
// order.
func (r *recorder) messages(t *testing.T, keep func(*messagepb.Message) bool) []delivery {
	t.Helper()
	r.mu.Lock()
	got := slices.Clone(r.got)
	r.mu.Unlock()
	var out []delivery
	for _, d := range got {
		if d.Cmd != message.CmdMessage && slices.Contains(notMessages, d.Cmd) {
			continue // changes(), skips(), frames()
		}
		require.Equal(t, message.CmdMessage, d.Cmd)
		require.False(t, d.Broadcast)
		m := new(messagepb.Message)
		require.NoError(t, proto.Unmarshal(d.Data, m))
		if keep(m) {
			out = append(out, delivery{userIDs: sorted(d.UserIDs...), msg: m})
		}
	}
	return out
}

// notMessages are the commands of the deliveries other than messages.
var notMessages = []string{message.CmdChange, bus.CmdSkip, message.CmdTyping, message.CmdReceipt, "presence"}

// frames are the recorded deliveries with cmd, in publish order.
func (r *recorder) frames(cmd string) []bus.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []bus.Delivery
	for _, d := range r.got {
		if d.Cmd == cmd {
			d.UserIDs = sorted(d.UserIDs...)
			out = append(out, d)
		}
	}
	return out
}

// changeDelivery is a recorded delivery of a change to a message.
type changeDelivery struct {
	userIDs []uint64 // sorted
	change  *messagepb.MessageChange
}

// changes decodes the recorded deliveries of changes, in publish order.
func (r *recorder) changes(t *testing.T) []changeDelivery {
	t.Helper()
	r.mu.Lock()
	got := slices.Clone(r.got)
	r.mu.Unlock()
	var out []changeDelivery
	for _, d := range got {
		if d.Cmd != message.CmdChange {
			continue
		}
		c := new(messagepb.MessageChange)
		require.NoError(t, proto.Unmarshal(d.Data, c))
		require.Equal(t, c.GetMessage().GetConversationId(), d.Conversation)
		require.Equal(t, c.GetSeq(), d.Seq, "a change is ordered by its seq")
		out = append(out, changeDelivery{userIDs: sorted(d.UserIDs...), change: c})
	}
	return out
}

// skips are the recorded skip deliveries: to whom, and which seq of which
// conversation, in publish order.
func (r *recorder) skips() []bus.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []bus.Delivery
	for _, d := range r.got {
		if d.Cmd == bus.CmdSkip {
			d.UserIDs = sorted(d.UserIDs...)
			out = append(out, d)
		}
	}
	return out
}

// ofConversation is the deliveries of messages in conversation id.
func (r *recorder) ofConversation(t *testing.T, id string) []delivery {
	t.Helper()
	return r.messages(t, func(m *messagepb.Message) bool { return m.GetConversationId() == id })
}

// ofMessage is the deliveries of message id.
func (r *recorder) ofMessage(t *testing.T, id uint64) []delivery {
	t.Helper()
	return r.messages(t, func(m *messagepb.Message) bool { return m.GetId() == id })
}

// person is a signed-up, signed-in user.
type person struct {
	id  uint64
	ctx context.Context // carries the user's token
}

// signUp creates a user and logs it in.
func (e *env) signUp() (person, error) { return e.signUpAs(false) }

// newAdmin signs up a Parley admin.
func (e *env) newAdmin(t *testing.T) person {
	t.Helper()
	p, err := e.signUpAs(true)
	require.NoError(t, err)
	return p
}

func (e *env) signUpAs(admin bool) (person, error) {
	nick := testkit.Unique("u")
	created, err := e.users.CreateUser(context.Background(), &userpb.UserCreateRequest{
		Nickname: nick, Password: password, PasswordRpt: password,
	})
	if err != nil {
		return person{}, err
	}
	if admin {
		if err := e.mods.User.SetAdmin(context.Background(), nick, true); err != nil {
			return person{}, err
		}
	}
	resp, err := e.users.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: nick, Password: password})
	if err != nil {
		return person{}, err
	}
	if created.GetUser().GetId() == 0 || resp.GetToken() == "" {
		return person{}, fmt.Errorf("sign up %s: no id or token", nick)
	}
	return person{id: created.GetUser().GetId(), ctx: testkit.WithToken(resp.GetToken())}, nil
}

func (e *env) newUser(t *testing.T) person {
	t.Helper()
	p, err := e.signUp()
	require.NoError(t, err)
	return p
}

// newUsers signs n users up concurrently; they come back in id order.
func (e *env) newUsers(t *testing.T, n int) []person {
	t.Helper()
	out := make([]person, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() { out[i], errs[i] = e.signUp() })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	slices.SortFunc(out, func(a, b person) int { return cmp.Compare(a.id, b.id) })
	return out
}

// anonymous is a caller without a token.
var anonymous = context.Background()

func (e *env) createGroup(t *testing.T, owner person) *grouppb.Group {
	t.Helper()
	resp, err := e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{Name: testkit.Unique("g")})
	require.NoError(t, err)
	require.NotZero(t, resp.GetGroup().GetId())
	return resp.GetGroup()
}

func (e *env) join(t *testing.T, p person, groupID uint64) {
	t.Helper()
	_, err := e.groups.JoinGroup(p.ctx, &grouppb.JoinGroupRequest{Id: groupID})
	require.NoError(t, err)
}

// groupOf creates a group owned by owner that members join, in order: its
// conversation then holds their JOINED events (seqs 1…len(members)), the
// owner's creation none.
func (e *env) groupOf(t *testing.T, owner person, members ...person) *grouppb.Group {
	t.Helper()
	g := e.createGroup(t, owner)
	for _, m := range members {
		e.join(t, m, g.GetId())
	}
	return g
}

func pairID(a, b uint64) string { return fmt.Sprintf("u:%d:%d", min(a, b), max(a, b)) }

func groupConvID(groupID uint64) string { return fmt.Sprintf("g:%d", groupID) }

// target is where a send goes: a user, or a group with mentions; replyTo
// is the message it answers (0: none).
type target struct {
	group   bool
	id      uint64
	at      []uint64
	replyTo uint64
}

func toUser(id uint64) target { return target{id: id} }

func toGroup(id uint64, at ...uint64) target { return target{group: true, id: id, at: at} }

// send calls the Send<User|Group><Kind>Message method matching body's oneof
// (whose inner message may be nil, for a missing body).
func (e *env) send(ctx context.Context, to target, body *messagepb.Message) (uint64, error) {
	c := e.msgs
	type idResp interface{ GetId() uint64 }
	var (
		resp idResp
		err  error
	)
	switch b := body.GetBody().(type) {
	case *messagepb.Message_Text:
		if to.group {
			resp, err = c.SendGroupTextMessage(ctx, &messagepb.SendGroupTextMessageRequest{ToGroupId: to.id, AtUserId: to.at, Text: b.Text, ReplyToId: to.replyTo})
		} else {
			resp, err = c.SendUserTextMessage(ctx, &messagepb.SendUserTextMessageRequest{ToUserId: to.id, Text: b.Text, ReplyToId: to.replyTo})
		}
	case *messagepb.Message_Location:
		if to.group {
			resp, err = c.SendGroupLocationMessage(ctx, &messagepb.SendGroupLocationMessageRequest{ToGroupId: to.id, AtUserId: to.at, Location: b.Location, ReplyToId: to.replyTo})
		} else {
			resp, err = c.SendUserLocationMessage(ctx, &messagepb.SendUserLocationMessageRequest{ToUserId: to.id, Location: b.Location, ReplyToId: to.replyTo})
		}
	case *messagepb.Message_Face:
		if to.group {
			resp, err = c.SendGroupFceMessage(ctx, &messagepb.SendGroupFaceMessageRequest{ToGroupId: to.id, AtUserId: to.at, Face: b.Face, ReplyToId: to.replyTo})
		} else {
			resp, err = c.SendUserFaceMessage(ctx, &messagepb.SendUserFaceMessageRequest{ToUserId: to.id, Face: b.Face, ReplyToId: to.replyTo})
		}
	case *messagepb.Message_Sound:
		if to.group {
			resp, err = c.SendGroupSoundMessage(ctx, &messagepb.SendGroupSoundMessageRequest{ToGroupId: to.id, AtUserId: to.at, Sound: b.Sound, ReplyToId: to.replyTo})
		} else {
			resp, err = c.SendUserSoundMessage(ctx, &messagepb.SendUserSoundMessageRequest{ToUserId: to.id, Sound: b.Sound, ReplyToId: to.replyTo})
		}
	case *messagepb.Message_Video:
		if to.group {
			resp, err = c.SendGroupVideoMessage(ctx, &messagepb.SendGroupVideoMessageRequest{ToGroupId: to.id, AtUserId: to.at, Video: b.Video, ReplyToId: to.replyTo})
		} else {
			resp, err = c.SendUserVideoMessage(ctx, &messagepb.SendUserVideoMessageRequest{ToUserId: to.id, Video: b.Video, ReplyToId: to.replyTo})
		}
	case *messagepb.Message_Image:
		if to.group {
			resp, err = c.SendGroupImageMessage(ctx, &messagepb.SendGroupImageMessageRequest{ToGroupId: to.id, AtUserId: to.at, Image: b.Image, ReplyToId: to.replyTo})
		} else {
			resp, err = c.SendUserImageMessage(ctx, &messagepb.SendUserImageMessageRequest{ToUserId: to.id, Image: b.Image, ReplyToId: to.replyTo})
		}
	case *messagepb.Message_File:
		if to.group {
			resp, err = c.SendGroupFileMessage(ctx, &messagepb.SendGroupFileMessageRequest{ToGroupId: to.id, AtUserId: to.at, File: b.File, ReplyToId: to.replyTo})
		} else {
			resp, err = c.SendUserFileMessage(ctx, &messagepb.SendUserFileMessageRequest{ToUserId: to.id, File: b.File, ReplyToId: to.replyTo})
		}
	default:
		return 0, fmt.Errorf("send: no body kind in %v", body)
	}
	if err != nil {
		return 0, err
	}
	return resp.GetId(), nil
}

// text is a text body.
func text(content string) *messagepb.Message {
	return &messagepb.Message{Body: &messagepb.Message_Text{Text: &messagepb.TextMessage{Content: content}}}
}

// sendText sends a text that must be accepted and returns its id.
func (e *env) sendText(t *testing.T, from person, to target, content string) uint64 {
	t.Helper()
	id, err := e.send(from.ctx, to, text(content))
	require.NoError(t, err)
	require.NotZero(t, id)
	return id
}

func (e *env) sync(t *testing.T, p person, convID string, afterSeq, limit uint64) *messagepb.SyncMessagesResponse {
	t.Helper()
	resp, err := e.msgs.SyncMessages(p.ctx, &messagepb.SyncMessagesRequest{ConversationId: convID, AfterSeq: afterSeq, Limit: limit})
	require.NoError(t, err)
	return resp
}

// syncBefore is p's page of convID just before beforeSeq (scroll-back).
func (e *env) syncBefore(t *testing.T, p person, convID string, beforeSeq, limit uint64) *messagepb.SyncMessagesResponse {
	t.Helper()
	resp, err := e.msgs.SyncMessages(p.ctx, &messagepb.SyncMessagesRequest{ConversationId: convID, BeforeSeq: beforeSeq, Limit: limit})
	require.NoError(t, err)
	return resp
}

// syncAll reads the whole conversation as p, a page at a time.
func (e *env) syncAll(t *testing.T, p person, convID string) []*messagepb.Message {
	t.Helper()
	var out []*messagepb.Message
	after := uint64(0)
	for range 100 {
		resp := e.sync(t, p, convID, after, 200)
		out = append(out, resp.GetMessage()...)
		if !resp.GetHasMore() {
			return out
		}
		// The cursor is the last entry, a message or a change.
		require.True(t, len(resp.GetMessage())+len(resp.GetChanges()) > 0)
		if n := len(resp.GetMessage()); n > 0 {
			after = resp.GetMessage()[n-1].GetSeq()
		}
		if n := len(resp.GetChanges()); n > 0 {
			after = max(after, resp.GetChanges()[n-1].GetSeq())
		}
	}
	t.Fatalf("sync %s: has_more never ended", convID)
	return nil
}

func (e *env) conversations(t *testing.T, p person) []*messagepb.Conversation {
	t.Helper()
	resp, err := e.msgs.ListConversations(p.ctx, &messagepb.ListConversationsRequest{})
	require.NoError(t, err)
	return resp.GetConversation()
}

func (e *env) markRead(p person, convID string, seq uint64) error {
	_, err := e.msgs.MarkRead(p.ctx, &messagepb.MarkReadRequest{ConversationId: convID, Seq: seq})
	return err
}

// rowCount counts the stored rows of a conversation in the database,
// group events included.
func (e *env) rowCount(t *testing.T, convID string) int {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM messages.messages WHERE conversation_id = $1`, convID).Scan(&n))
	return n
}

// userRowCount counts the stored rows of a conversation's users'
// messages: its group events left out.
func (e *env) userRowCount(t *testing.T, convID string) int {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM messages.messages WHERE conversation_id = $1 AND type <> $2`,
		convID, int16(messagepb.MESSAGE_TYPE_GROUP_EVENT)).Scan(&n))
	return n
}

// seqOf is the seq message id was stored with.
func (e *env) seqOf(t *testing.T, id uint64) uint64 {
	t.Helper()
	var seq uint64
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT seq FROM messages.messages WHERE id = $1`, int64(id)).Scan(&seq))
	return seq
}

// isGroupEvent reports whether m is a group event: a change to the group's
// membership or governance the server stored in its conversation (type
// GROUP_EVENT, from the change's actor), not a user's message.
func isGroupEvent(m *messagepb.Message) bool {
	return m.GetType() == messagepb.MESSAGE_TYPE_GROUP_EVENT
}

// userMessages is msgs without the group events, in order: what users
// sent. Checks of seqs keep using every message (events take seqs too).
func userMessages(msgs []*messagepb.Message) []*messagepb.Message {
	return slices.DeleteFunc(slices.Clone(msgs), isGroupEvent)
}

// joined is the event of user's join, let in by actor (itself, or the
// member who added it).
func joined(actor, user uint64) *grouppb.GroupEvent {
	return &grouppb.GroupEvent{Kind: grouppb.GroupEvent_KIND_JOINED, ActorId: actor, UserId: user}
}

// left is the event of user leaving by itself.
func left(user uint64) *grouppb.GroupEvent {
	return &grouppb.GroupEvent{Kind: grouppb.GroupEvent_KIND_LEFT, ActorId: user, UserId: user}
}

// kicked is the event of actor removing user.
func kicked(actor, user uint64) *grouppb.GroupEvent {
	return &grouppb.GroupEvent{Kind: grouppb.GroupEvent_KIND_KICKED, ActorId: actor, UserId: user}
}

// requireEvent fails unless m is the group event want, from its actor.
func requireEvent(t *testing.T, want *grouppb.GroupEvent, m *messagepb.Message, msgAndArgs ...any) {
	t.Helper()
	var why string
	if len(msgAndArgs) > 0 {
		format, _ := msgAndArgs[0].(string)
		why = fmt.Sprintf(format, msgAndArgs[1:]...) + ": "
	}
	require.Truef(t, isGroupEvent(m) && m.GetFromUserId() == want.GetActorId() && proto.Equal(want, m.GetGroupEvent()),
		"%swant the group event %v from its actor\n got: %v", why, want, m)
}

// describe is m in a line: its event, or its text.
func describe(m *messagepb.Message) string {
	if ev := m.GetGroupEvent(); ev != nil {
		return fmt.Sprintf("%v of %d by %d", ev.GetKind(), ev.GetUserId(), ev.GetActorId())
	}
	return fmt.Sprintf("%q from %d", m.GetText().GetContent(), m.GetFromUserId())
}

// requireInvalid fails unless err is InvalidArgument with a message naming field.
func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	st := testkit.RequireCode(t, err, codes.InvalidArgument)
	require.Contains(t, st.Message(), field+":", "the message should name the field")
}

func requireProtoEqual(t *testing.T, want, got proto.Message) {
	t.Helper()
	require.Truef(t, proto.Equal(want, got), "want: %v\n got: %v", want, got)
}

// requireMessagesEqual fails unless got holds the messages of want, in order.
func requireMessagesEqual(t *testing.T, want, got []*messagepb.Message, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, seqs(want), seqs(got), msgAndArgs...)
	for i := range want {
		requireProtoEqual(t, want[i], got[i])
	}
}

func sorted(ids ...uint64) []uint64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func ids(ps ...person) []uint64 {
	out := make([]uint64, len(ps))
	for i, p := range ps {
		out[i] = p.id
	}
	return out
}

// seqs is the seqs of msgs, in order.
func seqs(msgs []*messagepb.Message) []uint64 {
	out := make([]uint64, len(msgs))
	for i, m := range msgs {
		out[i] = m.GetSeq()
	}
	return out
}

// oneTo returns 1, 2, …, n.
func oneTo(n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}
