package invoiceexport_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/internal/testkit/duck"
)

// Live mode against a fake CockroachDB Cloud gives exactly the replay's
// data files, with the documented calls and headers.
func TestLiveCockroachDBEqualsReplay(t *testing.T) {
	const key = "CCDB1_12345abcdefGHIJKLMnopq_NkdXLI9d81Mnx3djs45iwPfgtnaRv0XCh0Z9047K"
	api := testkit.FakeCockroachDB(t, sampleDir, key)
	env := map[string]string{"COCKROACH_API_KEY": key, "COCKROACH_API_URL": api.URL}
	live, replay, rec := t.TempDir(), t.TempDir(), t.TempDir()
	res := export(t, run{Env: env, Live: true, Providers: []string{"cockroachdb"}, Out: live, Record: rec})
	if !res.OK() {
		t.Fatalf("live: %v\n%s", res.Err(), res.log)
	}
	mustExport(t, run{Providers: []string{"cockroachdb"}, Out: replay})
	// Two periods × (charge_lines, invoices).
	if l, r := dataFiles(t, live), dataFiles(t, replay); len(l) != 4 || !mapsEqual(l, r) {
		t.Fatalf("live and replay differ:\nlive   %v\nreplay %v", l, r)
	}
	calls := api.Calls()
	slices.Sort(calls)
	want := []string{
		"GET /api/v1/invoices/3b0d7c52-9a4e-4f1b-8c6d-2e5f7a9b1c04",
		"GET /api/v1/invoices/c1e2d3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
		"GET /api/v1/invoices?end_time=2026-12-02T00%3A00%3A00Z&start_time=2026-10-01T00%3A00%3A00Z",
		"GET /api/v1/organization",
	}
	if !slices.Equal(calls, want) {
		t.Errorf("calls = %q, want %q", calls, want)
	}
	assertRecorded(t, "cockroachdb", rec, []string{"organization.json", "invoices.json",
		"invoice/3b0d7c52-9a4e-4f1b-8c6d-2e5f7a9b1c04.json", "invoice/c1e2d3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f.json"})
	raws, _ := filepath.Glob(filepath.Join(live, "raw", "*", "*", "cockroachdb", "invoice", "*.json"))
	if len(raws) != 2 {
		t.Errorf("raw landing: %v", raws)
	}
	// The raw capture keeps the vendor's text: the float64 it sent, not
	// the 988.57 it is read as.
	for _, r := range raws {
		if b, _ := os.ReadFile(r); strings.Contains(r, "3b0d7c52") && !strings.Contains(string(b), `"amount": 988.5700000000002`) {
			t.Errorf("%s does not keep the total as sent", r)
		}
	}
	assertNoKey(t, key, res.printed(), live)

	// A rejected key: one clear line naming the vendor and the variable,
	// without the key; nothing written.
	bad := map[string]string{"COCKROACH_API_KEY": "CCDB1_wrong_key_value", "COCKROACH_API_URL": api.URL}
	out := t.TempDir()
	res = export(t, run{Env: bad, Live: true, Providers: []string{"cockroachdb"}, Out: out})
	if res.OK() || !strings.Contains(res.printed(), "COCKROACH_API_KEY") || !strings.Contains(res.printed(), "401") || strings.Contains(res.printed(), "CCDB1_wrong_key_value") {
		t.Errorf("bad key:\n%s", res.printed())
	}
	if files := dataFiles(t, out); len(files) != 0 {
		t.Errorf("bad key wrote %v", files)
	}
}

