package warpstream_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/transform"
	"github.com/invoice-export/invoice-export/transform/warpstream"
)

// run writes files into a capture folder and runs the real jobs and
// transform over them for one period, as of asOf.
func run(t *testing.T, period, asOf string, files map[string]string) (*transform.Result, []transform.Line, error) {
	t.Helper()
	return testkit.RunProvider(t, warpstream.Provider, env, period, asOf, files)
}

// env names the billing account: WarpStream's responses name none.
var env = map[string]string{"WARPSTREAM_ACCOUNT_ID": "acct-1"}

// A small October: two clusters, tiered and zero-priced products, days
// with 8 decimals, credits and support; invoice lines rounded to cents.
const wsPast = `{
  "date_from": "2026-10-01", "date_to": "2026-10-31",
  "tenants": [{"tenant_id": "ti_a", "workspaces": [{"workspace_id": "wi_a", "clusters": [
    {"virtual_cluster_id": "vci_1", "charges": [
      {"product": "Cluster minutes", "unit_price": 0.23148, "quantity": 2880, "total": 6.67},
      {"product": "GiB minutes", "unit_price": 0.00000463, "quantity": 1343.727466603741, "total": 0}], "total": 6.67},
    {"virtual_cluster_id": "vci_dl_2", "charges": [
      {"product": "Uncompressed GiB written - Tier 1", "unit_price": 0.02000000, "quantity": 1654.7571513997391, "total": 33.10}], "total": 33.10}
  ], "total": 39.77}], "total": 39.77}],
  "account_charges": [
    {"product": "Free credits", "unit_price": 1, "quantity": -10, "total": -10},
    {"product": "Premium Support", "unit_price": 500, "quantity": 1, "total": 500}],
  "total": 529.77
}`

const wsBreakdowns = `{
  "date_from": "2026-10-01", "date_to": "2026-11-01",
  "tenants": [{"tenant_id": "ti_a", "workspaces": [{"workspace_id": "wi_a", "workspace_name": "Zürich prod", "clusters": [
    {"virtual_cluster_id": "vci_1", "cluster_name": "vcn_orders", "cluster_regions": ["us-east-1"], "charges": [
      {"product": "Cluster minutes", "unit_price": 0.23148, "breakdowns": [
        {"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 1440, "total": 3.33331},
        {"date_from": "2026-10-02", "date_to": "2026-10-03", "quantity": 1440, "total": 3.33331}]},
      {"product": "GiB minutes", "unit_price": 0.00000463, "breakdowns": [
        {"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 0.03288155235350132, "total": 0}]}]},
    {"virtual_cluster_id": "vci_dl_2", "cluster_name": "vcn_dl_lake", "cluster_regions": ["eu-central-1", "eu-west-1"], "charges": [
      {"product": "Uncompressed GiB written - Tier 1", "unit_price": 0.02000000, "breakdowns": [
        {"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 829.0839424058795, "total": 16.58168},
        {"date_from": "2026-10-02", "date_to": "2026-10-03", "quantity": 825.6732089938596, "total": 16.51346},
        {"date_from": "2026-11-01", "date_to": "2026-11-02", "quantity": 1, "total": 0.02}]}]}
  ]}]}],
  "account_charges": []
}`

func wsFiles(past, breakdowns string) map[string]string {
	return map[string]string{"past_invoice/2026-10.json": past, "invoice_breakdowns/2026-10.json": breakdowns}
}

func sum(lines []transform.Line) transform.Decimal {
	var s transform.Decimal
	for _, l := range lines {
		s, _ = s.Add(l.BilledCost)
	}
	return s
}

