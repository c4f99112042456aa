package gatewayrules

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/platform/validate/validatefuzz"
)

// FuzzValidate decodes the input as a request, the way the gRPC codec does
// before the validation interceptor runs, and checks what the rules promise.
// kind picks the request type: an index into gatewayRequestTypes.
func FuzzValidate(f *testing.F) {
	max := strings.Repeat("网", maxIDLength) // 64 characters, 192 bytes
	gatewayRequestTypes.AddValidSeeds(f,
		&gatewaypb.RegisterRequest{GatewayId: "edge-1", ClientId: "c-1"},
		&gatewaypb.RegisterRequest{GatewayId: max, ClientId: max},
		&gatewaypb.UnRegisterRequest{GatewayId: "edge-1", ClientId: "c-1"},
	)
	gatewayRequestTypes.AddSeeds(f,
		&gatewaypb.RegisterRequest{ClientId: "c"},
		&gatewaypb.RegisterRequest{GatewayId: "g"},
		&gatewaypb.RegisterRequest{GatewayId: max + "x", ClientId: "c"},
		&gatewaypb.UnRegisterRequest{GatewayId: "g", ClientId: strings.Repeat("c", maxIDLength+1)},
		&gatewaypb.UnRegisterRequest{},
	)
	// Bytes the codec refuses: a truncated field and a string with invalid UTF-8.
	f.Add(uint8(0), []byte{0x0a, 0x05, 'a'})
	f.Add(uint8(0), []byte{0x0a, 0x02, 0xff, 0xfe})

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		gatewayRequestTypes.Check(t, kind, data)
	})
}

// gatewayRequestTypes are the package's request types with rules.
// Append only: committed corpus files select a type by its index.
var gatewayRequestTypes = validatefuzz.NewTypes(Rules, []validatefuzz.Type{
	{New: func() validatefuzz.Request { return new(gatewaypb.RegisterRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*gatewaypb.RegisterRequest)
		requireID(t, "gateway_id", r.GetGatewayId())
		requireID(t, "client_id", r.GetClientId())
	}},
	{New: func() validatefuzz.Request { return new(gatewaypb.UnRegisterRequest) }, Accepted: func(t *testing.T, m proto.Message) {
		r := m.(*gatewaypb.UnRegisterRequest)
		requireID(t, "gateway_id", r.GetGatewayId())
		requireID(t, "client_id", r.GetClientId())
	}},
})

func requireID(t *testing.T, field, id string) {
	t.Helper()
	n := utf8.RuneCountInString(id)
	require.True(t, n >= 1 && n <= maxIDLength, "accepted %s of %d characters", field, n)
}
