package warpstream_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/transform"
	"github.com/invoice-export/invoice-export/transform/warpstream"
)

// WarpStream's own published example bodies (testdata/vendor-examples,
// whose README says where each file comes from and what was changed) and
// the variants of them that a real account may plausibly send: each
// exports, and reconciles or says why not, as docs/vendors.md describes.
func TestVendorExamples(t *testing.T) {
	const examples = "../../testdata/vendor-examples"
	cases := []struct {
		name, dir, period string
		rows              int
		sum, adjustment   string
		reconciled        bool
		problem           string // the start of it, or "" for none
	}{
		// The invoice names a meter once ("Uncompressed GiB written") where
		// the breakdowns name its tiers: compared by meter.
		{"past invoice, untiered", "", "2025-12", 16, "22.77", "0.00605", true, ""},
		// The pending invoice is untiered too; its tightest line is 33.1
		// against days 33.09514: 0.00486 ≤ 0.005 + 2 × 0.000005.
		{"pending invoice, untiered", "", "2026-01", 7, "39.77", "0.00563619", true, ""},
		{"tiered invoice", "variants/ws-tiered-invoice", "2025-12", 16, "22.77", "0.00605", true, ""},
		{"mixed tiers", "variants/ws-mixed-tiers", "2025-12", 17, "22.89", "0.00305", true, ""},
		// A price change: two invoice lines of one product for one cluster,
		// against one charge (3.33 + 2.25 against 3.33331 + 2.25).
		{"repeated invoice line", "variants/ws-repeat-invoice-line", "2025-12", 16, "22.93", "-0.00063", true, ""},
		// The same change seen in the breakdowns: two charges of one product.
		{"repeated charge", "variants/ws-repeat-breakdown-charge", "2025-12", 16, "22.93", "-0.00063", true, ""},
		// A price change during a day: that day twice in one charge.
		{"repeated day", "variants/ws-repeat-breakdown-day", "2025-12", 17, "22.83", "-0.00062", true, ""},
		{"omitted zeros", "variants/ws-omitted-zeros", "2025-12", 16, "22.77", "0.00605", true, ""},
		{"extra fields", "variants/ws-extra-fields", "2025-12", 16, "22.77", "0.00605", true, ""},
		// Totals printed with float64 noise: WarpStream types no money as a
		// float anywhere it publishes, so the noise is reported, not rounded.
		{"float totals", "variants/ws-float-total", "2025-12", 15, "22.76545", "0", false,
			"the invoice total 22.770000000000003 is not the sum of its own lines: its charges add up to 22.77 and its account charges to 0, 22.77 in all (a difference of 0.000000000000003); 3 totals of the invoice are not the sum of their charges, e.g. cluster vci_5e2f8a10_7b3c_4e9d_9a61_0c4d2b8e7f15: total 6.5200000000000005, its charges add up to 6.52"},
		// The pending invoice ends on the day it was asked for.
		{"pending invoice to date", "variants/ws-pending-to-date", "2026-01", 7, "39.77", "0.00563619", true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, lines, err := testkit.RunProviderIn(t, filepath.Join(examples, c.dir), warpstream.Provider, env, c.period, "2026-01-03", nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Invoices) != 1 {
				t.Fatalf("%d invoices", len(res.Invoices))
			}
			inv := res.Invoices[0]
			if len(lines) != c.rows || sum(lines).String() != c.sum || inv.LinesTotal.String() != c.sum || inv.Lines != int64(c.rows) {
				t.Errorf("%d rows adding up to %s (invoice row: %d, %s), want %d adding up to %s", len(lines), sum(lines), inv.Lines, inv.LinesTotal, c.rows, c.sum)
			}
			if inv.RoundingAdjustment.String() != c.adjustment || inv.Reconciled != c.reconciled ||
				(c.problem == "") != (inv.Problem == "") || !strings.HasPrefix(inv.Problem, c.problem) {
				t.Errorf("rounding %s, reconciled %v, problem %q\nwant rounding %s, reconciled %v, problem %q", inv.RoundingAdjustment, inv.Reconciled, inv.Problem, c.adjustment, c.reconciled, c.problem)
			}
			var adjustments int
			for _, l := range lines {
				if l.ChargeCategory == transform.Adjustment {
					adjustments++
					if l.BilledCost.Cmp(inv.RoundingAdjustment) != 0 {
						t.Errorf("adjustment line %s, invoice row %s", l.BilledCost, inv.RoundingAdjustment)
					}
				}
			}
			if want := map[bool]int{true: 1, false: 0}[!inv.RoundingAdjustment.IsZero()]; adjustments != want {
				t.Errorf("%d adjustment lines, want %d", adjustments, want)
			}
			if len(res.Notes) != 0 {
				t.Errorf("notes %q", res.Notes)
			}
		})
	}
}

// Repeats are lines of their own; quantities stay exact (WarpStream's are
// not floats to round: 0.03288155235350132 is kept as sent).
func TestVendorExampleLines(t *testing.T) {
	const examples = "../../testdata/vendor-examples"
	_, lines, err := testkit.RunProviderIn(t, filepath.Join(examples, "variants/ws-repeat-breakdown-day"), warpstream.Provider, env, "2025-12", "2026-01-03", nil)
	if err != nil {
		t.Fatal(err)
	}
	var day []string
	for _, l := range lines {
		if l.ResourceID == "vci_1d4930d7_8e6d_4ad9_b27a_654ed4aaa3ee" && l.SkuID == "Cluster minutes" && l.ChargePeriodStart.Equal(date("2025-12-31")) {
			day = append(day, l.PricingQuantity.String()+" for "+l.BilledCost.String())
		}
	}
	if strings.Join(day, ", ") != "540 for 1.24999, 360 for 0.9" {
		t.Errorf("31 December's lines: %q", day)
	}

	_, lines, err = testkit.RunProviderIn(t, examples, warpstream.Provider, env, "2026-01", "2026-01-03", nil)
	if err != nil {
		t.Fatal(err)
	}
	if q := lines[0].PricingQuantity.String(); q != "0.03288155235350132" || lines[0].ConsumedQuantity != lines[0].PricingQuantity {
		t.Errorf("first line's quantity %s, want 0.03288155235350132 as sent", q)
	}
}
