package transform

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
)

// WarpStream (REFERENCE §1). The pending or past invoice gives the period's
// total, its rounded per-cluster lines and the account charges (credits,
// support); the daily breakdowns give the usage lines. The invoice's own
// arithmetic is exact (its total is Σ of its charges and account charges,
// and so is every cluster, workspace and tenant total it states, all in
// cents); daily totals carry up to 8 decimals while invoice lines are
// rounded to cents, so each cluster × product's days are checked against
// its invoice line, and one rounding Adjustment line closes the period so
// that Σ BilledCost = total exactly. Any other gap is reported.
//
// WarpStream states no currency; its prices are in US dollars.

const (
	wsPending    = "get_pending_invoice"
	wsPast       = "get_past_invoice"
	wsBreakdowns = "get_invoice_breakdowns"
)

// Rounding allowances: half a cent per rounded invoice line, and half a unit
// of the 5th decimal per daily line (the coarsest precision seen in daily totals).
var wsDailyAllowance = MustDecimal("0.000005")

type wsKey struct{ tenant, workspace, cluster, product string }

func (k wsKey) String() string {
	return fmt.Sprintf("tenant %s / workspace %s / cluster %s / %q", k.tenant, k.workspace, k.cluster, k.product)
}

type wsCharge struct {
	product   string
	unitPrice NullDecimal
	quantity  NullDecimal
	total     NullDecimal
}

type wsInvoice struct {
	from, to time.Time
	total    NullDecimal
	account  []wsCharge // account_charges: credits (negative), support
	charges  Decimal    // Σ of the invoice's charge totals (cluster × product lines)
	levels   []string   // cluster, workspace or tenant totals that are not the sum of their charges
}

// wsLedger holds, per cluster × product, the invoice's line (rounded to
// cents) and the sum of its days: all the state a month needs besides the
// line being written. A large account has hundreds of thousands of them,
// so it is kept small: ids interned, and per cluster a short slice of its
// products' lines (about 60 bytes a cluster × product).
type wsLedger struct {
	index    map[wsCluster]int32 // interned (tenant, workspace, cluster)
	clusters []wsClusterLines
	products map[string]int32 // interned product names and what derives from them
	prods    []wsProduct
	lines    int // cluster × product lines in all
}

type wsCluster struct{ tenant, workspace, cluster string }

type wsClusterLines struct {
	id    wsCluster
	lines []wsLine
}

type wsProduct struct{ name, meter, unit string }

type wsLine struct {
	product  int32
	n        int32 // daily lines (at most 32: duplicates are refused)
	invoiced bool  // the invoice has this line
	seen     bool  // the breakdowns have this charge
	invoice  Decimal
	days     Decimal // Σ of the daily totals
}

func newWSLedger() *wsLedger {
	return &wsLedger{index: map[wsCluster]int32{}, products: map[string]int32{}}
}

func (g *wsLedger) cluster(c wsCluster) int32 {
	i, ok := g.index[c]
	if !ok {
		i = int32(len(g.clusters))
		g.clusters = append(g.clusters, wsClusterLines{id: c})
		g.index[c] = i
	}
	return i
}

// product interns a product name (valid bytes only until the next read).
func (g *wsLedger) product(name []byte) int32 {
	i, ok := g.products[string(name)] // no allocation for a known name
	if !ok {
		n := string(name)
		i = int32(len(g.prods))
		unit := wsUnit(n)
		if unit == "" {
			unit = "Units" // a product whose name tells no unit: a count (FOCUS wants a unit with every quantity)
		}
		g.prods = append(g.prods, wsProduct{name: n, meter: wsMeter(n), unit: unit})
		g.products[n] = i
	}
	return i
}

func (g *wsLedger) productString(name string) int32 {
	if i, ok := g.products[name]; ok {
		return i
	}
	return g.product([]byte(name))
}

// line returns the line of a cluster and product, adding it if need be;
// the pointer is valid until the next line of the same cluster is added.
func (g *wsLedger) line(cluster, product int32) *wsLine {
	c := &g.clusters[cluster]
	for i := range c.lines {
		if c.lines[i].product == product {
			return &c.lines[i]
		}
	}
	c.lines = append(c.lines, wsLine{product: product})
	g.lines++
	return &c.lines[len(c.lines)-1]
}

