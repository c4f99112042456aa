package common_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/modules/common"
	"github.com/parley-im/parley/modules/user"
	"github.com/parley-im/parley/platform/testkit"
)

// startUpload opens an upload as p and sends its first chunk; the server
// holds it (a spool file, a stream) until it ends.
func (e *env) startUpload(t *testing.T, p person, first []byte) commonpb.CommonService_UploadImageClient {
	t.Helper()
	ctx, cancel := context.WithCancel(p.ctx)
	t.Cleanup(cancel)
	stream, err := e.common.UploadImage(ctx)
	require.NoError(t, err)
	require.NoError(t, stream.Send(&commonpb.UploadImageRequest{Content: first}))
	return stream
}

// answer is the server's end of an upload stream, without closing it
// first: the URL, or the error it ended with.
func answer(stream commonpb.CommonService_UploadImageClient) error {
	var resp commonpb.UploadImageResponse
	return stream.RecvMsg(&resp)
}

// One user's uploads in progress are capped (each holds a spool file and a
// stream); another user's are not affected, and a finished upload frees its
// place.
func TestUploadsInProgressPerUserAreCapped(t *testing.T) {
	t.Parallel()
	e := setup(t, options{cfg: common.Config{MaxUploadsPerUser: 2}})
	ann, bob := e.signUp(t, "ann"), e.signUp(t, "bob")
	img := png32(t).data
	held := []commonpb.CommonService_UploadImageClient{e.startUpload(t, ann, img[:64]), e.startUpload(t, ann, img[:64])}
	require.Eventually(t, func() bool { return len(files(t, e.spoolDir)) == 2 }, 5*time.Second, 10*time.Millisecond)

	_, err := upload(ann.ctx, e.common, img, 1024)
	st := testkit.RequireCode(t, err, codes.ResourceExhausted)
	require.Contains(t, st.Message(), "at most 2 at once")
	_, err = upload(bob.ctx, e.common, img, 1024)
	require.NoError(t, err, "another user's uploads are not capped by ann's")

	require.NoError(t, held[0].Send(&commonpb.UploadImageRequest{Content: img[64:]}))
	resp, err := held[0].CloseAndRecv()
	require.NoError(t, err)
	require.NotEmpty(t, resp.GetUrl())
	_, err = upload(ann.ctx, e.common, img, 1024)
	require.NoError(t, err, "a finished upload frees its place")
}

// An upload whose next chunk does not come within the idle timeout ends
// with DeadlineExceeded, and so does one that takes longer than the total
// timeout however steadily it sends; neither leaves a spool file.
func TestStalledAndSlowUploadsEnd(t *testing.T) {
	t.Parallel()
	e := setup(t, options{cfg: common.Config{UploadIdleTimeout: 300 * time.Millisecond, UploadTimeout: 1500 * time.Millisecond}})
	ann := e.signUp(t, "ann")
	img := png32(t).data

	stalled := e.startUpload(t, ann, img[:64])
	start := time.Now()
	st := testkit.RequireCode(t, answer(stalled), codes.DeadlineExceeded)
	require.Contains(t, st.Message(), "no chunk came in time")
	require.Less(t, time.Since(start), 5*time.Second)

	slow := e.startUpload(t, ann, img[:1])
	start = time.Now()
	var err error
	for off := 1; err == nil && off < len(img); off++ {
		time.Sleep(100 * time.Millisecond) // steady, well within the idle timeout
		err = slow.Send(&commonpb.UploadImageRequest{Content: img[off : off+1]})
	}
	st = testkit.RequireCode(t, answer(slow), codes.DeadlineExceeded)
	require.Contains(t, st.Message(), "took too long")
	require.Less(t, time.Since(start), 5*time.Second)
	require.Eventually(t, func() bool { return len(files(t, e.spoolDir)) == 0 }, 5*time.Second, 10*time.Millisecond)
	e.requireNothingStored(t, ann)
}

