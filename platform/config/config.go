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
	DatabaseURL     string
	DataDir         string
	GRPCAddr        string
	HTTPAddr        string
	LogLevel        string
	LogFormat       string
	AutoMigrate     bool
	ShutdownTimeout time.Duration
	TokenTTL        time.Duration
	MaxRecvMsgBytes int
	GroupMemberCap  int
	FeedModeration  string
	SendRate        float64
	SendBurst       int
	NodeID          string
	GatewaySecret   string
	GatewayQueue    int
}

// Default returns the embedded defaults.
func Default() Config {
	return Config{
		DataDir:         "./data",
		GRPCAddr:        ":9090",
		HTTPAddr:        ":8080",
		LogLevel:        "info",
		LogFormat:       "json",
		AutoMigrate:     true,
		ShutdownTimeout: 15 * time.Second,
		TokenTTL:        7 * 24 * time.Hour,
		MaxRecvMsgBytes: 4 << 20,
		GroupMemberCap:  10_000,
		FeedModeration:  "off",
		SendRate:        20,
		SendBurst:       50,
		GatewayQueue:    256,
	}
}

// RegisterDatabaseFlags adds the flags every command that touches the database needs.
func (c *Config) RegisterDatabaseFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL,
		"PostgreSQL URL; empty starts a local cluster under -data-dir")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for Parley's local data (the embedded PostgreSQL cluster)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "json or console")
}

// RegisterServeFlags adds the flags of `parley serve`.
func (c *Config) RegisterServeFlags(fs *flag.FlagSet) {
	c.RegisterDatabaseFlags(fs)
	fs.StringVar(&c.GRPCAddr, "grpc-addr", c.GRPCAddr, "gRPC listen address")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "HTTP listen address (/healthz, /readyz, /metrics)")
	fs.BoolVar(&c.AutoMigrate, "auto-migrate", c.AutoMigrate, "apply pending migrations at start-up")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long in-flight calls may run after SIGTERM")
	fs.DurationVar(&c.TokenTTL, "token-ttl", c.TokenTTL, "lifetime of a login token")
	fs.IntVar(&c.MaxRecvMsgBytes, "max-recv-msg-bytes", c.MaxRecvMsgBytes, "largest gRPC message the server accepts")
	fs.IntVar(&c.GroupMemberCap, "group-member-cap", c.GroupMemberCap, "most members a group may have")
	fs.StringVar(&c.FeedModeration, "feed-moderation", c.FeedModeration,
		"off: new feeds are public at once; pre: new and edited feeds wait for an admin's review")
	fs.Float64Var(&c.SendRate, "send-rate", c.SendRate, "messages per second each user may send (per node)")
	fs.IntVar(&c.SendBurst, "send-burst", c.SendBurst, "messages a user may send at once above -send-rate")
	fs.StringVar(&c.NodeID, "node-id", c.NodeID, "this node's id, the gateway_id of its device streams (generated when empty)")
	fs.StringVar(&c.GatewaySecret, "gateway-secret", c.GatewaySecret,
		"credential edge gateways present as `authorization: Gateway <secret>`; empty refuses edge gateways")
	fs.IntVar(&c.GatewayQueue, "gateway-queue", c.GatewayQueue, "frames a gateway stream may have waiting before it is cut off as too slow")
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
