package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/modules/message"
	"github.com/parley-im/parley/platform/testkit"
)

// FuzzFrames sends arbitrary frames on a signed-in device's stream. Every
// frame must be answered, with its request id, by a pong (for a ping), the
// response of the method it names, or an error frame whose status is one a
// client can act on (never Internal or Unknown); and the stream must stay
// open. One server and stream serve every input.
func FuzzFrames(f *testing.F) {
	fz := newFrameFuzzer(f)
	other := fz.friend
	seed := func(cmd string, requestID uint32, req proto.Message, senderID string) {
		data, err := proto.Marshal(req)
		require.NoError(f, err)
		f.Add(cmd, requestID, data, senderID)
	}
	seed(gateway.CmdPing, 1, &gatewaypb.SendMessageRequest{}, "")
	seed(sendUserText, 2, &messagepb.SendUserTextMessageRequest{ToUserId: other, Text: &messagepb.TextMessage{Content: "hi"}}, "")
	seed(sendUserText, 0, &messagepb.SendUserTextMessageRequest{ToUserId: fz.self, Text: &messagepb.TextMessage{Content: "to myself"}}, "someone-else")
	seed(sendUserText, 1<<32-1, &messagepb.SendUserTextMessageRequest{ToUserId: 1<<64 - 1, Text: &messagepb.TextMessage{Content: "nobody"}}, "")
	seed(messagepb.MessageService_SendUserLocationMessage_FullMethodName, 3, &messagepb.SendUserLocationMessageRequest{ToUserId: other, Location: &messagepb.LocationMessage{Lat: 48.85, Lng: 2.35}}, "")
	seed(messagepb.MessageService_SendGroupTextMessage_FullMethodName, 4, &messagepb.SendGroupTextMessageRequest{ToGroupId: fz.group, AtUserId: []uint64{other}, Text: &messagepb.TextMessage{Content: "@all"}}, "")
	seed(messagepb.MessageService_SyncMessages_FullMethodName, 5, &messagepb.SyncMessagesRequest{ConversationId: "x", AfterSeq: 1<<64 - 1, Limit: 1<<64 - 1}, "")
	seed(messagepb.MessageService_MarkRead_FullMethodName, 6, &messagepb.MarkReadRequest{ConversationId: "x", Seq: 1<<64 - 1}, "")
	seed(messagepb.MessageService_ListConversations_FullMethodName, 7, &messagepb.ListConversationsRequest{}, "")
	seed(userpb.UserService_GetUser_FullMethodName, 8, &userpb.UserGetRequest{Id: 1<<63 + 1}, "")
	seed(userpb.UserService_QueryUser_FullMethodName, 9, &userpb.UserQueryRequest{Keyword: "%_\\", Page: 1<<64 - 1, PageSize: 1<<64 - 1}, "")
	seed(userpb.UserService_FollowUser_FullMethodName, 10, &userpb.FollowUserRequest{UserId: fz.self}, "")
	seed(userpb.UserService_BlockUser_FullMethodName, 11, &userpb.BlockUserRequest{UserId: 1<<64 - 1}, "")
	seed(userpb.UserService_ListFollowers_FullMethodName, 12, &userpb.ListFollowersRequest{UserId: 1<<64 - 1, Page: 1<<64 - 1}, "")
	seed(userpb.UserService_CreateUser_FullMethodName, 13, &userpb.UserCreateRequest{Nickname: "x", Password: "12345678", PasswordRpt: "12345678"}, "")
	seed(grouppb.GroupService_CreateGroup_FullMethodName, 14, &grouppb.CreateGroupRequest{Name: "fuzz"}, "")
	seed(grouppb.GroupService_GetGroupUser_FullMethodName, 15, &grouppb.GetGroupUserRequest{Id: fz.group, Page: 1<<64 - 1, PageSize: 1<<64 - 1}, "")
	seed(grouppb.GroupService_JoinGroup_FullMethodName, 16, &grouppb.JoinGroupRequest{Id: 1<<64 - 1, UserId: other}, "")
	seed(feedpb.FeedService_FeedCreate_FullMethodName, 17, &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: "post"}, "")
	seed(feedpb.FeedService_FeedQuery_FullMethodName, 18, &feedpb.FeedQueryRequest{Keyword: "p", LastId: 1<<64 - 1, Num: 1<<64 - 1}, "")
	seed(feedpb.FeedService_FeedCommentCreate_FullMethodName, 19, &feedpb.FeedCommentCreateRequest{FeedId: 1<<64 - 1, Content: "c", ReplyToId: 1<<64 - 1}, "")
	f.Add(sendUserText, uint32(20), []byte{0xff, 0xff, 0xff}, "")                         // data not a request
	f.Add(sendUserText, uint32(21), []byte{0x12, 0x04, 0x12, 0x02, 0xff, 0xfe}, "")       // invalid UTF-8 in text
	f.Add("/common.CommonService/SendEmail", uint32(22), []byte(nil), "")                 // a service not served here
	f.Add(gatewaypb.GatewayService_SendToAll_FullMethodName, uint32(23), []byte("x"), "") // not dispatchable
	f.Add("/", uint32(24), []byte(nil), "")
	f.Add("//", uint32(25), []byte(nil), "")
	f.Add("hello", uint32(26), []byte(nil), "")
	f.Add("", uint32(0), []byte(nil), "")
	f.Add("/message.MessageService/", uint32(27), []byte(nil), "\x00")
	f.Add("/user.UserService/GetUser\x00", uint32(28), []byte{0x08, 0x01}, "")

	f.Fuzz(func(t *testing.T, cmd string, requestID uint32, data []byte, senderID string) {
		if cmd == userpb.UserService_UpdatePassword_FullMethodName {
			t.Skip("UpdatePassword revokes the stream's token and so ends it, by design")
		}
		fz.check(t, cmd, requestID, data, senderID)
	})
}

