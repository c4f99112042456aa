package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/internal/parley/parleytest"
	"github.com/parley-im/parley/migrations"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/database"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
	"github.com/parley-im/parley/platform/testserver"
)

// The cluster's presence timings: a grace of a second, a beat every
// 300 ms, so a node is dead 900 ms after its last beat and swept within a
// beat after that.
const (
	presGrace = time.Second
	presBeat  = 300 * time.Millisecond
	presDead  = 3 * presBeat
	// presBound is how soon a dead node's users must be offline for the
	// others: dead, a sweep, and slack for a loaded machine.
	presBound = presDead + presBeat + 3*time.Second
)

// The environment of a node run as a separate process (presNodeProcess),
// so it can be killed with SIGKILL: a real death, with no goodbye.
const (
	presNodeEnv = "PARLEY_TEST_PRESENCE_NODE" // its node id; set only in the child
	presDBEnv   = "PARLEY_TEST_PRESENCE_DB"
	presNATSEnv = "PARLEY_TEST_PRESENCE_NATS"
	presBeatEnv = "PARLEY_TEST_PRESENCE_BEAT"
	presDirEnv  = "PARLEY_TEST_PRESENCE_DIR"
)

// A child process started by presStartProcess runs a node and nothing
// else, until it is killed; it never reaches the tests.
func init() {
	if id := os.Getenv(presNodeEnv); id != "" {
		presNodeProcess(id)
	}
}

// presNodeProcess serves a node as parleytest.Serve does, prints its gRPC
// address and waits to be killed.
func presNodeProcess(nodeID string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "presence node:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	beat, err := time.ParseDuration(os.Getenv(presBeatEnv))
	if err != nil {
		fail(err)
	}
	pool, err := database.Open(ctx, os.Getenv(presDBEnv), 8)
	if err != nil {
		fail(err)
	}
	cfg := config.Default()
	cfg.DataDir, cfg.StorageDir = os.Getenv(presDirEnv)+"/data", os.Getenv(presDirEnv)+"/media"
	cfg.NATSURL, cfg.NodeID = os.Getenv(presNATSEnv), nodeID
	app, err := parley.Build(ctx, cfg, pool, parley.Options{
		Log:            zerolog.New(os.Stderr).Level(zerolog.WarnLevel),
		PasswordParams: testkit.CheapHashing, PresenceGrace: presGrace, PresenceBeat: beat,
	})
	if err != nil {
		fail(err)
	}
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	fmt.Println("grpc", grpcLis.Addr().String())
	fail(app.Run(ctx, grpcLis, httpLis, time.Second))
}

// presEnv is a cluster of its own: a database no other test's nodes
// sweep, and a NATS server.
type presEnv struct {
	t     *testing.T
	url   string
	pool  *pgxpool.Pool
	nats  *clusterNATS
	nodes int
}

func presSetup(t *testing.T) *presEnv {
	t.Helper()
	ctx := context.Background()
	url := testdb.EmptyURL(t)
	pool, err := database.Open(ctx, url, 8)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	migrator, err := database.NewMigrator(pool, migrations.All())
	require.NoError(t, err)
	_, err = migrator.Up(ctx)
	migrator.Close()
	require.NoError(t, err)
	return &presEnv{t: t, url: url, pool: pool, nats: clusterStartNATS(t, 0)}
}

// nodeID is a new node id.
func (e *presEnv) nodeID() string {
	e.nodes++
	return fmt.Sprintf("pres-%d-%s", e.nodes, uniqueNickname(""))
}

// serve runs a node in this process under nodeID.
func (e *presEnv) serve(nodeID string) *clusterNode {
	cfg := parleytest.Config(e.t)
	cfg.NATSURL, cfg.NodeID = e.nats.url(), nodeID
	opts := parleytest.Options()
	opts.Log = zerolog.Nop()
	opts.PresenceGrace, opts.PresenceBeat = presGrace, presBeat
	served := parleytest.Serve(e.t, cfg, e.pool, opts)
	return &clusterNode{name: nodeID, conn: served.Conn, stop: served.Stop}
}

// presProcess is a node in a child process.
type presProcess struct {
	*clusterNode
	cmd    *exec.Cmd
	done   chan struct{}
	stderr *bytes.Buffer
}

