// Package media makes and checks the links uploaded files are fetched at.
// Every link is {base}/{key} with an HMAC-SHA256 signature over the key and
// its expiry: a private link (message media) expires, a public one (feed
// images) does not. A link is a capability: whoever holds it may fetch the
// file until it expires, so the server hands private links only to those
// who may see the file (a conversation's participants, the uploader).
//
// Stored rows keep the key ("media:<key>"), never a link, and a link is made
// as a row is answered; links to this server's media in requests must carry
// a valid signature, so knowing a file's hash is not enough to reach it.
package media

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/parley-im/parley/platform/storage"
)

// storedPrefix marks a stored reference to an object by its key.
const storedPrefix = "media:"

// Links signs and checks media links. A nil *Links stores and answers
// links as they are, for tools that answer no media (parley admin).
type Links struct {
	base   *url.URL // e.g. http://localhost:8080/media, no trailing slash
	legacy []string // see keyOf
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// NewLinks makes links under base (absolute), signed with secret, private
// ones valid for ttl (rounded up, so one link serves a while and caches).
// Stored links under a legacy prefix are links to the key that follows.
func NewLinks(base string, secret []byte, ttl time.Duration, legacy ...string) (*Links, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("media base URL %q: not absolute", base)
	}
	if len(secret) < 32 {
		return nil, fmt.Errorf("media link secret: %d bytes, want at least 32", len(secret))
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("media link lifetime %s: must be positive", ttl)
	}
	for i := range legacy {
		legacy[i] = strings.TrimSuffix(legacy[i], "/")
	}
	return &Links{base: u, legacy: legacy, secret: secret, ttl: ttl, now: time.Now}, nil
}

// Private is a link to key valid for the lifetime at least: its expiry is
// rounded up to a step (an hour, or the lifetime if shorter), so the same
// link is made for a while and a browser's cache holds.
func (l *Links) Private(key string) string {
	step := min(time.Hour, l.ttl)
	exp := l.now().Add(l.ttl).Truncate(step).Add(step).Unix()
	return l.link(key, strconv.FormatInt(exp, 10))
}

// Public is a link to key that does not expire, for files shown to anyone.
func (l *Links) Public(key string) string { return l.link(key, "") }

func (l *Links) link(key, exp string) string {
	q := url.Values{"sig": {l.sign(key, exp)}}
	if exp != "" {
		q.Set("exp", exp)
	}
	return l.base.String() + "/" + key + "?" + q.Encode()
}

func (l *Links) sign(key, exp string) string {
	mac := hmac.New(sha256.New, l.secret)
	mac.Write([]byte(key + "\x00" + exp))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

// check reports why a key's exp and sig do not open it, or nil.
func (l *Links) check(key, exp, sig string) error {
	if sig == "" {
		return fmt.Errorf("the link is not signed")
	}
	if !hmac.Equal([]byte(sig), []byte(l.sign(key, exp))) {
		return fmt.Errorf("the link's signature is wrong")
	}
	if exp == "" {
		return nil // public
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !l.now().Before(time.Unix(unix, 0)) {
		return fmt.Errorf("the link has expired")
	}
	return nil
}

// keyOf returns the key a link to Parley media names, with its query; ok is
// false for any other URL. A link is Parley's by its path, /media/<key>,
// whatever its host (a link signed under another -public-url, or another
// server's, is still checked, never stored as it is and signed later), or
// by one of the legacy prefixes: where files were fetched before links were
// signed (an S3 bucket's URL).
func (l *Links) keyOf(raw string) (key string, q url.Values, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return "", nil, false
	}
	dir, key := path.Split(u.Path)
	if storage.IsKey(key) && strings.HasSuffix(dir, "/media/") {
		return key, u.Query(), true
	}
	for _, prefix := range l.legacy {
		if key, found := strings.CutPrefix(raw, prefix+"/"); found && storage.IsKey(key) {
			return key, url.Values{}, true
		}
	}
	return "", nil, false
}

// Accept is how a link given in a request is stored: a link to Parley
// media (see keyOf), validly signed and unexpired, as its key; any other
// URL as it is. A link to Parley media that does not open is an error
// naming field.
func (l *Links) Accept(field, raw string) (string, error) {
	if l == nil {
		return raw, nil
	}
	key, q, ours := l.keyOf(raw)
	if !ours {
		return raw, nil
	}
	if err := l.check(key, q.Get("exp"), q.Get("sig")); err != nil {
		return "", fmt.Errorf("%s: %v: use the link UploadImage answered, or a fresh one from a message (sync the conversation)", field, err)
	}
	return storedPrefix + key, nil
}

// RenderPrivate is a stored link as answered to someone who may see it: a
// stored key, or a link to Parley media from before keys were stored,
// becomes a fresh private link; any other URL stays as it is.
func (l *Links) RenderPrivate(stored string) string {
	if key, ok := l.storedKey(stored); ok {
		return l.Private(key)
	}
	return stored
}

// RenderPublic is RenderPrivate with links that do not expire.
func (l *Links) RenderPublic(stored string) string {
	if key, ok := l.storedKey(stored); ok {
		return l.Public(key)
	}
	return stored
}

func (l *Links) storedKey(stored string) (string, bool) {
	if l == nil {
		return "", false
	}
	if key, ok := strings.CutPrefix(stored, storedPrefix); ok {
		return key, storage.IsKey(key)
	}
	key, _, ok := l.keyOf(stored)
	return key, ok
}

// Serve fetches an object for a request whose link opened it.
type Serve func(w http.ResponseWriter, r *http.Request, key string)

// Route is the path the handler is served under (behind a proxy that
// strips -public-url's own path, if it has one).
const Route = "/media/"

// Handler serves GET /media/{key}?exp=&sig= through serve when the link
// opens: 404 for what is no key, 403 saying why a link does not open.
func (l *Links) Handler(serve Serve) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, found := strings.CutPrefix(r.URL.Path, Route)
		if !found || !storage.IsKey(key) {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		exp := q.Get("exp")
		if err := l.check(key, exp, q.Get("sig")); err != nil {
			http.Error(w, "media: "+err.Error()+": fetch a fresh link (sync the conversation)", http.StatusForbidden)
			return
		}
		// A key's bytes never change; a private link may be cached by the
		// browser that holds it, for as long as it lasts.
		if exp == "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			unix, _ := strconv.ParseInt(exp, 10, 64)
			w.Header().Set("Cache-Control", fmt.Sprintf("private, max-age=%d", max(0, unix-l.now().Unix())))
		}
		serve(w, r, key)
	})
}