func TestMapsAndReconcilesExactly(t *testing.T) {
	res, lines, err := run(t, "2026-10", "2026-11-03", wsFiles(wsPast, wsBreakdowns))
	if err != nil {
		t.Fatal(err)
	}
	// 5 daily lines (November 1st is left out), 2 account charges, 1 adjustment.
	if len(lines) != 8 {
		t.Fatalf("%d lines, want 8: %+v", len(lines), lines)
	}
	if got := sum(lines).String(); got != "529.77" {
		t.Errorf("Σ BilledCost = %s, want the invoice total 529.77 exactly", got)
	}
	// Days: 3.33331+3.33331+0+16.58168+16.51346 = 39.76176; credits and
	// support 490; the invoice says 529.77: a rounding gap of 0.00824.
	adj := lines[len(lines)-1]
	if adj.ChargeCategory != transform.Adjustment || adj.BilledCost.String() != "0.00824" || adj.EffectiveCost != adj.BilledCost {
		t.Errorf("adjustment line = %+v", adj)
	}
	if len(res.Invoices) != 1 {
		t.Fatalf("invoices = %+v", res.Invoices)
	}
	inv := res.Invoices[0]
	if !inv.Reconciled || inv.VendorTotal.String() != "529.77" || inv.LinesTotal.String() != "529.77" || !inv.Difference.IsZero() ||
		inv.RoundingAdjustment.String() != "0.00824" || inv.Lines != 8 || inv.Status != "final" || !inv.Final || inv.InvoiceID != "" || inv.BillingAccountID != "acct-1" {
		t.Errorf("invoice = %+v", inv)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "1 daily lines dated outside 2026-10") {
		t.Errorf("notes = %q", res.Notes)
	}

	day := lines[0]
	want := transform.Line{
		BilledCost: transform.MustDecimal("3.33331"), EffectiveCost: transform.MustDecimal("3.33331"),
		ListCost: transform.MustDecimal("3.33331"), ContractedCost: transform.MustDecimal("3.33331"),
		BillingAccountID: "acct-1", BillingCurrency: "USD",
		BillingPeriodStart: date("2026-10-01"), BillingPeriodEnd: date("2026-11-01"),
		ChargeCategory: "Usage", ChargeFrequency: "Usage-Based", ChargeDescription: "Cluster minutes",
		ChargePeriodStart: date("2026-10-01"), ChargePeriodEnd: date("2026-10-02"),
		ConsumedQuantity: transform.Some(transform.MustDecimal("1440")), PricingQuantity: transform.Some(transform.MustDecimal("1440")),
		ConsumedUnit: "Minutes", PricingUnit: "Minutes",
		InvoiceIssuerName: "WarpStream", ProviderName: "WarpStream", PublisherName: "WarpStream", ServiceName: "WarpStream",
		ServiceCategory: "Analytics", ServiceSubcategory: "Streaming Analytics",
		RegionID: "us-east-1", RegionName: "us-east-1", Regions: `["us-east-1"]`,
		ResourceID: "vci_1", ResourceName: "vcn_orders", ResourceType: "Virtual Cluster",
		SkuID: "Cluster minutes", SkuMeter: "Cluster minutes", SubAccountID: "wi_a", SubAccountName: "Zürich prod",
		Provider: "warpstream", TenantID: "ti_a", VendorUnitPrice: transform.Some(transform.MustDecimal("0.23148")),
		SourceEndpoint: "get_invoice_breakdowns", ChargeID: "ti_a/wi_a/vci_1/Cluster minutes/2026-10-01",
	}
	if day != want {
		t.Errorf("first line\n got %+v\nwant %+v", day, want)
	}
	// 17 significant digits survive; a multi-region cluster has no RegionId.
	gib := lines[2]
	if gib.ConsumedQuantity.String() != "0.03288155235350132" || !gib.BilledCost.IsZero() || gib.ConsumedUnit != "GiB-Minutes" {
		t.Errorf("GiB minutes line = %+v", gib)
	}
	tier := lines[3]
	if tier.RegionID != "" || tier.Regions != `["eu-central-1","eu-west-1"]` || tier.ResourceType != "Tableflow Cluster" ||
		tier.SkuID != "Uncompressed GiB written - Tier 1" || tier.SkuMeter != "Uncompressed GiB written" || tier.ConsumedUnit != "GiB" {
		t.Errorf("tiered line = %+v", tier)
	}
	credit, support := lines[5], lines[6]
	if credit.ChargeCategory != "Credit" || credit.BilledCost.String() != "-10" || credit.ConsumedQuantity.Valid || credit.ResourceID != "" ||
		!credit.ChargePeriodStart.Equal(date("2026-10-01")) || !credit.ChargePeriodEnd.Equal(date("2026-11-01")) {
		t.Errorf("credit line = %+v", credit)
	}
	if support.ChargeCategory != "Purchase" || support.ChargeFrequency != "Recurring" || support.ServiceSubcategory != "Support" ||
		support.PricingQuantity.String() != "1" || support.PricingUnit != "Units" || support.SourceEndpoint != "get_past_invoice" {
		t.Errorf("support line = %+v", support)
	}
}

