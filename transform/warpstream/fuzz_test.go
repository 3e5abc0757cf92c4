package warpstream_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/transform"
	"github.com/invoice-export/invoice-export/transform/warpstream"
)

// The WarpStream decoders take any bytes without panicking; what they
// reject is a positioned DataError; what they accept reconciles or says why.

func checkWarpStream(t *testing.T, dir, past, breakdowns string) {
	res, lines, err := testkit.RunProviderIn(t, dir, warpstream.Provider, env, "2026-10", "2026-11-03", wsFiles(past, breakdowns))
	testkit.CheckAccepted(t, res, lines, err)
	// The ledger that drops clusters gives what keeping them all gives,
	// error included.
	_, keeping := warpstream.Transforms(new(warpstream.LedgerStats))
	p := warpstream.Provider
	p.Transform = keeping
	want, wantLines, wantErr := testkit.RunProviderIn(t, dir, p, env, "2026-10", "2026-11-03", wsFiles(past, breakdowns))
	if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(res, want) || !slices.Equal(lines, wantLines) {
		t.Fatalf("dropping clusters gives %v\n%+v\n%d lines; keeping them %v\n%+v\n%d lines", err, res, len(lines), wantErr, want, len(wantLines))
	}
	if err != nil {
		return
	}
	if len(res.Invoices) != 1 {
		t.Fatalf("%d invoices", len(res.Invoices))
	}
	inv := res.Invoices[0]
	s := sum(lines)
	if inv.Reconciled && s.Cmp(inv.VendorTotal) != 0 {
		t.Fatalf("reconciled, but the lines sum to %s and the invoice says %s", s, inv.VendorTotal)
	}
	if !inv.Reconciled && inv.Problem == "" {
		t.Fatal("not reconciled and no problem stated")
	}
	if inv.LinesTotal.Cmp(s) != 0 {
		t.Fatalf("LinesTotal %s, lines sum to %s", inv.LinesTotal, s)
	}
	for _, l := range lines {
		if l.ChargePeriodStart.Before(l.BillingPeriodStart) || l.ChargePeriodEnd.After(l.BillingPeriodEnd) ||
			!l.ChargePeriodEnd.After(l.ChargePeriodStart) {
			t.Fatalf("line outside its period: %+v", l)
		}
		if l.SourceEndpoint == "get_invoice_breakdowns" && !l.ChargePeriodEnd.Equal(l.ChargePeriodStart.AddDate(0, 0, 1)) {
			t.Fatalf("a daily line is not one day: %+v", l)
		}
		if (l.ChargeCategory == transform.Usage || l.ChargeCategory == transform.Purchase) && (!l.PricingQuantity.Valid || l.PricingUnit == "") {
			t.Fatalf("%s line without PricingQuantity or PricingUnit: %+v", l.ChargeCategory, l)
		}
	}
}

// Seeds stay small: the fuzzer minimizes every input that finds new
// coverage, and minimizing a large capture stalls it for minutes.
func seeds(f *testing.F, extra ...string) {
	for _, s := range extra {
		f.Add(s)
	}
}

func FuzzBreakdowns(f *testing.F) {
	seeds(f, wsBreakdowns, `{"tenants":[]}`, `{"tenants":[{"workspaces":[],"tenant_id":"t"}]}`, "<html>", "",
		strings.Replace(wsBreakdowns, `"date_to": "2026-10-03"`, `"date_to": "2026-10-05"`, 1),
		strings.Replace(wsBreakdowns, `"date_from": "2026-10-02", "date_to": "2026-10-03", "quantity": 1440`, `"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 1440`, 1),
		strings.Replace(wsBreakdowns, `"product": "Uncompressed GiB written - Tier 1"`, `"product": "Uncompressed GiB written"`, 1))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 1<<20 {
			return
		}
		checkWarpStream(t, dir, wsPast, body)
	})
}

func FuzzInvoice(f *testing.F) {
	seeds(f, wsPast, strings.Replace(wsPast, "529.77", "1e400", 1), `{"date_from":"2026-10-01","total":0}`,
		strings.Replace(wsPast, "529.77", "529.78", 1), strings.Replace(wsPast, `"unit_price": 500, "quantity": 1, `, ``, 1),
		strings.Replace(wsPast, `"product": "Uncompressed GiB written - Tier 1"`, `"product": "Uncompressed GiB written"`, 1),
		strings.Replace(wsPast, `"product": "GiB minutes"`, `"product": "Cluster minutes"`, 1))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 1<<20 {
			return
		}
		checkWarpStream(t, dir, body, wsBreakdowns)
	})
}
