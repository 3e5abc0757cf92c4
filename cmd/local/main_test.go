package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
)

// The sample run is the product's front door: these tests run it as the
// README does and read the output back with DuckDB, an independent reader.

// total is what a vendor says an invoice (or account and period) comes to.
type total struct {
	provider, period, currency string
	amount                     *big.Rat
}

// oracles read each vendor's totals straight from the captures, with
// encoding/json and math/big: no code of ours is involved. Vendors add
// theirs from their own test files.
var oracles = map[string]func(t *testing.T, dir string) []total{
	"warpstream": warpStreamTotals,
}

func warpStreamTotals(t *testing.T, dir string) []total {
	files, _ := filepath.Glob(filepath.Join(dir, "warpstream", "past_invoice", "*.json"))
	files = append(files, filepath.Join(dir, "warpstream", "pending_invoice.json"))
	var out []total
	for _, f := range files {
		var inv struct {
			DateFrom string      `json:"date_from"`
			Total    json.Number `json:"total"`
		}
		readJSON(t, f, &inv)
		out = append(out, total{"warpstream", inv.DateFrom[:7], "USD", rat(t, string(inv.Total))})
	}
	return out
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func rat(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("%q is not a number", s)
	}
	return r
}

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

func TestSampleRunMatchesVendorTotals(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runLocal(t, nil, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	db := testkit.DuckDB(t)
	lines, invoices := testkit.Table(out, "charge_lines"), testkit.Table(out, "invoices")

	// Σ BilledCost per provider, period and currency equals the vendor's
	// total to the last digit. A virtual currency (credits) is summed from
	// PricingCurrencyEffectiveCost, never into the national currency.
	got := map[string]*big.Rat{}
	for _, r := range testkit.Rows(t, db, `
		SELECT provider, billing_period, BillingCurrency, sum(BilledCost)::VARCHAR FROM `+lines+` GROUP BY ALL
		UNION ALL
		SELECT provider, billing_period, PricingCurrency, sum(PricingCurrencyEffectiveCost)::VARCHAR FROM `+lines+`
		WHERE PricingCurrency IS NOT NULL AND PricingCurrency <> BillingCurrency GROUP BY ALL`) {
		got[r[0]+" "+r[1]+" "+r[2]] = rat(t, r[3])
	}
	var want []total
	for p, oracle := range oracles {
		if _, err := os.Stat(filepath.Join("testdata/captures", p)); err == nil {
			want = append(want, oracle(t, "testdata/captures")...)
		}
	}
	if len(want) == 0 {
		t.Fatal("no vendor totals found in testdata/captures")
	}
	for _, w := range want {
		k := w.provider + " " + w.period + " " + w.currency
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: no charge lines (vendor total %s)", k, w.amount.FloatString(8))
			continue
		}
		if g.Cmp(w.amount) != 0 {
			t.Errorf("%s: Σ BilledCost = %s, vendor total = %s", k, g.FloatString(24), w.amount.FloatString(24))
		}
	}

	// Every final invoice reconciles exactly; none is off by a digit.
	for _, r := range testkit.Rows(t, db, `SELECT provider, billing_period, coalesce(InvoiceId, '-'), BillingCurrency, Reconciled, Difference::VARCHAR, coalesce(Problem, '') FROM `+invoices+` WHERE IsFinal`) {
		if r[4] != "true" || rat(t, r[5]).Sign() != 0 {
			t.Errorf("invoice %v does not reconcile", r)
		}
	}

	// Row counts of the WarpStream sample: 13 products × days in the
	// period, plus account charges and one rounding adjustment.
	for _, c := range []struct{ period, rows string }{{"2026-10", "368"}, {"2026-11", "28"}} {
		n := testkit.Value(t, db, `SELECT count(*) FROM `+lines+` WHERE provider = 'warpstream' AND billing_period = ?`, c.period)
		if n != c.rows {
			t.Errorf("warpstream %s: %s rows, want %s", c.period, n, c.rows)
		}
	}
	if n := testkit.Value(t, db, `SELECT count(*) FROM `+lines+` WHERE provider = 'warpstream' AND ChargeCategory = 'Adjustment'`); n != "2" {
		t.Errorf("%s rounding adjustment lines, want one per period", n)
	}

	// Types as every reader should see them.
	types := map[string]string{}
	for _, r := range testkit.Rows(t, db, `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM `+lines+`)`) {
		types[r[0]] = r[1]
	}
	for col, typ := range map[string]string{
		"BilledCost": "DECIMAL(38,24)", "EffectiveCost": "DECIMAL(38,24)", "ListCost": "DECIMAL(38,24)", "ContractedCost": "DECIMAL(38,24)",
		"PricingQuantity": "DECIMAL(38,24)", "ConsumedQuantity": "DECIMAL(38,24)",
		"ChargePeriodStart": "TIMESTAMP WITH TIME ZONE", "ChargePeriodEnd": "TIMESTAMP WITH TIME ZONE",
		"BillingPeriodStart": "TIMESTAMP WITH TIME ZONE", "BillingPeriodEnd": "TIMESTAMP WITH TIME ZONE",
	} {
		if types[col] != typ {
			t.Errorf("column %s is %q, want %s", col, types[col], typ)
		}
	}
	// Every FOCUS 1.2 Mandatory column is present.
	for _, col := range []string{"BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
		"BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart",
		"ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity", "PricingUnit", "ProviderName",
		"PublisherName", "ServiceCategory", "ServiceName"} {
		if _, ok := types[col]; !ok {
			t.Errorf("FOCUS mandatory column %s is missing", col)
		}
	}
	// NULL, never "", where a value is unknown.
	for col, typ := range types {
		if typ != "VARCHAR" {
			continue
		}
		if n := testkit.Value(t, db, `SELECT count(*) FROM `+lines+` WHERE "`+col+`" = ''`); n != "0" {
			t.Errorf("%s has %s empty strings", col, n)
		}
	}
	// Daily lines cover [day, day+1) in UTC.
	if n := testkit.Value(t, db, `SELECT count(*) FROM `+lines+` WHERE ChargeCategory = 'Usage' AND provider = 'warpstream'
		AND (ChargePeriodEnd - ChargePeriodStart <> INTERVAL 1 DAY OR ChargePeriodStart < BillingPeriodStart OR ChargePeriodEnd > BillingPeriodEnd)`); n != "0" {
		t.Errorf("%s daily lines are not one day within their billing period", n)
	}

	if !strings.Contains(stdout, "\n6 partitions written under "+out+" (charge_lines/, invoices/, _manifests/), 0 failed\n") {
		t.Errorf("summary missing:\n%s", stdout)
	}
}

