package main

// REST API tests: the grpc-gateway routes under /v1/api/, served by the
// production wiring (build, httpHandler) over real HTTP, a real PostgreSQL
// and the server's in-process gRPC connection. gRPC is used only to set up
// or cross-check state; what is under test goes over HTTP.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/modules/message"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/rest"
	"github.com/parley-im/parley/platform/testdb"
)

// restPassword is every REST test user's password.
const restPassword = "secret123"

// restEnv is the app as parleytest.Serve runs it: its HTTP and gRPC listeners on
// loopback ports.
type restEnv struct {
	app  *parley.App
	cfg  config.Config
	pool *pgxpool.Pool
	url  string // the HTTP server, http://127.0.0.1:port
	http *http.Client
	rpc  *authzEnv // gRPC clients of the same app, for setting up and cross-checking
}

// restServe serves Parley on the package's database.
func restServe(t *testing.T) *restEnv {
	t.Helper()
	return restServeOn(t, testdb.Pool(t), nil)
}

// restServeOn serves Parley on pool, with a gateway secret so the edge
// gateway's calls can be made, after tune (if not nil) adjusts the
// configuration. Everything stops when the test ends.
func restServeOn(t *testing.T, pool *pgxpool.Pool, tune func(*config.Config)) *restEnv {
	t.Helper()
	cfg := parleytest.Config(t)
	cfg.GatewaySecret = "gw-" + authzRandom()
	if tune != nil {
		tune(&cfg)
	}
	served := parleytest.Serve(t, cfg, pool, parley.Options{Log: zerolog.Nop()})
	conn := served.Conn
	// A transport of the test's own: its connections are not another test's.
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	return &restEnv{
		app: served.App, cfg: cfg, pool: pool, url: served.HTTPURL, http: &http.Client{Transport: transport, Timeout: 30 * time.Second},
		rpc: &authzEnv{
			app: served.App, pool: pool, conn: conn, secret: cfg.GatewaySecret,
			users: userpb.NewUserServiceClient(conn), groups: grouppb.NewGroupServiceClient(conn),
			feeds: feedpb.NewFeedServiceClient(conn), messages: messagepb.NewMessageServiceClient(conn),
			gateway: gatewaypb.NewGatewayServiceClient(conn), common: commonpb.NewCommonServiceClient(conn),
		},
	}
}

// restReply is an HTTP response: its status, its JSON body (nil when the
// body is not a JSON object) and its headers.
type restReply struct {
	status int
	body   map[string]any
	header http.Header
	raw    []byte
}

// restChunked is a body sent without a Content-Length (chunked).
type restChunked struct{ io.Reader }

// do sends method path with body (nil for none; a string or []byte as is,
// a restChunked chunked, anything else as JSON), token as the bearer token
// ("" for none) and headers (key/value pairs).
func (e *restEnv) do(t *testing.T, method, path, token string, body any, headers ...string) restReply {
	t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	case []byte:
		reader = bytes.NewReader(b)
	case restChunked:
		reader = b
	default:
		data, err := json.Marshal(b)
		require.NoError(t, err)
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.url+path, reader)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	reply := restReply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if json.Unmarshal(raw, &reply.body) != nil {
		reply.body = nil
	}
	return reply
}

// ok requires a 200 with a JSON object and returns it.
func (r restReply) ok(t *testing.T) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.raw)
	require.NotNil(t, r.body, "a JSON object: %s", r.raw)
	return r.body
}

// fails requires grpc-gateway's error body {"code", "message", "details"}
// with the HTTP status, the gRPC code and a message containing want
// (case-insensitively).
func (r restReply) fails(t *testing.T, httpStatus int, code codes.Code, want string) {
	t.Helper()
	require.Equal(t, httpStatus, r.status, "body: %s", r.raw)
	require.NotNil(t, r.body, "a JSON error body: %s", r.raw)
	require.Equal(t, float64(code), r.body["code"], "gRPC code %s: %s", code, r.raw)
	message, _ := r.body["message"].(string)
	require.Contains(t, strings.ToLower(message), strings.ToLower(want), "the message names the problem")
	require.Equal(t, []any{}, r.body["details"], "body: %s", r.raw)
}

// restAt is the JSON value at path (object keys) under v.
func restAt(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, key := range path {
		obj, ok := v.(map[string]any)
		require.True(t, ok, "looking for %q in %v, which is not an object", key, v)
		v, ok = obj[key]
		require.True(t, ok, "no %q in %v", key, obj)
	}
	return v
}

func restString(t *testing.T, v any, path ...string) string {
	t.Helper()
	s, ok := restAt(t, v, path...).(string)
	require.True(t, ok, "%v at %v is not a string", restAt(t, v, path...), path)
	return s
}

// restUint is a uint64 field, which grpc-gateway writes as a JSON string.
func restUint(t *testing.T, v any, path ...string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(restString(t, v, path...), 10, 64)
	require.NoError(t, err)
	return n
}

func restList(t *testing.T, v any, path ...string) []any {
	t.Helper()
	list, ok := restAt(t, v, path...).([]any)
	require.True(t, ok, "%v at %v is not a list", restAt(t, v, path...), path)
	return list
}

// restIDs are the ids of a list of objects.
func restIDs(t *testing.T, v any, path ...string) []uint64 {
	t.Helper()
	var ids []uint64
	for _, item := range restList(t, v, path...) {
		ids = append(ids, restUint(t, item, "id"))
	}
	return ids
}

// restSameAsGRPC requires a REST response to be the gRPC response in
// grpc-gateway's JSON form.
func restSameAsGRPC(t *testing.T, got map[string]any, want proto.Message) {
	t.Helper()
	data, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(want)
	require.NoError(t, err)
	var expected map[string]any
	require.NoError(t, json.Unmarshal(data, &expected))
	require.Equal(t, expected, got)
}

// signUp creates a user and logs it in over REST; admin grants the role in
// between, so no cached identity predates it.
func (e *restEnv) signUp(t *testing.T, admin bool) clusterUser {
	t.Helper()
	nick := uniqueNickname("rest")
	created := e.do(t, http.MethodPost, "/v1/api/user", "",
		map[string]any{"nickname": nick, "password": restPassword, "password_rpt": restPassword}).ok(t)
	require.Equal(t, nick, restString(t, created, "user", "nickname"))
	id := restUint(t, created, "user", "id")
	if admin {
		_, err := e.pool.Exec(context.Background(), "UPDATE users.users SET is_admin = true WHERE id = $1", int64(id))
		require.NoError(t, err)
	}
	login := e.do(t, http.MethodPost, "/v1/api/user/login", "", map[string]any{"nickname": nick, "password": restPassword}).ok(t)
	token := restString(t, login, "token")
	require.NotEmpty(t, token)
	return clusterUser{id: id, nickname: nick, token: token}
}

// newGroup is a group of owner's, created over REST.
func (e *restEnv) newGroup(t *testing.T, owner clusterUser) uint64 {
	t.Helper()
	got := e.do(t, http.MethodPost, "/v1/api/group/create", owner.token, map[string]any{"name": "rg-" + authzRandom()}).ok(t)
	return restUint(t, got, "group", "id")
}

// newFeed is a public text feed of owner's, created over REST.
func (e *restEnv) newFeed(t *testing.T, owner clusterUser) uint64 {
	t.Helper()
	got := e.do(t, http.MethodPost, "/v1/api/feed", owner.token, map[string]any{"type": "Txt", "content": "rest feed " + authzRandom()}).ok(t)
	return restUint(t, got, "feed", "id")
}

// sendText sends a text from one user to another over REST and returns the
// message id.
func (e *restEnv) sendText(t *testing.T, from, to clusterUser, content string, headers ...string) uint64 {
	t.Helper()
	got := e.do(t, http.MethodPost, "/v1/api/message/text/user", from.token,
		map[string]any{"to_user_id": to.id, "text": map[string]any{"content": content}}, headers...).ok(t)
	id := restUint(t, got, "id")
	require.NotZero(t, id)
	return id
}

// synced is conversation's messages as SyncMessages over REST returns them
// to u.
func (e *restEnv) synced(t *testing.T, u clusterUser, conversation string) []any {
	t.Helper()
	got := e.do(t, http.MethodGet, "/v1/api/message/sync?limit=200&conversation_id="+url.QueryEscape(conversation), u.token, nil).ok(t)
	return restList(t, got, "message")
}

// syncedMessage is the message with id in conversation, as u syncs it.
func (e *restEnv) syncedMessage(t *testing.T, u clusterUser, conversation string, id uint64) map[string]any {
	t.Helper()
	for _, m := range e.synced(t, u, conversation) {
		if restUint(t, m, "id") == id {
			return m.(map[string]any)
		}
	}
	t.Fatalf("message %d is not in %s", id, conversation)
	return nil
}

// gatewayHeaders are the edge gateway's credential, with client's token as
// the client being registered.
func (e *restEnv) gatewayHeaders(client clusterUser) []string {
	return []string{"Authorization", "Gateway " + e.cfg.GatewaySecret, "Client-Authorization", "Bearer " + client.token}
}

// restAwaitFrame is the next frame on an edge gateway's stream that match
// accepts (the stream's 30-second deadline bounds the wait).
func restAwaitFrame(t *testing.T, s gatewaypb.GatewayService_SendMessageClient,
	match func(*gatewaypb.SendMessageResponse) bool) *gatewaypb.SendMessageResponse {
	t.Helper()
	for {
		f, err := s.Recv()
		require.NoError(t, err)
		if match(f) {
			return f
		}
	}
}

// restNothingStored requires the storage to hold files files again once
// the refused upload's handler has removed its spool file (it may do so
// just after the answer).
func restNothingStored(t *testing.T, storageDir string, files int) {
	t.Helper()
	require.Eventually(t, func() bool { return badFiles(t, storageDir) == files }, 5*time.Second, 10*time.Millisecond, "nothing was stored")
}

// restNoisePNG is a PNG of random pixels: bytes no other upload has, about
// 4 bytes a pixel (uncompressed).
func restNoisePNG(t *testing.T, width, height int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	_, _ = rand.Read(img.Pix)
	var buf bytes.Buffer
	require.NoError(t, (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&buf, img))
	return buf.Bytes()
}

// restUploadBody is grpc-gateway's client-streaming body: one JSON object
// per chunk, {"content": <base64>}.
func restUploadBody(t *testing.T, content []byte, chunks int) []byte {
	t.Helper()
	var body bytes.Buffer
	size := (len(content) + chunks - 1) / chunks
	for chunk := range slices.Chunk(content, size) {
		data, err := json.Marshal(map[string]string{"content": base64.StdEncoding.EncodeToString(chunk)})
		require.NoError(t, err)
		body.Write(data)
		body.WriteByte('\n')
	}
	return body.Bytes()
}