func date(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t }

// Days and invoice lines that differ beyond rounding are reported, never
// adjusted, even when the differences cancel out in the total.
func TestGapsAreReportedNotPapered(t *testing.T) {
	for name, past := range map[string]string{
		"total off by a dollar": strings.Replace(wsPast, `"total": 529.77`, `"total": 530.77`, 1),
		"lines off, total fine": strings.Replace(strings.Replace(wsPast, `"quantity": 2880, "total": 6.67`, `"quantity": 2880, "total": 7.67`, 1),
			`"total": 33.10}], "total": 33.10}`, `"total": 32.10}], "total": 32.10}`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			res, lines, err := run(t, "2026-10", "2026-11-03", wsFiles(past, wsBreakdowns))
			if err != nil {
				t.Fatal(err)
			}
			inv := res.Invoices[0]
			if inv.Reconciled || inv.Problem == "" || !inv.RoundingAdjustment.IsZero() || inv.Difference.IsZero() && name == "total off by a dollar" {
				t.Errorf("invoice = %+v", inv)
			}
			for _, l := range lines {
				if l.ChargeCategory == transform.Adjustment {
					t.Errorf("a gap beyond rounding got an adjustment line: %+v", l)
				}
			}
			if name == "lines off, total fine" && !strings.Contains(inv.Problem, "vci_1") {
				t.Errorf("problem does not name the cluster: %s", inv.Problem)
			}
		})
	}
}

// The same data in another field order gives the same lines.
func TestFieldOrderDoesNotMatter(t *testing.T) {
	_, want, err := run(t, "2026-10", "2026-11-03", wsFiles(wsPast, wsBreakdowns))
	if err != nil {
		t.Fatal(err)
	}
	// Children before identifiers at every level.
	reordered := `{"account_charges": [], "tenants": [{"workspaces": [{"clusters": [
	  {"charges": [
	    {"breakdowns": [
	      {"total": 3.33331, "quantity": 1440, "date_to": "2026-10-02", "date_from": "2026-10-01"},
	      {"total": 3.33331, "quantity": 1440, "date_to": "2026-10-03", "date_from": "2026-10-02"}], "unit_price": 0.23148, "product": "Cluster minutes"},
	    {"breakdowns": [{"total": 0, "quantity": 0.03288155235350132, "date_to": "2026-10-02", "date_from": "2026-10-01"}], "product": "GiB minutes", "unit_price": 0.00000463}],
	   "cluster_regions": ["us-east-1"], "cluster_name": "vcn_orders", "virtual_cluster_id": "vci_1"},
	  {"charges": [{"unit_price": 0.02000000, "product": "Uncompressed GiB written - Tier 1", "breakdowns": [
	      {"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 829.0839424058795, "total": 16.58168},
	      {"date_from": "2026-10-02", "date_to": "2026-10-03", "quantity": 825.6732089938596, "total": 16.51346},
	      {"date_from": "2026-11-01", "date_to": "2026-11-02", "quantity": 1, "total": 0.02}]}],
	   "virtual_cluster_id": "vci_dl_2", "cluster_name": "vcn_dl_lake", "cluster_regions": ["eu-central-1", "eu-west-1"]}],
	  "workspace_name": "Zürich prod", "workspace_id": "wi_a"}], "tenant_id": "ti_a"}], "date_to": "2026-11-01", "date_from": "2026-10-01"}`
	_, got, err := run(t, "2026-10", "2026-11-03", wsFiles(wsPast, reordered))
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
}

