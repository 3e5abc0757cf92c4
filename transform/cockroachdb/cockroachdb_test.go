package cockroachdb_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/transform"
	"github.com/invoice-export/invoice-export/transform/cockroachdb"
)

func dec(s string) transform.Decimal      { return transform.MustDecimal(s) }
func some(s string) transform.NullDecimal { return transform.Some(transform.MustDecimal(s)) }
func utc(s string) time.Time              { t, _ := time.Parse(time.RFC3339, s); return t }
func billed(ls []transform.Line) (s [2]transform.Decimal) {
	for _, l := range ls {
		s[0], _ = s[0].Add(l.BilledCost)
		if l.PricingCurrencyEffectiveCost.Valid {
			s[1], _ = s[1].Add(l.PricingCurrencyEffectiveCost.Decimal)
		}
	}
	return s
}

// The organization's name is its display name ("Name of the
// organization"); its label is "a short ID used by CockroachDB Support"
// (testdata/vendor-examples/README.md).
const crdbOrg = `{"id": "org-1", "name": "Acme Zürich", "label": "acme-x7k2", "created_at": "2023-02-14T09:12:44.123456Z"}`

const crdbListed = `{"invoices": [{"invoice_id": "inv-10", "period_start": "2026-10-01T00:00:00Z", "period_end": "2026-11-01T00:00:00Z"}]}`

// October: two clusters (one deleted, in two regions), USD and credits, a
// zero amount and a USD currency left out (protobuf defaults), an unknown
// unit, support and a credit; the USD total carries float noise in its
// 15th digit (1e-13), as a float64 sum whose terms cancel can.
const crdbInvoice = `{"invoice_id": "inv-10", "period_start": "2026-10-01T00:00:00Z", "period_end": "2026-11-01T00:00:00Z", "status": "FINALIZED",
 "totals": [{"amount": 60.3000000000001, "currency": "USD"}, {"amount": 120, "currency": "CRDB_CLOUD_CREDITS"}],
 "balances": [{"currency": "USD"}, {"amount": 880, "currency": "CRDB_CLOUD_CREDITS"}],
 "invoice_items": [
  {"cluster": {"id": "c-1", "name": "東京-1", "plan": "STANDARD", "cloud_provider": "GCP", "state": "CREATED",
     "regions": [{"name": "asia-northeast1", "node_count": 3}], "labels": {"team": "a&b", "env": "prod"}},
   "line_items": [
     {"description": "vCPU hours", "quantity": 744, "quantity_unit": "VCPU_HOURS", "unit_cost": 0.05, "total": {"amount": 37.2, "currency": "USD"}},
     {"description": "Data transfer", "quantity": 12.5, "quantity_unit": "GIB", "total": {"currency": "USD"}},
     {"description": "Backup storage", "quantity": 4.2, "quantity_unit": "TIB_MONTHS", "unit_cost": 1, "total": {"amount": 4.2}}],
   "totals": [{"amount": 41.4}]},
  {"cluster": {"id": "c-2", "name": "zürich", "plan": "ADVANCED", "cloud_provider": "AWS", "state": "DELETED", "deleted_at": "2026-10-12T08:30:00.5Z",
     "regions": [{"name": "eu-central-1"}, {"name": "eu-west-1"}], "labels": {}},
   "line_items": [
     {"description": "vCPU hours", "quantity": 240, "quantity_unit": "VCPU_HOURS", "unit_cost": 0.5, "total": {"amount": 120, "currency": "CRDB_CLOUD_CREDITS"}},
     {"description": "Storage", "quantity": 100, "quantity_unit": "GIB_HOURS", "unit_cost": 0.189, "total": {"amount": 18.9, "currency": "USD"}}],
   "totals": [{"amount": 18.9, "currency": "USD"}, {"amount": 120, "currency": "CRDB_CLOUD_CREDITS"}]}],
 "adjustments": [
   {"name": "Premium Support", "amount": {"amount": 10}},
   {"name": "Serverless Free Credit", "amount": {"amount": -10, "currency": "USD"}}]}`

func crdbFiles(invoice string) map[string]string {
	return map[string]string{"organization.json": crdbOrg, "invoices.json": crdbListed, "invoice/inv-10.json": invoice}
}

func runCockroach(t *testing.T, asOf string, files map[string]string) (*transform.Result, []transform.Line, error) {
	t.Helper()
	return testkit.RunProvider(t, cockroachdb.Provider, nil, "2026-10", asOf, files)
}

