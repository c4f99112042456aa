package media

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.png"

func testLinks(t *testing.T, ttl time.Duration) *Links {
	t.Helper()
	l, err := NewLinks("https://chat.example.com/media/", []byte(strings.Repeat("s", 32)), ttl, "https://old-bucket.example.com/parley/")
	require.NoError(t, err)
	return l
}

func TestPrivateLinksExpireRoundedUp(t *testing.T) {
	l := testLinks(t, 24*time.Hour)
	now := time.Date(2026, 12, 2, 10, 17, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	u, err := url.Parse(l.Private(key))
	require.NoError(t, err)
	require.Equal(t, "https://chat.example.com/media/"+key, u.Scheme+"://"+u.Host+u.Path)
	exp, err := strconv.ParseInt(u.Query().Get("exp"), 10, 64)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC).Unix(), exp, "a day, rounded up to the next hour")
	later := l.Private(key)
	l.now = func() time.Time { return now.Add(30 * time.Minute) }
	require.Equal(t, later, l.Private(key), "the same link for the rest of the hour, so caches hold")

	require.NoError(t, l.check(key, u.Query().Get("exp"), u.Query().Get("sig")))
	l.now = func() time.Time { return time.Unix(exp, 0) }
	require.ErrorContains(t, l.check(key, u.Query().Get("exp"), u.Query().Get("sig")), "expired")
}

func TestAcceptStoresOnlyLinksThatOpen(t *testing.T) {
	l := testLinks(t, time.Hour)
	stored, err := l.Accept("image.url", l.Private(key))
	require.NoError(t, err)
	require.Equal(t, "media:"+key, stored)
	stored, err = l.Accept("image.url", l.Public(key))
	require.NoError(t, err)
	require.Equal(t, "media:"+key, stored, "a public feed's link may be sent on")

	for _, external := range []string{"", "/media/" + key, "https://cdn.example.org/pics/" + key, "https://chat.example.com/other/" + key, "https://chat.example.com/media/not-a-key.png"} {
		stored, err := l.Accept("image.url", external)
		require.NoError(t, err)
		require.Equal(t, external, stored, "another server's URL stays as it is")
	}
	for link, want := range map[string]string{
		"https://chat.example.com/media/" + key:                                    "not signed",
		"HTTPS://CHAT.EXAMPLE.COM/media/" + key:                                    "not signed",
		"https://chat.example.com/media/" + key + "?sig=x":                         "signature is wrong",
		strings.Replace(l.Private(key), key, strings.Replace(key, "0", "1", 1), 1): "signature is wrong",
	} {
		_, err := l.Accept("image.url", link)
		require.ErrorContains(t, err, "image.url: ", link)
		require.ErrorContains(t, err, want, link)
	}
}

func TestRenderSignsStoredKeysAndOldLinks(t *testing.T) {
	l := testLinks(t, time.Hour)
	for _, stored := range []string{"media:" + key, "https://chat.example.com/media/" + key, "https://old-bucket.example.com/parley/" + key} {
		private, err := url.Parse(l.RenderPrivate(stored))
		require.NoError(t, err)
		require.NoError(t, l.check(key, private.Query().Get("exp"), private.Query().Get("sig")))
		require.NotEmpty(t, private.Query().Get("exp"))
		public, err := url.Parse(l.RenderPublic(stored))
		require.NoError(t, err)
		require.NoError(t, l.check(key, "", public.Query().Get("sig")))
		require.Empty(t, public.Query().Get("exp"))
	}
	require.Equal(t, "https://cdn.example.org/a.png", l.RenderPrivate("https://cdn.example.org/a.png"))
	require.Equal(t, "https://old-bucket.example.com/parley/"+key+"?x=1", l.RenderPrivate("https://old-bucket.example.com/parley/"+key+"?x=1"))
	require.Equal(t, "media:../../etc/passwd", l.RenderPrivate("media:../../etc/passwd"), "no link for what is no key")
}

func TestHandlerServesOnlyWhatALinkOpens(t *testing.T) {
	l := testLinks(t, time.Hour)
	served := ""
	h := l.Handler(func(w http.ResponseWriter, _ *http.Request, k string) { served = k })
	get := func(target string) *httptest.ResponseRecorder {
		served = ""
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		return w
	}
	private, err := url.Parse(l.Private(key))
	require.NoError(t, err)
	w := get(private.RequestURI())
	require.Equal(t, key, served)
	require.Contains(t, w.Header().Get("Cache-Control"), "private, max-age=")

	public, err := url.Parse(l.Public(key))
	require.NoError(t, err)
	w = get(public.RequestURI())
	require.Equal(t, key, served)
	require.Equal(t, "public, max-age=31536000, immutable", w.Header().Get("Cache-Control"))

	w = get("/media/" + key)
	require.Equal(t, http.StatusForbidden, w.Code)
	require.Contains(t, w.Body.String(), "not signed")
	require.Empty(t, served)
	w = get("/media/../" + key + "?" + private.RawQuery)
	require.Equal(t, http.StatusNotFound, w.Code)
	require.Empty(t, served)
}

func TestNewLinksRefusesWeakSettings(t *testing.T) {
	_, err := NewLinks("/media", []byte(strings.Repeat("s", 32)), time.Hour)
	require.ErrorContains(t, err, "not absolute")
	_, err = NewLinks("http://x/media", []byte("short"), time.Hour)
	require.ErrorContains(t, err, "at least 32")
	_, err = NewLinks("http://x/media", []byte(strings.Repeat("s", 32)), 0)
	require.ErrorContains(t, err, "positive")
}
