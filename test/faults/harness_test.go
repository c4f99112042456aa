//go:build faults

// Package faults injects faults into a real Parley process on a real
// PostgreSQL cluster: a SIGKILL under load, a database outage, a SIGTERM
// under load. Each test builds bin/parley, starts its own durable cluster
// (fsync on) and runs parley as a subprocess. Run with
//
//	GOTOOLCHAIN=go1.27.3 go test -race -tags faults -count=1 -timeout 15m ./test/faults/
package faults

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/platform/pglocal"
)

var (
	buildOnce sync.Once
	buildDir  string
	builtBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// parleyBin builds cmd/parley once per test binary, as `make build` does.
func parleyBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "parley-faults-bin-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "parley")
		cmd := exec.Command("go", "build", "-trimpath", "-o", builtBin, "github.com/parley-im/parley/cmd/parley")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w: %s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return builtBin
}

// env is one test's world: a durable PostgreSQL cluster with a parley
// database, and the parley binary.
type env struct {
	t   *testing.T
	dir string
	bin string

	mu      sync.Mutex
	cluster *pglocal.Cluster // the running cluster, nil while stopped
	port    int
	dbURL   string
	starts  int // servers started so far, to name their logs
}

// setup starts a cluster with fsync on (not Ephemeral: crash durability is
// what these tests check) and removes it when the test ends.
func setup(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, bin: parleyBin(t)}
	dir, err := os.MkdirTemp("", "parley-faults-")
	require.NoError(t, err)
	// As root the cluster runs as the postgres user, which must reach it.
	require.NoError(t, os.Chmod(dir, 0o755))
	e.dir = dir
	t.Cleanup(func() {
		e.mu.Lock()
		c := e.cluster
		e.cluster = nil
		e.mu.Unlock()
		if c != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := c.Stop(ctx); err != nil {
				t.Logf("stop cluster: %v", err)
			}
		}
		// A failed test has logged the tail of parley's log already.
		os.RemoveAll(dir)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pglocal.Start(ctx, filepath.Join(dir, "postgres"), pglocal.Options{})
	require.NoError(t, err)
	e.cluster, e.port = c, c.Port()
	require.NoError(t, c.CreateDatabase(ctx, "parley"))
	e.dbURL = c.URL("parley")
	return e
}

// stopDB stops PostgreSQL (pg_ctl stop -m fast).
func (e *env) stopDB(ctx context.Context) {
	e.t.Helper()
	e.mu.Lock()
	c := e.cluster
	e.cluster = nil
	e.mu.Unlock()
	require.NotNil(e.t, c, "the cluster is not running")
	require.NoError(e.t, c.Stop(ctx))
}

// startDB starts PostgreSQL again on its old port, so URLs stay valid.
func (e *env) startDB(ctx context.Context) {
	e.t.Helper()
	c, err := pglocal.Start(ctx, filepath.Join(e.dir, "postgres"), pglocal.Options{Port: e.port})
	require.NoError(e.t, err)
	require.Equal(e.t, e.port, c.Port())
	e.mu.Lock()
	e.cluster = c
	e.mu.Unlock()
}

// server is one parley process.
type server struct {
	t        *testing.T
	cmd      *exec.Cmd
	GRPC     string
	HTTP     string
	Admin    string // /metrics and /debug/pprof/
	logPath  string
	done     chan struct{} // closed when the process has exited
	waitErr  error         // set before done closes
	exitedAt time.Time
}

