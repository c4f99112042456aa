// Command parley is the Parley server and its administration commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/parley-im/parley/platform/logging"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

const usage = `Parley: an instant-messaging and social-feed backend.

Usage:
  parley serve [flags]              run the gRPC and HTTP servers
  parley migrate up|down|status     manage the database schema
  parley admin grant|revoke NICKNAME give or take the admin role
  parley version                    print the version

Run "parley COMMAND -h" for a command's flags. Every flag has an
environment twin: -grpc-addr is PARLEY_GRPC_ADDR.
`

func main() {
	logging.RouteGRPCLogs()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "parley: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serveCommand(ctx, rest, stderr)
	case "migrate":
		return migrateCommand(ctx, rest, stdout, stderr)
	case "admin":
		return adminCommand(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "parley", buildVersion())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// buildVersion is the -ldflags version, else the VCS revision Go recorded.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return info.Main.Version
}
