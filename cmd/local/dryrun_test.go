package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --dry-run says which calls and partitions a run would make, and neither
// fetches nor writes anything, not even the output folder.
func TestDryRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runLocal(t, nil, "--dry-run", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// A replay's plan is complete: the captured invoice lists are read, so
	// every invoice file the run would read is named.
	for _, want := range []string{
		"reads " + filepath.Join("testdata", "captures", "warpstream", "past_invoice", "2026-10.json"),
		"reads " + filepath.Join("testdata", "captures", "cockroachdb", "organization.json"),
		"reads " + filepath.Join("testdata", "captures", "cockroachdb", "invoice", "c1e2d3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f.json"),
		"reads " + filepath.Join("testdata", "captures", "spectrocloud", "invoices", "0002.json"),
		"writes charge_lines/provider=spectrocloud/billing_period=2026-11/account-default.parquet",
		"writes _manifests/provider=cockroachdb/account=default/billing_period=2026-10.json",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry run does not show %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the dry run created %s (%v)", out, err)
	}

	if strings.Contains(stdout, "... the rest follows") {
		t.Errorf("a replay's plan left calls out:\n%s", stdout)
	}

	// Live, against vendors that do not exist: still nothing is called. A
	// provider without a key is planned too, with a word that a real run
	// would skip it.
	env := map[string]string{"WARPSTREAM_API_KEY": "k", "WARPSTREAM_API_URL": "http://127.0.0.1:1"}
	code, stdout, stderr = runLocal(t, env, "--live", "--dry-run", "--from", "2025-01", "--to", "2025-03", "--out", out)
	if code != 0 || !strings.Contains(stdout, "warpstream: periods 2025-01, 2025-02, 2025-03") ||
		!strings.Contains(stdout, "POST /api/v1/billing/invoices/get_past_invoice {\"date_start\":\"2025-01-01\"}  -> warpstream/past_invoice/2025-01.json") ||
		!strings.Contains(stdout, "cockroachdb: periods 2025-01, 2025-02, 2025-03\n  GET /api/v1/organization  -> cockroachdb/organization.json\n  ... the rest follows") ||
		!strings.Contains(stderr, "cockroachdb: a real run would skip it, no API key (COCKROACH_API_KEY is not set)") {
		t.Errorf("live dry run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the live dry run created %s", out)
	}
}
