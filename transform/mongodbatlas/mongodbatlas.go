// Package mongodbatlas maps MongoDB Atlas's invoices to FOCUS charge lines
// (docs/vendors.md). An invoice (BillingInvoice) carries its line items,
// one per SKU × project × cluster × day, in integer cents, and the
// invoices of the organizations it pays for (linkedInvoices, the same
// schema). Lines:
//   - one line per line item: BilledCost = totalPriceCents / 100 exactly;
//     Usage, or Credit when its total is negative or its SKU is a credit,
//     Purchase for support and minimum charges; a discount (discountCents)
//     makes ListCost = BilledCost + the discount;
//   - one Credit line for the credits (creditsCents) not itemized as
//     negative line items;
//   - one Tax line for salesTaxCents;
//   - one Adjustment line for the starting balance (startingBalanceCents),
//     which the invoice's amount billed subtracts;
//
// so that Σ BilledCost = amountBilledCents / 100, to the cent, with no
// rounding to close. The invoice also has to agree with itself: its
// subtotalCents is documented as the sum of its positive line items.
//
// Every invoice is its own invoices row, linked ones included (billed to
// their own organization, orgId); an invoice met twice (in the pending
// call and nested in another) is exported once. Bodies are read twice,
// both times as streams: first the invoices' own fields, skipping the line
// items, then the line items, written as they are read, so that memory
// does not grow with an invoice's size whatever its field order.
package mongodbatlas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	source "github.com/invoice-export/invoice-export/extract/mongodbatlas"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/transform"
)

// serviceCategory is the FOCUS category of Atlas, a database service
// (its support, data transfer and backup SKUs have their own, by line).
const serviceCategory = "Databases"

const companyName = "MongoDB"

// invoice is an invoice's own fields, amounts in dollars.
type invoice struct {
	idx, depth                              int // document order and nesting (0: top level)
	id, org                                 string
	status                                  string
	start, end                              time.Time
	billed, credits, tax, balance, subtotal transform.Decimal
	haveSubtotal                            bool
}

type item struct {
	sku, unit, group, groupName, cluster, app, note, cloud string
	start, end                                             time.Time
	quantity, unitPrice, discount, tierLow, tierHigh       transform.NullDecimal
	total                                                  transform.Decimal
	tags                                                   string
}

// walk reads invoices in document order. Pass 1 (head set) hands every
// invoice's own fields to head and skips line items; pass 2 (items set)
// streams the line items of the invoices items chooses, then calls done.
type walk struct {
	r     *transform.Reader
	n     int
	head  func(*invoice) error
	items func(idx int) func(item) error
	done  func(idx int) error
}

// body walks one response: a BillingInvoice (getInvoice) or a page of them
// (listInvoicePending: {"results": [...]}).
func (w *walk) body(endpoint string) error {
	if endpoint == source.GetInvoice {
		return w.invoice(0, w.r.Document)
	}
	return w.r.Document(func(name []byte) error {
		if string(name) == "results" {
			return w.r.Array(func() error { return w.invoice(0, w.r.Object) })
		}
		return w.r.Skip() // links, totalCount
	})
}

func (w *walk) invoice(depth int, object func(func([]byte) error) error) error {
	r := w.r
	inv := &invoice{idx: w.n, depth: depth}
	w.n++
	var write func(item) error
	if w.items != nil {
		write = w.items(inv.idx)
	}
	err := object(func(name []byte) (err error) {
		switch string(name) {
		case "id":
			inv.id, err = r.Str()
		case "orgId":
			inv.org, err = r.Str()
		case "statusName":
			inv.status, err = r.Str()
		case "startDate":
			inv.start, err = r.Instant()
		case "endDate":
			inv.end, err = r.Instant()
		case "amountBilledCents":
			inv.billed, _, err = cents(r)
		case "creditsCents":
			inv.credits, _, err = cents(r)
		case "salesTaxCents":
			inv.tax, _, err = cents(r)
		case "startingBalanceCents":
			inv.balance, _, err = cents(r)
		case "subtotalCents":
			inv.subtotal, inv.haveSubtotal, err = cents(r)
		case "lineItems":
			if write == nil {
				return r.Skip()
			}
			err = r.Array(func() error {
				it, err := readItem(r)
				if err != nil {
					return err
				}
				return write(it)
			})
		case "linkedInvoices":
			err = r.Array(func() error { return w.invoice(depth+1, r.Object) })
		default:
			err = r.Skip() // amountPaidCents, created, updated, links, payments, refunds
		}
		return err
	})
	if err != nil {
		return err
	}
	if w.head != nil {
		if err := w.head(inv); err != nil {
			return err
		}
	}
	if write != nil && w.done != nil {
		return w.done(inv.idx)
	}
	return nil
}

