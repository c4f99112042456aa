// Package storage keeps uploaded objects: on the local disk (FS, the
// embedded default, served by Parley's HTTP listener) or in any
// S3-compatible store (S3, through minio-go). Objects are content-addressed
// by their caller: the same key always holds the same bytes.
package storage

import (
	"context"
	"net/http"
	"os"
	"path"
	"regexp"
)

// Storage puts finished files under keys and serves them.
type Storage interface {
	// Put stores the file's size bytes under key with contentType, unless
	// an object with that key is already stored (same key, same bytes).
	Put(ctx context.Context, key string, file *os.File, size int64, contentType string) error
	// Serve answers a GET of the object under key, whose link the caller
	// has checked (package media).
	Serve(w http.ResponseWriter, r *http.Request, key string)
}

// keyPattern is every key stored: a hex digest and an extension. Nothing
// else is served, so no path can escape a directory.
var keyPattern = regexp.MustCompile(`^[0-9a-f]{64}\.[a-z]{3,4}$`)

// IsKey reports whether key is a content key.
func IsKey(key string) bool { return keyPattern.MatchString(key) }

// FileExt is the extension of a file that is no checked image (an upload
// of any content): never the client's, so nothing stored under a key is
// taken by its name for a type a browser renders.
const FileExt = ".bin"

// FileContentType is the type every object but an image is served with.
const FileContentType = "application/octet-stream"

// contentTypes are the types of the image extensions objects are stored with.
var contentTypes = map[string]string{
	".jpg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp", ".bmp": "image/bmp",
}

// ContentType is the content type of an object key's extension: an image's
// type, or FileContentType.
func ContentType(ext string) string {
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	return FileContentType
}

// IsImage reports whether key is an image's (an upload checked as one):
// served with its image type, to be shown inline. Any other key is served
// as a download that cannot render on the server's origin.
func IsImage(key string) bool {
	_, ok := contentTypes[path.Ext(key)]
	return ok
}