func TestMapsAndReconcilesExactly(t *testing.T) {
	res, lines, err := runCockroach(t, "2026-11-03", crdbFiles(crdbInvoice))
	if err != nil {
		t.Fatal(err)
	}
	// 5 line items, 2 adjustments, 1 rounding adjustment.
	if len(lines) != 8 {
		t.Fatalf("%d lines, want 8: %+v", len(lines), lines)
	}
	base := transform.Line{
		BillingAccountID: "org-1", BillingAccountName: "Acme Zürich", BillingCurrency: "USD",
		BillingPeriodStart: utc("2026-10-01T00:00:00Z"), BillingPeriodEnd: utc("2026-11-01T00:00:00Z"),
		ChargePeriodStart: utc("2026-10-01T00:00:00Z"), ChargePeriodEnd: utc("2026-11-01T00:00:00Z"),
		InvoiceID: "inv-10", InvoiceIssuerName: "Cockroach Labs", ProviderName: "Cockroach Labs", PublisherName: "Cockroach Labs",
		ServiceName: "CockroachDB Cloud", ServiceCategory: "Databases", ServiceSubcategory: "Relational",
		Provider: "cockroachdb", SourceEndpoint: "GetInvoice",
	}
	want := base
	want.BilledCost, want.EffectiveCost, want.ListCost, want.ContractedCost = dec("37.2"), dec("37.2"), dec("37.2"), dec("37.2")
	want.ChargeCategory, want.ChargeFrequency, want.ChargeDescription = "Usage", "Usage-Based", "vCPU hours"
	want.SkuID, want.SkuMeter = "vCPU hours", "vCPU hours"
	want.ConsumedQuantity, want.PricingQuantity, want.ConsumedUnit, want.PricingUnit = some("744"), some("744"), "vCPU-Hours", "vCPU-Hours"
	want.VendorUnitPrice = some("0.05")
	want.ResourceID, want.ResourceName, want.ResourceType = "c-1", "東京-1", "Cluster"
	want.RegionID, want.RegionName, want.Regions = "asia-northeast1", "asia-northeast1", `["asia-northeast1"]`
	want.Tags, want.Plan, want.CloudProvider = `{"env":"prod","team":"a&b"}`, "STANDARD", "GCP"
	want.ChargeID = "inv-10/c-1/0"
	if lines[0] != want {
		t.Errorf("first line\n got %+v\nwant %+v", lines[0], want)
	}
	// An amount left out is 0; unit_cost too. A currency left out is USD.
	// An unknown unit passes through.
	if l := lines[1]; !l.BilledCost.IsZero() || l.ConsumedQuantity.String() != "12.5" || l.ConsumedUnit != "GiB" || l.VendorUnitPrice.String() != "0" || l.BillingCurrency != "USD" {
		t.Errorf("zero line = %+v", l)
	}
	if l := lines[2]; l.BilledCost.String() != "4.2" || l.BillingCurrency != "USD" || l.PricingUnit != "TIB_MONTHS" || l.ConsumedUnit != "TIB_MONTHS" {
		t.Errorf("unknown unit line = %+v", l)
	}
	// Credits: national BillingCurrency, no cost in it, the credits in
	// PricingCurrencyEffectiveCost. A deleted cluster is billed alike; two
	// regions give no RegionId; no labels give NULL Tags.
	if l := lines[3]; l.BillingCurrency != "USD" || !l.BilledCost.IsZero() || !l.EffectiveCost.IsZero() || !l.ListCost.IsZero() || !l.ContractedCost.IsZero() ||
		l.PricingCurrency != "CRDB_CLOUD_CREDITS" || l.PricingCurrencyEffectiveCost.String() != "120" ||
		l.ResourceID != "c-2" || l.RegionID != "" || l.Regions != `["eu-central-1","eu-west-1"]` || l.Tags != "" {
		t.Errorf("credits line = %+v", l)
	}
	if l := lines[4]; l.ConsumedUnit != "GiB-Hours" || l.BilledCost.String() != "18.9" || l.PricingCurrency != "" || l.PricingCurrencyEffectiveCost.Valid {
		t.Errorf("storage line = %+v", l)
	}
	support, credit, rounding := lines[5], lines[6], lines[7]
	if support.ChargeCategory != "Purchase" || support.ChargeFrequency != "Recurring" || support.BilledCost.String() != "10" ||
		support.ServiceSubcategory != "Support" || support.PricingQuantity.String() != "1" || support.PricingUnit != "Units" ||
		support.SkuID != "Premium Support" || support.ResourceID != "" || support.ConsumedQuantity.Valid {
		t.Errorf("support line = %+v", support)
	}
	if credit.ChargeCategory != "Credit" || credit.ChargeFrequency != "One-Time" || credit.BilledCost.String() != "-10" ||
		credit.ListCost != credit.BilledCost || credit.PricingQuantity.Valid || credit.ChargeDescription != "Serverless Free Credit" {
		t.Errorf("credit line = %+v", credit)
	}
	if rounding.ChargeCategory != "Adjustment" || rounding.BilledCost.String() != "0.0000000000001" || rounding.BillingCurrency != "USD" {
		t.Errorf("rounding line = %+v", rounding)
	}
	if s := billed(lines); s[0].String() != "60.3000000000001" || s[1].String() != "120" {
		t.Errorf("Σ BilledCost = %s, Σ credits = %s", s[0], s[1])
	}

	if len(res.Invoices) != 2 {
		t.Fatalf("invoices = %+v", res.Invoices)
	}
	usd, credits := res.Invoices[0], res.Invoices[1]
	if usd.Currency != "USD" || !usd.Reconciled || usd.VendorTotal.String() != "60.3000000000001" || usd.LinesTotal != usd.VendorTotal ||
		usd.RoundingAdjustment.String() != "0.0000000000001" || !usd.Difference.IsZero() || usd.Status != "FINALIZED" || !usd.Final ||
		usd.InvoiceID != "inv-10" || usd.BillingAccountID != "org-1" || usd.BillingAccountName != "Acme Zürich" || usd.Lines != 8 || usd.SourceEndpoint != "GetInvoice" {
		t.Errorf("USD invoice = %+v", usd)
	}
	if credits.Currency != "CRDB_CLOUD_CREDITS" || !credits.Reconciled || credits.VendorTotal.String() != "120" || credits.LinesTotal.String() != "120" ||
		!credits.RoundingAdjustment.IsZero() || credits.Lines != 1 || !credits.Final {
		t.Errorf("credits invoice = %+v", credits)
	}
}

