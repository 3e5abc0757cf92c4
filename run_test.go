package invoiceexport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/load"
)

// copyCaptures copies the sample captures of provider into a new folder.
func copyCaptures(t *testing.T, provider string) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("testdata", "captures", provider)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("testdata/captures", p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755)
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func replay(t *testing.T, ctx context.Context, captures, out string) *Report {
	t.Helper()
	sink, err := load.NewFolder(out)
	if err != nil {
		t.Fatal(err)
	}
	return Run(ctx, Options{
		AsOf:            time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC),
		Providers:       []string{"warpstream"},
		Config:          noConfig(),
		Source:          extract.Dir(captures),
		Sink:            sink,
		RunID:           "test-run",
		RestatementDays: 5,
	})
}

func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			s := sha256.Sum256(b)
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)] = hex.EncodeToString(s[:])
		}
		return nil
	})
	return out
}

// A period that fails leaves its previous partition exactly as it was; the
// other periods are written; the failure names provider, period, the
// capture and the position.
func TestFailedPeriodKeepsItsPreviousPartition(t *testing.T) {
	captures, out := copyCaptures(t, "warpstream"), t.TempDir()
	if rep := replay(t, context.Background(), captures, out); !rep.OK() || len(rep.Partitions) != 2 {
		t.Fatalf("first run: %+v", rep)
	}
	before := hashTree(t, out)

	brk := filepath.Join(captures, "warpstream/invoice_breakdowns/2026-10.json")
	b, _ := os.ReadFile(brk)
	os.WriteFile(brk, b[:len(b)/3], 0o644) // truncated capture
	rep := replay(t, context.Background(), captures, out)
	if rep.OK() || len(rep.Failures) != 1 || len(rep.Partitions) != 1 || rep.Partitions[0].Period.String() != "2026-11" {
		t.Fatalf("report = %+v", rep)
	}
	msg := rep.Err().Error()
	for _, want := range []string{"warpstream 2026-10", "invoice_breakdowns/2026-10.json", "at byte", "truncated"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure %q does not mention %q", msg, want)
		}
	}
	after := hashTree(t, out)
	for k, v := range before {
		if strings.Contains(k, "2026-10") && after[k] != v {
			t.Errorf("%s changed although its period failed", k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok && !strings.HasPrefix(k, ".staging") {
			t.Errorf("unexpected new file %s", k)
		}
	}
}

// A run stopped by its deadline commits nothing late.
func TestCancelledRunWritesNothing(t *testing.T) {
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := replay(t, ctx, copyCaptures(t, "warpstream"), out)
	if rep.OK() || len(rep.Partitions) != 0 {
		t.Fatalf("report = %+v", rep)
	}
	for k := range hashTree(t, out) {
		if !strings.HasPrefix(k, ".staging") {
			t.Errorf("a cancelled run wrote %s", k)
		}
	}
}

// Runs that succeed, fail or are cancelled leave no goroutine and no open
// file behind (bodies are spooled to unlinked temporary files: a leaked
// one would hold disk space until the process ends, in a warm Lambda for
// hours).
func TestRunLeaksNothing(t *testing.T) {
	fds := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd")
		}
		return len(entries)
	}
	good := copyCaptures(t, "warpstream")
	bad := copyCaptures(t, "warpstream")
	brk := filepath.Join(bad, "warpstream/invoice_breakdowns/2026-10.json")
	b, _ := os.ReadFile(brk)
	os.WriteFile(brk, b[:len(b)/2], 0o644)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	runs := func() {
		for range 3 {
			replay(t, context.Background(), good, t.TempDir())
			replay(t, context.Background(), bad, t.TempDir())
			replay(t, cancelled, good, t.TempDir())
		}
	}
	runs() // warm up: pools, the runtime's own goroutines
	goroutines, files := runtime.NumGoroutine(), fds()
	runs()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after 9 runs, %d before:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
	}
	if n := fds(); n > files {
		t.Errorf("%d open files after 9 runs, %d before", n, files)
	}
}

// noConfig is every provider's configuration with nothing set: what a
// replay needs.
func noConfig() Configs {
	c, err := ReadConfigs(func(string) string { return "" })
	if err != nil {
		panic(err)
	}
	return c
}
