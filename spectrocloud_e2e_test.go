package invoiceexport_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/internal/testkit/duck"
)

const (
	spectroKey = "c3BlY3Ryby1rZXktMDEyMzQ1Njc4OWFiY2RlZg"
	spectroOct = "6540e1f2a3b4c5d6e7f80912"
	spectroNov = "6568a0b1c2d3e4f5a6b7c8d9"
)

// Live mode against a fake Palette API gives exactly the replay's data
// files, following the list's continue token to its second page.
func TestLiveSpectroCloudEqualsReplay(t *testing.T) {
	api := testkit.FakeSpectroCloud(t, sampleDir, spectroKey, true)
	env := map[string]string{"SPECTROCLOUD_API_KEY": spectroKey, "SPECTROCLOUD_API_URL": api.URL}
	live, replay, rec := t.TempDir(), t.TempDir(), t.TempDir()
	res := export(t, run{Env: env, Live: true, Providers: []string{"spectrocloud"}, Out: live, Record: rec})
	if !res.OK() {
		t.Fatalf("live: %v\n%s", res.Err(), res.log)
	}
	mustExport(t, run{Providers: []string{"spectrocloud"}, Out: replay})
	if l, r := dataFiles(t, live), dataFiles(t, replay); len(l) != 4 || !mapsEqual(l, r) {
		t.Fatalf("live and replay differ:\nlive   %v\nreplay %v", l, r)
	}
	want := []string{
		"GET /v1/users/info",
		"GET /v1/tenants/5f9c2a7e1b3d4c6a8e0f1a2b/invoices",
		"GET /v1/tenants/5f9c2a7e1b3d4c6a8e0f1a2b/invoices?continue=eyJvZmZzZXQiOjUwLCJjb3VudCI6NTMsInRva2VuIjoiIn0%3D",
		"GET /v1/tenants/5f9c2a7e1b3d4c6a8e0f1a2b/invoices/" + spectroOct,
		"GET /v1/tenants/5f9c2a7e1b3d4c6a8e0f1a2b/invoices/" + spectroNov,
	}
	calls := api.Calls()
	if len(calls) != len(want) || !slices.Equal(calls[:3], want[:3]) {
		t.Errorf("listing calls = %q, want %q first", calls, want[:3])
	}
	slices.Sort(calls)
	slices.Sort(want)
	if !slices.Equal(calls, want) {
		t.Errorf("calls = %q, want %q", calls, want)
	}
	assertRecorded(t, "spectrocloud", rec, []string{"users_info.json", "invoices/0001.json", "invoices/0002.json",
		"invoice/" + spectroOct + ".json", "invoice/" + spectroNov + ".json"})
	assertNoKey(t, spectroKey, res.printed(), live)
	if n := notes(res); slices.ContainsFunc(n, func(s string) bool { return strings.Contains(s, "SPECTROCLOUD_INVOICE_UIDS") }) {
		t.Errorf("the list worked, yet the run speaks of the fallback: %q", n)
	}

	// A rejected key: one clear line naming the variable; nothing written.
	bad := map[string]string{"SPECTROCLOUD_API_KEY": "wrong-spectro-key", "SPECTROCLOUD_API_URL": api.URL}
	out := t.TempDir()
	res = export(t, run{Env: bad, Live: true, Providers: []string{"spectrocloud"}, Out: out})
	if res.OK() || !strings.Contains(res.printed(), "SPECTROCLOUD_API_KEY") || !strings.Contains(res.printed(), "401") || strings.Contains(res.printed(), "wrong-spectro-key") {
		t.Errorf("bad key:\n%s", res.printed())
	}
	if files := dataFiles(t, out); len(files) != 0 {
		t.Errorf("bad key wrote %v", files)
	}
}