// fetch GETs the path and query of rawURL (a URL under the app's public
// URL) from the test server.
func (e *restEnv) fetch(t *testing.T, rawURL string) (int, []byte) {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	resp, err := e.http.Get(e.url + u.RequestURI())
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

// restContract is the seed's 48 methods and their routes, as in
// api/wire-contract.txt: the original's clients call these.
var restContract = map[string]string{
	"/common.CommonService/UploadImage": "POST /v1/api/common/image",
	"/common.CommonService/SendEmail":   "POST /v1/api/common/email",
	"/common.CommonService/Ping":        "GET /v1/api/common/ping",

	"/user.UserService/CreateUser":     "POST /v1/api/user",
	"/user.UserService/UserLogin":      "POST /v1/api/user/login",
	"/user.UserService/GetUser":        "GET /v1/api/user/{id}",
	"/user.UserService/QueryUser":      "GET /v1/api/user",
	"/user.UserService/UpdatePassword": "POST /v1/api/user/password",
	"/user.UserService/UpdateAvatar":   "POST /v1/api/user/avatar",
	"/user.UserService/Ping":           "GET /v1/api/user/ping",

	"/feed.FeedService/FeedCreate": "POST /v1/api/feed",
	"/feed.FeedService/FeedEdit":   "POST /v1/api/feed/{id}",
	"/feed.FeedService/FeedLike":   "POST /v1/api/feed/{id}/like",
	"/feed.FeedService/FeedUnLike": "POST /v1/api/feed/{id}/unlike",
	"/feed.FeedService/FeedGet":    "GET /v1/api/feed/{id}",
	"/feed.FeedService/FeedDelete": "DELETE /v1/api/feed/{id}",
	"/feed.FeedService/FeedOwn":    "GET /v1/api/feed/own",
	"/feed.FeedService/FeedQuery":  "GET /v1/api/feed/query",
	"/feed.FeedService/FeedFollow": "GET /v1/api/feed/follow",
	"/feed.FeedService/Ping":       "GET /v1/api/feed/ping",

	"/group.GroupService/CreateGroup": "POST /v1/api/group/create",
	"/group.GroupService/UpdateGroup": "POST /v1/api/group/update",
	"/group.GroupService/GetGroup":    "GET /v1/api/group/{id}",
	"/group.GroupService/QueryGroup":  "GET /v1/api/group",
	"/group.GroupService/DeleteGroup": "POST /v1/api/group/delete",
	"/group.GroupService/JoinGroup":   "POST /v1/api/group/join",
	"/group.GroupService/QuitGroup":   "POST /v1/api/group/quit",
	"/group.GroupService/Ping":        "GET /v1/api/group/ping",

	"/message.MessageService/SendUserTextMessage":      "POST /v1/api/message/text/user",
	"/message.MessageService/SendUserLocationMessage":  "POST /v1/api/message/location/user",
	"/message.MessageService/SendUserFaceMessage":      "POST /v1/api/message/face/user",
	"/message.MessageService/SendUserSoundMessage":     "POST /v1/api/message/sound/user",
	"/message.MessageService/SendUserVideoMessage":     "POST /v1/api/message/video/user",
	"/message.MessageService/SendUserImageMessage":     "POST /v1/api/message/image/user",
	"/message.MessageService/SendUserFileMessage":      "POST /v1/api/message/file/user",
	"/message.MessageService/SendGroupTextMessage":     "POST /v1/api/message/text/group",
	"/message.MessageService/SendGroupLocationMessage": "POST /v1/api/message/location/group",
	"/message.MessageService/SendGroupFceMessage":      "POST /v1/api/message/face/group",
	"/message.MessageService/SendGroupSoundMessage":    "POST /v1/api/message/sound/group",
	"/message.MessageService/SendGroupVideoMessage":    "POST /v1/api/message/video/group",
	"/message.MessageService/SendGroupImageMessage":    "POST /v1/api/message/image/group",
	"/message.MessageService/SendGroupFileMessage":     "POST /v1/api/message/file/group",
	"/message.MessageService/Ping":                     "GET /v1/api/message/ping",

	"/gateway.GatewayService/Register":    "POST /v1/api/gateway/register",
	"/gateway.GatewayService/UnRegister":  "POST /v1/api/gateway/unRegister",
	"/gateway.GatewayService/SendMessage": "POST /v1/api/gateway/send",
	"/gateway.GatewayService/SendToAll":   "POST /v1/api/gateway/sendToAll",
	"/gateway.GatewayService/Ping":        "GET /v1/api/gateway/ping",
}

// restRoutes is rest.Routes() keyed by method, as "VERB path".
func restRoutes() map[string]string {
	routes := map[string]string{}
	for _, r := range rest.Routes() {
		routes[r.Method] = r.Verb + " " + r.Path
	}
	return routes
}

func TestRESTSeedRoutesAreTheContract(t *testing.T) {
	t.Parallel()
	require.Len(t, restContract, 48)
	routes := restRoutes()
	for method, want := range restContract {
		require.Equal(t, want, routes[method], "the route of %s", method)
	}
	// No two methods share a route: the second would never be reached.
	seen := map[string]string{}
	for _, r := range rest.Routes() {
		key := r.Verb + " " + r.Path
		require.Empty(t, seen[key], "%s and %s are both %s", seen[key], r.Method, key)
		seen[key] = r.Method
	}
}

// restWorld is a served Parley and the users and resources the route
// calls act on.
type restWorld struct {
	*restEnv
	owner, member, stranger, admin clusterUser
	group                          uint64 // owner's; member joined
	feed                           uint64 // owner's
}

func restSetup(t *testing.T) *restWorld {
	t.Helper()
	e := restServe(t)
	w := &restWorld{restEnv: e, owner: e.signUp(t, false), member: e.signUp(t, false), stranger: e.signUp(t, false), admin: e.signUp(t, true)}
	w.group = e.newGroup(t, w.owner)
	e.do(t, http.MethodPost, "/v1/api/group/join", w.member.token, map[string]any{"id": w.group}).ok(t)
	w.feed = e.newFeed(t, w.owner)
	return w
}

// groupWithMember is a new group of owner's that member has joined.
func (w *restWorld) groupWithMember(t *testing.T) uint64 {
	t.Helper()
	id := w.newGroup(t, w.owner)
	_, err := w.rpc.groups.JoinGroup(w.member.ctx(), &grouppb.JoinGroupRequest{Id: id})
	require.NoError(t, err)
	return id
}

// joinRequest is a new group of owner's that asks for approval, and
// stranger's pending request to join it.
func (w *restWorld) joinRequest(t *testing.T) (group, request uint64) {
	t.Helper()
	group = w.newGroup(t, w.owner)
	_, err := w.rpc.groups.UpdateGroup(w.owner.ctx(), &grouppb.UpdateGroupRequest{Id: group, JoinPolicy: grouppb.JoinPolicy_JOIN_POLICY_APPROVAL.Enum()})
	require.NoError(t, err)
	joined, err := w.rpc.groups.JoinGroup(w.stranger.ctx(), &grouppb.JoinGroupRequest{Id: group})
	require.NoError(t, err)
	require.NotZero(t, joined.GetRequestId(), "a pending request")
	return group, joined.GetRequestId()
}

// invite is a new invite code of owner's to group.
func (w *restWorld) invite(t *testing.T, group uint64) string {
	t.Helper()
	created, err := w.rpc.groups.CreateGroupInvite(w.owner.ctx(), &grouppb.CreateGroupInviteRequest{GroupId: group})
	require.NoError(t, err)
	return created.GetCode()
}

// roles are group's members and their roles, as GetGroupUser answers them.
func (w *restWorld) roles(t *testing.T, group uint64) map[uint64]grouppb.GroupRole {
	t.Helper()
	members, err := w.rpc.groups.GetGroupUser(w.owner.ctx(), &grouppb.GetGroupUserRequest{Id: group})
	require.NoError(t, err)
	roles := map[uint64]grouppb.GroupRole{}
	for _, m := range members.GetMember() {
		roles[m.GetUser().GetId()] = m.GetRole()
	}
	return roles
}

// restCall exercises one method over REST and checks it did what its gRPC
// method does.
type restCall func(t *testing.T, w *restWorld)

// restMessageKinds are the seven message bodies: the word in the method
// name (lowercased, the route's segment), the JSON field, the MESSAGE_TYPE
// name, a valid body and a field of it to read back.
var restMessageKinds = []struct {
	name, field, typ string
	body             map[string]any
	probe            string
}{
	{"Text", "text", "TEXT", map[string]any{"content": "hi there"}, "content"},
	{"Location", "location", "LOCATION", map[string]any{"lat": 48.85, "lng": 2.35, "desc": "Paris"}, "desc"},
	{"Face", "face", "FACE", map[string]any{"symbol": "smile"}, "symbol"},
	{"Sound", "sound", "SOUND", map[string]any{"url": "https://cdn.example.com/a.mp3", "seconds": 3}, "url"},
	{"Video", "video", "Video", map[string]any{"url": "https://cdn.example.com/a.mp4", "seconds": 3}, "url"},
	{"Image", "image", "IMAGE", map[string]any{"url": "https://cdn.example.com/a.png", "format": "PNG"}, "url"},
	{"File", "file", "FILE", map[string]any{"url": "https://cdn.example.com/a.txt", "name": "a.txt", "size": 10}, "name"},
}

// restCalls is one call per method of the six services, keyed by full
// method name.
func restCalls() map[string]restCall {
	const post, get = http.MethodPost, http.MethodGet
	ping := func(path string) restCall {
		return func(t *testing.T, w *restWorld) {
			require.Equal(t, "pong", restString(t, w.do(t, get, path, "", nil).ok(t), "content"))
		}
	}
	calls := map[string]restCall{
		// CommonService
		"/common.CommonService/Ping": ping("/v1/api/common/ping"),
		"/common.CommonService/UploadImage": func(t *testing.T, w *restWorld) {
			img := restNoisePNG(t, 4, 4)
			got := w.do(t, post, "/v1/api/common/image", w.owner.token, restUploadBody(t, img, 1)).ok(t)
			link := restString(t, got, "url")
			require.True(t, strings.HasPrefix(link, parley.PublicURL(w.cfg)+"/media/"), link)
			code, stored := w.fetch(t, link)
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, img, stored)
		},
		"/common.CommonService/SendEmail": func(t *testing.T, w *restWorld) {
			subject := "rest " + authzRandom()
			w.do(t, post, "/v1/api/common/email", w.admin.token, map[string]any{
				"receiver": map[string]string{"Ann": "ann@example.com"}, "subject": subject, "content": "hello",
			}).ok(t)
			var by int64
			require.NoError(t, w.pool.QueryRow(context.Background(),
				"SELECT requested_by FROM common.emails WHERE subject = $1", subject).Scan(&by))
			require.Equal(t, int64(w.admin.id), by, "the email is queued as the admin's")
		},
		"/common.CommonService/ReportContent": func(t *testing.T, w *restWorld) {
			got := w.do(t, post, "/v1/api/common/report", w.member.token, map[string]any{"kind": "REPORT_KIND_FEED", "id": w.feed, "reason": "spam"}).ok(t)
			require.Equal(t, "REPORT_KIND_FEED", restString(t, got, "report", "kind"))
			require.Equal(t, w.feed, restUint(t, got, "report", "contentId"))
			require.Equal(t, w.member.id, restUint(t, got, "report", "reporterId"))
			require.Equal(t, w.owner.id, restUint(t, got, "report", "authorId"))
			require.Equal(t, "spam", restString(t, got, "report", "reason"))
			require.Equal(t, "REPORT_ACTION_UNSPECIFIED", restString(t, got, "report", "resolution"), "open")
			viaGRPC, err := w.rpc.common.ReportContent(w.member.ctx(), &commonpb.ReportContentRequest{Kind: commonpb.ReportKind_REPORT_KIND_FEED, Id: w.feed})
			require.NoError(t, err)
			restSameAsGRPC(t, got, viaGRPC) // reporting again answers the open report
			w.do(t, post, "/v1/api/common/report", w.owner.token, map[string]any{"kind": "REPORT_KIND_FEED", "id": w.feed}).
				fails(t, http.StatusBadRequest, codes.InvalidArgument, "your own content")
		},
		"/common.CommonService/ListReports": func(t *testing.T, w *restWorld) {
			id := w.groupWithMember(t)
			var filed []uint64
			for _, content := range []string{"one", "two"} {
				sent, err := w.rpc.messages.SendGroupTextMessage(w.member.ctx(), &messagepb.SendGroupTextMessageRequest{
					ToGroupId: id, Text: &messagepb.TextMessage{Content: content}})
				require.NoError(t, err)
				r, err := w.rpc.common.ReportContent(w.owner.ctx(), &commonpb.ReportContentRequest{Kind: commonpb.ReportKind_REPORT_KIND_MESSAGE, Id: sent.GetId()})
				require.NoError(t, err)
				filed = append(filed, r.GetReport().GetId())
			}
			got := w.do(t, get, fmt.Sprintf("/v1/api/common/report?group_id=%d&page_size=1", id), w.owner.token, nil).ok(t)
			require.Equal(t, []uint64{filed[1]}, restIDs(t, got, "report"), "newest first")
			require.Equal(t, id, restUint(t, restList(t, got, "report")[0], "groupId"))
			viaGRPC, err := w.rpc.common.ListReports(w.owner.ctx(), &commonpb.ListReportsRequest{GroupId: id, PageSize: 1})
			require.NoError(t, err)
			restSameAsGRPC(t, got, viaGRPC)
			next := restString(t, got, "nextPageToken")
			require.NotEmpty(t, next)
			got = w.do(t, get, fmt.Sprintf("/v1/api/common/report?groupId=%d&pageSize=1&pageToken=%s", id, url.QueryEscape(next)), w.owner.token, nil).ok(t)
			require.Equal(t, []uint64{filed[0]}, restIDs(t, got, "report"))
			require.Empty(t, restString(t, got, "nextPageToken"), "the last page")
			// Every report is for Parley admins.
			w.do(t, get, "/v1/api/common/report", w.owner.token, nil).fails(t, http.StatusForbidden, codes.PermissionDenied, "only Parley admins")
			all := w.do(t, get, "/v1/api/common/report?page_size=500", w.admin.token, nil).ok(t)
			require.Subset(t, restIDs(t, all, "report"), filed)
			w.do(t, get, "/v1/api/common/report?page_size=501", w.admin.token, nil).fails(t, http.StatusBadRequest, codes.InvalidArgument, "page_size")
			w.do(t, get, "/v1/api/common/report?page_token=nonsense", w.admin.token, nil).fails(t, http.StatusBadRequest, codes.InvalidArgument, "page_token")
		},
		"/common.CommonService/ResolveReport": func(t *testing.T, w *restWorld) {
			id := w.groupWithMember(t)
			_, err := w.rpc.groups.JoinGroup(w.stranger.ctx(), &grouppb.JoinGroupRequest{Id: id})
			require.NoError(t, err)
			sent, err := w.rpc.messages.SendGroupTextMessage(w.member.ctx(), &messagepb.SendGroupTextMessageRequest{
				ToGroupId: id, Text: &messagepb.TextMessage{Content: "buy now"}})
			require.NoError(t, err)
			filed, err := w.rpc.common.ReportContent(w.stranger.ctx(), &commonpb.ReportContentRequest{
				Kind: commonpb.ReportKind_REPORT_KIND_MESSAGE, Id: sent.GetId(), Reason: "spam"})
			require.NoError(t, err)
			body := map[string]any{"id": filed.GetReport().GetId(), "action": "REPORT_ACTION_DELETE_CONTENT"}
			w.do(t, post, "/v1/api/common/report/resolve", w.stranger.token, body).fails(t, http.StatusNotFound, codes.NotFound, "report not found")
			got := w.do(t, post, "/v1/api/common/report/resolve", w.owner.token, body).ok(t)
			require.Equal(t, filed.GetReport().GetId(), restUint(t, got, "report", "id"))
			require.Equal(t, "REPORT_ACTION_DELETE_CONTENT", restString(t, got, "report", "resolution"))
			require.Equal(t, w.owner.id, restUint(t, got, "report", "resolvedBy"))
			require.NotEmpty(t, restString(t, got, "report", "resolvedAt"))
			m := w.syncedMessage(t, w.stranger, fmt.Sprintf("g:%d", id), sent.GetId())
			require.Equal(t, true, restAt(t, m, "recalled"), "the reported message is recalled")
			require.Equal(t, w.owner.id, restUint(t, m, "recalledBy"))
			w.do(t, post, "/v1/api/common/report/resolve", w.owner.token, map[string]any{"id": filed.GetReport().GetId(), "action": "REPORT_ACTION_DISMISS"}).
				fails(t, http.StatusPreconditionFailed, codes.FailedPrecondition, "resolved already")
		},

		// UserService
		"/user.UserService/Ping": ping("/v1/api/user/ping"),
		"/user.UserService/CreateUser": func(t *testing.T, w *restWorld) {
			nick := uniqueNickname("restc")
			got := w.do(t, post, "/v1/api/user", "", map[string]any{
				"nickname": nick, "password": restPassword, "passwordRpt": restPassword, "avatarUrl": "https://img.example.com/c.png",
			}).ok(t)
			id := restUint(t, got, "user", "id")
			viaGRPC, err := w.rpc.users.GetUser(w.owner.ctx(), &userpb.UserGetRequest{Id: id})
			require.NoError(t, err)
			require.Equal(t, nick, viaGRPC.GetUser().GetNickname())
			require.Equal(t, "https://img.example.com/c.png", viaGRPC.GetUser().GetAvatarUrl())
		},
		"/user.UserService/UserLogin": func(t *testing.T, w *restWorld) {
			got := w.do(t, post, "/v1/api/user/login", "", map[string]any{"nickname": w.stranger.nickname, "password": restPassword}).ok(t)
			token := restString(t, got, "token")
			require.NotEqual(t, w.stranger.token, token, "a new token")
			me := w.do(t, get, fmt.Sprintf("/v1/api/user/%d", w.stranger.id), token, nil).ok(t)
			require.Equal(t, w.stranger.nickname, restString(t, me, "user", "nickname"), "the token signs in")
		},
		"/user.UserService/GetUser": func(t *testing.T, w *restWorld) {
			got := w.do(t, get, fmt.Sprintf("/v1/api/user/%d", w.owner.id), w.member.token, nil).ok(t)
			require.Equal(t, w.owner.id, restUint(t, got, "user", "id"))
			viaGRPC, err := w.rpc.users.GetUser(w.member.ctx(), &userpb.UserGetRequest{Id: w.owner.id})
			require.NoError(t, err)
			restSameAsGRPC(t, got, viaGRPC)
		},
		"/user.UserService/QueryUser": func(t *testing.T, w *restWorld) {
			got := w.do(t, get, "/v1/api/user?page=1&page_size=20&keyword="+url.QueryEscape(w.owner.nickname), w.member.token, nil).ok(t)
			require.Equal(t, []uint64{w.owner.id}, restIDs(t, got, "user"))
			require.Equal(t, uint64(1), restUint(t, got, "pager", "totalRows"))
		},
		"/user.UserService/UpdatePassword": func(t *testing.T, w *restWorld) {
			u := w.signUp(t, false)
			w.do(t, post, "/v1/api/user/password", u.token, map[string]any{"password": "new-secret-1", "password_rpt": "new-secret-1"}).ok(t)
			w.do(t, post, "/v1/api/user/login", "", map[string]any{"nickname": u.nickname, "password": "new-secret-1"}).ok(t)
			w.do(t, post, "/v1/api/user/login", "", map[string]any{"nickname": u.nickname, "password": restPassword}).
				fails(t, http.StatusUnauthorized, codes.Unauthenticated, "invalid nickname or password")
		},
		"/user.UserService/UpdateAvatar": func(t *testing.T, w *restWorld) {
			u := w.signUp(t, false)
			w.do(t, post, "/v1/api/user/avatar", u.token, map[string]any{"url": "https://img.example.com/me.png"}).ok(t)
			got := w.do(t, get, fmt.Sprintf("/v1/api/user/%d", u.id), w.owner.token, nil).ok(t)
			require.Equal(t, "https://img.example.com/me.png", restString(t, got, "user", "avatarUrl"))
		},
		"/user.UserService/FollowUser": func(t *testing.T, w *restWorld) {
			u := w.signUp(t, false)
			w.do(t, post, fmt.Sprintf("/v1/api/user/%d/follow", w.owner.id), u.token, map[string]any{}).ok(t)
			following, err := w.rpc.users.ListFollowing(u.ctx(), &userpb.ListFollowingRequest{})
			require.NoError(t, err)
			require.Len(t, following.GetUser(), 1)
			require.Equal(t, w.owner.id, following.GetUser()[0].GetId())
		},
		"/user.UserService/UnfollowUser": func(t *testing.T, w *restWorld) {
			u := w.signUp(t, false)
			_, err := w.rpc.users.FollowUser(u.ctx(), &userpb.FollowUserRequest{UserId: w.owner.id})
			require.NoError(t, err)
			w.do(t, post, fmt.Sprintf("/v1/api/user/%d/unfollow", w.owner.id), u.token, map[string]any{}).ok(t)
			following, err := w.rpc.users.ListFollowing(u.ctx(), &userpb.ListFollowingRequest{})
			require.NoError(t, err)
			require.Empty(t, following.GetUser())
		},
		"/user.UserService/ListFollowing": func(t *testing.T, w *restWorld) {
			u := w.signUp(t, false)
			_, err := w.rpc.users.FollowUser(u.ctx(), &userpb.FollowUserRequest{UserId: w.owner.id})
			require.NoError(t, err)
			got := w.do(t, get, fmt.Sprintf("/v1/api/user/following?user_id=%d", u.id), w.member.token, nil).ok(t)
			require.Equal(t, []uint64{w.owner.id}, restIDs(t, got, "user"))
		},
		"/user.UserService/ListFollowers": func(t *testing.T, w *restWorld) {
			u, fan := w.signUp(t, false), w.signUp(t, false)
			_, err := w.rpc.users.FollowUser(fan.ctx(), &userpb.FollowUserRequest{UserId: u.id})
			require.NoError(t, err)
			got := w.do(t, get, fmt.Sprintf("/v1/api/user/followers?userId=%d", u.id), w.member.token, nil).ok(t)
			require.Equal(t, []uint64{fan.id}, restIDs(t, got, "user"))
		},
		"/user.UserService/BlockUser": func(t *testing.T, w *restWorld) {
			u, pest := w.signUp(t, false), w.signUp(t, false)
			w.do(t, post, fmt.Sprintf("/v1/api/user/%d/block", pest.id), u.token, map[string]any{}).ok(t)
			blocked, err := w.rpc.users.ListBlocked(u.ctx(), &userpb.ListBlockedRequest{})
			require.NoError(t, err)
			require.Len(t, blocked.GetUser(), 1)
			require.Equal(t, pest.id, blocked.GetUser()[0].GetId())
		},
		"/user.UserService/UnblockUser": func(t *testing.T, w *restWorld) {
			u, pest := w.signUp(t, false), w.signUp(t, false)
			_, err := w.rpc.users.BlockUser(u.ctx(), &userpb.BlockUserRequest{UserId: pest.id})
			require.NoError(t, err)
			w.do(t, post, fmt.Sprintf("/v1/api/user/%d/unblock", pest.id), u.token, map[string]any{}).ok(t)
			blocked, err := w.rpc.users.ListBlocked(u.ctx(), &userpb.ListBlockedRequest{})
			require.NoError(t, err)
			require.Empty(t, blocked.GetUser())
		},
		"/user.UserService/ListBlocked": func(t *testing.T, w *restWorld) {
			u, pest := w.signUp(t, false), w.signUp(t, false)
			_, err := w.rpc.users.BlockUser(u.ctx(), &userpb.BlockUserRequest{UserId: pest.id})
			require.NoError(t, err)
			got := w.do(t, get, "/v1/api/user/blocked", u.token, nil).ok(t)
			require.Equal(t, []uint64{pest.id}, restIDs(t, got, "user"))
		},
		"/user.UserService/GetPresence": func(t *testing.T, w *restWorld) {
			got := w.do(t, get, fmt.Sprintf("/v1/api/user/presence?user_id=%d&user_id=%d&user_id=%d", w.stranger.id, w.owner.id, w.stranger.id),
				w.member.token, nil).ok(t)
			viaGRPC, err := w.rpc.users.GetPresence(w.member.ctx(), &userpb.GetPresenceRequest{UserId: []uint64{w.stranger.id, w.owner.id}})
			require.NoError(t, err)
			require.Len(t, viaGRPC.GetPresence(), 2)
			restSameAsGRPC(t, got, viaGRPC)
		},
		"/user.UserService/UpdatePrivacy": func(t *testing.T, w *restWorld) {
			u := w.signUp(t, false)
			got := w.do(t, post, "/v1/api/user/privacy", u.token, map[string]any{"hide_presence": true}).ok(t)
			require.Equal(t, true, restAt(t, got, "hidePresence"))
			viaGRPC, err := w.rpc.users.GetPrivacy(u.ctx(), &userpb.GetPrivacyRequest{})
			require.NoError(t, err)
			require.True(t, viaGRPC.GetHidePresence())
		},
		"/user.UserService/GetPrivacy": func(t *testing.T, w *restWorld) {
			u := w.signUp(t, false)
			require.Equal(t, false, restAt(t, w.do(t, get, "/v1/api/user/privacy", u.token, nil).ok(t), "hidePresence"))
			_, err := w.rpc.users.UpdatePrivacy(u.ctx(), &userpb.UpdatePrivacyRequest{HidePresence: true})
			require.NoError(t, err)
			require.Equal(t, true, restAt(t, w.do(t, get, "/v1/api/user/privacy", u.token, nil).ok(t), "hidePresence"))
		},

		// GroupService
		"/group.GroupService/Ping": ping("/v1/api/group/ping"),
		"/group.GroupService/CreateGroup": func(t *testing.T, w *restWorld) {
			name := "rg-" + authzRandom()
			got := w.do(t, post, "/v1/api/group/create", w.owner.token, map[string]any{"name": name, "introduction": "about"}).ok(t)
			require.Equal(t, w.owner.id, restUint(t, got, "group", "userId"))
			viaGRPC, err := w.rpc.groups.GetGroup(w.owner.ctx(), &grouppb.GetGroupRequest{Id: restUint(t, got, "group", "id")})
			require.NoError(t, err)
			require.Equal(t, name, viaGRPC.GetGroup().GetName())
			require.Equal(t, "about", viaGRPC.GetGroup().GetIntroduction())
		},
		"/group.GroupService/UpdateGroup": func(t *testing.T, w *restWorld) {
			id := w.newGroup(t, w.owner)
			w.do(t, post, "/v1/api/group/update", w.owner.token, map[string]any{"id": id, "name": "renamed", "introduction": "new intro"}).ok(t)
			viaGRPC, err := w.rpc.groups.GetGroup(w.owner.ctx(), &grouppb.GetGroupRequest{Id: id})
			require.NoError(t, err)
			require.Equal(t, "renamed", viaGRPC.GetGroup().GetName())
			require.Equal(t, "new intro", viaGRPC.GetGroup().GetIntroduction())
		},
		"/group.GroupService/GetGroup": func(t *testing.T, w *restWorld) {
			got := w.do(t, get, fmt.Sprintf("/v1/api/group/%d", w.group), w.stranger.token, nil).ok(t)
			require.Equal(t, w.group, restUint(t, got, "group", "id"))
			viaGRPC, err := w.rpc.groups.GetGroup(w.stranger.ctx(), &grouppb.GetGroupRequest{Id: w.group})
			require.NoError(t, err)
			restSameAsGRPC(t, got, viaGRPC)
		},
		"/group.GroupService/QueryGroup": func(t *testing.T, w *restWorld) {
			viaGRPC, err := w.rpc.groups.GetGroup(w.owner.ctx(), &grouppb.GetGroupRequest{Id: w.group})
			require.NoError(t, err)
			got := w.do(t, get, "/v1/api/group?page=1&page_size=10&keyword="+url.QueryEscape(viaGRPC.GetGroup().GetName()), w.stranger.token, nil).ok(t)
			require.Equal(t, []uint64{w.group}, restIDs(t, got, "group"))
		},
		"/group.GroupService/DeleteGroup": func(t *testing.T, w *restWorld) {
			id := w.newGroup(t, w.owner)
			w.do(t, post, "/v1/api/group/delete", w.owner.token, map[string]any{"id": id}).ok(t)
			w.do(t, get, fmt.Sprintf("/v1/api/group/%d", id), w.owner.token, nil).fails(t, http.StatusNotFound, codes.NotFound, "group")
		},
		"/group.GroupService/JoinGroup": func(t *testing.T, w *restWorld) {
			id := w.newGroup(t, w.owner)
			w.do(t, post, "/v1/api/group/join", w.stranger.token, map[string]any{"id": id}).ok(t)
			members, err := w.rpc.groups.GetGroupUser(w.owner.ctx(), &grouppb.GetGroupUserRequest{Id: id})
			require.NoError(t, err)
			require.ElementsMatch(t, []uint64{w.owner.id, w.stranger.id}, restUserIDs(members.GetUser()))
		},
		"/group.GroupService/QuitGroup": func(t *testing.T, w *restWorld) {
			id := w.newGroup(t, w.owner)
			_, err := w.rpc.groups.JoinGroup(w.member.ctx(), &grouppb.JoinGroupRequest{Id: id})
			require.NoError(t, err)
			w.do(t, post, "/v1/api/group/quit", w.member.token, map[string]any{"id": id}).ok(t)
			members, err := w.rpc.groups.GetGroupUser(w.owner.ctx(), &grouppb.GetGroupUserRequest{Id: id})
			require.NoError(t, err)
			require.Equal(t, []uint64{w.owner.id}, restUserIDs(members.GetUser()))
		},
		"/group.GroupService/GetGroupUser": func(t *testing.T, w *restWorld) {
			got := w.do(t, get, fmt.Sprintf("/v1/api/group/%d/user?page=1&page_size=10", w.group), w.member.token, nil).ok(t)
			require.ElementsMatch(t, []uint64{w.owner.id, w.member.id}, restIDs(t, got, "user"))
			viaGRPC, err := w.rpc.groups.GetGroupUser(w.member.ctx(), &grouppb.GetGroupUserRequest{Id: w.group, Page: 1, PageSize: 10})
			require.NoError(t, err)
			restSameAsGRPC(t, got, viaGRPC)
		},
		"/group.GroupService/SetGroupMemberRole": func(t *testing.T, w *restWorld) {
			id := w.groupWithMember(t)
			w.do(t, post, "/v1/api/group/member/role", w.owner.token,
				map[string]any{"groupId": id, "userId": w.member.id, "role": "GROUP_ROLE_ADMIN"}).ok(t)
			require.Equal(t, map[uint64]grouppb.GroupRole{w.owner.id: grouppb.GroupRole_GROUP_ROLE_OWNER, w.member.id: grouppb.GroupRole_GROUP_ROLE_ADMIN},
				w.roles(t, id))
		},
		"/group.GroupService/TransferGroupOwner": func(t *testing.T, w *restWorld) {
			id := w.groupWithMember(t)
			w.do(t, post, "/v1/api/group/owner/transfer", w.owner.token, map[string]any{"group_id": id, "user_id": w.member.id}).ok(t)
			require.Equal(t, map[uint64]grouppb.GroupRole{w.owner.id: grouppb.GroupRole_GROUP_ROLE_ADMIN, w.member.id: grouppb.GroupRole_GROUP_ROLE_OWNER},
				w.roles(t, id))
			viaGRPC, err := w.rpc.groups.GetGroup(w.owner.ctx(), &grouppb.GetGroupRequest{Id: id})
			require.NoError(t, err)
			require.Equal(t, w.member.id, viaGRPC.GetGroup().GetUserId(), "the group's user_id is its owner")
		},
		"/group.GroupService/ListJoinRequests": func(t *testing.T, w *restWorld) {
			id, request := w.joinRequest(t)
			got := w.do(t, get, fmt.Sprintf("/v1/api/group/%d/request", id), w.owner.token, nil).ok(t)
			require.Equal(t, []uint64{request}, restIDs(t, got, "request"))
			require.Equal(t, w.stranger.id, restUint(t, restList(t, got, "request")[0], "user", "id"))
			viaGRPC, err := w.rpc.groups.ListJoinRequests(w.owner.ctx(), &grouppb.ListJoinRequestsRequest{GroupId: id})
			require.NoError(t, err)
			restSameAsGRPC(t, got, viaGRPC)
		},
		"/group.GroupService/DecideJoinRequest": func(t *testing.T, w *restWorld) {
			id, request := w.joinRequest(t)
			w.do(t, post, "/v1/api/group/request/decide", w.owner.token, map[string]any{"requestId": request, "approve": true}).ok(t)
			require.Contains(t, w.roles(t, id), w.stranger.id, "approved: a member")
			w.do(t, post, "/v1/api/group/request/decide", w.owner.token, map[string]any{"requestId": request, "approve": true}).
				fails(t, http.StatusNotFound, codes.NotFound, "join request not found")
		},
		"/group.GroupService/CreateGroupInvite": func(t *testing.T, w *restWorld) {
			id := w.newGroup(t, w.owner)
			expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
			got := w.do(t, post, "/v1/api/group/invite/create", w.owner.token,
				map[string]any{"groupId": id, "maxUses": 5, "expiresAt": expires.Format(time.RFC3339)}).ok(t)
			code := restString(t, got, "code")
			require.Len(t, code, 22)
			require.Equal(t, code, restString(t, got, "invite", "code"))
			require.Equal(t, float64(5), restAt(t, got, "invite", "maxUses"))
			listed, err := w.rpc.groups.ListGroupInvites(w.owner.ctx(), &grouppb.ListGroupInvitesRequest{GroupId: id})
			require.NoError(t, err)
			require.Len(t, listed.GetInvite(), 1)
			require.Equal(t, code, listed.GetInvite()[0].GetCode())
			require.Equal(t, uint32(5), listed.GetInvite()[0].GetMaxUses())
			require.True(t, expires.Equal(listed.GetInvite()[0].GetExpiresAt().AsTime()), "expires at %v", listed.GetInvite()[0].GetExpiresAt().AsTime())
		},
		"/group.GroupService/RevokeGroupInvite": func(t *testing.T, w *restWorld) {
			id := w.newGroup(t, w.owner)
			code := w.invite(t, id)
			w.do(t, post, "/v1/api/group/invite/revoke", w.owner.token, map[string]any{"code": code}).ok(t)
			listed, err := w.rpc.groups.ListGroupInvites(w.owner.ctx(), &grouppb.ListGroupInvitesRequest{GroupId: id})
			require.NoError(t, err)
			require.Empty(t, listed.GetInvite())
			_, err = w.rpc.groups.JoinGroupByInvite(w.stranger.ctx(), &grouppb.JoinGroupByInviteRequest{Code: code})
			require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
		},
		"/group.GroupService/ListGroupInvites": func(t *testing.T, w *restWorld) {
			id := w.newGroup(t, w.owner)
			first, second := w.invite(t, id), w.invite(t, id)
			got := w.do(t, get, fmt.Sprintf("/v1/api/group/%d/invite", id), w.owner.token, nil).ok(t)
			var listed []string
			for _, inv := range restList(t, got, "invite") {
				listed = append(listed, restString(t, inv, "code"))
			}
			require.ElementsMatch(t, []string{first, second}, listed)
			viaGRPC, err := w.rpc.groups.ListGroupInvites(w.owner.ctx(), &grouppb.ListGroupInvitesRequest{GroupId: id})
			require.NoError(t, err)
			restSameAsGRPC(t, got, viaGRPC)
		},
		"/group.GroupService/JoinGroupByInvite": func(t *testing.T, w *restWorld) {
			id := w.newGroup(t, w.owner)
			_, err := w.rpc.groups.UpdateGroup(w.owner.ctx(), &grouppb.UpdateGroupRequest{Id: id, JoinPolicy: grouppb.JoinPolicy_JOIN_POLICY_INVITE_ONLY.Enum()})
			require.NoError(t, err)
			got := w.do(t, post, "/v1/api/group/invite/join", w.stranger.token, map[string]any{"code": w.invite(t, id)}).ok(t)
			require.Equal(t, id, restUint(t, got, "group", "id"))
			require.Equal(t, "JOIN_POLICY_INVITE_ONLY", restString(t, got, "group", "joinPolicy"))
			require.Equal(t, float64(2), restAt(t, got, "group", "memberCount"))
			require.Contains(t, w.roles(t, id), w.stranger.id, "a member")
		},
		"/group.GroupService/MuteGroupMember": func(t *testing.T, w *restWorld) {
			id := w.groupWithMember(t)
			until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
			w.do(t, post, "/v1/api/group/member/mute", w.owner.token,
				map[string]any{"groupId": id, "userId": w.member.id, "until": until.Format(time.RFC3339)}).ok(t)
			members, err := w.rpc.groups.GetGroupUser(w.owner.ctx(), &grouppb.GetGroupUserRequest{Id: id})
			require.NoError(t, err)
			for _, m := range members.GetMember() {
				if m.GetUser().GetId() == w.member.id {
					require.True(t, until.Equal(m.GetMutedUntil().AsTime()), "muted until %v", m.GetMutedUntil().AsTime())
				}
			}
			w.do(t, post, "/v1/api/message/text/group", w.member.token, map[string]any{"toGroupId": id, "text": map[string]any{"content": "hi"}}).
				fails(t, http.StatusForbidden, codes.PermissionDenied, "muted")
		},
		"/group.GroupService/BanGroupMember": func(t *testing.T, w *restWorld) {
			id := w.groupWithMember(t)
			w.do(t, post, "/v1/api/group/member/ban", w.owner.token, map[string]any{"groupId": id, "userId": w.member.id, "reason": "spam"}).ok(t)
			require.NotContains(t, w.roles(t, id), w.member.id, "banned: removed")
			bans, err := w.rpc.groups.ListGroupBans(w.owner.ctx(), &grouppb.ListGroupBansRequest{GroupId: id})
			require.NoError(t, err)
			require.Len(t, bans.GetBan(), 1)
			require.Equal(t, w.member.id, bans.GetBan()[0].GetUser().GetId())
			require.Equal(t, "spam", bans.GetBan()[0].GetReason())
			require.Equal(t, w.owner.id, bans.GetBan()[0].GetBannedBy())
		},
		"/group.GroupService/UnbanGroupMember": func(t *testing.T, w *restWorld) {
			id := w.newGroup(t, w.owner)
			_, err := w.rpc.groups.BanGroupMember(w.owner.ctx(), &grouppb.BanGroupMemberRequest{GroupId: id, UserId: w.stranger.id})
			require.NoError(t, err)
			w.do(t, post, "/v1/api/group/member/unban", w.owner.token, map[string]any{"groupId": id, "userId": w.stranger.id}).ok(t)
			bans, err := w.rpc.groups.ListGroupBans(w.owner.ctx(), &grouppb.ListGroupBansRequest{GroupId: id})
			require.NoError(t, err)
			require.Empty(t, bans.GetBan())
			_, err = w.rpc.groups.JoinGroup(w.stranger.ctx(), &grouppb.JoinGroupRequest{Id: id})
			require.NoError(t, err, "unbanned: it may join again")
		},
		"/group.GroupService/ListGroupBans": func(t *testing.T, w *restWorld) {
			id := w.newGroup(t, w.owner)
			_, err := w.rpc.groups.BanGroupMember(w.owner.ctx(), &grouppb.BanGroupMemberRequest{GroupId: id, UserId: w.stranger.id, Reason: "spam"})
			require.NoError(t, err)
			got := w.do(t, get, fmt.Sprintf("/v1/api/group/%d/ban", id), w.owner.token, nil).ok(t)
			bans := restList(t, got, "ban")
			require.Len(t, bans, 1)
			require.Equal(t, w.stranger.id, restUint(t, bans[0], "user", "id"))
			require.Equal(t, "spam", restString(t, bans[0], "reason"))
			viaGRPC, err := w.rpc.groups.ListGroupBans(w.owner.ctx(), &grouppb.ListGroupBansRequest{GroupId: id})
			require.NoError(t, err)
			restSameAsGRPC(t, got, viaGRPC)
		},

		// FeedService
		"/feed.FeedService/Ping": ping("/v1/api/feed/ping"),
		"/feed.FeedService/FeedCreate": func(t *testing.T, w *restWorld) {
			got := w.do(t, post, "/v1/api/feed", w.owner.token, map[string]any{"type": "Txt", "content": "created over REST"}).ok(t)
			require.Equal(t, w.owner.id, restUint(t, got, "feed", "userId"))
			require.Equal(t, "ReviewPass", restString(t, got, "feed", "reviewStatus"))
			viaGRPC, err := w.rpc.feeds.FeedGet(w.owner.ctx(), &feedpb.FeedGetRequest{Id: restUint(t, got, "feed", "id")})
			require.NoError(t, err)
			require.Equal(t, "created over REST", viaGRPC.GetFeed().GetContent())
		},
		"/feed.FeedService/FeedEdit": func(t *testing.T, w *restWorld) {
			id := w.newFeed(t, w.owner)
			got := w.do(t, post, fmt.Sprintf("/v1/api/feed/%d", id), w.owner.token, map[string]any{"type": "Txt", "content": "edited"}).ok(t)
			require.Equal(t, id, restUint(t, got, "id"))
			viaGRPC, err := w.rpc.feeds.FeedGet(w.owner.ctx(), &feedpb.FeedGetRequest{Id: id})
			require.NoError(t, err)
			require.Equal(t, "edited", viaGRPC.GetFeed().GetContent())
		},
		"/feed.FeedService/FeedLike": func(t *testing.T, w *restWorld) {
			id := w.newFeed(t, w.owner)
			w.do(t, post, fmt.Sprintf("/v1/api/feed/%d/like", id), w.member.token, map[string]any{}).ok(t)
			viaGRPC, err := w.rpc.feeds.FeedGet(w.member.ctx(), &feedpb.FeedGetRequest{Id: id})
			require.NoError(t, err)
			require.True(t, viaGRPC.GetFeed().GetLiked())
			require.Equal(t, uint64(1), viaGRPC.GetFeed().GetLikeCount())
		},
		"/feed.FeedService/FeedUnLike": func(t *testing.T, w *restWorld) {
			id := w.newFeed(t, w.owner)
			_, err := w.rpc.feeds.FeedLike(w.member.ctx(), &feedpb.FeedLikeRequest{Id: id})
			require.NoError(t, err)
			w.do(t, post, fmt.Sprintf("/v1/api/feed/%d/unlike", id), w.member.token, map[string]any{}).ok(t)
			viaGRPC, err := w.rpc.feeds.FeedGet(w.member.ctx(), &feedpb.FeedGetRequest{Id: id})
			require.NoError(t, err)
			require.False(t, viaGRPC.GetFeed().GetLiked())
			require.Zero(t, viaGRPC.GetFeed().GetLikeCount())
		},
		"/feed.FeedService/FeedGet": func(t *testing.T, w *restWorld) {
			got := w.do(t, get, fmt.Sprintf("/v1/api/feed/%d", w.feed), w.member.token, nil).ok(t)
			require.Equal(t, w.feed, restUint(t, got, "feed", "id"))
			require.Equal(t, w.owner.id, restUint(t, got, "feed", "userId"))
			require.True(t, strings.HasPrefix(restString(t, got, "feed", "content"), "rest feed "))
		},
		"/feed.FeedService/FeedDelete": func(t *testing.T, w *restWorld) {
			id := w.newFeed(t, w.owner)
			w.do(t, http.MethodDelete, fmt.Sprintf("/v1/api/feed/%d", id), w.owner.token, nil).ok(t)
			w.do(t, get, fmt.Sprintf("/v1/api/feed/%d", id), w.owner.token, nil).fails(t, http.StatusNotFound, codes.NotFound, "feed not found")
		},
		"/feed.FeedService/FeedOwn": func(t *testing.T, w *restWorld) {
			u := w.signUp(t, false)
			id := w.newFeed(t, u)
			got := w.do(t, get, "/v1/api/feed/own?num=10", u.token, nil).ok(t)
			require.Equal(t, []uint64{id}, restIDs(t, got, "feed"))
		},
		"/feed.FeedService/FeedQuery": func(t *testing.T, w *restWorld) {
			word := "restq" + authzRandom()
			got := w.do(t, post, "/v1/api/feed", w.owner.token, map[string]any{"type": "Txt", "content": "about " + word}).ok(t)
			found := w.do(t, get, "/v1/api/feed/query?num=10&keyword="+word, w.member.token, nil).ok(t)
			require.Equal(t, []uint64{restUint(t, got, "feed", "id")}, restIDs(t, found, "feed"))

			// user_id (either spelling): one author's public feeds, a profile's posts.
			author := w.signUp(t, false)
			older, newer := w.newFeed(t, author), w.newFeed(t, author)
			byAuthor := w.do(t, get, fmt.Sprintf("/v1/api/feed/query?num=10&user_id=%d", author.id), w.member.token, nil).ok(t)
			require.Equal(t, []uint64{newer, older}, restIDs(t, byAuthor, "feed"))
			viaGRPC, err := w.rpc.feeds.FeedQuery(w.member.ctx(), &feedpb.FeedQueryRequest{UserId: author.id, Num: 10})
			require.NoError(t, err)
			restSameAsGRPC(t, byAuthor, viaGRPC)
			paged := w.do(t, get, fmt.Sprintf("/v1/api/feed/query?userId=%d&lastId=%d", author.id, newer), w.member.token, nil).ok(t)
			require.Equal(t, []uint64{older}, restIDs(t, paged, "feed"))
			none := w.do(t, get, fmt.Sprintf("/v1/api/feed/query?user_id=%d&keyword=%s", author.id, word), w.member.token, nil).ok(t)
			require.Empty(t, restList(t, none, "feed"), "the keyword is another author's")
		},
		"/feed.FeedService/FeedFollow": func(t *testing.T, w *restWorld) {
			author, fan := w.signUp(t, false), w.signUp(t, false)
			id := w.newFeed(t, author)
			_, err := w.rpc.users.FollowUser(fan.ctx(), &userpb.FollowUserRequest{UserId: author.id})
			require.NoError(t, err)
			got := w.do(t, get, "/v1/api/feed/follow?num=10", fan.token, nil).ok(t)
			require.Equal(t, []uint64{id}, restIDs(t, got, "feed"))
		},
		"/feed.FeedService/FeedRecommend": func(t *testing.T, w *restWorld) {
			got := w.do(t, get, "/v1/api/feed/recommend?num=3", w.member.token, nil).ok(t)
			feeds := restList(t, got, "feed")
			require.NotEmpty(t, feeds, "owner's feeds are there to recommend")
			require.LessOrEqual(t, len(feeds), 3, "num")
			for _, f := range feeds {
				require.NotEqual(t, w.member.id, restUint(t, f, "userId"), "not the caller's own")
			}
		},
		"/feed.FeedService/FeedReview": func(t *testing.T, w *restWorld) {
			id := w.newFeed(t, w.owner)
			w.do(t, post, fmt.Sprintf("/v1/api/feed/%d/review", id), w.admin.token,
				map[string]any{"review_status": "ReviewFail", "remark": "off topic"}).ok(t)
			viaGRPC, err := w.rpc.feeds.FeedGet(w.owner.ctx(), &feedpb.FeedGetRequest{Id: id})
			require.NoError(t, err)
			require.Equal(t, commonpb.ReviewStatus_ReviewFail, viaGRPC.GetFeed().GetReviewStatus())
			require.Equal(t, "off topic", viaGRPC.GetFeed().GetRemark())
		},
		"/feed.FeedService/FeedCommentCreate": func(t *testing.T, w *restWorld) {
			id := w.newFeed(t, w.owner)
			got := w.do(t, post, fmt.Sprintf("/v1/api/feed/%d/comment", id), w.member.token, map[string]any{"content": "nice"}).ok(t)
			require.Equal(t, id, restUint(t, got, "comment", "feedId"))
			require.Equal(t, w.member.id, restUint(t, got, "comment", "userId"))
			comments, err := w.rpc.feeds.FeedCommentList(w.owner.ctx(), &feedpb.FeedCommentListRequest{FeedId: id})
			require.NoError(t, err)
			require.Len(t, comments.GetComment(), 1)
			require.Equal(t, restUint(t, got, "comment", "id"), comments.GetComment()[0].GetId())
		},
		"/feed.FeedService/FeedCommentList": func(t *testing.T, w *restWorld) {
			id := w.newFeed(t, w.owner)
			c, err := w.rpc.feeds.FeedCommentCreate(w.member.ctx(), &feedpb.FeedCommentCreateRequest{FeedId: id, Content: "first"})
			require.NoError(t, err)
			got := w.do(t, get, fmt.Sprintf("/v1/api/feed/%d/comment?num=10", id), w.stranger.token, nil).ok(t)
			require.Equal(t, []uint64{c.GetComment().GetId()}, restIDs(t, got, "comment"))
			require.Equal(t, "first", restString(t, restList(t, got, "comment")[0], "content"))
		},
		"/feed.FeedService/FeedCommentDelete": func(t *testing.T, w *restWorld) {
			id := w.newFeed(t, w.owner)
			c, err := w.rpc.feeds.FeedCommentCreate(w.member.ctx(), &feedpb.FeedCommentCreateRequest{FeedId: id, Content: "oops"})
			require.NoError(t, err)
			w.do(t, http.MethodDelete, fmt.Sprintf("/v1/api/feed/comment/%d", c.GetComment().GetId()), w.member.token, nil).ok(t)
			comments, err := w.rpc.feeds.FeedCommentList(w.owner.ctx(), &feedpb.FeedCommentListRequest{FeedId: id})
			require.NoError(t, err)
			require.Empty(t, comments.GetComment())
		},

		// MessageService (the sends are added below)
		"/message.MessageService/Ping": ping("/v1/api/message/ping"),
		"/message.MessageService/ListConversations": func(t *testing.T, w *restWorld) {
			a, b := w.signUp(t, false), w.signUp(t, false)
			w.sendText(t, a, b, "hello b")
			got := w.do(t, get, "/v1/api/message/conversation", b.token, nil).ok(t)
			conversations := restList(t, got, "conversation")
			require.Len(t, conversations, 1)
			require.Equal(t, authzPair(a.id, b.id), restString(t, conversations[0], "conversationId"))
			require.Equal(t, a.id, restUint(t, conversations[0], "peerUser", "id"))
			require.Equal(t, "hello b", restString(t, conversations[0], "lastMessage", "text", "content"))
			require.Equal(t, uint64(1), restUint(t, conversations[0], "unreadCount"))
		},
		"/message.MessageService/SyncMessages": func(t *testing.T, w *restWorld) {
			a, b := w.signUp(t, false), w.signUp(t, false)
			first := w.sendText(t, a, b, "one")
			second := w.sendText(t, a, b, "two")
			conv := url.QueryEscape(authzPair(a.id, b.id))
			got := w.do(t, get, "/v1/api/message/sync?after_seq=1&conversation_id="+conv, b.token, nil).ok(t)
			require.Equal(t, []uint64{second}, restIDs(t, got, "message"))
			require.Equal(t, uint64(2), restUint(t, restList(t, got, "message")[0], "seq"))
			require.Equal(t, false, restAt(t, got, "hasMore"))
			// Scroll-back: the page just before a seq, in seq order.
			third := w.sendText(t, a, b, "three")
			got = w.do(t, get, "/v1/api/message/sync?before_seq=3&limit=1&conversation_id="+conv, b.token, nil).ok(t)
			require.Equal(t, []uint64{second}, restIDs(t, got, "message"))
			require.Equal(t, true, restAt(t, got, "hasMore"))
			got = w.do(t, get, "/v1/api/message/sync?before_seq=18446744073709551615&conversation_id="+conv, b.token, nil).ok(t)
			require.Equal(t, []uint64{first, second, third}, restIDs(t, got, "message"), "beyond the last seq: the newest page")
			require.Equal(t, false, restAt(t, got, "hasMore"))
			w.do(t, get, "/v1/api/message/sync?after_seq=1&before_seq=3&conversation_id="+conv, b.token, nil).
				fails(t, http.StatusBadRequest, codes.InvalidArgument, "after_seq and before_seq: set one, not both")
		},
		"/message.MessageService/MarkRead": func(t *testing.T, w *restWorld) {
			a, b := w.signUp(t, false), w.signUp(t, false)
			w.sendText(t, a, b, "one")
			w.sendText(t, a, b, "two")
			w.do(t, post, "/v1/api/message/read", b.token, map[string]any{"conversation_id": authzPair(a.id, b.id), "seq": 1}).ok(t)
			list, err := w.rpc.messages.ListConversations(b.ctx(), &messagepb.ListConversationsRequest{})
			require.NoError(t, err)
			require.Len(t, list.GetConversation(), 1)
			require.Equal(t, uint64(1), list.GetConversation()[0].GetReadSeq())
			require.Equal(t, uint64(1), list.GetConversation()[0].GetUnreadCount())
		},
		"/message.MessageService/MarkDelivered": func(t *testing.T, w *restWorld) {
			a, b := w.signUp(t, false), w.signUp(t, false)
			w.sendText(t, a, b, "one")
			w.do(t, post, "/v1/api/message/delivered", b.token, map[string]any{"conversation_id": authzPair(a.id, b.id), "seq": 1}).ok(t)
			got, err := w.rpc.messages.GetReceipts(a.ctx(), &messagepb.GetReceiptsRequest{ConversationId: authzPair(a.id, b.id), Seq: 1})
			require.NoError(t, err)
			require.True(t, got.GetDelivered())
			require.False(t, got.GetRead())
		},
		"/message.MessageService/GetReceipts": func(t *testing.T, w *restWorld) {
			a, b := w.signUp(t, false), w.signUp(t, false)
			w.sendText(t, a, b, "one")
			conv := authzPair(a.id, b.id)
			_, err := w.rpc.messages.MarkRead(b.ctx(), &messagepb.MarkReadRequest{ConversationId: conv, Seq: 1})
			require.NoError(t, err)
			got := w.do(t, get, "/v1/api/message/receipts?seq=1&conversation_id="+conv, a.token, nil).ok(t)
			require.Equal(t, true, restAt(t, got, "read"))
			require.Equal(t, uint64(1), restUint(t, got, "readCount"))
			w.do(t, get, "/v1/api/message/receipts?conversation_id="+conv, a.token, nil).
				fails(t, http.StatusBadRequest, codes.InvalidArgument, "seq: is required")
		},
		"/message.MessageService/UpdateConversation": func(t *testing.T, w *restWorld) {
			a, b, c := w.signUp(t, false), w.signUp(t, false), w.signUp(t, false)
			w.sendText(t, a, b, "one")
			w.sendText(t, c, b, "two")
			conv := authzPair(a.id, b.id)
			got := w.do(t, post, "/v1/api/message/conversation/settings", b.token,
				map[string]any{"conversation_id": conv, "pinned": true, "mutedUntil": "2999-01-01T00:00:00Z"}).ok(t)
			require.Equal(t, true, restAt(t, got, "conversation", "pinned"))
			require.Equal(t, "2999-01-01T00:00:00Z", restString(t, got, "conversation", "mutedUntil"))
			require.Equal(t, a.id, restUint(t, got, "conversation", "peerUser", "id"))
			list, err := w.rpc.messages.ListConversations(b.ctx(), &messagepb.ListConversationsRequest{})
			require.NoError(t, err)
			require.Equal(t, conv, list.GetConversation()[0].GetConversationId(), "pinned first")
			require.True(t, list.GetConversation()[0].GetPinned())
			// Archived: out of the list unless asked for, a page at a time.
			w.do(t, post, "/v1/api/message/conversation/settings", b.token, map[string]any{"conversation_id": conv, "archived": true}).ok(t)
			listed := w.do(t, get, "/v1/api/message/conversation", b.token, nil).ok(t)
			require.Equal(t, []any{authzPair(c.id, b.id)}, restIDsOf(t, listed))
			page := w.do(t, get, "/v1/api/message/conversation?include_archived=true&page_size=1", b.token, nil).ok(t)
			require.Equal(t, []any{conv}, restIDsOf(t, page))
			page = w.do(t, get, "/v1/api/message/conversation?include_archived=true&page_size=1&page_token="+
				url.QueryEscape(restString(t, page, "nextPageToken")), b.token, nil).ok(t)
			require.Equal(t, []any{authzPair(c.id, b.id)}, restIDsOf(t, page))
			require.Empty(t, restString(t, page, "nextPageToken"), "the last page")
			w.do(t, get, "/v1/api/message/conversation?page_token=nonsense", b.token, nil).
				fails(t, http.StatusBadRequest, codes.InvalidArgument, "page_token")
			w.do(t, post, "/v1/api/message/conversation/settings", c.token, map[string]any{"conversation_id": conv, "pinned": true}).
				fails(t, http.StatusForbidden, codes.PermissionDenied, "not a participant")
			w.do(t, post, "/v1/api/message/conversation/settings", b.token, map[string]any{"conversation_id": conv}).
				fails(t, http.StatusBadRequest, codes.InvalidArgument, "set at least one")
		},
		"/message.MessageService/SendTyping": func(t *testing.T, w *restWorld) {
			a, b := w.signUp(t, false), w.signUp(t, false)
			w.sendText(t, a, b, "one")
			w.do(t, post, "/v1/api/message/typing", b.token, map[string]any{"conversation_id": authzPair(a.id, b.id)}).ok(t)
			c := w.signUp(t, false)
			w.do(t, post, "/v1/api/message/typing", c.token, map[string]any{"conversation_id": authzPair(a.id, b.id)}).
				fails(t, http.StatusForbidden, codes.PermissionDenied, "not a participant")
		},
		"/message.MessageService/EditMessage": func(t *testing.T, w *restWorld) {
			a, b := w.signUp(t, false), w.signUp(t, false)
			id := w.sendText(t, a, b, "helo")
			r := w.do(t, post, fmt.Sprintf("/v1/api/message/%d/edit", id), a.token, map[string]any{"text": map[string]any{"content": "hello"}})
			r.ok(t)
			edited, _ := r.body["message"].(map[string]any)
			require.Equal(t, "hello", edited["text"].(map[string]any)["content"], "%s", r.raw)
			require.EqualValues(t, 1, edited["editCount"], "%s", r.raw)
			w.do(t, post, fmt.Sprintf("/v1/api/message/%d/edit", id), b.token, map[string]any{"text": map[string]any{"content": "mine now"}}).
				fails(t, http.StatusForbidden, codes.PermissionDenied, "only its sender")
			synced, err := w.rpc.messages.SyncMessages(b.ctx(), &messagepb.SyncMessagesRequest{ConversationId: authzPair(a.id, b.id)})
			require.NoError(t, err)
			require.Len(t, synced.GetChanges(), 1)
			require.Equal(t, "hello", synced.GetChanges()[0].GetMessage().GetText().GetContent())
		},
		"/message.MessageService/RecallMessage": func(t *testing.T, w *restWorld) {
			a, b := w.signUp(t, false), w.signUp(t, false)
			id := w.sendText(t, a, b, "not for you")
			w.do(t, post, fmt.Sprintf("/v1/api/message/%d/recall", id), b.token, map[string]any{}).
				fails(t, http.StatusForbidden, codes.PermissionDenied, "only its sender")
			w.do(t, post, fmt.Sprintf("/v1/api/message/%d/recall", id), a.token, map[string]any{}).ok(t)
			synced, err := w.rpc.messages.SyncMessages(b.ctx(), &messagepb.SyncMessagesRequest{ConversationId: authzPair(a.id, b.id)})
			require.NoError(t, err)
			require.True(t, synced.GetMessage()[0].GetRecalled())
			require.Nil(t, synced.GetMessage()[0].GetBody())
		},
		"/message.MessageService/ReactToMessage": func(t *testing.T, w *restWorld) {
			a, b := w.signUp(t, false), w.signUp(t, false)
			id := w.sendText(t, a, b, "react to this")
			r := w.do(t, post, fmt.Sprintf("/v1/api/message/%d/react", id), b.token, map[string]any{"emoji": "🎉"})
			r.ok(t)
			reactions, _ := r.body["reactions"].([]any)
			require.Len(t, reactions, 1, "%s", r.raw)
			chip := reactions[0].(map[string]any)
			require.Equal(t, "🎉", chip["emoji"], "%s", r.raw)
			require.EqualValues(t, "1", chip["count"], "%s", r.raw) // uint64 as a JSON string
			require.Equal(t, true, chip["mine"], "%s", r.raw)
			require.Equal(t, []any{strconv.FormatUint(b.id, 10)}, chip["recentUserId"], "%s", r.raw)
			w.do(t, post, fmt.Sprintf("/v1/api/message/%d/react", id), b.token, map[string]any{"emoji": "two words"}).
				fails(t, http.StatusBadRequest, codes.InvalidArgument, "emoji:")
			w.do(t, post, fmt.Sprintf("/v1/api/message/%d/react", id), b.token, map[string]any{"emoji": "🎉", "remove": true}).ok(t)
			synced, err := w.rpc.messages.SyncMessages(a.ctx(), &messagepb.SyncMessagesRequest{ConversationId: authzPair(a.id, b.id)})
			require.NoError(t, err)
			require.Empty(t, synced.GetMessage()[0].GetReactions())
			require.Len(t, synced.GetChanges(), 2)
		},
		"/message.MessageService/DeleteMessageForMe": func(t *testing.T, w *restWorld) {
			a, b := w.signUp(t, false), w.signUp(t, false)
			id := w.sendText(t, a, b, "only a keeps this")
			w.do(t, post, fmt.Sprintf("/v1/api/message/%d/delete-for-me", id), b.token, map[string]any{}).ok(t)
			for who, want := range map[clusterUser]int{a: 1, b: 0} {
				synced, err := w.rpc.messages.SyncMessages(who.ctx(), &messagepb.SyncMessagesRequest{ConversationId: authzPair(a.id, b.id)})
				require.NoError(t, err)
				require.Len(t, synced.GetMessage(), want)
			}
		},

		// GatewayService
		"/gateway.GatewayService/Ping": ping("/v1/api/gateway/ping"),
		"/gateway.GatewayService/Register": func(t *testing.T, w *restWorld) {
			gatewayID, clientID := "edge-"+authzRandom(), "c-"+authzRandom()
			edge := w.rpc.openEdge(t, gatewayID)
			body := map[string]any{"gateway_id": gatewayID, "client_id": clientID}
			w.do(t, post, "/v1/api/gateway/register", "", map[string]any{"gateway_id": "edge-closed", "client_id": clientID}, w.gatewayHeaders(w.owner)...).
				fails(t, http.StatusNotFound, codes.NotFound, "gateway_id: no edge gateway stream")
			// A user's token is not the gateway credential.
			w.do(t, post, "/v1/api/gateway/register", w.owner.token, body, "Client-Authorization", "Bearer "+w.owner.token).
				fails(t, http.StatusForbidden, codes.PermissionDenied, "edge gateways")
			w.do(t, post, "/v1/api/gateway/register", "", body, w.gatewayHeaders(w.owner)...).ok(t)
			// The client is owner's: a message to owner reaches it on the edge's stream.
			sent := w.sendText(t, w.member, w.owner, "to the edge")
			f := restAwaitFrame(t, edge, func(f *gatewaypb.SendMessageResponse) bool { return f.GetCmd() == message.CmdMessage })
			require.Equal(t, clientID, f.GetReceiverId())
			var pushed messagepb.Message
			require.NoError(t, proto.Unmarshal(f.GetData(), &pushed))
			require.Equal(t, sent, pushed.GetId())
		},
		"/gateway.GatewayService/UnRegister": func(t *testing.T, w *restWorld) {
			gatewayID, clientID := "edge-"+authzRandom(), "c-"+authzRandom()
			w.rpc.openEdge(t, gatewayID)
			w.rpc.registerClient(t, &authzUser{token: w.owner.token}, gatewayID, clientID)
			body := map[string]any{"gatewayId": gatewayID, "clientId": clientID}
			gatewayCredential := []string{"Authorization", "Gateway " + w.cfg.GatewaySecret}
			w.do(t, post, "/v1/api/gateway/unRegister", "", body, gatewayCredential...).ok(t)
			w.do(t, post, "/v1/api/gateway/unRegister", "", body, gatewayCredential...).
				fails(t, http.StatusNotFound, codes.NotFound, "client_id: not registered")
		},
		"/gateway.GatewayService/SendMessage": func(t *testing.T, w *restWorld) {
			w.do(t, post, "/v1/api/gateway/send", w.owner.token, map[string]any{"cmd": "ping", "request_id": 1}).
				fails(t, http.StatusNotImplemented, codes.Unimplemented, "bidirectional stream")
			r := w.do(t, post, "/v1/api/gateway/send", w.owner.token, map[string]any{"cmd": "ping"})
			require.Contains(t, r.body["message"], "WebSocket at /ws")
			require.Contains(t, r.body["message"], "gRPC")
		},
		"/gateway.GatewayService/SendToAll": func(t *testing.T, w *restWorld) {
			gatewayID, clientID := "edge-"+authzRandom(), "c-"+authzRandom()
			edge := w.rpc.openEdge(t, gatewayID)
			w.rpc.registerClient(t, &authzUser{token: w.owner.token}, gatewayID, clientID)
			notice := "notice " + authzRandom()
			w.do(t, post, "/v1/api/gateway/sendToAll", w.owner.token, map[string]any{"data": []byte(notice)}).
				fails(t, http.StatusForbidden, codes.PermissionDenied, "admins")
			w.do(t, post, "/v1/api/gateway/sendToAll", w.admin.token, map[string]any{"data": []byte(notice)}).ok(t)
			f := restAwaitFrame(t, edge, func(f *gatewaypb.SendMessageResponse) bool { return f.GetCmd() == gateway.CmdBroadcast })
			require.Equal(t, notice, string(f.GetData()))
			require.Equal(t, clientID, f.GetReceiverId())
		},
	}
	for _, k := range restMessageKinds {
		segment := strings.ToLower(k.name)
		calls["/message.MessageService/SendUser"+k.name+"Message"] = func(t *testing.T, w *restWorld) {
			got := w.do(t, post, "/v1/api/message/"+segment+"/user", w.owner.token, map[string]any{"to_user_id": w.member.id, k.field: k.body}).ok(t)
			m := w.syncedMessage(t, w.member, authzPair(w.owner.id, w.member.id), restUint(t, got, "id"))
			require.Equal(t, k.typ, restString(t, m, "type"))
			require.Equal(t, w.owner.id, restUint(t, m, "fromUserId"))
			require.Equal(t, w.member.id, restUint(t, m, "toUserId"))
			require.Equal(t, k.body[k.probe], restAt(t, m, k.field, k.probe))
		}
		group := "SendGroup" + k.name + "Message"
		if k.name == "Face" {
			group = "SendGroupFceMessage" // the original's spelling
		}
		calls["/message.MessageService/"+group] = func(t *testing.T, w *restWorld) {
			got := w.do(t, post, "/v1/api/message/"+segment+"/group", w.member.token,
				map[string]any{"toGroupId": w.group, "atUserId": []uint64{w.owner.id}, k.field: k.body}).ok(t)
			m := w.syncedMessage(t, w.owner, fmt.Sprintf("g:%d", w.group), restUint(t, got, "id"))
			require.Equal(t, k.typ, restString(t, m, "type"))
			require.Equal(t, w.member.id, restUint(t, m, "fromUserId"))
			require.Equal(t, w.group, restUint(t, m, "toGroupId"))
			require.Equal(t, []any{strconv.FormatUint(w.owner.id, 10)}, restAt(t, m, "atUserId"))
			require.Equal(t, k.body[k.probe], restAt(t, m, k.field, k.probe))
		}
	}
	return calls
}