func (g *wsLedger) key(cluster, product int32) wsKey {
	c := g.clusters[cluster].id
	return wsKey{c.tenant, c.workspace, c.cluster, g.prods[product].name}
}

func WarpStream(in Input, t *Tally) (*Result, error) {
	p := in.Job.Period
	invBody, err := in.Body(wsPast)
	if err != nil {
		if invBody, err = in.Body(wsPending); err != nil {
			return nil, err
		}
	}
	brkBody, err := in.Body(wsBreakdowns)
	if err != nil {
		return nil, err
	}
	ledger := newWSLedger()
	inv, err := decodeWSInvoice(t.Reader(invBody), p, ledger)
	if err != nil {
		return nil, err
	}
	base := Line{
		BillingAccountID:   in.Job.Account,
		BillingCurrency:    "USD",
		BillingPeriodStart: p.Start(),
		BillingPeriodEnd:   p.End(),
		InvoiceIssuerName:  "WarpStream",
		ProviderName:       "WarpStream",
		PublisherName:      "WarpStream",
		ServiceName:        "WarpStream",
		ServiceCategory:    "Analytics",
		ServiceSubcategory: "Streaming Analytics",
		Provider:           extract.WarpStream,
	}
	days := &wsDays{period: p, base: base, out: t, ledger: ledger}
	if err := days.decode(brkBody); err != nil {
		return nil, err
	}
	res := &Result{}
	if days.outside > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d daily lines dated outside %s were left out (they belong to another period)", days.outside, p))
	}

	// Account charges cover the whole period.
	var account Decimal
	for _, c := range inv.account {
		account, _ = account.Add(c.total.Decimal)
		l := base
		l.ChargePeriodStart, l.ChargePeriodEnd = p.Start(), p.End()
		l.ChargeDescription = c.product
		l.SkuID = c.product
		l.SkuMeter = wsMeter(c.product)
		l.VendorUnitPrice = c.unitPrice
		l.SourceEndpoint = invBody.Call.Endpoint
		l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost = c.total.Decimal, c.total.Decimal, c.total.Decimal, c.total.Decimal
		if c.total.Sign() < 0 {
			l.ChargeCategory, l.ChargeFrequency = Credit, OneTime
		} else {
			l.ChargeCategory, l.ChargeFrequency = Purchase, Recurring
			// FOCUS wants a quantity and a unit on every purchase. A count
			// of a product whose name tells no unit (support) is in Units;
			// a purchase without a quantity is one of it, for the period
			// (as CockroachDB's support adjustments are).
			l.PricingQuantity = c.quantity
			if l.PricingUnit = wsUnit(c.product); l.PricingUnit == "" || !c.quantity.Valid {
				l.PricingUnit = "Units"
			}
			if !c.quantity.Valid {
				l.PricingQuantity = Some(wsOne)
			}
			if strings.Contains(strings.ToLower(c.product), "support") {
				l.ServiceCategory, l.ServiceSubcategory = "Management and Governance", "Support"
			}
		}
		if err := t.Write(&l); err != nil {
			return nil, err
		}
	}

	// Each invoice line against its days: a difference beyond rounding is a
	// finding even when differences elsewhere happen to cancel it out. The
	// sums are exact, so the order of the lines matters only to the message:
	// only the lines that disagree are sorted (by their text).
	type badLine struct {
		key  wsKey
		line *wsLine
	}
	var bad []badLine
	tolerance := Decimal{}
	for ci := range ledger.clusters {
		for i := range ledger.clusters[ci].lines {
			l := &ledger.clusters[ci].lines[i]
			allow, _ := wsDailyAllowance.MulInt(int64(l.n))
			if l.invoiced {
				allow, _ = allow.Add(HalfCent)
			}
			tolerance, _ = tolerance.Add(allow)
			if gap, _ := l.invoice.Sub(l.days); gap.Abs().Cmp(allow) > 0 {
				bad = append(bad, badLine{ledger.key(int32(ci), l.product), l})
			}
		}
	}
	// The invoice's own arithmetic is exact: its total is the sum of its
	// charges and account charges, all in cents. Only then is the gap
	// between the total and the days the sum of the per-line rounding
	// checked above, and closed by the rounding adjustment; a total that
	// disagrees with its own lines is reported, never adjusted.
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
		slices.SortFunc(bad, func(a, b badLine) int { return strings.Compare(a.key.String(), b.key.String()) })
		var eg []string
		for _, b := range bad[:min(3, len(bad))] {
			eg = append(eg, fmt.Sprintf("%s: invoice %s, days %s", b.key, b.line.invoice, b.line.days))
		}
		problems = append(problems, fmt.Sprintf("%d of %d invoice lines disagree with their daily breakdowns beyond rounding, e.g. %s",
			len(bad), ledger.lines, strings.Join(eg, "; ")))
	}
	problem := strings.Join(problems, "; ")

	status := "final"
	if invBody.Call.Endpoint == wsPending {
		status = "pending"
	}
	invoice := Invoice{
		Provider:           extract.WarpStream,
		BillingAccountID:   in.Job.Account,
		BillingPeriodStart: p.Start(),
		BillingPeriodEnd:   p.End(),
		Status:             status,
		Final:              status == "final",
		Currency:           "USD",
		VendorTotal:        inv.total.Decimal,
		SourceEndpoint:     invBody.Call.Endpoint,
	}
	err = t.Reconcile(&invoice, tolerance, problem, func(gap Decimal) Line {
		l := base
		l.ChargeCategory, l.ChargeFrequency = Adjustment, OneTime
		l.ChargeDescription = "Rounding adjustment: the invoice rounds each line to cents, the daily breakdowns do not"
		l.ChargePeriodStart, l.ChargePeriodEnd = p.Start(), p.End()
		l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost = gap, gap, gap, gap
		l.SourceEndpoint = invBody.Call.Endpoint
		return l
	})
	if err != nil {
		return nil, err
	}
	res.Invoices = []Invoice{invoice}
	return res, nil
}

