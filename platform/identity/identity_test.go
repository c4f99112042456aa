package identity

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNameRefusesInvisibleAndFormattingCharacters(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"alice\u200b", "U+200B"}, // zero width space
		{"alice\u00ad", "U+00AD"}, // soft hyphen
		{"alice\u2800", "U+2800"}, // Braille blank
		{"\u202eecila", "U+202E"}, // right-to-left override
		{"\u200b", "U+200B"},      // nothing visible at all
		{"x\u3164", "U+3164"},     // Hangul filler
		{"x\u2060", "U+2060"},     // word joiner
		{"x\ufe0f", "U+FE0F"},     // variation selector
		{"a\x00b", "U+0000"},      // control
		{"\u0301x", "combining"},  // a mark with nothing to sit on
		{"   ", "is required"},    // blank
		{"alice\ufffd", "U+FFFD"}, // replacement character
		{"\xff", "UTF-8"},         // not text
	} {
		_, err := Name("nickname", tc.name, 32)
		require.ErrorContains(t, err, tc.want, "%q", tc.name)
		require.ErrorContains(t, err, "nickname:", "%q", tc.name)
	}
}

func TestNameNormalises(t *testing.T) {
	for in, want := range map[string]string{
		"Ａlice":           "Alice", // fullwidth
		"  alice  ":       "alice", // trimmed
		"a\u00a0 \u3000b": "a b",   // spaces of every kind, collapsed
		"张三":              "张三",
		"e\u0301":         "\u00e9", // composed
		"🙂 bob":           "🙂 bob",
	} {
		got, err := Name("nickname", in, 32)
		require.NoError(t, err, "%q", in)
		require.Equal(t, want, got, "%q", in)
		again, err := Name("nickname", got, 32)
		require.NoError(t, err)
		require.Equal(t, got, again, "normalising twice changes %q", in)
	}
}

func TestNameLengthCountsTheNormalisedForm(t *testing.T) {
	_, err := Name("name", "\u337f", 3) // ㍿ is four characters under NFKC: 株式会社
	require.ErrorContains(t, err, "at most 3 characters, got 4")
	_, err = Name("name", "\u337f", 4)
	require.NoError(t, err)
}

// collide reports whether two names share a skeleton.
func collide(a, b string) bool {
	for _, x := range Skeletons(a) {
		for _, y := range Skeletons(b) {
			if x == y {
				return true
			}
		}
	}
	return false
}

func TestSkeletonsOfLookAlikesCollide(t *testing.T) {
	for _, lookAlike := range []string{"аlice", "ALICE", "Ａlice", "alice\u200b", "alice\u00ad", "alice\u2800", "аlicе", "a\u200dlice", "a1ice", "aIice"} {
		require.True(t, collide("alice", lookAlike), "%q", lookAlike)
	}
	for pair := range map[[2]string]bool{{"bob", "b0b"}: true, {"bill", "biII"}: true, {"bill", "BILL"}: true, {"m", "rn"}: true, {"straße", "STRASSE"}: true} {
		require.True(t, collide(pair[0], pair[1]), "%q %q", pair[0], pair[1])
	}
	for _, other := range []string{"alicia", "a lice", "bob", "alice2"} {
		require.False(t, collide("alice", other), "%q", other)
	}
}

// A long name is refused on its length before it is normalised: a request
// of megabytes costs no more than a short one.
func TestNameBoundsTheWorkBeforeNormalising(t *testing.T) {
	_, err := Name("nickname", strings.Repeat("a", 4<<20)+"\u200b", 32)
	require.ErrorContains(t, err, "at most 32 characters, got 4194305")
	_, err = Name("nickname", strings.Repeat("e\u0301", 32), 32) // 64 as typed, 32 composed
	require.NoError(t, err)
}
