package warpstream

import (
	"fmt"
	"sort"
	"strings"

	"github.com/invoice-export/invoice-export/transform"
)

// The reconciliation ledger: per cluster × product, the invoice's line
// (rounded to cents) and the sum of its days, and the checks that say
// whether the period's rounding adjustment may close the gap.

// Rounding allowances: half a cent per rounded invoice line, and half a unit
// of the 5th decimal per daily line (the coarsest precision seen in daily totals).
var dailyAllowance = transform.MustDecimal("0.000005")

// lineKey names a cluster × product line in messages.
type lineKey struct{ tenant, workspace, cluster, product string }

func (k lineKey) String() string {
	return fmt.Sprintf("tenant %s / workspace %s / cluster %s / %q", k.tenant, k.workspace, k.cluster, k.product)
}

// ledger holds, per cluster × product, the invoice's line (rounded to
// cents) and the sum of its days: all the state a month needs besides the
// line being written. A large account has hundreds of thousands of them,
// so it is kept small: ids interned, and per cluster a short slice of its
// products' lines (about 60 bytes a cluster × product).
type ledger struct {
	index    map[clusterKey]int32 // interned (tenant, workspace, cluster)
	clusters []clusterLines
	products map[string]int32 // interned product names and what derives from them
	prods    []productInfo
	lines    int // cluster × product lines in all
}

type clusterKey struct{ tenant, workspace, cluster string }

type clusterLines struct {
	id    clusterKey
	lines []ledgerLine
}

type productInfo struct{ name, meter, unit string }

type ledgerLine struct {
	product  int32
	n        int32 // daily lines (at most 32: duplicates are refused)
	invoiced bool  // the invoice has this line
	seen     bool  // the breakdowns have this charge
	invoice  transform.Decimal
	days     transform.Decimal // Σ of the daily totals
}

func newLedger() *ledger {
	return &ledger{index: map[clusterKey]int32{}, products: map[string]int32{}}
}

func (g *ledger) cluster(c clusterKey) int32 {
	i, ok := g.index[c]
	if !ok {
		i = int32(len(g.clusters))
		g.clusters = append(g.clusters, clusterLines{id: c})
		g.index[c] = i
	}
	return i
}

// product interns a product name (valid bytes only until the next read).
func (g *ledger) product(name []byte) int32 {
	i, ok := g.products[string(name)] // no allocation for a known name
	if !ok {
		n := string(name)
		i = int32(len(g.prods))
		unit := unitOf(n)
		if unit == "" {
			unit = "Units" // a product whose name tells no unit: a count (FOCUS wants a unit with every quantity)
		}
		g.prods = append(g.prods, productInfo{name: n, meter: meterOf(n), unit: unit})
		g.products[n] = i
	}
	return i
}

func (g *ledger) productString(name string) int32 {
	if i, ok := g.products[name]; ok {
		return i
	}
	return g.product([]byte(name))
}

// line returns the line of a cluster and product, adding it if need be;
// the pointer is valid until the next line of the same cluster is added.
func (g *ledger) line(cluster, product int32) *ledgerLine {
	c := &g.clusters[cluster]
	for i := range c.lines {
		if c.lines[i].product == product {
			return &c.lines[i]
		}
	}
	c.lines = append(c.lines, ledgerLine{product: product})
	g.lines++
	return &c.lines[len(c.lines)-1]
}

func (g *ledger) key(cluster, product int32) lineKey {
	c := g.clusters[cluster].id
	return lineKey{c.tenant, c.workspace, c.cluster, g.prods[product].name}
}

// check settles the invoice against the days and against itself. It
// returns how far rounding may move the total (half a cent per invoice
// line, dailyAllowance per day) and what rules reconciliation out, if
// anything: an invoice line whose days differ beyond rounding (even when
// differences elsewhere cancel it out), or an invoice whose total is not
// the sum of its own lines (all in cents: exact). account is Σ of the
// invoice's account charges.
func (g *ledger) check(inv *invoice, account transform.Decimal) (tolerance transform.Decimal, problem string) {
	// The sums are exact, so the order of the lines matters only to the
	// message: only the lines that disagree are sorted (by their text).
	type badLine struct {
		key  lineKey
		line *ledgerLine
	}
	var bad []badLine
	for ci := range g.clusters {
		for i := range g.clusters[ci].lines {
			l := &g.clusters[ci].lines[i]
			allow, _ := dailyAllowance.MulInt(int64(l.n))
			if l.invoiced {
				allow, _ = allow.Add(transform.HalfCent)
			}
			tolerance, _ = tolerance.Add(allow)
			if gap, _ := l.invoice.Sub(l.days); gap.Abs().Cmp(allow) > 0 {
				bad = append(bad, badLine{g.key(int32(ci), l.product), l})
			}
		}
	}
	// Only when the invoice's total is the sum of its own charges and
	// account charges is the gap between the total and the days the sum
	// of the per-line rounding checked above, closed by the rounding
	// adjustment; a total that disagrees with its own lines is reported,
	// never adjusted.
	var problems []string
	if want, _ := inv.charges.Add(account); want.Cmp(inv.total.Decimal) != 0 {
		diff, _ := inv.total.Sub(want)
		problems = append(problems, fmt.Sprintf("the invoice total %s is not the sum of its own lines: its charges add up to %s and its account charges to %s, %s in all (a difference of %s)",
			inv.total.Decimal, inv.charges, account, want, diff))
	}
	if len(inv.levels) > 0 {
		problems = append(problems, fmt.Sprintf("%d totals of the invoice are not the sum of their charges, e.g. %s",
			len(inv.levels), strings.Join(inv.levels[:min(3, len(inv.levels))], "; ")))
	}
	if len(bad) > 0 {
		// sort.Slice, not slices.SortFunc: a generic instantiation would
		// add kilobytes to the Lambda's binary for a list this short.
		sort.Slice(bad, func(i, j int) bool { return bad[i].key.String() < bad[j].key.String() })
		var eg []string
		for _, b := range bad[:min(3, len(bad))] {
			eg = append(eg, fmt.Sprintf("%s: invoice %s, days %s", b.key, b.line.invoice, b.line.days))
		}
		problems = append(problems, fmt.Sprintf("%d of %d invoice lines disagree with their daily breakdowns beyond rounding, e.g. %s",
			len(bad), g.lines, strings.Join(eg, "; ")))
	}
	return tolerance, strings.Join(problems, "; ")
}
