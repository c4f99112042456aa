package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
		"/":               {"<title>Parley</title>", "text/html"},
		"/js/protocol.js": {"new WebSocket(", "text/javascript"},
		"/favicon.ico":    {"", "image/"},
		"/style.css":      {"", "text/css"},
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
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "media-src 'self' https://media.example.com;", path)
	}
	resp, err := http.Get(srv.URL + "/nope.js")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// TestPageWeight keeps the page's own JavaScript and CSS within 150 KB
// uncompressed: it is the project's showcase, loaded on every visit.
func TestPageWeight(t *testing.T) {
	t.Parallel()
	var total int64
	err := filepath.WalkDir("static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := filepath.Ext(path); ext == ".js" || ext == ".css" {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	require.NoError(t, err)
	require.LessOrEqual(t, total, int64(150<<10), "the page's JS+CSS is %d bytes", total)
}
