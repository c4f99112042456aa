package commonpb

import (
	"context"
	"flag"
	"regexp"
	"strings"
	"testing"
	"unicode"
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
// kind picks the request type: an index into commonRequestTypes.
func FuzzValidate(f *testing.F) {
	long := func(n int) string { return strings.Repeat("a", n) }
	addValidSeeds(f,
		&SendEmailRequest{Receiver: map[string]string{"alice@example.com": "Alice"}, Subject: "hi", Content: "hello"},
		&SendEmailRequest{
			Receiver: map[string]string{"a@example.com": long(MaxNameLength), "b@example.com": ""},
			Cc:       map[string]string{"c@example.com": "李雷 😀"},
			Subject:  strings.Repeat("题", MaxSubjectLength),
		},
	)
	// The fuzzer spends most of its time minimizing inputs derived from
	// 100 KiB seeds, so the body-size boundary is checked by plain go test only.
	if !fuzzing() {
		addValidSeeds(f, &SendEmailRequest{Receiver: map[string]string{"a@example.com": ""}, Subject: "s", Content: long(MaxEmailBodyBytes)})
		f.Add(uint8(0), mustMarshal(f, &SendEmailRequest{Receiver: map[string]string{"a@example.com": ""}, Subject: "s", Content: long(MaxEmailBodyBytes + 1)}))
	}
	for _, req := range []validatable{
		&SendEmailRequest{Receiver: map[string]string{"a@example.com": long(MaxNameLength + 1)}, Subject: "s"},
		&SendEmailRequest{Receiver: map[string]string{"a@example.com": ""}, Subject: long(MaxSubjectLength + 1)},
		&SendEmailRequest{Receiver: map[string]string{"Alice <a@example.com>": ""}, Subject: "s"},
		&SendEmailRequest{Receiver: map[string]string{"a@example.com\r\nBcc: evil@example.com": ""}, Subject: "s"},
		&SendEmailRequest{Receiver: map[string]string{"a@example.com": "A\r\nBcc: evil@example.com"}, Subject: "s"},
		&SendEmailRequest{Receiver: map[string]string{"a@example.com": ""}, Subject: "hi\r\nBcc: evil@example.com"},
		&SendEmailRequest{Receiver: map[string]string{"a@example.com": ""}, Subject: "  \t "},
		&SendEmailRequest{Receiver: map[string]string{"a@example.com": ""}, Subject: "s", Content: "a\x00b"},
		&SendEmailRequest{Subject: "no receiver"},
		&SendEmailRequest{Receiver: map[string]string{`"a b"@example.com`: ""}, Subject: "s"},
		&SendEmailRequest{Receiver: map[string]string{"a@[127.0.0.1]": ""}, Subject: "s"},
	} {
		f.Add(kindOf(req), mustMarshal(f, req))
	}
	// Bytes the codec refuses: a truncated field and a string with invalid UTF-8.
	f.Add(uint8(0), []byte{0x1a, 0x05, 'a'})
	f.Add(uint8(0), []byte{0x1a, 0x02, 0xff, 0xfe})

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		checkValidate(t, commonRequestTypes, kind, data)
	})
}

// commonRequestTypes are the package's request types with a Validate method.
// Append only: committed corpus files select a type by its index.
var commonRequestTypes = []requestType{
	{newRequest: func() validatable { return new(SendEmailRequest) }, accepted: acceptedSendEmail},
}

func acceptedSendEmail(t *testing.T, m proto.Message) {
	r := m.(*SendEmailRequest)
	require.NotEmpty(t, r.GetReceiver())
	require.LessOrEqual(t, len(r.GetReceiver()), MaxReceivers)
	require.LessOrEqual(t, len(r.GetCc()), MaxCc)
	for _, entries := range []map[string]string{r.GetReceiver(), r.GetCc()} {
		for address, name := range entries {
			// These go into mail headers: no line breaks or other controls.
			requireBareAddress(t, address)
			require.LessOrEqual(t, utf8.RuneCountInString(name), MaxNameLength)
			requireNoControl(t, "name", name)
		}
	}
	subject := strings.TrimSpace(r.GetSubject())
	require.NotEmpty(t, subject)
	require.LessOrEqual(t, utf8.RuneCountInString(subject), MaxSubjectLength)
	requireNoControl(t, "subject", subject)
	require.LessOrEqual(t, len(r.GetContent()), MaxEmailBodyBytes)
	require.NotContains(t, r.GetContent(), "\x00")
}

// requireBareAddress requires a plain local@domain address: no display
// name, angle brackets, quoting, spaces or control characters.
func requireBareAddress(t *testing.T, address string) {
	t.Helper()
	local, domain, ok := strings.Cut(address, "@")
	require.True(t, ok && local != "" && domain != "", "accepted address %q is not local@domain", address)
	for _, r := range address {
		require.False(t, r < 0x20 || r == 0x7f || unicode.IsSpace(r) || strings.ContainsRune(`<>,;"`, r),
			"accepted address %q contains %q", address, r)
	}
}

// fuzzing reports whether this is a go test -fuzz run.
func fuzzing() bool {
	fuzz := flag.Lookup("test.fuzz")
	return fuzz != nil && fuzz.Value.String() != ""
}

func requireNoControl(t *testing.T, field, s string) {
	t.Helper()
	for _, r := range s {
		require.False(t, unicode.IsControl(r), "accepted %s %q contains the control character %U", field, s, r)
	}
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

func allRequestTypes() []requestType { return commonRequestTypes }

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