// body is one response and the invoices it holds.
type body struct {
	b        *extract.Body
	invoices []*invoice // by idx: document order of their opening
}

// Transform maps the invoices of the job's month: those read by id, those
// of the pending call, and the linked invoices nested in either.
func Transform(in transform.Input, t *transform.Tally) (*transform.Result, error) {
	p := in.Job.Period
	res := &transform.Result{}
	names := map[string]string{}
	if b, err := in.Body(source.ListOrgs); err == nil {
		if names, err = orgNames(b); err != nil {
			return nil, err
		}
	}
	var bodies []*body
	for _, b := range in.Bodies {
		if e := b.Call.Endpoint; e != source.GetInvoice && e != source.PendingInvoices {
			continue // list pages: what to fetch, not what to export
		}
		src := &body{b: b}
		r := t.Reader(b)
		w := &walk{r: r, head: func(inv *invoice) error {
			for len(src.invoices) <= inv.idx {
				src.invoices = append(src.invoices, nil)
			}
			src.invoices[inv.idx] = inv
			if err := check(r, inv); err != nil {
				return err
			}
			if b.Call.Endpoint == source.GetInvoice && inv.depth == 0 {
				return checkRequested(r, b, inv, p)
			}
			return nil
		}}
		if err := w.body(b.Call.Endpoint); err != nil {
			return nil, err
		}
		bodies = append(bodies, src)
	}

	// Each invoice is exported once: from the body where it is least
	// nested (its own call over a copy inside another invoice), the first
	// such body when there are several.
	type place struct{ src, idx, depth int }
	chosen := map[string]place{}
	var order []string
	for si, src := range bodies {
		for _, inv := range src.invoices {
			c, ok := chosen[inv.id]
			if !ok {
				order = append(order, inv.id)
			}
			if !ok || inv.depth < c.depth {
				chosen[inv.id] = place{si, inv.idx, inv.depth}
			}
		}
	}
	for _, id := range order {
		c := chosen[id]
		inv := bodies[c.src].invoices[c.idx]
		if billing.PeriodOf(inv.start) != p {
			// Only nested and pending invoices get here: the pending call
			// may hold a month the run does not export, and an invoice's
			// linked invoices need not bill its month.
			res.Notes = append(res.Notes, fmt.Sprintf("invoice %s (organization %s) bills %s, not %s: not exported with this month",
				id, inv.org, inv.start.Format("2006-01"), p))
			delete(chosen, id)
			continue
		}
		if !inv.start.Equal(p.Start()) || !inv.end.Equal(p.End()) {
			res.Notes = append(res.Notes, fmt.Sprintf("invoice %s bills %s to %s, part of %s", id,
				inv.start.Format(time.RFC3339), inv.end.Format(time.RFC3339), p))
		}
	}
	skipped := 0
	for si, src := range bodies {
		for _, inv := range src.invoices {
			if c, ok := chosen[inv.id]; ok && (c.src != si || c.idx != inv.idx) {
				skipped++
			}
		}
	}
	if skipped > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d copies of invoices met more than once (in the pending call and nested in another invoice) were not exported again", skipped))
	}

	// Pass 2: the line items of the chosen invoices, then their own lines.
	for si, src := range bodies {
		ledgers := map[int]*ledger{}
		var done []*ledger
		w := &walk{r: t.Reader(src.b),
			items: func(idx int) func(item) error {
				inv := src.invoices[idx]
				if c, ok := chosen[inv.id]; !ok || c.src != si || c.idx != idx {
					return nil
				}
				l := newLedger(t, in, inv, src.b.Call.Endpoint, names)
				ledgers[idx] = l
				return l.item
			},
			done: func(idx int) error {
				l := ledgers[idx]
				row, err := l.finish()
				if err != nil {
					return err
				}
				res.Invoices = append(res.Invoices, row)
				done = append(done, l)
				return nil
			},
		}
		if err := w.body(src.b.Call.Endpoint); err != nil {
			return nil, err
		}
		for _, l := range done {
			if l.undated > 0 {
				res.Notes = append(res.Notes, fmt.Sprintf("invoice %s: %d line items had no start and end dates within its billing period: they are charged over the invoice's period", l.inv.id, l.undated))
			}
		}
	}
	return res, nil
}