// Where the list route answers 404, SPECTROCLOUD_INVOICE_UIDS names the
// invoices: the same data, and the run says where the invoices came from.
// Without it the run fails with one line saying what to set.
func TestLiveSpectroCloudListFallback(t *testing.T) {
	api := testkit.FakeSpectroCloud(t, sampleDir, spectroKey, false)
	env := map[string]string{"SPECTROCLOUD_API_KEY": spectroKey, "SPECTROCLOUD_API_URL": api.URL,
		"SPECTROCLOUD_INVOICE_UIDS": spectroOct + "," + spectroNov}
	live, replay := t.TempDir(), t.TempDir()
	res := export(t, run{Env: env, Live: true, Providers: []string{"spectrocloud"}, Out: live})
	if !res.OK() {
		t.Fatalf("live: %v\n%s", res.Err(), res.log)
	}
	mustExport(t, run{Providers: []string{"spectrocloud"}, Out: replay})
	if l, r := dataFiles(t, live), dataFiles(t, replay); len(l) != 4 || !mapsEqual(l, r) {
		t.Fatalf("live (fallback) and replay differ:\nlive   %v\nreplay %v", l, r)
	}
	for _, p := range []string{"2026-10", "2026-11"} {
		if !slices.Contains(notes(res), "spectrocloud "+p+": "+spectroFallbackNote) {
			t.Errorf("no fallback note for %s: %q", p, notes(res))
		}
	}
	calls := api.Calls()
	want := []string{
		"GET /v1/users/info",
		"GET /v1/tenants/5f9c2a7e1b3d4c6a8e0f1a2b/invoices",
		"GET /v1/tenants/5f9c2a7e1b3d4c6a8e0f1a2b/invoices/" + spectroOct,
		"GET /v1/tenants/5f9c2a7e1b3d4c6a8e0f1a2b/invoices/" + spectroNov,
	}
	if !slices.Equal(calls, want) {
		t.Errorf("calls = %q, want %q", calls, want)
	}

	// SPECTROCLOUD_TENANT_UID spares GET /v1/users/info.
	before := len(api.Calls())
	env["SPECTROCLOUD_TENANT_UID"] = "5f9c2a7e1b3d4c6a8e0f1a2b"
	if res := export(t, run{Env: env, Live: true, Providers: []string{"spectrocloud"}, Out: t.TempDir()}); !res.OK() {
		t.Fatalf("tenant from config: %v", res.Err())
	}
	if calls := api.Calls()[before:]; len(calls) != 3 || slices.Contains(calls, "GET /v1/users/info") {
		t.Errorf("with SPECTROCLOUD_TENANT_UID, calls = %q", calls)
	}

	delete(env, "SPECTROCLOUD_INVOICE_UIDS")
	out := t.TempDir()
	res = export(t, run{Env: env, Live: true, Providers: []string{"spectrocloud"}, Out: out})
	if res.OK() || !strings.Contains(res.Err().Error(), "SPECTROCLOUD_INVOICE_UIDS is not set") || len(res.Failures) != 1 {
		t.Errorf("no list, no UIDs:\n%s", res.printed())
	}
	if files := dataFiles(t, out); len(files) != 0 {
		t.Errorf("wrote %v", files)
	}
}

const spectroFallbackNote = "the invoice list route gave no list of invoices (HTTP 404 or 405, no capture, or an answer that is not a list of invoices): the invoices exported are those named by SPECTROCLOUD_INVOICE_UIDS"

