package main

// Bad-input tests across every RPC of the six services, over the production
// wiring, a real PostgreSQL and real gRPC connections: empty, maximal and
// over-limit strings, invalid UTF-8, NUL bytes, huge page sizes, ids 0 and
// 2^64-1, SQL metacharacters in keywords, unknown enum values, messages
// over the server's receive limit, and wrong frames on the gateway stream.
// Each bad call must get a clear status code (never Internal or Unknown)
// with a message naming the problem, and must write nothing.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/testdb"
)

const (
	badMaxID         = uint64(math.MaxUint64) // 18446744073709551615
	badGatewaySecret = "bad-input-gateway-secret"
	badEdgeID        = "bad-edge"
	badPassword      = "secret123"
	// badMaxUploadBytes keeps the over-limit upload cheap; the limit is the
	// -max-upload-bytes setting, whatever its value.
	badMaxUploadBytes = 64 << 10
	// badMetaChars is in the nickname, group name and feed content of one
	// fixture each, so a keyword made of SQL metacharacters must find
	// exactly that row: not everything (an unescaped LIKE wildcard), not an
	// error (broken quoting).
	badMetaChars = `o'brien_100%\;--`
)

// badMetaKeywords are searched for literally.
var badMetaKeywords = []string{`%`, `_`, `'`, `\`, `;--`, `100%`, `o'brien_`}

// badRaw is a request or frame already in wire form, sent as is: Go's
// protobuf refuses to marshal invalid UTF-8 in a string field.
type badRaw []byte

// badCodec sends badRaw as is and everything else as protobuf; it receives
// into *badRaw (the bytes) or a proto.Message. It is named "proto", so the
// server sees an ordinary application/grpc request.
type badCodec struct{}

func (badCodec) Name() string { return "proto" }

func (badCodec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case badRaw:
		return m, nil
	case *badRaw:
		return *m, nil
	case proto.Message:
		return proto.Marshal(m)
	}
	return nil, fmt.Errorf("badCodec: cannot marshal %T", v)
}

func (badCodec) Unmarshal(data []byte, v any) error {
	switch m := v.(type) {
	case *badRaw:
		*m = append((*m)[:0], data...)
		return nil
	case proto.Message:
		return proto.Unmarshal(data, m)
	}
	return fmt.Errorf("badCodec: cannot unmarshal into %T", v)
}

// Wire-form builders.
func badWire(fields ...[]byte) badRaw { return badRaw(bytes.Join(fields, nil)) }

func badStr(num protowire.Number, s string) []byte {
	return protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), s)
}

func badVarint(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
}

func badMsg(num protowire.Number, inner badRaw) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), inner)
}

func badMarshal(t *testing.T, m proto.Message) badRaw {
	t.Helper()
	b, err := proto.Marshal(m)
	require.NoError(t, err)
	return b
}

// badEnv is a Parley served on its own freshly migrated database, so the
// row snapshots see only this test's writes.
type badEnv struct {
	conn       *grpc.ClientConn
	pool       *pgxpool.Pool
	cfg        config.Config
	storageDir string
	tokens     map[string]string // who → bearer token
	ids        map[string]uint64 // who → user id
}

// badStart is startParley with the pool returned, a gateway secret (so the
// edge-gateway calls can be reached) and a small upload limit.
func badStart(t *testing.T) *badEnv {
	t.Helper()
	pool := testdb.Fresh(t)
	cfg := parleytest.Config(t)
	cfg.GatewaySecret = badGatewaySecret
	cfg.MaxUploadBytes = badMaxUploadBytes
	// Internal errors are logged with their cause: shown when a case fails.
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.ErrorLevel)
	return &badEnv{
		conn: parleytest.Serve(t, cfg, pool, parley.Options{Log: log}).Conn, pool: pool, cfg: cfg, storageDir: cfg.StorageDir,
		tokens: map[string]string{}, ids: map[string]uint64{},
	}
}

