package warpstream_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/gen"
	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/transform"
	"github.com/invoice-export/invoice-export/transform/warpstream"
)

// both transforms a period with the ledger that drops each cluster once
// both sides are read (Transform) and with one that keeps every cluster,
// fails unless the two give the same lines and invoice row, and returns
// the first's stats, lines and invoice row.
func both(t *testing.T, files map[string]string) (warpstream.LedgerStats, []transform.Line, transform.Invoice) {
	t.Helper()
	var stats warpstream.LedgerStats
	dropping, keeping := warpstream.Transforms(&stats)
	p := warpstream.Provider
	p.Transform = dropping
	res, lines, err := testkit.RunProvider(t, p, env, "2026-10", "2026-11-03", files)
	if err != nil {
		t.Fatalf("dropping: %v", err)
	}
	p.Transform = keeping
	want, wantLines, err := testkit.RunProvider(t, p, env, "2026-10", "2026-11-03", files)
	if err != nil {
		t.Fatalf("keeping: %v", err)
	}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("dropping clusters gives\n%+v\nkeeping them\n%+v", res, want)
	}
	if len(lines) != len(wantLines) {
		t.Fatalf("dropping clusters gives %d lines, keeping them %d", len(lines), len(wantLines))
	}
	for i := range lines {
		if lines[i] != wantLines[i] {
			t.Errorf("line %d: dropping clusters gives\n%+v\nkeeping them\n%+v", i, lines[i], wantLines[i])
		}
	}
	return stats, lines, res.Invoices[0]
}

// wantInvoice checks the outcome: the rounding adjustment (or "0"), and
// the problem ("" when it reconciles).
func wantInvoice(t *testing.T, inv transform.Invoice, adjustment, problem string) {
	t.Helper()
	if inv.RoundingAdjustment.String() != adjustment || inv.Reconciled != (problem == "") || !strings.Contains(inv.Problem, problem) {
		t.Errorf("rounding %s, reconciled %v, problem %q; want rounding %s, problem %q", inv.RoundingAdjustment, inv.Reconciled, inv.Problem, adjustment, problem)
	}
}

// vci_1's days in the breakdowns, and vci_dl_2's cluster object.
const (
	vci1Minutes = clusterMins + "\n        " + day1Minutes + ",\n        " + day2Minutes + "]},"
	vciDl2      = `{"virtual_cluster_id": "vci_dl_2", "cluster_name": "vcn_dl_lake", "cluster_regions": ["eu-central-1", "eu-west-1"], "charges": [`
)

