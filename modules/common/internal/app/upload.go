package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registers the formats DecodeConfig reads
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"time"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/webp"

	"github.com/rs/zerolog"

	"github.com/parley-im/parley/modules/common/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/storage"
)

// Upload errors; the messages are what clients see.
var (
	ErrEmptyUpload   = apperr.InvalidArgument("content: the upload is empty")
	ErrUploadStalled = apperr.DeadlineExceeded("content: no chunk came in time: the upload is abandoned")
	ErrUploadTooSlow = apperr.DeadlineExceeded("content: the upload took too long")
	ErrNotAnImage    = apperr.InvalidArgument("content: not a JPEG, PNG, GIF, WebP or BMP image")
)

// spoolPattern names upload spool files (os.CreateTemp, filepath.Glob).
const spoolPattern = "upload-*"

// sniffLength is how many leading bytes sniff needs.
const sniffLength = 12

// sniff returns the key extension of the image format head starts with, so
// a non-image is refused on its first bytes, before it is all received.
func sniff(head []byte) (string, bool) {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return ".jpg", true
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return ".png", true
	case bytes.HasPrefix(head, []byte("GIF8")):
		return ".gif", true
	case bytes.HasPrefix(head, []byte("BM")):
		return ".bmp", true
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return ".webp", true
	}
	return "", false
}

// Chunks yields an upload's chunks: io.EOF after the last one. A transport
// holds each chunk to the service's UploadTimeouts (ErrUploadStalled,
// ErrUploadTooSlow).
type Chunks func() ([]byte, error)

// UploadTimeouts are how long an upload may wait for its next chunk, and
// take in all.
func (s *Service) UploadTimeouts() (idle, total time.Duration) {
	return s.cfg.UploadIdleTimeout, s.cfg.UploadTimeout
}

// Upload streams an image to a spool file (memory stays one chunk), checks
// its size and format as it comes, then stores it under its content key and
// records it. It returns a private link to the object, for the uploader. Nothing is stored for an upload
// that is refused or does not finish.
func (s *Service) Upload(ctx context.Context, ownerID uint64, next Chunks) (string, error) {
	link, _, err := s.upload(ctx, ownerID, next, true)
	return link, err
}

// UploadFile is Upload for a file of any content: the same size cap,
// limits and timeouts, no format check. It is stored under its digest
// with storage.FileExt (never an extension of the client's choosing), so
// it is served as a download, never rendered. It returns the private link
// and the file's size.
func (s *Service) UploadFile(ctx context.Context, ownerID uint64, next Chunks) (string, int64, error) {
	return s.upload(ctx, ownerID, next, false)
}

// MaxUploadBytes is the largest upload accepted.
func (s *Service) MaxUploadBytes() int64 { return s.cfg.MaxUploadBytes }

// IsTooLarge reports whether err refused an upload over MaxUploadBytes.
func (s *Service) IsTooLarge(err error) bool { return errors.Is(err, s.errTooLarge) }

// TooLarge is the error refusing an upload of size bytes, known before it
// is received (a declared length), or nil when size is within the cap.
func (s *Service) TooLarge(size int64) error {
	if size > s.cfg.MaxUploadBytes {
		return s.errTooLarge
	}
	return nil
}