var wsOne = MustDecimal("1")

// decodeWSInvoice reads a pending or past invoice (small: totals only).
func decodeWSInvoice(r *Reader, p billing.Period, ledger *wsLedger) (*wsInvoice, error) {
	inv := &wsInvoice{}
	err := r.Document(func(name []byte) (err error) {
		switch string(name) {
		case "date_from":
			inv.from, err = r.Date()
		case "date_to":
			inv.to, err = r.Date()
		case "total":
			inv.total, err = r.Number(false)
		case "account_charges":
			err = r.Array(func() error {
				c, err := wsReadCharge(r)
				inv.account = append(inv.account, c)
				return err
			})
		case "tenants":
			err = r.Array(func() error { return wsInvoiceTenant(r, ledger, inv) })
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	switch {
	case !inv.total.Valid:
		return nil, r.Errorf("the invoice has no total")
	case inv.from.IsZero():
		return nil, r.Errorf("the invoice has no date_from")
	case inv.from != p.Start():
		return nil, r.Errorf("the invoice covers a period from %s, not %s (a capture from another day? replay with the --as-of of the run that recorded it; only calendar-month billing is supported)",
			inv.from.Format("2006-01-02"), p)
	case !inv.to.IsZero() && inv.to != p.End() && inv.to != p.End().AddDate(0, 0, -1):
		return nil, r.Errorf("the invoice ends on %s: only calendar-month billing periods are supported", inv.to.Format("2006-01-02"))
	}
	return inv, nil
}

// wsInvoiceTenant reads one tenant of an invoice. Ids may come before or
// after their children, so children are collected and keyed at the end.
// The cluster, workspace and tenant totals, where given, must be the sums
// of their charges exactly (all are in cents); a mismatch is recorded in
// inv.levels for reconciliation to report.
func wsInvoiceTenant(r *Reader, ledger *wsLedger, inv *wsInvoice) error {
	type line struct {
		workspace, cluster string
		c                  wsCharge
	}
	var tenant string
	var tenantTotal NullDecimal
	var lines []line
	var tenantSum Decimal
	// level checks a stated total against the sum of the charges below it.
	level := func(what string, total NullDecimal, sum Decimal) {
		if total.Valid && total.Cmp(sum) != 0 {
			inv.levels = append(inv.levels, fmt.Sprintf("%s: total %s, its charges add up to %s", what, total.Decimal, sum))
		}
	}
	err := r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "tenant_id":
			tenant, err = r.Str()
		case "total":
			tenantTotal, err = r.Number(false)
		case "workspaces":
			err = r.Array(func() error {
				var ws string
				var wsTotal NullDecimal
				var wsSum Decimal
				var wl []line
				err := r.Object(func(name []byte) (err error) {
					switch string(name) {
					case "workspace_id":
						ws, err = r.Str()
					case "total":
						wsTotal, err = r.Number(false)
					case "clusters":
						err = r.Array(func() error {
							var cluster string
							var total NullDecimal
							var cs []wsCharge
							err := r.Object(func(name []byte) (err error) {
								switch string(name) {
								case "virtual_cluster_id":
									cluster, err = r.Str()
								case "total":
									total, err = r.Number(false)
								case "charges":
									err = r.Array(func() error {
										c, err := wsReadCharge(r)
										cs = append(cs, c)
										return err
									})
								default:
									err = r.Skip()
								}
								return err
							})
							if err == nil && cluster == "" {
								err = r.Errorf("a cluster has no virtual_cluster_id")
							}
							var sum Decimal
							for _, c := range cs {
								wl = append(wl, line{cluster: cluster, c: c})
								sum, _ = sum.Add(c.total.Decimal)
							}
							level("cluster "+cluster, total, sum)
							wsSum, _ = wsSum.Add(sum)
							return err
						})
					default:
						err = r.Skip()
					}
					return err
				})
				if err == nil && ws == "" {
					err = r.Errorf("a workspace has no workspace_id")
				}
				for i := range wl {
					wl[i].workspace = ws
				}
				level("workspace "+ws, wsTotal, wsSum)
				tenantSum, _ = tenantSum.Add(wsSum)
				lines = append(lines, wl...)
				return err
			})
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if tenant == "" {
		return r.Errorf("a tenant has no tenant_id")
	}
	level("tenant "+tenant, tenantTotal, tenantSum)
	inv.charges, _ = inv.charges.Add(tenantSum)
	for _, l := range lines {
		ci, pi := ledger.cluster(wsCluster{tenant, l.workspace, l.cluster}), ledger.productString(l.c.product)
		e := ledger.line(ci, pi)
		if e.invoiced {
			return r.Errorf("duplicate invoice line for %s", ledger.key(ci, pi))
		}
		e.invoice, e.invoiced = l.c.total.Decimal, true
	}
	return nil
}

// wsReadCharge reads {product, unit_price, quantity, total}.
func wsReadCharge(r *Reader) (wsCharge, error) {
	var c wsCharge
	err := r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "product":
			c.product, err = r.Str()
		case "unit_price":
			c.unitPrice, err = r.Number(true)
		case "quantity":
			c.quantity, err = r.Number(true)
		case "total":
			c.total, err = r.Number(false)
		default:
			err = r.Skip()
		}
		return err
	})
	switch {
	case err != nil:
		return c, err
	case c.product == "":
		return c, r.Errorf("a charge has no product")
	case !c.total.Valid:
		return c, r.Errorf("charge %q has no total", c.product)
	}
	return c, nil
}

