package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/web"
)

func TestServesThePageAndItsAssets(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(web.Handler("https://media.example.com"))
	defer srv.Close()
	// Served with the type a browser needs to use it (a stylesheet served
	// as anything else is ignored under nosniff).
	for path, want := range map[string]struct{ body, contentType string }{
		"/":          {"<title>Parley</title>", "text/html"},
		"/app.js":    {"new WebSocket(", "text/javascript"},
		"/style.css": {"", "text/css"},
	} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.NotEmpty(t, body, path)
		require.Contains(t, string(body), want.body, path)
		require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), want.contentType), "%s: %s", path, resp.Header.Get("Content-Type"))
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "img-src 'self' https://media.example.com;", path)
	}
	resp, err := http.Get(srv.URL + "/nope.js")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