// upload spools an upload, checks it (as an image when image is set),
// stores and records it: its private link and size.
func (s *Service) upload(ctx context.Context, ownerID uint64, next Chunks, image bool) (string, int64, error) {
	if !s.uploads.Take(ownerID) {
		return "", 0, apperr.ResourceExhausted("too many uploads in progress: at most %d at once", s.cfg.MaxUploadsPerUser)
	}
	defer s.uploads.Release(ownerID)
	spool, err := os.CreateTemp(s.cfg.SpoolDir, spoolPattern)
	if err != nil {
		return "", 0, fmt.Errorf("spool upload: %w", err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name()) // gone already when Put moved it
	}()

	hash := sha256.New()
	var size int64
	var head []byte
	ext := ""
	for {
		chunk, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", 0, err // the client went away or the stream broke: nothing is kept
		}
		size += int64(len(chunk))
		if size > s.cfg.MaxUploadBytes {
			return "", 0, s.errTooLarge
		}
		if image && ext == "" {
			head = append(head, chunk[:min(len(chunk), sniffLength-len(head))]...)
			if len(head) >= sniffLength {
				var ok bool
				if ext, ok = sniff(head); !ok {
					return "", 0, ErrNotAnImage
				}
			}
		}
		hash.Write(chunk)
		if _, err := spool.Write(chunk); err != nil {
			return "", 0, fmt.Errorf("spool upload: %w", err)
		}
	}
	if size == 0 {
		return "", 0, ErrEmptyUpload
	}

	var width, height int
	if image {
		if ext == "" {
			return "", 0, ErrNotAnImage // shorter than any image header
		}
		if width, height, err = s.checkImage(ctx, spool, ext); err != nil {
			return "", 0, err
		}
	} else {
		ext = storage.FileExt
	}

	key := hex.EncodeToString(hash.Sum(nil)) + ext
	contentType := storage.ContentType(ext)
	// The body is whole and checked: the object and its row are written
	// together even if the client leaves now, so no stored file lacks its row.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.storage.Put(ctx, key, spool, size, contentType); err != nil {
		return "", 0, fmt.Errorf("store upload: %w", err)
	}
	if err := s.q.RecordObject(ctx, db.RecordObjectParams{
		Key: key, OwnerID: ownerID, Size: size, ContentType: contentType,
		Width: int32(width), Height: int32(height),
	}); err != nil {
		return "", 0, fmt.Errorf("record upload: %w", err)
	}
	return s.links.Private(key), size, nil
}

// sweepSpool deletes the spool files a crash left: those older than the
// longest an upload may take, which no upload still running can own (even
// another node's, if nodes share the directory).
func sweepSpool(dir string, uploadTimeout time.Duration, log zerolog.Logger) error {
	files, err := filepath.Glob(filepath.Join(dir, spoolPattern))
	if err != nil {
		return fmt.Errorf("upload spool directory: %w", err)
	}
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil || time.Since(info.ModTime()) < uploadTimeout {
			continue
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("upload spool directory: %w", err)
		}
		log.Info().Str("file", filepath.Base(f)).Msg("deleted a spool file left by an upload that did not finish")
	}
	return nil
}

// checkImage decodes the spooled image whose leading bytes sniffed as ext:
// its dimensions, or ErrNotAnImage.
func (s *Service) checkImage(ctx context.Context, spool *os.File, ext string) (width, height int, err error) {
	// The header gives the dimensions without decoding the pixels: a
	// picture over the pixel cap is refused before it is decoded.
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return 0, 0, err
	}
	cfg, format, err := image.DecodeConfig(spool)
	if err != nil || formatExt[format] != ext || cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, ErrNotAnImage
	}
	if pixels := int64(cfg.Width) * int64(cfg.Height); pixels > s.cfg.MaxImagePixels {
		return 0, 0, apperr.InvalidArgument("content: the image is %d×%d pixels, over the %d-pixel limit", cfg.Width, cfg.Height, s.cfg.MaxImagePixels)
	}
	// Decoded whole, so a file that only starts like an image is refused;
	// a few at a time, as a decode holds the pixels in memory.
	if err := s.decodes.Acquire(ctx, 1); err != nil {
		return 0, 0, err
	}
	_, err = spool.Seek(0, io.SeekStart)
	if err == nil {
		_, _, err = image.Decode(spool)
	}
	s.decodes.Release(1)
	if err != nil {
		return 0, 0, ErrNotAnImage
	}
	return cfg.Width, cfg.Height, nil
}

// formatExt maps image.DecodeConfig's format names to key extensions.
var formatExt = map[string]string{"jpeg": ".jpg", "png": ".png", "gif": ".gif", "bmp": ".bmp", "webp": ".webp"}