// startProcess runs a node under nodeID, beating every beat, in a child
// process, and connects to it.
func (e *presEnv) startProcess(nodeID string, beat time.Duration) *presProcess {
	t := e.t
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), presNodeEnv+"="+nodeID, presDBEnv+"="+e.url, presNATSEnv+"="+e.nats.url(),
		presBeatEnv+"="+beat.String(), presDirEnv+"="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &presProcess{cmd: cmd, done: make(chan struct{}), stderr: &bytes.Buffer{}}
	cmd.Stderr = &lockedWriter{w: p.stderr}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("node %s wrote:\n%s", nodeID, p.stderr.String())
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "grpc "); ok {
				addr <- rest
			}
		}
	}()
	select {
	case a := <-addr:
		p.clusterNode = &clusterNode{name: nodeID, conn: testserver.Dial(t, a)}
	case <-p.done:
		t.Fatalf("node %s exited: %s", nodeID, p.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("node %s did not start", nodeID)
	}
	return p
}

// kill ends the node with SIGKILL: it writes nothing more, no goodbye.
func (p *presProcess) kill(t *testing.T) time.Time {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
	return time.Now()
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// presNext is the next presence push of userID on d (other users' are
// skipped), within wait.
func presNext(t *testing.T, d *parleytest.Stream, userID uint64, wait time.Duration) *userpb.Presence {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case f := <-d.Presence:
			p := &userpb.Presence{}
			require.NoError(t, proto.Unmarshal(f.GetData(), p))
			if p.GetUserId() == userID {
				return p
			}
		case <-deadline:
			t.Fatalf("no presence of user %d within %s", userID, wait)
		}
	}
}

// presQuiet requires no presence push of userID on d within wait.
func presQuiet(t *testing.T, d *parleytest.Stream, userID uint64, wait time.Duration) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case f := <-d.Presence:
			p := &userpb.Presence{}
			require.NoError(t, proto.Unmarshal(f.GetData(), p))
			require.NotEqual(t, userID, p.GetUserId(), "unexpected presence push: %v", p)
		case <-deadline:
			return
		}
	}
}

func presOf(t *testing.T, node *clusterNode, viewer clusterUser, userID uint64) *userpb.Presence {
	t.Helper()
	resp, err := userpb.NewUserServiceClient(node.conn).GetPresence(viewer.ctx(), &userpb.GetPresenceRequest{UserId: []uint64{userID}})
	require.NoError(t, err)
	require.Len(t, resp.GetPresence(), 1)
	return resp.GetPresence()[0]
}

