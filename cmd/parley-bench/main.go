// Command parley-bench drives load against Parley with its own generated
// client and reports throughput, latency percentiles, errors, and the
// server's CPU and peak RSS, as a table and as JSON.
//
// It starts what it measures: a throwaway PostgreSQL cluster, `parley serve`
// on it (the binary -parley-bin), and a bare grpc-go server without
// interceptors as the reference, all on this machine beside the load, so
// figures are compared as ratios measured in the same run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// scenario is one measured situation of the list.
type scenario struct {
	name string
	// run measures and returns its rows; quick runs are short and small.
	run func(ctx context.Context, e *env) ([]Row, error)
}

var scenarios = []scenario{
	{"unary", runUnary},
	{"reads", runReads},
}

// env is what scenarios share: the servers and clients of the run.
type env struct {
	quick  bool
	phase  time.Duration // overrides duration, for the harness's own tests
	dir    string
	bin    string // the parley binary, for scenarios that start more nodes
	dbURL  string
	parley *process
	bare   *process
	pool   *pgxpool.Pool // Parley's database, for seeding
	conns  []*grpc.ClientConn
	bareCs []*grpc.ClientConn
}

// conn returns worker i's connection: load is spread over a few
// connections, as many clients would spread it.
func (e *env) conn(i int) *grpc.ClientConn     { return e.conns[i%len(e.conns)] }
func (e *env) bareConn(i int) *grpc.ClientConn { return e.bareCs[i%len(e.bareCs)] }

// duration is how long a load phase runs.
func (e *env) duration() time.Duration {
	if e.phase > 0 {
		return e.phase
	}
	if e.quick {
		return 3 * time.Second
	}
	return 8 * time.Second
}

// rounds is how many times a compared pair is measured (the median is kept).
func (e *env) rounds() int {
	if e.quick {
		return 1
	}
	return 3
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		if err := bareMain(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "parley-bench bare:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("parley-bench", flag.ContinueOnError)
	bin := fs.String("parley-bin", "bin/parley", "the parley binary to measure")
	quick := fs.Bool("quick", false, "short, small runs (make bench-quick)")
	only := fs.String("scenarios", "", "comma-separated scenarios to run (default all): "+scenarioNames())
	out := fs.String("json", "bench.json", "where to write the JSON report")
	phase := fs.Duration("phase", 0, "length of each load phase (default 3s quick, 8s full)")
	failOn := fs.String("fail-on", "targets", "what fails the run besides a scenario's error: targets (any missed) or integrity (only a lost, duplicated, reordered or wrong result; make bench-quick)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *failOn != "targets" && *failOn != "integrity" {
		return fmt.Errorf("-fail-on: %q is neither targets nor integrity", *failOn)
	}
	selected := scenarios
	if *only != "" {
		selected = nil
		for _, name := range strings.Split(*only, ",") {
			i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
			if i < 0 {
				return fmt.Errorf("unknown scenario %q (have %s)", name, scenarioNames())
			}
			selected = append(selected, scenarios[i])
		}
	}

	raiseFileLimit(wsFileLimit) // before parley starts: it inherits the limit
	e, cleanup, err := setup(ctx, *bin, *quick)
	if err != nil {
		return err
	}
	defer cleanup()
	e.phase = *phase

	report := Report{Machine: machine(), Started: time.Now()}
	var failed []string
	for _, s := range selected {
		fmt.Fprintf(os.Stderr, "== %s\n", s.name)
		w := e.parley.watch()
		rows, err := s.run(ctx, e)
		rows = append(rows, w.end(s.name)...)
		if err != nil {
			rows = append(rows, Row{Scenario: s.name, Metric: "error", Note: err.Error()})
			failed = append(failed, s.name)
		}
		report.Rows = append(report.Rows, rows...)
		failed = append(failed, failures(rows, *failOn == "integrity")...)
	}
	report.printTable(os.Stdout)
	if err := report.writeJSON(*out); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("missed: %s", strings.Join(failed, "; "))
	}
	return nil
}

func scenarioNames() string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	return strings.Join(names, ",")
}

// setup starts the servers and connects to them.
func setup(ctx context.Context, bin string, quick bool) (*env, func(), error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, nil, fmt.Errorf("parley binary %s: %w (make bench builds it)", bin, err)
	}
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return nil, nil, err
	}
	// The cluster inside may run as the postgres user, who must get through.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, nil, err
	}
	e := &env{quick: quick, dir: dir, bin: bin}
	var stops []func()
	cleanup := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		os.RemoveAll(dir)
	}
	fail := func(err error) (*env, func(), error) { cleanup(); return nil, nil, err }

	parley, dbURL, stopParley, err := startParley(ctx, bin, dir)
	if err != nil {
		return fail(err)
	}
	stops = append(stops, stopParley)
	e.parley, e.dbURL = parley, dbURL
	fmt.Fprintf(os.Stderr, "parley pid %d: gRPC %s, HTTP %s, pprof at http://%s/debug/pprof/\n", parley.cmd.Process.Pid, parley.Addr, parley.HTTP, parley.Admin)
	if e.bare, err = startBare(ctx); err != nil {
		return fail(err)
	}
	stops = append(stops, e.bare.Stop)
	if e.pool, err = pgxpool.New(ctx, dbURL); err != nil {
		return fail(err)
	}
	stops = append(stops, e.pool.Close)
	for range 8 {
		c, err := dial(parley.Addr)
		if err != nil {
			return fail(err)
		}
		b, err := dial(e.bare.Addr)
		if err != nil {
			return fail(err)
		}
		e.conns, e.bareCs = append(e.conns, c), append(e.bareCs, b)
		stops = append(stops, func() { c.Close(); b.Close() })
	}
	return e, cleanup, nil
}

func dial(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)))
}

// machine describes where the run happened.
func machine() string {
	host, _ := os.Hostname()
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		mem = strings.Fields(strings.SplitN(string(b), "\n", 2)[0])[1] + " kB"
	}
	return fmt.Sprintf("%s, %d CPUs, %s memory, %s/%s, %s", host, runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}
