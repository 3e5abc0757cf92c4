package warpstream

import (
	"fmt"
	"hash/maphash"
	"iter"
	"sort"
	"strings"

	"github.com/invoice-export/invoice-export/transform"
)

// The reconciliation ledger: per cluster × product, what the invoice bills
// (its lines, rounded to cents) and what the days add up to, and the checks
// that say whether the period's rounding adjustment may close the gap.
//
// A product may appear more than once on either side (a price change
// within the month gives a second invoice line, a second charge or a
// second entry for one day): every appearance is a line of its own, and
// the ledger adds them up. Where the invoice and the breakdowns name a
// product differently (the invoice names the meter, "Uncompressed GiB
// written", the breakdowns its tiers, "... - Tier 1"), the products that
// have no exact match on the other side are compared by meter.

// Rounding allowances: half a cent per invoice line (each is rounded to
// cents once, however many days or tiers it covers), and half a unit of
// the 5th decimal per daily line (the coarsest precision seen in daily
// totals).
var dailyAllowance = transform.MustDecimal("0.000005")

// ledger holds all the state a month needs besides the line being
// written, and keeps it small: ids interned, per cluster a short slice of
// its products' lines (about 60 bytes a cluster × product), and only the
// clusters between the invoice's reader and the breakdowns' reader.
//
// WarpStream gives each cluster once on the invoice and once in the
// breakdowns, with all its charges together; when both list the clusters
// in the same order (internal/gen writes them so), the invoice's clusters
// are read as the breakdowns reach them (readInvoice, open: at most
// lookahead clusters ahead), and a cluster's sums are checked and dropped
// as soon as both sides have given it and its charges in the breakdowns
// have ended (settle). What the ledger holds then depends on how far apart
// the two orders are, not on the number of clusters; what still grows is
// a 64-bit hash per dropped cluster (about 20 bytes). A cluster met again
// after it was dropped (listed twice in the breakdowns or on the invoice)
// sets cameBack: Transform then builds a ledger that keeps every cluster
// (keep: what was done before clusters were dropped) from a second,
// sums-only decode of the breakdowns. The checks are sums of exact
// decimals, and their message names the first disagreements by name, so
// dropping early gives what keeping gives (order_test.go compares them).
type ledger struct {
	keep     bool                 // never drop a cluster
	index    map[clusterKey]int32 // the clusters held, by id
	clusters []clusterLines       // slots; a dropped cluster's slot is reused
	free     []int32
	products map[string]int32 // interned product names and what derives from them
	prods    []productInfo

	next     func() (clusterKey, bool) // reads the invoice's next cluster into the ledger
	stop     func()
	invErr   error
	charges  []invoiceLine       // the invoice cluster being read
	seed     maphash.Seed        // for dropped
	dropped  map[uint64]struct{} // hashes of the dropped clusters' ids
	cameBack bool                // a cluster was met after it was dropped
	checked  checks              // the dropped clusters' checks
	groups   []group             // one cluster's, reused
	held     int                 // the most clusters held at once
}

// lookahead is how many of the invoice's clusters are read ahead for a
// cluster of the breakdowns the invoice has not reached: past it the
// cluster is taken to be missing from the invoice (or far away on it) and
// is held until the invoice's end.
const lookahead = 1024

type clusterKey struct{ tenant, workspace, cluster string }

type clusterLines struct {
	id    clusterKey
	lines []ledgerLine
	// Where the two readers are: the breakdowns are reading its charges,
	// the invoice's cluster has been read, its charges in the breakdowns
	// have ended at least once.
	reading, onInvoice, listed bool
}

// invoiceLine is one charge of the invoice cluster being read.
type invoiceLine struct {
	product int32
	total   transform.Decimal
}

// checks is what check found in the clusters it compared.
type checks struct {
	tolerance transform.Decimal
	compared  int
	bad       int
	first     []badGroup // the first 3 by name, for the message
}

type badGroup struct{ name, sums string }

type productInfo struct {
	name, meter, unit string
	meterID           int32 // the meter, interned as a product: tiers of one meter share it
}

