package load

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/invoice-export/invoice-export/transform"
)

// writeFile writes items with conv through the plain writer (the caller's
// goroutine alone, parquet-go's GenericWriter.Write) or the pipelined one
// (the Store's: columns encoded side by side) and returns the file.
func writeFile[T, S any](t testing.TB, pipelined bool, conv func(*S, *T, *scratch) error, items []S, opts ...pq.WriterOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newRowWriter(&buf, conv, opts...)
	if pipelined {
		w = newPipelinedRowWriter(&buf, conv, opts...)
	}
	for i := range items {
		if err := w.Write(&items[i]); err != nil {
			w.abort()
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// variedLines are syntheticLines with NULLs in every optional column at
// random, credits (negative costs), a dictionary that grows (a few hundred
// SKUs and descriptions) and ids of varying lengths, so that pages end at
// different rows in every column.
func variedLines(n int) []transform.Line {
	lines := syntheticLines(n)
	rng := rand.New(rand.NewPCG(3, 4))
	blank := []func(*transform.Line){
		func(l *transform.Line) { l.BillingAccountName = "" },
		func(l *transform.Line) { l.ChargeDescription = "" },
		func(l *transform.Line) { l.ConsumedQuantity = transform.NullDecimal{} },
		func(l *transform.Line) { l.ConsumedUnit = "" },
		func(l *transform.Line) { l.PricingQuantity = transform.NullDecimal{} },
		func(l *transform.Line) { l.PricingUnit = "" },
		func(l *transform.Line) { l.RegionID, l.RegionName = "", "" },
		func(l *transform.Line) { l.ResourceID, l.ResourceName, l.ResourceType = "", "", "" },
		func(l *transform.Line) { l.SkuID, l.SkuMeter = "", "" },
		func(l *transform.Line) { l.SubAccountID, l.SubAccountName = "", "" },
		func(l *transform.Line) { l.TenantID = "" },
		func(l *transform.Line) { l.VendorUnitPrice = transform.NullDecimal{} },
		func(l *transform.Line) { l.Regions = "" },
	}
	for i := range lines {
		l := &lines[i]
		for _, f := range blank {
			if rng.IntN(7) == 0 {
				f(l)
			}
		}
		if rng.IntN(5) == 0 {
			l.BilledCost = l.BilledCost.Neg()
			l.EffectiveCost = l.BilledCost
		}
		if rng.IntN(3) == 0 {
			l.InvoiceID = "inv_" + strconv.Itoa(rng.IntN(50))
			l.BillingAccountName = "Account " + strconv.Itoa(rng.IntN(9))
			l.Tags = fmt.Sprintf(`{"team":"t%d"}`, rng.IntN(400))
			l.SkuID = "sku_" + strconv.Itoa(rng.IntN(300))
			l.PricingCurrency, l.PricingCurrencyEffectiveCost = "USD", transform.Some(l.BilledCost)
			l.ChargeClass, l.CloudProvider, l.Plan = "Correction", "aws", "pro"
		}
		l.ChargeID += strconv.Itoa(rng.IntN(1 << rng.IntN(40)))
	}
	return lines
}

// TestParallelEncoderBytes: the Store's writer, its columns encoded on
// several goroutines, writes the same file byte for byte as parquet-go's
// GenericWriter.Write on one, for files of one page, of several pages and
// of several row groups (full and partial), with the Store's options and
// with small pages and row groups that end between batches and inside
// GenericWriter's pieces of 64 rows.
func TestParallelEncoderBytes(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	big := variedLines(2*RowGroupRows + 5000)
	cases := []struct {
		name  string
		lines []transform.Line
		opts  []pq.WriterOption
	}{
		{"empty", nil, nil},
		{"one line", big[:1], nil},
		{"1,500 lines", big[:1500], nil},
		{"one row group", big[:RowGroupRows], nil},
		{"2 row groups and a part", big, nil},
		{"row groups of 1,000, pages of 4 KB", big[:20_000], []pq.WriterOption{pq.MaxRowsPerRowGroup(1000), pq.PageBufferSize(4096)}},
		{"row groups of 777, pages of 1 KB", big[:9_000], []pq.WriterOption{pq.MaxRowsPerRowGroup(777), pq.PageBufferSize(1024)}},
		{"row groups of 1 row", big[:100], []pq.WriterOption{pq.MaxRowsPerRowGroup(1)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := writeFile(t, false, toChargeRow, c.lines, c.opts...)
			f, err := pq.OpenFile(bytes.NewReader(want), int64(len(want)))
			if err != nil {
				t.Fatal(err)
			}
			if f.NumRows() != int64(len(c.lines)) {
				t.Fatalf("reference file has %d rows, want %d", f.NumRows(), len(c.lines))
			}
			for _, procs := range []int{1, 2, 4} {
				runtime.GOMAXPROCS(procs)
				got := writeFile(t, true, toChargeRow, c.lines, c.opts...)
				if !bytes.Equal(got, want) {
					t.Errorf("GOMAXPROCS=%d: %d bytes differ from the serial writer's %d (first difference at byte %d of %d row groups)",
						procs, len(got), len(want), firstDiff(got, want), len(f.RowGroups()))
				}
			}
		})
	}
}

// TestParallelEncoderInvoices: the same for the invoices table (booleans,
// int64, a column without dictionary), which the Store writes with the
// plain writer.
func TestParallelEncoderInvoices(t *testing.T) {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var invoices []transform.Invoice
	for i := range 3000 {
		inv := transform.Invoice{
			Provider: "warpstream", BillingAccountID: "acct_" + strconv.Itoa(i%17), BillingPeriodStart: start, BillingPeriodEnd: start.AddDate(0, 1, 0),
			Currency: "USD", VendorTotal: transform.MustDecimal(strconv.Itoa(i) + ".25"), LinesTotal: transform.MustDecimal(strconv.Itoa(i)),
			Final: i%3 == 0, Reconciled: i%5 != 0, Lines: int64(i * 31), SourceEndpoint: "get_invoice",
		}
		if i%2 == 0 {
			inv.InvoiceID, inv.Status = "inv_"+strconv.Itoa(i), "final"
		}
		if i%5 == 0 {
			inv.Difference, inv.Problem = transform.MustDecimal("-0.25"), "off by 0.25"
		}
		invoices = append(invoices, inv)
	}
	for _, opts := range [][]pq.WriterOption{nil, {pq.MaxRowsPerRowGroup(500), pq.PageBufferSize(2048)}} {
		want := writeFile(t, false, toInvoiceRow, invoices, opts...)
		if got := writeFile(t, true, toInvoiceRow, invoices, opts...); !bytes.Equal(got, want) {
			t.Errorf("options %v: %d bytes differ from the serial writer's %d (first difference at byte %d)", opts, len(got), len(want), firstDiff(got, want))
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