// The README's DuckDB query, pasted over ./out, gives per-period totals
// equal to the invoice totals in testdata.
func TestReadmeQuery(t *testing.T) {
	out := t.TempDir()
	if code, _, stderr := runLocal(t, nil, "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- readme-query -->\\s*```sql\\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no ```sql block after <!-- readme-query -->")
	}
	query := strings.ReplaceAll(string(m[1]), "out/", filepath.ToSlash(out)+"/")
	db := testkit.DuckDB(t)
	got := map[string]*big.Rat{}
	for _, r := range testkit.Rows(t, db, query) {
		// provider, billing_period, currency, billed, ...
		got[r[0]+" "+r[1]+" "+r[2]] = rat(t, r[3])
	}
	for p, oracle := range oracles {
		if _, err := os.Stat(filepath.Join("testdata/captures", p)); err != nil {
			continue
		}
		for _, w := range oracle(t, "testdata/captures") {
			if !regexp.MustCompile(`^[A-Z]{3}$`).MatchString(w.currency) {
				continue // a virtual currency: the README query sums BilledCost
			}
			k := w.provider + " " + w.period + " " + w.currency
			if g := got[k]; g == nil || g.Cmp(w.amount) != 0 {
				t.Errorf("README query: %s = %v, want %s", k, g, w.amount.FloatString(8))
			}
		}
	}
}

// dataFiles hashes every Parquet file under dest (manifests carry run ids
// and times by design; data files must not).
func dataFiles(t *testing.T, dest string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			b, _ := os.ReadFile(p)
			s := sha256.Sum256(b)
			rel, _ := filepath.Rel(dest, p)
			sums[filepath.ToSlash(rel)] = hex.EncodeToString(s[:])
		}
		return nil
	})
	return sums
}

