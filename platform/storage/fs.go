package storage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
)

// FS keeps objects as files under a directory, two levels deep by key
// prefix, and serves them over HTTP.
type FS struct {
	dir string
}

// NewFS stores under dir.
func NewFS(dir string) (*FS, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("storage directory: %w", err)
	}
	return &FS{dir: dir}, nil
}

func (s *FS) path(key string) string {
	return filepath.Join(s.dir, key[:2], key)
}

// Put moves file into place; the file must be on the same filesystem as the
// storage directory (see TempDir).
func (s *FS) Put(_ context.Context, key string, file *os.File, _ int64, _ string) error {
	if !IsKey(key) {
		return fmt.Errorf("storage key %q: not a content key", key)
	}
	dst := s.path(key)
	if _, err := os.Stat(dst); err == nil {
		return nil // same key, same bytes: stored once
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	return os.Rename(file.Name(), dst)
}

// TempDir is where uploads are spooled before Put: inside the storage
// directory, so Put is a rename.
func (s *FS) TempDir() string { return filepath.Join(s.dir, "tmp") }

// Serve answers with the object's bytes and content type. No listings.
func (s *FS) Serve(w http.ResponseWriter, r *http.Request, key string) {
	if !IsKey(key) {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, os.ErrNotExist) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "cannot read object", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		http.Error(w, "cannot read object", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	if IsImage(key) {
		h.Set("Content-Type", ContentType(filepath.Ext(key)))
	} else {
		// Any other file is a download: the browser neither renders nor
		// sniffs it, and were it opened, it would run in a sandbox (no
		// script, no cookies of this origin).
		h.Set("Content-Type", FileContentType)
		h.Set("Content-Disposition", "attachment")
		h.Set("Content-Security-Policy", "sandbox")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", info.ModTime(), f)
}