// ledgerLine is one cluster × product: the sums of every appearance of the
// product on the invoice and in the breakdowns.
type ledgerLine struct {
	product  int32
	invoiced int32 // invoice lines of the product (0: the invoice does not list it)
	days     int32 // daily lines inside the period
	listed   bool  // the breakdowns list the product (a charge, with or without days)
	invoice  transform.Decimal
	daySum   transform.Decimal
}

func newLedger(keep bool) *ledger {
	return &ledger{keep: keep, index: map[clusterKey]int32{}, products: map[string]int32{},
		seed: maphash.MakeSeed(), dropped: map[uint64]struct{}{}}
}

// readInvoice makes r, the invoice (which decodeInvoice has checked
// whole), the source of the ledger's invoice lines, read as open needs
// them. iter.Pull rather than a goroutine: the reader runs only inside
// next, on the caller's thread, so it shares the ledger without locks.
func (g *ledger) readInvoice(r *transform.Reader) {
	g.next, g.stop = iter.Pull(func(yield func(clusterKey) bool) {
		if err := invoiceClusters(r, g, yield); err != errStopped {
			g.invErr = err
		}
	})
}

// close releases the invoice's reader.
func (g *ledger) close() {
	if g.stop != nil {
		g.stop()
	}
}

// add gives a cluster a slot.
func (g *ledger) add(c clusterKey) int32 {
	var i int32
	if n := len(g.free); n > 0 {
		i, g.free = g.free[n-1], g.free[:n-1]
		g.clusters[i] = clusterLines{id: c, lines: g.clusters[i].lines[:0]}
	} else {
		i = int32(len(g.clusters))
		g.clusters = append(g.clusters, clusterLines{id: c})
	}
	g.index[c] = i
	g.held = max(g.held, len(g.index))
	return i
}

func (g *ledger) hash(c clusterKey) uint64 {
	var h maphash.Hash
	h.SetSeed(g.seed)
	h.WriteString(c.tenant)
	h.WriteByte(0)
	h.WriteString(c.workspace)
	h.WriteByte(0)
	h.WriteString(c.cluster)
	return h.Sum64()
}

// find returns a held cluster's slot, or adds one; a cluster dropped
// before sets cameBack (a hash's false match only costs the second pass).
func (g *ledger) find(c clusterKey) int32 {
	if i, ok := g.index[c]; ok {
		return i
	}
	if len(g.dropped) > 0 {
		if _, ok := g.dropped[g.hash(c)]; ok {
			g.cameBack = true
		}
	}
	return g.add(c)
}

// open is a cluster of the breakdowns starting: its slot, holding the
// invoice's lines for it when the invoice lists it within lookahead.
func (g *ledger) open(c clusterKey) int32 {
	if _, ok := g.index[c]; !ok {
		for n := 0; n < lookahead && g.next != nil; n++ {
			k, more := g.next()
			if !more {
				g.next = nil
			} else if k == c {
				break
			}
		}
	}
	i := g.find(c)
	g.clusters[i].reading = true
	return i
}

// closeCluster is a cluster's charges in the breakdowns ending.
func (g *ledger) closeCluster(i int32) {
	c := &g.clusters[i]
	c.reading, c.listed = false, true
	g.settle(i)
}

// invoiceCluster adds one cluster of the invoice, its charges in
// g.charges.
func (g *ledger) invoiceCluster(c clusterKey) {
	i := g.find(c)
	for _, l := range g.charges {
		g.invoiced(i, l.product, l.total)
	}
	g.clusters[i].onInvoice = true
	g.settle(i)
}

// settle checks and drops a cluster both sides have given in full.
func (g *ledger) settle(i int32) {
	c := &g.clusters[i]
	if g.keep || c.reading || !c.onInvoice || !c.listed {
		return
	}
	g.checkCluster(i)
	g.dropped[g.hash(c.id)] = struct{}{}
	delete(g.index, c.id)
	c.id = clusterKey{}
	g.free = append(g.free, i)
}

// product interns a product name (valid bytes only until the next read).
func (g *ledger) product(name []byte) int32 {
	if i, ok := g.products[string(name)]; ok { // no allocation for a known name
		return i
	}
	return g.intern(string(name))
}