// badSignUp creates a user and logs it in as who; admin grants the role
// first, as `parley admin grant` does.
func (e *badEnv) badSignUp(t *testing.T, who, nickname string, admin bool) {
	t.Helper()
	ctx := context.Background()
	users := userpb.NewUserServiceClient(e.conn)
	created, err := users.CreateUser(ctx, &userpb.UserCreateRequest{Nickname: nickname, Password: badPassword, PasswordRpt: badPassword})
	require.NoError(t, err)
	if admin {
		_, err = e.pool.Exec(ctx, "UPDATE users.users SET is_admin = true WHERE id = $1", int64(created.GetUser().GetId()))
		require.NoError(t, err)
	}
	login, err := users.UserLogin(ctx, &userpb.UserLoginRequest{Nickname: nickname, Password: badPassword})
	require.NoError(t, err)
	e.tokens[who] = login.GetToken()
	e.ids[who] = created.GetUser().GetId()
}

// badCtx is a context carrying who's credential: a user's bearer token,
// "gateway" for the edge-gateway credential (with alice as the client
// being registered), or "none".
func (e *badEnv) badCtx(ctx context.Context, who string) context.Context {
	switch who {
	case "none":
		return ctx
	case "gateway":
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Gateway "+badGatewaySecret,
			"client-authorization", "Bearer "+e.tokens["alice"])
	case "":
		who = "alice"
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+e.tokens[who])
}

// badSnapshot is every module table's row count and a digest of its rows,
// so an insert, update or delete anywhere shows.
func badSnapshot(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	ctx := context.Background()
	// River's own bookkeeping (the elected leader, queue heartbeats) changes
	// by itself under load; its jobs (river_job) are data a call could write.
	// So do presence's heartbeats and sessions (a device coming online).
	rows, err := pool.Query(ctx, `SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema IN ('users', 'groups', 'feeds', 'messages', 'common', 'search')
		  AND table_name NOT IN ('river_leader', 'river_queue', 'river_client', 'river_client_queue', 'presence_nodes', 'presence_sessions')
		ORDER BY 1, 2`)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pgx.Identifier, error) {
		var schema, name string
		err := r.Scan(&schema, &name)
		return pgx.Identifier{schema, name}, err
	})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(tables), 15, "the module tables")
	snap := map[string]string{}
	for _, table := range tables {
		var n int64
		var digest string
		require.NoError(t, pool.QueryRow(ctx, fmt.Sprintf(
			`SELECT count(*), coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '') FROM %s t`,
			table.Sanitize())).Scan(&n, &digest))
		snap[strings.Join(table, ".")] = fmt.Sprintf("%d rows, md5 %s", n, digest)
	}
	return snap
}

// badFiles counts the files under dir (stored objects and spool files).
func badFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	require.NoError(t, filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	}))
	return n
}

// badRequireStatus checks err is code with a message that is not empty and
// names the problem (contains want, case-insensitively).
func badRequireStatus(t *testing.T, err error, code codes.Code, want string) {
	t.Helper()
	st := status.Convert(err)
	require.Equal(t, code.String(), st.Code().String(), "status %q", st.Message())
	if code == codes.OK {
		return
	}
	require.NotEmpty(t, strings.TrimSpace(st.Message()), "the message says what is wrong")
	require.Contains(t, strings.ToLower(st.Message()), strings.ToLower(want), "the message names the problem")
}

func badDecode(t *testing.T, raw badRaw, m proto.Message) {
	t.Helper()
	require.NoError(t, proto.Unmarshal(raw, m))
}

// badCase is one call of a unary method.
type badCase struct {
	name   string
	method string // full method name
	as     string // "" (alice), "bob", "root" (an admin), "gateway", "none"
	req    any    // a proto.Message or badRaw
	code   codes.Code
	want   string                          // what the message must contain
	check  func(t *testing.T, resp badRaw) // for codes.OK
	md     []string                        // extra request metadata, key/value pairs
}

func (e *badEnv) badInvoke(t *testing.T, c badCase) {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.badCtx(context.Background(), c.as), 30*time.Second)
	defer cancel()
	if len(c.md) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, c.md...)
	}
	var resp badRaw
	err := e.conn.Invoke(ctx, c.method, c.req, &resp, grpc.ForceCodec(badCodec{}))
	badRequireStatus(t, err, c.code, c.want)
	if err == nil && c.check != nil {
		c.check(t, resp)
	}
}

// badFixtures are the rows bad calls aim at.
type badFixtures struct {
	alice, bob, root, meta uint64 // users; meta's nickname has badMetaChars
	group, metaGroup       uint64 // alice owns both; metaGroup's name has badMetaChars
	feed, metaFeed         uint64 // alice's; metaFeed's content has badMetaChars
	comment                uint64 // root's comment on feed
	conversation           string // alice and bob's
}