// Status DRAFT, or none, is not final.
func TestStatus(t *testing.T) {
	for _, c := range []struct {
		name, old, new, status string
		final                  bool
	}{
		{"draft", `"status": "FINALIZED"`, `"status": "DRAFT"`, "DRAFT", false},
		{"no status", `"status": "FINALIZED",`, ``, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, _, err := runCockroach(t, "2026-11-03", crdbFiles(strings.Replace(crdbInvoice, c.old, c.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			for _, inv := range res.Invoices {
				if inv.Status != c.status || inv.Final != c.final || !inv.Reconciled {
					t.Errorf("invoice = %+v", inv)
				}
			}
		})
	}
}

// Adjustments count with the sign they are sent with, whatever their name:
// a positive one named with "credit" adds to the invoice (a Purchase), and
// an invoice whose total says otherwise is reported, not made to agree.
func TestAdjustmentSignsAsSent(t *testing.T) {
	fee := strings.Replace(crdbInvoice, `{"name": "Serverless Free Credit", "amount": {"amount": -10, "currency": "USD"}}]`,
		`{"name": "Serverless Free Credit", "amount": {"amount": -10, "currency": "USD"}}, {"name": "Credit card processing fee", "amount": {"amount": 12.5}}]`, 1)
	fee = strings.Replace(fee, `"amount": 60.3000000000001`, `"amount": 72.80000000000001`, 1)
	res, lines, err := runCockroach(t, "2026-11-03", crdbFiles(fee))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines[5:] {
		got = append(got, l.ChargeDescription+" "+l.ChargeCategory+" "+l.BilledCost.String())
	}
	want := []string{"Premium Support Purchase 10", "Serverless Free Credit Credit -10", "Credit card processing fee Purchase 12.5"}
	if !slices.Equal(got[:3], want) || !res.Invoices[0].Reconciled {
		t.Errorf("adjustments %q, want %q first; invoice %+v", got, want, res.Invoices[0])
	}

	// A credit sent positive while the total subtracts it: the lines are
	// written as sent and the invoice row says by how much they disagree.
	pos := strings.Replace(crdbInvoice, `"amount": -10, "currency": "USD"`, `"amount": 10, "currency": "USD"`, 1)
	res, lines, err = runCockroach(t, "2026-11-03", crdbFiles(pos))
	if err != nil {
		t.Fatal(err)
	}
	if l := lines[6]; l.ChargeDescription != "Serverless Free Credit" || l.BilledCost.String() != "10" || l.ChargeCategory != "Purchase" {
		t.Errorf("positive credit line = %+v", l)
	}
	if usd := res.Invoices[0]; usd.Reconciled || !strings.Contains(usd.Problem, "the lines add up to 80.3 USD") || !usd.RoundingAdjustment.IsZero() {
		t.Errorf("USD invoice = %+v", usd)
	}
}

// Gaps beyond float noise are reported, never adjusted: in the total, and
// in one cluster's totals even when the invoice total agrees.
func TestGapsAreReportedNotPapered(t *testing.T) {
	for _, c := range []struct{ name, old, new, currency, want string }{
		{"total off by a cent", `"amount": 60.3000000000001`, `"amount": 60.31`, "USD", "a gap of 0.01"},
		{"credits off", `"amount": 120, "currency": "CRDB_CLOUD_CREDITS"}],
 "balances"`, `"amount": 120.5, "currency": "CRDB_CLOUD_CREDITS"}],
 "balances"`, "CRDB_CLOUD_CREDITS", "a gap of 0.5"},
		{"cluster totals off", `"totals": [{"amount": 41.4}]`, `"totals": [{"amount": 41.5}]`, "USD", "cluster 東京-1 (c-1): its line items add up to 41.4 USD but its totals say 41.5"},
		{"credits not in the totals", `, {"amount": 120, "currency": "CRDB_CLOUD_CREDITS"}],
 "balances"`, `],
 "balances"`, "CRDB_CLOUD_CREDITS", "the invoice says 0"},
		// A cluster's totals name a currency that neither a line nor the
		// invoice's totals use: the finding gets that currency's row.
		{"cluster totals in a currency of their own", `"totals": [{"amount": 41.4}]`, `"totals": [{"amount": 41.4}, {"amount": 5, "currency": "XYZ_CREDITS"}]`,
			"XYZ_CREDITS", "cluster 東京-1 (c-1): its line items add up to 0 XYZ_CREDITS but its totals say 5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(crdbInvoice, c.old) {
				t.Fatalf("fixture has no %q", c.old)
			}
			res, lines, err := runCockroach(t, "2026-11-03", crdbFiles(strings.Replace(crdbInvoice, c.old, c.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(res.Invoices, func(i transform.Invoice) bool { return i.Currency == c.currency }) {
				t.Errorf("no %s row among %+v", c.currency, res.Invoices)
			}
			for _, inv := range res.Invoices {
				bad := inv.Currency == c.currency
				if inv.Reconciled == bad || bad && !strings.Contains(inv.Problem, c.want) || bad && !inv.RoundingAdjustment.IsZero() {
					t.Errorf("%s invoice = %+v, want a problem with %q", inv.Currency, inv, c.want)
				}
			}
			for _, l := range lines {
				if l.ChargeCategory == "Adjustment" && (l.PricingCurrency == c.currency || l.BillingCurrency == c.currency && l.PricingCurrency == "") {
					t.Errorf("a gap beyond float noise got an adjustment line: %+v", l)
				}
			}
		})
	}
}

// quantity_unit is a protobuf enum: left out, it is its first value HOURS,
// so a quantity always has a unit (FOCUS); as for an omitted currency.
func TestOmittedUnitIsHours(t *testing.T) {
	for name, unit := range map[string]string{"omitted": ``, "empty": `"quantity_unit": "", `} {
		old := `"quantity": 744, "quantity_unit": "VCPU_HOURS", `
		if !strings.Contains(crdbInvoice, old) {
			t.Fatalf("fixture has no %q", old)
		}
		res, lines, err := runCockroach(t, "2026-11-03", crdbFiles(strings.Replace(crdbInvoice, old, `"quantity": 744, `+unit, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if l := lines[0]; l.PricingQuantity.String() != "744" || l.PricingUnit != "Hours" || l.ConsumedUnit != "Hours" || !res.Invoices[0].Reconciled {
			t.Errorf("%s quantity_unit: PricingQuantity %s PricingUnit %q ConsumedUnit %q", name, l.PricingQuantity, l.PricingUnit, l.ConsumedUnit)
		}
	}
}

// Currency codes are upper-cased before they are classified: "usd" is the
// national currency USD, not a virtual one.
func TestCurrencyIsUpperCased(t *testing.T) {
	inv := strings.Replace(crdbInvoice, `{"amount": 37.2, "currency": "USD"}`, `{"amount": 37.2, "currency": "usd"}`, 1)
	inv = strings.Replace(inv, `{"amount": 120, "currency": "CRDB_CLOUD_CREDITS"}],
 "balances"`, `{"amount": 120, "currency": "crdb_cloud_credits"}],
 "balances"`, 1)
	res, lines, err := runCockroach(t, "2026-11-03", crdbFiles(inv))
	if err != nil {
		t.Fatal(err)
	}
	if l := lines[0]; l.BillingCurrency != "USD" || l.BilledCost.String() != "37.2" || l.PricingCurrency != "" || l.PricingCurrencyEffectiveCost.Valid {
		t.Errorf("line in \"usd\": BillingCurrency %q BilledCost %s PricingCurrency %q", l.BillingCurrency, l.BilledCost, l.PricingCurrency)
	}
	if len(res.Invoices) != 2 || res.Invoices[0].Currency != "USD" || res.Invoices[1].Currency != "CRDB_CLOUD_CREDITS" ||
		!res.Invoices[0].Reconciled || !res.Invoices[1].Reconciled {
		t.Errorf("invoices = %+v", res.Invoices)
	}
}

// The same invoice in another field order gives the same lines.
func TestFieldOrderDoesNotMatter(t *testing.T) {
	_, want, err := runCockroach(t, "2026-11-03", crdbFiles(crdbInvoice))
	if err != nil {
		t.Fatal(err)
	}
	reordered := `{"adjustments": [{"amount": {"amount": 10}, "name": "Premium Support"}, {"amount": {"currency": "USD", "amount": -10}, "name": "Serverless Free Credit"}],
 "invoice_items": [
  {"totals": [{"amount": 41.4}], "line_items": [
     {"total": {"currency": "USD", "amount": 37.2}, "unit_cost": 0.05, "quantity_unit": "VCPU_HOURS", "quantity": 744, "description": "vCPU hours"},
     {"total": {"currency": "USD"}, "quantity_unit": "GIB", "quantity": 12.5, "description": "Data transfer"},
     {"total": {"amount": 4.2}, "unit_cost": 1, "description": "Backup storage", "quantity_unit": "TIB_MONTHS", "quantity": 4.2}],
   "cluster": {"labels": {"env": "prod", "team": "a&b"}, "regions": [{"node_count": 3, "name": "asia-northeast1"}], "cloud_provider": "GCP", "plan": "STANDARD", "name": "東京-1", "id": "c-1"}},
  {"line_items": [
     {"total": {"currency": "CRDB_CLOUD_CREDITS", "amount": 120}, "description": "vCPU hours", "quantity": 240, "quantity_unit": "VCPU_HOURS", "unit_cost": 0.5},
     {"description": "Storage", "total": {"amount": 18.9, "currency": "USD"}, "quantity": 100, "quantity_unit": "GIB_HOURS", "unit_cost": 0.189}],
   "totals": [{"currency": "CRDB_CLOUD_CREDITS", "amount": 120}, {"currency": "USD", "amount": 18.9}],
   "cluster": {"regions": [{"name": "eu-central-1"}, {"name": "eu-west-1"}], "labels": {}, "id": "c-2", "name": "zürich", "plan": "ADVANCED", "cloud_provider": "AWS"}}],
 "totals": [{"currency": "CRDB_CLOUD_CREDITS", "amount": 120}, {"currency": "USD", "amount": 60.3000000000001}],
 "status": "FINALIZED", "period_end": "2026-11-01T00:00:00Z", "period_start": "2026-10-01T00:00:00Z", "invoice_id": "inv-10"}`
	res, got, err := runCockroach(t, "2026-11-03", crdbFiles(reordered))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("line %d\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if len(res.Invoices) != 2 || res.Invoices[0].Currency != "USD" || !res.Invoices[0].Reconciled || !res.Invoices[1].Reconciled {
		t.Errorf("invoices = %+v", res.Invoices)
	}
}

// A period with nothing billed gives no line and no invoice.
func TestEmptyPeriod(t *testing.T) {
	files := crdbFiles(crdbInvoice)
	files["invoices.json"] = `{"invoices": []}`
	res, lines, err := runCockroach(t, "2026-11-03", files)
	if err != nil || len(lines) != 0 || len(res.Invoices) != 0 {
		t.Errorf("empty period: %v %v %+v", err, lines, res)
	}
}

// Bad data: one clear error naming the call, its capture file and the
// position; never a panic.
func TestBadData(t *testing.T) {
	r := func(old, new string) string { return strings.Replace(crdbInvoice, old, new, 1) }
	cases := []struct{ name, invoice, want string }{
		{"not json", "<html><body>502 Bad Gateway</body></html>", "not JSON"},
		{"truncated", crdbInvoice[:len(crdbInvoice)/2], "truncated"},
		{"no invoice_id", r(`"invoice_id": "inv-10", `, ``), "the invoice has no invoice_id"},
		{"another invoice", r(`"invoice_id": "inv-10"`, `"invoice_id": "inv-9"`), `the response is invoice "inv-9", not the requested "inv-10"`},
		{"no period_end", r(`"period_end": "2026-11-01T00:00:00Z", `, ``), "no period_start or period_end"},
		{"another month", r(`"period_start": "2026-10-01T00:00:00Z", "period_end": "2026-11-01T00:00:00Z"`, `"period_start": "2026-09-01T00:00:00Z", "period_end": "2026-10-01T00:00:00Z"`), "covers a period from 2026-09-01T00:00:00Z, not 2026-10"},
		{"half a month", r(`"period_end": "2026-11-01T00:00:00Z"`, `"period_end": "2026-10-16T00:00:00Z"`), "only calendar-month billing periods are supported"},
		{"bad date-time", r(`"period_end": "2026-11-01T00:00:00Z"`, `"period_end": "2026-11-01"`), `"2026-11-01" is not a date-time (RFC 3339)`},
		{"amount as a string", r(`"amount": 37.2`, `"amount": "37.2"`), `number expected, found the string "37.2"`},
		{"quantity as a bool", r(`"quantity": 744`, `"quantity": true`), "number expected, found a boolean"},
		{"money out of range", r(`"amount": 37.2`, `"amount": 1e300`), "out of range"},
		{"cluster id a number", r(`"id": "c-1"`, `"id": 1`), "expected a string, found a number"},
		{"cluster without id", r(`"id": "c-1", `, ``), "an invoice item's cluster has no id"},
		{"item without cluster", r(`"cluster": {"id": "c-2", "name": "zürich", "plan": "ADVANCED", "cloud_provider": "AWS", "state": "DELETED", "deleted_at": "2026-10-12T08:30:00.5Z",
     "regions": [{"name": "eu-central-1"}, {"name": "eu-west-1"}], "labels": {}},`, ``), "an invoice item has no cluster"},
		{"line item without total", r(`, "total": {"amount": 4.2}`, ``), `line item "Backup storage" has no total`},
		{"duplicate currency", r(`{"amount": 120, "currency": "CRDB_CLOUD_CREDITS"}],
 "balances"`, `{"amount": 120}],
 "balances"`), "the invoice's totals name USD twice"},
		{"duplicate key", r(`"status": "FINALIZED"`, `"status": "FINALIZED", "status": "DRAFT"`), "duplicate object member name"},
		{"adjustment without amount", r(`{"name": "Premium Support", "amount": {"amount": 10}}`, `{"name": "Premium Support"}`), `adjustment "Premium Support" has no amount`},
		{"labels not strings", r(`"team": "a&b"`, `"team": ["a"]`), "expected a string, found an array"},
		{"items not an array", r(`"invoice_items": [`, `"invoice_items": {"x": [`) + "}", "expected an array, found an object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := runCockroach(t, "2026-11-03", crdbFiles(c.invoice))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
			var de *billing.DataError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), "cockroachdb GetInvoice (cockroachdb/invoice/inv-10.json)") || !strings.Contains(err.Error(), "at byte ") {
				t.Errorf("not a positioned data error: %v", err)
			}
		})
	}
	// The organization must name its id.
	files := crdbFiles(crdbInvoice)
	files["organization.json"] = `{"name": "acme"}`
	if _, _, err := runCockroach(t, "2026-11-03", files); err == nil || !strings.Contains(err.Error(), "cockroachdb GetOrganizationInfo (cockroachdb/organization.json): bad data at byte") ||
		!strings.Contains(err.Error(), "the organization has no id") {
		t.Errorf("organization without id: %v", err)
	}
}

// The bundled sample: October final (credits, a total of 988.5700000000002
// read as 988.57, omitted defaults), November a draft.
func TestSampleCaptures(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("../../testdata/captures/cockroachdb", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	files := map[string]string{"organization.json": read("organization.json"), "invoices.json": read("invoices.json"),
		"invoice/3b0d7c52-9a4e-4f1b-8c6d-2e5f7a9b1c04.json": read("invoice/3b0d7c52-9a4e-4f1b-8c6d-2e5f7a9b1c04.json")}
	res, lines, err := runCockroach(t, "2026-11-03", files)
	if err != nil {
		t.Fatal(err)
	}
	// 9 line items, 2 adjustments; the total's float noise is gone at 15
	// digits, so no rounding adjustment.
	if len(lines) != 11 || len(res.Invoices) != 2 {
		t.Fatalf("%d lines, invoices %+v", len(lines), res.Invoices)
	}
	if s := billed(lines); s[0].String() != "988.57" || s[1].String() != "4203.6" || res.Invoices[0].VendorTotal.String() != "988.57" {
		t.Errorf("Σ = %s USD, %s credits", s[0], s[1])
	}
	var deleted, unknown int
	for _, l := range lines {
		if l.ResourceName == "sandbox-old" {
			deleted++
		}
		if l.ConsumedUnit == "GIB_MONTHS" {
			unknown++
		}
	}
	if deleted != 2 || unknown != 1 {
		t.Errorf("deleted cluster lines %d, unknown-unit lines %d", deleted, unknown)
	}
	for _, inv := range res.Invoices {
		if !inv.Reconciled || !inv.Final || inv.BillingAccountName != "Acme Logistik GmbH – Zürich" {
			t.Errorf("invoice = %+v", inv)
		}
	}
}

func FuzzInvoice(f *testing.F) {
	for _, s := range []string{crdbInvoice, `{"invoice_id":"inv-10","period_start":"2026-10-01T00:00:00Z","period_end":"2026-11-01T00:00:00Z"}`, "<html>", "",
		strings.Replace(strings.Replace(crdbInvoice, `"currency": "USD"}`, `"currency": "usd"}`, 1), `"quantity_unit": "VCPU_HOURS", `, ``, 1)} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 1<<20 {
			return
		}
		res, lines, err := testkit.RunProviderIn(t, dir, cockroachdb.Provider, nil, "2026-10", "2026-11-03", crdbFiles(body))
		testkit.CheckAccepted(t, res, lines, err)
	})
}

// The organization body (the billing account of every line) takes any
// bytes the same way.
func FuzzOrganization(f *testing.F) {
	for _, s := range []string{crdbOrg, `{"id":"org-1"}`, `{"id":""}`, `{"id":"a/b","label":"x"}`, "<html>", ""} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 1<<20 {
			return
		}
		files := crdbFiles(crdbInvoice)
		files["organization.json"] = body
		res, lines, err := testkit.RunProviderIn(t, dir, cockroachdb.Provider, nil, "2026-10", "2026-11-03", files)
		testkit.CheckAccepted(t, res, lines, err)
	})
}