// startServer runs `parley serve` on the env's database and waits for
// /readyz. It is killed at test end if still running.
func (e *env) startServer(extra ...string) *server {
	t := e.t
	t.Helper()
	e.mu.Lock()
	e.starts++
	n := e.starts
	e.mu.Unlock()
	s := &server{t: t, GRPC: freeAddr(t), HTTP: freeAddr(t), Admin: freeAddr(t), done: make(chan struct{}),
		logPath: filepath.Join(e.dir, fmt.Sprintf("parley-%d.log", n))}
	logFile, err := os.Create(s.logPath)
	require.NoError(t, err)
	args := append([]string{"serve",
		"-database-url", e.dbURL, "-grpc-addr", s.GRPC, "-http-addr", s.HTTP, "-admin-addr", s.Admin,
		"-data-dir", filepath.Join(e.dir, "data"), "-storage-dir", filepath.Join(e.dir, "media"),
		"-log-level", "warn", "-send-rate", "1000000", "-send-burst", "1000000",
		// Every client of these tests is on loopback; a test of the limit sets its own.
		"-max-conns-per-ip", "0",
	}, extra...)
	s.cmd = exec.Command(e.bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, s.cmd.Start())
	go func() {
		s.waitErr = s.cmd.Wait()
		s.exitedAt = time.Now()
		logFile.Close()
		close(s.done)
	}()
	t.Cleanup(func() {
		if s.running() {
			_ = s.cmd.Process.Kill()
		}
		<-s.done
		if t.Failed() {
			s.logTail(40)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, ok := readyz(s.HTTP, 2*time.Second); ok && code == http.StatusOK {
			return s
		}
		if !s.running() {
			s.logTail(40)
			t.Fatalf("parley exited before it was ready: %v", s.waitErr)
		}
		if time.Now().After(deadline) {
			s.logTail(40)
			t.Fatalf("parley not ready within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *server) running() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// kill ends the process with SIGKILL and waits for it.
func (s *server) kill() {
	require.NoError(s.t, s.cmd.Process.Signal(syscall.SIGKILL))
	<-s.done
}

// logTail logs the last n lines the process wrote.
func (s *server) logTail(n int) {
	f, err := os.Open(s.logPath)
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s.t.Logf("last lines of %s:\n%s", s.logPath, strings.Join(lines, "\n"))
}

// logLines returns the lines of the process's log containing substr.
func (s *server) logLines(substr string) []string {
	b, _ := os.ReadFile(s.logPath)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

// readyz asks /readyz; ok is false when no HTTP answer came within timeout.
func readyz(addr string, timeout time.Duration) (code int, ok bool) {
	c := http.Client{Timeout: timeout}
	resp, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, false
	}
	resp.Body.Close()
	return resp.StatusCode, true
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// dial connects to the server; the connection closes when the test ends.
func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// user is a user seeded straight into the database, with a login token.
type user struct {
	ID    uint64
	Token string
}

// ctx returns ctx carrying the user's token (and any extra metadata pairs).
func (u user) ctx(ctx context.Context, kv ...string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, append([]string{"authorization", "Bearer " + u.Token}, kv...)...)
}

// seedUsers inserts n users with one token each, by SQL (the server must
// have migrated the database). The password hash is a placeholder: these
// users never log in.
func (e *env) seedUsers(ctx context.Context, prefix string, n int) []user {
	t := e.t
	t.Helper()
	conn, err := pgx.Connect(ctx, e.dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	users := make([]user, n)
	for i := range users {
		name := fmt.Sprintf("%s%d", prefix, i)
		var id int64
		require.NoError(t, conn.QueryRow(ctx, `
			INSERT INTO users.users (nickname, nickname_folded, password_hash)
			VALUES ($1, lower($1), 'placeholder') RETURNING id`, name).Scan(&id))
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		token := base64.RawURLEncoding.EncodeToString(raw)
		sum := sha256.Sum256([]byte(token))
		_, err := conn.Exec(ctx, `INSERT INTO users.tokens (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
			sum[:], id, time.Now().Add(24*time.Hour))
		require.NoError(t, err)
		users[i] = user{ID: uint64(id), Token: token}
	}
	return users
}

// createGroup makes a group owned by members[0] holding every member. The
// others are added by SQL, as seedUsers adds users: a join through the API
// stores a JOINED event in the group's conversation, and these tests count
// on the conversation holding their own sends alone (the group events'
// crash test makes its joins through the API).
func (e *env) createGroup(ctx context.Context, conn *grpc.ClientConn, name string, members []user) uint64 {
	t := e.t
	t.Helper()
	gc := grouppb.NewGroupServiceClient(conn)
	resp, err := gc.CreateGroup(members[0].ctx(ctx), &grouppb.CreateGroupRequest{Name: name})
	require.NoError(t, err)
	id := resp.GetGroup().GetId()
	others := make([]int64, 0, len(members)-1)
	for _, m := range members[1:] {
		others = append(others, int64(m.ID))
	}
	db, err := pgx.Connect(ctx, e.dbURL)
	require.NoError(t, err)
	defer db.Close(ctx)
	_, err = db.Exec(ctx, `
		WITH added AS (
			INSERT INTO groups.members (group_id, user_id) SELECT $1, u FROM unnest($2::bigint[]) AS u RETURNING 1
		)
		UPDATE groups.groups SET member_count = member_count + (SELECT count(*) FROM added) WHERE id = $1`,
		int64(id), others)
	require.NoError(t, err)
	return id
}

func pairConv(a, b uint64) string {
	if a > b {
		a, b = b, a
	}
	return fmt.Sprintf("u:%d:%d", a, b)
}

func groupConv(id uint64) string { return fmt.Sprintf("g:%d", id) }

// syncAll reads a whole conversation with SyncMessages, as reader.
func syncAll(ctx context.Context, conn *grpc.ClientConn, reader user, conv string) ([]*messagepb.Message, error) {
	mc := messagepb.NewMessageServiceClient(conn)
	var all []*messagepb.Message
	var after uint64
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := mc.SyncMessages(reader.ctx(cctx), &messagepb.SyncMessagesRequest{ConversationId: conv, AfterSeq: after, Limit: 200})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("sync %s after %d: %w", conv, after, err)
		}
		msgs := resp.GetMessage()
		all = append(all, msgs...)
		if !resp.GetHasMore() {
			return all, nil
		}
		if len(msgs) == 0 {
			return nil, errors.New("has_more with no messages")
		}
		after = msgs[len(msgs)-1].GetSeq()
	}
}

// checkSeqs reports whether msgs have seqs 1, 2, 3… in order, no gaps or repeats.
func checkSeqs(conv string, msgs []*messagepb.Message) error {
	for i, m := range msgs {
		if m.GetSeq() != uint64(i+1) {
			return fmt.Errorf("%s: message %d (id %d) has seq %d, want %d", conv, i, m.GetId(), m.GetSeq(), i+1)
		}
		if m.GetConversationId() != conv {
			return fmt.Errorf("%s: message id %d says conversation %q", conv, m.GetId(), m.GetConversationId())
		}
	}
	return nil
}
