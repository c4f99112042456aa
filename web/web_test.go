package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/web"
)

func TestServesThePageAndItsAssets(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(web.Handler("https://media.example.com"))
	defer srv.Close()
	for path, want := range map[string]string{
		"/":          "<title>Parley</title>",
		"/app.js":    "new WebSocket(",
		"/style.css": "@media (max-width: 700px)",
	} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Contains(t, string(body), want, path)
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "img-src 'self' https://media.example.com;", path)
	}
	resp, err := http.Get(srv.URL + "/nope.js")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
