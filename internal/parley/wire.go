// Package parley is the assembled application: the modules wired onto one
// gRPC server and one HTTP handler (Build), and the one way it serves and
// stops (App.Run). `parley serve` and every test that needs more than one
// module run Parley this way (parleytest.Serve in tests).
package parley

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/openapi"
	"github.com/parley-im/parley/api/rules"
	"github.com/parley-im/parley/modules/common"
	"github.com/parley-im/parley/modules/feed"
	"github.com/parley-im/parley/modules/gateway"
	"github.com/parley-im/parley/modules/group"
	"github.com/parley-im/parley/modules/message"
	"github.com/parley-im/parley/modules/user"
	"github.com/parley-im/parley/platform/bus"
	"github.com/parley-im/parley/platform/clientaddr"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/grpcserver"
	"github.com/parley-im/parley/platform/httpserver"
	"github.com/parley-im/parley/platform/media"
	"github.com/parley-im/parley/platform/rest"
	"github.com/parley-im/parley/platform/storage"
	"github.com/parley-im/parley/web"
)

// module is what every module offers the server.
type module interface {
	Register(s grpc.ServiceRegistrar)
}

// App is the wired application: the server and the modules' background
// work, which runs from before serving until after the last call ends.
type App struct {
	server     *grpcserver.Server
	background []func(ctx context.Context)
	// closeStreams ends the long-lived gateway streams at shutdown.
	closeStreams func()
	// media serves uploaded files under /media/ to those holding a link.
	media http.Handler
	// closeBus leaves the cluster, after the server has stopped.
	closeBus func()
	// webSocket serves the gateway to browsers at /ws.
	webSocket gateway.WebSocketEdge
	// upload stores images posted by pages at /upload, uploadFile files
	// of any content at /upload/file; uploadLimits answers the size cap at
	// /upload/limits.
	upload, uploadFile, uploadLimits http.Handler
	// mediaOrigins are where uploaded files are fetched from (the page's CSP).
	mediaOrigins []string
	// rest serves the REST API under /v1/api/ through the server's
	// in-process connection.
	rest http.Handler
	// ready is /readyz's check (the database answers); httpIdleTimeout
	// closes idle keep-alive connections.
	ready           httpserver.ReadinessCheck
	httpIdleTimeout time.Duration
	log             zerolog.Logger
	modules         Modules
	deliveries      bus.Bus
}

// Options are Build's dependencies besides the configuration.
type Options struct {
	Log zerolog.Logger
	// Registerer takes the server's metrics (nil: a registry of its own).
	Registerer prometheus.Registerer
	// Knobs for tests, none of them a flag; the zero value is production's.
	// PasswordParams is the argon2id cost of new passwords (tests lower it
	// to stay fast under the race detector); ViewFlushInterval is how often
	// the feed module writes views; KeyCleanupInterval how often the message
	// module forgets expired idempotency keys.
	PasswordParams     *argon2id.Params
	ViewFlushInterval  time.Duration
	KeyCleanupInterval time.Duration
	// PresenceGrace is how long a user that lost its last device on a node
	// stays online there (10 s); PresenceBeat how often a node beats for
	// presence (5 s; dead after 3 beats).
	PresenceGrace, PresenceBeat time.Duration
}

// Modules are the app's modules, for administration and tests.
type Modules struct {
	User    *user.Module
	Group   *group.Module
	Feed    *feed.Module
	Message *message.Module
	Gateway *gateway.Module
	Common  *common.Module
}

