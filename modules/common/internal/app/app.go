// Package app is the common module's behaviour: uploads (images, and
// files of any content) to object storage and durable email.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/rs/zerolog"
	"golang.org/x/sync/semaphore"

	"github.com/parley-im/parley/modules/common/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/media"
	"github.com/parley-im/parley/platform/ratelimit"
	"github.com/parley-im/parley/platform/storage"
)

// JobSchema is where River keeps its jobs: the module's own schema.
const JobSchema = "common"

// Config tunes the module.
type Config struct {
	MaxUploadBytes int64
	SpoolDir       string // where uploads are written while they arrive
	// MaxUploadsPerUser is how many uploads one user may have in progress at
	// once (on this node): each holds a spool file and a stream.
	MaxUploadsPerUser int
	// MaxImagePixels is the most pixels (width × height) an uploaded image
	// may have: decoding holds them in memory.
	MaxImagePixels int64
	// UploadIdleTimeout ends an upload whose next chunk does not come within
	// it; UploadTimeout ends one that takes longer in all.
	UploadIdleTimeout, UploadTimeout time.Duration
	SMTP                             SMTP
	// EmailRetryBase is the first retry's delay; it doubles after each failure.
	EmailRetryBase time.Duration
	// EmailMaxAttempts bounds delivery attempts before an email is failed.
	EmailMaxAttempts int
}

// Service implements the module.
type Service struct {
	pool    *pgxpool.Pool
	q       *db.Queries
	storage storage.Storage
	links   *media.Links
	jobs    *river.Client[pgx.Tx]
	cfg     Config
	log     zerolog.Logger
	uploads *ratelimit.Holds[uint64] // uploads in progress per user
	// decodes bounds the images decoded at once.
	decodes *semaphore.Weighted
	// errTooLarge refuses an upload over the cap (IsTooLarge).
	errTooLarge *apperr.Error
}

func New(pool *pgxpool.Pool, store storage.Storage, links *media.Links, cfg Config, log zerolog.Logger) (*Service, error) {
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 10 << 20
	}
	if cfg.MaxUploadsPerUser <= 0 {
		cfg.MaxUploadsPerUser = 4
	}
	if cfg.MaxImagePixels <= 0 {
		cfg.MaxImagePixels = 40_000_000
	}
	if cfg.UploadIdleTimeout <= 0 {
		cfg.UploadIdleTimeout = 30 * time.Second
	}
	if cfg.UploadTimeout <= 0 {
		cfg.UploadTimeout = 10 * time.Minute
	}
	if cfg.EmailRetryBase <= 0 {
		cfg.EmailRetryBase = 10 * time.Second
	}
	if cfg.EmailMaxAttempts <= 0 {
		cfg.EmailMaxAttempts = 10
	}
	if err := os.MkdirAll(cfg.SpoolDir, 0o750); err != nil {
		return nil, fmt.Errorf("upload spool directory: %w", err)
	}
	if err := sweepSpool(cfg.SpoolDir, cfg.UploadTimeout, log); err != nil {
		return nil, err
	}
	s := &Service{pool: pool, q: db.New(pool), storage: store, links: links, cfg: cfg, log: log, uploads: ratelimit.NewHolds[uint64](cfg.MaxUploadsPerUser),
		decodes:     semaphore.NewWeighted(2),
		errTooLarge: apperr.InvalidArgument("content: the upload is larger than %d bytes", cfg.MaxUploadBytes),
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &emailWorker{svc: s})
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Schema:      JobSchema,
		Queues:      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers:     workers,
		MaxAttempts: cfg.EmailMaxAttempts,
		RetryPolicy: backoff{base: cfg.EmailRetryBase},
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return nil, fmt.Errorf("email queue: %w", err)
	}
	s.jobs = jobs
	return s, nil
}

// Run works the email queue until ctx ends, then lets running jobs finish
// (for up to 10 s).
func (s *Service) Run(ctx context.Context) error {
	// Cancelling Start's context would cancel running jobs: stop gracefully
	// instead, and cancel only what is still running after the timeout.
	if err := s.jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start email queue: %w", err)
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.jobs.Stop(stopCtx); err != nil {
		return s.jobs.StopAndCancel(context.Background())
	}
	return nil
}