// The list route is in no published spec. A 405 falls back to
// SPECTROCLOUD_INVOICE_UIDS as a 404 does. A 200 that is not a list of
// invoices (its invoices under "items") is never "no invoice": without the
// variable the provider fails with one line naming the route and the
// variable; with it, the configured invoices are exported and every
// partition says so.
func TestLiveSpectroCloudListRouteVariants(t *testing.T) {
	dir := vendorExamples + "/variants/sc-no-list-route"
	for _, c := range []struct {
		name   string
		api    *testkit.FakeAPI
		uids   bool
		failed string
	}{
		{"405 with uids", testkit.FakeSpectroCloudList(t, dir, spectroKey, http.StatusMethodNotAllowed), true, ""},
		{"405 without uids", testkit.FakeSpectroCloudList(t, dir, spectroKey, http.StatusMethodNotAllowed), false,
			"the invoice list route (GET /v1/tenants/{tenantUid}/invoices, in no published Palette spec) answered HTTP 405 and SPECTROCLOUD_INVOICE_UIDS is not set: set it to the uids of the invoices to export, comma-separated (an invoice's uid is its metadata.uid:"},
		{"items with uids", testkit.FakeSpectroCloud(t, vendorExamples+"/variants/sc-list-items-key", spectroKey, true), true, ""},
		{"items without uids", testkit.FakeSpectroCloud(t, vendorExamples+"/variants/sc-list-items-key", spectroKey, true), false,
			`GET /v1/tenants/{tenantUid}/invoices answered 200 with no list of invoices: it has no "invoices" array (its members: items, listmeta); the route is in no published Palette spec: set SPECTROCLOUD_INVOICE_UIDS to the uids of the invoices to export`},
	} {
		env := map[string]string{"SPECTROCLOUD_API_KEY": spectroKey, "SPECTROCLOUD_API_URL": c.api.URL}
		if c.uids {
			env["SPECTROCLOUD_INVOICE_UIDS"] = spectroExampleUIDs
		}
		out := t.TempDir()
		res := export(t, run{Env: env, Live: true, Providers: []string{"spectrocloud"}, Out: out, AsOf: vendorExamplesAsOf})
		if c.failed != "" {
			if res.OK() || len(res.Failures) != 1 || !strings.Contains(res.Err().Error(), c.failed) || strings.Contains(res.Err().Error(), "\n") {
				t.Errorf("%s:\n%s", c.name, res.printed())
			}
			if files := dataFiles(t, out); len(files) != 0 {
				t.Errorf("%s wrote %v", c.name, files)
			}
			continue
		}
		if !res.OK() || len(res.Partitions) != 2 {
			t.Fatalf("%s: %v\n%s", c.name, res.Err(), res.log)
		}
		for _, p := range []string{"2025-12", "2026-01"} {
			if !slices.Contains(notes(res), "spectrocloud "+p+": "+spectroFallbackNote) {
				t.Errorf("%s: no fallback note for %s: %q", c.name, p, notes(res))
			}
		}
		db := duck.Open(t)
		if got := duck.Rows(t, db, `SELECT billing_period, InvoiceId, Reconciled FROM `+duck.Table(out, "invoices")+` ORDER BY ALL`); len(got) != 2 ||
			got[0][1] != spectroExampleDec || got[1][1] != spectroExampleJan || got[0][2] != "true" || got[1][2] != "true" {
			t.Errorf("%s: invoices %q", c.name, got)
		}
	}
}

// The sample's Spectro Cloud partitions, read back with DuckDB.
func TestSampleSpectroCloudWithDuckDB(t *testing.T) {
	out := t.TempDir()
	mustExport(t, run{Providers: []string{"spectrocloud"}, Out: out})
	db := duck.Open(t)
	lines, invoices := duck.Table(out, "charge_lines"), duck.Table(out, "invoices")
	assertNoEmptyStrings(t, db, lines)
	got := duck.Rows(t, db, `SELECT billing_period, InvoiceId, BillingAccountName, coalesce(InvoiceStatus, 'NULL'), IsFinal, Reconciled, RoundingAdjustment::VARCHAR, LineCount FROM `+invoices+` ORDER BY ALL`)
	want := [][]string{
		{"2026-10", spectroOct, "Müller & Söhne Logistik AG", "Paid", "true", "true", "0.000000000000000000000000", "5"},
		{"2026-11", spectroNov, "Müller & Söhne Logistik AG", "NULL", "false", "true", "0.003333333333300000000000", "4"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("invoices:\n got %q\nwant %q", got, want)
	}
	got = duck.Rows(t, db, `SELECT billing_period, ChargeCategory, coalesce(ResourceName, '-'), SkuId, BilledCost::VARCHAR, coalesce(ConsumedQuantity::VARCHAR, '-') FROM `+lines+` ORDER BY ALL`)
	want = [][]string{
		{"2026-10", "Credit", "-", "pure", "-1000.000000000000000000000000", "-"},
		{"2026-10", "Usage", "-", "alloy", "60.000000000000000000000000", "3.000000000000000000000000"},
		{"2026-10", "Usage", "Zürich Produktion", "alloy", "370.000000000000000000000000", "18.500000000000000000000000"},
		{"2026-10", "Usage", "Zürich Produktion", "pure", "2813.600000000000000000000000", "70.340000000000000000000000"},
		{"2026-10", "Usage", "東京 Edge", "pure", "2016.400000000000000000000000", "50.410000000000000000000000"},
		{"2026-11", "Adjustment", "-", "NULL", "0.003333333333300000000000", "-"},
		{"2026-11", "Credit", "-", "pure", "-374.800000000000000000000000", "-"},
		// 26.666666666666668 and 1.3333333333333333 as sent: float64s.
		{"2026-11", "Usage", "Zürich Produktion", "alloy", "26.666666666666700000000000", "1.333333333333330000000000"},
		{"2026-11", "Usage", "Zürich Produktion", "pure", "374.800000000000000000000000", "9.370000000000000000000000"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("lines:\n got %q\nwant %q", got, want)
	}
}