// Build wires the modules onto one gRPC server over pool: platform first,
// then each module from the modules it depends on. The app holds the bus
// until Run returns.
func Build(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, opts Options) (_ *App, err error) {
	log, reg := opts.Log, opts.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if cfg.NodeID == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		cfg.NodeID = "parley-" + hex.EncodeToString(b)
	}
	deliveries, closeBus, err := newBus(cfg, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			closeBus()
		}
	}()
	secret, err := common.MediaLinkSecret(ctx, pool)
	if err != nil {
		return nil, err
	}
	files, err := newStorage(ctx, cfg)
	if err != nil {
		return nil, err
	}
	mediaBase := PublicURL(cfg) + "/media"
	var legacy []string
	if files.legacy != "" {
		legacy = append(legacy, files.legacy)
	}
	links, err := media.NewLinks(mediaBase, secret, cfg.MediaLinkTTL, legacy...)
	if err != nil {
		return nil, err
	}
	users := user.New(pool, links, user.Config{
		TokenTTL:         cfg.TokenTTL,
		LoginMaxFailures: 10,
		LoginWindow:      time.Minute,
		// Every node (this one included) ends the user's sessions and
		// forgets the cached tokens.
		TokensRevoked: func(userID uint64) {
			_ = deliveries.Publish(context.Background(), bus.Delivery{UserIDs: []uint64{userID}, Cmd: bus.CmdRevoked})
		},
		AuthCacheTTL:   cfg.AuthCacheTTL,
		PasswordParams: opts.PasswordParams,
	})
	// Subscribed before the gateway: a node forgets the cached tokens
	// before it ends the sessions, so a stream reconnecting meanwhile is
	// checked against the database.
	deliveries.Subscribe(func(d bus.Delivery) {
		if d.Cmd == bus.CmdRevoked {
			for _, id := range d.UserIDs {
				users.ForgetTokens(id)
			}
		}
	})
	var public []string
	for _, methods := range [][]string{
		user.PublicMethods, group.PublicMethods, feed.PublicMethods,
		message.PublicMethods, gateway.PublicMethods, common.PublicMethods,
	} {
		public = append(public, methods...)
	}
	tlsConfig, err := serverTLS(cfg)
	if err != nil {
		return nil, err
	}
	trusted, err := clientaddr.Parse(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("-trusted-proxies: %w", err)
	}
	srv := grpcserver.New(grpcserver.Options{
		Logger:          log,
		Authenticator:   users,
		PublicMethods:   public,
		Validate:        rules.Check,
		Registerer:      reg,
		MaxRecvMsgBytes: cfg.MaxRecvMsgBytes,
		GatewaySecret:   cfg.GatewaySecret,
		TLS:             tlsConfig,
		Keepalive:       cfg.Keepalive,
		KeepaliveWait:   cfg.KeepaliveWait,
		TrustedProxies:  trusted,
	})

	groups := group.New(pool, users, links, group.Config{MemberCap: cfg.GroupMemberCap, Log: log})
	feeds, err := feed.New(pool, users, links, feed.Config{Moderation: cfg.FeedModeration, ViewFlushInterval: opts.ViewFlushInterval}, log)
	if err != nil {
		return nil, err
	}
	messages := message.New(pool, users, groups, deliveries, links, message.Config{
		SendRate: cfg.SendRate, SendBurst: cfg.SendBurst, EditWindow: cfg.EditWindow, RecallWindow: cfg.RecallWindow,
		KeyCleanupInterval: opts.KeyCleanupInterval, TypingGroupCap: cfg.TypingGroupCap, ReceiptGroupCap: cfg.ReceiptGroupCap,
	}, log)
	groups.SetEvents(messages)
	presence := users.NewPresence(user.PresenceConfig{
		NodeID: cfg.NodeID, Bus: deliveries, Peers: messages,
		Grace: opts.PresenceGrace, Beat: opts.PresenceBeat, Log: log,
	})
	// The gateway dispatches its clients' requests through the server itself.
	gateways := gateway.New(srv, users, deliveries, gateway.Config{
		NodeID: cfg.NodeID, QueueSize: cfg.GatewayQueue, Log: log, Presence: presence.UserOnline,
	})

	content := common.Content{Messages: messages, Feeds: feeds, Users: users, Groups: groups}
	commons, err := common.New(pool, files.store, links, content, common.Config{
		MaxUploadBytes: cfg.MaxUploadBytes, MaxUploadsPerUser: cfg.MaxUploadsPerUser, MaxImagePixels: cfg.MaxImagePixels,
		SpoolDir: files.spool,
		SMTP: common.SMTP{
			Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username,
			Password: cfg.SMTP.Password, TLS: cfg.SMTP.TLS, From: cfg.SMTP.From,
		},
	}, log)
	if err != nil {
		return nil, err
	}

	for _, m := range []module{users, groups, feeds, messages, gateways, commons} {
		m.Register(srv)
	}
	srv.Ready()
	inProcess, err := srv.ServeInProcess()
	if err != nil {
		return nil, err
	}
	restAPI, err := rest.New(ctx, inProcess, rest.Options{MaxMessageBytes: cfg.MaxRecvMsgBytes})
	if err != nil {
		srv.Stop()
		return nil, err
	}
	return &App{
		ready: pool.Ping, httpIdleTimeout: cfg.HTTPIdleTimeout, log: log,
		rest:         restAPI,
		server:       srv,
		background:   []func(context.Context){feeds.Run, messages.Run, commons.Run, presence.Run, groups.RelayEvents},
		closeStreams: gateways.CloseStreams,
		modules:      Modules{User: users, Group: groups, Feed: feeds, Message: messages, Gateway: gateways, Common: commons},
		deliveries:   deliveries,
		media:        links.Handler(files.store.Serve),
		closeBus:     closeBus,
		upload:       commons.UploadHandler(users),
		uploadFile:   commons.FileUploadHandler(users),
		uploadLimits: commons.UploadLimitsHandler(),
		mediaOrigins: []string{origin(mediaBase), files.origin},
		webSocket: gateways.WebSocket(gateway.WebSocketOptions{
			OriginPatterns: splitList(cfg.WSOrigins), MaxFrameBytes: cfg.WSMaxFrameBytes,
			Keepalive: cfg.Keepalive, KeepaliveWait: cfg.KeepaliveWait, TrustedProxies: trusted,
		}),
	}, nil
}

