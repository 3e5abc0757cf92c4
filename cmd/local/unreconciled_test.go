package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
)

// A vendor that keeps a closed month's final invoice but stops sending its
// lines (empty WarpStream breakdowns, CockroachDB invoices without items)
// does not replace the reconciled month: that period fails with one line
// saying what the vendor now sends and how to accept it, and its files
// stay byte for byte. The open month, whose invoices are still pending or
// draft, is replaced as always. --accept-unreconciled lets the closed
// month through, and its manifest says so.
func TestClosedMonthNotReplacedByUnreconciled(t *testing.T) {
	caps := testkit.CopyCaptures(t, filepath.Join(repoRoot, "testdata/captures"))
	out := t.TempDir()
	run := func(extra ...string) (int, string, string) {
		return runLocal(t, nil, append([]string{"--in", caps, "--as-of", sampleAsOf, "--out", out}, extra...)...)
	}
	if code, _, stderr := run(); code != 0 {
		t.Fatalf("good run: exit %d: %s", code, stderr)
	}
	closed := []string{"warpstream", "cockroachdb"} // their 2026-10 invoices are final
	partition := func(provider, period string) map[string]string {
		files := map[string]string{}
		for _, table := range []string{"charge_lines", "invoices"} {
			k := table + "/provider=" + provider + "/billing_period=" + period + "/part-00000.parquet"
			sha, _ := fileSHA(t, filepath.Join(out, k))
			files[k] = sha
		}
		m, err := os.ReadFile(filepath.Join(out, "_manifests", "provider="+provider, "billing_period="+period+".json"))
		if err != nil {
			t.Fatal(err)
		}
		files["manifest"] = string(m)
		return files
	}
	before := map[string]map[string]string{}
	for _, p := range closed {
		before[p+" 2026-10"] = partition(p, "2026-10")
		before[p+" 2026-11"] = partition(p, "2026-11")
	}

	testkit.DropLines(t, caps, "2026-10")
	testkit.DropLines(t, caps, "2026-11")
	code, stdout, stderr := run()
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	var failed []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(l, "invoice-export: ") {
			failed = append(failed, l)
		}
	}
	if len(failed) != 2 {
		t.Fatalf("want one FAILED line per closed month, got:\n%s", stderr)
	}
	for i, p := range closed {
		l := failed[i]
		var m struct {
			RunID string `json:"run_id"`
			Rows  int64
		}
		json.Unmarshal([]byte(before[p+" 2026-10"]["manifest"]), &m)
		for _, want := range []string{
			"invoice-export: FAILED " + p + " 2026-10: not replacing the partition, which reconciled, with one that does not: the vendor now sends ",
			fmt.Sprintf(" lines (run %s exported %d, reconciled): final ", m.RunID, m.Rows),
			"against its total of ",
			"--accept-unreconciled",
			`"accept_unreconciled": true`,
		} {
			if !strings.Contains(l, want) {
				t.Errorf("%s: %q does not say %q", p, l, want)
			}
		}
		if got := partition(p, "2026-10"); !mapsEqual(got, before[p+" 2026-10"]) {
			t.Errorf("%s 2026-10 changed although its replacement was refused", p)
		}
		if got := partition(p, "2026-11"); mapsEqual(got, before[p+" 2026-11"]) {
			t.Errorf("%s 2026-11, an open month, was not replaced", p)
		}
	}
	if !strings.Contains(stderr, "FAILED warpstream 2026-10") || strings.Contains(stderr, "FAILED spectrocloud") {
		t.Errorf("stderr:\n%s", stderr)
	}

	code, stdout, stderr = run("--accept-unreconciled")
	if code != 0 {
		t.Fatalf("--accept-unreconciled: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "accept-unreconciled") {
		t.Errorf("the run did not log that it accepts unreconciled invoices:\n%s", stderr)
	}
	for _, p := range closed {
		got := partition(p, "2026-10")
		if mapsEqual(got, before[p+" 2026-10"]) {
			t.Errorf("%s 2026-10 was not replaced with --accept-unreconciled", p)
		}
		var m struct {
			Reconciled bool
			Rows       int64
			Notes      []string
		}
		json.Unmarshal([]byte(got["manifest"]), &m)
		if m.Reconciled || m.Rows >= 10 || !strings.Contains(strings.Join(m.Notes, "\n"), "replaced a reconciled partition on purpose (accept-unreconciled)") {
			t.Errorf("%s 2026-10 manifest: %+v", p, m)
		}
		if !strings.Contains(stdout, "note: "+p+" 2026-10: replaced a reconciled partition on purpose") {
			t.Errorf("the summary does not show the note for %s:\n%s", p, stdout)
		}
	}
	// What was accepted is now the partition: the next run replaces it
	// without the flag.
	if code, _, stderr := run(); code != 0 {
		t.Errorf("rerun after accepting: exit %d: %s", code, stderr)
	}
}