func badSetup(t *testing.T) (*badEnv, badFixtures) {
	t.Helper()
	e := badStart(t)
	e.badSignUp(t, "alice", uniqueNickname("badalice"), false)
	e.badSignUp(t, "bob", uniqueNickname("badbob"), false)
	e.badSignUp(t, "root", uniqueNickname("badroot"), true)
	e.badSignUp(t, "meta", badMetaChars, false)
	f := badFixtures{alice: e.ids["alice"], bob: e.ids["bob"], root: e.ids["root"], meta: e.ids["meta"]}

	ctx := e.badCtx(context.Background(), "alice")
	groups := grouppb.NewGroupServiceClient(e.conn)
	g, err := groups.CreateGroup(ctx, &grouppb.CreateGroupRequest{Name: "bad fixture group"})
	require.NoError(t, err)
	f.group = g.GetGroup().GetId()
	g, err = groups.CreateGroup(ctx, &grouppb.CreateGroupRequest{Name: "group " + badMetaChars})
	require.NoError(t, err)
	f.metaGroup = g.GetGroup().GetId()

	feeds := feedpb.NewFeedServiceClient(e.conn)
	fd, err := feeds.FeedCreate(ctx, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "a fixture feed"})
	require.NoError(t, err)
	f.feed = fd.GetFeed().GetId()
	fd, err = feeds.FeedCreate(ctx, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "feed " + badMetaChars})
	require.NoError(t, err)
	f.metaFeed = fd.GetFeed().GetId()
	cm, err := feeds.FeedCommentCreate(e.badCtx(context.Background(), "root"),
		&feedpb.FeedCommentCreateRequest{FeedId: f.feed, Content: "a fixture comment"})
	require.NoError(t, err)
	f.comment = cm.GetComment().GetId()

	_, err = messagepb.NewMessageServiceClient(e.conn).SendUserTextMessage(ctx,
		&messagepb.SendUserTextMessageRequest{ToUserId: f.bob, Text: &messagepb.TextMessage{Content: "hi bob"}})
	require.NoError(t, err)
	f.conversation = fmt.Sprintf("u:%d:%d", min(f.alice, f.bob), max(f.alice, f.bob))
	return e, f
}

// badEdgeStream opens an edge gateway's stream, so Register and UnRegister
// reach the hub.
func (e *badEnv) badEdgeStream(t *testing.T, gatewayID string) {
	t.Helper()
	ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(context.Background(),
		"authorization", "Gateway "+badGatewaySecret, "gateway-id", gatewayID))
	t.Cleanup(cancel)
	stream, err := gatewaypb.NewGatewayServiceClient(e.conn).SendMessage(ctx)
	require.NoError(t, err)
	require.NoError(t, stream.Send(&gatewaypb.SendMessageRequest{Cmd: "ping", RequestId: 1}))
	pong, err := stream.Recv()
	require.NoError(t, err)
	require.Equal(t, "pong", pong.GetCmd())
}

// Strings for the cases.
func badX(n int) string     { return strings.Repeat("x", n) }
func badRunes(n int) string { return strings.Repeat("界", n) } // 3 bytes each: limits count characters
func badURL(n int) string   { return "https://example.com/" + badX(n-len("https://example.com/")) }

// badOversized is a string that makes any request larger than the server's
// receive limit.
func badOversized(cfg config.Config) string { return badX(cfg.MaxRecvMsgBytes + 1) }

// badPager checks a paged list's pager: the page asked for and the page
// size capped at 100.
func badPager(page uint64, size uint64, resp interface {
	proto.Message
	GetPager() *commonpb.Pager
}) func(t *testing.T, raw badRaw) {
	return func(t *testing.T, raw badRaw) {
		badDecode(t, raw, resp)
		require.Equal(t, page, resp.GetPager().GetPage(), "page")
		require.Equal(t, size, resp.GetPager().GetPageZie(), "page size")
	}
}

// badUsersFound checks a user list holds exactly want.
func badUsersFound(want ...uint64) func(t *testing.T, raw badRaw) {
	return func(t *testing.T, raw badRaw) {
		var resp userpb.UserQueryResponse
		badDecode(t, raw, &resp)
		var got []uint64
		for _, u := range resp.GetUser() {
			got = append(got, u.GetId())
		}
		require.ElementsMatch(t, want, got)
	}
}