func TestSameInputSameBytes(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dest := range []string{a, b, a} { // a twice: a rerun replaces, never adds
		if code, _, stderr := runLocal(t, nil, "--out", dest); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	}
	sa, sb := dataFiles(t, a), dataFiles(t, b)
	if len(sa) == 0 || !mapsEqual(sa, sb) {
		t.Fatalf("data files differ between identical runs:\n%v\n%v", sa, sb)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Live mode against a fake WarpStream API gives exactly the replay's data
// files, records exactly what the API sent, and lands it under raw/.
func TestLiveWarpStreamEqualsReplay(t *testing.T) {
	const key = "aks_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
	api := testkit.FakeWarpStream(t, filepath.Join(repoRoot, "testdata/captures"), key, "POST")
	env := map[string]string{"WARPSTREAM_API_KEY": key, "WARPSTREAM_API_URL": api.URL}
	live, replay, rec := t.TempDir(), t.TempDir(), t.TempDir()
	code, stdout, stderr := runLocal(t, env, "--live", "--providers", "warpstream", "--as-of", sampleAsOf, "--out", live, "--record", rec)
	if code != 0 {
		t.Fatalf("live: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, stderr := runLocal(t, nil, "--providers", "warpstream", "--out", replay); code != 0 {
		t.Fatalf("replay: exit %d: %s", code, stderr)
	}
	if l, r := dataFiles(t, live), dataFiles(t, replay); len(l) != 4 || !mapsEqual(l, r) {
		t.Fatalf("live and replay differ:\nlive   %v\nreplay %v", l, r)
	}
	calls := api.Calls()
	slices.Sort(calls)
	want := []string{
		"POST /api/v1/billing/invoices/get_invoice_breakdowns",
		"POST /api/v1/billing/invoices/get_invoice_breakdowns",
		"POST /api/v1/billing/invoices/get_past_invoice",
		"POST /api/v1/billing/invoices/get_pending_invoice",
	}
	if !slices.Equal(calls, want) {
		t.Errorf("calls = %v, want %v", calls, want)
	}
	// --record and raw/ hold the bodies byte for byte, in the capture layout.
	raws, _ := filepath.Glob(filepath.Join(live, "raw", "*", "*", "warpstream", "*.json"))
	if len(raws) != 1 {
		t.Errorf("raw landing: %v", raws)
	}
	for _, f := range []string{"pending_invoice.json", "past_invoice/2026-10.json", "invoice_breakdowns/2026-10.json", "invoice_breakdowns/2026-11.json"} {
		want, _ := os.ReadFile(filepath.Join("testdata/captures/warpstream", f))
		got, err := os.ReadFile(filepath.Join(rec, "warpstream", f))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("--record %s: %v (equal=%v)", f, err, bytes.Equal(got, want))
		}
	}
	// The key is nowhere in what the run printed or wrote.
	if strings.Contains(stdout+stderr, key) {
		t.Error("the API key was printed")
	}
	filepath.WalkDir(live, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(key)) {
				t.Errorf("the API key is in %s", p)
			}
		}
		return nil
	})

	// A rejected key: one clear line naming the vendor and the variable,
	// without the key; exit status 1; nothing written.
	bad := map[string]string{"WARPSTREAM_API_KEY": "aks_wrong_key_value", "WARPSTREAM_API_URL": api.URL}
	out := t.TempDir()
	code, _, stderr = runLocal(t, bad, "--live", "--providers", "warpstream", "--as-of", sampleAsOf, "--out", out)
	if code != 1 || !strings.Contains(stderr, "WARPSTREAM_API_KEY") || !strings.Contains(stderr, "401") || strings.Contains(stderr, "aks_wrong_key_value") {
		t.Errorf("bad key: exit %d, stderr:\n%s", code, stderr)
	}
	if files := dataFiles(t, out); len(files) != 0 {
		t.Errorf("bad key wrote %v", files)
	}
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
		{[]string{"--from", "2026-11", "--to", "2026-10"}, 2, "--from 2026-11 is after --to 2026-10: give the earlier month first"},
		{[]string{"--from", "2026-12"}, 2, "--from 2026-12 is after the open period 2026-11 (as of 2026-11-03)"},
		{[]string{"--bogus"}, 2, "invoice-export: flag provided but not defined: -bogus (see --help)"},
		{[]string{"--live", "--providers", "warpstream"}, 2, "warpstream: skipped, no API key (WARPSTREAM_API_KEY is not set)"},
		{[]string{"stray"}, 2, `unexpected argument "stray"`},
	} {
		code, _, stderr := runLocal(t, nil, append(c.args, "--out", t.TempDir())...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
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
		"WARPSTREAM_API_URL":     `invoice-export: WARPSTREAM_API_URL="api.warpstream.com" is not an absolute http(s) URL`,
		"WARPSTREAM_HTTP_METHOD": `invoice-export: WARPSTREAM_HTTP_METHOD="gett": use GET or POST`,
	} {
		val := map[string]string{"WARPSTREAM_API_URL": "api.warpstream.com", "WARPSTREAM_HTTP_METHOD": "gett"}[env]
		code, stdout, stderr := runLocal(t, map[string]string{"WARPSTREAM_API_KEY": "k", env: val}, "--live", "--providers", "warpstream", "--out", t.TempDir())
		if code != 2 || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("%s=%s: exit %d\nstdout %q\nstderr %q", env, val, code, stdout, stderr)
		}
	}
}
