package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary be the bare reference server too, as the
// harness starts it by running itself with "bare".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		if err := bareMain(os.Args[2:]); err != nil {
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// TestScenariosRunOnTinySizes keeps the harness working: it builds parley,
// runs every scenario with very short phases and checks the report holds
// each scenario's rows and every integrity row held (make bench-quick's
// rule). The speed figures themselves are not judged here.
func TestScenariosRunOnTinySizes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts parley")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "parley")
	build := exec.Command("go", "build", "-o", bin, "github.com/parley-im/parley/cmd/parley")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	out := filepath.Join(dir, "bench.json")
	// Tiny phases miss targets, which is not judged here; nothing may be
	// lost, duplicated, reordered or wrong at any size.
	err := run(context.Background(), []string{"-parley-bin", bin, "-quick", "-phase", "300ms", "-fail-on", "integrity", "-json", out})
	require.NoError(t, err)
	var report Report
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &report))
	seen := map[string]bool{}
	for _, row := range report.Rows {
		seen[row.Scenario] = true
		require.NotEqual(t, "error", row.Metric, "%s: %s", row.Scenario, row.Note)
	}
	for _, s := range scenarios {
		found := false
		for name := range seen {
			if name == s.name || len(name) > len(s.name) && name[:len(s.name)+1] == s.name+" " {
				found = true
			}
		}
		require.True(t, found, "scenario %s reported nothing", s.name)
	}
}