func badGroupsFound(want ...uint64) func(t *testing.T, raw badRaw) {
	return func(t *testing.T, raw badRaw) {
		var resp grouppb.QueryGroupResponse
		badDecode(t, raw, &resp)
		var got []uint64
		for _, g := range resp.GetGroup() {
			got = append(got, g.GetId())
		}
		require.ElementsMatch(t, want, got)
	}
}

// badFeedsFound decodes any feed list (FeedQuery/FeedOwn responses share
// field numbers) and checks it holds exactly want.
func badFeedsFound(want ...uint64) func(t *testing.T, raw badRaw) {
	return func(t *testing.T, raw badRaw) {
		var resp feedpb.FeedQueryResponse
		badDecode(t, raw, &resp)
		var got []uint64
		for _, f := range resp.GetFeed() {
			got = append(got, f.GetId())
		}
		require.ElementsMatch(t, want, got)
	}
}

// badFeedNum checks a feed list's num was capped at want.
func badFeedNum(want int) func(t *testing.T, raw badRaw) {
	return badNum(want, &feedpb.FeedQueryResponse{})
}

func badNum(want int, resp interface {
	proto.Message
	GetPager() *commonpb.Pager
}) func(t *testing.T, raw badRaw) {
	return func(t *testing.T, raw badRaw) {
		badDecode(t, raw, resp)
		require.Equal(t, uint64(want), resp.GetPager().GetPageZie(), "num is capped")
	}
}

// badTable is rows of badUnaryCases, each for its method.
type badTable []badCase

func (b *badTable) add(method string, cs ...badCase) {
	for _, c := range cs {
		c.method = method
		*b = append(*b, c)
	}
}

// Shorthands of the tables (badinput_<service>_test.go).
const (
	IA       = codes.InvalidArgument
	NF       = codes.NotFound
	RE       = codes.ResourceExhausted
	OK       = codes.OK
	bad      = "\xff\xfe" // not UTF-8
	tooLarge = "larger than max"
)

// badUnaryCases is every unary method's table of bad (and boundary) input,
// one file per service.
func badUnaryCases(t *testing.T, e *badEnv, f badFixtures) []badCase {
	var cases []badCase
	for _, table := range []func(*testing.T, *badEnv, badFixtures) badTable{
		badUserCases, badGroupCases, badFeedCases, badMessageCases, badGatewayCases, badCommonCases,
	} {
		cases = append(cases, table(t, e, f)...)
	}
	return cases
}

// TestBadInputEveryUnaryRPC runs the table and requires that the bad calls
// wrote nothing anywhere.
func TestBadInputEveryUnaryRPC(t *testing.T) {
	t.Parallel()
	e, f := badSetup(t)
	e.badEdgeStream(t, badEdgeID)
	cases := badUnaryCases(t, e, f)

	// Every unary method of the six services has cases (Ping has no input).
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.method] = true
	}
	for _, desc := range []grpc.ServiceDesc{userpb.UserService_ServiceDesc, grouppb.GroupService_ServiceDesc,
		feedpb.FeedService_ServiceDesc, messagepb.MessageService_ServiceDesc, gatewaypb.GatewayService_ServiceDesc,
		commonpb.CommonService_ServiceDesc} {
		for _, m := range desc.Methods {
			full := "/" + desc.ServiceName + "/" + m.MethodName
			require.True(t, m.MethodName == "Ping" || covered[full], "no bad-input case for %s", full)
		}
	}

	before := badSnapshot(t, e.pool)
	filesBefore := badFiles(t, e.storageDir)
	for _, c := range cases {
		t.Run(strings.TrimPrefix(c.method, "/")+"/"+c.name, func(t *testing.T) { e.badInvoke(t, c) })
	}
	require.Equal(t, before, badSnapshot(t, e.pool), "bad calls wrote to the database")
	require.Equal(t, filesBefore, badFiles(t, e.storageDir), "bad calls left files behind")
}

