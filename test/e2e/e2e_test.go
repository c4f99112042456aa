//go:build e2e

// Package e2e runs the web page end to end: `parley serve` on its own local
// PostgreSQL cluster, and web/e2e/chat.mjs driving Debian's Chromium with
// playwright-core (make test-e2e). Screenshots are kept in
// $E2E_ARTIFACTS (default artifacts/e2e at the repository root).
package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTwoBrowsersChatLive(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	artifacts := os.Getenv("E2E_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(root, "artifacts", "e2e")
	}
	require.NoError(t, os.MkdirAll(artifacts, 0o755))

	dir, err := os.MkdirTemp("", "parley-e2e-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755)) // the cluster may run as the postgres user
	bin := filepath.Join(dir, "parley")
	build := exec.Command("go", "build", "-o", bin, "./cmd/parley")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	require.NoError(t, build.Run())

	httpAddr := freeAddr(t)
	logFile, err := os.Create(filepath.Join(artifacts, "parley.log"))
	require.NoError(t, err)
	defer logFile.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serve := exec.CommandContext(ctx, bin, "serve", "-data-dir", filepath.Join(dir, "data"),
		"-storage-dir", filepath.Join(dir, "media"), "-grpc-addr", freeAddr(t), "-http-addr", httpAddr, "-admin-addr", "", "-log-level", "warn")
	serve.Stdout, serve.Stderr = logFile, logFile
	serve.Cancel = func() error { return serve.Process.Signal(os.Interrupt) } // stop its cluster too
	serve.WaitDelay = 30 * time.Second
	require.NoError(t, serve.Start())
	t.Cleanup(func() { cancel(); _ = serve.Wait() })
	base := "http://" + httpAddr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 90*time.Second, 200*time.Millisecond, "parley did not become ready (see %s)", logFile.Name())

	node := exec.Command("node", "chat.mjs", base, artifacts)
	node.Dir = filepath.Join(root, "web", "e2e")
	out, err := node.CombinedOutput()
	t.Logf("%s", out)
	require.NoError(t, err, "the browser test failed; screenshots and the server log are in %s", artifacts)
	for _, shot := range []string{"alice-laptop.png", "bob-phone.png"} {
		info, err := os.Stat(filepath.Join(artifacts, shot))
		require.NoError(t, err)
		require.NotZero(t, info.Size())
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return fmt.Sprint(l.Addr())
}