// restIDsOf is a conversation list's conversation ids, in order.
func restIDsOf(t *testing.T, listed map[string]any) []any {
	t.Helper()
	var ids []any
	for _, c := range restList(t, listed, "conversation") {
		ids = append(ids, restAt(t, c, "conversationId"))
	}
	return ids
}

// restUserIDs are the ids of users.
func restUserIDs(users []*userpb.User) []uint64 {
	var ids []uint64
	for _, u := range users {
		ids = append(ids, u.GetId())
	}
	return ids
}

// Every route has a call, every method served has a call and a route: a
// new method without either fails here.
func TestRESTCallsCoverEveryMethod(t *testing.T) {
	t.Parallel()
	e := restServe(t)
	calls, routes := restCalls(), restRoutes()
	for method := range routes {
		require.Contains(t, calls, method, "%s has a route but no call in restCalls", method)
	}
	served := authzServedMethods(e.app)
	require.NotEmpty(t, served)
	for _, method := range served {
		require.Contains(t, calls, method, "%s is served but has no call in restCalls", method)
		require.Contains(t, routes, method, "%s is served but has no REST route", method)
	}
	for method := range calls {
		require.Contains(t, served, method, "restCalls has %s, which the server does not serve", method)
	}
}

// TestRESTEveryRoute calls every method over REST, as the right caller with
// a valid request, and checks the effect.
func TestRESTEveryRoute(t *testing.T) {
	t.Parallel()
	w := restSetup(t)
	calls := restCalls()
	methods := make([]string, 0, len(calls))
	for method := range calls {
		methods = append(methods, method)
	}
	sort.Strings(methods)
	for _, method := range methods {
		t.Run(strings.TrimPrefix(method, "/"), func(t *testing.T) { calls[method](t, w) })
	}
}

