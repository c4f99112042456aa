// Package pglocal runs a private PostgreSQL cluster from the machine's own
// PostgreSQL binaries, for `make run` without a database URL and for tests.
// PostgreSQL refuses to run as root, so as root the cluster runs as the
// `postgres` system user.
package pglocal

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// superuser is the cluster's bootstrap role. Its password is random, made
// at initdb and kept (mode 0600) in the cluster directory's passwordFile:
// other local users cannot connect to the loopback port.
const (
	superuser    = "parley"
	passwordFile = "password"
)

// Options tunes a cluster.
type Options struct {
	// Ephemeral trades durability for speed (no fsync): for test clusters.
	Ephemeral bool
	// Port to listen on; 0 picks a free one. A cluster restarted on its old
	// port is reached again by clients that kept its URL.
	Port int
}

// Cluster is a running local PostgreSQL server.
type Cluster struct {
	dir      string // holds pgdata/, the password and postgres.log
	password string
	bindir   string
	runAs    *user.User // nil when not root
	port     int
	started  bool // false when an already running cluster was reused
}

// Start initialises dir (once) and starts PostgreSQL on a free loopback
// port. If the cluster in dir is already running, it is reused.
func Start(ctx context.Context, dir string, opts Options) (*Cluster, error) {
	bindir, err := findBinDir()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bindir: bindir}
	if os.Geteuid() == 0 {
		if c.runAs, err = user.Lookup("postgres"); err != nil {
			return nil, errors.New("running as root, which PostgreSQL refuses, and there is no `postgres` user " +
				"to run it as: install PostgreSQL's server package (it creates the user) or run as another user")
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // run as root, the postgres user must reach the cluster inside
		return nil, err
	}
	if err := c.chown(dir); err != nil {
		return nil, err
	}
	if c.runAs != nil {
		if err := c.run(ctx, "pg_ctl", "--version"); err != nil {
			return nil, fmt.Errorf("the postgres user cannot reach %s (is a parent directory private to root?): "+
				"choose a data directory outside it: %w", dir, err)
		}
	}
	pgdata := c.pgdata()
	if _, err := os.Stat(filepath.Join(pgdata, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		pwfile, err := c.newPassword()
		if err != nil {
			return nil, err
		}
		args := []string{"-D", pgdata, "-U", superuser, "--auth=scram-sha-256", "--pwfile=" + pwfile,
			"-E", "UTF8", "--locale=C.UTF-8"}
		if opts.Ephemeral {
			args = append(args, "--no-sync")
		}
		if err := c.run(ctx, "initdb", args...); err != nil {
			return nil, err
		}
	}
	password, err := os.ReadFile(filepath.Join(dir, passwordFile)) //nolint:gosec // the cluster's own file, in the directory Parley was given
	if err != nil {
		return nil, fmt.Errorf("cluster password: %w (a cluster made before passwords were set has none: "+
			"remove %s to start afresh, or set the database URL)", err, dir)
	}
	c.password = strings.TrimSpace(string(password))
	if port, ok := c.runningPort(ctx); ok {
		c.port = port
		return c, nil
	}
	c.port = opts.Port
	if c.port == 0 {
		if c.port, err = freePort(); err != nil {
			return nil, err
		}
	}
	// TCP on loopback only, no Unix socket: its path length is limited.
	serverOpts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200", c.port)
	if opts.Ephemeral {
		serverOpts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	if err := c.run(ctx, "pg_ctl", "-D", pgdata, "-l", filepath.Join(dir, "postgres.log"),
		"-o", serverOpts, "-w", "-t", "60", "start"); err != nil {
		return nil, fmt.Errorf("%w (see %s)", err, filepath.Join(dir, "postgres.log"))
	}
	c.started = true
	return c, nil
}

// Port is the loopback port the cluster listens on.
func (c *Cluster) Port() int { return c.port }

// URL returns a connection URL for database on this cluster.
func (c *Cluster) URL(database string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", superuser, c.password, c.port, database)
}

// CreateDatabase creates database unless it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, database string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{database}.Sanitize())
	return err
}

// Stop shuts the server down if this Cluster started it.
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.started {
		return nil
	}
	return c.run(ctx, "pg_ctl", "-D", c.pgdata(), "-m", "fast", "-w", "stop")
}

// newPassword writes a random superuser password for initdb to read.
func (c *Cluster) newPassword() (string, error) {
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	path := filepath.Join(c.dir, passwordFile)
	if err := os.WriteFile(path, []byte(hex.EncodeToString(raw)+"\n"), 0o600); err != nil {
		return "", err
	}
	return path, c.chown(path)
}

func (c *Cluster) pgdata() string { return filepath.Join(c.dir, "pgdata") }

// runningPort reports the port of a server already running on pgdata.
func (c *Cluster) runningPort(ctx context.Context) (int, bool) {
	if c.run(ctx, "pg_ctl", "-D", c.pgdata(), "status") != nil {
		return 0, false
	}
	// postmaster.pid's fourth line is the port.
	pid, err := os.ReadFile(filepath.Join(c.pgdata(), "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	lines := strings.Split(string(pid), "\n")
	if len(lines) < 4 {
		return 0, false
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	return port, err == nil
}

func (c *Cluster) chown(path string) error {
	if c.runAs == nil {
		return nil
	}
	uid, gid := c.ids()
	return os.Chown(path, uid, gid)
}

func (c *Cluster) ids() (uid, gid int) {
	uid, _ = strconv.Atoi(c.runAs.Uid)
	gid, _ = strconv.Atoi(c.runAs.Gid)
	return uid, gid
}

// run runs one of PostgreSQL's programs, as the postgres user when root.
func (c *Cluster) run(ctx context.Context, program string, args ...string) error {
	path := filepath.Join(c.bindir, program)
	cmd := exec.CommandContext(ctx, path, args...) //nolint:gosec // PostgreSQL's own programs, from its bin directory
	if c.runAs != nil {
		uid, gid := c.ids()
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", program, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// findBinDir finds the newest PostgreSQL server binaries: Debian keeps them
// in /usr/lib/postgresql/<version>/bin, other systems on PATH.
func findBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL server binaries (pg_ctl, initdb) found: install them " +
		"(Debian: apt-get install postgresql) or set PARLEY_DATABASE_URL")
}

func pgVersion(bindir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(bindir)))
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
