package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/extract"
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

func TestProgressDisplay(t *testing.T) {
	oct, _ := extract.ParsePeriod("2026-10")
	events := []invoiceexport.Event{
		{Provider: "warpstream", Stage: invoiceexport.Planned, Periods: 2},
		{Provider: "cockroachdb", Stage: invoiceexport.Planned, Periods: 1},
		{Provider: "warpstream", Stage: invoiceexport.Written, Period: oct, Rows: 368},
		{Provider: "cockroachdb", Stage: invoiceexport.Failed, Period: oct},
	}
	var plain strings.Builder
	p := newProgress(&plain, false)
	for _, e := range events {
		p.event(e)
	}
	p.finish()
	want := "warpstream: 2 period(s) to export\n" +
		"cockroachdb: 1 period(s) to export\n" +
		"warpstream 2026-10: 368 rows written (1/2)\n"
	if plain.String() != want {
		t.Errorf("plain progress:\n%q\nwant\n%q", plain.String(), want)
	}
	var tty strings.Builder
	p = newProgress(&tty, true)
	for _, e := range events {
		p.event(e)
	}
	p.finish()
	lines := strings.Split(tty.String(), "\r\033[K")
	if last := lines[len(lines)-2]; last != "[#############.......] warpstream 1/2 · cockroachdb 1/1" {
		t.Errorf("last status line %q", last)
	}
	if !strings.HasSuffix(tty.String(), "\r\033[K") || strings.Contains(tty.String(), "\n") {
		t.Errorf("the TTY display must redraw one line and clear it at the end: %q", tty.String())
	}
}
