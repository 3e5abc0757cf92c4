package main

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/load"
	"github.com/invoice-export/invoice-export/transform"
)

// printSummary prints one row per partition and currency: rows, Σ of the
// lines, the vendor's total and whether they reconcile; and a row per
// provider and period that failed.
func printSummary(w io.Writer, rep *invoiceexport.Report, o invoiceexport.Options, dest string, took time.Duration) {
	fmt.Fprintf(w, "invoice-export run %s, as of %s, into %s (%s)\n\n", rep.RunID, o.AsOf.Format("2006-01-02"), dest, took.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tPERIOD\tROWS\tCURRENCY\tLINES TOTAL\tINVOICE TOTAL\tSTATUS\tTIME\tRECONCILED")
	virtual := false
	for _, p := range rep.Partitions {
		m := p.Manifest
		// Invoices of the partition per currency: vendor totals and status.
		type agg struct {
			total  transform.Decimal
			lines  int64
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
			a.lines += inv.Lines
			a.ok = a.ok && inv.Reconciled
			status := inv.Status
			if status == "" {
				status = "—"
			}
			if !slices.Contains(a.status, status) {
				a.status = append(a.status, status)
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
			fmt.Fprintf(tw, "%s\t%s\t%d\t\t\t\tno invoice\t%s\t\n", invoiceexport.UnitLabel(p.Provider, p.Account), p.Period, m.Rows, seconds(p.Duration))
		}
		for _, c := range currencies {
			lines := m.Totals[c]
			rows := m.Rows
			rec, inv, status := "", "", ""
			if a := byCur[c]; a != nil {
				rows = a.lines
				inv, status = a.total.String(), strings.Join(a.status, ",")
				rec = "✗"
				if a.ok {
					rec = "✓"
					if !a.adj.IsZero() {
						rec += " (rounding " + a.adj.String() + ")"
					}
				}
			}
			if !transform.IsNationalCurrency(c) {
				c += "*"
				virtual = true
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", invoiceexport.UnitLabel(p.Provider, p.Account), p.Period, rows, c, lines, inv, status, seconds(p.Duration), rec)
		}
	}
	for _, f := range rep.Failures {
		period := "all"
		if !f.Period.IsZero() {
			period = f.Period.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t\t\t\t\tFAILED\t\t✗ (kept as it was; see below)\n", invoiceexport.UnitLabel(f.Provider, f.Account), period)
	}
	tw.Flush()
	if virtual {
		fmt.Fprintln(w, "\n* a vendor's own credits, not money: Σ PricingCurrencyEffectiveCost of the lines priced in them (their BilledCost is 0 in the national currency)")
	}
	for _, p := range rep.Partitions {
		for _, inv := range p.Invoices {
			if !inv.Reconciled {
				fmt.Fprintf(w, "\n✗ %s %s %s %s: %s\n", invoiceexport.UnitLabel(p.Provider, p.Account), p.Period, inv.InvoiceID, inv.Currency, inv.Problem)
			}
		}
		for _, n := range p.Manifest.Notes {
			fmt.Fprintf(w, "note: %s %s: %s\n", invoiceexport.UnitLabel(p.Provider, p.Account), p.Period, n)
		}
	}
	fmt.Fprintf(w, "\n%d partitions written under %s (charge_lines/, invoices/, _manifests/), %d failed\n", len(rep.Partitions), dest, len(rep.Failures))
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// printPlan prints what --dry-run found: per provider, the periods, the
// calls (live) or capture files (replay) and the partitions a run would
// write. It reports whether every provider could be planned.
func printPlan(w io.Writer, plans []invoiceexport.ProviderPlan, o invoiceexport.Options, live bool) bool {
	fmt.Fprintf(w, "dry run as of %s into %s: nothing fetched, nothing written\n", o.AsOf.Format("2006-01-02"), o.Sink)
	ok := true
	for _, p := range plans {
		fmt.Fprintf(w, "\n%s:", invoiceexport.UnitLabel(p.Provider, p.Account))
		if p.Err != nil {
			fmt.Fprintf(w, " cannot plan: %v\n", p.Err)
			ok = false
			continue
		}
		periods := make([]string, len(p.Periods))
		for i, per := range p.Periods {
			periods[i] = per.String()
		}
		fmt.Fprintf(w, " periods %s\n", strings.Join(periods, ", "))
		for _, c := range p.Calls {
			if live {
				fmt.Fprintf(w, "  %s %s%s  -> %s\n", c.Method, c.RequestPath(p.URL), jsonBody(c.Body), c.Capture)
			} else {
				fmt.Fprintf(w, "  reads %s\n", filepath.Join(fmt.Sprint(o.Source), filepath.FromSlash(c.Capture)))
			}
		}
		if p.More {
			fmt.Fprintf(w, "  ... the rest follows from that answer: the invoice list, then one call per invoice in the periods\n")
		}
		for _, per := range p.Periods {
			u := load.Unit{Provider: p.Provider, Account: p.Account, Period: per}
			for _, table := range []string{load.ChargeLines.Name, load.Invoices.Name} {
				fmt.Fprintf(w, "  writes %s\n", load.DataKey(table, u))
			}
			fmt.Fprintf(w, "  writes %s\n", load.ManifestKey(u))
		}
	}
	return ok
}

func jsonBody(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return " " + string(b)
}
