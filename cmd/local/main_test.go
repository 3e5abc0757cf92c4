package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/internal/testkit/testprovider"
)

// These tests hold the command's own interface: flags, exit statuses,
// the summary, what goes to stderr. The pipeline's own tests (the sample's
// totals, FOCUS, live against fake APIs, crashes, MinIO) are in the root
// package.

// repoRoot is where the README's commands run.
var repoRoot, _ = filepath.Abs("../..")

// runLocal runs the command in-process, as `go run ./cmd/local args...`
// from the repository root would.
func runLocal(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Chdir(repoRoot)
	var o, e bytes.Buffer
	code = run(args, &o, &e, func(k string) string { return env[k] })
	return code, o.String(), e.String()
}

func TestBadInvocations(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--from", "2026-13"}, 2, `--from: "2026-13" is not a month: use YYYY-MM`},
		{[]string{"--as-of", "yesterday"}, 2, `--as-of "yesterday" is not a date: use YYYY-MM-DD`},
		{[]string{"--providers", "aws"}, 2, `unknown provider "aws"`},
		{[]string{"--live", "--in", "x"}, 2, "--live and --in exclude each other"},
		{[]string{"--record", "x"}, 2, "use it with --live"},
		{[]string{"--in", "no/such/dir"}, 2, "--in no/such/dir: not a folder of captures"},
		{[]string{"--from", "2026-11", "--to", "2026-10"}, 2, "--from/--to: the range starts at 2026-11, after its end 2026-10: give the earlier month first"},
		{[]string{"--from", "2026-12"}, 2, "--from/--to: the range starts at 2026-12, after the open period 2026-11 (as of 2026-11-03)"},
		{[]string{"--from", "0001-01"}, 2, `--from: "0001-01" is not a month: use YYYY-MM`},
		{[]string{"--from", "1926-01", "--to", "2026-11"}, 2, "--from/--to: the range starts at 1926-01, before 2000-01: no vendor exported here bills that far back; start at 2000-01 or later"},
		{[]string{"--from", "2020-01"}, 2, "--from/--to: the range 2020-01..2026-11 is 83 months, more than the 36 one run may export (MAX_RANGE_MONTHS): split it into runs of at most 36 months: 2020-01..2022-12, then 2023-01..2025-12, and so on up to 2026-11"},
		{[]string{"--from", strings.Repeat("2026-01", 1<<20)}, 2, `--from: "2026-012026-01`},
		{[]string{"--as-of", "1999-12-31"}, 2, `--as-of "1999-12-31" is before 2000-01-01`},
		{[]string{"--bogus"}, 2, "invoice-export: flag provided but not defined: -bogus (see --help)"},
		{[]string{"--live", "--providers", "warpstream"}, 2, "warpstream: skipped, no API key (WARPSTREAM_API_KEY is not set)"},
		{[]string{"stray"}, 2, `unexpected argument "stray"`},
	} {
		code, _, stderr := runLocal(t, nil, append(c.args, "--out", t.TempDir())...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%.60q: exit %d, stderr %.300q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
		if len(stderr) > 1000 {
			t.Errorf("%.40q: %d bytes on stderr", c.args, len(stderr))
		}
		if c.code == 2 && strings.Count(strings.TrimSpace(stderr), "\n") > 2 {
			t.Errorf("%v: a usage error takes more than a line or two:\n%s", c.args, stderr)
		}
		if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
			t.Errorf("%v: a stack trace reached the user:\n%s", c.args, stderr)
		}
	}
}

// An unusable destination is one line before anything runs, not a failure
// per provider and period.
func TestUnusableDestination(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o644)
	stagingFile := t.TempDir() // its staging folder is a file
	os.WriteFile(filepath.Join(stagingFile, ".staging"), nil, 0o644)
	for _, dest := range []string{file, filepath.Join(file, "under-a-file"), stagingFile} {
		code, stdout, stderr := runLocal(t, nil, "--out", dest)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--out "+dest+": ") || stdout != "" {
			t.Errorf("--out %s: exit %d\nstdout %q\nstderr %q", dest, code, stdout, stderr)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 1 {
		t.Errorf("the check left files behind: %v", entries)
	}
}

// A failed period with several causes gets one FAILED line per cause, each
// naming provider and period; the log does not repeat them.
func TestFailureLines(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusBadRequest)
	}))
	defer down.Close()
	env := map[string]string{"WARPSTREAM_API_KEY": "k", "WARPSTREAM_API_URL": down.URL}
	code, stdout, stderr := runLocal(t, env, "--live", "--providers", "warpstream", "--from", "2026-10", "--to", "2026-10", "--as-of", sampleAsOf, "--out", t.TempDir())
	if code != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var failed []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(l, "invoice-export: FAILED ") {
			failed = append(failed, l)
		} else if !strings.HasPrefix(l, "warpstream: ") {
			t.Errorf("stderr line that is neither progress nor a FAILED line: %q", l)
		}
	}
	if len(failed) != 2 {
		t.Fatalf("want one FAILED line per failed call (past invoice, breakdowns), got:\n%s", stderr)
	}
	for i, endpoint := range []string{"get_past_invoice", "get_invoice_breakdowns"} {
		if !strings.HasPrefix(failed[i], "invoice-export: FAILED warpstream 2026-10: warpstream "+endpoint+" ") || !strings.Contains(failed[i], "HTTP 400") {
			t.Errorf("FAILED line %d: %q", i, failed[i])
		}
	}
	if !strings.Contains(stdout, "warpstream  2026-10") || !strings.Contains(stdout, "FAILED") {
		t.Errorf("the summary has no row for the failed period:\n%s", stdout)
	}
}

