package invoiceexport_test

import (
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/internal/testkit/duck"
)

// The sample run is the product's front door: these tests run it as the
// README does and read the output back with DuckDB, an independent reader.

func TestSampleRunMatchesVendorTotals(t *testing.T) {
	out := t.TempDir()
	res := mustExport(t, run{Out: out})
	db := duck.Open(t)
	lines, invoices := duck.Table(out, "charge_lines"), duck.Table(out, "invoices")

	// Σ BilledCost per provider, period and currency equals the vendor's
	// total to the last digit. A virtual currency (credits) is summed from
	// PricingCurrencyEffectiveCost, never into the national currency.
	got := map[string]*big.Rat{}
	for _, r := range duck.Rows(t, db, `
		SELECT provider, billing_period, BillingCurrency, sum(BilledCost)::VARCHAR FROM `+lines+` GROUP BY ALL
		UNION ALL
		SELECT provider, billing_period, PricingCurrency, sum(PricingCurrencyEffectiveCost)::VARCHAR FROM `+lines+`
		WHERE PricingCurrency IS NOT NULL AND PricingCurrency <> BillingCurrency GROUP BY ALL`) {
		got[r[0]+" "+r[1]+" "+r[2]] = rat(t, r[3])
	}
	want := testkit.Totals(t, sampleDir)
	if len(want) == 0 {
		t.Fatal("no provider totals found in testdata/captures")
	}
	for _, w := range want {
		k := w.Provider + " " + w.Period + " " + w.Currency
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: no charge lines (provider's total %s)", k, w.Amount.FloatString(8))
			continue
		}
		if g.Cmp(w.Amount) != 0 {
			t.Errorf("%s: Σ BilledCost = %s, provider's total = %s", k, g.FloatString(24), w.Amount.FloatString(24))
		}
	}

	// Every final invoice reconciles exactly; none is off by a digit.
	for _, r := range duck.Rows(t, db, `SELECT provider, billing_period, coalesce(InvoiceId, '-'), BillingCurrency, Reconciled, Difference::VARCHAR, coalesce(Problem, '') FROM `+invoices+` WHERE IsFinal`) {
		if r[4] != "true" || rat(t, r[5]).Sign() != 0 {
			t.Errorf("invoice %v does not reconcile", r)
		}
	}

	// Row counts of the WarpStream sample: 13 products × days in the
	// period, plus account charges and one rounding adjustment.
	for _, c := range []struct{ period, rows string }{{"2026-10", "368"}, {"2026-11", "28"}} {
		n := duck.Value(t, db, `SELECT count(*) FROM `+lines+` WHERE provider = 'warpstream' AND billing_period = ?`, c.period)
		if n != c.rows {
			t.Errorf("warpstream %s: %s rows, want %s", c.period, n, c.rows)
		}
	}
	if n := duck.Value(t, db, `SELECT count(*) FROM `+lines+` WHERE provider = 'warpstream' AND ChargeCategory = 'Adjustment'`); n != "2" {
		t.Errorf("%s rounding adjustment lines, want one per period", n)
	}

	// Types as every reader should see them.
	types := map[string]string{}
	for _, r := range duck.Rows(t, db, `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM `+lines+`)`) {
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
		if n := duck.Value(t, db, `SELECT count(*) FROM `+lines+` WHERE "`+col+`" = ''`); n != "0" {
			t.Errorf("%s has %s empty strings", col, n)
		}
	}
	// Daily lines cover [day, day+1) in UTC.
	if n := duck.Value(t, db, `SELECT count(*) FROM `+lines+` WHERE ChargeCategory = 'Usage' AND provider = 'warpstream'
		AND (ChargePeriodEnd - ChargePeriodStart <> INTERVAL 1 DAY OR ChargePeriodStart < BillingPeriodStart OR ChargePeriodEnd > BillingPeriodEnd)`); n != "0" {
		t.Errorf("%s daily lines are not one day within their billing period", n)
	}

	if len(res.Partitions) != sampleFiles()/2 {
		t.Errorf("%d partitions written, want %d", len(res.Partitions), sampleFiles()/2)
	}
}

// The README's DuckDB query, pasted over ./out, gives per-period totals
// equal to the invoice totals in testdata.
func TestReadmeQuery(t *testing.T) {
	out := t.TempDir()
	mustExport(t, run{Out: out})
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- readme-query -->\\s*```sql\\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no ```sql block after <!-- readme-query -->")
	}
	query := strings.ReplaceAll(string(m[1]), "out/", filepath.ToSlash(out)+"/")
	db := duck.Open(t)
	got := map[string]*big.Rat{}
	for _, r := range duck.Rows(t, db, query) {
		// provider, billing_period, currency, billed, ...
		got[r[0]+" "+r[1]+" "+r[2]] = rat(t, r[3])
	}
	for _, w := range testkit.Totals(t, sampleDir) {
		if !regexp.MustCompile(`^[A-Z]{3}$`).MatchString(w.Currency) {
			continue // a virtual currency: the README query sums BilledCost
		}
		k := w.Provider + " " + w.Period + " " + w.Currency
		if g := got[k]; g == nil || g.Cmp(w.Amount) != 0 {
			t.Errorf("README query: %s = %v, want %s", k, g, w.Amount.FloatString(8))
		}
	}
}

func TestSameInputSameBytes(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dest := range []string{a, b, a} { // a twice: a rerun replaces, never adds
		mustExport(t, run{Out: dest})
	}
	sa, sb := dataFiles(t, a), dataFiles(t, b)
	if len(sa) == 0 || !mapsEqual(sa, sb) {
		t.Fatalf("data files differ between identical runs:\n%v\n%v", sa, sb)
	}
}
