package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
)

// A closed month that no longer reconciles is one FAILED line per period
// and exit 1, each saying how to accept it; --accept-unreconciled lets it
// through (exit 0), the log says so and the summary shows the manifest's
// note. (What is kept and replaced: TestClosedMonthNotReplacedByUnreconciled
// in the root package.)
func TestAcceptUnreconciledFlag(t *testing.T) {
	caps := testkit.CopyCaptures(t, filepath.Join(repoRoot, "testdata/captures"))
	out := t.TempDir()
	run := func(extra ...string) (int, string, string) {
		return runLocal(t, nil, append([]string{"--in", caps, "--as-of", sampleAsOf, "--out", out}, extra...)...)
	}
	if code, _, stderr := run(); code != 0 {
		t.Fatalf("good run: exit %d: %s", code, stderr)
	}
	testkit.DropLines(t, caps, "2026-10")
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
	closed := []string{"warpstream", "cockroachdb"} // their 2026-10 invoices are final
	if len(failed) != len(closed) {
		t.Fatalf("want one FAILED line per closed month, got:\n%s", stderr)
	}
	for i, p := range closed {
		for _, want := range []string{
			"invoice-export: FAILED " + p + " 2026-10: not replacing the partition, which reconciled, with one that does not: ",
			"run again with --accept-unreconciled",
		} {
			if !strings.Contains(failed[i], want) {
				t.Errorf("%q does not say %q", failed[i], want)
			}
		}
	}

	code, stdout, stderr = run("--accept-unreconciled")
	if code != 0 {
		t.Fatalf("--accept-unreconciled: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "accept-unreconciled") {
		t.Errorf("the run did not log that it accepts unreconciled invoices:\n%s", stderr)
	}
	for _, p := range closed {
		if !strings.Contains(stdout, "note: "+p+" 2026-10: replaced a reconciled partition on purpose") {
			t.Errorf("the summary does not show the note for %s:\n%s", p, stdout)
		}
	}
}
