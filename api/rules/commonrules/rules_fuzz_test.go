package commonrules

import (
	"flag"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/platform/validate/validatefuzz"
)

// FuzzValidate decodes the input as a request, the way the gRPC codec does
// before the validation interceptor runs, and checks what the rules promise.
// kind picks the request type: an index into commonRequestTypes.
func FuzzValidate(f *testing.F) {
	long := func(n int) string { return strings.Repeat("a", n) }
	commonRequestTypes.AddValidSeeds(f,
		&commonpb.SendEmailRequest{Receiver: map[string]string{"Alice": "alice@example.com"}, Subject: "hi", Content: "hello"},
		&commonpb.SendEmailRequest{Receiver: map[string]string{"Bob": "bob@example.com"}, Subject: "hi"},
		&commonpb.SendEmailRequest{
			Receiver: map[string]string{long(MaxNameLength): "a@example.com", "": "b@example.com"},
			Cc:       map[string]string{"李雷 😀": "c@example.com"},
			Subject:  strings.Repeat("题", MaxSubjectLength),
		},
	)
	// The fuzzer spends most of its time minimizing inputs derived from
	// 100 KiB seeds, so the body-size boundary is checked by plain go test only.
	if !fuzzing() {
		commonRequestTypes.AddValidSeeds(f, &commonpb.SendEmailRequest{Receiver: map[string]string{"": "a@example.com"}, Subject: "s", Content: long(MaxEmailBodyBytes)})
		commonRequestTypes.AddSeeds(f, &commonpb.SendEmailRequest{Receiver: map[string]string{"": "a@example.com"}, Subject: "s", Content: long(MaxEmailBodyBytes + 1)})
	}
	commonRequestTypes.AddSeeds(f,
		&commonpb.SendEmailRequest{Receiver: map[string]string{long(MaxNameLength + 1): "a@example.com"}, Subject: "s"},
		&commonpb.SendEmailRequest{Receiver: map[string]string{"": "a@example.com"}, Subject: long(MaxSubjectLength + 1)},
		&commonpb.SendEmailRequest{Receiver: map[string]string{"": "Alice <a@example.com>"}, Subject: "s"},
		&commonpb.SendEmailRequest{Receiver: map[string]string{"": "a@example.com\r\nBcc: evil@example.com"}, Subject: "s"},
		&commonpb.SendEmailRequest{Receiver: map[string]string{"A\r\nBcc: evil@example.com": "a@example.com"}, Subject: "s"},
		&commonpb.SendEmailRequest{Receiver: map[string]string{"": "a@example.com"}, Subject: "hi\r\nBcc: evil@example.com"},
		&commonpb.SendEmailRequest{Receiver: map[string]string{"": "a@example.com"}, Subject: "  \t "},
		&commonpb.SendEmailRequest{Receiver: map[string]string{"": "a@example.com"}, Subject: "s", Content: "a\x00b"},
		&commonpb.SendEmailRequest{Subject: "no receiver"},
		// The seed's meaning read the other way round: an address as the key.
		&commonpb.SendEmailRequest{Receiver: map[string]string{"bob@example.com": "Bob"}, Subject: "s"},
		&commonpb.SendEmailRequest{Receiver: map[string]string{"Bob": "bob@example.com", "Robert": "Bob@example.com"}, Subject: "s"},
		&commonpb.SendEmailRequest{Receiver: map[string]string{"": `"a b"@example.com`}, Subject: "s"},
		&commonpb.SendEmailRequest{Receiver: map[string]string{"": "a@[127.0.0.1]"}, Subject: "s"},
	)
	// Bytes the codec refuses: a truncated field and a string with invalid UTF-8.
	f.Add(uint8(0), []byte{0x1a, 0x05, 'a'})
	f.Add(uint8(0), []byte{0x1a, 0x02, 0xff, 0xfe})

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		commonRequestTypes.Check(t, kind, data)
	})
}

// commonRequestTypes are the package's request types with rules.
// Append only: committed corpus files select a type by its index.
var commonRequestTypes = validatefuzz.NewTypes(Rules, []validatefuzz.Type{
	{New: func() validatefuzz.Request { return new(commonpb.SendEmailRequest) }, Accepted: acceptedSendEmail},
})

func acceptedSendEmail(t *testing.T, m proto.Message) {
	r := m.(*commonpb.SendEmailRequest)
	require.NotEmpty(t, r.GetReceiver())
	require.LessOrEqual(t, len(r.GetReceiver()), MaxReceivers)
	require.LessOrEqual(t, len(r.GetCc()), MaxCc)
	for _, entries := range []map[string]string{r.GetReceiver(), r.GetCc()} {
		seen := map[string]bool{}
		for name, address := range entries {
			require.False(t, seen[strings.ToLower(address)], "accepted %q twice", address)
			seen[strings.ToLower(address)] = true
			// These go into mail headers: no line breaks or other controls.
			requireBareAddress(t, address)
			require.LessOrEqual(t, utf8.RuneCountInString(name), MaxNameLength)
			validatefuzz.RequireNoControl(t, "name", name)
		}
	}
	subject := strings.TrimSpace(r.GetSubject())
	require.NotEmpty(t, subject)
	require.LessOrEqual(t, utf8.RuneCountInString(subject), MaxSubjectLength)
	validatefuzz.RequireNoControl(t, "subject", subject)
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
