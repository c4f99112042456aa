package validate_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/validate"
)

// requireErr fails unless err is nil when want is "", or has message want.
func requireErr(t *testing.T, want string, err error) {
	t.Helper()
	if want == "" {
		require.NoError(t, err)
		return
	}
	require.EqualError(t, err, want)
}

func TestLength(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		s        string
		min, max int
		want     string
	}{
		{"ascii within", "alice", 1, 32, ""},
		{"empty below min", "", 1, 32, "nickname: must be 1–32 characters"},
		{"ascii above max", "abcd", 1, 3, "nickname: must be 1–3 characters"},
		{"exactly min", "a", 1, 3, ""},
		{"exactly max", "abc", 1, 3, ""},
		{"CJK counts characters not bytes", "张三李", 1, 3, ""}, // 9 bytes
		{"CJK above max", "张三李四", 1, 3, "nickname: must be 1–3 characters"},
		{"emoji is one character", "👍", 1, 1, ""}, // 4 bytes
		{"min zero accepts empty", "", 0, 3, ""},
		{"min zero above max", "abcd", 0, 3, "nickname: must be at most 3 characters"},
		{"min zero CJK within", "张三李", 0, 3, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			requireErr(t, tc.want, validate.Length("nickname", tc.s, tc.min, tc.max))
		})
	}
}

func TestHTTPURL(t *testing.T) {
	t.Parallel()
	const (
		notHTTP    = "avatar_url: must be an http or https URL"
		tooLong    = "avatar_url: must be at most 1024 bytes"
		whitespace = "avatar_url: must not contain whitespace"
	)
	prefix := "https://example.com/"
	for _, tc := range []struct {
		name string
		s    string
		want string // for HTTPURL; OptionalHTTPURL differs only on ""
	}{
		{"http", "http://example.com", ""},
		{"https with path query fragment", "https://example.com:8443/a/b.png?size=64#top", ""},
		{"upper-case scheme", "HTTPS://EXAMPLE.COM/a.png", ""},
		{"unicode host and path", "https://例子.测试/头像.png", ""},
		{"exactly max length", prefix + strings.Repeat("a", validate.MaxURLLength-len(prefix)), ""},
		{"empty", "", notHTTP},
		{"ftp", "ftp://example.com/a.png", notHTTP},
		{"javascript", "javascript:alert(1)", notHTTP},
		{"mailto", "mailto:a@example.com", notHTTP},
		{"data", "data:image/png;base64,AAAA", notHTTP},
		{"relative path", "/avatars/a.png", notHTTP},
		{"no scheme", "example.com/a.png", notHTTP},
		{"scheme-relative", "//example.com/a.png", notHTTP},
		{"no host", "http://", notHTTP},
		{"no host with path", "http:///a.png", notHTTP},
		{"opaque http", "http:example.com", notHTTP},
		{"one byte too long", prefix + strings.Repeat("a", validate.MaxURLLength-len(prefix)+1), tooLong},
		{"length counts bytes", prefix + strings.Repeat("路", 335), tooLong}, // 355 characters, 1025 bytes
		{"space in path", "https://example.com/a b.png", whitespace},
		{"space in host", "http://exa mple.com", whitespace},
		{"leading space", " http://example.com", whitespace},
		{"newline", "http://example.com/a\n.png", whitespace},
		{"tab", "http://example.com/a\t.png", whitespace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			requireErr(t, tc.want, validate.HTTPURL("avatar_url", tc.s))
			wantOptional := tc.want
			if tc.s == "" {
				wantOptional = ""
			}
			requireErr(t, wantOptional, validate.OptionalHTTPURL("avatar_url", tc.s))
		})
	}
}

func TestPlainText(t *testing.T) {
	t.Parallel()
	const bad = "nickname: must not contain control characters"
	for _, tc := range []struct {
		name string
		s    string
		want string
	}{
		{"ascii", "Alice Smith", ""},
		{"empty", "", ""},
		{"CJK and emoji", "李雷 😀", ""},
		{"punctuation", `O'Brien-Łukasz (“ok”)`, ""},
		{"NUL", "ali\x00ce", bad},
		{"newline", "alice\n", bad},
		{"carriage return", "ali\rce", bad},
		{"tab", "ali\tce", bad},
		{"escape", "\x1b[31malice", bad},
		{"DEL", "alice\x7f", bad},
		{"C1 control", "ali\u0085ce", bad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			requireErr(t, tc.want, validate.PlainText("nickname", tc.s))
		})
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	require.NoError(t, validate.Text("content", "line one\nline two\tend", 1, 100))
	require.EqualError(t, validate.Text("content", "a\x00b", 1, 100), "content: must not contain NUL characters")
	require.EqualError(t, validate.Text("content", "", 1, 100), "content: must be 1–100 characters")
	require.EqualError(t, validate.Text("content", "ab", 0, 1), "content: must be at most 1 characters")
}