// TestBadInputMaximalIsAccepted: a value of exactly the documented maximum
// passes (the limits above are not off by one the other way).
func TestBadInputMaximalIsAccepted(t *testing.T) {
	t.Parallel()
	e, f := badSetup(t)
	e.badEdgeStream(t, badEdgeID)
	nickname := badRunes(32)
	longest := strings.Repeat("correct horse battery staple ", 5)[:128] // a password of 128, not too common
	for _, c := range []badCase{
		{name: "CreateUser", method: userpb.UserService_CreateUser_FullMethodName, as: "none",
			req: &userpb.UserCreateRequest{Nickname: nickname, Password: longest, PasswordRpt: longest, AvatarUrl: badURL(1024)}},
		{name: "UserLogin", method: userpb.UserService_UserLogin_FullMethodName, as: "none",
			req: &userpb.UserLoginRequest{Nickname: nickname, Password: longest}},
		{name: "CreateGroup", method: grouppb.GroupService_CreateGroup_FullMethodName,
			req: &grouppb.CreateGroupRequest{Name: badRunes(64), Introduction: badRunes(1000), AvatarUrl: badURL(1024)}},
		{name: "BanGroupMember", method: grouppb.GroupService_BanGroupMember_FullMethodName,
			req: &grouppb.BanGroupMemberRequest{GroupId: f.group, UserId: f.bob, Reason: badRunes(500)}},
		{name: "CreateGroupInvite", method: grouppb.GroupService_CreateGroupInvite_FullMethodName,
			req: &grouppb.CreateGroupInviteRequest{GroupId: f.group, MaxUses: math.MaxUint32, ExpiresAt: &timestamppb.Timestamp{Seconds: 253402300799, Nanos: 999999999}}},
		{name: "FeedCreate", method: feedpb.FeedService_FeedCreate_FullMethodName,
			req: &feedpb.FeedCreateRequest{Content: badRunes(5000)}},
		{name: "FeedCommentCreate", method: feedpb.FeedService_FeedCommentCreate_FullMethodName,
			req: &feedpb.FeedCommentCreateRequest{FeedId: f.feed, Content: badRunes(1000)}},
		{name: "SendUserTextMessage", method: messagepb.MessageService_SendUserTextMessage_FullMethodName,
			req: &messagepb.SendUserTextMessageRequest{ToUserId: f.bob, Text: &messagepb.TextMessage{Content: badRunes(5000)}}},
		{name: "SendUserFaceMessage", method: messagepb.MessageService_SendUserFaceMessage_FullMethodName,
			req: &messagepb.SendUserFaceMessageRequest{ToUserId: f.bob, Face: &messagepb.FaceMessage{Symbol: badRunes(64)}}},
		{name: "SendGroupFileMessage", method: messagepb.MessageService_SendGroupFileMessage_FullMethodName,
			req: &messagepb.SendGroupFileMessageRequest{ToGroupId: f.group, AtUserId: []uint64{f.alice},
				File: &messagepb.FileMessage{Url: badURL(1024), Size: badMaxID, Name: badRunes(255)}}},
		{name: "UpdateConversation", method: messagepb.MessageService_UpdateConversation_FullMethodName,
			req: &messagepb.UpdateConversationRequest{ConversationId: f.conversation, MutedUntil: &timestamppb.Timestamp{Seconds: 253402300799, Nanos: 999999999}}},
		{name: "Register", method: gatewaypb.GatewayService_Register_FullMethodName, as: "gateway",
			req: &gatewaypb.RegisterRequest{GatewayId: badEdgeID, ClientId: badRunes(64)}},
		{name: "ReportContent", method: commonpb.CommonService_ReportContent_FullMethodName,
			req: &commonpb.ReportContentRequest{Kind: commonpb.ReportKind_REPORT_KIND_USER, Id: f.bob, Reason: badRunes(500)}},
		{name: "ListReports", method: commonpb.CommonService_ListReports_FullMethodName, as: "root",
			req: &commonpb.ListReportsRequest{GroupId: f.group, IncludeResolved: true, PageSize: 500}},
		{name: "SendEmail", method: commonpb.CommonService_SendEmail_FullMethodName, as: "root",
			req: &commonpb.SendEmailRequest{Receiver: map[string]string{badRunes(200): "ann@example.com"}, Subject: badRunes(200), Content: badX(100 << 10)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.code = codes.OK
			e.badInvoke(t, c)
		})
	}
}

// badDevice opens a device's gateway stream as alice, sending raw frames.
func (e *badEnv) badDevice(t *testing.T, extra ...string) grpc.ClientStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.badCtx(context.Background(), "alice"), 30*time.Second)
	t.Cleanup(cancel)
	if len(extra) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, extra...)
	}
	stream, err := e.conn.NewStream(ctx, &gatewaypb.GatewayService_ServiceDesc.Streams[0],
		gatewaypb.GatewayService_SendMessage_FullMethodName, grpc.ForceCodec(badCodec{}))
	require.NoError(t, err)
	return stream
}

