package storage_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/storage"
)

func TestIsImage(t *testing.T) {
	t.Parallel()
	hash := strings.Repeat("ab", 32)
	for ext, image := range map[string]bool{
		".jpg": true, ".png": true, ".gif": true, ".webp": true, ".bmp": true,
		storage.FileExt: false, ".html": false, ".svg": false, ".htm": false,
	} {
		require.Equal(t, image, storage.IsImage(hash+ext), ext)
	}
}

// An image is served with its type, to be shown; any other key as a
// download that neither renders nor runs script on the server's origin.
func TestFSServesFilesAsDownloads(t *testing.T) {
	t.Parallel()
	store, err := storage.NewFS(t.TempDir())
	require.NoError(t, err)
	html := []byte("<html><script>alert(1)</script></html>")
	hash := strings.Repeat("0f", 32)
	for _, key := range []string{hash + storage.FileExt, hash + ".png", hash + ".html"} {
		spool := filepath.Join(store.TempDir(), "upload")
		require.NoError(t, os.MkdirAll(store.TempDir(), 0o750))
		require.NoError(t, os.WriteFile(spool, html, 0o600))
		f, err := os.Open(spool)
		require.NoError(t, err)
		require.NoError(t, store.Put(context.Background(), key, f, int64(len(html)), storage.ContentType(filepath.Ext(key))))
		f.Close()
	}

	serve := func(key string) http.Header {
		w := httptest.NewRecorder()
		store.Serve(w, httptest.NewRequest(http.MethodGet, "/media/"+key, nil), key)
		require.Equal(t, http.StatusOK, w.Code, key)
		require.Equal(t, html, w.Body.Bytes(), key)
		require.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"), key)
		return w.Header()
	}
	for _, key := range []string{hash + storage.FileExt, hash + ".html"} {
		h := serve(key)
		require.Equal(t, "application/octet-stream", h.Get("Content-Type"), key)
		require.Equal(t, "attachment", h.Get("Content-Disposition"), key)
		require.Equal(t, "sandbox", h.Get("Content-Security-Policy"), key)
	}
	h := serve(hash + ".png")
	require.Equal(t, "image/png", h.Get("Content-Type"))
	require.Empty(t, h.Get("Content-Disposition"))
	require.Empty(t, h.Get("Content-Security-Policy"))
}
