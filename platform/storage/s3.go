package storage

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config addresses an S3-compatible store.
type S3Config struct {
	Endpoint  string // host[:port], no scheme
	Bucket    string
	AccessKey string
	SecretKey string
	UseTLS    bool
	Region    string
	// PublicURL is where the bucket's objects are fetched from, without a
	// trailing slash; empty means http(s)://Endpoint/Bucket.
	PublicURL string
}

// S3 keeps objects in a bucket.
type S3 struct {
	client    *minio.Client
	bucket    string
	publicURL string
}

// NewS3 connects and creates the bucket if it is missing.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseTLS,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 %s: %w", cfg.Endpoint, err)
	}
	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3 bucket %s: %w", cfg.Bucket, err)
	}
	if !exists {
		if err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("s3 create bucket %s: %w", cfg.Bucket, err)
		}
	}
	public := cfg.PublicURL
	if public == "" {
		scheme := "http"
		if cfg.UseTLS {
			scheme = "https"
		}
		public = fmt.Sprintf("%s://%s/%s", scheme, cfg.Endpoint, cfg.Bucket)
	}
	return &S3{client: client, bucket: cfg.Bucket, publicURL: strings.TrimSuffix(public, "/")}, nil
}

func (s *S3) Put(ctx context.Context, key string, file *os.File, size int64, contentType string) error {
	if _, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{}); err == nil {
		return nil // same key, same bytes: stored once
	}
	if _, err := file.Seek(0, 0); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, s.bucket, key, file, size, minio.PutObjectOptions{
		ContentType:  contentType,
		CacheControl: "public, max-age=31536000, immutable",
		// The content is already hashed by its key; skipping the SHA-256
		// header keeps the upload streaming (S3 fakes need it for multipart).
		DisableContentSha256: true,
	})
	if err != nil {
		return fmt.Errorf("s3 put %s: %w", key, err)
	}
	return nil
}

func (s *S3) URL(key string) string { return s.publicURL + "/" + key }