// wsDays streams the daily breakdowns into usage lines.
type wsDays struct {
	period  billing.Period
	base    Line
	out     *Tally
	ledger  *wsLedger
	outside int
	day     wsDay
}

// wsSum is one charge's days so far.
type wsSum struct {
	total Decimal
	days  int64
}

type wsDay struct {
	from, to        time.Time
	quantity, total NullDecimal
}

func (w *wsDays) decode(b *extract.Body) error {
	r := w.out.Reader(b)
	return r.Document(func(name []byte) error {
		if string(name) == "tenants" {
			return r.Array(func() error { return w.tenant(r) })
		}
		// date_from/date_to echo the request; account_charges are taken
		// from the invoice, which is what the period is billed.
		return r.Skip()
	})
}

// Each level below streams its children once the fields they need are
// known, and decodes them afterwards (deferred) in the rare case they come
// first.

func (w *wsDays) tenant(r *Reader) error {
	var id string
	var later []*Reader
	err := r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "tenant_id":
			id, err = r.Str()
		case "workspaces":
			if id == "" {
				var sub *Reader
				sub, err = r.Deferred()
				later = append(later, sub)
				return err
			}
			err = r.Array(func() error { return w.workspace(r, id) })
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if id == "" {
		return r.Errorf("a tenant has no tenant_id")
	}
	for _, sub := range later {
		if err := sub.Array(func() error { return w.workspace(sub, id) }); err != nil {
			return err
		}
	}
	return nil
}

