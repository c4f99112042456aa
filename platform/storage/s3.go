package storage

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

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
	// PublicURL is where browsers reach the S3 endpoint (scheme://host[:port];
	// a path, such as the bucket's, is ignored); empty means the endpoint.
	// Presigned links are made for that host.
	PublicURL string
}

// S3 keeps objects in a bucket, which may (and for private media should)
// be private: a GET is redirected to a presigned link valid for presignFor.
type S3 struct {
	client *minio.Client
	signer *minio.Client // the same store at the address browsers reach it
	bucket string
}

// presignFor is how long a redirect's presigned link is valid.
const presignFor = 5 * time.Minute

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
	if err := refusePublicRead(ctx, client, cfg.Bucket); err != nil {
		return nil, err
	}
	signer := client
	if cfg.PublicURL != "" {
		public, err := url.Parse(cfg.PublicURL)
		if err != nil || public.Host == "" {
			return nil, fmt.Errorf("s3 public URL %q: want scheme://host[:port]", cfg.PublicURL)
		}
		// Presigning is local: with the region given, no request is made.
		region := cmp.Or(cfg.Region, "us-east-1")
		signer, err = minio.New(public.Host, &minio.Options{
			Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
			Secure: public.Scheme == "https",
			Region: region,
		})
		if err != nil {
			return nil, fmt.Errorf("s3 public URL %s: %w", cfg.PublicURL, err)
		}
	}
	return &S3{client: client, signer: signer, bucket: cfg.Bucket}, nil
}

// refusePublicRead fails when the bucket's policy lets anyone read its
// objects: keys are content hashes, so a private conversation's photo would
// be public to whoever has the file or its hash. A store without policies
// (or that cannot say) is taken as private.
func refusePublicRead(ctx context.Context, client *minio.Client, bucket string) error {
	raw, err := client.GetBucketPolicy(ctx, bucket)
	if err != nil || raw == "" {
		return nil
	}
	var policy struct {
		Statement []struct {
			Effect    string
			Principal json.RawMessage
			Action    json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(raw), &policy); err != nil {
		return fmt.Errorf("s3 bucket %s: its policy does not parse: %w", bucket, err)
	}
	for _, st := range policy.Statement {
		anyone := bytes.Contains(st.Principal, []byte(`"*"`))
		reads := bytes.Contains(st.Action, []byte(`"s3:GetObject"`)) || bytes.Contains(st.Action, []byte(`"s3:*"`)) || bytes.Contains(st.Action, []byte(`"*"`))
		if st.Effect == "Allow" && anyone && reads {
			return fmt.Errorf("s3 bucket %s lets anyone read its objects, so media of private conversations would be public by its hash: "+
				"make it private (MinIO: mc anonymous set none ALIAS/%s); Parley serves media through presigned links", bucket, bucket)
		}
	}
	return nil
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

// Serve redirects to a presigned GET of the object. A file that is no
// image is signed with response overrides making it a download of no
// renderable type, whatever the bucket stored it with.
func (s *S3) Serve(w http.ResponseWriter, r *http.Request, key string) {
	if !IsKey(key) {
		http.NotFound(w, r)
		return
	}
	var overrides url.Values
	if !IsImage(key) {
		overrides = url.Values{
			"response-content-disposition": {"attachment"},
			"response-content-type":        {FileContentType},
		}
	}
	link, err := s.signer.PresignedGetObject(r.Context(), s.bucket, key, presignFor, overrides)
	if err != nil {
		http.Error(w, "cannot sign the object's link", http.StatusInternalServerError)
		return
	}
	// A browser may reuse the redirect while the presigned link lasts.
	w.Header().Set("Cache-Control", fmt.Sprintf("private, max-age=%d", int((presignFor-time.Minute).Seconds())))
	http.Redirect(w, r, link.String(), http.StatusFound)
}
