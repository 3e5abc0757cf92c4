package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/transform"
)

// printSummary prints one row per written partition and currency: rows,
// Σ BilledCost, the vendor's total and whether they reconcile.
func printSummary(w io.Writer, rep *invoiceexport.Report, o invoiceexport.Options, dest string, took time.Duration) {
	fmt.Fprintf(w, "invoice-export run %s, as of %s, into %s (%s)\n\n", rep.RunID, o.AsOf.Format("2006-01-02"), dest, took.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tPERIOD\tROWS\tCURRENCY\tLINES TOTAL\tINVOICE TOTAL\tSTATUS\tRECONCILED")
	for _, p := range rep.Partitions {
		m := p.Manifest
		// Invoices of the partition per currency: vendor totals and status.
		type agg struct {
			total  transform.Decimal
			status []string
			ok     bool
			adj    transform.Decimal
		}
		byCur := map[string]*agg{}
		for _, inv := range p.Invoices {
			a := byCur[inv.Currency]
			if a == nil {
				a = &agg{ok: true}
				byCur[inv.Currency] = a
			}
			a.total, _ = a.total.Add(inv.VendorTotal)
			a.adj, _ = a.adj.Add(inv.RoundingAdjustment)
			a.ok = a.ok && inv.Reconciled
			if !slices.Contains(a.status, inv.Status) {
				a.status = append(a.status, inv.Status)
			}
		}
		currencies := make([]string, 0, len(m.Totals)+len(byCur))
		for c := range m.Totals {
			currencies = append(currencies, c)
		}
		for c := range byCur {
			if !slices.Contains(currencies, c) {
				currencies = append(currencies, c)
			}
		}
		slices.Sort(currencies)
		if len(currencies) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%d\t\t\t\tno invoice\t\n", p.Provider, p.Period, m.Rows)
		}
		for _, c := range currencies {
			lines := m.Totals[c]
			rec, inv, status := "", "", ""
			if a := byCur[c]; a != nil {
				inv, status = a.total.String(), strings.Join(a.status, ",")
				rec = "✗"
				if a.ok {
					rec = "✓"
					if !a.adj.IsZero() {
						rec += " (rounding " + a.adj.String() + ")"
					}
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", p.Provider, p.Period, m.Rows, c, lines, inv, status, rec)
		}
	}
	tw.Flush()
	for _, p := range rep.Partitions {
		for _, inv := range p.Invoices {
			if !inv.Reconciled {
				fmt.Fprintf(w, "\n✗ %s %s %s %s: %s\n", p.Provider, p.Period, inv.InvoiceID, inv.Currency, inv.Problem)
			}
		}
		for _, n := range p.Manifest.Notes {
			fmt.Fprintf(w, "note: %s %s: %s\n", p.Provider, p.Period, n)
		}
	}
	fmt.Fprintf(w, "\n%d partitions written, %d failed\n", len(rep.Partitions), len(rep.Failures))
}