// POST /upload holds a body to the same timeouts and the same cap.
func TestPageUploadIsHeldToTheTimeouts(t *testing.T) {
	t.Parallel()
	e := setup(t, options{cfg: common.Config{UploadIdleTimeout: 300 * time.Millisecond, MaxUploadsPerUser: 1}})
	ann := e.signUp(t, "ann")
	web := httptest.NewServer(e.mod.UploadHandler(e.userMod))
	t.Cleanup(web.Close)
	img := png32(t).data

	body, w := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, web.URL, body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+ann.token)
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			done <- resp
		}
		close(done)
	}()
	_, err = w.Write(img[:64])
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(files(t, e.spoolDir)) == 1 }, 5*time.Second, 10*time.Millisecond)
	_, err = upload(ann.ctx, e.common, img, 1024)
	testkit.RequireCode(t, err, codes.ResourceExhausted) // the page's upload holds ann's one place

	resp := <-done
	w.Close()
	require.NotNil(t, resp, "the server answered the stalled upload")
	defer resp.Body.Close()
	require.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	require.Eventually(t, func() bool { return len(files(t, e.spoolDir)) == 0 }, 5*time.Second, 10*time.Millisecond)
	_, err = upload(ann.ctx, e.common, img, 1024)
	require.NoError(t, err)
}

// pngHeaderOnly is a PNG of width×height pixels that is all header: a
// signature, an IHDR chunk and an IEND, no pixel data.
func pngHeaderOnly(width, height uint32) []byte {
	chunk := func(kind string, data []byte) []byte {
		out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		out = append(out, kind...)
		out = append(out, data...)
		return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(kind), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, width), height)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA, no interlace
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	return append(out, chunk("IEND", nil)...)
}

// An image is checked beyond its header: one declaring more pixels than
// the cap is refused before it is decoded, and one that only starts like an
// image (its pixels missing or cut off) is refused when it is decoded.
// Neither is stored.
func TestImagesAreDecodedWithinAPixelCap(t *testing.T) {
	t.Parallel()
	e := setup(t, options{cfg: common.Config{MaxImagePixels: 40_000_000}})
	ann := e.signUp(t, "ann")

	huge := pngHeaderOnly(50_000, 50_000)
	require.Less(t, len(huge), 100, "a few dozen bytes")
	_, err := upload(ann.ctx, e.common, huge, 1024)
	st := testkit.RequireCode(t, err, codes.InvalidArgument)
	require.Contains(t, st.Message(), "50000×50000 pixels, over the 40000000-pixel limit")

	_, err = upload(ann.ctx, e.common, pngHeaderOnly(640, 480), 1024)
	testkit.RequireCode(t, err, codes.InvalidArgument) // a header and no pixels

	whole := png32(t).data
	_, err = upload(ann.ctx, e.common, whole[:len(whole)/2], 1024)
	testkit.RequireCode(t, err, codes.InvalidArgument) // cut off half-way
	e.requireNothingStored(t, ann)

	_, err = upload(ann.ctx, e.common, whole, 1024)
	require.NoError(t, err)
}

// A database that cannot be reached is 503 on POST /upload, as it is
// Unavailable on gRPC (one error mapping: grpcserver.Status), not 500.
func TestPageUploadDuringADatabaseOutageIs503(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := lis.Addr().String()
	require.NoError(t, lis.Close()) // nothing listens there now
	pool, err := pgxpool.New(context.Background(), "postgres://parley@"+dead+"/parley?connect_timeout=2")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	users := user.New(pool, testkit.MediaLinks(t), user.Config{TokenTTL: time.Hour})

	e := setup(t, options{})
	web := httptest.NewServer(e.mod.UploadHandler(users))
	t.Cleanup(web.Close)
	req, err := http.NewRequest(http.MethodPost, web.URL, bytes.NewReader(png32(t).data))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("A", 43)) // a token's shape, so it is looked up
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%v", out)
	require.Equal(t, "service temporarily unavailable, retry later", out["message"])
}

// Spool files a crash left behind (older than an upload may last) are
// deleted when the module starts; a younger one may be a running upload's
// on another node sharing the directory, and stays.
func TestStartDeletesSpoolFilesACrashLeft(t *testing.T) {
	t.Parallel()
	spool := t.TempDir()
	left, running := filepath.Join(spool, "upload-left"), filepath.Join(spool, "upload-running")
	for _, f := range []string{left, running} {
		require.NoError(t, os.WriteFile(f, []byte("half an upload"), 0o600))
	}
	old := time.Now().Add(-11 * time.Minute) // the default upload timeout is 10 minutes
	require.NoError(t, os.Chtimes(left, old, old))

	setup(t, options{cfg: common.Config{SpoolDir: spool}})
	require.NoFileExists(t, left)
	require.FileExists(t, running)
}