func (g *ledger) productString(name string) int32 {
	if i, ok := g.products[name]; ok {
		return i
	}
	return g.intern(name)
}

// intern adds a product, and its meter as a product of its own when the
// name has a tier: that is how check finds a meter's products.
func (g *ledger) intern(n string) int32 {
	i := int32(len(g.prods))
	unit := unitOf(n)
	if unit == "" {
		unit = "Units" // a product whose name tells no unit: a count (FOCUS wants a unit with every quantity)
	}
	meter := meterOf(n)
	g.prods = append(g.prods, productInfo{name: n, meter: meter, unit: unit, meterID: i})
	g.products[n] = i
	if meter != n {
		g.prods[i].meterID = g.productString(meter)
	}
	return i
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
	return &c.lines[len(c.lines)-1]
}

// invoiced adds an invoice line.
func (g *ledger) invoiced(cluster, product int32, total transform.Decimal) {
	e := g.line(cluster, product)
	e.invoice, _ = e.invoice.Add(total)
	e.invoiced++
}

// listed adds a charge of the breakdowns: days daily lines adding up to sum.
func (g *ledger) listed(cluster, product int32, days int64, sum transform.Decimal) {
	e := g.line(cluster, product)
	e.daySum, _ = e.daySum.Add(sum)
	e.days += int32(days)
	e.listed = true
}

// group is what check compares: one product of a cluster, or, for the
// products without an exact match on the other side, all of one meter's.
type group struct {
	cluster, product int32 // product: the first one
	meter            int32 // -1: one product, matched exactly
	products         int32
	invoiced, days   int64
	invoice, daySum  transform.Decimal
}

func (gr *group) add(l *ledgerLine) {
	if gr.products == 0 {
		gr.product = l.product
	}
	gr.products++
	gr.invoiced += int64(l.invoiced)
	gr.days += int64(l.days)
	gr.invoice, _ = gr.invoice.Add(l.invoice)
	gr.daySum, _ = gr.daySum.Add(l.daySum)
}

// allowance is how far rounding may move the group's invoice lines from
// its days: half a cent per invoice line, dailyAllowance per day.
func (gr *group) allowance() transform.Decimal {
	a, _ := dailyAllowance.MulInt(gr.days)
	h, _ := transform.HalfCent.MulInt(gr.invoiced)
	a, _ = a.Add(h)
	return a
}

// name is where the group is: its cluster, and its product or meter.
func (gr *group) name(g *ledger) string {
	c := g.clusters[gr.cluster].id
	if gr.products == 1 {
		return fmt.Sprintf("tenant %s / workspace %s / cluster %s / %q", c.tenant, c.workspace, c.cluster, g.prods[gr.product].name)
	}
	return fmt.Sprintf("tenant %s / workspace %s / cluster %s / meter %q", c.tenant, c.workspace, c.cluster, g.prods[gr.meter].name)
}

// sums says what the group adds up to on each side, and for a meter
// which products each side names.
func (gr *group) sums(g *ledger) string {
	lines := ""
	if gr.invoiced > 1 {
		lines = fmt.Sprintf(" (%d lines)", gr.invoiced)
	}
	if gr.products == 1 {
		return fmt.Sprintf("invoice %s%s, days %s", gr.invoice, lines, gr.daySum)
	}
	var inv, days []string
	for _, l := range g.clusters[gr.cluster].lines {
		if l.invoiced > 0 && l.listed || g.prods[l.product].meterID != gr.meter {
			continue
		}
		if l.invoiced > 0 {
			inv = append(inv, fmt.Sprintf("%q", g.prods[l.product].name))
		}
		if l.listed {
			days = append(days, fmt.Sprintf("%q", g.prods[l.product].name))
		}
	}
	sort.Strings(inv)
	sort.Strings(days)
	return fmt.Sprintf("invoice %s%s as %s, days %s as %s", gr.invoice, lines, names(inv), gr.daySum, names(days))
}

func names(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, " and ")
}

