// Package config reads Parley's settings from flags, each with an environment
// twin: flag -grpc-addr is PARLEY_GRPC_ADDR. A flag on the command line wins
// over the environment, which wins over the default. A malformed environment
// value is an error even when a flag overrides it.
package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// Config is everything `parley serve` needs.
type Config struct {
	DatabaseURL       string
	DBMaxConns        int
	DataDir           string
	GRPCAddr          string
	HTTPAddr          string
	LogLevel          string
	LogFormat         string
	AutoMigrate       bool
	Pprof             bool
	ShutdownTimeout   time.Duration
	TLSCert           string
	TLSKey            string
	Keepalive         time.Duration
	KeepaliveWait     time.Duration
	TokenTTL          time.Duration
	AuthCacheTTL      time.Duration
	MaxRecvMsgBytes   int
	MaxConnsPerIP     int
	TrustedProxies    string
	HTTPIdleTimeout   time.Duration
	AdminAddr         string
	GroupMemberCap    int
	TypingGroupCap    int
	ReceiptGroupCap   int
	FeedModeration    string
	SendRate          float64
	SendBurst         int
	EditWindow        time.Duration
	RecallWindow      time.Duration
	NodeID            string
	NATSURL           string
	WSOrigins         string
	WSMaxFrameBytes   int64
	GatewaySecret     string
	GatewayQueue      int
	Storage           string
	StorageDir        string
	PublicURL         string
	MaxUploadBytes    int64
	MaxUploadsPerUser int
	MaxImagePixels    int64
	MediaLinkTTL      time.Duration
	S3                S3
	SMTP              SMTP
}

// S3 addresses an S3-compatible object store (-storage=s3).
type S3 struct {
	Endpoint, Bucket, AccessKey, SecretKey, Region, PublicURL string
	TLS                                                       bool
}

// SMTP is the mail server SendEmail delivers through.
type SMTP struct {
	Host, Username, Password, TLS, From string
	Port                                int
}

// Default returns the embedded defaults.
func Default() Config {
	return Config{
		DBMaxConns:        16,
		DataDir:           "./data",
		GRPCAddr:          ":9090",
		HTTPAddr:          ":8080",
		LogLevel:          "info",
		LogFormat:         "json",
		AutoMigrate:       true,
		ShutdownTimeout:   15 * time.Second,
		Keepalive:         30 * time.Second,
		KeepaliveWait:     10 * time.Second,
		TokenTTL:          7 * 24 * time.Hour,
		AuthCacheTTL:      2 * time.Second,
		MaxRecvMsgBytes:   4 << 20,
		MaxConnsPerIP:     256,
		HTTPIdleTimeout:   2 * time.Minute,
		AdminAddr:         "127.0.0.1:9091",
		GroupMemberCap:    10_000,
		TypingGroupCap:    500,
		ReceiptGroupCap:   500,
		FeedModeration:    "off",
		SendRate:          20,
		SendBurst:         50,
		EditWindow:        48 * time.Hour,
		RecallWindow:      24 * time.Hour,
		GatewayQueue:      256,
		WSMaxFrameBytes:   64 << 10,
		Storage:           "fs",
		MaxUploadBytes:    10 << 20,
		MaxUploadsPerUser: 4,
		MaxImagePixels:    40_000_000,
		MediaLinkTTL:      24 * time.Hour,
		S3:                S3{Bucket: "parley", TLS: true},
		SMTP:              SMTP{Port: 587, TLS: "starttls", From: "Parley <parley@localhost>"},
	}
}

// RegisterDatabaseFlags adds the flags every command that touches the database needs.
func (c *Config) RegisterDatabaseFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL,
		"PostgreSQL URL; empty starts a local cluster under -data-dir")
	fs.IntVar(&c.DBMaxConns, "db-max-conns", c.DBMaxConns, "most connections Parley opens to PostgreSQL")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for Parley's local data (the embedded PostgreSQL cluster)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "json or console")
}