// With COCKROACH_ORGANIZATION_ID, no organization is read: the variable is
// the billing account, which then has no name.
func TestOrganizationFromConfiguration(t *testing.T) {
	files := crdbFiles(crdbInvoice)
	delete(files, "organization.json")
	res, lines, err := testkit.RunProvider(t, cockroachdb.Provider, map[string]string{"COCKROACH_ORGANIZATION_ID": "org-9"}, "2026-10", "2026-11-03", files)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.BillingAccountID != "org-9" || l.BillingAccountName != "" {
			t.Fatalf("line of account %q named %q", l.BillingAccountID, l.BillingAccountName)
		}
	}
	for _, inv := range res.Invoices {
		if inv.BillingAccountID != "org-9" || inv.BillingAccountName != "" || !inv.Reconciled {
			t.Errorf("invoice = %+v", inv)
		}
	}
	if len(lines) != 8 {
		t.Errorf("%d lines", len(lines))
	}
}

// Every line is named (x_ChargeId) by invoice, cluster and position in
// line_items; adjustments by position, rounding by currency.
func TestChargeIDs(t *testing.T) {
	_, lines, err := runCockroach(t, "2026-11-03", crdbFiles(crdbInvoice))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		got = append(got, l.ChargeID)
	}
	want := []string{"inv-10/c-1/0", "inv-10/c-1/1", "inv-10/c-1/2", "inv-10/c-2/0", "inv-10/c-2/1",
		"inv-10/adjustments/0", "inv-10/adjustments/1", "inv-10/rounding/USD"}
	if !slices.Equal(got, want) {
		t.Errorf("ChargeIDs = %q, want %q", got, want)
	}
}