// Literal segments are their own routes, not an {id}.
func TestRESTLiteralRoutesAreNotIDs(t *testing.T) {
	t.Parallel()
	e := restServe(t)
	u := e.signUp(t, false)
	for path, key := range map[string]string{
		"/v1/api/feed/own": "pager", "/v1/api/feed/query": "pager", "/v1/api/feed/follow": "pager",
		"/v1/api/feed/recommend": "pager", "/v1/api/feed/ping": "content",
		"/v1/api/user/ping": "content", "/v1/api/user/following": "pager", "/v1/api/user/followers": "pager",
		"/v1/api/user/blocked": "pager", "/v1/api/user/privacy": "hidePresence", "/v1/api/group/ping": "content",
	} {
		t.Run(path, func(t *testing.T) {
			got := e.do(t, http.MethodGet, path, u.token, nil).ok(t)
			require.Contains(t, got, key, "answered by its own method: %v", got)
			if key == "content" {
				require.Equal(t, "pong", got["content"])
			}
		})
	}
	for _, path := range []string{"/v1/api/feed/abc", "/v1/api/user/abc", "/v1/api/group/abc"} {
		e.do(t, http.MethodGet, path, u.token, nil).fails(t, http.StatusBadRequest, codes.InvalidArgument, "parameter: id")
	}
}

