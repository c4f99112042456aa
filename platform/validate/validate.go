// Package validate holds the input rules shared by request validators. Each
// check returns an error whose message names the field and says what is wrong.
package validate

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxURLLength bounds every URL Parley stores.
const MaxURLLength = 1024

// Length checks that s has between min and max characters (not bytes).
func Length(field, s string, min, max int) error {
	n := utf8.RuneCountInString(s)
	if n < min || n > max {
		if min == 0 {
			return fmt.Errorf("%s: must be at most %d characters", field, max)
		}
		return fmt.Errorf("%s: must be %d–%d characters", field, min, max)
	}
	return nil
}

// OptionalHTTPURL checks that s is empty or an absolute http(s) URL of at
// most MaxURLLength bytes.
func OptionalHTTPURL(field, s string) error {
	if s == "" {
		return nil
	}
	return HTTPURL(field, s)
}

// HTTPURL checks that s is an absolute http(s) URL of at most MaxURLLength bytes.
func HTTPURL(field, s string) error {
	if len(s) > MaxURLLength {
		return fmt.Errorf("%s: must be at most %d bytes", field, MaxURLLength)
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return fmt.Errorf("%s: must not contain whitespace", field)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: must be an http or https URL", field)
	}
	return nil
}

// PlainText checks that s has no control characters (NUL cannot even be
// stored in PostgreSQL text); for names and other single-line values.
func PlainText(field, s string) error {
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s: must not contain control characters", field)
		}
	}
	return nil
}

// Text checks a free-text field: between min and max characters and no NUL
// (PostgreSQL text cannot hold it). Newlines and tabs are allowed.
func Text(field, s string, min, max int) error {
	if err := Length(field, s, min, max); err != nil {
		return err
	}
	if strings.ContainsRune(s, 0) {
		return fmt.Errorf("%s: must not contain NUL characters", field)
	}
	return nil
}