// badNextFrame is the next frame that answers the client (pushes skipped).
func badNextFrame(stream grpc.ClientStream) (*gatewaypb.SendMessageResponse, error) {
	for {
		var f gatewaypb.SendMessageResponse
		if err := stream.RecvMsg(&f); err != nil {
			return nil, err
		}
		if f.GetCmd() != "message" && f.GetCmd() != "broadcast" {
			return &f, nil
		}
	}
}

// badFrameStatus is an error frame's google.rpc.Status.
func badFrameStatus(t *testing.T, f *gatewaypb.SendMessageResponse) error {
	t.Helper()
	require.Equal(t, "error", f.GetCmd(), "an error frame")
	var st spb.Status
	require.NoError(t, proto.Unmarshal(f.GetData(), &st))
	return status.FromProto(&st).Err()
}

// badPing checks the stream still answers.
func badPing(t *testing.T, stream grpc.ClientStream, requestID uint32) {
	t.Helper()
	require.NoError(t, stream.SendMsg(&gatewaypb.SendMessageRequest{Cmd: "ping", RequestId: requestID}))
	f, err := badNextFrame(stream)
	require.NoError(t, err, "the stream is still alive")
	require.Equal(t, "pong", f.GetCmd())
	require.Equal(t, requestID, f.GetRequestId())
}

