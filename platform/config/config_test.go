package config_test

import (
	"flag"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/config"
)

// setup returns a default config with the serve flags registered, after
// unsetting every PARLEY_ variable of those flags for the test, so the
// environment the tests run in cannot leak in.
func setup(t *testing.T) (*config.Config, *flag.FlagSet) {
	t.Helper()
	cfg := config.Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.RegisterServeFlags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		name := config.EnvName(f.Name)
		t.Setenv(name, "") // restores the original value when the test ends
		require.NoError(t, os.Unsetenv(name))
	})
	return &cfg, fs
}

// parse runs config.Parse and requires that it succeeds with no positional arguments.
func parse(t *testing.T, fs *flag.FlagSet, args []string) {
	t.Helper()
	positional, err := config.Parse(fs, args)
	require.NoError(t, err)
	require.Empty(t, positional)
}

func TestEnvName(t *testing.T) {
	t.Parallel()
	for flagName, want := range map[string]string{
		"grpc-addr":          "PARLEY_GRPC_ADDR",
		"database-url":       "PARLEY_DATABASE_URL",
		"max-recv-msg-bytes": "PARLEY_MAX_RECV_MSG_BYTES",
		"auto-migrate":       "PARLEY_AUTO_MIGRATE",
	} {
		t.Run(flagName, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, want, config.EnvName(flagName))
		})
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, fs := setup(t)
	parse(t, fs, nil)
	require.Equal(t, config.Default(), *cfg)
}

func TestParseEnv(t *testing.T) {
	cfg, fs := setup(t)
	t.Setenv("PARLEY_DATABASE_URL", "postgres://parley@db/parley")
	t.Setenv("PARLEY_DB_MAX_CONNS", "5")
	t.Setenv("PARLEY_DATA_DIR", "/var/lib/parley")
	t.Setenv("PARLEY_GRPC_ADDR", ":7000")
	t.Setenv("PARLEY_HTTP_ADDR", ":7080")
	t.Setenv("PARLEY_LOG_LEVEL", "debug")
	t.Setenv("PARLEY_LOG_FORMAT", "console")
	t.Setenv("PARLEY_AUTO_MIGRATE", "false")
	t.Setenv("PARLEY_PPROF", "true")
	t.Setenv("PARLEY_ADMIN_ADDR", "127.0.0.1:7091")
	t.Setenv("PARLEY_SHUTDOWN_TIMEOUT", "3s")
	t.Setenv("PARLEY_TLS_CERT", "/etc/parley/cert.pem")
	t.Setenv("PARLEY_TLS_KEY", "/etc/parley/key.pem")
	t.Setenv("PARLEY_KEEPALIVE", "20s")
	t.Setenv("PARLEY_KEEPALIVE_TIMEOUT", "5s")
	t.Setenv("PARLEY_WS_ORIGINS", "chat.example.com")
	t.Setenv("PARLEY_WS_MAX_FRAME_BYTES", "4096")
	t.Setenv("PARLEY_TOKEN_TTL", "2h")
	t.Setenv("PARLEY_AUTH_CACHE_TTL", "500ms")
	t.Setenv("PARLEY_MAX_RECV_MSG_BYTES", "1024")
	t.Setenv("PARLEY_MAX_CONNS_PER_IP", "8")
	t.Setenv("PARLEY_MAX_UPLOADS_PER_USER", "2")
	t.Setenv("PARLEY_MAX_IMAGE_PIXELS", "1000000")
	t.Setenv("PARLEY_MEDIA_LINK_TTL", "2h")
	t.Setenv("PARLEY_HTTP_IDLE_TIMEOUT", "30s")
	t.Setenv("PARLEY_TRUSTED_PROXIES", "10.0.0.0/8")
	t.Setenv("PARLEY_GROUP_MEMBER_CAP", "50")
	t.Setenv("PARLEY_FEED_MODERATION", "pre")
	t.Setenv("PARLEY_SEND_RATE", "2.5")
	t.Setenv("PARLEY_SEND_BURST", "7")
	t.Setenv("PARLEY_EDIT_WINDOW", "90m")
	t.Setenv("PARLEY_RECALL_WINDOW", "1h")
	t.Setenv("PARLEY_NODE_ID", "node-a")
	t.Setenv("PARLEY_TYPING_GROUP_CAP", "40")
	t.Setenv("PARLEY_RECEIPT_GROUP_CAP", "30")
	t.Setenv("PARLEY_GATEWAY_SECRET", "s3cret")
	t.Setenv("PARLEY_GATEWAY_QUEUE", "32")
	t.Setenv("PARLEY_STORAGE", "s3")
	t.Setenv("PARLEY_STORAGE_DIR", "/srv/media")
	t.Setenv("PARLEY_PUBLIC_URL", "https://chat.example.com")
	t.Setenv("PARLEY_MAX_UPLOAD_BYTES", "2048")
	t.Setenv("PARLEY_S3_ENDPOINT", "minio:9000")
	t.Setenv("PARLEY_S3_BUCKET", "media")
	t.Setenv("PARLEY_S3_ACCESS_KEY", "ak")
	t.Setenv("PARLEY_S3_SECRET_KEY", "sk")
	t.Setenv("PARLEY_S3_REGION", "eu-1")
	t.Setenv("PARLEY_S3_TLS", "false")
	t.Setenv("PARLEY_S3_PUBLIC_URL", "https://cdn.example.com/media")
	t.Setenv("PARLEY_SMTP_HOST", "mail")
	t.Setenv("PARLEY_SMTP_PORT", "1025")
	t.Setenv("PARLEY_SMTP_USERNAME", "mailer")
	t.Setenv("PARLEY_SMTP_PASSWORD", "pw")
	t.Setenv("PARLEY_SMTP_TLS", "none")
	t.Setenv("PARLEY_SMTP_FROM", "chat@example.com")

	parse(t, fs, nil)
	require.Equal(t, config.Config{
		DatabaseURL:       "postgres://parley@db/parley",
		DBMaxConns:        5,
		DataDir:           "/var/lib/parley",
		GRPCAddr:          ":7000",
		HTTPAddr:          ":7080",
		LogLevel:          "debug",
		LogFormat:         "console",
		AutoMigrate:       false,
		Pprof:             true,
		ShutdownTimeout:   3 * time.Second,
		TLSCert:           "/etc/parley/cert.pem",
		TLSKey:            "/etc/parley/key.pem",
		Keepalive:         20 * time.Second,
		KeepaliveWait:     5 * time.Second,
		WSOrigins:         "chat.example.com",
		WSMaxFrameBytes:   4096,
		TokenTTL:          2 * time.Hour,
		AuthCacheTTL:      500 * time.Millisecond,
		MaxRecvMsgBytes:   1024,
		MaxConnsPerIP:     8,
		TrustedProxies:    "10.0.0.0/8",
		HTTPIdleTimeout:   30 * time.Second,
		AdminAddr:         "127.0.0.1:7091",
		GroupMemberCap:    50,
		TypingGroupCap:    40,
		ReceiptGroupCap:   30,
		FeedModeration:    "pre",
		SendRate:          2.5,
		SendBurst:         7,
		EditWindow:        90 * time.Minute,
		RecallWindow:      time.Hour,
		NodeID:            "node-a",
		GatewaySecret:     "s3cret",
		GatewayQueue:      32,
		Storage:           "s3",
		StorageDir:        "/srv/media",
		PublicURL:         "https://chat.example.com",
		MaxUploadBytes:    2048,
		MaxUploadsPerUser: 2,
		MaxImagePixels:    1_000_000,
		MediaLinkTTL:      2 * time.Hour,
		S3: config.S3{Endpoint: "minio:9000", Bucket: "media", AccessKey: "ak", SecretKey: "sk",
			Region: "eu-1", PublicURL: "https://cdn.example.com/media", TLS: false},
		SMTP: config.SMTP{Host: "mail", Port: 1025, Username: "mailer", Password: "pw", TLS: "none", From: "chat@example.com"},
	}, *cfg)
}

