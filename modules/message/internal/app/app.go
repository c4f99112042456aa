// Package app is the message module's behaviour: storing messages with
// gap-free per-conversation sequence numbers, pushing them to online
// devices, and the conversation list, sync and read state.
package app

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/parley-im/parley/api/gen/grouppb"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/modules/message/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/bus"
	"github.com/parley-im/parley/platform/media"
	"github.com/parley-im/parley/platform/ratelimit"
)

// Config tunes the module.
type Config struct {
	// SendRate and SendBurst bound each user's sends (per node).
	SendRate  float64
	SendBurst int
	// EditWindow is how long after sending a text its sender may edit it;
	// 0 means no limit.
	EditWindow time.Duration
	// RecallWindow is how long after sending a message its sender may
	// recall it (0: no limit); a group's owner and Parley admins may any time.
	RecallWindow time.Duration
	// KeyCleanupInterval is how often expired idempotency keys are deleted;
	// 0 means an hour.
	KeyCleanupInterval time.Duration
	// TypingGroupCap: typing is not sent on in groups with more members
	// (0: 500). ReceiptGroupCap: receipt frames are not pushed, and
	// GetReceipts answers counts only, in groups with more members (0: 500).
	TypingGroupCap  int
	ReceiptGroupCap int
}

// Errors the module returns; the messages are what clients see.
var (
	ErrRateLimited     = apperr.ResourceExhausted("sending too fast: slow down and retry")
	ErrBlocked         = apperr.PermissionDenied("the receiver does not accept your messages")
	ErrSelf            = apperr.InvalidArgument("to_user_id: you cannot message yourself")
	ErrGroupNotFound   = apperr.NotFound("group not found")
	ErrNotGroupMember  = apperr.PermissionDenied("only members of the group may do this")
	ErrAtNonMember     = apperr.InvalidArgument("at_user_id: you may mention only members of the group who have not blocked you")
	ErrNotParticipant  = apperr.PermissionDenied("not a participant of this conversation")
	ErrNoConversation  = apperr.NotFound("conversation not found")
	ErrSeqBeyondLatest = apperr.InvalidArgument("seq: beyond the conversation's last message")
	ErrKeyReused       = apperr.InvalidArgument("idempotency-key: used by another request within 24 hours")
)

// CmdMessage is the gateway frame cmd of a pushed message.
const CmdMessage = "message"

// memberPage is how many member ids a group fan-out reads at a time.
const memberPage = 5000

// Service implements the module over its schema.
type Service struct {
	pool    *pgxpool.Pool
	q       *db.Queries
	users   Users
	groups  Groups
	bus     bus.Bus
	links   *media.Links
	limiter *ratelimit.Keyed[uint64] // sends per user
	typing  *ratelimit.Keyed[typingKey]
	// receipts coalesce groups' receipt frames.
	receipts *receiptCoalescer
	cfg      Config
	log      zerolog.Logger
	// convLocks serialise commit-then-publish per conversation (striped),
	// so pushes leave in seq order. The database serialises the commits
	// anyway, through the conversation row's lock.
	convLocks [256]sync.Mutex
}

func New(pool *pgxpool.Pool, users Users, groups Groups, b bus.Bus, links *media.Links, cfg Config, log zerolog.Logger) *Service {
	if cfg.SendRate <= 0 {
		cfg.SendRate = 20
	}
	if cfg.SendBurst <= 0 {
		cfg.SendBurst = 50
	}
	if cfg.KeyCleanupInterval <= 0 {
		cfg.KeyCleanupInterval = time.Hour
	}
	if cfg.TypingGroupCap <= 0 {
		cfg.TypingGroupCap = 500
	}
	if cfg.ReceiptGroupCap <= 0 {
		cfg.ReceiptGroupCap = 500
	}
	s := &Service{
		pool: pool, q: db.New(pool), users: users, groups: groups, bus: b, links: links,
		limiter: ratelimit.New[uint64](cfg.SendRate, cfg.SendBurst), typing: ratelimit.New[typingKey](typingRate, 1),
		cfg: cfg, log: log,
	}
	s.receipts = newReceiptCoalescer(s.publishReceipt)
	return s
}

// Outgoing is a validated send.
type Outgoing struct {
	From           uint64
	ToUser         uint64
	ToGroup        uint64
	AtUsers        []uint64
	Body           Body
	ReplyToID      uint64 // optional: the message this one answers
	IdempotencyKey string // optional
}

// SendToUser stores a 1:1 message and pushes it to both users' devices.
func (s *Service) SendToUser(ctx context.Context, out Outgoing) (uint64, error) {
	if !s.limiter.Allow(out.From) {
		return 0, ErrRateLimited
	}
	if out.ToUser == out.From {
		return 0, ErrSelf
	}
	// One query: NotFound for a missing receiver, else whether it blocks.
	blocked, err := s.users.IsBlocked(ctx, out.ToUser, out.From)
	if err != nil {
		return 0, err
	}
	if blocked {
		return 0, ErrBlocked
	}
	return s.store(ctx, pairConversation(out.From, out.ToUser), out, []uint64{out.From, out.ToUser})
}