// The sample's CockroachDB partitions, read back with DuckDB: credits stay
// out of USD, every invoice and currency has its row, the draft is not final.
func TestSampleCockroachDBWithDuckDB(t *testing.T) {
	out := t.TempDir()
	mustExport(t, run{Providers: []string{"cockroachdb"}, Out: out})
	db := duck.Open(t)
	lines, invoices := duck.Table(out, "charge_lines"), duck.Table(out, "invoices")
	got := duck.Rows(t, db, `SELECT billing_period, BillingCurrency, InvoiceStatus, IsFinal, Reconciled, InvoiceTotal::VARCHAR, LineCount FROM `+invoices+` ORDER BY ALL`)
	want := [][]string{
		{"2026-10", "CRDB_CLOUD_CREDITS", "FINALIZED", "true", "true", "4203.600000000000000000000000", "2"},
		{"2026-10", "USD", "FINALIZED", "true", "true", "988.570000000000000000000000", "11"}, // 988.5700000000002 as sent
		{"2026-11", "CRDB_CLOUD_CREDITS", "DRAFT", "false", "true", "271.250000000000000000000000", "2"},
		{"2026-11", "USD", "DRAFT", "false", "true", "31.510000000000000000000000", "5"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("invoices:\n got %q\nwant %q", got, want)
	}
	assertNoEmptyStrings(t, db, lines)
	// Lines priced in credits bill nothing in USD.
	if n := duck.Value(t, db, `SELECT count(*) FROM `+lines+` WHERE PricingCurrency = 'CRDB_CLOUD_CREDITS' AND (BillingCurrency <> 'USD' OR BilledCost <> 0 OR EffectiveCost <> 0 OR PricingCurrencyEffectiveCost IS NULL)`); n != "0" {
		t.Errorf("%s credits lines bill in USD", n)
	}
	for _, c := range []struct{ query, want string }{
		{`SELECT string_agg(DISTINCT ConsumedUnit, ',' ORDER BY ConsumedUnit) FROM ` + lines, "GIB_MONTHS,GiB,GiB-Hours,Request Units,vCPU-Hours"},
		{`SELECT count(*) FROM ` + lines + ` WHERE ResourceName = 'sandbox-old' AND billing_period = '2026-10'`, "2"},
		{`SELECT Tags FROM ` + lines + ` WHERE ResourceName = 'analytics-東京' LIMIT 1`, `{"env":"prod","team":"データ基盤"}`},
		{`SELECT count(*) FROM ` + lines + ` WHERE ResourceName = 'orders-zürich' AND RegionId IS NULL AND x_Regions = '["eu-central-1","eu-west-1","eu-west-2"]'`, "7"},
		{`SELECT BilledCost::VARCHAR FROM ` + lines + ` WHERE ChargeCategory = 'Credit'`, "-10.500000000000000000000000"},
		{`SELECT count(*) FROM ` + lines + ` WHERE InvoiceId IS NULL OR BillingAccountName <> 'Acme Logistik GmbH – Zürich'`, "0"},
	} {
		if got := duck.Value(t, db, c.query); got != c.want {
			t.Errorf("%s = %s, want %s", c.query, got, c.want)
		}
	}
}

// assertNoEmptyStrings checks that no text column holds "" (FOCUS: NULL
// where a value is unknown, never an empty string).
func assertNoEmptyStrings(t *testing.T, db *sql.DB, lines string) {
	t.Helper()
	for _, r := range duck.Rows(t, db, `SELECT column_name FROM (DESCRIBE SELECT * FROM `+lines+`) WHERE column_type = 'VARCHAR'`) {
		if n := duck.Value(t, db, `SELECT count(*) FROM `+lines+` WHERE "`+r[0]+`" = ''`); n != "0" {
			t.Errorf("%s holds %s empty strings instead of NULL", r[0], n)
		}
	}
}

// A key whose service account has only the BILLING_COORDINATOR role gets
// 403 from GET /api/v1/organization but reads the invoices: with
// COCKROACH_ORGANIZATION_ID the run exports them under that account (no
// name); without it the provider fails at once with one line naming the
// variable and the roles, and nothing is written.
func TestLiveCockroachDBBillingOnlyKey(t *testing.T) {
	const key, org = "CCDB1_billing_coordinator_only", "9a7c3e51-4b2d-4f8e-a6c0-1d5b7e9f2a34"
	api := testkit.FakeCockroachDB(t, "testdata/vendor-examples/variants/crdb-billing-only-key", key)
	env := map[string]string{"COCKROACH_API_KEY": key, "COCKROACH_API_URL": api.URL}
	out := t.TempDir()
	res := export(t, run{Env: env, Live: true, Providers: []string{"cockroachdb"}, Out: out, AsOf: "2026-01-03", From: "2025-12", To: "2025-12"})
	if res.OK() || len(res.Failures) != 1 || !strings.Contains(res.Err().Error(), "set COCKROACH_ORGANIZATION_ID") ||
		!strings.Contains(res.Err().Error(), "ORG_ADMIN or ORG_MEMBER") || strings.Count(res.Err().Error(), "\n") != 0 {
		t.Errorf("no organization id:\n%s", res.printed())
	}
	if files := dataFiles(t, out); len(files) != 0 {
		t.Errorf("wrote %v", files)
	}

	env["COCKROACH_ORGANIZATION_ID"] = org
	before := len(api.Calls())
	out = t.TempDir()
	res = export(t, run{Env: env, Live: true, Providers: []string{"cockroachdb"}, Out: out, AsOf: "2026-01-03", From: "2025-12", To: "2025-12"})
	if !res.OK() {
		t.Fatalf("with COCKROACH_ORGANIZATION_ID: %v\n%s", res.Err(), res.log)
	}
	db := duck.Open(t)
	lines, invoices := duck.Table(out, "charge_lines"), duck.Table(out, "invoices")
	if got := duck.Rows(t, db, `SELECT DISTINCT BillingAccountId, coalesce(BillingAccountName, 'NULL') FROM `+lines); len(got) != 1 || got[0][0] != org || got[0][1] != "NULL" {
		t.Errorf("lines' account: %q", got)
	}
	if got := duck.Value(t, db, `SELECT BillingAccountId || ' ' || coalesce(BillingAccountName, 'NULL') FROM `+invoices); got != org+" NULL" {
		t.Errorf("invoice's account: %s", got)
	}
	if calls := api.Calls()[before:]; len(calls) != 2 || slices.Contains(calls, "GET /api/v1/organization") {
		t.Errorf("with COCKROACH_ORGANIZATION_ID the organization was still asked for: %q", calls)
	}
}