// presSessions counts the presence rows left under nodeID.
func (e *presEnv) presSessions(t *testing.T, nodeID string) (sessions, nodes int) {
	t.Helper()
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT (SELECT count(*) FROM users.presence_sessions WHERE node_id = $1),
		        (SELECT count(*) FROM users.presence_nodes WHERE node_id = $1)`, nodeID).Scan(&sessions, &nodes))
	return sessions, nodes
}

// A user online on one node is online for every node, and its contacts'
// devices on other nodes are told; moving to another node within the
// grace is no offline. A node that dies (SIGKILL) takes its users offline
// for the others within the bound, last seen at its last beat.
func TestClusterPresence(t *testing.T) {
	t.Parallel()
	e := presSetup(t)
	a, b := e.serve(e.nodeID()), e.serve(e.nodeID())
	ann, bob, cat := clusterSignUp(t, a), clusterSignUp(t, b), clusterSignUp(t, a)
	clusterSendText(t, a, ann, bob.id, "hi bob")
	_, err := userpb.NewUserServiceClient(b.conn).FollowUser(cat.ctx(), &userpb.FollowUserRequest{UserId: ann.id})
	require.NoError(t, err)
	bobOnB := clusterDeviceOf(t, b, bob, "bob-phone")
	catOnA := clusterDeviceOf(t, a, cat, "cat-phone")

	annOnA := clusterDeviceOf(t, a, ann, "ann-phone")
	for _, d := range []*parleytest.Stream{bobOnB, catOnA} {
		p := presNext(t, d, ann.id, clusterWait)
		require.True(t, p.GetOnline(), "%v", p)
	}
	require.True(t, presOf(t, b, bob, ann.id).GetOnline(), "online on a is online seen from b")

	// ann moves from a to b within the grace: nobody is told anything.
	annOnA.Cancel()
	<-annOnA.Done
	annOnB := clusterDeviceOf(t, b, ann, "ann-laptop")
	presQuiet(t, bobOnB, ann.id, presGrace+time.Second)
	presQuiet(t, catOnA, ann.id, 100*time.Millisecond)
	require.True(t, presOf(t, a, cat, ann.id).GetOnline())

	// Gone from b too: offline for every node, after the grace.
	annOnB.Cancel()
	<-annOnB.Done
	for _, d := range []*parleytest.Stream{bobOnB, catOnA} {
		p := presNext(t, d, ann.id, clusterWait)
		require.False(t, p.GetOnline(), "%v", p)
		require.NotNil(t, p.GetLastSeenAt(), "%v", p)
	}

	// dan is online on c, which dies: bob, on b, is told dan is offline
	// within the bound, last seen at c's last beat.
	cID := e.nodeID()
	c := e.startProcess(cID, presBeat)
	dan := clusterSignUp(t, c.clusterNode)
	clusterSendText(t, c.clusterNode, dan, bob.id, "hi from c")
	clusterDeviceOf(t, c.clusterNode, dan, "dan-phone")
	require.True(t, presNext(t, bobOnB, dan.id, clusterWait).GetOnline())
	require.True(t, presOf(t, a, bob, dan.id).GetOnline())

	killed := c.kill(t)
	p := presNext(t, bobOnB, dan.id, presBound)
	took := time.Since(killed)
	require.False(t, p.GetOnline(), "%v", p)
	require.NotNil(t, p.GetLastSeenAt(), "%v", p)
	seen := p.GetLastSeenAt().AsTime()
	require.WithinRange(t, seen, killed.Add(-presBeat-time.Second), killed, "last seen at c's last beat")
	require.GreaterOrEqual(t, took, presDead-presBeat, "offline before c could have been dead: %s", took)
	t.Logf("offline %s after the kill (bound %s)", took, presBound)
	got := presOf(t, a, bob, dan.id)
	require.False(t, got.GetOnline())
	require.Equal(t, seen, got.GetLastSeenAt().AsTime())
	sessions, nodes := e.presSessions(t, cID)
	require.Zero(t, sessions, "the dead node's sessions are gone")
	require.Zero(t, nodes, "the dead node's row is gone")
}

// A node restarting under the id of one that died (-node-id) ends the
// sessions it left as a dead predecessor's, at once: its users go offline
// long before the others would sweep it.
func TestClusterPresenceRestartClaimsADeadPredecessor(t *testing.T) {
	t.Parallel()
	e := presSetup(t)
	b := e.serve(e.nodeID())
	bob := clusterSignUp(t, b)
	bobOnB := clusterDeviceOf(t, b, bob, "bob-phone")

	// c beats every minute: it is dead for the others only after three.
	cID := e.nodeID()
	c := e.startProcess(cID, time.Minute)
	dan := clusterSignUp(t, c.clusterNode)
	clusterSendText(t, c.clusterNode, dan, bob.id, "hi from c")
	clusterDeviceOf(t, c.clusterNode, dan, "dan-phone")
	require.True(t, presNext(t, bobOnB, dan.id, clusterWait).GetOnline())
	killed := c.kill(t)
	sessions, _ := e.presSessions(t, cID)
	require.Equal(t, 1, sessions, "the killed node said no goodbye")

	e.serve(cID)
	p := presNext(t, bobOnB, dan.id, clusterWait)
	require.False(t, p.GetOnline(), "%v", p)
	require.Less(t, time.Since(killed), 30*time.Second)
	require.True(t, p.GetLastSeenAt().AsTime().Before(killed), "last seen at the predecessor's last beat: %v", p)
	require.False(t, presOf(t, b, bob, dan.id).GetOnline())
	sessions, nodes := e.presSessions(t, cID)
	require.Zero(t, sessions)
	require.Equal(t, 1, nodes, "the new node's own row")
}