// orgNames reads the organizations' names by id (listOrgs).
func orgNames(b *extract.Body) (map[string]string, error) {
	r := transform.NewReader(b, nil) // no numbers read
	names := map[string]string{}
	err := r.Document(func(name []byte) error {
		if string(name) != "results" {
			return r.Skip()
		}
		return r.Array(func() error {
			var id, n string
			err := r.Object(func(name []byte) (err error) {
				switch string(name) {
				case "id":
					id, err = r.Str()
				case "name":
					n, err = r.Str()
				default:
					err = r.Skip()
				}
				return err
			})
			names[id] = n
			return err
		})
	})
	return names, err
}

// check refuses an invoice that cannot be exported.
func check(r *transform.Reader, inv *invoice) error {
	switch {
	case inv.id == "":
		return r.Errorf("an invoice has no id")
	case inv.start.IsZero() || inv.end.IsZero():
		return r.Errorf("invoice %s has no startDate or endDate", inv.id)
	case !inv.end.After(inv.start):
		return r.Errorf("invoice %s ends (%s) before it starts (%s)", inv.id, inv.end.Format(time.RFC3339), inv.start.Format(time.RFC3339))
	case inv.end.After(billing.PeriodOf(inv.start).End()):
		return r.Errorf("invoice %s bills %s to %s: only billing periods within one calendar month are supported",
			inv.id, inv.start.Format(time.RFC3339), inv.end.Format(time.RFC3339))
	}
	return nil
}

// checkRequested refuses a getInvoice answer that is not the invoice
// asked for, or not of the job's month.
func checkRequested(r *transform.Reader, b *extract.Body, inv *invoice, p billing.Period) error {
	want := b.Call.Path[strings.LastIndexByte(b.Call.Path, '/')+1:]
	switch {
	case inv.id != want:
		return r.Errorf("the response is invoice %q, not the requested %q", inv.id, want)
	case billing.PeriodOf(inv.start) != p:
		return r.Errorf("invoice %s bills from %s, not %s (a list captured on another day? replay with the --as-of of the run that recorded it)",
			inv.id, inv.start.Format(time.RFC3339), p)
	}
	return nil
}

// ledger writes one invoice's lines and keeps what its invoices row needs.
type ledger struct {
	t        *transform.Tally
	inv      *invoice
	base     transform.Line
	endpoint string
	// Σ of the lines written, of the line items' totals above and below
	// zero, and of their discounts.
	sum, positive, negative, discounts transform.Decimal
	undated                            int
	items                              int // line items written: the next one's position in lineItems
}

func newLedger(t *transform.Tally, in transform.Input, inv *invoice, endpoint string, names map[string]string) *ledger {
	p := in.Job.Period
	org := inv.org
	if org == "" {
		org = in.Job.Account
	}
	return &ledger{t: t, inv: inv, endpoint: endpoint, base: transform.Line{
		BillingAccountID:   org,
		BillingAccountName: names[org],
		BillingCurrency:    "USD", // every amount is documented in cents of a US dollar
		BillingPeriodStart: p.Start(),
		BillingPeriodEnd:   p.End(),
		ChargePeriodStart:  inv.start,
		ChargePeriodEnd:    inv.end,
		InvoiceID:          inv.id,
		InvoiceIssuerName:  companyName,
		ProviderName:       companyName,
		PublisherName:      companyName,
		ServiceName:        "MongoDB Atlas",
		ServiceCategory:    serviceCategory,
		ServiceSubcategory: "NoSQL",
		Provider:           source.Slug,
		SourceEndpoint:     endpoint,
	}}
}

