package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/testdb"
)

// filesLimit is the -max-upload-bytes the file tests run with.
const filesLimit = 256 << 10

// pageReply is an answer of the page endpoints (/upload, /upload/file,
// /upload/limits): a JSON object.
type pageReply struct {
	status int
	body   map[string]any
	raw    []byte
}

// page sends method path with body (nil for none) as the page does: the
// bytes as they are, the token as the bearer token ("" for none).
func (e *restEnv) page(t *testing.T, method, path, token string, body io.Reader) pageReply {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	p := pageReply{status: resp.StatusCode, raw: raw}
	require.NoError(t, json.Unmarshal(raw, &p.body), "a JSON answer: %s", raw)
	return p
}

func (p pageReply) fails(t *testing.T, httpStatus int, code codes.Code, want string) {
	t.Helper()
	require.Equal(t, httpStatus, p.status, "%s", p.raw)
	require.Equal(t, float64(code), p.body["code"], "%s", p.raw)
	require.Contains(t, p.body["message"], want, "%s", p.raw)
}

// download fetches a media link on the HTTP listener: its response, body read.
func (e *restEnv) download(t *testing.T, link string) (*http.Response, []byte) {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	resp, err := e.http.Get(e.url + u.RequestURI())
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// storedFiles lists every file under the fs store (objects and spool).
func storedFiles(t *testing.T, cfg config.Config) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(cfg.StorageDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			out = append(out, path)
		}
		return nil
	}))
	return out
}

// Pages send files of any content at POST /upload/file and learn the cap
// from GET /upload/limits; a file's link downloads it and never renders
// it on Parley's origin. /upload still takes only images.
func TestPageFileUploads(t *testing.T) {
	t.Parallel()
	e := restServeOn(t, testdb.Pool(t), func(c *config.Config) { c.MaxUploadBytes = filesLimit })
	u := e.signUp(t, false)

	t.Run("the limits, without a token", func(t *testing.T) {
		p := e.page(t, http.MethodGet, "/upload/limits", "", nil)
		require.Equal(t, http.StatusOK, p.status, "%s", p.raw)
		require.Equal(t, map[string]any{"max_upload_bytes": float64(filesLimit)}, p.body)
	})

	for name, data := range map[string][]byte{
		"a binary file": randomFile(t, 100<<10),
		"an HTML page":  []byte("<!doctype html><html><body><script>alert(document.cookie)</script>" + authzRandom() + "</body></html>"),
		"an SVG":        []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><!--` + authzRandom() + `--></svg>`),
	} {
		t.Run(name, func(t *testing.T) {
			p := e.page(t, http.MethodPost, "/upload/file", u.token, bytes.NewReader(data))
			require.Equal(t, http.StatusOK, p.status, "%s", p.raw)
			require.Equal(t, float64(len(data)), p.body["size"])
			link, _ := p.body["url"].(string)
			require.Contains(t, link, "/media/")
			require.Contains(t, link, ".bin?exp=", "a neutral extension, and a private link")

			resp, got := e.download(t, link)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", got)
			require.Equal(t, data, got)
			require.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"), "never text/html or image/svg+xml")
			require.Equal(t, "attachment", resp.Header.Get("Content-Disposition"))
			require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			require.Equal(t, "sandbox", resp.Header.Get("Content-Security-Policy"))
		})
	}

	t.Run("over the cap", func(t *testing.T) {
		v := e.signUp(t, false)
		before := storedFiles(t, e.cfg)
		over := randomFile(t, filesLimit+1)
		e.page(t, http.MethodPost, "/upload/file", v.token, bytes.NewReader(over)).
			fails(t, http.StatusRequestEntityTooLarge, codes.InvalidArgument, "larger than 262144 bytes")
		e.page(t, http.MethodPost, "/upload/file", v.token, restChunked{bytes.NewReader(over)}).
			fails(t, http.StatusRequestEntityTooLarge, codes.InvalidArgument, "larger than 262144 bytes")
		require.ElementsMatch(t, before, storedFiles(t, e.cfg), "no object and no spool file is left")
		var rows int
		require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM common.objects WHERE owner_id = $1", int64(v.id)).Scan(&rows))
		require.Zero(t, rows)
	})

	t.Run("without a token", func(t *testing.T) {
		e.page(t, http.MethodPost, "/upload/file", "", strings.NewReader("hello")).
			fails(t, http.StatusUnauthorized, codes.Unauthenticated, "Bearer")
		e.page(t, http.MethodPost, "/upload/file", "not-a-token", strings.NewReader("hello")).
			fails(t, http.StatusUnauthorized, codes.Unauthenticated, "")
	})

	t.Run("/upload still takes only images", func(t *testing.T) {
		e.page(t, http.MethodPost, "/upload", u.token, strings.NewReader("<html><script>alert(1)</script></html>")).
			fails(t, http.StatusBadRequest, codes.InvalidArgument, "not a JPEG, PNG")
		img := restNoisePNG(t, 8, 8)
		p := e.page(t, http.MethodPost, "/upload", u.token, bytes.NewReader(img))
		require.Equal(t, http.StatusOK, p.status, "%s", p.raw)
		resp, got := e.download(t, p.body["url"].(string))
		require.Equal(t, img, got)
		require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
		require.Empty(t, resp.Header.Get("Content-Disposition"), "an image is shown inline")
	})
}

func randomFile(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}