func (w *wsDays) workspace(r *Reader, tenant string) error {
	var id, name string
	var haveName bool
	var later []*Reader
	each := func(r *Reader) error {
		return r.Array(func() error { return w.cluster(r, tenant, id, name) })
	}
	err := r.Object(func(n []byte) (err error) {
		switch string(n) {
		case "workspace_id":
			id, err = r.Str()
		case "workspace_name":
			name, err = r.Str()
			haveName = true
		case "clusters":
			if id == "" || !haveName {
				var sub *Reader
				sub, err = r.Deferred()
				later = append(later, sub)
				return err
			}
			err = each(r)
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if id == "" {
		return r.Errorf("a workspace of tenant %s has no workspace_id", tenant)
	}
	for _, sub := range later {
		if err := each(sub); err != nil {
			return err
		}
	}
	return nil
}

func (w *wsDays) cluster(r *Reader, tenant, workspace, workspaceName string) error {
	var id, name string
	var regions []string
	var haveName, haveRegions bool
	var later []*Reader
	each := func(r *Reader) error {
		l := w.base
		l.TenantID = tenant
		l.SubAccountID, l.SubAccountName = workspace, workspaceName
		l.ResourceID, l.ResourceName, l.ResourceType = id, name, wsResourceType(id)
		if len(regions) == 1 {
			l.RegionID, l.RegionName = regions[0], regions[0]
		}
		if len(regions) > 0 {
			b, _ := json.Marshal(regions)
			l.Regions = string(b)
		}
		ci := w.ledger.cluster(wsCluster{tenant, workspace, id})
		return r.Array(func() error { return w.charge(r, l, ci) })
	}
	err := r.Object(func(n []byte) (err error) {
		switch string(n) {
		case "virtual_cluster_id":
			id, err = r.Str()
		case "cluster_name":
			name, err = r.Str()
			haveName = true
		case "cluster_regions":
			regions, err = r.Strs()
			haveRegions = true
		case "charges":
			if id == "" || !haveName || !haveRegions {
				var sub *Reader
				sub, err = r.Deferred()
				later = append(later, sub)
				return err
			}
			err = each(r)
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if id == "" {
		return r.Errorf("a cluster of workspace %s has no virtual_cluster_id", workspace)
	}
	for _, sub := range later {
		if err := each(sub); err != nil {
			return err
		}
	}
	return nil
}

// charge streams one product's days; l carries the cluster's fields.
func (w *wsDays) charge(r *Reader, l Line, cluster int32) error {
	var product string
	var pi int32
	var unitPrice NullDecimal
	var haveUnitPrice bool
	var later []*Reader
	var seen uint32 // days of the month already read, to catch duplicates
	each := func(r *Reader) error {
		first := w.ledger.line(cluster, pi)
		if first.seen {
			return r.Errorf("duplicate charge %s", w.ledger.key(cluster, pi))
		}
		first.seen = true
		p := &w.ledger.prods[pi]
		l.ChargeCategory, l.ChargeFrequency = Usage, UsageBased
		l.ChargeDescription, l.SkuID, l.SkuMeter = p.name, p.name, p.meter
		l.ConsumedUnit, l.PricingUnit = p.unit, p.unit
		l.VendorUnitPrice = unitPrice
		l.SourceEndpoint = wsBreakdowns
		var sum wsSum
		err := r.Array(func() error { return w.breakdown(r, &l, &seen, &sum) })
		e := w.ledger.line(cluster, pi) // first may have moved
		e.days, e.n = sum.total, int32(sum.days)
		return err
	}
	err := r.Object(func(n []byte) (err error) {
		switch string(n) {
		case "product":
			var b []byte
			if b, err = r.Bytes(); err == nil && len(b) > 0 {
				pi = w.ledger.product(b)
				product = w.ledger.prods[pi].name
			}
		case "unit_price":
			unitPrice, err = r.Number(true)
			haveUnitPrice = true
		case "breakdowns":
			if product == "" || !haveUnitPrice {
				var sub *Reader
				sub, err = r.Deferred()
				later = append(later, sub)
				return err
			}
			err = each(r)
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if product == "" {
		return r.Errorf("a charge of cluster %s has no product", l.ResourceID)
	}
	for _, sub := range later {
		if err := each(sub); err != nil {
			return err
		}
	}
	return nil
}

// breakdown reads one day and writes its usage line.
func (w *wsDays) breakdown(r *Reader, l *Line, seen *uint32, sum *wsSum) error {
	d := &w.day
	*d = wsDay{}
	err := r.Object(func(n []byte) (err error) {
		switch string(n) {
		case "date_from":
			d.from, err = r.Date()
		case "date_to":
			d.to, err = r.Date()
		case "quantity":
			d.quantity, err = r.Number(true)
		case "total":
			d.total, err = r.Number(false)
		default:
			err = r.Skip()
		}
		return err
	})
	switch {
	case err != nil:
		return err
	case d.from.IsZero() || d.to.IsZero():
		return r.Errorf("a daily breakdown has no date_from or date_to")
	case !d.to.After(d.from):
		return r.Errorf("a daily breakdown ends (%s) before it starts (%s)", d.to.Format("2006-01-02"), d.from.Format("2006-01-02"))
	case !d.to.Equal(d.from.AddDate(0, 0, 1)):
		// A daily line is [d, d+1): a longer one could reach past the
		// billing period and would not be a day.
		return r.Errorf("a daily breakdown covers %s to %s: each must cover exactly one day, date_to = date_from + 1",
			d.from.Format("2006-01-02"), d.to.Format("2006-01-02"))
	case !d.total.Valid:
		return r.Errorf("a daily breakdown has no total")
	case !d.quantity.Valid:
		return r.Errorf("a daily breakdown has no quantity")
	}
	if !w.period.Contains(d.from) {
		w.outside++
		return nil
	}
	bit := uint32(1) << d.from.Day()
	if *seen&bit != 0 {
		return r.Errorf("duplicate breakdown for %s of %s", d.from.Format("2006-01-02"), l.SkuID)
	}
	*seen |= bit
	sum.total, _ = sum.total.Add(d.total.Decimal)
	sum.days++
	l.ChargePeriodStart, l.ChargePeriodEnd = d.from, d.to
	l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost = d.total.Decimal, d.total.Decimal, d.total.Decimal, d.total.Decimal
	l.ConsumedQuantity, l.PricingQuantity = d.quantity, d.quantity
	return w.out.Write(l)
}

// wsUnit is the FOCUS unit of a WarpStream product, from its name.
func wsUnit(product string) string {
	p := strings.ToLower(product)
	switch {
	case strings.Contains(p, "gib minutes"):
		return "GiB-Minutes"
	case strings.Contains(p, "gib hours"):
		return "GiB-Hours"
	case strings.Contains(p, "minutes"):
		return "Minutes"
	case strings.Contains(p, "hours"):
		return "Hours"
	case strings.Contains(p, "gib"):
		return "GiB"
	}
	return ""
}

// wsMeter is the product without its price tier ("... - Tier 1").
func wsMeter(product string) string {
	if i := strings.Index(product, " - Tier "); i > 0 {
		return product[:i]
	}
	return product
}

// wsResourceType tells kinds of clusters apart by their id prefix.
func wsResourceType(id string) string {
	switch {
	case strings.HasPrefix(id, "vci_dl_"):
		return "Tableflow Cluster"
	case strings.HasPrefix(id, "vci_sr_"):
		return "Schema Registry"
	}
	return "Virtual Cluster"
}
