// Package textsearch is the Go side of the substring search the modules share:
// a searchable column stores Fold(value), is indexed with the SQL function
// search.grams, and is queried with search.keyword_grams(Fold(keyword))
// plus strpos (migrations/platform).
package textsearch

import "strings"

// Fold is the case-insensitive form names are stored, compared and searched
// in: trimmed and lower-cased by Go's Unicode tables, whatever the
// database's locale.
func Fold(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}