// Bad data: one clear error naming the body and the position; never a panic.
// What is only unusual (a repeat, an omitted zero, a tier named otherwise)
// is exported instead: ledger_test.go.
func TestBadData(t *testing.T) {
	cases := []struct {
		name, past, breakdowns, want string
	}{
		{"html instead of json", wsPast, "<html><body>502 Bad Gateway</body></html>", "not JSON"},
		{"truncated", wsPast, wsBreakdowns[:len(wsBreakdowns)/2], "truncated"},
		{"number as a string", wsPast, strings.Replace(wsBreakdowns, `"total": 3.33331`, `"total": "3.33331"`, 1), `number expected, found the string "3.33331"`},
		{"NaN", wsPast, strings.Replace(wsBreakdowns, `"total": 3.33331`, `"total": NaN`, 1), "invalid character"},
		{"absurd magnitude", wsPast, strings.Replace(wsBreakdowns, `"total": 3.33331`, `"total": 1e300`, 1), "out of range for DECIMAL(38,24)"},
		{"money beyond 24 decimals", wsPast, strings.Replace(wsBreakdowns, `"total": 3.33331`, `"total": 3.1234567890123456789012345`, 1), "more than 24 decimal places"},
		{"charge without product", wsPast, strings.Replace(wsBreakdowns, `"product": "GiB minutes", `, ``, 1), "a charge of cluster vci_1 has no product"},
		{"day without date", wsPast, strings.Replace(wsBreakdowns, `"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 1440`, `"date_to": "2026-10-02", "quantity": 1440`, 1), "a daily breakdown has no date_from or date_to"},
		{"missing tenant id", wsPast, strings.Replace(wsBreakdowns, `"tenant_id": "ti_a", `, ``, 1), "a tenant has no tenant_id"},
		{"missing cluster id", wsPast, strings.Replace(wsBreakdowns, `"virtual_cluster_id": "vci_1", `, ``, 1), "has no virtual_cluster_id"},
		{"duplicate key", wsPast, strings.Replace(wsBreakdowns, `"total": 3.33331}`, `"total": 3.33331, "total": 4}`, 1), "duplicate object member name"},
		{"day ends before it starts", wsPast, strings.Replace(wsBreakdowns, `"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 1440`, `"date_from": "2026-10-02", "date_to": "2026-10-01", "quantity": 1440`, 1), "ends (2026-10-01) before it starts"},
		{"another month's invoice", strings.Replace(wsPast, `"date_from": "2026-10-01"`, `"date_from": "2026-09-01"`, 1), wsBreakdowns, "replay with the --as-of of the run that recorded it"},
		{"custom billing cycle", strings.Replace(wsPast, `"date_to": "2026-10-31"`, `"date_to": "2026-10-15"`, 1), wsBreakdowns, "only calendar-month billing periods are supported"},
		{"trailing garbage", wsPast, wsBreakdowns + "{}", "after the top-level object"},
		{"wrong shape", wsPast, `{"tenants": {"tenant_id": "ti_a"}}`, "expected an array, found an object"},
		{"bad date", wsPast, strings.Replace(wsBreakdowns, `"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 1440`, `"date_from": "2026-10-32", "date_to": "2026-10-02", "quantity": 1440`, 1), `"2026-10-32" is not a date`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := run(t, "2026-10", "2026-11-03", wsFiles(c.past, c.breakdowns))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
			// Every data error names the vendor call, its capture file and a byte position.
			var de *billing.DataError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), "warpstream get_") || !strings.Contains(err.Error(), ".json)") || !strings.Contains(err.Error(), "at byte ") {
				t.Errorf("not a positioned data error: %v", err)
			}
		})
	}
}

// The open month comes from the pending invoice.
func TestPendingInvoice(t *testing.T) {
	pending := strings.ReplaceAll(strings.ReplaceAll(wsPast, "2026-10-01", "2026-11-01"), "2026-10-31", "2026-11-30")
	brk := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(wsBreakdowns, "2026-10-0", "2026-11-0"), `"2026-11-01", "date_to": "2026-11-02", "quantity": 1, "total": 0.02`, `"2026-12-01", "date_to": "2026-12-02", "quantity": 1, "total": 0.02`), `"date_to": "2026-11-01"`, `"date_to": "2026-12-01"`)
	res, lines, err := run(t, "2026-11", "2026-11-03", map[string]string{"pending_invoice.json": pending, "invoice_breakdowns/2026-11.json": brk})
	if err != nil {
		t.Fatal(err)
	}
	inv := res.Invoices[0]
	if inv.Status != "pending" || inv.Final || !inv.Reconciled || inv.SourceEndpoint != "get_pending_invoice" || sum(lines).String() != "529.77" {
		t.Errorf("pending invoice = %+v", inv)
	}
}