// Line items that repeat description, unit and unit cost within a cluster
// (one per region: LineItem names no region), and a cluster with two
// invoice items, are separate lines with distinct ids, the same on every
// run; they reconcile like any other.
func TestRepeatsAreLines(t *testing.T) {
	vcpu := `{"description": "vCPU hours", "quantity": 744, "quantity_unit": "VCPU_HOURS", "unit_cost": 0.05, "total": {"amount": 37.2, "currency": "USD"}}`
	inv := strings.Replace(crdbInvoice, vcpu, vcpu+",\n     "+vcpu, 1)
	inv = strings.Replace(inv, `"totals": [{"amount": 41.4}]`, `"totals": [{"amount": 78.6}]`, 1)
	second := `{"cluster": {"id": "c-1", "name": "東京-1"}, "line_items": [` + vcpu + `], "totals": [{"amount": 37.2}]}`
	inv = strings.Replace(inv, `"invoice_items": [`, `"invoice_items": [`+second+`,`, 1)
	inv = strings.Replace(inv, `"amount": 60.3000000000001, "currency": "USD"`, `"amount": 134.70000000000002, "currency": "USD"`, 1)
	ids := func() []string {
		res, lines, err := runCockroach(t, "2026-11-03", crdbFiles(inv))
		if err != nil {
			t.Fatal(err)
		}
		if usd := res.Invoices[0]; !usd.Reconciled || usd.VendorTotal.String() != "134.7" || usd.Lines != 9 {
			t.Errorf("USD invoice = %+v", usd)
		}
		var out []string
		for _, l := range lines {
			if l.SkuID == "vCPU hours" && l.BillingCurrency == "USD" && l.PricingCurrency == "" {
				out = append(out, l.ChargeID+" "+l.BilledCost.String())
			}
		}
		return out
	}
	got := ids()
	want := []string{"inv-10/c-1/0 37.2", "inv-10/c-1#2/0 37.2", "inv-10/c-1#2/1 37.2"}
	if !slices.Equal(got, want) {
		t.Errorf("repeated lines = %q, want %q", got, want)
	}
	if again := ids(); !slices.Equal(again, got) {
		t.Errorf("a second run gives %q, the first %q", again, got)
	}
}