// TestBadInputGatewayFrames sends wrong frames on one device stream: each
// gets an error frame with a clear code, and the stream lives on.
func TestBadInputGatewayFrames(t *testing.T) {
	t.Parallel()
	e, f := badSetup(t)
	stream := e.badDevice(t)
	badPing(t, stream, 1)
	before := badSnapshot(t, e.pool)

	frames := []struct {
		name  string
		frame *gatewaypb.SendMessageRequest
		code  codes.Code
		want  string
	}{
		{"empty cmd", &gatewaypb.SendMessageRequest{}, codes.InvalidArgument, "cmd"},
		{"cmd without leading slash", &gatewaypb.SendMessageRequest{Cmd: "user.UserService/GetUser"}, codes.InvalidArgument, "cmd"},
		{"cmd the stream itself", &gatewaypb.SendMessageRequest{Cmd: gatewaypb.GatewayService_SendMessage_FullMethodName}, codes.InvalidArgument, "cmd"},
		{"cmd a gateway method", &gatewaypb.SendMessageRequest{Cmd: gatewaypb.GatewayService_Register_FullMethodName}, codes.InvalidArgument, "cmd"},
		{"cmd a streaming method", &gatewaypb.SendMessageRequest{Cmd: commonpb.CommonService_UploadImage_FullMethodName}, codes.Unimplemented, commonpb.CommonService_UploadImage_FullMethodName},
		{"cmd a method that does not exist", &gatewaypb.SendMessageRequest{Cmd: "/nope.NopeService/Nope"}, codes.Unimplemented, "/nope.NopeService/Nope"},
		{"cmd with NUL", &gatewaypb.SendMessageRequest{Cmd: userpb.UserService_GetUser_FullMethodName + "\x00"}, codes.Unimplemented, "unknown method"},
		{"cmd of 64 KiB", &gatewaypb.SendMessageRequest{Cmd: "/" + badX(64<<10)}, codes.Unimplemented, "unknown method"},
		{"data not protobuf", &gatewaypb.SendMessageRequest{Cmd: userpb.UserService_GetUser_FullMethodName, Data: []byte{0xff, 0xff, 0xff, 0xff}}, codes.InvalidArgument, "data"},
		{"data truncated", &gatewaypb.SendMessageRequest{Cmd: userpb.UserService_GetUser_FullMethodName, Data: []byte{0x08}}, codes.InvalidArgument, "data"},
		{"data with invalid UTF-8", &gatewaypb.SendMessageRequest{Cmd: userpb.UserService_QueryUser_FullMethodName, Data: badWire(badStr(1, "\xff"))}, codes.InvalidArgument, "data"},
		{"data empty: id 0", &gatewaypb.SendMessageRequest{Cmd: userpb.UserService_GetUser_FullMethodName}, codes.InvalidArgument, "id"},
		{"data id max", &gatewaypb.SendMessageRequest{Cmd: userpb.UserService_GetUser_FullMethodName, Data: badWire(badVarint(1, badMaxID))}, codes.NotFound, "user"},
		{"data a bad send", &gatewaypb.SendMessageRequest{Cmd: messagepb.MessageService_SendUserTextMessage_FullMethodName,
			Data: badMarshal(t, &messagepb.SendUserTextMessageRequest{ToUserId: f.bob, Text: &messagepb.TextMessage{Content: "\x00"}})}, codes.InvalidArgument, "text.content"},
		{"data unknown enum", &gatewaypb.SendMessageRequest{Cmd: feedpb.FeedService_FeedCreate_FullMethodName,
			Data: badWire(badVarint(1, 5), badStr(2, "x"))}, codes.InvalidArgument, "type"},
		{"data a 2 MiB text", &gatewaypb.SendMessageRequest{Cmd: messagepb.MessageService_SendUserTextMessage_FullMethodName,
			Data: badMarshal(t, &messagepb.SendUserTextMessageRequest{ToUserId: f.bob, Text: &messagepb.TextMessage{Content: badX(2 << 20)}})}, codes.InvalidArgument, "text.content"},
	}
	for i, c := range frames {
		t.Run(c.name, func(t *testing.T) {
			c.frame.RequestId = uint32(100 + i)
			require.NoError(t, stream.SendMsg(c.frame))
			got, err := badNextFrame(stream)
			require.NoError(t, err, "an error frame, not a dead stream")
			require.Equal(t, c.frame.RequestId, got.GetRequestId())
			badRequireStatus(t, badFrameStatus(t, got), c.code, c.want)
		})
	}
	t.Run("request_id max is echoed", func(t *testing.T) {
		badPing(t, stream, math.MaxUint32)
		require.NoError(t, stream.SendMsg(&gatewaypb.SendMessageRequest{RequestId: math.MaxUint32}))
		got, err := badNextFrame(stream)
		require.NoError(t, err)
		require.Equal(t, uint32(math.MaxUint32), got.GetRequestId())
		badRequireStatus(t, badFrameStatus(t, got), codes.InvalidArgument, "cmd")
	})
	t.Run("a good request still works", func(t *testing.T) {
		require.NoError(t, stream.SendMsg(&gatewaypb.SendMessageRequest{Cmd: userpb.UserService_QueryUser_FullMethodName, RequestId: 7,
			Data: badMarshal(t, &userpb.UserQueryRequest{Keyword: "%", Page: badMaxID, PageSize: badMaxID})}))
		got, err := badNextFrame(stream)
		require.NoError(t, err)
		require.Equal(t, userpb.UserService_QueryUser_FullMethodName, got.GetCmd())
		var resp userpb.UserQueryResponse
		require.NoError(t, proto.Unmarshal(got.GetData(), &resp))
		require.Equal(t, uint64(100), resp.GetPager().GetPageZie())
	})
	badPing(t, stream, 2)
	require.Equal(t, before, badSnapshot(t, e.pool), "bad frames wrote to the database")
}

// TestBadInputGatewayStreamBreakers sends frames that cannot be read as a
// SendMessageRequest at all, each on its own stream: the answer is an
// error frame with a clear code (and the stream lives on) or the stream
// ends with a clear status — never Internal.
func TestBadInputGatewayStreamBreakers(t *testing.T) {
	t.Parallel()
	e, _ := badSetup(t)
	huge := badOversized(e.cfg)
	for _, c := range []struct {
		name  string
		frame badRaw
		code  codes.Code
		want  string
	}{
		{"cmd invalid UTF-8", badWire(badStr(2, "pi\xffng"), badVarint(3, 7)), codes.InvalidArgument, "utf-8"},
		{"gateway_id invalid UTF-8", badWire(badStr(1, "\xff"), badStr(2, "ping"), badVarint(3, 8)), codes.InvalidArgument, "utf-8"},
		{"sender_id invalid UTF-8", badWire(badStr(2, "ping"), badVarint(3, 9), badStr(5, "\xfe")), codes.InvalidArgument, "utf-8"},
		{"not a protobuf message", badRaw{0xff, 0xff, 0xff, 0xff}, codes.InvalidArgument, "not a valid gateway.SendMessageRequest"},
		{"cmd as a varint", badWire(badVarint(2, 5), badVarint(3, 10)), codes.InvalidArgument, "cmd"},
		{"request_id as a string", badWire(badStr(2, "ping"), badStr(3, "eleven")), codes.InvalidArgument, "request_id"},
		{"over the receive limit", badWire(badStr(2, "ping"), badStr(4, huge)), codes.ResourceExhausted, "larger than max"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stream := e.badDevice(t)
			require.NoError(t, stream.SendMsg(c.frame))
			got, err := badNextFrame(stream)
			if err != nil { // the stream ended: its status must be clear
				t.Logf("the stream ended: %v", err)
				badRequireStatus(t, err, c.code, c.want)
				return
			}
			if got.GetCmd() == "pong" && c.name == "request_id as a string" {
				// A wire-type mismatch is an unknown field to protobuf: the
				// frame is a ping without a request id, a fair reading.
				badPing(t, stream, 3)
				return
			}
			t.Logf("answered %s frame %q", got.GetCmd(), got.GetData())
			badRequireStatus(t, badFrameStatus(t, got), c.code, c.want)
			badPing(t, stream, 3)
		})
	}
	t.Run("client-id header of 65", func(t *testing.T) {
		stream := e.badDevice(t, "client-id", badX(65))
		require.NoError(t, stream.SendMsg(&gatewaypb.SendMessageRequest{Cmd: "ping", RequestId: 1}))
		_, err := badNextFrame(stream)
		badRequireStatus(t, err, codes.InvalidArgument, "client-id")
	})
}