// costs sets every cost of l to d: one price is published.
func costs(l *transform.Line, d transform.Decimal) {
	l.BilledCost, l.EffectiveCost, l.ContractedCost, l.ListCost = d, d, d, d
}

// write writes l, counted into the invoice's sum.
func (g *ledger) write(l *transform.Line) error {
	g.sum, _ = g.sum.Add(l.BilledCost)
	return g.t.Write(l)
}

var one = transform.MustDecimal("1")

// item writes one line item.
func (g *ledger) item(it item) error {
	l := g.base
	// An invoice's line items carry no id of their own: their position in
	// lineItems is the natural key, and the same body gives the same ids.
	l.ChargeID = g.inv.id + "/" + strconv.Itoa(g.items)
	g.items++
	if !it.start.IsZero() && it.end.After(it.start) && !it.start.Before(g.inv.start) && !it.end.After(g.inv.end) {
		l.ChargePeriodStart, l.ChargePeriodEnd = it.start, it.end
	} else {
		g.undated++
	}
	l.SubAccountID, l.SubAccountName = it.group, it.groupName
	switch {
	case it.cluster != "":
		l.ResourceName, l.ResourceType = it.cluster, "Cluster"
		l.ResourceID = resource(it.group, "clusters", it.cluster)
	case it.app != "":
		l.ResourceName, l.ResourceType = it.app, "App Services Application"
		l.ResourceID = resource(it.group, "apps", it.app)
	}
	l.Tags, l.CloudProvider = it.tags, it.cloud
	l.ServiceCategory, l.ServiceSubcategory = service(it.sku)
	l.SkuID, l.SkuMeter = it.sku, it.sku
	l.ChargeDescription = description(it)
	l.VendorUnitPrice = it.unitPrice
	quantity := it.quantity
	if !quantity.Valid {
		quantity = transform.Some(transform.Decimal{}) // omitted: none
	}
	unit := unitOf(it.unit)
	switch {
	case it.sku == "CREDIT" || strings.HasSuffix(it.sku, "_COUPON") || it.total.Sign() < 0:
		l.ChargeCategory, l.ChargeFrequency = transform.Credit, transform.OneTime
	case it.sku == "":
		// FOCUS wants a SKU on usage and purchases: a line item without
		// one is exported as what it does to the invoice.
		l.ChargeCategory, l.ChargeFrequency = transform.Adjustment, transform.OneTime
		l.SkuMeter = ""
	case strings.Contains(it.sku, "SUPPORT"), it.sku == "MINIMUM_CHARGE":
		l.ChargeCategory, l.ChargeFrequency = transform.Purchase, transform.Recurring
		if !it.quantity.Valid || it.quantity.IsZero() {
			quantity, unit = transform.Some(one), "Units"
		}
		l.PricingQuantity, l.PricingUnit = quantity, unit
	default:
		l.ChargeCategory, l.ChargeFrequency = transform.Usage, transform.UsageBased
		l.ConsumedQuantity, l.PricingQuantity = quantity, quantity
		l.ConsumedUnit, l.PricingUnit = unit, unit
	}
	costs(&l, it.total)
	if it.discount.Valid && (l.ChargeCategory == transform.Usage || l.ChargeCategory == transform.Purchase) {
		// The discount is what the line would have cost more at list
		// price; the contracted price is the one billed.
		l.ListCost, _ = it.total.Add(it.discount.Decimal)
		g.discounts, _ = g.discounts.Add(it.discount.Decimal)
	}
	if it.total.Sign() > 0 {
		g.positive, _ = g.positive.Add(it.total)
	} else {
		g.negative, _ = g.negative.Add(it.total)
	}
	return g.write(&l)
}

