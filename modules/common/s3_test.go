package common_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/storage"
	"github.com/parley-im/parley/platform/testkit"
)

// countingBackend is gofakes3's memory backend counting the objects put.
type countingBackend struct {
	*s3mem.Backend
	puts atomic.Int32
}

func (b *countingBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64,
	conditions *gofakes3.PutConditions,
) (gofakes3.PutObjectResult, error) {
	b.puts.Add(1)
	return b.Backend.PutObject(bucket, key, meta, input, size, conditions)
}

// fakeS3 is an in-process S3 server. gofakes3 keeps no bucket policies;
// GetBucketPolicy (GET /<bucket>?policy) answers from policies as S3 does:
// the policy's JSON, or 404 NoSuchBucketPolicy.
type fakeS3 struct {
	backend  *countingBackend
	endpoint string // host:port
	client   *minio.Client
	policies sync.Map // bucket → policy JSON
}

func startFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	f := &fakeS3{backend: &countingBackend{Backend: s3mem.New()}}
	s3 := gofakes3.New(f.backend).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !r.URL.Query().Has("policy") {
			s3.ServeHTTP(w, r)
			return
		}
		policy, ok := f.policies.Load(strings.Trim(r.URL.Path, "/"))
		if !ok {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucketPolicy</Code><Message>The bucket policy does not exist</Message></Error>`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, policy)
	}))
	t.Cleanup(srv.Close)
	endpoint := strings.TrimPrefix(srv.URL, "http://")
	client, err := minio.New(endpoint, &minio.Options{
		Creds: credentials.NewStaticV4("test-access", "test-secret", ""), Region: "us-east-1",
	})
	require.NoError(t, err)
	f.endpoint, f.client = endpoint, client
	return f
}

// A bucket anyone may read would make every file public by its hash:
// Parley refuses to start on it, and says how to make it private.
func TestPublicBucketIsRefused(t *testing.T) {
	t.Parallel()
	s3 := startFakeS3(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bucket := testkit.Unique("parley-")
	_, err := storage.NewS3(ctx, s3.config(bucket, ""))
	require.NoError(t, err, "a bucket without a policy is private")

	// The policy "mc anonymous set download" sets.
	s3.policies.Store(bucket, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},`+
		`"Action":["s3:GetBucketLocation","s3:ListBucket"],"Resource":["arn:aws:s3:::`+bucket+`"]},`+
		`{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::`+bucket+`/*"]}]}`)
	_, err = storage.NewS3(ctx, s3.config(bucket, ""))
	require.ErrorContains(t, err, "lets anyone read its objects")
	require.ErrorContains(t, err, "mc anonymous set none")

	// Writing by anyone is not reading.
	s3.policies.Store(bucket, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::`+bucket+`/*"]}]}`)
	_, err = storage.NewS3(ctx, s3.config(bucket, ""))
	require.NoError(t, err, "a policy for named principals only")
}

func (f *fakeS3) config(bucket, publicURL string) storage.S3Config {
	return storage.S3Config{
		Endpoint: f.endpoint, Bucket: bucket, AccessKey: "test-access", SecretKey: "test-secret",
		Region: "us-east-1", PublicURL: publicURL,
	}
}

// requireObject checks the bucket holds data under key with contentType.
func (f *fakeS3) requireObject(t *testing.T, bucket, key string, data []byte, contentType string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := f.client.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	require.NoError(t, err, "object %s/%s", bucket, key)
	require.Equal(t, contentType, info.ContentType)
	require.Equal(t, int64(len(data)), info.Size)
	obj, err := f.client.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	require.NoError(t, err)
	defer obj.Close()
	got, err := io.ReadAll(obj)
	require.NoError(t, err)
	require.Equal(t, data, got)
}

func TestUploadToS3(t *testing.T) {
	t.Parallel()
	s3 := startFakeS3(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bucket := testkit.Unique("parley-")
	exists, err := s3.backend.BucketExists(bucket)
	require.NoError(t, err)
	require.False(t, exists)

	store, err := storage.NewS3(ctx, s3.config(bucket, "https://cdn.example.com/uploads/"))
	require.NoError(t, err)
	exists, err = s3.backend.BucketExists(bucket)
	require.NoError(t, err)
	require.True(t, exists, "NewS3 creates its bucket")

	e := setup(t, options{store: store})
	alice, bob := e.signUp(t, "alice"), e.signUp(t, "bob")
	img := jpegImage(t, 64, 40)

	u, err := upload(alice.ctx, e.common, img.data, 1500)
	require.NoError(t, err)
	requireLink(t, e.baseURL, u, img.key())
	// The link redirects to a presigned GET on the public address.
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirects.Get(u)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	presigned, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "https://cdn.example.com/"+bucket+"/"+img.key(), presigned.Scheme+"://"+presigned.Host+presigned.Path)
	require.NotEmpty(t, presigned.Query().Get("X-Amz-Signature"))
	s3.requireObject(t, bucket, img.key(), img.data, img.contentType)
	require.Equal(t, objectRow{
		ownerID: int64(alice.id), size: int64(len(img.data)), contentType: img.contentType,
		width: int32(img.width), height: int32(img.height),
	}, e.object(t, img.key()))
	require.Empty(t, files(t, e.spoolDir), "spool files left behind")
	require.Equal(t, int32(1), s3.backend.puts.Load())

	// The same bytes again, from someone else: the same object, put once.
	again, err := upload(bob.ctx, e.common, img.data, 999)
	require.NoError(t, err)
	requireLink(t, e.baseURL, again, img.key())
	require.Equal(t, int32(1), s3.backend.puts.Load(), "the same bytes were put twice")
	require.Empty(t, files(t, e.spoolDir), "spool files left behind")
}

// Without a public URL, the link redirects to the endpoint, and fetching it
// returns the image.
func TestUploadToS3DefaultURL(t *testing.T) {
	t.Parallel()
	s3 := startFakeS3(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bucket := testkit.Unique("parley-")
	store, err := storage.NewS3(ctx, s3.config(bucket, ""))
	require.NoError(t, err)
	e := setup(t, options{store: store})
	alice := e.signUp(t, "alice")
	img := pngImage(t, 50, 60)

	u, err := upload(alice.ctx, e.common, img.data, 4096)
	require.NoError(t, err)
	requireLink(t, e.baseURL, u, img.key())
	s3.requireObject(t, bucket, img.key(), img.data, img.contentType)

	resp, body := get(t, u)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, img.data, body)
	require.Equal(t, img.contentType, resp.Header.Get("Content-Type"))
}
