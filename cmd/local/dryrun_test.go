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
	for _, want := range []string{
		"POST /api/v1/billing/invoices/get_past_invoice {\"date_start\":\"2026-10-01\"}  -> warpstream/past_invoice/2026-10.json",
		"GET /api/v1/organization  -> cockroachdb/organization.json",
		"GET /v1/users/info  -> spectrocloud/users_info.json",
		"writes charge_lines/provider=spectrocloud/billing_period=2026-11/part-00000.parquet",
		"writes _manifests/provider=cockroachdb/billing_period=2026-10.json",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry run does not show %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the dry run created %s (%v)", out, err)
	}

	// Live, against vendors that do not exist: still nothing is called.
	env := map[string]string{"WARPSTREAM_API_KEY": "k", "WARPSTREAM_API_URL": "http://127.0.0.1:1"}
	code, stdout, stderr = runLocal(t, env, "--live", "--dry-run", "--from", "2025-01", "--to", "2025-03", "--out", out)
	if code != 0 || !strings.Contains(stdout, "warpstream: periods 2025-01, 2025-02, 2025-03") || strings.Contains(stdout, "cockroachdb:") {
		t.Errorf("live dry run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the live dry run created %s", out)
	}
}