func TestRESTAuthRefusals(t *testing.T) {
	t.Parallel()
	e := restServe(t)
	owner, other := e.signUp(t, false), e.signUp(t, false)
	feed := e.newFeed(t, owner)
	edit := map[string]any{"type": "Txt", "content": "not yours"}

	const wantBearer = "want the header `authorization: Bearer <token>`"
	t.Run("no token", func(t *testing.T) {
		e.do(t, http.MethodGet, fmt.Sprintf("/v1/api/user/%d", owner.id), "", nil).fails(t, http.StatusUnauthorized, codes.Unauthenticated, wantBearer)
		e.do(t, http.MethodPost, "/v1/api/feed", "", edit).fails(t, http.StatusUnauthorized, codes.Unauthenticated, wantBearer)
	})
	t.Run("a bad token", func(t *testing.T) {
		e.do(t, http.MethodGet, fmt.Sprintf("/v1/api/user/%d", owner.id), "not-a-token", nil).
			fails(t, http.StatusUnauthorized, codes.Unauthenticated, "invalid, expired or revoked token")
		e.do(t, http.MethodGet, fmt.Sprintf("/v1/api/user/%d", owner.id), "", nil, "Authorization", "Basic b3duZXI6c2VjcmV0").
			fails(t, http.StatusUnauthorized, codes.Unauthenticated, wantBearer)
	})
	t.Run("a non-owner editing a feed", func(t *testing.T) {
		e.do(t, http.MethodPost, fmt.Sprintf("/v1/api/feed/%d", feed), other.token, edit).fails(t, http.StatusForbidden, codes.PermissionDenied, "owner")
		viaGRPC, err := e.rpc.feeds.FeedGet(owner.ctx(), &feedpb.FeedGetRequest{Id: feed})
		require.NoError(t, err)
		require.NotEqual(t, "not yours", viaGRPC.GetFeed().GetContent())
	})
	t.Run("SendEmail by a non-admin", func(t *testing.T) {
		e.do(t, http.MethodPost, "/v1/api/common/email", other.token, map[string]any{
			"receiver": map[string]string{"Ann": "ann@example.com"}, "subject": "hi", "content": "hello",
		}).fails(t, http.StatusForbidden, codes.PermissionDenied, "admin")
	})
}

