// Package identity is the rule for the names people are known by: user
// nicknames and group names. A name is normalised and checked by the PRECIS
// Nickname profile (RFC 8266, golang.org/x/text/secure/precis): width and
// compatibility forms are mapped (NFKC, "Ａlice" is stored as "Alice"),
// runs of spaces become one, and invisible, formatting and direction
// characters (U+200B, U+00AD, U+202E, fillers) are refused. Two nicknames
// collide when their Unicode TS #39 confusable skeletons are equal, so
// "alice", "ALICE", "аlice" (Cyrillic а) and "al1ce"'s look-alikes are one.
package identity

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// blank are characters the Nickname profile allows that render as nothing
// or as a box, so a name made with them looks like another or like none.
var blank = map[rune]bool{
	'\u2800':     true, // BRAILLE PATTERN BLANK
	'\uFFFC':     true, // OBJECT REPLACEMENT CHARACTER
	'\uFFFD':     true, // REPLACEMENT CHARACTER: text that was not valid where it came from
	'\U0001D159': true, // MUSICAL SYMBOL NULL NOTEHEAD
}

// Name returns name as it is stored and shown, or an error naming field
// that says what is wrong: at most maxRunes characters once normalised.
func Name(field, name string, maxRunes int) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", fmt.Errorf("%s: is required", field)
	}
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%s: must be valid UTF-8", field)
	}
	normal, err := precis.Nickname.String(name)
	if err != nil {
		if r, ok := firstRefused(name); ok {
			return "", fmt.Errorf("%s: must not contain %U (invisible, formatting, control and direction characters are refused)", field, r)
		}
		return "", fmt.Errorf("%s: is not a valid name (RFC 8266): %v", field, err)
	}
	for _, r := range normal {
		if blank[r] {
			return "", fmt.Errorf("%s: must not contain %U (it renders as blank)", field, r)
		}
	}
	if first, _ := utf8.DecodeRuneInString(normal); unicode.Is(unicode.M, first) {
		return "", fmt.Errorf("%s: must not start with a combining mark (%U)", field, first)
	}
	if n := utf8.RuneCountInString(normal); n > maxRunes {
		return "", fmt.Errorf("%s: must be at most %d characters, got %d", field, maxRunes, n)
	}
	return normal, nil
}

// Normal is name in the form Name stores it, or name itself when the rule
// refuses it: a name from before the rule, looked up as it was stored.
func Normal(name string) string {
	if normal, err := precis.Nickname.String(name); err == nil {
		return normal
	}
	return name
}

// firstRefused finds the first character the profile refuses on its own.
func firstRefused(name string) (rune, bool) {
	for _, r := range name {
		if _, err := precis.Nickname.String("x" + string(r)); err != nil {
			return r, true
		}
	}
	return 0, false
}

// Skeleton is the key two names collide under when one could pass for the
// other: invisible characters dropped, case and width folded, then the TS #39
// skeleton (confusables.txt), so Cyrillic "а" and Latin "a" are one. It is
// defined for any stored name, also ones from before Name's rule.
func Skeleton(name string) string {
	visible := strings.Map(func(r rune) rune {
		if invisible(r) {
			return -1
		}
		return r
	}, name)
	key, err := precis.Nickname.CompareKey(visible)
	if err != nil { // an older name the profile now refuses: fold it anyway
		key = strings.ToLower(norm.NFKC.String(strings.Join(strings.Fields(visible), " ")))
	}
	return confusables.Skeleton(key)
}

func invisible(r rune) bool {
	return blank[r] || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}