// Each cluster's sums are checked and dropped once the invoice and the
// breakdowns have both given it, which in WarpStream's order (each
// cluster once, both sides in the same order) holds one cluster at a
// time. Any other order gives the same result: a cluster the invoice
// lists later is held until it does; one that comes back after it was
// dropped makes the ledger keep every cluster, from a second decode.
func TestClusterOrderDoesNotMatter(t *testing.T) {
	t.Run("same order", func(t *testing.T) {
		stats, lines, inv := both(t, wsFiles(wsPast, wsBreakdowns))
		wantInvoice(t, inv, "0.00824", "")
		if stats.Held != 1 || stats.CameBack || len(lines) != 8 {
			t.Errorf("%+v, %d lines; want 1 cluster held at a time, 8 lines", stats, len(lines))
		}
	})
	// testdata/vendor-examples' invoices: an untiered line against one tier's days, and
	// against two tiers' days.
	t.Run("untiered invoice line", func(t *testing.T) {
		stats, _, inv := both(t, wsFiles(edit(t, wsPast, invTier1, invUntiered), wsBreakdowns))
		wantInvoice(t, inv, "0.00824", "")
		if stats.Held != 1 || stats.CameBack {
			t.Errorf("%+v", stats)
		}
	})
	t.Run("untiered invoice line over two tiers", func(t *testing.T) {
		stats, _, inv := both(t, wsFiles(edit(t, wsPast, invTier1, invUntiered), edit(t, wsBreakdowns, tier1, twoTiers("16.51346"))))
		wantInvoice(t, inv, "0.00824", "")
		if stats.Held != 1 || stats.CameBack {
			t.Errorf("%+v", stats)
		}
	})
	t.Run("untiered line over two tiers that disagree", func(t *testing.T) {
		_, _, inv := both(t, wsFiles(edit(t, wsPast, invTier1, invUntiered), edit(t, wsBreakdowns, tier1, twoTiers("16.5133"))))
		wantInvoice(t, inv, "0", `1 of 3 invoice lines disagree with their daily breakdowns beyond rounding, e.g. tenant ti_a / workspace wi_a / cluster vci_dl_2 / meter "Uncompressed GiB written": invoice 33.1 as "Uncompressed GiB written", days 33.09498 as "Uncompressed GiB written - Tier 1" and "Uncompressed GiB written - Tier 2"`)
	})
	// The breakdowns list vci_dl_2 first: vci_1 is read from the invoice
	// on the way to it and held until its days come.
	t.Run("other order", func(t *testing.T) {
		brk := `{"tenants": [{"tenant_id": "ti_a", "workspaces": [{"workspace_id": "wi_a", "workspace_name": "Zürich prod", "clusters": [` +
			vciDl2 + tier1 + `
        {"date_from": "2026-11-01", "date_to": "2026-11-02", "quantity": 1, "total": 0.02}]}]},
    {"virtual_cluster_id": "vci_1", "cluster_name": "vcn_orders", "cluster_regions": ["us-east-1"], "charges": [` + vci1Minutes + `
      {"product": "GiB minutes", "unit_price": 0.00000463, "breakdowns": [` + gibMinuteDay + `]}]}]}]}]}`
		stats, lines, inv := both(t, wsFiles(wsPast, brk))
		wantInvoice(t, inv, "0.00824", "")
		if stats.Held != 2 || stats.CameBack || len(lines) != 8 || lines[0].ResourceID != "vci_dl_2" {
			t.Errorf("%+v, %d lines", stats, len(lines))
		}
	})
	// vci_1, vci_dl_2, vci_1 again with its second day: checked on its
	// own, vci_1's first object (3.33331 against 6.67) would disagree.
	t.Run("a cluster that comes back", func(t *testing.T) {
		brk := edit(t, wsBreakdowns, day1Minutes+",\n        "+day2Minutes+"]}", day1Minutes+"]}",
			`"total": 0.02}]}]}`, `"total": 0.02}]}]},
    {"virtual_cluster_id": "vci_1", "cluster_name": "vcn_orders", "cluster_regions": ["us-east-1"], "charges": [`+clusterMins+day2Minutes+`]}]}`)
		stats, lines, inv := both(t, wsFiles(wsPast, brk))
		wantInvoice(t, inv, "0.00824", "")
		if !stats.CameBack || len(lines) != 8 || lines[4].ResourceID != "vci_1" || !lines[4].ChargePeriodStart.Equal(date("2026-10-02")) {
			t.Errorf("%+v, %d lines", stats, len(lines))
		}
	})
	// Two clusters interleaved: vci_1, vci_dl_2, vci_1, vci_dl_2, each
	// object with one of their charges.
	t.Run("interleaved clusters", func(t *testing.T) {
		brk := `{"tenants": [{"tenant_id": "ti_a", "workspaces": [{"workspace_id": "wi_a", "workspace_name": "Zürich prod", "clusters": [
    {"virtual_cluster_id": "vci_1", "cluster_name": "vcn_orders", "cluster_regions": ["us-east-1"], "charges": [` + clusterMins + day1Minutes + `]}]},
    ` + vciDl2 + tier1 + `
        {"date_from": "2026-11-01", "date_to": "2026-11-02", "quantity": 1, "total": 0.02}]}]},
    {"virtual_cluster_id": "vci_1", "cluster_name": "vcn_orders", "cluster_regions": ["us-east-1"], "charges": [` + clusterMins + day2Minutes + `]},
      {"product": "GiB minutes", "unit_price": 0.00000463, "breakdowns": [` + gibMinuteDay + `]}]},
    ` + vciDl2 + `{"product": "Uncompressed GiB written - Tier 1", "unit_price": 0.02000000, "breakdowns": []}]}]}]}]}`
		stats, lines, inv := both(t, wsFiles(wsPast, brk))
		wantInvoice(t, inv, "0.00824", "")
		if !stats.CameBack || len(lines) != 8 {
			t.Errorf("%+v, %d lines", stats, len(lines))
		}
	})
	// The invoice lists vci_1 twice, one charge each time, the second
	// after vci_dl_2: found when the rest of the invoice is read.
	t.Run("a cluster twice on the invoice", func(t *testing.T) {
		past := edit(t, wsPast, invMinutes+",\n      "+gibMinutes+`], "total": 6.67},`, invMinutes+`], "total": 6.67},`,
			`"total": 33.10}], "total": 33.10}`, `"total": 33.10}], "total": 33.10},
    {"virtual_cluster_id": "vci_1", "charges": [`+gibMinutes+`]}`)
		stats, _, inv := both(t, wsFiles(past, wsBreakdowns))
		wantInvoice(t, inv, "0.00824", "")
		if !stats.CameBack {
			t.Errorf("%+v", stats)
		}
	})
	// Days the invoice does not bill (a cluster it leaves out) and an
	// invoice line without days: both reported, from whichever ledger.
	t.Run("clusters on one side only", func(t *testing.T) {
		past := edit(t, wsPast, `"virtual_cluster_id": "vci_dl_2"`, `"virtual_cluster_id": "vci_dl_3"`)
		stats, _, inv := both(t, wsFiles(past, wsBreakdowns))
		wantInvoice(t, inv, "0", `2 of 4 invoice lines disagree with their daily breakdowns beyond rounding, e.g. tenant ti_a / workspace wi_a / cluster vci_dl_2 / "Uncompressed GiB written - Tier 1": invoice 0, days 33.09514; tenant ti_a / workspace wi_a / cluster vci_dl_3 / "Uncompressed GiB written - Tier 1": invoice 33.1, days 0`)
		if stats.CameBack || stats.Held != 2 {
			t.Errorf("%+v", stats)
		}
	})
	// Identifiers after their children on the invoice: its second pass
	// reads the children again once they are known.
	t.Run("invoice ids last", func(t *testing.T) {
		past := `{"tenants": [{"workspaces": [{"clusters": [
    {"charges": [` + invMinutes + `, ` + gibMinutes + `], "total": 6.67, "virtual_cluster_id": "vci_1"},
    {"total": 33.10, "charges": [` + invTier1 + `], "virtual_cluster_id": "vci_dl_2"}
  ], "total": 39.77, "workspace_id": "wi_a"}], "total": 39.77, "tenant_id": "ti_a"}],
  "account_charges": [
    {"product": "Free credits", "unit_price": 1, "quantity": -10, "total": -10},
    {"product": "Premium Support", "unit_price": 500, "quantity": 1, "total": 500}],
  "total": 529.77, "date_to": "2026-10-31", "date_from": "2026-10-01"}`
		stats, _, inv := both(t, wsFiles(past, wsBreakdowns))
		wantInvoice(t, inv, "0.00824", "")
		if stats.CameBack || stats.Held != 1 {
			t.Errorf("%+v", stats)
		}
	})
}

// A generated month of every shape holds one cluster at a time, and its
// ledger gives what keeping every cluster gives.
func TestGeneratedMonthsHoldOneCluster(t *testing.T) {
	for _, shape := range gen.Shapes {
		t.Run(shape, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := gen.Write(dir, gen.Config{Seed: 3, Lines: 9_000, Start: date("2026-10-01"), Shape: shape}); err != nil {
				t.Fatal(err)
			}
			files := map[string]string{}
			for _, f := range []string{"past_invoice/2026-10.json", "invoice_breakdowns/2026-10.json"} {
				b, err := os.ReadFile(filepath.Join(dir, "warpstream", f))
				if err != nil {
					t.Fatal(err)
				}
				files[f] = string(b)
			}
			stats, lines, inv := both(t, files)
			if !inv.Reconciled || stats.Held != 1 || stats.CameBack || len(lines) < 9_000 {
				t.Errorf("%+v, %d lines, invoice %+v", stats, len(lines), inv)
			}
		})
	}
}
