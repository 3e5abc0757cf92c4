package warpstream_test

import (
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/transform"
)

// edit replaces old by new in s exactly once, so that a fixture that
// stops matching fails the test instead of testing nothing.
func edit(t *testing.T, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		if n := strings.Count(s, pairs[i]); n != 1 {
			t.Fatalf("%q is in the fixture %d times", pairs[i], n)
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// The Tier 1 charge of vci_dl_2 in wsBreakdowns, with its two October days.
const tier1 = `{"product": "Uncompressed GiB written - Tier 1", "unit_price": 0.02000000, "breakdowns": [
        {"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 829.0839424058795, "total": 16.58168},
        {"date_from": "2026-10-02", "date_to": "2026-10-03", "quantity": 825.6732089938596, "total": 16.51346},`

// twoTiers splits it: the first day in Tier 1, the second in Tier 2 (total t2).
func twoTiers(t2 string) string {
	return `{"product": "Uncompressed GiB written - Tier 1", "unit_price": 0.02000000, "breakdowns": [
        {"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 829.0839424058795, "total": 16.58168}]},
      {"product": "Uncompressed GiB written - Tier 2", "unit_price": 0.01900000, "breakdowns": [
        {"date_from": "2026-10-02", "date_to": "2026-10-03", "quantity": 825.6732089938596, "total": ` + t2 + `},`
}

const (
	invTier1     = `{"product": "Uncompressed GiB written - Tier 1", "unit_price": 0.02000000, "quantity": 1654.7571513997391, "total": 33.10}`
	invUntiered  = `{"product": "Uncompressed GiB written", "unit_price": 2, "quantity": 1654.7571513997391, "total": 33.10}`
	invMinutes   = `{"product": "Cluster minutes", "unit_price": 0.23148, "quantity": 2880, "total": 6.67}`
	clusterMins  = `{"product": "Cluster minutes", "unit_price": 0.23148, "breakdowns": [`
	day2Minutes  = `{"date_from": "2026-10-02", "date_to": "2026-10-03", "quantity": 1440, "total": 3.33331}`
	day1Minutes  = `{"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 1440, "total": 3.33331}`
	gibMinutes   = `{"product": "GiB minutes", "unit_price": 0.00000463, "quantity": 1343.727466603741, "total": 0}`
	gibMinuteDay = `{"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 0.03288155235350132, "total": 0}`
)

type outcome struct {
	lines      int
	adjustment string // "0": none
	problem    string // contained in the invoice row's Problem; "" for none
}

func check(t *testing.T, past, breakdowns string, want outcome) []transform.Line {
	t.Helper()
	res, lines, err := run(t, "2026-10", "2026-11-03", wsFiles(past, breakdowns))
	if err != nil {
		t.Fatalf("the period failed: %v", err)
	}
	inv := res.Invoices[0]
	if len(lines) != want.lines || inv.RoundingAdjustment.String() != want.adjustment ||
		inv.Reconciled != (want.problem == "") || !strings.Contains(inv.Problem, want.problem) {
		t.Errorf("%d lines, rounding %s, reconciled %v, problem %q\nwant %d lines, rounding %s, problem %q",
			len(lines), inv.RoundingAdjustment, inv.Reconciled, inv.Problem, want.lines, want.adjustment, want.problem)
	}
	if inv.Reconciled && sum(lines).Cmp(inv.VendorTotal) != 0 {
		t.Errorf("reconciled, but the lines add up to %s, the invoice to %s", sum(lines), inv.VendorTotal)
	}
	return lines
}

// An invoice line whose product the breakdowns do not name is compared
// with the days of every product of its meter (the name without
// " - Tier N"): tiered, untiered and mixed invoices all reconcile, with
// the same rounding adjustment (0.00824, as TestMapsAndReconcilesExactly).
func TestTiersMatchByMeter(t *testing.T) {
	ok := outcome{8, "0.00824", ""}
	t.Run("tiered", func(t *testing.T) { check(t, wsPast, wsBreakdowns, ok) })
	t.Run("untiered", func(t *testing.T) { check(t, edit(t, wsPast, invTier1, invUntiered), wsBreakdowns, ok) })
	t.Run("untiered over two tiers", func(t *testing.T) {
		check(t, edit(t, wsPast, invTier1, invUntiered), edit(t, wsBreakdowns, tier1, twoTiers("16.51346")), ok)
	})
	t.Run("tiered over an untiered day", func(t *testing.T) {
		brk := edit(t, wsBreakdowns, `"product": "Uncompressed GiB written - Tier 1"`, `"product": "Uncompressed GiB written"`)
		check(t, wsPast, brk, ok)
	})
	// Tier 1 named on the invoice, Tier 2 not: Tier 1 matches exactly
	// (16.58 against 16.58168), the untiered line takes Tier 2 (16.52
	// against 16.51846).
	t.Run("mixed in one cluster", func(t *testing.T) {
		past := edit(t, wsPast, invTier1, `{"product": "Uncompressed GiB written - Tier 1", "total": 16.58}, {"product": "Uncompressed GiB written", "total": 16.52}`)
		lines := check(t, past, edit(t, wsBreakdowns, tier1, twoTiers("16.51846")), outcome{8, "0.00324", ""})
		if l := lines[4]; l.SkuID != "Uncompressed GiB written - Tier 2" || l.SkuMeter != "Uncompressed GiB written" {
			t.Errorf("Tier 2's line: %+v", l)
		}
	})
	// An untiered line is rounded to cents once, however many tiers it
	// covers: its allowance is half a cent, plus 0.000005 for each day of
	// each tier (two here): 33.10 against 33.09499 is 0.00501, rounding;
	// against 33.09498, 0.00502, is not.
	t.Run("allowance", func(t *testing.T) {
		past := edit(t, wsPast, invTier1, invUntiered)
		check(t, past, edit(t, wsBreakdowns, tier1, twoTiers("16.51331")), outcome{8, "0.00839", ""})
		check(t, past, edit(t, wsBreakdowns, tier1, twoTiers("16.5133")), outcome{7, "0",
			`1 of 3 invoice lines disagree with their daily breakdowns beyond rounding, e.g. tenant ti_a / workspace wi_a / cluster vci_dl_2 / meter "Uncompressed GiB written": invoice 33.1 as "Uncompressed GiB written", days 33.09498 as "Uncompressed GiB written - Tier 1" and "Uncompressed GiB written - Tier 2"`})
	})
	// A meter's days with no invoice line at all are still reported.
	t.Run("tiers the invoice does not bill", func(t *testing.T) {
		past := edit(t, wsPast, invTier1, `{"product": "Uncompressed GiB read", "total": 33.10}`)
		check(t, past, wsBreakdowns, outcome{7, "0",
			`tenant ti_a / workspace wi_a / cluster vci_dl_2 / "Uncompressed GiB read": invoice 33.1, days 0; tenant ti_a / workspace wi_a / cluster vci_dl_2 / "Uncompressed GiB written - Tier 1": invoice 0, days 33.09514`})
	})
}

// A product twice for one cluster, on the invoice (a price change: one
// line per price) or in the breakdowns (a charge per unit_price, or a day
// twice), gives lines of its own, which are added up and reconciled.
func TestRepeatsAreSummed(t *testing.T) {
	ok := outcome{8, "0.00824", ""}
	t.Run("invoice line", func(t *testing.T) {
		past := edit(t, wsPast, invMinutes, `{"product": "Cluster minutes", "unit_price": 0.23148, "quantity": 1440, "total": 3.33},
		  {"product": "Cluster minutes", "unit_price": 0.25, "quantity": 1440, "total": 3.34}`)
		check(t, past, wsBreakdowns, ok)
	})
	t.Run("charge", func(t *testing.T) {
		brk := edit(t, wsBreakdowns, day1Minutes+",", day1Minutes+"]}, "+
			`{"product": "Cluster minutes", "unit_price": 0.25, "breakdowns": [`)
		lines := check(t, wsPast, brk, ok)
		if lines[0].VendorUnitPrice.String() != "0.23148" || lines[1].VendorUnitPrice.String() != "0.25" || lines[1].SkuID != "Cluster minutes" {
			t.Errorf("the two charges' lines: %+v\n%+v", lines[0], lines[1])
		}
	})
	t.Run("day", func(t *testing.T) {
		brk := edit(t, wsBreakdowns, day2Minutes, `{"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 1440, "total": 3.33331}`)
		lines := check(t, wsPast, brk, ok)
		if !lines[0].ChargePeriodStart.Equal(date("2026-10-01")) || !lines[1].ChargePeriodStart.Equal(date("2026-10-01")) {
			t.Errorf("the day's two lines: %+v\n%+v", lines[0], lines[1])
		}
	})
	// Sums that disagree are reported on the invoices row, not a failure.
	t.Run("invoice lines that disagree", func(t *testing.T) {
		past := edit(t, wsPast, invMinutes, invMinutes+", "+invMinutes,
			`"total": 0}], "total": 6.67}`, `"total": 0}], "total": 13.34}`,
			`], "total": 39.77}], "total": 39.77}]`, `], "total": 46.44}], "total": 46.44}]`,
			`"total": 529.77`, `"total": 536.44`)
		check(t, past, wsBreakdowns, outcome{7, "0",
			`1 of 3 invoice lines disagree with their daily breakdowns beyond rounding, e.g. tenant ti_a / workspace wi_a / cluster vci_1 / "Cluster minutes": invoice 13.34 (2 lines), days 6.66662`})
	})
	t.Run("days that disagree", func(t *testing.T) {
		brk := edit(t, wsBreakdowns, day2Minutes, day2Minutes+", "+day2Minutes)
		check(t, wsPast, brk, outcome{8, "0", `cluster vci_1 / "Cluster minutes": invoice 6.67, days 9.99993`})
	})
}

// A zero WarpStream leaves out (Go's omitempty would) is a zero: a total
// on the invoice or on a day, a day's quantity, the invoice's total.
func TestOmittedZeros(t *testing.T) {
	past := edit(t, wsPast, gibMinutes, `{"product": "GiB minutes", "unit_price": 0.00000463, "quantity": 1343.727466603741}`)
	brk := edit(t, wsBreakdowns, gibMinuteDay, `{"date_from": "2026-10-01", "date_to": "2026-10-02"}`)
	lines := check(t, past, brk, outcome{8, "0.00824", ""})
	if l := lines[2]; l.SkuID != "GiB minutes" || !l.BilledCost.IsZero() || !l.PricingQuantity.Valid || !l.PricingQuantity.IsZero() {
		t.Errorf("the day without total or quantity: %+v", l)
	}
	// An account charge without a total is a purchase of 0.
	lines = check(t, edit(t, wsPast, `{"product": "Free credits", "unit_price": 1, "quantity": -10, "total": -10},`, `{"product": "Setup", "quantity": 1},`,
		`"total": 529.77`, `"total": 539.77`), wsBreakdowns, outcome{8, "0.00824", ""})
	if l := lines[5]; l.SkuID != "Setup" || !l.BilledCost.IsZero() || l.ChargeCategory != transform.Purchase {
		t.Errorf("the account charge without a total: %+v", l)
	}
	// An invoice without a total bills 0: one with charges says so.
	check(t, edit(t, wsPast, `"total": 529.77`, `"totals": 529.77`), wsBreakdowns, outcome{7, "0",
		"the invoice states no total (read as 0, an omitted zero), which is not the sum of its own lines: its charges add up to 39.77 and its account charges to 490"})
	empty := `{"date_from": "2026-10-01", "date_to": "2026-10-31", "tenants": [], "account_charges": []}`
	check(t, empty, `{"tenants": []}`, outcome{0, "0", ""})
}

// The pending invoice holds the charges accrued so far: it may end on any
// day of its month. A past invoice must end with the month.
func TestPendingInvoiceEndsAnyDay(t *testing.T) {
	pending := strings.ReplaceAll(strings.ReplaceAll(wsPast, "2026-10-01", "2026-11-01"), "2026-10-31", "2026-11-03")
	brk := strings.ReplaceAll(edit(t, wsBreakdowns, `"2026-11-01", "date_to": "2026-11-02"`, `"2026-12-01", "date_to": "2026-12-02"`), "2026-10-0", "2026-11-0")
	res, _, err := run(t, "2026-11", "2026-11-03", map[string]string{"pending_invoice.json": pending, "invoice_breakdowns/2026-11.json": brk})
	if err != nil || !res.Invoices[0].Reconciled || res.Invoices[0].Status != "pending" {
		t.Fatalf("pending invoice to 2026-11-03: %v, %+v", err, res)
	}
	for _, to := range []string{"2026-10-31", "2026-12-02"} {
		bad := strings.Replace(pending, `"date_to": "2026-11-03"`, `"date_to": "`+to+`"`, 1)
		if _, _, err := run(t, "2026-11", "2026-11-03", map[string]string{"pending_invoice.json": bad, "invoice_breakdowns/2026-11.json": brk}); err == nil ||
			!strings.Contains(err.Error(), "the invoice ends on "+to) {
			t.Errorf("pending invoice to %s: %v", to, err)
		}
	}
}