func TestRESTBadInput(t *testing.T) {
	t.Parallel()
	e := restServe(t)
	u, peer := e.signUp(t, false), e.signUp(t, false)
	for _, c := range []struct {
		name, path string
		token      string
		body       any
		want       string
	}{
		{"CreateUser with a 1-character password", "/v1/api/user", "",
			map[string]any{"nickname": uniqueNickname("restb"), "password": "x", "password_rpt": "x"}, "password"},
		{"CreateUser with a mismatched password_rpt", "/v1/api/user", "",
			map[string]any{"nickname": uniqueNickname("restb"), "password": restPassword, "passwordRpt": "secret124"}, "password_rpt"},
		{"SendUserTextMessage with empty content", "/v1/api/message/text/user", u.token,
			map[string]any{"to_user_id": peer.id, "text": map[string]any{"content": ""}}, "text.content"},
		{"a body that is not JSON", "/v1/api/message/text/user", u.token, "to_user_id=1&text=hi", "invalid"},
		// The field is named by its JSON name, however the body spelled it.
		{"a uint64 given \"abc\"", "/v1/api/message/text/user", u.token,
			map[string]any{"to_user_id": "abc", "text": map[string]any{"content": "hi"}}, "uint64 field toUserId"},
		{"a uint64 given \"abc\" in camelCase", "/v1/api/message/text/user", u.token,
			map[string]any{"toUserId": "abc", "text": map[string]any{"content": "hi"}}, "uint64 field toUserId"},
		{"a string given a number", "/v1/api/user/login", "", map[string]any{"nickname": 7, "password": "x"}, "nickname"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.do(t, http.MethodPost, c.path, c.token, c.body).fails(t, http.StatusBadRequest, codes.InvalidArgument, c.want)
		})
	}
	t.Run("a query parameter given \"abc\"", func(t *testing.T) {
		e.do(t, http.MethodGet, "/v1/api/user?page=abc", u.token, nil).fails(t, http.StatusBadRequest, codes.InvalidArgument, "page")
	})
	require.Empty(t, e.synced(t, peer, authzPair(u.id, peer.id)), "no bad send was stored")
}