// finish writes the invoice's own lines and settles its invoices row.
func (g *ledger) finish() (transform.Invoice, error) {
	inv := g.inv
	invoiceLine := func(category, key, description string, d transform.Decimal) error {
		l := g.base
		l.ChargeID = inv.id + "/" + key
		l.ChargeCategory, l.ChargeFrequency, l.ChargeDescription = category, transform.OneTime, description
		costs(&l, d)
		return g.write(&l)
	}
	// Credits are either itemized (CREDIT line items, negative) or only in
	// creditsCents: what the items do not carry becomes one Credit line.
	unitemized, _ := inv.credits.Add(g.negative)
	if unitemized.Sign() > 0 {
		if err := invoiceLine(transform.Credit, "credits", "Credits applied to the invoice (creditsCents) beyond its credit line items", unitemized.Neg()); err != nil {
			return transform.Invoice{}, err
		}
	}
	if !inv.tax.IsZero() {
		if err := invoiceLine(transform.Tax, "tax", "Sales tax (salesTaxCents)", inv.tax); err != nil {
			return transform.Invoice{}, err
		}
	}
	if !inv.balance.IsZero() {
		if err := invoiceLine(transform.Adjustment, "balance", "Starting balance carried into the invoice (startingBalanceCents), which its amount billed subtracts", inv.balance.Neg()); err != nil {
			return transform.Invoice{}, err
		}
	}

	row := transform.Invoice{
		Provider:           source.Slug,
		InvoiceID:          inv.id,
		BillingAccountID:   g.base.BillingAccountID,
		BillingAccountName: g.base.BillingAccountName,
		BillingPeriodStart: g.base.BillingPeriodStart,
		BillingPeriodEnd:   g.base.BillingPeriodEnd,
		Status:             inv.status,
		Final:              inv.status != "" && inv.status != "PENDING",
		Currency:           "USD",
		VendorTotal:        inv.billed,
		SourceEndpoint:     g.endpoint,
	}
	var problems []string
	if inv.haveSubtotal && inv.subtotal.Cmp(g.positive) != 0 {
		problems = append(problems, fmt.Sprintf("subtotalCents says %s USD but the positive line items add up to %s", inv.subtotal, g.positive))
	}
	if gap, _ := inv.billed.Sub(g.sum); !gap.IsZero() {
		msg := fmt.Sprintf("the lines add up to %s USD but amountBilledCents says %s: a gap of %s (line items %s and %s, creditsCents %s, salesTaxCents %s, startingBalanceCents %s)",
			g.sum, inv.billed, gap, g.positive, g.negative, inv.credits, inv.tax, inv.balance)
		switch d := g.discounts; {
		case !d.IsZero() && gap.Cmp(d.Neg()) == 0:
			// Billed less than the lines by exactly their discounts: the
			// totals would be list prices, not what was billed.
			msg += "; the gap is the line items' discounts: their totalPriceCents may be before discount"
		case !inv.credits.IsZero() && gap.Cmp(inv.credits) == 0:
			msg += "; the gap is creditsCents: the amount billed may not deduct credits"
		}
		problems = append(problems, msg)
	}
	// No tolerance: cents are exact, nothing is rounded, so no gap is
	// closed by an adjustment (every gap is a problem, stated above).
	err := g.t.Reconcile(&row, transform.Decimal{}, strings.Join(problems, "; "), func(transform.Decimal) transform.Line {
		panic("mongodbatlas: a gap to adjust with no tolerance")
	})
	return row, err
}

// resource is a resource's id: the API path of the resource within its
// project, unique across Atlas (cluster and application names are unique
// only within a project).
func resource(group, kind, name string) string {
	if group == "" {
		return kind + "/" + name
	}
	return group + "/" + kind + "/" + name
}

// service maps a SKU to FOCUS's categories: Atlas is a NoSQL database
// service; its support, data transfer and backup SKUs are named so.
func service(sku string) (string, string) {
	switch {
	case strings.Contains(sku, "SUPPORT"):
		return "Management and Governance", "Support"
	case strings.Contains(sku, "DATA_TRANSFER"):
		return "Networking", "Data Transfer"
	case strings.Contains(sku, "BACKUP"), strings.Contains(sku, "SNAPSHOT"), strings.Contains(sku, "PIT_RESTORE"):
		return "Storage", "Backups"
	}
	return serviceCategory, "NoSQL"
}

