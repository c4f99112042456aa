package parleytest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/modules/user"
)

const (
	// FrameWait bounds the wait for a frame that must arrive.
	FrameWait = 5 * time.Second
	// QuietWait is how long a stream is watched for a frame that must not arrive.
	QuietWait = 300 * time.Millisecond
)

// Stream is the client end of a gateway SendMessage stream, read in the
// background into Frames until it ends. Presence pushes, which come
// whenever a contact's devices connect or leave, go to Presence instead,
// so a test of other frames never meets them.
type Stream struct {
	Raw      gatewaypb.GatewayService_SendMessageClient
	Frames   chan *gatewaypb.SendMessageResponse
	Presence chan *gatewaypb.SendMessageResponse
	Done     chan struct{} // closed when the stream ended; Err is then set
	Err      error
	Cancel   context.CancelFunc
	lastID   uint32
}

// OpenStream starts a SendMessage stream as ctx's caller, with the metadata
// pairs kv added. The stream is cancelled, and its reader waited for, when
// the test ends.
func OpenStream(t testing.TB, client gatewaypb.GatewayServiceClient, ctx context.Context, kv ...string) *Stream {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	if len(kv) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, kv...)
	}
	raw, err := client.SendMessage(ctx)
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	s := &Stream{Raw: raw, Frames: make(chan *gatewaypb.SendMessageResponse, 4096),
		Presence: make(chan *gatewaypb.SendMessageResponse, 4096), Done: make(chan struct{}), Cancel: cancel}
	go func() {
		defer close(s.Done)
		for {
			f, err := raw.Recv()
			if err != nil {
				s.Err = err
				return
			}
			to := s.Frames
			if f.GetCmd() == user.CmdPresence {
				to = s.Presence
			}
			select {
			case to <- f:
			case <-ctx.Done():
				s.Err = ctx.Err()
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-s.Done
	})
	return s
}

// Send sends one frame as it is.
func (s *Stream) Send(t testing.TB, f *gatewaypb.SendMessageRequest) {
	t.Helper()
	require.NoError(t, s.Raw.Send(f))
}

// Request sends a frame calling cmd with req (nil: no data) as data, as
// senderID, and returns its request id.
func (s *Stream) Request(t testing.TB, cmd string, req proto.Message, senderID string) uint32 {
	t.Helper()
	var data []byte
	if req != nil {
		var err error
		data, err = proto.Marshal(req)
		require.NoError(t, err)
	}
	return s.RequestRaw(t, cmd, data, senderID)
}

// RequestRaw is Request with the data already encoded.
func (s *Stream) RequestRaw(t testing.TB, cmd string, data []byte, senderID string) uint32 {
	t.Helper()
	s.lastID++
	s.Send(t, &gatewaypb.SendMessageRequest{Cmd: cmd, RequestId: s.lastID, Data: data, SenderId: senderID})
	return s.lastID
}

// Call sends a request and returns its answer; pushes received meanwhile
// are dropped (Await keeps them).
func (s *Stream) Call(t testing.TB, cmd string, req proto.Message, senderID string) *gatewaypb.SendMessageResponse {
	t.Helper()
	answer, _ := s.Await(t, s.Request(t, cmd, req, senderID))
	return answer
}

// Ping sends a ping and requires a pong with the same request id. A device
// is online once its first ping is answered.
func (s *Stream) Ping(t testing.TB, senderID string) *gatewaypb.SendMessageResponse {
	t.Helper()
	f, _ := s.Await(t, s.RequestRaw(t, gateway.CmdPing, nil, senderID))
	require.Equal(t, gateway.CmdPong, f.GetCmd(), "answer to ping: %v", f)
	return f
}

// Await reads frames until the answer to request id arrives, returning it
// and the frames (pushes) that came before it.
func (s *Stream) Await(t testing.TB, id uint32) (*gatewaypb.SendMessageResponse, []*gatewaypb.SendMessageResponse) {
	t.Helper()
	var before []*gatewaypb.SendMessageResponse
	for {
		f := s.Next(t)
		if f.GetRequestId() == id {
			return f, before
		}
		before = append(before, f)
	}
}

// Next returns the next frame, failing the test if none comes within
// FrameWait or the stream ends.
func (s *Stream) Next(t testing.TB) *gatewaypb.SendMessageResponse {
	t.Helper()
	select {
	case f := <-s.Frames:
		return f
	case <-s.Done:
		select {
		case f := <-s.Frames:
			return f
		default:
		}
		require.FailNow(t, "stream ended while a frame was expected", "%v", s.Err)
	case <-time.After(FrameWait):
		require.FailNow(t, "no frame within "+FrameWait.String())
	}
	return nil
}

// NextN returns the next n frames.
func (s *Stream) NextN(t testing.TB, n int) []*gatewaypb.SendMessageResponse {
	t.Helper()
	out := make([]*gatewaypb.SendMessageResponse, n)
	for i := range out {
		out[i] = s.Next(t)
	}
	return out
}

// Quiet requires that no frame arrives within QuietWait.
func (s *Stream) Quiet(t testing.TB) {
	t.Helper()
	QuietAll(t, s)
}

// QuietAll requires that none of streams receives a frame within QuietWait.
func QuietAll(t testing.TB, streams ...*Stream) {
	t.Helper()
	time.Sleep(QuietWait)
	for _, s := range streams {
		select {
		case f := <-s.Frames:
			require.FailNow(t, "unexpected frame", "%v", f)
		default:
		}
	}
}

// Ended waits for the stream to end and returns how: the frames left
// unread are dropped.
func (s *Stream) Ended(t testing.TB) error {
	t.Helper()
	select {
	case <-s.Done:
		return s.Err
	case <-time.After(FrameWait):
		require.FailNow(t, "stream still open after "+FrameWait.String())
		return nil
	}
}

// NextPresence returns the next presence push, failing the test if none
// comes within FrameWait.
func (s *Stream) NextPresence(t testing.TB) *userpb.Presence {
	t.Helper()
	select {
	case f := <-s.Presence:
		p := &userpb.Presence{}
		require.NoError(t, proto.Unmarshal(f.GetData(), p))
		return p
	case <-time.After(FrameWait):
		require.FailNow(t, "no presence push within "+FrameWait.String())
	}
	return nil
}