// frameFuzzer is one server with a signed-in user's device stream.
type frameFuzzer struct {
	gateway gatewaypb.GatewayServiceClient
	conn    *grpc.ClientConn
	ctx     context.Context // carries the user's token
	self    uint64          // the user's id
	friend  uint64          // another user's id
	group   uint64          // a group both belong to
	dev     *rawStream
}

// newFrameFuzzer serves Parley as setup does, once for the whole fuzz run:
// setup's helpers take a *testing.T and so cannot run before f.Fuzz.
func newFrameFuzzer(f *testing.F) *frameFuzzer {
	conn := serve(f, 0).Conn
	signUp := func() (uint64, context.Context) {
		nick := testkit.Unique("fz")
		created, err := userpb.NewUserServiceClient(conn).CreateUser(context.Background(), &userpb.UserCreateRequest{
			Nickname: nick, Password: password, PasswordRpt: password,
		})
		require.NoError(f, err)
		login, err := userpb.NewUserServiceClient(conn).UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: nick, Password: password})
		require.NoError(f, err)
		return created.GetUser().GetId(), testkit.WithToken(login.GetToken())
	}
	fz := &frameFuzzer{gateway: gatewaypb.NewGatewayServiceClient(conn), conn: conn}
	var friendCtx context.Context
	fz.self, fz.ctx = signUp()
	fz.friend, friendCtx = signUp()
	created, err := grouppb.NewGroupServiceClient(conn).CreateGroup(fz.ctx, &grouppb.CreateGroupRequest{Name: testkit.Unique("g")})
	require.NoError(f, err)
	fz.group = created.GetGroup().GetId()
	_, err = grouppb.NewGroupServiceClient(conn).JoinGroup(friendCtx, &grouppb.JoinGroupRequest{Id: fz.group})
	require.NoError(f, err)

	fz.dev = fz.openDevice(f)
	f.Cleanup(func() { fz.dev.close() })
	return fz
}

// check sends one frame and requires a proper answer and an open stream.
func (fz *frameFuzzer) check(t *testing.T, cmd string, requestID uint32, data []byte, senderID string) {
	if fz.dev.ended() {
		// An earlier input broke the stream and failed; give this one its own.
		fz.dev = fz.openDevice(t)
	}
	fz.dev.send(t, cmd, requestID, data, senderID)
	// A frame that does not decode (invalid UTF-8 in a string field) has no
	// request_id the server could read: its error frame answers request 0.
	undecodable := !utf8.ValidString(cmd) || !utf8.ValidString(senderID)
	answerTo := requestID
	if undecodable {
		answerTo = 0
	}
	answer := fz.dev.await(t, answerTo)

	switch {
	case undecodable:
		require.Equal(t, gateway.CmdError, answer.GetCmd(), "answer to an undecodable frame: %v", answer)
		var st spb.Status
		require.NoError(t, proto.Unmarshal(answer.GetData(), &st), "error frame data is not a google.rpc.Status")
		require.Equal(t, codes.InvalidArgument, codes.Code(st.GetCode()), "%s", st.GetMessage())
	case cmd == gateway.CmdPing:
		require.Equal(t, gateway.CmdPong, answer.GetCmd(), "answer to a ping: %v", answer)
	case answer.GetCmd() == gateway.CmdError:
		var st spb.Status
		require.NoError(t, proto.Unmarshal(answer.GetData(), &st), "error frame data is not a google.rpc.Status")
		code := codes.Code(st.GetCode())
		require.NotContains(t, []codes.Code{codes.OK, codes.Internal, codes.Unknown}, code,
			"error frame for cmd %q: %s: %s", cmd, code, st.GetMessage())
		require.NotEmpty(t, st.GetMessage(), "error frame for cmd %q with code %s has no message", cmd, code)
	default:
		require.Equal(t, cmd, answer.GetCmd(), "answer: %v", answer)
		requireResponseOf(t, cmd, answer.GetData())
	}

	// The stream stays usable: a ping after the frame still gets its pong.
	pingID := requestID + 1
	fz.dev.send(t, gateway.CmdPing, pingID, nil, "")
	pong := fz.dev.await(t, pingID)
	require.Equal(t, gateway.CmdPong, pong.GetCmd(), "answer to the ping after cmd %q: %v", cmd, pong)
}

