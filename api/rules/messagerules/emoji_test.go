package messagerules

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateEmoji(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{
		"👍", "❤️", "❤", "😂",
		"👍🏽",         // a skin tone
		"👩‍👩‍👧‍👦",    // a ZWJ family
		"🏳️‍🌈",       // a ZWJ flag
		"🇫🇷",         // regional indicators: a flag
		"1️⃣", "#️⃣", // keycaps
		"🏴󠁧󠁢󠁳󠁣󠁴󠁿", // a tag sequence (Scotland)
	} {
		require.NoError(t, validateEmoji(ok), "%q", ok)
	}
	for _, bad := range []string{
		"", "a", "ok", "1", "中", "!", " ", "👍👍", "👍 ", "😂a",
		"\xff",
		"☺\u0301\u0302", // one cluster: a symbol under combining accents
		strings.Repeat("\U0001F44D\u200d", 9) + "\U0001F44D", // one cluster, > 32 bytes
	} {
		require.Error(t, validateEmoji(bad), "%q", bad)
	}
}