// httpHandler serves the HTTP listener: probes (/healthz, /readyz),
// uploaded media, the WebSocket edge, page uploads, the REST API
// and its OpenAPI document, and the web page.
func (app *App) httpHandler(ready httpserver.ReadinessCheck) http.Handler {
	mux := httpserver.NewMux(ready)
	mux.Handle("GET "+media.Route, app.media)
	mux.Handle("GET /ws", app.webSocket)
	mux.Handle("POST /upload", app.upload)
	mux.Handle("POST /upload/file", app.uploadFile)
	mux.Handle("GET /upload/limits", app.uploadLimits)
	// Every method, so a wrong one is the REST API's 405, not the page's.
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		mux.Handle(method+" /v1/api/", app.rest)
	}
	mux.Handle("GET /openapi.json", openapi.Handler())
	mux.Handle("GET /", web.Handler(app.mediaOrigins...))
	return mux
}

// newBus is the in-process bus, or with -nats-url the cluster's.
func newBus(cfg config.Config, log zerolog.Logger) (bus.Bus, func(), error) {
	if cfg.NATSURL == "" {
		return bus.NewLocal(), func() {}, nil
	}
	b, err := bus.ConnectNATS(cfg.NATSURL, cfg.NodeID, log)
	if err != nil {
		return nil, nil, err
	}
	return b, b.Close, nil
}

// uploads is where uploaded files are kept.
type uploads struct {
	store storage.Storage
	spool string // the directory uploads are spooled to
	// origin is where files are fetched from besides /media/ (an S3
	// store's presigned links), for the page's CSP; legacy is where they
	// were fetched before links were signed (media.NewLinks).
	origin, legacy string
}

// newStorage builds the upload store -storage names. An fs store spools
// inside its own directory, so storing an upload is a rename on one
// filesystem.
func newStorage(ctx context.Context, cfg config.Config) (uploads, error) {
	switch cfg.Storage {
	case "fs":
		fs, err := storage.NewFS(cmp.Or(cfg.StorageDir, filepath.Join(cfg.DataDir, "media")))
		return uploads{store: fs, spool: fs.TempDir()}, err
	case "s3":
		s3, err := storage.NewS3(ctx, storage.S3Config{
			Endpoint: cfg.S3.Endpoint, Bucket: cfg.S3.Bucket, AccessKey: cfg.S3.AccessKey,
			SecretKey: cfg.S3.SecretKey, UseTLS: cfg.S3.TLS, Region: cfg.S3.Region, PublicURL: cfg.S3.PublicURL,
		})
		endpoint := map[bool]string{true: "https://", false: "http://"}[cfg.S3.TLS] + cfg.S3.Endpoint
		legacy := cmp.Or(cfg.S3.PublicURL, endpoint+"/"+cfg.S3.Bucket)
		return uploads{store: s3, spool: filepath.Join(cfg.DataDir, "spool"), origin: origin(cmp.Or(cfg.S3.PublicURL, endpoint)), legacy: legacy}, err
	}
	return uploads{}, fmt.Errorf("storage %q: want fs or s3", cfg.Storage)
}

// PublicURL is -public-url, or the HTTP listener's address as a URL.
func PublicURL(cfg config.Config) string {
	if cfg.PublicURL != "" {
		return strings.TrimSuffix(cfg.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil {
		return "http://" + cfg.HTTPAddr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// serverTLS loads -tls-cert and -tls-key; nil when neither is set.
func serverTLS(cfg config.Config) (*tls.Config, error) {
	switch {
	case cfg.TLSCert == "" && cfg.TLSKey == "":
		return nil, nil
	case cfg.TLSCert == "" || cfg.TLSKey == "":
		return nil, errors.New("-tls-cert and -tls-key go together: set both to serve gRPC over TLS, or neither")
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("-tls-cert/-tls-key: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// origin is the scheme://host[:port] of an absolute URL.
func origin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// Server is the app's gRPC server (its services, in-process dispatch).
func (app *App) Server() *grpcserver.Server { return app.server }

// Modules are the app's modules.
func (app *App) Modules() Modules { return app.modules }

// Bus is where the app publishes pushes (tests subscribe to watch them).
func (app *App) Bus() bus.Bus { return app.deliveries }
