package common_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/image/webp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/modules/common"
	"github.com/parley-im/parley/platform/media"
	"github.com/parley-im/parley/platform/testkit"
)

// get fetches u and returns the response with its body read.
func get(t testing.TB, u string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// requireLink requires u to be a private link to key on the media handler
// at base: signed, with an expiry at least an hour away.
func requireLink(t testing.TB, base, u, key string) {
	t.Helper()
	parsed, err := url.Parse(u)
	require.NoError(t, err)
	require.True(t, parsed.IsAbs(), "url %q is not absolute", u)
	require.Equal(t, base+"/media/"+key, parsed.Scheme+"://"+parsed.Host+parsed.Path, "the key is the content's SHA-256 and the format's extension")
	require.NotEmpty(t, parsed.Query().Get("sig"), "the link is signed")
	exp, err := strconv.ParseInt(parsed.Query().Get("exp"), 10, 64)
	require.NoError(t, err, "the link expires")
	require.Greater(t, exp, time.Now().Add(time.Hour).Unix()-1)
}

func TestWebPFixtureDecodes(t *testing.T) {
	t.Parallel()
	img := webpImage(37, 5)
	decoded, err := webp.Decode(bytes.NewReader(img.data))
	require.NoError(t, err)
	require.Equal(t, 37, decoded.Bounds().Dx())
	require.Equal(t, 5, decoded.Bounds().Dy())
}

func TestUploadStoresEachFormat(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	alice := e.signUp(t, "alice")

	images := []testImage{
		pngImage(t, 40, 30),
		jpegImage(t, 48, 20),
		gifImage(t, 25, 17),
		webpImage(100+int(time.Now().UnixNano()%1000), 7), // a size (and so bytes) of its own
		bmpImage(t, 19, 23),
	}
	for i, img := range images {
		t.Run(img.format, func(t *testing.T) {
			// Several chunks; the WebP's first chunk is shorter than the
			// 12 bytes the format is told by.
			chunk := max(len(img.data)/4+1, 5)
			u, err := upload(alice.ctx, e.common, img.data, chunk)
			require.NoError(t, err)

			requireLink(t, e.baseURL, u, img.key())

			resp, body := get(t, u)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, img.data, body)
			require.Equal(t, img.contentType, resp.Header.Get("Content-Type"))
			require.Contains(t, resp.Header.Get("Cache-Control"), "max-age=")

			require.Equal(t, objectRow{
				ownerID: int64(alice.id), size: int64(len(img.data)), contentType: img.contentType,
				width: int32(img.width), height: int32(img.height),
			}, e.object(t, img.key()))
			require.Len(t, e.storedObjects(t), i+1)
			require.Empty(t, files(t, e.spoolDir), "spool files left behind")
		})
	}
	require.Equal(t, len(images), e.objectRows(t, alice))
}

