package common_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/image/bmp"
)

// testImage is an encoded image and what the server should record for it.
type testImage struct {
	format      string
	ext         string // the extension its key ends with
	contentType string
	data        []byte
	width       int
	height      int
}

// key is the object key the server stores data under: its SHA-256 and the
// format's extension.
func (img testImage) key() string {
	sum := sha256.Sum256(img.data)
	return hex.EncodeToString(sum[:]) + img.ext
}

// noise is a w×h image of random pixels, so every encoding is unique.
func noise(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	// Opaque, so every encoder keeps the pixels as they are.
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xFF
	}
	return img
}

func pngImage(t testing.TB, w, h int) testImage {
	t.Helper()
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.NoCompression}
	require.NoError(t, enc.Encode(&buf, noise(w, h)))
	return testImage{"png", ".png", "image/png", buf.Bytes(), w, h}
}

func jpegImage(t testing.TB, w, h int) testImage {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, noise(w, h), &jpeg.Options{Quality: 90}))
	return testImage{"jpeg", ".jpg", "image/jpeg", buf.Bytes(), w, h}
}

func gifImage(t testing.TB, w, h int) testImage {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, gif.Encode(&buf, noise(w, h), nil))
	return testImage{"gif", ".gif", "image/gif", buf.Bytes(), w, h}
}

func bmpImage(t testing.TB, w, h int) testImage {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, bmp.Encode(&buf, noise(w, h)))
	return testImage{"bmp", ".bmp", "image/bmp", buf.Bytes(), w, h}
}

// webpImage is a lossless (VP8L) WebP of w×h transparent pixels, written by
// hand since Go has no WebP encoder: a VP8L header, then prefix codes of one
// symbol each, so every pixel takes zero bits and the same 8 bytes of image
// data describe any size. golang.org/x/image/webp decodes it fully (checked
// in TestWebPFixtureDecodes).
func webpImage(w, h int) testImage {
	data := []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f" +
		"\x00\x00\x00\x00" + // width-1 (14 bits), height-1 (14 bits), alpha (1 bit), version (3 bits)
		"\x07\x10\x11\x11\x88\x88\xfe\x07" + // no transforms, no colour cache, 5 one-symbol codes
		"\x00") // padding to an even chunk size
	binary.LittleEndian.PutUint32(data[21:25], uint32(w-1)|uint32(h-1)<<14|1<<28)
	return testImage{"webp", ".webp", "image/webp", data, w, h}
}

// png32 is a 32×32 PNG of random pixels (about 4 KiB).
func png32(t testing.TB) testImage { return pngImage(t, 32, 32) }
