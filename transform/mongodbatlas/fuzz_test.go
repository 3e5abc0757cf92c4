package mongodbatlas_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/transform"
	"github.com/invoice-export/invoice-export/transform/mongodbatlas"
)

// The Atlas decoder takes any invoice body without panicking; what it
// rejects is a positioned DataError; what it accepts reconciles each
// invoice to the cent or says why, and every line lies in its period.
func FuzzInvoice(f *testing.F) {
	name := "invoice/" + atlasPOct + ".json"
	small := `{"id":"` + atlasPOct + `","startDate":"2026-10-01T00:00:00Z","endDate":"2026-11-01T00:00:00Z","amountBilledCents":150,"salesTaxCents":50,` +
		`"lineItems":[{"sku":"ATLAS_AWS_INSTANCE_M10","totalPriceCents":100,"discountCents":10,"quantity":24.0,"unit":"server hours",` +
		`"startDate":"2026-10-01T00:00:00Z","endDate":"2026-10-02T00:00:00Z","tags":{"env":["prod"]}}],` +
		`"linkedInvoices":[{"id":"` + atlasLOct + `","startDate":"2026-10-01T00:00:00Z","endDate":"2026-11-01T00:00:00Z","lineItems":[]}]}`
	for _, s := range []string{small, strings.Replace(small, `"amountBilledCents":150`, `"amountBilledCents":1e400`, 1),
		strings.Replace(small, `"salesTaxCents"`, `"creditsCents":0,"salesTaxCents"`, 1), `{"id":"` + atlasPOct + `"}`, "<html>", ""} {
		f.Add(s)
	}
	// The other captures are written once; each input replaces the invoice.
	dir := f.TempDir()
	for k, v := range atlasSample(f) {
		p := filepath.Join(dir, "mongodbatlas", filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 1<<20 {
			return
		}
		res, lines, err := testkit.RunProviderIn(t, dir, mongodbatlas.Provider, atlasEnv, "2026-10", "2026-11-03", map[string]string{name: body})
		testkit.CheckAccepted(t, res, lines, err)
		if err != nil {
			return
		}
		sums := invoiceSums(lines)
		for _, inv := range res.Invoices {
			s := sums[inv.InvoiceID]
			if inv.LinesTotal.Cmp(s) != 0 {
				t.Fatalf("invoice %s: LinesTotal %s, its lines sum to %s", inv.InvoiceID, inv.LinesTotal, s)
			}
			if inv.Reconciled != (s.Cmp(inv.VendorTotal) == 0 && inv.Problem == "") {
				t.Fatalf("invoice %s: reconciled %v, lines %s, total %s, problem %q", inv.InvoiceID, inv.Reconciled, s, inv.VendorTotal, inv.Problem)
			}
			if !inv.RoundingAdjustment.IsZero() {
				t.Fatalf("invoice %s: a rounding adjustment of %s on exact cents", inv.InvoiceID, inv.RoundingAdjustment)
			}
		}
		for _, l := range lines {
			if l.ChargePeriodStart.Before(l.BillingPeriodStart) || l.ChargePeriodEnd.After(l.BillingPeriodEnd) || !l.ChargePeriodEnd.After(l.ChargePeriodStart) {
				t.Fatalf("line outside its period: %+v", l)
			}
			if (l.ChargeCategory == transform.Usage || l.ChargeCategory == transform.Purchase) && (!l.PricingQuantity.Valid || l.PricingUnit == "" || l.SkuID == "") {
				t.Fatalf("%s line without PricingQuantity, PricingUnit or SkuId: %+v", l.ChargeCategory, l)
			}
			if l.ChargeCategory != transform.Usage && l.ChargeCategory != transform.Purchase && l.ListCost != l.BilledCost {
				t.Fatalf("%s line with a ListCost of its own: %+v", l.ChargeCategory, l)
			}
		}
	})
}