// A configuration mistake is one line and exit 2, before any request.
func TestBadConfiguration(t *testing.T) {
	for env, want := range map[string]string{
		"MAX_RANGE_MONTHS":       `invoice-export: MAX_RANGE_MONTHS="0": use a number of months from 1 to 600`,
		"WARPSTREAM_API_URL":     `invoice-export: WARPSTREAM_API_URL="api.warpstream.com" is not an absolute http(s) URL`,
		"WARPSTREAM_HTTP_METHOD": `invoice-export: WARPSTREAM_HTTP_METHOD="gett": use GET or POST`,
		"S3_SSE":                 `invoice-export: S3_SSE="aes-256": use AES256, aws:kms or aws:kms:KEY`,
	} {
		val := map[string]string{"WARPSTREAM_API_URL": "api.warpstream.com", "WARPSTREAM_HTTP_METHOD": "gett", "S3_SSE": "aes-256", "MAX_RANGE_MONTHS": "0"}[env]
		code, stdout, stderr := runLocal(t, map[string]string{"WARPSTREAM_API_KEY": "k", env: val}, "--live", "--providers", "warpstream", "--out", t.TempDir())
		if code != 2 || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("%s=%s: exit %d\nstdout %q\nstderr %q", env, val, code, stdout, stderr)
		}
	}
}

// A provider that is nothing but its own files (internal/testkit/
// testprovider) is in --help and gets its rows in the summary.
func TestSummaryOfAThrowawayProvider(t *testing.T) {
	testprovider.Register(t)
	caps := filepath.Join(repoRoot, "internal/testkit/testprovider", testprovider.Captures)
	code, stdout, stderr := runLocal(t, nil, "--in", caps, "--as-of", sampleAsOf, "--from", "2026-10", "--to", "2026-10", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !regexp.MustCompile(`\nacme +2026-10 +2 +USD +12\.5 +12\.5 +final +[0-9.]+s +✓\n`).MatchString(stdout) {
		t.Errorf("no summary row for acme:\n%s", stdout)
	}
	for _, p := range registry.Slugs() {
		if p != testprovider.Slug && !strings.Contains(stderr, "invoice-export: "+p+": skipped, no captures in ") {
			t.Errorf("%s is not skipped for want of captures:\n%s", p, stderr)
		}
	}
	_, _, help := runLocal(t, nil, "--help")
	if all := strings.Join(registry.Slugs(), ","); !strings.HasSuffix(all, ",acme") || !strings.Contains(help, all) || !strings.Contains(help, "ACME_API_KEY") {
		t.Errorf("--help does not name acme:\n%s", help)
	}
}

// The sample's summary, as the README shows it: a row per partition and
// currency, the credits footnote, the notes, the count of partitions.
func TestSampleSummary(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runLocal(t, nil, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, row := range []string{
		`\nPROVIDER +PERIOD +ROWS +CURRENCY +LINES TOTAL +INVOICE TOTAL +STATUS +TIME +RECONCILED\n`,
		`\nwarpstream +2026-10 +368 +USD +2800\.79 +2800\.79 +final +[0-9.]+s +✓ \(rounding -0\.01439\)\n`,
		`\ncockroachdb +2026-10 +2 +CRDB_CLOUD_CREDITS\* +4203\.6 +4203\.6 +FINALIZED +[0-9.]+s +✓\n`,
		`\nspectrocloud +2026-11 +4 +USD +26\.67 +26\.67 +— +[0-9.]+s +✓ \(rounding 0\.0033333333333\)\n`,
		`\nmongodbatlas +2026-10 +19 +USD +194\.06 +194\.06 +CLOSED,PAID +[0-9.]+s +✓\n`,
		`\n\* a vendor's own credits, not money`,
		`\nnote: warpstream 2026-10: 13 daily lines dated outside 2026-10 were left out`,
		fmt.Sprintf(`\n%d partitions written under `, 2*len(registry.Slugs())) + regexp.QuoteMeta(out) + ` \(charge_lines/, invoices/, _manifests/\), 0 failed\n$`,
	} {
		if !regexp.MustCompile(row).MatchString(stdout) {
			t.Errorf("the summary has no %s:\n%s", row, stdout)
		}
	}
	// Providers in the registry's order, periods ascending.
	if i, j, k, l := strings.Index(stdout, "\nwarpstream "), strings.Index(stdout, "\ncockroachdb "), strings.Index(stdout, "\nspectrocloud "), strings.Index(stdout, "\nmongodbatlas "); !(i < j && j < k && k < l) {
		t.Errorf("rows out of order:\n%s", stdout)
	}
}