// RegisterServeFlags adds the flags of `parley serve`.
func (c *Config) RegisterServeFlags(fs *flag.FlagSet) {
	c.RegisterDatabaseFlags(fs)
	fs.StringVar(&c.GRPCAddr, "grpc-addr", c.GRPCAddr, "gRPC listen address")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "HTTP listen address: the REST API, the page, /ws, /upload, /media/, /healthz, /readyz")
	fs.BoolVar(&c.AutoMigrate, "auto-migrate", c.AutoMigrate, "apply pending migrations at start-up")
	fs.BoolVar(&c.Pprof, "pprof", c.Pprof, "serve Go's profiler at /debug/pprof/ on the admin listener")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long in-flight calls may run after SIGTERM")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "PEM certificate (chain) file: serve gRPC over TLS (with -tls-key)")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "PEM private key file of -tls-cert")
	fs.DurationVar(&c.Keepalive, "keepalive", c.Keepalive,
		"ping a gRPC connection idle this long, to find peers that vanished without closing")
	fs.DurationVar(&c.KeepaliveWait, "keepalive-timeout", c.KeepaliveWait,
		"how long a keepalive ping may go unanswered before the connection (and its streams) is closed")
	fs.DurationVar(&c.TokenTTL, "token-ttl", c.TokenTTL, "lifetime of a login token")
	fs.DurationVar(&c.AuthCacheTTL, "auth-cache-ttl", c.AuthCacheTTL,
		"how long a checked token is remembered; revocations on other nodes and admin changes take effect within it (0: off)")
	fs.IntVar(&c.MaxRecvMsgBytes, "max-recv-msg-bytes", c.MaxRecvMsgBytes, "largest gRPC message the server accepts")
	fs.IntVar(&c.MaxConnsPerIP, "max-conns-per-ip", c.MaxConnsPerIP,
		"most connections one remote address may hold open on each listener, gRPC and HTTP (0: no limit; behind a proxy all clients share its address)")
	fs.DurationVar(&c.HTTPIdleTimeout, "http-idle-timeout", c.HTTPIdleTimeout, "close an HTTP keep-alive connection idle this long")
	fs.StringVar(&c.AdminAddr, "admin-addr", c.AdminAddr, "listen address of /metrics and (with -pprof) /debug/pprof/, for operators only; empty: none")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies,
		"proxies (comma-separated addresses and CIDR prefixes) whose X-Forwarded-For names the client that per-address limits count")
	fs.IntVar(&c.GroupMemberCap, "group-member-cap", c.GroupMemberCap, "most members a group may have")
	fs.IntVar(&c.TypingGroupCap, "typing-group-cap", c.TypingGroupCap, "typing is not sent on in groups with more members than this")
	fs.IntVar(&c.ReceiptGroupCap, "receipt-group-cap", c.ReceiptGroupCap,
		"receipt frames are not pushed, and GetReceipts answers counts without ids, in groups with more members than this")
	fs.StringVar(&c.FeedModeration, "feed-moderation", c.FeedModeration,
		"off: new feeds are public at once; pre: new and edited feeds wait for an admin's review")
	fs.Float64Var(&c.SendRate, "send-rate", c.SendRate, "messages per second each user may send (per node)")
	fs.IntVar(&c.SendBurst, "send-burst", c.SendBurst, "messages a user may send at once above -send-rate")
	fs.DurationVar(&c.EditWindow, "edit-window", c.EditWindow, "how long after sending a text its sender may edit it (0: no limit)")
	fs.DurationVar(&c.RecallWindow, "recall-window", c.RecallWindow, "how long after sending a message its sender may recall it (0: no limit; group owners and admins any time)")
	fs.StringVar(&c.NodeID, "node-id", c.NodeID, "this node's id, the gateway_id of its device streams (generated when empty)")
	fs.StringVar(&c.NATSURL, "nats-url", c.NATSURL,
		"NATS server(s) joining this node to a cluster (nats://host:4222, comma-separated); empty: a single node")
	fs.StringVar(&c.GatewaySecret, "gateway-secret", c.GatewaySecret,
		"credential edge gateways present as `authorization: Gateway <secret>`; empty refuses edge gateways")
	fs.StringVar(&c.WSOrigins, "ws-origins", c.WSOrigins,
		"other origins whose pages may open /ws (comma-separated host patterns, e.g. chat.example.com,*.example.com); Parley's own page always may")
	fs.Int64Var(&c.WSMaxFrameBytes, "ws-max-frame-bytes", c.WSMaxFrameBytes, "largest frame a WebSocket client may send")
	fs.IntVar(&c.GatewayQueue, "gateway-queue", c.GatewayQueue, "frames a gateway stream may have waiting before it is cut off as too slow")
	fs.StringVar(&c.Storage, "storage", c.Storage, "where uploads are kept: fs (files under -storage-dir) or s3")
	fs.StringVar(&c.StorageDir, "storage-dir", c.StorageDir, "directory of uploaded files (-storage=fs); empty: media under -data-dir")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL,
		"base URL clients reach this server's HTTP listener at (default from -http-addr)")
	fs.Int64Var(&c.MaxUploadBytes, "max-upload-bytes", c.MaxUploadBytes, "largest upload accepted: an image (UploadImage, /upload) or a page's file (/upload/file)")
	fs.IntVar(&c.MaxUploadsPerUser, "max-uploads-per-user", c.MaxUploadsPerUser, "uploads one user may have in progress at once (per node)")
	fs.Int64Var(&c.MaxImagePixels, "max-image-pixels", c.MaxImagePixels, "most pixels (width × height) an uploaded image may have")
	fs.DurationVar(&c.MediaLinkTTL, "media-link-ttl", c.MediaLinkTTL, "how long a link to a message's media (or an upload) stays valid, at least (rounded up to the hour)")
	fs.StringVar(&c.S3.Endpoint, "s3-endpoint", c.S3.Endpoint, "S3 endpoint host[:port] (-storage=s3)")
	fs.StringVar(&c.S3.Bucket, "s3-bucket", c.S3.Bucket, "S3 bucket, created if missing")
	fs.StringVar(&c.S3.AccessKey, "s3-access-key", c.S3.AccessKey, "S3 access key")
	fs.StringVar(&c.S3.SecretKey, "s3-secret-key", c.S3.SecretKey, "S3 secret key")
	fs.StringVar(&c.S3.Region, "s3-region", c.S3.Region, "S3 region")
	fs.BoolVar(&c.S3.TLS, "s3-tls", c.S3.TLS, "reach the S3 endpoint over TLS")
	fs.StringVar(&c.S3.PublicURL, "s3-public-url", c.S3.PublicURL, "base URL of the bucket's objects (default the endpoint and bucket)")
	fs.StringVar(&c.SMTP.Host, "smtp-host", c.SMTP.Host, "SMTP server; empty writes emails to the log instead")
	fs.IntVar(&c.SMTP.Port, "smtp-port", c.SMTP.Port, "SMTP port")
	fs.StringVar(&c.SMTP.Username, "smtp-username", c.SMTP.Username, "SMTP user")
	fs.StringVar(&c.SMTP.Password, "smtp-password", c.SMTP.Password, "SMTP password")
	fs.StringVar(&c.SMTP.TLS, "smtp-tls", c.SMTP.TLS, "starttls (required), tls (implicit) or none")
	fs.StringVar(&c.SMTP.From, "smtp-from", c.SMTP.From, "sender address of emails")
}

// EnvName is the environment twin of a flag.
func EnvName(flagName string) string {
	return "PARLEY_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse applies the environment twins of fs's flags, then args, and
// returns the positional arguments. Flags may come before, between or after
// positional arguments (`parley migrate up -database-url ...`).
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := EnvName(f.Name)
		f.Usage += " (env " + env + ")"
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		if consumed := len(args) - fs.NArg(); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, fs.Args()...), nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
