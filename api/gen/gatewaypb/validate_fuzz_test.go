package gatewaypb

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/validator"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// FuzzValidate decodes the input as a request, the way the gRPC codec does
// before the validator interceptor runs, and checks what Validate promises.
// kind picks the request type: an index into gatewayRequestTypes.
func FuzzValidate(f *testing.F) {
	max := strings.Repeat("网", maxIDLength) // 64 characters, 192 bytes
	addValidSeeds(f,
		&RegisterRequest{GatewayId: "edge-1", ClientId: "c-1"},
		&RegisterRequest{GatewayId: max, ClientId: max},
		&UnRegisterRequest{GatewayId: "edge-1", ClientId: "c-1"},
	)
	for _, req := range []validatable{
		&RegisterRequest{ClientId: "c"},
		&RegisterRequest{GatewayId: "g"},
		&RegisterRequest{GatewayId: max + "x", ClientId: "c"},
		&UnRegisterRequest{GatewayId: "g", ClientId: strings.Repeat("c", maxIDLength+1)},
		&UnRegisterRequest{},
	} {
		f.Add(kindOf(req), mustMarshal(f, req))
	}
	// Bytes the codec refuses: a truncated field and a string with invalid UTF-8.
	f.Add(uint8(0), []byte{0x0a, 0x05, 'a'})
	f.Add(uint8(0), []byte{0x0a, 0x02, 0xff, 0xfe})

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		checkValidate(t, gatewayRequestTypes, kind, data)
	})
}

// gatewayRequestTypes are the package's request types with a Validate method.
// Append only: committed corpus files select a type by its index.
var gatewayRequestTypes = []requestType{
	{newRequest: func() validatable { return new(RegisterRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*RegisterRequest)
		requireID(t, "gateway_id", r.GetGatewayId())
		requireID(t, "client_id", r.GetClientId())
	}},
	{newRequest: func() validatable { return new(UnRegisterRequest) }, accepted: func(t *testing.T, m proto.Message) {
		r := m.(*UnRegisterRequest)
		requireID(t, "gateway_id", r.GetGatewayId())
		requireID(t, "client_id", r.GetClientId())
	}},
}

func requireID(t *testing.T, field, id string) {
	t.Helper()
	n := utf8.RuneCountInString(id)
	require.True(t, n >= 1 && n <= maxIDLength, "accepted %s of %d characters", field, n)
}

// What follows is the same in every package's validate_fuzz_test.go.

type validatable interface {
	proto.Message
	Validate() error
}

// requestType is a request type and what must hold of a request of that
// type Validate accepts, checked here independently of the validator.
type requestType struct {
	newRequest func() validatable
	accepted   func(t *testing.T, req proto.Message)
}

// checkValidate decodes data as the request type kind selects and checks
// Validate: it must not panic; an error must name a field of the request
// and reach the client as InvalidArgument through the validator
// interceptor the server uses; a request it accepts must pass the handler
// and satisfy the type's accepted check.
func checkValidate(t *testing.T, types []requestType, kind uint8, data []byte) {
	rt := types[int(kind)%len(types)]
	req := rt.newRequest()
	if proto.Unmarshal(data, req) != nil {
		return // the codec refuses it before any validator runs
	}
	err := req.Validate()
	requireInterceptorAgrees(t, req, err)
	if err != nil {
		requireNamesField(t, req, err.Error())
		return
	}
	rt.accepted(t, req)
}

// requireInterceptorAgrees runs req through the server's validator
// interceptor, which calls Validate again: it must decide the same way and
// turn a refusal into InvalidArgument with a message naming a field.
func requireInterceptorAgrees(t *testing.T, req validatable, validateErr error) {
	t.Helper()
	handled := false
	_, err := validator.UnaryServerInterceptor()(context.Background(), req, &grpc.UnaryServerInfo{FullMethod: "/fuzz/Validate"},
		func(context.Context, any) (any, error) { handled = true; return nil, nil })
	if validateErr == nil {
		require.NoError(t, err)
		require.True(t, handled, "the interceptor did not call the handler for a valid request")
		return
	}
	require.False(t, handled, "the handler ran for a request Validate refused")
	st, ok := status.FromError(err)
	require.True(t, ok, "not a gRPC status: %v", err)
	require.Equal(t, codes.InvalidArgument, st.Code(), "message: %s", st.Message())
	requireNamesField(t, req, st.Message())
}

// elementIndex is the "[3]" of an error about one element of a list.
var elementIndex = regexp.MustCompile(`\[\d+\]`)

// requireNamesField requires msg to read "<field>: <what is wrong>", where
// field is a field path of req such as "text.content", "resource[2]" or
// "receiver name" (the name in the receiver map).
func requireNamesField(t *testing.T, req proto.Message, msg string) {
	t.Helper()
	path, detail, ok := strings.Cut(msg, ": ")
	require.True(t, ok && strings.TrimSpace(detail) != "", "error %q does not read \"<field>: <problem>\"", msg)
	path, _, _ = strings.Cut(path, " ")
	path = elementIndex.ReplaceAllString(path, "")
	desc := req.ProtoReflect().Descriptor()
	parts := strings.Split(path, ".")
	for i, part := range parts {
		fd := desc.Fields().ByName(protoreflect.Name(part))
		require.NotNil(t, fd, "error %q names %q, not a field of %s", msg, part, desc.FullName())
		if i < len(parts)-1 {
			desc = fd.Message()
			require.NotNil(t, desc, "error %q: %s is not a message", msg, part)
		}
	}
}

// kindOf is the kind argument that selects req's type.
func kindOf(req validatable) uint8 {
	for i, rt := range allRequestTypes() {
		if rt.newRequest().ProtoReflect().Descriptor() == req.ProtoReflect().Descriptor() {
			return uint8(i)
		}
	}
	panic("no requestType for " + string(req.ProtoReflect().Descriptor().FullName()))
}

func allRequestTypes() []requestType { return gatewayRequestTypes }

// addValidSeeds adds requests Validate must accept, so the seeds alone
// reach every type's accepted check.
func addValidSeeds(f *testing.F, reqs ...validatable) {
	f.Helper()
	for _, req := range reqs {
		require.NoError(f, req.Validate(), "seed %v", req)
		f.Add(kindOf(req), mustMarshal(f, req))
	}
}

func mustMarshal(f *testing.F, m proto.Message) []byte {
	f.Helper()
	data, err := proto.Marshal(m)
	require.NoError(f, err)
	return data
}
