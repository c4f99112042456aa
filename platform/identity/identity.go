// Package identity is the rule for the names people are known by: user
// nicknames and group names. A name is normalised and checked by the PRECIS
// Nickname profile (RFC 8266, golang.org/x/text/secure/precis): width and
// compatibility forms are mapped (NFKC, "Ａlice" is stored as "Alice"),
// runs of spaces become one, and invisible, formatting and direction
// characters (U+200B, U+00AD, U+202E, fillers) are refused. Two nicknames
// collide when they share a Unicode TS #39 confusable skeleton, so "alice",
// "ALICE", "аlice" (Cyrillic а) and "a1ice" are one.
package identity

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
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

// rawRunesPer is how many characters a name may have as typed per character
// it may have normalised.
const rawRunesPer = 4

// Name returns name as it is stored and shown, or an error naming field
// that says what is wrong: at most maxRunes characters once normalised.
func Name(field, name string, maxRunes int) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", fmt.Errorf("%s: is required", field)
	}
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%s: must be valid UTF-8", field)
	}
	// Bounded before any normalising, which costs per character: room for
	// decomposed forms and runs of spaces, never the whole request.
	if n := utf8.RuneCountInString(strings.TrimSpace(name)); n > rawRunesPer*maxRunes {
		return "", fmt.Errorf("%s: must be at most %d characters, got %d", field, maxRunes, n)
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

// Skeletons are the keys two names collide under when one could pass for
// the other (two names collide when they share one): invisible characters
// dropped, width folded, then the TS #39 skeleton (confusables.txt), once
// of the case-folded name (so "ALICE" is "alice" and Cyrillic "а" is "a")
// and once of the name as cased, folded after (confusables.txt maps "I" and
// "1" to "l" and "0" to "O", but not the lower-case "i" or "o"). They are
// defined for any stored name, also ones from before Name's rule.
func Skeletons(name string) []string {
	visible := norm.NFKC.String(strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if invisible(r) {
			return -1
		}
		return r
	}, name)), " "))
	folded := confusables.Skeleton(cases.Fold().String(visible))
	cased := cases.Fold().String(confusables.Skeleton(visible))
	if folded == cased {
		return []string{folded}
	}
	return []string{folded, cased}
}

func invisible(r rune) bool {
	return blank[r] || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}