func TestParseFlagsOverrideEnv(t *testing.T) {
	cfg, fs := setup(t)
	t.Setenv("PARLEY_GRPC_ADDR", ":7000")
	t.Setenv("PARLEY_HTTP_ADDR", ":7080")
	t.Setenv("PARLEY_SHUTDOWN_TIMEOUT", "3s")
	t.Setenv("PARLEY_AUTO_MIGRATE", "false")

	parse(t, fs, []string{"-grpc-addr", ":7001", "-shutdown-timeout=4s", "-auto-migrate"})
	require.Equal(t, ":7001", cfg.GRPCAddr, "flag wins over env")
	require.Equal(t, 4*time.Second, cfg.ShutdownTimeout, "flag wins over env")
	require.True(t, cfg.AutoMigrate, "flag wins over env")
	require.Equal(t, ":7080", cfg.HTTPAddr, "env applies where no flag is given")
	require.Equal(t, config.Default().TokenTTL, cfg.TokenTTL, "default applies where neither is given")
}

func TestParseUsageNamesEnv(t *testing.T) {
	_, fs := setup(t)
	parse(t, fs, nil)
	require.Contains(t, fs.Lookup("grpc-addr").Usage, "PARLEY_GRPC_ADDR")
}

func TestParseBadEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"duration", map[string]string{"PARLEY_SHUTDOWN_TIMEOUT": "abc"}},
		{"bool", map[string]string{"PARLEY_AUTO_MIGRATE": "maybe"}},
		{"int", map[string]string{"PARLEY_MAX_RECV_MSG_BYTES": "4MB"}},
		{"every bad variable named", map[string]string{"PARLEY_TOKEN_TTL": "week", "PARLEY_MAX_RECV_MSG_BYTES": "lots"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, fs := setup(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := config.Parse(fs, nil)
			require.Error(t, err)
			for k, v := range tc.env {
				require.Contains(t, err.Error(), k)
				require.Contains(t, err.Error(), v)
			}
		})
	}
}

func TestParseBadFlag(t *testing.T) {
	_, fs := setup(t)
	_, err := config.Parse(fs, []string{"-shutdown-timeout", "abc"})
	require.Error(t, err)
}

func TestParsePositional(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"flags first", []string{"-grpc-addr", ":7001", "migrate", "up"}, []string{"migrate", "up"}},
		{"flags between", []string{"migrate", "-grpc-addr", ":7001", "up"}, []string{"migrate", "up"}},
		{"flags last", []string{"migrate", "up", "-grpc-addr=:7001"}, []string{"migrate", "up"}},
		{"after --", []string{"-grpc-addr=:7001", "admin", "--", "-x", "-y"}, []string{"admin", "-x", "-y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, fs := setup(t)
			positional, err := config.Parse(fs, tc.args)
			require.NoError(t, err)
			require.Equal(t, tc.want, positional)
			require.Equal(t, ":7001", cfg.GRPCAddr)
		})
	}
}
