package common_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/modules/common"
	"github.com/parley-im/parley/platform/storage"
	"github.com/parley-im/parley/platform/testkit"
)

// pages serves the module's page handlers as internal/parley mounts them.
func (e *env) pages(t testing.TB) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("POST /upload", e.mod.UploadHandler(e.userMod))
	mux.Handle("POST /upload/file", e.mod.FileUploadHandler(e.userMod))
	mux.Handle("GET /upload/limits", e.mod.UploadLimitsHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// pageReply is a page handler's answer: its status and JSON body.
type pageReply struct {
	status int
	body   map[string]any
	raw    []byte
}

// post sends body (an io.Reader: sent chunked unless it is a *bytes.Reader)
// to base+path with token as the bearer token ("" for none).
func post(t testing.TB, base, path, token string, body io.Reader) pageReply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, body)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := pageReply{status: resp.StatusCode, raw: raw}
	require.NoError(t, json.Unmarshal(raw, &r.body), "a JSON answer: %s", raw)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	return r
}

// fails requires an error answer: the HTTP status, the gRPC code, and a
// message containing want.
func (r pageReply) fails(t testing.TB, httpStatus int, code codes.Code, want string) {
	t.Helper()
	require.Equal(t, httpStatus, r.status, "%s", r.raw)
	require.Equal(t, float64(code), r.body["code"], "%s", r.raw)
	require.Contains(t, r.body["message"], want, "%s", r.raw)
}

// chunked hides a reader's length, so it is sent without a Content-Length.
type chunked struct{ io.Reader }

// fileKey is the key a file's bytes are stored under.
func fileKey(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]) + ".bin"
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// requireDownload requires u to serve data as a download that cannot
// render on the server's origin.
func requireDownload(t testing.TB, u string, data []byte) {
	t.Helper()
	resp, body := get(t, u)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.Equal(t, data, body)
	require.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))
	require.Equal(t, "attachment", resp.Header.Get("Content-Disposition"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "sandbox", resp.Header.Get("Content-Security-Policy"))
	require.Contains(t, resp.Header.Get("Cache-Control"), "private")
}

// A file of any content posted to /upload/file is stored under its digest
// and .bin, and its link downloads the same bytes.
func TestFileUploadRoundTrips(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	alice, bob := e.signUp(t, "alice"), e.signUp(t, "bob")
	pages := e.pages(t)
	data := randomBytes(t, 300<<10) // several of the handler's chunks

	for name, body := range map[string]func() io.Reader{
		"with a length": func() io.Reader { return bytes.NewReader(data) },
		"chunked":       func() io.Reader { return chunked{bytes.NewReader(data)} },
	} {
		t.Run(name, func(t *testing.T) {
			r := post(t, pages, "/upload/file", alice.token, body())
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			require.Len(t, r.body, 2, "url and size: %s", r.raw)
			require.Equal(t, float64(len(data)), r.body["size"])
			link, _ := r.body["url"].(string)
			requireLink(t, e.baseURL, link, fileKey(data))
			requireDownload(t, link, data)
		})
	}
	require.Equal(t, objectRow{ownerID: int64(alice.id), size: int64(len(data)), contentType: "application/octet-stream"},
		e.object(t, fileKey(data)))
	require.Len(t, e.storedObjects(t), 1, "the same bytes are stored once")
	require.Empty(t, files(t, e.spoolDir), "spool files left behind")

	// An image sent as a file is a file: kept apart from the image, served
	// as a download.
	img := png32(t).data
	r := post(t, pages, "/upload/file", bob.token, bytes.NewReader(img))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	requireLink(t, e.baseURL, r.body["url"].(string), fileKey(img))
	requireDownload(t, r.body["url"].(string), img)
}