// Every number of a field the API documents as a float64 (amounts) or its
// SDK types as one (quantity, unit_cost) reads at the 15 significant
// digits a float64 holds: float sums and float64 texts of the vendor's
// decimals read as those decimals, in the lines, the clusters' checks and
// the totals.
func TestFloatFieldsAt15Digits(t *testing.T) {
	inv := crdbInvoice
	for _, c := range [][2]string{
		{`"quantity": 744, "quantity_unit": "VCPU_HOURS", "unit_cost": 0.05, "total": {"amount": 37.2, "currency": "USD"}`,
			`"quantity": 744.0000000000001, "quantity_unit": "VCPU_HOURS", "unit_cost": 0.05000000000000001, "total": {"amount": 37.200000000000003, "currency": "USD"}`},
		{`"totals": [{"amount": 41.4}]`, `"totals": [{"amount": 41.400000000000006}]`},
		{`"amount": 60.3000000000001`, `"amount": 60.300000000000004`},
		{`"quantity": 4.2,`, `"quantity": 4.2000000000000002,`},
	} {
		if !strings.Contains(inv, c[0]) {
			t.Fatalf("fixture has no %q", c[0])
		}
		inv = strings.Replace(inv, c[0], c[1], 1)
	}
	res, lines, err := runCockroach(t, "2026-11-03", crdbFiles(inv))
	if err != nil {
		t.Fatal(err)
	}
	if l := lines[0]; l.BilledCost.String() != "37.2" || l.PricingQuantity.String() != "744" || l.VendorUnitPrice.String() != "0.05" {
		t.Errorf("first line: %s, %s at %s", l.BilledCost, l.PricingQuantity, l.VendorUnitPrice)
	}
	if l := lines[2]; l.PricingQuantity.String() != "4.2" {
		t.Errorf("quantity %s", l.PricingQuantity)
	}
	// No float noise is left: 7 lines, no rounding adjustment.
	usd := res.Invoices[0]
	if len(lines) != 7 || usd.VendorTotal.String() != "60.3" || usd.LinesTotal.String() != "60.3" || !usd.RoundingAdjustment.IsZero() || !usd.Reconciled {
		t.Errorf("%d lines; USD invoice %+v", len(lines), usd)
	}
}