func TestRESTStatusMapping(t *testing.T) {
	t.Parallel()
	e := restServe(t)
	u := e.signUp(t, false)
	t.Run("404 GetUser of a missing id", func(t *testing.T) {
		e.do(t, http.MethodGet, "/v1/api/user/18446744073709551615", u.token, nil).fails(t, http.StatusNotFound, codes.NotFound, "user not found")
	})
	t.Run("409 CreateUser with a taken nickname", func(t *testing.T) {
		e.do(t, http.MethodPost, "/v1/api/user", "", map[string]any{"nickname": u.nickname, "password": restPassword, "password_rpt": restPassword}).
			fails(t, http.StatusConflict, codes.AlreadyExists, "nickname")
	})
	t.Run("412 the owner quitting its own group", func(t *testing.T) {
		group := e.newGroup(t, u)
		e.do(t, http.MethodPost, "/v1/api/group/quit", u.token, map[string]any{"id": group}).
			fails(t, http.StatusPreconditionFailed, codes.FailedPrecondition, "owner cannot quit")
		require.Equal(t, http.StatusPreconditionFailed, rest.HTTPStatus(codes.FailedPrecondition))
	})
	t.Run("429 login failures beyond the limit", func(t *testing.T) {
		victim := e.signUp(t, false)
		wrong := map[string]any{"nickname": victim.nickname, "password": "wrong-password"}
		for range 10 { // LoginMaxFailures
			e.do(t, http.MethodPost, "/v1/api/user/login", "", wrong).fails(t, http.StatusUnauthorized, codes.Unauthenticated, "invalid nickname or password")
		}
		e.do(t, http.MethodPost, "/v1/api/user/login", "", wrong).fails(t, http.StatusTooManyRequests, codes.ResourceExhausted, "too many failed logins")
		e.do(t, http.MethodPost, "/v1/api/user/login", "", map[string]any{"nickname": victim.nickname, "password": restPassword}).
			fails(t, http.StatusTooManyRequests, codes.ResourceExhausted, "too many failed logins")
	})
	t.Run("413 a body over the limit", func(t *testing.T) {
		limit := 2 * e.cfg.MaxRecvMsgBytes
		body := `{"nickname":"` + strings.Repeat("x", limit) + `"}`
		e.do(t, http.MethodPost, "/v1/api/user", "", body).
			fails(t, http.StatusRequestEntityTooLarge, codes.InvalidArgument, fmt.Sprintf("larger than the %d-byte limit", limit))
	})
	t.Run("400 a chunked body that turns out over the limit", func(t *testing.T) {
		// The decoder reads ahead, so the limit is checked a read buffer
		// late: a megabyte over is well past it.
		limit := 2 * e.cfg.MaxRecvMsgBytes
		body := `{"nickname":"` + strings.Repeat("x", limit+1<<20) + `"}`
		e.do(t, http.MethodPost, "/v1/api/user", "", restChunked{strings.NewReader(body)}).
			fails(t, http.StatusBadRequest, codes.InvalidArgument, fmt.Sprintf("larger than the %d-byte limit", limit))
	})
	t.Run("400 a message over the gRPC limit whose JSON fits", func(t *testing.T) {
		// base64 makes 5 MiB of bytes 6.7 MB of JSON: within the body limit,
		// over -max-recv-msg-bytes once decoded.
		chunk := base64.StdEncoding.EncodeToString(make([]byte, 5<<20))
		e.do(t, http.MethodPost, "/v1/api/common/image", u.token, `{"content":"`+chunk+`"}`).
			fails(t, http.StatusBadRequest, codes.InvalidArgument, fmt.Sprintf("over the %d-byte limit", e.cfg.MaxRecvMsgBytes))
	})
	t.Run("404 an unknown route", func(t *testing.T) {
		e.do(t, http.MethodGet, "/v1/api/nothing/here", u.token, nil).fails(t, http.StatusNotFound, codes.NotFound, "no route GET /v1/api/nothing/here")
		e.do(t, http.MethodPost, "/v1/api/user/login/extra", "", map[string]any{}).fails(t, http.StatusNotFound, codes.NotFound, "no route")
	})
	t.Run("405 a known path with a wrong method", func(t *testing.T) {
		e.do(t, http.MethodDelete, "/v1/api/user/login", "", nil).fails(t, http.StatusMethodNotAllowed, codes.Unimplemented, "DELETE is not a method of /v1/api/user/login")
		e.do(t, http.MethodPut, "/v1/api/user", u.token, map[string]any{}).fails(t, http.StatusMethodNotAllowed, codes.Unimplemented, "PUT")
		e.do(t, http.MethodPatch, "/v1/api/feed/1", u.token, map[string]any{}).fails(t, http.StatusMethodNotAllowed, codes.Unimplemented, "PATCH")
		// A POST to a GET route is not a GET with the form as its query.
		e.do(t, http.MethodPost, "/v1/api/user/ping", "", map[string]any{}).fails(t, http.StatusMethodNotAllowed, codes.Unimplemented, "POST")
	})
}

func TestRESTJSONShape(t *testing.T) {
	t.Parallel()
	e := restServe(t)
	a, b := e.signUp(t, false), e.signUp(t, false)

	t.Run("lowerCamelCase names, unpopulated fields, uint64 as strings", func(t *testing.T) {
		r := e.do(t, http.MethodGet, fmt.Sprintf("/v1/api/user/%d", a.id), b.token, nil)
		got := r.ok(t)
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
		user, ok := restAt(t, got, "user").(map[string]any)
		require.True(t, ok)
		require.Equal(t, strconv.FormatUint(a.id, 10), user["id"])
		require.Contains(t, user, "avatarUrl")
		require.Equal(t, "", user["avatarUrl"], "an unpopulated string")
		require.NotContains(t, user, "avatar_url")
		require.Equal(t, "Unknown", user["gender"], "an unpopulated enum, by name")
		require.Contains(t, user, "extra")
		require.Contains(t, user, "deletedAt")
		require.Nil(t, user["deletedAt"], "an unset message is null")
	})
	t.Run("a Pager", func(t *testing.T) {
		got := e.do(t, http.MethodGet, "/v1/api/user?keyword=nobody-"+authzRandom()+"&page=1&page_size=20", a.token, nil).ok(t)
		pager, ok := restAt(t, got, "pager").(map[string]any)
		require.True(t, ok)
		require.Equal(t, map[string]any{"page": "1", "pageZie": "20", "totalRows": "0", "totalPages": "0"}, pager)
		require.Equal(t, []any{}, got["user"], "an empty list is [], not absent")
	})
	t.Run("to_user_id and toUserId, an unknown field ignored", func(t *testing.T) {
		text := map[string]any{"content": "spelled"}
		var ids []uint64
		for _, body := range []map[string]any{
			{"to_user_id": b.id, "text": text},
			{"toUserId": strconv.FormatUint(b.id, 10), "text": text},
			{"toUserId": b.id, "text": text, "frobnicate": map[string]any{"x": 1}, "priority": "high"},
		} {
			got := e.do(t, http.MethodPost, "/v1/api/message/text/user", a.token, body).ok(t)
			ids = append(ids, restUint(t, got, "id"))
		}
		require.ElementsMatch(t, ids, restIDs(t, e.synced(t, b, authzPair(a.id, b.id))), "all three reached b")
	})
}

// The same Idempotency-Key twice names one message.
func TestRESTIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := restServe(t)
	a, b := e.signUp(t, false), e.signUp(t, false)
	key := "rest-" + authzRandom()
	first := e.sendText(t, a, b, "once", "Idempotency-Key", key)
	again := e.sendText(t, a, b, "once", "Idempotency-Key", key)
	require.Equal(t, first, again, "the same key names the same message")
	require.Equal(t, []uint64{first}, restIDs(t, e.synced(t, b, authzPair(a.id, b.id))), "one message stored")
	var stored int
	require.NoError(t, e.pool.QueryRow(context.Background(),
		"SELECT count(*) FROM messages.messages WHERE from_user_id = $1", int64(a.id)).Scan(&stored))
	require.Equal(t, 1, stored)
	other := e.sendText(t, a, b, "once", "Idempotency-Key", key+"-2")
	require.NotEqual(t, first, other, "another key is another message")
}

// Every response carries X-Request-Id, the client's own when it sent one
// (README: REST API, API behaviour): those the REST handler writes itself,
// before or without a gRPC call, included.
func TestRESTEveryResponseCarriesTheRequestID(t *testing.T) {
	t.Parallel()
	e := restServe(t)
	u := e.signUp(t, false)
	generated := e.do(t, http.MethodGet, "/v1/api/user/ping", "", nil).header.Get("X-Request-Id")
	require.NotEmpty(t, generated, "one is made up when the client sends none")
	for _, c := range []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"a call that succeeds", http.MethodGet, "/v1/api/user/ping", "", nil, http.StatusOK},
		{"a call the server refuses", http.MethodGet, fmt.Sprintf("/v1/api/user/%d", u.id), "", nil, http.StatusUnauthorized},
		{"a body that is not JSON", http.MethodPost, "/v1/api/user/login", "", "nickname=a", http.StatusBadRequest},
		{"a path parameter that is not a number", http.MethodGet, "/v1/api/user/abc", u.token, nil, http.StatusBadRequest},
		{"an unknown route", http.MethodGet, "/v1/api/nothing/here", u.token, nil, http.StatusNotFound},
		{"a wrong method", http.MethodDelete, "/v1/api/user/login", "", nil, http.StatusMethodNotAllowed},
		{"a body over the limit", http.MethodPost, "/v1/api/user", "",
			`{"nickname":"` + strings.Repeat("x", 2*e.cfg.MaxRecvMsgBytes) + `"}`, http.StatusRequestEntityTooLarge},
		{"the bidirectional stream", http.MethodPost, "/v1/api/gateway/send", u.token, "{}", http.StatusNotImplemented},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := "client-" + authzRandom()
			r := e.do(t, c.method, c.path, c.token, c.body, "X-Request-Id", id)
			require.Equal(t, c.status, r.status, "body: %s", r.raw)
			require.Equal(t, id, r.header.Get("X-Request-Id"), "the client's request id is echoed")
		})
	}
}

// TestRESTStreamedImageUpload posts an image to UploadImage as
// grpc-gateway's client-streaming body: several {"content"} chunks.
func TestRESTStreamedImageUpload(t *testing.T) {
	t.Parallel()
	e := restServe(t)
	u := e.signUp(t, false)
	img := restNoisePNG(t, 64, 48)
	require.Greater(t, len(img), 4096)

	got := e.do(t, http.MethodPost, "/v1/api/common/image", u.token, restUploadBody(t, img, 5)).ok(t)
	link := restString(t, got, "url")
	require.True(t, strings.HasPrefix(link, parley.PublicURL(e.cfg)+"/media/"), link)
	require.Contains(t, link, ".png?", link)
	code, stored := e.fetch(t, link)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, img, stored, "the stored file is the uploaded bytes, reassembled")

	t.Run("larger in total than the JSON limit", func(t *testing.T) {
		// The limit holds each message, not the stream: an image whose
		// body is over 2×-max-recv-msg-bytes goes in chunks.
		big := restNoisePNG(t, 1300, 1300)
		body := restUploadBody(t, big, 8)
		require.Greater(t, len(body), 2*e.cfg.MaxRecvMsgBytes)
		got := e.do(t, http.MethodPost, "/v1/api/common/image", u.token, body).ok(t)
		code, stored := e.fetch(t, restString(t, got, "url"))
		require.Equal(t, http.StatusOK, code)
		require.True(t, bytes.Equal(big, stored), "the stored file is the uploaded bytes")
	})

	files := badFiles(t, e.cfg.StorageDir)
	t.Run("without a token", func(t *testing.T) {
		e.do(t, http.MethodPost, "/v1/api/common/image", "", restUploadBody(t, restNoisePNG(t, 8, 8), 3)).
			fails(t, http.StatusUnauthorized, codes.Unauthenticated, "authorization: want")
		restNothingStored(t, e.cfg.StorageDir, files)
	})
	t.Run("not an image", func(t *testing.T) {
		e.do(t, http.MethodPost, "/v1/api/common/image", u.token, restUploadBody(t, []byte("just some text, not an image at all"), 2)).
			fails(t, http.StatusBadRequest, codes.InvalidArgument, "content")
		restNothingStored(t, e.cfg.StorageDir, files)
	})
	t.Run("a chunk that is not base64", func(t *testing.T) {
		e.do(t, http.MethodPost, "/v1/api/common/image", u.token, `{"content":"%%% not base64 %%%"}`).
			fails(t, http.StatusBadRequest, codes.InvalidArgument, "")
		restNothingStored(t, e.cfg.StorageDir, files)
	})
}

