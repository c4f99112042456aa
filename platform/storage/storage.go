// Package storage keeps uploaded objects: on the local disk (FS, the
// embedded default, served by Parley's HTTP listener) or in any
// S3-compatible store (S3, through minio-go). Objects are content-addressed
// by their caller: the same key always holds the same bytes.
package storage

import (
	"context"
	"os"
)

// Storage puts finished files under keys and says where they can be fetched.
type Storage interface {
	// Put stores the file's size bytes under key with contentType, unless
	// an object with that key is already stored (same key, same bytes).
	Put(ctx context.Context, key string, file *os.File, size int64, contentType string) error
	// URL is the absolute address the object under key can be fetched at.
	URL(key string) string
}