// The invoice's total must be exactly the sum of its own lines (charges and
// account charges, all in cents), and so must every cluster, workspace and
// tenant total it states. Otherwise the invoice is reported and no rounding
// adjustment closes the gap, however many lines could have "explained" it:
// rounding is only what separates an invoice line from its days.
func TestInvoiceTotalIsItsOwnLines(t *testing.T) {
	// 20 clusters, each invoice line 2.00 exactly its days 1.00 + 1.00;
	// the invoice says 40.09, 9 cents more than its own lines.
	var inv, brk []string
	for i := range 20 {
		inv = append(inv, fmt.Sprintf(`{"virtual_cluster_id": "vci_%d", "charges": [{"product": "Cluster minutes", "unit_price": 0.23148, "quantity": 2880, "total": 2.00}]}`, i))
		brk = append(brk, fmt.Sprintf(`{"virtual_cluster_id": "vci_%d", "cluster_name": "n", "cluster_regions": ["us-east-1"], "charges": [{"product": "Cluster minutes", "unit_price": 0.23148, "breakdowns": [
		 {"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 1440, "total": 1.00},
		 {"date_from": "2026-10-02", "date_to": "2026-10-03", "quantity": 1440, "total": 1.00}]}]}`, i))
	}
	past := `{"date_from": "2026-10-01", "date_to": "2026-10-31", "tenants": [{"tenant_id": "ti_a", "workspaces": [{"workspace_id": "wi_a", "clusters": [` +
		strings.Join(inv, ",") + `]}]}], "account_charges": [], "total": 40.09}`
	b := `{"tenants": [{"tenant_id": "ti_a", "workspaces": [{"workspace_id": "wi_a", "workspace_name": "w", "clusters": [` + strings.Join(brk, ",") + `]}]}]}`

	for _, c := range []struct{ name, past, breakdowns, want string }{
		{"total beyond its lines", past, b, "the invoice total 40.09 is not the sum of its own lines: its charges add up to 40 and its account charges to 0, 40 in all (a difference of 0.09)"},
		{"total beyond its lines and account charges", strings.Replace(wsPast, `"total": 529.77`, `"total": 529.78`, 1), wsBreakdowns,
			"its charges add up to 39.77 and its account charges to 490, 529.77 in all (a difference of 0.01)"},
		{"cluster total", strings.Replace(wsPast, `"total": 0}], "total": 6.67},`, `"total": 0}], "total": 6.68},`, 1), wsBreakdowns,
			"1 totals of the invoice are not the sum of their charges, e.g. cluster vci_1: total 6.68, its charges add up to 6.67"},
		{"workspace total", strings.Replace(wsPast, `], "total": 39.77}], "total": 39.77}]`, `], "total": 39.78}], "total": 39.77}]`, 1), wsBreakdowns,
			"workspace wi_a: total 39.78, its charges add up to 39.77"},
		{"tenant total", strings.Replace(wsPast, `], "total": 39.77}], "total": 39.77}]`, `], "total": 39.77}], "total": 39.7}]`, 1), wsBreakdowns,
			"tenant ti_a: total 39.7, its charges add up to 39.77"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.past == wsPast {
				t.Fatal("the fixture did not change")
			}
			res, lines, err := run(t, "2026-10", "2026-11-03", wsFiles(c.past, c.breakdowns))
			if err != nil {
				t.Fatal(err)
			}
			inv := res.Invoices[0]
			if inv.Reconciled || !strings.Contains(inv.Problem, c.want) || !inv.RoundingAdjustment.IsZero() {
				t.Errorf("invoice = %+v\nwant a problem with %q", inv, c.want)
			}
			for _, l := range lines {
				if l.ChargeCategory == transform.Adjustment {
					t.Errorf("the gap got an adjustment line: %+v", l)
				}
			}
		})
	}

	// Totals that are their lines' sums reconcile, the adjustment being
	// exactly Σ (invoice line − its days).
	ok := strings.Replace(past, `"total": 40.09`, `"total": 40`, 1)
	res, lines, err := run(t, "2026-10", "2026-11-03", wsFiles(ok, b))
	if err != nil {
		t.Fatal(err)
	}
	if inv := res.Invoices[0]; !inv.Reconciled || inv.Problem != "" || !inv.RoundingAdjustment.IsZero() || len(lines) != 40 {
		t.Errorf("invoice = %+v, %d lines", inv, len(lines))
	}
}