func TestUploadSameBytesStoredOnce(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	alice, bob := e.signUp(t, "alice"), e.signUp(t, "bob")
	img := pngImage(t, 64, 48)

	first, err := upload(alice.ctx, e.common, img.data, 4096)
	require.NoError(t, err)
	again, err := upload(alice.ctx, e.common, img.data, 1000)
	require.NoError(t, err)
	byBob, err := upload(bob.ctx, e.common, img.data, 333)
	require.NoError(t, err)

	require.Equal(t, first, again)
	require.Equal(t, first, byBob)
	stored := e.storedObjects(t)
	require.Len(t, stored, 1)
	onDisk, err := os.ReadFile(stored[0])
	require.NoError(t, err)
	require.Equal(t, img.data, onDisk)

	var rows int
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM common.objects WHERE key = $1`, img.key()).Scan(&rows))
	require.Equal(t, 1, rows)
	require.Equal(t, int64(alice.id), e.object(t, img.key()).ownerID, "the first uploader owns the object")
	require.Zero(t, e.objectRows(t, bob))
	require.Empty(t, files(t, e.spoolDir), "spool files left behind")
}

func TestUploadRequiresSignIn(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	_, err := upload(context.Background(), e.common, png32(t).data, 1024)
	testkit.RequireCode(t, err, codes.Unauthenticated)
	require.Empty(t, e.storedObjects(t))
	require.Empty(t, files(t, e.spoolDir))
}

func TestMediaHandlerServesOnlyObjects(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	alice := e.signUp(t, "alice")
	img := png32(t)
	u, err := upload(alice.ctx, e.common, img.data, 1024)
	require.NoError(t, err)
	resp, _ := get(t, u)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// Files a traversal could reach: one beside the store, and a spooled
	// upload's name inside it.
	secret := "top secret " + testkit.Unique("")
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(e.storeDir), "secret.png"), []byte(secret), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(e.spoolDir, "upload-123"), []byte(secret), 0o644))
	t.Cleanup(func() { os.Remove(filepath.Join(e.spoolDir, "upload-123")) })

	other := png32(t)
	key := img.key()
	for _, tc := range []struct{ name, path string }{
		{"the object as a directory", "/media/" + key + "/"},
		{"the key in upper case", "/media/" + strings.ToUpper(key[:64]) + ".png"},
		{"the layout on disk", "/media/" + key[:2] + "/" + key},
		{"listing", "/media/"},
		{"listing without slash", "/media"},
		{"listing a prefix directory", "/media/" + key[:2] + "/"},
		{"listing the spool", "/media/tmp/"},
		{"a spooled file", "/media/tmp/upload-123"},
		{"dot dot", "/media/../secret.png"},
		{"escaped dot dot", "/media/%2e%2e/secret.png"},
		{"escaped slash", "/media/..%2fsecret.png"},
		{"escaped dot dot slash", "/media/%2e%2e%2fsecret.png"},
		{"escaped backslash", "/media/..%5csecret.png"},
		{"NUL after the key", "/media/" + key + "%00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, e.baseURL+tc.path)
			require.Equal(t, http.StatusNotFound, resp.StatusCode)
			require.NotContains(t, string(body), secret)
			require.NotContains(t, string(body), key, "a listing")
		})
	}
	t.Run("a key never stored, signed", func(t *testing.T) {
		resp, _ := get(t, e.links.Private(other.key()))
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
}

// A file is fetched only through a link the server signed, before it
// expires: its hash (the path) alone, a forged or borrowed signature, or an
// expired link get 403 and say why.
func TestMediaNeedsASignedUnexpiredLink(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	alice := e.signUp(t, "alice")
	img := png32(t)
	u, err := upload(alice.ctx, e.common, img.data, 1024)
	require.NoError(t, err)
	resp, body := get(t, u)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the uploader's link opens")
	require.Equal(t, img.data, body)
	require.Contains(t, resp.Header.Get("Cache-Control"), "private")

	parsed, err := url.Parse(u)
	require.NoError(t, err)
	bare := e.baseURL + parsed.Path
	other := png32(t)
	otherLink, err := url.Parse(e.links.Private(other.key()))
	require.NoError(t, err)
	q := parsed.Query()
	for name, link := range map[string]string{
		"the hash alone":                  bare,
		"a signature of another file":     bare + "?" + otherLink.RawQuery,
		"a forged signature":              bare + "?exp=" + q.Get("exp") + "&sig=AAAAAAAAAAAAAAAAAAAAAA",
		"a later expiry than signed":      bare + "?exp=" + strconv.FormatInt(time.Now().Add(1000*time.Hour).Unix(), 10) + "&sig=" + q.Get("sig"),
		"the signature without expiry":    bare + "?sig=" + q.Get("sig"),
		"an expired link, validly signed": expiredLink(t, e, img.key()),
	} {
		resp, body := get(t, link)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, name)
		require.Contains(t, string(body), "media: the link", name)
		require.NotContains(t, string(body), string(img.data), name)
	}
}

// expiredLink is a link to key signed with e's secret that expired a
// second ago.
func expiredLink(t *testing.T, e *env, key string) string {
	t.Helper()
	secret, err := common.MediaLinkSecret(context.Background(), e.pool)
	require.NoError(t, err)
	past, err := media.NewLinks(e.baseURL+"/media", secret, time.Second)
	require.NoError(t, err)
	link := past.Private(key) // valid for a second or two
	require.Eventually(t, func() bool {
		resp, _ := get(t, link)
		return resp.StatusCode == http.StatusForbidden
	}, 5*time.Second, 100*time.Millisecond)
	return link
}

// requireAnswered waits for the server to end the upload while the client
// has not closed its side: the stream's header (or trailers-only status)
// arrives only when the server answers.
func requireAnswered(t *testing.T, stream grpc.ClientStreamingClient[commonpb.UploadImageRequest, commonpb.UploadImageResponse]) {
	t.Helper()
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		_, _ = stream.Header()
	}()
	select {
	case <-answered:
	case <-time.After(5 * time.Second):
		t.Fatal("the server had not answered 5 s after the client stopped sending (without closing)")
	}
	// Whatever the client sends now goes nowhere.
	require.Eventually(t, func() bool {
		return errors.Is(stream.Send(&commonpb.UploadImageRequest{Content: make([]byte, 1024)}), io.EOF)
	}, 5*time.Second, 10*time.Millisecond, "the stream is still open after the server answered")
}

func TestUploadRefusesOversizeWhileSending(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	e := setup(t, options{cfg: common.Config{MaxUploadBytes: limit}})
	alice := e.signUp(t, "alice")
	img := pngImage(t, 240, 240) // about 170 KiB
	require.Greater(t, len(img.data), 2*limit)

	t.Run("refused before the client finishes", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(alice.ctx, 20*time.Second)
		defer cancel()
		stream, err := e.common.UploadImage(ctx)
		require.NoError(t, err)
		// 80 KiB of the 170: past the limit, far from the end.
		const chunk = 16 << 10
		for off := 0; off < 5*chunk; off += chunk {
			require.NoError(t, stream.Send(&commonpb.UploadImageRequest{Content: img.data[off : off+chunk]}))
		}
		requireAnswered(t, stream)
		_, err = stream.CloseAndRecv()
		st := testkit.RequireCode(t, err, codes.InvalidArgument)
		require.Contains(t, st.Message(), "content")
		require.Contains(t, st.Message(), "65536")
		e.requireNothingStored(t, alice)
	})

	t.Run("whole upload", func(t *testing.T) {
		_, err := upload(alice.ctx, e.common, img.data, 16<<10)
		testkit.RequireCode(t, err, codes.InvalidArgument)
		e.requireNothingStored(t, alice)
	})

	t.Run("at the limit is accepted", func(t *testing.T) {
		// A PNG padded to exactly the limit with trailing bytes (decoders
		// stop at IEND; the header is what counts).
		small := png32(t)
		padded := append(bytes.Clone(small.data), make([]byte, limit-len(small.data))...)
		_, err := upload(alice.ctx, e.common, padded, 16<<10)
		require.NoError(t, err)
		require.Equal(t, 1, e.objectRows(t, alice))
	})
}

func TestUploadRefusesNonImageOnFirstChunk(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	alice := e.signUp(t, "alice")

	ctx, cancel := context.WithTimeout(alice.ctx, 20*time.Second)
	defer cancel()
	stream, err := e.common.UploadImage(ctx)
	require.NoError(t, err)
	require.NoError(t, stream.Send(&commonpb.UploadImageRequest{Content: []byte("Dear server, this is plain text, not an image.\n")}))
	requireAnswered(t, stream)
	_, err = stream.CloseAndRecv()
	st := testkit.RequireCode(t, err, codes.InvalidArgument)
	require.Contains(t, st.Message(), "content")
	e.requireNothingStored(t, alice)
}

func TestUploadRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	alice := e.signUp(t, "alice")

	pngSig := "\x89PNG\r\n\x1a\n"
	valid := png32(t).data
	for _, tc := range []struct {
		name   string
		chunks [][]byte
		want   string // in the message
	}{
		{"no chunks", nil, "empty"},
		{"one empty chunk", [][]byte{{}}, "empty"},
		{"empty chunks", [][]byte{{}, {}, {}}, "empty"},
		{"text", [][]byte{[]byte("hello world, "), []byte("this is text")}, "not a"},
		{"shorter than any header", [][]byte{[]byte("hi")}, "not a"},
		{"png signature only", [][]byte{[]byte(pngSig)}, "not a"},
		{"png with a truncated header", [][]byte{[]byte(pngSig + "\x00\x00\x00\x0dIHDR\x00\x00")}, "not a"},
		{"png with a corrupt header", [][]byte{[]byte(pngSig + "\x00\x00\x00\x0dIHDX" + strings.Repeat("\x00", 17))}, "not a"},
		{"png cut inside the header", [][]byte{valid[:20]}, "not a"},
		{"jpeg signature and junk", [][]byte{[]byte("\xff\xd8\xff\xe0junk junk junk junk")}, "not a"},
		{"gif with a truncated header", [][]byte{[]byte("GIF89a\x01\x00\x01\x00\x00\x00")}, "not a"},
		{"bmp signature and zeros", [][]byte{[]byte("BM" + strings.Repeat("\x00", 40))}, "not a"},
		{"webp with a truncated header", [][]byte{[]byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00")}, "not a"},
		{"png signature, gif body", [][]byte{[]byte(pngSig + "GIF89a\x01\x00\x01\x00\x00\x00\x00")}, "not a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(alice.ctx, 20*time.Second)
			defer cancel()
			stream, err := e.common.UploadImage(ctx)
			require.NoError(t, err)
			for _, c := range tc.chunks {
				require.NoError(t, stream.Send(&commonpb.UploadImageRequest{Content: c}))
			}
			_, err = stream.CloseAndRecv()
			st := testkit.RequireCode(t, err, codes.InvalidArgument)
			require.Contains(t, st.Message(), "content: ")
			require.Contains(t, st.Message(), tc.want)
			e.requireNothingStored(t, alice)
		})
	}
}

// A GIF whose header says it is 16×0 pixels is no image (the PNG decoder,
// for one, refuses non-positive dimensions); image/gif's DecodeConfig reads
// the size without checking it.
func TestUploadRefusesZeroSizedImage(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	alice := e.signUp(t, "alice")

	zeroHigh := []byte("GIF89a\x10\x00\x00\x00\x00\x00\x00;") // screen descriptor, then the trailer
	_, err := upload(alice.ctx, e.common, zeroHigh, 1024)
	testkit.RequireCode(t, err, codes.InvalidArgument)
	e.requireNothingStored(t, alice)
}

func TestUploadCancelledByClientKeepsNothing(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	alice := e.signUp(t, "alice")
	img := pngImage(t, 512, 512) // about 1 MiB

	ctx, cancel := context.WithCancel(alice.ctx)
	defer cancel()
	stream, err := e.common.UploadImage(ctx)
	require.NoError(t, err)
	const chunk = 32 << 10
	for off := 0; off < 4*chunk; off += chunk {
		require.NoError(t, stream.Send(&commonpb.UploadImageRequest{Content: img.data[off : off+chunk]}))
	}
	// The server is spooling the upload…
	require.Eventually(t, func() bool { return len(files(t, e.spoolDir)) == 1 },
		5*time.Second, 5*time.Millisecond, "no spool file while the upload is under way")
	// …until the client goes away.
	cancel()
	require.Eventually(t, func() bool { return len(files(t, e.spoolDir)) == 0 },
		5*time.Second, 5*time.Millisecond, "the spool file outlived the cancelled upload")
	_, err = stream.CloseAndRecv()
	testkit.RequireCode(t, err, codes.Canceled)
	e.requireNothingStored(t, alice)
}

// brokenStore is a store whose disk refuses every write.
type brokenStore struct{}

func (brokenStore) Put(context.Context, string, *os.File, int64, string) error {
	return fmt.Errorf("store: %w", &os.PathError{Op: "open", Path: "/srv/media/ab/ab.png", Err: syscall.EACCES})
}

func (brokenStore) Serve(w http.ResponseWriter, r *http.Request, _ string) { http.NotFound(w, r) }

// A store that cannot write is the server's fault, reported as Internal:
// not as Unavailable ("service temporarily unavailable, retry later"), which
// the error mapping keeps for an unreachable database.
func TestUploadStorageFailure(t *testing.T) {
	t.Parallel()
	e := setup(t, options{store: brokenStore{}})
	alice := e.signUp(t, "alice")

	_, err := upload(alice.ctx, e.common, png32(t).data, 1024)
	st := testkit.RequireCode(t, err, codes.Internal)
	require.NotContains(t, st.Message(), "/srv/media", "the client sees no paths")
	e.requireNothingStored(t, alice)
}
