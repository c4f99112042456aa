package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/parley-im/parley/platform/pglocal"
)

// GatewaySecret is the edge-gateway credential of the servers the harness starts.
const GatewaySecret = "bench-gateway-secret"

// process is a server the harness started, measured through /proc.
type process struct {
	cmd   *exec.Cmd
	Addr  string // gRPC address
	HTTP  string // HTTP address, for Parley
	Admin string // Parley's /metrics and /debug/pprof/
}

// startProcess runs bin with args and waits until ready answers.
func startProcess(ctx context.Context, bin string, args []string, ready func() bool) (*process, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !ready() {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			return nil, fmt.Errorf("%s did not become ready", bin)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &process{cmd: cmd}, nil
}

// Stop ends the process with SIGTERM and waits for it.
func (p *process) Stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// CPUSeconds is the CPU time the process has used.
func (p *process) CPUSeconds() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are the
	// 14th and 15th fields, in clock ticks (100 a second on Linux).
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100
}

// RSSBytes is the process's resident memory now.
func (p *process) RSSBytes() int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// watch samples the process while a scenario runs: CPU used and peak RSS.
type watch struct {
	p        *process
	cpu0     float64
	start    time.Time
	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	peakRSS  int64
	baseline int64
}

func (p *process) watch() *watch {
	w := &watch{p: p, cpu0: p.CPUSeconds(), start: time.Now(), stop: make(chan struct{}), done: make(chan struct{}), baseline: p.RSSBytes()}
	w.peakRSS = w.baseline
	go func() {
		defer close(w.done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				rss := p.RSSBytes()
				w.mu.Lock()
				w.peakRSS = max(w.peakRSS, rss)
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// stopRSS stops sampling and returns the RSS when the watch began and its peak since.
func (w *watch) stopRSS() (baseline, peak int64) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.baseline, w.peakRSS
}

// end stops sampling and returns the rows: server CPU (cores used) and peak RSS.
func (w *watch) end(scenario string) []Row {
	_, peak := w.stopRSS()
	elapsed := time.Since(w.start).Seconds()
	cpu := (w.p.CPUSeconds() - w.cpu0) / elapsed
	return []Row{
		info(scenario, "server CPU", cpu, "cores"),
		info(scenario, "server peak RSS", float64(peak)/(1<<20), "MiB"),
	}
}

// startParley starts a throwaway PostgreSQL cluster and `parley serve` on it.
func startParley(ctx context.Context, bin, dir string) (*process, string, func(), error) {
	cluster, err := pglocal.Start(ctx, filepath.Join(dir, "postgres"), pglocal.Options{})
	if err != nil {
		return nil, "", nil, err
	}
	if err := cluster.CreateDatabase(ctx, "parley"); err != nil {
		_ = cluster.Stop(ctx)
		return nil, "", nil, err
	}
	dbURL := cluster.URL("parley")
	p, err := startNode(ctx, bin, dbURL, dir)
	if err != nil {
		_ = cluster.Stop(ctx)
		return nil, "", nil, err
	}
	stop := func() {
		p.Stop()
		_ = cluster.Stop(context.Background())
	}
	return p, dbURL, stop, nil
}

// startNode starts `parley serve` on the database at dbURL, with its files
// under dir and extra flags, and waits until it is ready.
func startNode(ctx context.Context, bin, dbURL, dir string, extra ...string) (*process, error) {
	grpcAddr, httpAddr, adminAddr := freeAddr(), freeAddr(), freeAddr()
	p, err := startProcess(ctx, bin, append([]string{"serve",
		"-database-url", dbURL, "-grpc-addr", grpcAddr, "-http-addr", httpAddr, "-admin-addr", adminAddr,
		"-data-dir", dir, "-storage-dir", filepath.Join(dir, "media"), "-log-level", "warn",
		"-send-rate", "1000000", "-send-burst", "1000000", "-gateway-secret", GatewaySecret,
		"-gateway-queue", "4096", "-pprof",
		// Every client of the benchmarks is on loopback.
		"-max-conns-per-ip", "0",
	}, extra...), func() bool {
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		return nil, err
	}
	p.Addr, p.HTTP, p.Admin = grpcAddr, httpAddr, adminAddr
	return p, nil
}

// startBare starts this binary's bare gRPC server (no interceptors).
func startBare(ctx context.Context) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr := freeAddr()
	p, err := startProcess(ctx, self, []string{"bare", "-addr", addr}, func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	if err != nil {
		return nil, err
	}
	p.Addr = addr
	return p, nil
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}
