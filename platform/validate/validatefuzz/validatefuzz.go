// Package validatefuzz is what the request rules' fuzz tests
// (api/rules/*rules/rules_fuzz_test.go) share: a request decoded as the
// gRPC codec decodes it, its rule checked against the validation
// interceptor the server runs, and what an accepted request promises checked
// again independently. For tests only.
package validatefuzz

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/parley-im/parley/platform/grpcserver"
	"github.com/parley-im/parley/platform/identity"
	"github.com/parley-im/parley/platform/validate"
)

// Request is a request of a type with rules.
type Request = proto.Message

// Type is a request type and what must hold of a request of that type its
// rule accepts, checked independently of the rule.
type Type struct {
	New      func() Request
	Accepted func(t *testing.T, req proto.Message)
}

// Types are a package's request types and their rules. A fuzz input's kind
// picks a type by its index, so committed corpora depend on the order:
// only append.
type Types struct {
	rules validate.Rules
	list  []Type
}

// NewTypes is list, checked by rules.
func NewTypes(rules []validate.Rule, list []Type) Types {
	return Types{rules: validate.Index(rules), list: list}
}

func (ts Types) validate(req proto.Message) error { return ts.rules.Check(req) }

// Check decodes data as the request type kind selects and checks Validate:
// it must not panic; an error must name a field of the request and reach
// the client as InvalidArgument through the validator interceptor; a
// request it accepts must pass the handler and satisfy the type's Accepted.
func (ts Types) Check(t *testing.T, kind uint8, data []byte) {
	rt := ts.list[int(kind)%len(ts.list)]
	req := rt.New()
	if proto.Unmarshal(data, req) != nil {
		return // the codec refuses it before any validator runs
	}
	err := ts.validate(req)
	ts.requireInterceptorAgrees(t, req, err)
	if err != nil {
		requireNamesField(t, req, err.Error())
		return
	}
	rt.Accepted(t, req)
}

// AddSeeds adds reqs to f's seed corpus.
func (ts Types) AddSeeds(f *testing.F, reqs ...Request) {
	f.Helper()
	for _, req := range reqs {
		data, err := proto.Marshal(req)
		require.NoError(f, err)
		f.Add(ts.kind(req), data)
	}
}

// AddValidSeeds adds requests Validate must accept, so the seeds alone
// reach every type's Accepted check.
func (ts Types) AddValidSeeds(f *testing.F, reqs ...Request) {
	f.Helper()
	for _, req := range reqs {
		require.NoError(f, ts.validate(req), "seed %v", req)
	}
	ts.AddSeeds(f, reqs...)
}

// kind is the kind argument that selects req's type.
func (ts Types) kind(req Request) uint8 {
	for i, rt := range ts.list {
		if rt.New().ProtoReflect().Descriptor() == req.ProtoReflect().Descriptor() {
			return uint8(i)
		}
	}
	panic("no Type for " + string(req.ProtoReflect().Descriptor().FullName()))
}

// requireInterceptorAgrees runs req through the server's validation
// interceptor, which checks the rule again: it must decide the same way and
// turn a refusal into InvalidArgument with a message naming a field.
func (ts Types) requireInterceptorAgrees(t *testing.T, req Request, validateErr error) {
	t.Helper()
	handled := false
	check := func(req any) error { return ts.validate(req.(proto.Message)) }
	_, err := grpcserver.ValidationInterceptor(check)(context.Background(), req, &grpc.UnaryServerInfo{FullMethod: "/fuzz/Validate"},
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

// RequireRunes requires s to have min–max characters.
func RequireRunes(t *testing.T, field, s string, min, max int) {
	t.Helper()
	n := utf8.RuneCountInString(s)
	require.True(t, n >= min && n <= max, "accepted %s of %d characters, want %d–%d", field, n, min, max)
}

// RequireNoControl requires s to hold no control character.
func RequireNoControl(t *testing.T, field, s string) {
	t.Helper()
	for _, r := range s {
		require.False(t, unicode.IsControl(r), "accepted %s %q contains the control character %U", field, s, r)
	}
}

// RequireVisibleName requires a name (a nickname, a group name) that shows
// what it is: its stored form at most max characters, with no control,
// formatting, invisible, or blank-rendering characters, stable when
// normalised again.
func RequireVisibleName(t *testing.T, field, s string, max int) {
	t.Helper()
	stored, err := identity.Name(field, s, max)
	require.NoError(t, err, "accepted %s %q", field, s)
	RequireRunes(t, field, stored, 1, max)
	for _, r := range stored {
		invisible := unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector, unicode.White_Space) && r != ' '
		require.False(t, invisible || r == '\u2800', "accepted %s %q contains %U", field, s, r)
	}
	again, err := identity.Name(field, stored, max)
	require.NoError(t, err)
	require.Equal(t, stored, again, "the stored %s %q changes when normalised again", field, stored)
}

// RequireHTTPURL requires an absolute http(s) URL with a host, at most 1024
// bytes, without whitespace.
func RequireHTTPURL(t *testing.T, field, s string) {
	t.Helper()
	require.LessOrEqual(t, len(s), 1024, "accepted %s of %d bytes", field, len(s))
	require.False(t, strings.ContainsAny(s, " \t\r\n"), "accepted %s %q with whitespace", field, s)
	u, err := url.Parse(s)
	require.NoError(t, err, "accepted %s %q", field, s)
	scheme := strings.ToLower(u.Scheme)
	require.True(t, scheme == "http" || scheme == "https", "accepted %s %q: scheme %q", field, s, u.Scheme)
	require.NotEmpty(t, u.Host, "accepted %s %q without a host", field, s)
}

// RequireOptionalHTTPURL is RequireHTTPURL, or empty.
func RequireOptionalHTTPURL(t *testing.T, field, s string) {
	t.Helper()
	if s != "" {
		RequireHTTPURL(t, field, s)
	}
}