// A breakdown is one day [d, d+1): a longer one is bad data, never a line
// reaching past the billing period.
func TestBreakdownIsOneDay(t *testing.T) {
	for _, c := range []struct{ from, to string }{{"2026-10-31", "2026-11-05"}, {"2026-10-02", "2026-10-04"}} {
		b := strings.Replace(wsBreakdowns, `{"date_from": "2026-10-02", "date_to": "2026-10-03", "quantity": 1440, "total": 3.33331}`,
			`{"date_from": "`+c.from+`", "date_to": "`+c.to+`", "quantity": 1440, "total": 3.33331}`, 1)
		_, lines, err := run(t, "2026-10", "2026-11-03", wsFiles(wsPast, b))
		var de *billing.DataError
		want := "a daily breakdown covers " + c.from + " to " + c.to + ": each must cover exactly one day"
		if !errors.As(err, &de) || !strings.Contains(err.Error(), want) ||
			!strings.Contains(err.Error(), "warpstream get_invoice_breakdowns (warpstream/invoice_breakdowns/2026-10.json): bad data at byte ") ||
			de.Pointer != "/tenants/0/workspaces/0/clusters/0/charges/0/breakdowns/1" {
			t.Errorf("%s → %s: err = %v (lines %d), want a positioned %q", c.from, c.to, err, len(lines), want)
		}
	}
}

// FOCUS wants PricingQuantity and PricingUnit on every Usage and Purchase
// line: a purchase without a quantity is one of it, in Units (as
// CockroachDB's support adjustments are); a product whose name tells no
// unit is counted in Units.
func TestPurchaseAndUsageHaveQuantityAndUnit(t *testing.T) {
	past := strings.Replace(wsPast, `{"product": "Premium Support", "unit_price": 500, "quantity": 1, "total": 500}`, `{"product": "Premium Support", "total": 500}`, 1)
	if past == wsPast {
		t.Fatal("the fixture did not change")
	}
	past = strings.Replace(past, `"product": "GiB minutes", "unit_price": 0.00000463, "quantity": 1343.727466603741`, `"product": "Schema registry requests", "unit_price": 0.00000463, "quantity": 1343.727466603741`, 1)
	brk := strings.Replace(wsBreakdowns, `"product": "GiB minutes"`, `"product": "Schema registry requests"`, 1)
	res, lines, err := run(t, "2026-10", "2026-11-03", wsFiles(past, brk))
	if err != nil {
		t.Fatal(err)
	}
	var purchases, usage int
	for _, l := range lines {
		switch l.ChargeCategory {
		case transform.Purchase:
			purchases++
			if l.PricingQuantity.String() != "1" || !l.PricingQuantity.Valid || l.PricingUnit != "Units" || l.ConsumedQuantity.Valid {
				t.Errorf("purchase without a quantity: %+v", l)
			}
		case transform.Usage:
			usage++
			if !l.PricingQuantity.Valid || l.PricingUnit == "" || l.ConsumedUnit == "" {
				t.Errorf("usage line without a quantity or unit: %+v", l)
			}
			if l.SkuID == "Schema registry requests" && (l.PricingUnit != "Units" || l.ConsumedUnit != "Units") {
				t.Errorf("a product that names no unit: %+v", l)
			}
		}
	}
	if purchases != 1 || usage != 5 || !res.Invoices[0].Reconciled {
		t.Errorf("%d purchases, %d usage lines, invoice %+v", purchases, usage, res.Invoices[0])
	}
}

// Quantities keep 24 decimals; more are rounded half to even, and the run
// says how many were (money beyond 24 decimals fails instead: BadData).
func TestRoundedQuantitiesAreNoted(t *testing.T) {
	brk := strings.Replace(wsBreakdowns, `"quantity": 829.0839424058795`, `"quantity": 829.08394240587950000000000051`, 1)
	brk = strings.Replace(brk, `"quantity": 825.6732089938596`, `"quantity": 8.256732089938596e-23`, 1)
	res, lines, err := run(t, "2026-10", "2026-11-03", wsFiles(wsPast, brk))
	if err != nil {
		t.Fatal(err)
	}
	if q := lines[3].PricingQuantity.String(); q != "829.083942405879500000000001" {
		t.Errorf("rounded quantity = %s", q)
	}
	want := "2 quantities had more than 24 decimals and were rounded half-to-even at the 24th"
	if !slices.Contains(res.Notes, want) {
		t.Errorf("notes = %q, want %q", res.Notes, want)
	}
	// Exact quantities give no such note.
	if res, _, err = run(t, "2026-10", "2026-11-03", wsFiles(wsPast, wsBreakdowns)); err != nil || slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "rounded") }) {
		t.Errorf("exact quantities: %v, notes %q", err, res.Notes)
	}
}