// SendToGroup stores a group message (one row) and pushes it to every
// member's devices.
func (s *Service) SendToGroup(ctx context.Context, out Outgoing) (uint64, error) {
	if !s.limiter.Allow(out.From) {
		return 0, ErrRateLimited
	}
	if err := s.groups.MaySend(ctx, out.ToGroup, out.From); err != nil {
		return 0, err
	}
	for _, at := range out.AtUsers {
		ok, err := s.groups.IsMember(ctx, out.ToGroup, at)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, ErrAtNonMember
		}
		// A member who blocks the sender is not told of it by a mention.
		blocked, err := s.users.IsBlocked(ctx, at, out.From)
		if err != nil {
			return 0, err
		}
		if blocked {
			return 0, ErrAtNonMember
		}
	}
	members, err := s.memberIDs(ctx, out.ToGroup)
	if err != nil {
		return 0, err
	}
	return s.store(ctx, groupConversation(out.ToGroup), out, members)
}

// StoreGroupEvent stores a group's event in its conversation, as a
// GROUP_EVENT message from the event's actor, and pushes it to the
// members and to alsoTo (a user just removed, told of it, when not 0). A
// repeated key stores nothing twice. A deleted group is NotFound.
func (s *Service) StoreGroupEvent(ctx context.Context, groupID uint64, ev *grouppb.GroupEvent, alsoTo uint64, key string) error {
	members, err := s.memberIDs(ctx, groupID)
	if err != nil {
		return err
	}
	if alsoTo != 0 && !slices.Contains(members, alsoTo) {
		members = append(members, alsoTo)
	}
	out := Outgoing{
		From: ev.GetActorId(), ToGroup: groupID, IdempotencyKey: key,
		Body: Body{Type: messagepb.MESSAGE_TYPE_GROUP_EVENT, Msg: ev},
	}
	_, err = s.store(ctx, groupConversation(groupID), out, members)
	return err
}

func (s *Service) memberIDs(ctx context.Context, groupID uint64) ([]uint64, error) {
	var all []uint64
	after := uint64(0)
	for {
		page, err := s.groups.MemberIDsAfter(ctx, groupID, after, memberPage)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < memberPage {
			return all, nil
		}
		after = page[len(page)-1]
	}
}

// store commits the message with the conversation's next seq and then, still
// holding the conversation's lock, publishes it to recipients. The id is
// returned only once committed. A repeated idempotency key returns the first
// send's id and neither stores nor pushes anything.
func (s *Service) store(ctx context.Context, conv conversation, out Outgoing, recipients []uint64) (uint64, error) {
	body, err := s.marshalBody(out.Body)
	if err != nil {
		return 0, err
	}
	id := conv.ID()
	params := db.StoreMessageParams{
		ConversationID: id, UserA: conv.userA, UserB: conv.userB, GroupID: conv.groupID,
		FromUserID: out.From, ToUserID: out.ToUser, ToGroupID: out.ToGroup,
		// Never nil: pgx sends a nil slice as NULL, the column wants '{}'.
		Type: int16(out.Body.Type), Body: body, AtUserIds: append([]uint64{}, out.AtUsers...),
	}
	if out.ReplyToID != 0 {
		quoted, err := s.replyTo(ctx, conv, out.From, out.ReplyToID)
		if err != nil {
			return 0, err
		}
		params.ReplyToID, params.ReplyFromUserID, params.ReplyType = quoted.ID, quoted.FromUserID, quoted.Type
		if params.ReplyPreview, err = s.preview(quoted); err != nil {
			return 0, err
		}
	}
	lock := s.lockFor(id)
	lock.Lock()
	defer lock.Unlock()

	var stored db.MessagesMessage
	var repeatID uint64
	if out.IdempotencyKey == "" {
		// One statement: atomic without a transaction of our own.
		row, err := s.q.StoreMessage(ctx, params)
		if err != nil {
			return 0, fmt.Errorf("store message in %s: %w", id, err)
		}
		stored = storedMessage(row)
	} else {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			q := s.q.WithTx(tx)
			key := db.ClaimIdempotencyKeyParams{SenderID: out.From, Key: out.IdempotencyKey}
			_, err := q.ClaimIdempotencyKey(ctx, key)
			if errors.Is(err, pgx.ErrNoRows) {
				repeat, err := q.IdempotentMessageID(ctx, db.IdempotentMessageIDParams(key))
				if err == nil && repeat.Operation != 0 {
					return ErrKeyReused // a change's key
				}
				repeatID = repeat.MessageID
				return err
			}
			if err != nil {
				return err
			}
			row, err := q.StoreMessage(ctx, params)
			if err != nil {
				return err
			}
			stored = storedMessage(row)
			return q.SetIdempotentMessageID(ctx, db.SetIdempotentMessageIDParams{
				SenderID: key.SenderID, Key: key.Key, MessageID: stored.ID, Operation: 0, // a send
			})
		})
		if err != nil {
			return 0, fmt.Errorf("store message in %s: %w", id, err)
		}
	}
	if repeatID != 0 {
		return repeatID, nil
	}
	if params.ReplyToID != 0 {
		// The quoted message may have been recalled while this was stored.
		recalled, err := s.q.QuoteOfRecalled(ctx, stored.ID)
		switch {
		case err == nil:
			stored = recalled
		case !errors.Is(err, pgx.ErrNoRows):
			return 0, fmt.Errorf("store message in %s: %w", id, err)
		}
	}
	msg, err := s.toProto(stored)
	if err != nil {
		return 0, err
	}
	// The message is saved: a failed push is not the sender's error, and
	// recipients catch up through SyncMessages.
	d := bus.Delivery{UserIDs: recipients, Cmd: CmdMessage, Conversation: msg.GetConversationId(), Seq: msg.GetSeq()}
	s.publishQuoting(ctx, conv, len(recipients), msg, d, func(m *messagepb.Message) ([]byte, error) { return proto.Marshal(m) })
	return stored.ID, nil
}

