package invoiceexport_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit/duck"
)

// The vendors' own published example bodies (testdata/vendor-examples,
// whose README says where each comes from), replayed as of the day they
// describe.

const (
	vendorExamples     = "testdata/vendor-examples"
	vendorExamplesAsOf = "2026-01-03"
	crdbOrganizationID = "9a7c3e51-4b2d-4f8e-a6c0-1d5b7e9f2a34"
	spectroExampleUIDs = "6775f1a8c3d2e4b5a6978812,679d8e34b1c2a3d4e5f60718"
	spectroExampleDec  = "6775f1a8c3d2e4b5a6978812"
	spectroExampleJan  = "679d8e34b1c2a3d4e5f60718"
	crdbExampleDec     = "e2b7c4d1-8a3f-4e6b-9d0c-5f1a2b3c4d5e"
	crdbExampleJan     = "f3c8d5e2-9b4a-4f7c-8e1d-6a2b3c4d5e6f"
)

// exampleSet is one capture set of testdata/vendor-examples and how its
// README says to replay it.
type exampleSet struct {
	name     string
	from, to string
	env      map[string]string
}

func (s exampleSet) dir() string {
	if s.name == "main" {
		return vendorExamples
	}
	return vendorExamples + "/variants/" + s.name
}

func (s exampleSet) run(out string) run {
	return run{In: s.dir(), Out: out, AsOf: vendorExamplesAsOf, From: s.from, To: s.to, Env: s.env}
}

// exampleSets are every set, with the configuration each needs to export.
var exampleSets = []exampleSet{
	{name: "main"},
	{name: "crdb-billing-only-key", env: map[string]string{"COCKROACH_ORGANIZATION_ID": crdbOrganizationID}},
	{name: "crdb-credit-sign", from: "2025-12", to: "2025-12"},
	{name: "sc-no-list-route", env: map[string]string{"SPECTROCLOUD_INVOICE_UIDS": spectroExampleUIDs}},
	{name: "sc-list-items-key", env: map[string]string{"SPECTROCLOUD_INVOICE_UIDS": spectroExampleUIDs}},
	{name: "ws-tiered-invoice", from: "2025-12", to: "2025-12"},
	{name: "ws-mixed-tiers", from: "2025-12", to: "2025-12"},
	{name: "ws-repeat-invoice-line", from: "2025-12", to: "2025-12"},
	{name: "ws-repeat-breakdown-charge", from: "2025-12", to: "2025-12"},
	{name: "ws-repeat-breakdown-day", from: "2025-12", to: "2025-12"},
	{name: "ws-omitted-zeros", from: "2025-12", to: "2025-12"},
	{name: "ws-extra-fields", from: "2025-12", to: "2025-12"},
	{name: "ws-float-total", from: "2025-12", to: "2025-12"},
	{name: "ws-pending-to-date", from: "2026-01", to: "2026-01"},
}

// invoiceRow is what a test expects of an invoices row, and of the charge
// lines of its partition (Σ BilledCost of the partition's lines equals the
// total: one invoice per partition in these sets).
type invoiceRow struct {
	provider, period, invoice, account, name, status string
	total, rounding                                  string
	lines                                            int
	problem                                          string // "" when it reconciles
}

