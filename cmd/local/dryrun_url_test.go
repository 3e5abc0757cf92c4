package main

import (
	"strings"
	"testing"
)

// A live dry run shows the path each call goes to under WARPSTREAM_API_URL,
// the URL's own path included, /api/v1 said once.
func TestDryRunShowsTheRequestedPath(t *testing.T) {
	env := map[string]string{"WARPSTREAM_API_KEY": "k", "WARPSTREAM_API_URL": "http://127.0.0.1:1/proxy/api/v1/"}
	code, stdout, stderr := runLocal(t, env, "--live", "--dry-run", "--providers", "warpstream", "--from", "2025-01", "--to", "2025-01", "--as-of", "2025-03-01", "--out", t.TempDir()+"/out")
	if code != 0 || !strings.Contains(stdout, "  POST /proxy/api/v1/billing/invoices/get_past_invoice {\"date_start\":\"2025-01-01\"}  -> warpstream/past_invoice/2025-01.json") ||
		strings.Contains(stdout, "/api/v1/api/v1") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}