// readAll reads the rest of the invoice, once the breakdowns are read: a
// cluster it lists again sets cameBack as well.
func (g *ledger) readAll() error {
	for g.next != nil {
		if _, more := g.next(); !more {
			g.next = nil
		}
	}
	return g.invErr
}

// checkCluster compares a cluster's groups (check).
func (g *ledger) checkCluster(ci int32) {
	lines := g.clusters[ci].lines
	groups := g.groups[:0]
	for i := range lines {
		l := &lines[i]
		if l.invoiced > 0 && l.listed {
			groups = append(groups, group{cluster: ci, meter: -1})
			groups[len(groups)-1].add(l)
			continue
		}
		// No exact match on the other side: compare by meter.
		m := g.prods[l.product].meterID
		j := len(groups)
		for k := range groups {
			if groups[k].meter == m {
				j = k
				break
			}
		}
		if j == len(groups) {
			groups = append(groups, group{cluster: ci, meter: m})
		}
		groups[j].add(l)
	}
	ch := &g.checked
	for i := range groups {
		gr := &groups[i]
		allow := gr.allowance()
		ch.tolerance, _ = ch.tolerance.Add(allow)
		ch.compared++
		if gap, _ := gr.invoice.Sub(gr.daySum); gap.Abs().Cmp(allow) > 0 {
			ch.bad++
			// The sums are exact, so the order of the lines matters only
			// to the message: it names the first 3 by name, whatever the
			// order the clusters were checked in.
			name := gr.name(g)
			if len(ch.first) == 3 && name >= ch.first[2].name {
				continue
			}
			ch.first = append(ch.first, badGroup{name, gr.sums(g)})
			// sort.Slice, not slices.SortFunc: a generic instantiation
			// would add kilobytes to the Lambda's binary for a list this
			// short.
			sort.Slice(ch.first, func(i, j int) bool { return ch.first[i].name < ch.first[j].name })
			ch.first = ch.first[:min(3, len(ch.first))]
		}
	}
	g.groups = groups
}

// check settles the invoice against the days and against itself, once
// both are read (readAll). It returns how far rounding may move the total
// (half a cent per invoice line, dailyAllowance per day) and what rules
// reconciliation out, if anything: a product whose invoice lines differ
// from its days beyond rounding (even when differences elsewhere cancel it
// out), or an invoice whose total is not the sum of its own lines (all in
// cents: exact). account is Σ of the invoice's account charges.
func (g *ledger) check(inv *invoice, account transform.Decimal) (tolerance transform.Decimal, problem string) {
	for _, ci := range g.index {
		g.checkCluster(ci)
	}
	tolerance = g.checked.tolerance
	// Only when the invoice's total is the sum of its own charges and
	// account charges is the gap between the total and the days the sum
	// of the per-line rounding checked above, closed by the rounding
	// adjustment; a total that disagrees with its own lines is reported,
	// never adjusted.
	var problems []string
	if want, _ := inv.charges.Add(account); want.Cmp(inv.total.Decimal) != 0 {
		diff, _ := inv.total.Sub(want)
		stated := "the invoice total " + inv.total.Decimal.String()
		if !inv.total.Valid {
			stated = "the invoice states no total (read as 0, an omitted zero), which"
		}
		problems = append(problems, fmt.Sprintf("%s is not the sum of its own lines: its charges add up to %s and its account charges to %s, %s in all (a difference of %s)",
			stated, inv.charges, account, want, diff))
	}
	if len(inv.levels) > 0 {
		problems = append(problems, fmt.Sprintf("%d totals of the invoice are not the sum of their charges, e.g. %s",
			len(inv.levels), strings.Join(inv.levels[:min(3, len(inv.levels))], "; ")))
	}
	if ch := &g.checked; ch.bad > 0 {
		var eg []string
		for _, b := range ch.first {
			eg = append(eg, b.name+": "+b.sums)
		}
		problems = append(problems, fmt.Sprintf("%d of %d invoice lines disagree with their daily breakdowns beyond rounding, e.g. %s",
			ch.bad, ch.compared, strings.Join(eg, "; ")))
	}
	return tolerance, strings.Join(problems, "; ")
}