// badPNG is a valid 1×1 PNG.
func badPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))))
	return buf.Bytes()
}

// TestBadInputUploadImage: empty, not an image, NUL bytes, over
// -max-upload-bytes, a chunk over the receive limit. Nothing is stored.
func TestBadInputUploadImage(t *testing.T) {
	t.Parallel()
	e, _ := badSetup(t)
	before := badSnapshot(t, e.pool)
	filesBefore := badFiles(t, e.storageDir)
	pngBytes := badPNG(t)
	overLimit := append(append([]byte{}, pngBytes...), make([]byte, badMaxUploadBytes)...)
	for _, c := range []struct {
		name   string
		chunks [][]byte
		raw    badRaw // sent instead of chunks when set
		code   codes.Code
		want   string
	}{
		{name: "empty", code: codes.InvalidArgument, want: "content"},
		{name: "one empty chunk", chunks: [][]byte{{}}, code: codes.InvalidArgument, want: "content"},
		{name: "not an image", chunks: [][]byte{[]byte("'; DROP TABLE common.objects;--")}, code: codes.InvalidArgument, want: "content"},
		{name: "NUL bytes", chunks: [][]byte{make([]byte, 64)}, code: codes.InvalidArgument, want: "content"},
		{name: "over -max-upload-bytes", chunks: [][]byte{overLimit[:16<<10], overLimit[16<<10 : 48<<10], overLimit[48<<10:]},
			code: codes.InvalidArgument, want: fmt.Sprint(badMaxUploadBytes)},
		{name: "chunk over the receive limit", chunks: [][]byte{append(append([]byte{}, pngBytes...), badOversized(e.cfg)...)},
			code: codes.ResourceExhausted, want: "larger than max"},
		{name: "content as a varint", raw: badWire(badVarint(1, 42)), code: codes.InvalidArgument, want: "content"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(e.badCtx(context.Background(), "alice"), 30*time.Second)
			defer cancel()
			stream, err := e.conn.NewStream(ctx, &commonpb.CommonService_ServiceDesc.Streams[0],
				commonpb.CommonService_UploadImage_FullMethodName, grpc.ForceCodec(badCodec{}))
			require.NoError(t, err)
			if c.raw != nil {
				require.NoError(t, stream.SendMsg(c.raw))
			}
			for _, chunk := range c.chunks {
				if err := stream.SendMsg(&commonpb.UploadImageRequest{Content: chunk}); err != nil {
					require.ErrorIs(t, err, io.EOF, "the server ended the upload: its status follows")
					break
				}
			}
			_ = stream.CloseSend()
			var resp commonpb.UploadImageResponse
			err = stream.RecvMsg(&resp)
			require.False(t, errors.Is(err, io.EOF))
			badRequireStatus(t, err, c.code, c.want)
		})
	}
	require.Equal(t, before, badSnapshot(t, e.pool), "bad uploads wrote to the database")
	require.Equal(t, filesBefore, badFiles(t, e.storageDir), "bad uploads left files behind")
}
