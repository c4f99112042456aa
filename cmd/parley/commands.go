package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/rs/zerolog"

	"github.com/parley-im/parley/modules/user"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/logging"
)

// commandSetup parses a database command's flags and returns its config,
// logger and remaining arguments.
func commandSetup(name string, args []string, stderr io.Writer) (config.Config, zerolog.Logger, []string, error) {
	cfg := config.Default()
	cfg.LogFormat = "console"
	fs := flag.NewFlagSet("parley "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.RegisterDatabaseFlags(fs)
	rest, err := config.Parse(fs, args)
	if err != nil {
		return cfg, zerolog.Nop(), nil, err
	}
	log, err := logging.New(stderr, cfg.LogLevel, cfg.LogFormat)
	return cfg, log, rest, err
}

func migrateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, log, rest, err := commandSetup("migrate", args, stderr)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("usage: parley migrate up|down|status")
	}
	pool, closeDB, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeDB()
	m, err := newMigrator(pool)
	if err != nil {
		return err
	}
	defer m.Close()
	switch rest[0] {
	case "up":
		results, err := m.Up(ctx)
		for _, r := range results {
			fmt.Fprintf(stdout, "applied %s\n", r.Source.Path)
		}
		if err == nil && len(results) == 0 {
			fmt.Fprintln(stdout, "no pending migrations")
		}
		return err
	case "down":
		r, err := m.Down(ctx)
		if err == nil {
			fmt.Fprintf(stdout, "rolled back %s\n", r.Source.Path)
		}
		return err
	case "status":
		modules, err := m.Status(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "MODULE\tMIGRATION\tSTATE\tAPPLIED AT")
		for _, mod := range modules {
			for _, st := range mod.Migrations {
				applied := ""
				if !st.AppliedAt.IsZero() {
					applied = st.AppliedAt.Format("2006-01-02 15:04:05")
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", mod.Module, st.Source.Path, st.State, applied)
			}
		}
		return w.Flush()
	default:
		return fmt.Errorf("unknown migrate command %q: want up, down or status", rest[0])
	}
}

func adminCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, log, rest, err := commandSetup("admin", args, stderr)
	if err != nil {
		return err
	}
	if len(rest) != 2 || (rest[0] != "grant" && rest[0] != "revoke") {
		return errors.New("usage: parley admin grant|revoke NICKNAME")
	}
	grant, nickname := rest[0] == "grant", rest[1]
	pool, closeDB, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeDB()
	users := user.New(pool, nil, user.Config{})
	if err := users.SetAdmin(ctx, nickname, grant); err != nil {
		if errors.Is(err, user.ErrNotFound) {
			return fmt.Errorf("no user with nickname %q", nickname)
		}
		return err
	}
	if grant {
		fmt.Fprintf(stdout, "%s is now an admin\n", nickname)
	} else {
		fmt.Fprintf(stdout, "%s is no longer an admin\n", nickname)
	}
	return nil
}