// storedMessage is StoreMessage's row as the table's: sqlc cannot trace the
// columns a CTE returns to the table, so it types them as bigint.
func storedMessage(r db.StoreMessageRow) db.MessagesMessage {
	atUsers := make([]uint64, len(r.AtUserIds))
	for i, u := range r.AtUserIds {
		atUsers[i] = uint64(u)
	}
	return db.MessagesMessage{
		ID: uint64(r.ID), ConversationID: r.ConversationID, Seq: uint64(r.Seq),
		FromUserID: uint64(r.FromUserID), ToUserID: uint64(r.ToUserID), ToGroupID: uint64(r.ToGroupID),
		Type: r.Type, Body: r.Body, AtUserIds: atUsers, CreatedAt: r.CreatedAt,
		ReplyToID: uint64(r.ReplyToID), ReplyFromUserID: uint64(r.ReplyFromUserID), ReplyType: r.ReplyType, ReplyPreview: r.ReplyPreview,
		EditedAt: r.EditedAt, EditCount: r.EditCount,
		RecalledAt: r.RecalledAt, RecalledBy: uint64(r.RecalledBy), ReplyRecalled: r.ReplyRecalled,
	}
}

// Run deletes expired idempotency keys every KeyCleanupInterval until ctx ends.
func (s *Service) Run(ctx context.Context) {
	ticker := time.NewTicker(s.cfg.KeyCleanupInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if err := s.q.DeleteExpiredIdempotencyKeys(ctx); err != nil {
				s.log.Warn().Err(err).Msg("deleting expired idempotency keys failed; retrying later")
			}
		}
	}
}

// maxBodyBytes bounds a stored body: the validated fields fit in far less.
const maxBodyBytes = 32 << 10

var errBodyTooLarge = apperr.InvalidArgument("message body: larger than %d bytes", maxBodyBytes)

// marshalBody serializes a body without the fields this server does not
// know: only validated fields are stored and pushed to every recipient.
// Links to this server's media are stored as keys (see mediaFields).
func (s *Service) marshalBody(b Body) ([]byte, error) {
	clean := proto.Clone(b.Msg)
	clean.ProtoReflect().SetUnknown(nil) // bodies have no nested messages
	if err := s.acceptMedia(b.Type, clean); err != nil {
		return nil, err
	}
	body, err := proto.Marshal(clean)
	if err != nil {
		return nil, fmt.Errorf("marshal body: %w", err)
	}
	if len(body) > maxBodyBytes {
		return nil, errBodyTooLarge
	}
	return body, nil
}

func (s *Service) lockFor(conversationID string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(conversationID))
	return &s.convLocks[h.Sum32()%uint32(len(s.convLocks))]
}

// toProto is a stored message on the wire, its media as private links:
// it is answered only to the conversation's participants.
func (s *Service) toProto(m db.MessagesMessage) (*messagepb.Message, error) {
	pb := &messagepb.Message{
		Id:             m.ID,
		ConversationId: m.ConversationID,
		Seq:            m.Seq,
		FromUserId:     m.FromUserID,
		ToUserId:       m.ToUserID,
		ToGroupId:      m.ToGroupID,
		Type:           messagepb.MESSAGE_TYPE(m.Type),
		CreatedAt:      timestamppb.New(m.CreatedAt),
		AtUserId:       m.AtUserIds,
	}
	if m.EditedAt != nil {
		pb.EditedAt, pb.EditCount = timestamppb.New(*m.EditedAt), uint32(m.EditCount)
	}
	if m.ReplyToID != 0 {
		pb.ReplyTo = &messagepb.MessageReply{
			Id: m.ReplyToID, FromUserId: m.ReplyFromUserID, Type: messagepb.MESSAGE_TYPE(m.ReplyType), Preview: m.ReplyPreview,
			Recalled: m.ReplyRecalled,
		}
	}
	if m.RecalledAt != nil { // a tombstone: no body
		pb.Recalled, pb.RecalledBy = true, m.RecalledBy
		return pb, nil
	}
	if err := setBody(pb, pb.Type, m.Body, s.links.RenderPrivate); err != nil {
		return nil, err
	}
	return pb, nil
}