func description(it item) string {
	d := it.sku
	if d == "" {
		d = "Line item without a SKU"
	}
	switch {
	case it.tierLow.Valid && it.tierHigh.Valid:
		d += fmt.Sprintf(", tier %s to %s", it.tierLow.Decimal, it.tierHigh.Decimal)
	case it.tierLow.Valid:
		d += fmt.Sprintf(", tier from %s", it.tierLow.Decimal)
	}
	if it.note != "" {
		d += ": " + it.note
	}
	return d
}

// units maps the units Atlas names to FOCUS's unit format; any other unit
// passes through verbatim, and a missing one is counted in Units.
var units = map[string]string{
	"hours":        "Hours",
	"server hours": "Hours",
	"gb":           "GB",
	"gb hours":     "GB-Hours",
	"gb days":      "GB-Days",
	"gb months":    "GB-Months",
}

func unitOf(u string) string {
	if u == "" {
		return "Units"
	}
	if f, ok := units[strings.ToLower(u)]; ok {
		return f
	}
	return u
}

// cents reads an amount in cents as dollars, exactly. An omitted or null
// amount is 0 (ok false). The API documents integers; a fraction of a cent
// is kept as sent, and one too fine for DECIMAL(38,24) in dollars is bad
// data.
func cents(r *transform.Reader) (transform.Decimal, bool, error) {
	n, err := r.Number(false)
	if err != nil || !n.Valid {
		return transform.Decimal{}, false, err
	}
	// Moving the point two places is exact: the text's exponent does it.
	d, err := transform.ParseDecimal(append(n.Append(nil), "e-2"...), false)
	if err != nil {
		return transform.Decimal{}, false, r.Errorf("an amount in cents with more than %d decimals", transform.Scale-2)
	}
	return d, true, nil
}

func readItem(r *transform.Reader) (item, error) {
	var it item
	err := r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "sku":
			it.sku, err = r.Str()
		case "unit":
			it.unit, err = r.Str()
		case "groupId":
			it.group, err = r.Str()
		case "groupName":
			it.groupName, err = r.Str()
		case "clusterName":
			it.cluster, err = r.Str()
		case "stitchAppName":
			it.app, err = r.Str()
		case "note":
			it.note, err = r.Str()
		case "cloudProvider":
			it.cloud, err = r.Str()
		case "startDate":
			it.start, err = r.Instant()
		case "endDate":
			it.end, err = r.Instant()
		case "quantity":
			it.quantity, err = r.Number(true)
		case "unitPriceDollars":
			it.unitPrice, err = r.Number(true)
		case "tierLowerBound":
			it.tierLow, err = r.Number(true)
		case "tierUpperBound":
			it.tierHigh, err = r.Number(true)
		case "totalPriceCents":
			it.total, _, err = cents(r)
		case "discountCents":
			var d transform.Decimal
			var ok bool
			if d, ok, err = cents(r); ok {
				it.discount = transform.Some(d)
			}
		case "tags":
			it.tags, err = readTags(r)
		default:
			err = r.Skip() // created, percentDiscount (discountCents is the amount)
		}
		return err
	})
	return it, err
}

// readTags reads tags (a map of key to a list of values) as FOCUS Tags,
// whose values cannot be lists: one value stays a string, several are
// joined with commas, none is true (FOCUS's valueless key). Keys sorted.
func readTags(r *transform.Reader) (string, error) {
	if k, err := r.Peek(); err != nil || k == 'n' {
		if err == nil {
			err = r.Skip()
		}
		return "", err
	}
	tags := map[string]any{}
	err := r.Object(func(name []byte) error {
		key := string(name)
		k, err := r.Peek()
		if err != nil {
			return err
		}
		switch k {
		case 'n':
			tags[key] = nil
			return r.Skip()
		case '"':
			v, err := r.Str()
			tags[key] = v
			return err
		}
		vs, err := r.Strs()
		switch len(vs) {
		case 0:
			tags[key] = true
		case 1:
			tags[key] = vs[0]
		default:
			tags[key] = strings.Join(vs, ",")
		}
		return err
	})
	if err != nil || len(tags) == 0 {
		return "", err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(tags) // map keys come out sorted
	return strings.TrimSuffix(b.String(), "\n"), nil
}