// Files a browser would render (HTML, SVG with script) are served as
// downloads, never as their type: their script never runs as Parley.
func TestFileUploadOfHTMLIsAnAttachment(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	alice := e.signUp(t, "alice")
	pages := e.pages(t)
	for name, data := range map[string][]byte{
		"html": []byte("<!doctype html><html><body><script>fetch('/v1/api/user/password')</script></body></html>" + testkit.Unique("")),
		"svg":  []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg><!--` + testkit.Unique("") + "-->"),
	} {
		t.Run(name, func(t *testing.T) {
			r := post(t, pages, "/upload/file", alice.token, bytes.NewReader(data))
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			link := r.body["url"].(string)
			requireLink(t, e.baseURL, link, fileKey(data))
			requireDownload(t, link, data)
			resp, _ := get(t, link)
			require.NotContains(t, resp.Header.Get("Content-Type"), "html")
			require.NotContains(t, resp.Header.Get("Content-Type"), "svg")
		})
	}
}

// A file over the cap is 413 naming the cap, whether its length is
// declared (refused before it is read) or it turns out larger as it comes;
// nothing is kept. At the cap it is accepted.
func TestFileUploadOverTheCapIs413(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	e := setup(t, options{cfg: common.Config{MaxUploadBytes: limit}})
	alice := e.signUp(t, "alice")
	pages := e.pages(t)
	over := randomBytes(t, 3*limit)

	t.Run("declared", func(t *testing.T) {
		post(t, pages, "/upload/file", alice.token, bytes.NewReader(over)).
			fails(t, http.StatusRequestEntityTooLarge, codes.InvalidArgument, "larger than 65536 bytes")
		e.requireNothingStored(t, alice)
	})
	t.Run("chunked", func(t *testing.T) {
		post(t, pages, "/upload/file", alice.token, chunked{bytes.NewReader(over)}).
			fails(t, http.StatusRequestEntityTooLarge, codes.InvalidArgument, "larger than 65536 bytes")
		e.requireNothingStored(t, alice)
	})
	t.Run("one byte over", func(t *testing.T) {
		post(t, pages, "/upload/file", alice.token, chunked{bytes.NewReader(over[:limit+1])}).
			fails(t, http.StatusRequestEntityTooLarge, codes.InvalidArgument, "65536")
		e.requireNothingStored(t, alice)
	})
	t.Run("an image over the cap on /upload", func(t *testing.T) {
		img := pngImage(t, 240, 240).data
		require.Greater(t, len(img), limit)
		post(t, pages, "/upload", alice.token, chunked{bytes.NewReader(img)}).
			fails(t, http.StatusRequestEntityTooLarge, codes.InvalidArgument, "larger than 65536 bytes")
		e.requireNothingStored(t, alice)
	})
	t.Run("at the cap", func(t *testing.T) {
		r := post(t, pages, "/upload/file", alice.token, bytes.NewReader(over[:limit]))
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		require.Equal(t, float64(limit), r.body["size"])
		require.Equal(t, 1, e.objectRows(t, alice))
	})
}

// /upload/file needs a valid token, and refuses an empty file; neither
// keeps anything.
func TestFileUploadRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	alice := e.signUp(t, "alice")
	pages := e.pages(t)
	data := []byte("a small text file\n")

	post(t, pages, "/upload/file", "", bytes.NewReader(data)).fails(t, http.StatusUnauthorized, codes.Unauthenticated, "Bearer")
	post(t, pages, "/upload/file", "not-a-token", bytes.NewReader(data)).fails(t, http.StatusUnauthorized, codes.Unauthenticated, "")
	post(t, pages, "/upload/file", alice.token, bytes.NewReader(nil)).fails(t, http.StatusBadRequest, codes.InvalidArgument, "empty")
	e.requireNothingStored(t, alice)
	require.Empty(t, e.storedObjects(t))
}

// /upload still takes only images: a file of another kind is refused there.
func TestPageImageUploadStillRefusesNonImages(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	alice := e.signUp(t, "alice")
	pages := e.pages(t)
	for _, data := range [][]byte{
		[]byte("<!doctype html><html><script>alert(1)</script></html>"),
		[]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
		randomBytes(t, 4096),
	} {
		post(t, pages, "/upload", alice.token, bytes.NewReader(data)).fails(t, http.StatusBadRequest, codes.InvalidArgument, "not a JPEG, PNG")
	}
	e.requireNothingStored(t, alice)
	r := post(t, pages, "/upload", alice.token, bytes.NewReader(png32(t).data))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	require.Len(t, r.body, 1, "url only: %s", r.raw)
}

// /upload/limits answers the cap, to anyone.
func TestUploadLimitsAnswerTheCap(t *testing.T) {
	t.Parallel()
	for _, cfg := range []common.Config{{MaxUploadBytes: 123456}, {}} {
		e := setup(t, options{cfg: cfg})
		resp, body := get(t, e.pages(t)+"/upload/limits")
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		var out map[string]any
		require.NoError(t, json.Unmarshal(body, &out))
		want := cmp.Or(cfg.MaxUploadBytes, 10<<20) // the module's default
		require.Equal(t, map[string]any{"max_upload_bytes": float64(want)}, out)
	}
}

// A page's file upload takes one of the user's upload places while it runs,
// and is held to the idle timeout: a stalled one is 504 and keeps nothing.
func TestFileUploadIsHeldToTheLimitsAndTimeouts(t *testing.T) {
	t.Parallel()
	e := setup(t, options{cfg: common.Config{UploadIdleTimeout: 300 * time.Millisecond, MaxUploadsPerUser: 1}})
	ann := e.signUp(t, "ann")
	pages := e.pages(t)

	body, w := io.Pipe()
	done := make(chan pageReply, 1)
	go func() {
		defer close(done)
		req, err := http.NewRequest(http.MethodPost, pages+"/upload/file", body)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+ann.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		r := pageReply{status: resp.StatusCode, raw: raw}
		_ = json.Unmarshal(raw, &r.body)
		done <- r
	}()
	_, err := w.Write([]byte("the start of a file"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(files(t, e.spoolDir)) == 1 }, 5*time.Second, 10*time.Millisecond)
	_, err = upload(ann.ctx, e.common, png32(t).data, 1024)
	testkit.RequireCode(t, err, codes.ResourceExhausted) // the file holds ann's one place

	r, ok := <-done
	w.Close()
	require.True(t, ok, "the server answered the stalled upload")
	r.fails(t, http.StatusGatewayTimeout, codes.DeadlineExceeded, "no chunk came in time")
	require.Eventually(t, func() bool { return len(files(t, e.spoolDir)) == 0 }, 5*time.Second, 10*time.Millisecond)
	e.requireNothingStored(t, ann)
	_, err = upload(ann.ctx, e.common, png32(t).data, 1024)
	require.NoError(t, err, "the place is free again")
}

// On S3 a file's link redirects to a presigned GET that makes it a
// download of no renderable type; an image's keeps its own.
func TestFileUploadToS3IsADownload(t *testing.T) {
	t.Parallel()
	s3 := startFakeS3(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bucket := testkit.Unique("parley-")
	store, err := storage.NewS3(ctx, s3.config(bucket, ""))
	require.NoError(t, err)
	e := setup(t, options{store: store})
	alice := e.signUp(t, "alice")
	pages := e.pages(t)
	data := []byte("<html><script>alert(1)</script></html>" + testkit.Unique(""))

	r := post(t, pages, "/upload/file", alice.token, bytes.NewReader(data))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	link := r.body["url"].(string)
	requireLink(t, e.baseURL, link, fileKey(data))
	s3.requireObject(t, bucket, fileKey(data), data, "application/octet-stream")

	location := func(link string) url.Values {
		noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirects.Get(link)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		presigned, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		return presigned.Query()
	}
	q := location(link)
	require.Equal(t, "attachment", q.Get("response-content-disposition"))
	require.Equal(t, "application/octet-stream", q.Get("response-content-type"))
	require.NotEmpty(t, q.Get("X-Amz-Signature"))

	resp, body := get(t, link) // the store honours the signed overrides
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.Equal(t, data, body)
	require.Equal(t, "attachment", resp.Header.Get("Content-Disposition"))
	require.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))

	img := png32(t)
	u, err := upload(alice.ctx, e.common, img.data, 1024)
	require.NoError(t, err)
	q = location(u)
	require.False(t, q.Has("response-content-disposition"), "an image is shown, not downloaded")
	require.False(t, q.Has("response-content-type"))
}

// An upload whose body is cut short (the client leaves before its
// Content-Length, or in the middle of a chunk) is not a smaller file:
// nothing is stored, neither the object nor its row.
func TestFileUploadCutShortStoresNothing(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	alice := e.signUp(t, "alice")
	host := strings.TrimPrefix(e.pages(t), "http://")
	for name, request := range map[string]string{
		"before its Content-Length": "Content-Length: 1000\r\n\r\n" + strings.Repeat("a", 300),
		"in a chunk":                "Transfer-Encoding: chunked\r\n\r\n3e8\r\n" + strings.Repeat("b", 300),
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", host)
			require.NoError(t, err)
			_, err = fmt.Fprintf(conn, "POST /upload/file HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n%s", host, alice.token, request)
			require.NoError(t, err)
			// The server has the bytes before the client goes.
			time.Sleep(200 * time.Millisecond)
			require.NoError(t, conn.Close())
			// The handler ends; then nothing of the upload is left.
			require.Never(t, func() bool { return e.objectRows(t, alice) > 0 || len(e.storedObjects(t)) > 0 },
				time.Second, 50*time.Millisecond)
		})
	}
	e.requireNothingStored(t, alice)
}