// requireResponseOf requires data to decode as the response of the unary
// method cmd names.
func requireResponseOf(t *testing.T, cmd string, data []byte) {
	t.Helper()
	service, method, ok := strings.Cut(strings.TrimPrefix(cmd, "/"), "/")
	require.True(t, ok, "answered cmd %q names no method", cmd)
	desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	require.NoError(t, err, "answered cmd %q", cmd)
	m := desc.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(method))
	require.NotNil(t, m, "answered cmd %q", cmd)
	out, err := protoregistry.GlobalTypes.FindMessageByName(m.Output().FullName())
	require.NoError(t, err)
	require.NoError(t, proto.Unmarshal(data, out.New().Interface()), "answer to %q is not a %s", cmd, m.Output().FullName())
}

// openDevice opens the user's device stream and waits until it is online.
func (fz *frameFuzzer) openDevice(t testing.TB) *rawStream {
	t.Helper()
	ctx, cancel := context.WithCancel(fz.ctx)
	cs, err := fz.conn.NewStream(ctx, &gatewaypb.GatewayService_ServiceDesc.Streams[0],
		gatewaypb.GatewayService_SendMessage_FullMethodName, grpc.ForceCodec(frameCodec{}))
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	s := &rawStream{cs: cs, cancel: cancel, frames: make(chan *gatewaypb.SendMessageResponse, 1024), done: make(chan struct{})}
	go s.read()
	s.send(t, gateway.CmdPing, 1, nil, "")
	require.Equal(t, gateway.CmdPong, s.await(t, 1).GetCmd())
	return s
}

// rawStream is a device's SendMessage stream whose frames are encoded by
// hand, so that strings a Go client refuses to marshal (invalid UTF-8),
// but any other client can send, reach the server.
type rawStream struct {
	cs     grpc.ClientStream
	cancel context.CancelFunc
	frames chan *gatewaypb.SendMessageResponse
	done   chan struct{} // closed when the stream ended; err is then set
	err    error
}

func (s *rawStream) read() {
	defer close(s.done)
	for {
		f := new(gatewaypb.SendMessageResponse)
		if err := s.cs.RecvMsg(f); err != nil {
			s.err = err
			return
		}
		select {
		case s.frames <- f:
		case <-s.cs.Context().Done():
			s.err = s.cs.Context().Err()
			return
		}
	}
}

func (s *rawStream) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *rawStream) close() {
	s.cancel()
	<-s.done
}

func (s *rawStream) send(t testing.TB, cmd string, requestID uint32, data []byte, senderID string) {
	t.Helper()
	var b []byte
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, cmd)
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(requestID))
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	b = protowire.AppendBytes(b, data)
	b = protowire.AppendTag(b, 5, protowire.BytesType)
	b = protowire.AppendString(b, senderID)
	require.NoError(t, s.cs.SendMsg(rawFrame(b)), "send: the stream is closed")
}

// await returns the answer to requestID, skipping message pushes (which
// answer no request), and fails if it does not come within parleytest.FrameWait or
// the stream ends.
func (s *rawStream) await(t testing.TB, requestID uint32) *gatewaypb.SendMessageResponse {
	t.Helper()
	timeout := time.After(parleytest.FrameWait)
	for {
		select {
		case f := <-s.frames:
			if f.GetRequestId() == requestID && (f.GetCmd() != message.CmdMessage || requestID != 0) {
				return f
			}
		case <-s.done:
			for {
				select {
				case f := <-s.frames:
					if f.GetRequestId() == requestID {
						return f
					}
				default:
					require.FailNow(t, "the stream ended", "%v", s.err)
				}
			}
		case <-timeout:
			require.FailNow(t, fmt.Sprintf("no answer to request %d within %s", requestID, parleytest.FrameWait))
		}
	}
}

// rawFrame is an encoded SendMessageRequest.
type rawFrame []byte

// frameCodec sends rawFrames as they are and decodes what the server sends
// as protobuf. Its name makes the content type application/grpc+proto.
type frameCodec struct{}

func (frameCodec) Marshal(v any) ([]byte, error) { return v.(rawFrame), nil }
func (frameCodec) Unmarshal(data []byte, v any) error {
	return proto.Unmarshal(data, v.(proto.Message))
}
func (frameCodec) Name() string { return "proto" }
