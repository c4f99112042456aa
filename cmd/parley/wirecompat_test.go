package main

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parley-im/parley/api/gen/messagepb"
)

// A client generated from the original project's .proto files numbers
// SendUserLocationMessageRequest's fields to_user_id = 2, location = 3
// (there is no field 1): its bytes, built here by hand, are stored as the
// location message it meant. Bytes numbered 1 and 2, as Parley once had
// it, carry no recipient and are refused.
func TestLocationMessageNumberedAsTheOriginal(t *testing.T) {
	t.Parallel()
	e := badStart(t)
	e.badSignUp(t, "alice", uniqueNickname("loc-a"), false)
	e.badSignUp(t, "bob", uniqueNickname("loc-b"), false)
	double := func(num protowire.Number, v float64) []byte {
		return protowire.AppendFixed64(protowire.AppendTag(nil, num, protowire.Fixed64Type), math.Float64bits(v))
	}
	location := badWire(double(3, 48.8584), double(4, 2.2945), badStr(6, "Tour Eiffel"))
	ctx := e.badCtx(context.Background(), "alice")
	method := messagepb.MessageService_SendUserLocationMessage_FullMethodName

	var sent messagepb.SendUserLocationMessageResponse
	require.NoError(t, e.conn.Invoke(ctx, method, badWire(badVarint(2, e.ids["bob"]), badMsg(3, location)), &sent, grpc.ForceCodec(badCodec{})))
	require.NotZero(t, sent.GetId())

	synced, err := messagepb.NewMessageServiceClient(e.conn).SyncMessages(e.badCtx(context.Background(), "bob"),
		&messagepb.SyncMessagesRequest{ConversationId: pairConversation(e.ids["alice"], e.ids["bob"])})
	require.NoError(t, err)
	require.Len(t, synced.GetMessage(), 1)
	got := synced.GetMessage()[0]
	require.Equal(t, sent.GetId(), got.GetId())
	require.Equal(t, e.ids["bob"], got.GetToUserId())
	require.Equal(t, messagepb.MESSAGE_TYPE_LOCATION, got.GetType())
	require.Equal(t, 48.8584, got.GetLocation().GetLat())
	require.Equal(t, 2.2945, got.GetLocation().GetLng())
	require.Equal(t, "Tour Eiffel", got.GetLocation().GetDesc())

	err = e.conn.Invoke(ctx, method, badWire(badVarint(1, e.ids["bob"]), badMsg(2, location)), &sent, grpc.ForceCodec(badCodec{}))
	badRequireStatus(t, err, codes.InvalidArgument, "to_user_id")
}