// TestRESTRefusedCallsWriteNothing: a batch of refused REST calls (bad
// input, no token, not the owner) leaves the database and the storage as
// they were. Parley runs on a database of its own, so the snapshots see
// only this test's writes.
func TestRESTRefusedCallsWriteNothing(t *testing.T) {
	t.Parallel()
	pool := testdb.Fresh(t)
	e := restServeOn(t, pool, nil)
	owner, other := e.signUp(t, false), e.signUp(t, false)
	feed, group := e.newFeed(t, owner), e.newGroup(t, owner)
	text := map[string]any{"to_user_id": other.id, "text": map[string]any{"content": "hi"}}
	// other's open reports of owner's feed and of owner, for the refused
	// resolutions.
	admin := e.signUp(t, true)
	feedReport, err := e.rpc.common.ReportContent(other.ctx(), &commonpb.ReportContentRequest{Kind: commonpb.ReportKind_REPORT_KIND_FEED, Id: feed, Reason: "spam"})
	require.NoError(t, err)
	userReport, err := e.rpc.common.ReportContent(other.ctx(), &commonpb.ReportContentRequest{Kind: commonpb.ReportKind_REPORT_KIND_USER, Id: owner.id})
	require.NoError(t, err)

	before, files := badSnapshot(t, pool), badFiles(t, e.cfg.StorageDir)
	for _, c := range []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"CreateUser with a short password", http.MethodPost, "/v1/api/user", "",
			map[string]any{"nickname": uniqueNickname("restw"), "password": "x", "password_rpt": "x"}, http.StatusBadRequest},
		{"CreateUser with a taken nickname", http.MethodPost, "/v1/api/user", "",
			map[string]any{"nickname": owner.nickname, "password": restPassword, "password_rpt": restPassword}, http.StatusConflict},
		{"a send without a token", http.MethodPost, "/v1/api/message/text/user", "", text, http.StatusUnauthorized},
		{"a send with a bad token", http.MethodPost, "/v1/api/message/text/user", "bad-token", text, http.StatusUnauthorized},
		{"a send with empty content", http.MethodPost, "/v1/api/message/text/user", owner.token,
			map[string]any{"to_user_id": other.id, "text": map[string]any{"content": ""}}, http.StatusBadRequest},
		{"a send to user \"abc\"", http.MethodPost, "/v1/api/message/text/user", owner.token,
			map[string]any{"to_user_id": "abc", "text": map[string]any{"content": "hi"}}, http.StatusBadRequest},
		{"a body that is not JSON", http.MethodPost, "/v1/api/feed", owner.token, "content=hi", http.StatusBadRequest},
		{"a body over the limit", http.MethodPost, "/v1/api/feed", owner.token,
			`{"content":"` + strings.Repeat("x", 2*e.cfg.MaxRecvMsgBytes) + `"}`, http.StatusRequestEntityTooLarge},
		{"FeedCreate without a token", http.MethodPost, "/v1/api/feed", "", map[string]any{"content": "anonymous"}, http.StatusUnauthorized},
		{"FeedEdit by a non-owner", http.MethodPost, fmt.Sprintf("/v1/api/feed/%d", feed), other.token,
			map[string]any{"type": "Txt", "content": "hijacked"}, http.StatusForbidden},
		{"FeedDelete by a non-owner", http.MethodDelete, fmt.Sprintf("/v1/api/feed/%d", feed), other.token, nil, http.StatusForbidden},
		{"UpdateGroup by a non-owner", http.MethodPost, "/v1/api/group/update", other.token,
			map[string]any{"id": group, "name": "hijacked"}, http.StatusForbidden},
		{"DeleteGroup by a non-owner", http.MethodPost, "/v1/api/group/delete", other.token, map[string]any{"id": group}, http.StatusForbidden},
		{"the owner quitting its group", http.MethodPost, "/v1/api/group/quit", owner.token, map[string]any{"id": group}, http.StatusPreconditionFailed},
		{"SetGroupMemberRole by a non-owner", http.MethodPost, "/v1/api/group/member/role", other.token,
			map[string]any{"groupId": group, "userId": other.id, "role": "GROUP_ROLE_ADMIN"}, http.StatusForbidden},
		{"TransferGroupOwner to a non-member", http.MethodPost, "/v1/api/group/owner/transfer", owner.token,
			map[string]any{"groupId": group, "userId": other.id}, http.StatusNotFound},
		{"CreateGroupInvite by a non-member", http.MethodPost, "/v1/api/group/invite/create", other.token, map[string]any{"groupId": group}, http.StatusForbidden},
		{"JoinGroupByInvite with an unknown code", http.MethodPost, "/v1/api/group/invite/join", other.token, map[string]any{"code": "nope"}, http.StatusNotFound},
		{"MuteGroupMember of oneself", http.MethodPost, "/v1/api/group/member/mute", owner.token,
			map[string]any{"groupId": group, "userId": owner.id}, http.StatusBadRequest},
		{"BanGroupMember by a non-member", http.MethodPost, "/v1/api/group/member/ban", other.token,
			map[string]any{"groupId": group, "userId": owner.id, "reason": "mine now"}, http.StatusForbidden},
		{"SendEmail by a non-admin", http.MethodPost, "/v1/api/common/email", owner.token,
			map[string]any{"receiver": map[string]string{"Ann": "ann@example.com"}, "subject": "hi"}, http.StatusForbidden},
		{"ReportContent without a token", http.MethodPost, "/v1/api/common/report", "", map[string]any{"kind": "REPORT_KIND_FEED", "id": feed}, http.StatusUnauthorized},
		{"ReportContent of one's own feed", http.MethodPost, "/v1/api/common/report", owner.token,
			map[string]any{"kind": "REPORT_KIND_FEED", "id": feed, "reason": "mine"}, http.StatusBadRequest},
		{"ReportContent without a kind", http.MethodPost, "/v1/api/common/report", other.token, map[string]any{"id": group, "reason": "spam"}, http.StatusBadRequest},
		{"ReportContent with a reason of 501", http.MethodPost, "/v1/api/common/report", other.token,
			map[string]any{"kind": "REPORT_KIND_GROUP", "id": group, "reason": strings.Repeat("x", 501)}, http.StatusBadRequest},
		{"ReportContent of a missing group", http.MethodPost, "/v1/api/common/report", other.token,
			map[string]any{"kind": "REPORT_KIND_GROUP", "id": "18446744073709551615", "reason": "spam"}, http.StatusNotFound},
		{"ListReports of every report by a non-admin", http.MethodGet, "/v1/api/common/report", owner.token, nil, http.StatusForbidden},
		{"ResolveReport of a feed report by its author", http.MethodPost, "/v1/api/common/report/resolve", owner.token,
			map[string]any{"id": feedReport.GetReport().GetId(), "action": "REPORT_ACTION_DELETE_CONTENT"}, http.StatusNotFound},
		{"ResolveReport by its reporter", http.MethodPost, "/v1/api/common/report/resolve", other.token,
			map[string]any{"id": userReport.GetReport().GetId(), "action": "REPORT_ACTION_BAN_USER"}, http.StatusNotFound},
		{"ResolveReport without an action", http.MethodPost, "/v1/api/common/report/resolve", admin.token,
			map[string]any{"id": feedReport.GetReport().GetId()}, http.StatusBadRequest},
		{"ResolveReport deleting a user report's content", http.MethodPost, "/v1/api/common/report/resolve", admin.token,
			map[string]any{"id": userReport.GetReport().GetId(), "action": "REPORT_ACTION_DELETE_CONTENT"}, http.StatusBadRequest},
		{"UploadImage without a token", http.MethodPost, "/v1/api/common/image", "",
			restUploadBody(t, restNoisePNG(t, 8, 8), 2), http.StatusUnauthorized},
		{"UploadImage of text", http.MethodPost, "/v1/api/common/image", owner.token,
			restUploadBody(t, []byte("not an image"), 1), http.StatusBadRequest},
		{"SendToAll by a user", http.MethodPost, "/v1/api/gateway/sendToAll", owner.token, map[string]any{"data": "aGk="}, http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.method, c.path, c.token, c.body)
			require.Equal(t, c.status, r.status, "body: %s", r.raw)
		})
	}
	require.Equal(t, before, badSnapshot(t, pool), "refused calls wrote to the database")
	require.Equal(t, files, badFiles(t, e.cfg.StorageDir), "refused calls left files behind")
}

// restBraces matches a path template's variables.
var restBraces = regexp.MustCompile(`\{[^}]*\}`)

// GET /openapi.json documents every route, and no other.
func TestRESTOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	e := restServe(t)
	resp, err := e.http.Get(e.url + "/openapi.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var doc struct {
		Swagger string                                `json:"swagger"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc), "valid JSON")
	require.Equal(t, "2.0", doc.Swagger)

	// The document names path parameters in lowerCamelCase ({feedId} for
	// {feed_id}): compare with the names dropped.
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for verb := range ops {
			if verb != "parameters" {
				documented[strings.ToUpper(verb)+" "+restBraces.ReplaceAllString(path, "{}")] = true
			}
		}
	}
	routed := map[string]bool{}
	for _, r := range rest.Routes() {
		key := r.Verb + " " + restBraces.ReplaceAllString(r.Path, "{}")
		routed[key] = true
		require.True(t, documented[key], "%s (%s) is not in /openapi.json", key, r.Method)
	}
	for key := range documented {
		require.True(t, routed[key], "/openapi.json documents %s, which is no route", key)
	}
}

// TestRESTBodiesHeldAtOnceAreBounded: request bodies in flight reserve
// their size (the largest body when chunked) from a budget of 32 largest
// bodies; past it a request is refused at once with 503 and Retry-After,
// so slow senders cannot make the server hold unbounded memory. A request
// without a body needs no budget, and a finished body gives its share back.
func TestRESTBodiesHeldAtOnceAreBounded(t *testing.T) {
	t.Parallel()
	e := restServeOn(t, testdb.Pool(t), func(cfg *config.Config) { cfg.MaxRecvMsgBytes = 16 << 10 })
	type held struct {
		body *io.PipeWriter
		done chan restReply
	}
	start := func() held {
		r, w := io.Pipe()
		h := held{body: w, done: make(chan restReply, 1)}
		go func() { h.done <- e.do(t, http.MethodPost, "/v1/api/user/login", "", restChunked{r}) }()
		_, err := w.Write([]byte(`{"nickname":`))
		require.NoError(t, err)
		return h
	}
	slow := make([]held, 32)
	for i := range slow {
		slow[i] = start()
	}
	t.Cleanup(func() { // before the server stops: the held requests end first
		for _, h := range slow[1:] {
			h.body.Close()
			<-h.done
		}
	})

	// Once the held requests have all reached the handler, the budget is
	// spent: a further chunked request is refused at once. (A probe let in
	// is refused by validation, before any password hashing, so probing does
	// not starve the held requests of CPU on a loaded machine.)
	// A held request that arrived while a probe held its share was itself
	// refused: it is sent again, until all 32 are held.
	var refused restReply
	var mu sync.Mutex
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for i := range slow {
			select {
			case r := <-slow[i].done:
				if r.status != http.StatusServiceUnavailable {
					t.Errorf("a held request ended with %d: %s", r.status, r.raw)
				}
				slow[i] = start()
			default:
			}
		}
		refused = e.do(t, http.MethodPost, "/v1/api/user/login", "", restChunked{strings.NewReader(`{"nickname":"","password":""}`)})
		return refused.status == http.StatusServiceUnavailable
	}, 20*time.Second, 20*time.Millisecond)
	refused.fails(t, http.StatusServiceUnavailable, codes.Unavailable, "too many large requests in flight")
	require.Equal(t, "1", refused.header.Get("Retry-After"))
	require.NotEmpty(t, refused.header.Get("X-Request-Id"))
	require.Equal(t, "pong", restString(t, e.do(t, http.MethodGet, "/v1/api/user/ping", "", nil).ok(t), "content"))

	_, err := slow[0].body.Write([]byte(`"nobody-` + authzRandom() + `","password":"wrong-password"}`))
	require.NoError(t, err)
	require.NoError(t, slow[0].body.Close())
	(<-slow[0].done).fails(t, http.StatusUnauthorized, codes.Unauthenticated, "invalid nickname or password")
	e.do(t, http.MethodPost, "/v1/api/user/login", "", restChunked{strings.NewReader(`{"nickname":"nobody","password":"wrong-password"}`)}).
		fails(t, http.StatusUnauthorized, codes.Unauthenticated, "invalid nickname or password")
}

// TestRESTCallInFlightFinishesAtShutdown: a REST call whose body is still
// arriving when `parley serve` is told to stop is answered by its method,
// not refused: the HTTP server drains before the gRPC server stops.
func TestRESTCallInFlightFinishesAtShutdown(t *testing.T) {
	t.Parallel()
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-database-url", testdb.URL(t), "-data-dir", t.TempDir(), "-storage-dir", t.TempDir(),
			"-grpc-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "-http-addr", httpAddr, "-admin-addr", "", "-log-level", "warn"}, &bytes.Buffer{}, &bytes.Buffer{})
	}()
	e := &restEnv{url: "http://" + httpAddr, http: &http.Client{Timeout: 30 * time.Second}}
	require.Eventually(t, func() bool {
		resp, err := http.Get(e.url + "/v1/api/user/ping")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond)

	body, writer := io.Pipe()
	answer := make(chan restReply, 1)
	go func() { answer <- e.do(t, http.MethodPost, "/v1/api/user/login", "", restChunked{body}) }()
	_, err := writer.Write([]byte(`{"nickname":"nobody-` + authzRandom() + `",`))
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond) // the request is in the handler, reading its body
	cancel()
	time.Sleep(200 * time.Millisecond) // the shutdown has begun
	_, err = writer.Write([]byte(`"password":"wrong-password"}`))
	require.NoError(t, err)
	require.NoError(t, writer.Close())
	(<-answer).fails(t, http.StatusUnauthorized, codes.Unauthenticated, "invalid nickname or password")
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}