// Each set of CockroachDB's and Spectro Cloud's example bodies exports, to
// the cent and with every line named, what docs/vendors.md says; what
// cannot be exported without configuration fails with one line saying
// what to set.
func TestVendorExamplesCockroachDBAndSpectroCloud(t *testing.T) {
	const tenant = "65a1f0c2e4b7d93a1c5e8f20"
	crdbDec := invoiceRow{"cockroachdb", "2025-12", crdbExampleDec, crdbOrganizationID, "Example Corp", "FINALIZED", "988.57", "0", 8, ""}
	crdbJan := invoiceRow{"cockroachdb", "2026-01", crdbExampleJan, crdbOrganizationID, "Example Corp", "DRAFT", "192.96", "0", 8, ""}
	scDec := invoiceRow{"spectrocloud", "2025-12", spectroExampleDec, tenant, "Example Corp", "Paid", "26.67", "0.0033333333333", 6, ""}
	scJan := invoiceRow{"spectrocloud", "2026-01", spectroExampleJan, tenant, "Example Corp", "NULL", "0", "0", 2, ""}
	unnamed := func(r invoiceRow) invoiceRow { r.name = "NULL"; return r }
	for _, c := range []struct {
		set       exampleSet
		providers []string
		want      []invoiceRow
		ids       map[string]string // x_ChargeId → ChargeDescription, a space and BilledCost, of some lines
		failed    string            // the one line of a failed provider
		note      string
	}{
		{set: exampleSet{name: "main"}, providers: []string{"cockroachdb"}, want: []invoiceRow{crdbDec, crdbJan},
			ids: map[string]string{
				// The repeated Compute line items of January (us-east-1 and
				// us-west-2, which LineItem does not name): two lines.
				crdbExampleJan + "/c8d1f2a3-5b6e-4c7d-9e0f-a1b2c3d4e5f6/0": "Compute 28.8",
				crdbExampleJan + "/c8d1f2a3-5b6e-4c7d-9e0f-a1b2c3d4e5f6/1": "Compute 28.8",
				crdbExampleDec + "/adjustments/0":                          "Serverless Free Credit -37.06",
				crdbExampleDec + "/adjustments/1":                          "Premium Support 100",
			}},
		{set: exampleSet{name: "main"}, providers: []string{"spectrocloud"}, want: []invoiceRow{scDec, scJan},
			ids: map[string]string{
				spectroExampleDec + "/6612c0d4e8a9b7f6c5d4e3a1/pure": "Palette managed clusters (pure), Tier 1 46.6666666666667",
				spectroExampleDec + "/unattributed/pure":             "Palette managed clusters (pure): not attributed to a project (free credits, discounts) -40",
				spectroExampleDec + "/rounding":                      "Rounding adjustment: Spectro Cloud rounds the billable amount to cents, its product amounts are not rounded 0.0033333333333",
			}},
		{set: exampleSet{name: "crdb-billing-only-key"}, providers: []string{"cockroachdb"},
			failed: "cockroachdb: listing invoices: the organization cannot be read (a run with COCKROACH_ORGANIZATION_ID set records none): set COCKROACH_ORGANIZATION_ID to the organization's id"},
		{set: exampleSet{name: "crdb-billing-only-key", env: map[string]string{"COCKROACH_ORGANIZATION_ID": crdbOrganizationID}}, providers: []string{"cockroachdb"},
			want: []invoiceRow{unnamed(crdbDec), unnamed(crdbJan)}},
		{set: exampleSet{name: "crdb-credit-sign", from: "2025-12", to: "2025-12"}, providers: []string{"cockroachdb"},
			want: []invoiceRow{{"cockroachdb", "2025-12", crdbExampleDec, crdbOrganizationID, "Example Corp", "FINALIZED", "1001.07", "0", 9, ""}},
			ids:  map[string]string{crdbExampleDec + "/adjustments/1": "Credit card processing fee 12.5"}},
		{set: exampleSet{name: "sc-no-list-route"}, providers: []string{"spectrocloud"},
			failed: "spectrocloud: listing invoices: the invoice list route (GET /v1/tenants/{tenantUid}/invoices, in no published Palette spec) has no capture (spectrocloud/invoices/0001.json) and SPECTROCLOUD_INVOICE_UIDS is not set: set it to the uids of the invoices to export, comma-separated (an invoice's uid is its metadata.uid"},
		{set: exampleSet{name: "sc-no-list-route", env: map[string]string{"SPECTROCLOUD_INVOICE_UIDS": spectroExampleUIDs}}, providers: []string{"spectrocloud"},
			want: []invoiceRow{scDec, scJan}, note: spectroFallbackNote},
		{set: exampleSet{name: "sc-list-items-key"}, providers: []string{"spectrocloud"},
			failed: `spectrocloud: listing invoices: spectrocloud v1InvoicesList (spectrocloud/invoices/0001.json): GET /v1/tenants/{tenantUid}/invoices answered 200 with no list of invoices: it has no "invoices" array (its members: items, listmeta); the route is in no published Palette spec: set SPECTROCLOUD_INVOICE_UIDS`},
		{set: exampleSet{name: "sc-list-items-key", env: map[string]string{"SPECTROCLOUD_INVOICE_UIDS": spectroExampleUIDs}}, providers: []string{"spectrocloud"},
			want: []invoiceRow{scDec, scJan}, note: spectroFallbackNote},
	} {
		name := c.set.name + " " + c.providers[0]
		out := t.TempDir()
		r := c.set.run(out)
		r.Providers = c.providers
		res := export(t, r)
		if c.failed != "" {
			if res.OK() || len(res.Failures) != 1 || !strings.Contains(res.Err().Error(), c.failed) || strings.Contains(res.Err().Error(), "\n") {
				t.Errorf("%s: want one failure %q, got\n%s", name, c.failed, res.printed())
			}
			if files := dataFiles(t, out); len(files) != 0 {
				t.Errorf("%s wrote %v", name, files)
			}
			continue
		}
		if !res.OK() {
			t.Errorf("%s: %v", name, res.Err())
			continue
		}
		db := duck.Open(t)
		invoices, lines := duck.Table(out, "invoices"), duck.Table(out, "charge_lines")
		got := duck.Rows(t, db, `SELECT x_Provider, billing_period, InvoiceId, BillingAccountId, coalesce(BillingAccountName, 'NULL'), coalesce(InvoiceStatus, 'NULL'),
			InvoiceTotal::VARCHAR, LinesTotal::VARCHAR, RoundingAdjustment::VARCHAR, Difference::VARCHAR, Reconciled, LineCount, coalesce(Problem, '') FROM `+invoices+` ORDER BY ALL`)
		if len(got) != len(c.want) {
			t.Errorf("%s: invoices %q, want %d rows", name, got, len(c.want))
			continue
		}
		for i, w := range c.want {
			g := got[i]
			if g[0] != w.provider || g[1] != w.period || g[2] != w.invoice || g[3] != w.account || g[4] != w.name || g[5] != w.status ||
				rat(t, g[6]).Cmp(rat(t, w.total)) != 0 || rat(t, g[7]).Cmp(rat(t, w.total)) != 0 || rat(t, g[8]).Cmp(rat(t, w.rounding)) != 0 ||
				rat(t, g[9]).Sign() != 0 || g[10] != "true" || g[11] != strconv.Itoa(w.lines) || g[12] != w.problem {
				t.Errorf("%s: invoices row\n got %q\nwant %+v", name, g, w)
			}
			// Σ BilledCost of the partition's lines is the invoice total to
			// the last digit; every line is named, once.
			sum := duck.Rows(t, db, `SELECT sum(BilledCost)::VARCHAR, count(*), count(DISTINCT x_ChargeId) FROM `+lines+` WHERE billing_period = ?`, w.period)[0]
			if rat(t, sum[0]).Cmp(rat(t, w.total)) != 0 || sum[1] != strconv.Itoa(w.lines) || sum[2] != sum[1] {
				t.Errorf("%s %s: lines Σ %s, %s lines, %s ids; want %s, %d", name, w.period, sum[0], sum[1], sum[2], w.total, w.lines)
			}
		}
		for id, want := range c.ids {
			got := duck.Rows(t, db, `SELECT ChargeDescription, BilledCost::VARCHAR FROM `+lines+` WHERE x_ChargeId = ?`, id)
			cut := strings.LastIndexByte(want, ' ')
			if len(got) != 1 || got[0][0] != want[:cut] || rat(t, got[0][1]).Cmp(rat(t, want[cut+1:])) != 0 {
				t.Errorf("%s: line %s = %q, want %q", name, id, got, want)
			}
		}
		if c.note != "" {
			for _, w := range c.want {
				if !slices.Contains(notes(res), w.provider+" "+w.period+": "+c.note) {
					t.Errorf("%s: no note for %s: %q", name, w.period, notes(res))
				}
			}
		}
	}
}
