// Package cockroachdb maps CockroachDB Cloud's invoices to FOCUS charge
// lines (docs/vendors.md). Each invoice of the period gives one
// Usage line per cluster × line item and one invoice-level line per
// adjustment (credits, support). Invoices are small, so each is decoded
// whole, then mapped.
//
// Money: the API documents a CurrencyAmount's amount as a decimal
// serialized as a 64-bit float, and its SDK types quantity and unit_cost as
// float64 too: every number of those fields is read at the 15 significant
// digits a float64 holds (transform.ParseFloat64: 988.5700000000002 is
// 988.57). They are protobuf JSON, which leaves default values out: a
// missing amount is 0 and a missing currency is USD (the Currency enum's
// first value). The same holds for quantity and unit_cost, and for
// quantity_unit (HOURS, the QuantityUnit enum's first value). Currency
// codes are upper-cased before they are classified.
//
// Currencies: USD is national; CRDB_CLOUD_CREDITS is a virtual currency and
// is never summed with USD. FOCUS wants BillingCurrency national, so a line
// priced in credits has BillingCurrency = the invoice's national currency,
// BilledCost (and the other costs) 0, PricingCurrency = CRDB_CLOUD_CREDITS
// and PricingCurrencyEffectiveCost = the credits. Each currency of an
// invoice has its own invoices row and is reconciled on its own.
//
// Rounding: a total that is a float64 sum whose terms cancel can keep
// noise in its 15th digit; only that much is closed by an Adjustment line.
// Anything larger is reported.
package cockroachdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	source "github.com/invoice-export/invoice-export/extract/cockroachdb"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/transform"
)

// serviceCategory is the FOCUS category of its services (support aside, which is Management and Governance).
const serviceCategory = "Databases"

const companyName = "Cockroach Labs"

type currencyAmount struct {
	amount   transform.Decimal
	currency string
}

type cluster struct {
	id, name, plan, cloud string
	regions               []string
	tags                  string // JSON object text; "" when there are no labels
}

type lineItem struct {
	description, unit  string
	quantity, unitCost transform.Decimal
	total              currencyAmount
}

type invoiceItem struct {
	cluster cluster
	lines   []lineItem
	totals  []currencyAmount
}

type adjustment struct {
	name   string
	amount currencyAmount
}

type invoice struct {
	id, status  string
	start, end  time.Time
	totals      []currencyAmount
	items       []invoiceItem
	adjustments []adjustment
}

type organization struct{ id, name string }

// Transform maps the period's invoices. The billing account is the
// organization's, or the job's (COCKROACH_ORGANIZATION_ID: no name then).
func Transform(in transform.Input, t *transform.Tally) (*transform.Result, error) {
	org := organization{id: in.Job.Account}
	if org.id == "" {
		orgBody, err := in.Body(source.Organization)
		if err != nil {
			return nil, err
		}
		if org, err = decodeOrganization(orgBody); err != nil {
			return nil, err
		}
	}
	res := &transform.Result{}
	for _, b := range in.Bodies {
		if b.Call.Endpoint != source.GetInvoice {
			continue
		}
		inv, err := decodeInvoice(t.Reader(b), b, in.Job.Period)
		if err != nil {
			return nil, err
		}
		rows, err := export(t, org, inv, in.Job.Period)
		if err != nil {
			return nil, err
		}
		res.Invoices = append(res.Invoices, rows...)
	}
	return res, nil
}

// writer writes one invoice's lines, keeping what reconciliation needs:
// the currencies seen and Σ|amount| per currency (the float-noise scale).
type writer struct {
	t        *transform.Tally
	national string
	abs      map[string]transform.Decimal
}

// write sets l's costs from a and writes it.
func (w *writer) write(l *transform.Line, a currencyAmount) error {
	if transform.IsNationalCurrency(a.currency) {
		l.BillingCurrency = a.currency
		l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost = a.amount, a.amount, a.amount, a.amount
	} else {
		l.BillingCurrency = w.national
		l.PricingCurrency = a.currency
		l.PricingCurrencyEffectiveCost = transform.Some(a.amount)
	}
	w.abs[a.currency], _ = w.abs[a.currency].Add(a.amount.Abs())
	return w.t.Write(l)
}

func export(t *transform.Tally, org organization, inv *invoice, p billing.Period) ([]transform.Invoice, error) {
	base := transform.Line{
		BillingAccountID:   org.id,
		BillingAccountName: org.name,
		BillingPeriodStart: p.Start(),
		BillingPeriodEnd:   p.End(),
		ChargePeriodStart:  inv.start,
		ChargePeriodEnd:    inv.end,
		InvoiceID:          inv.id,
		InvoiceIssuerName:  companyName,
		ProviderName:       companyName,
		PublisherName:      companyName,
		ServiceName:        "CockroachDB Cloud",
		ServiceCategory:    serviceCategory,
		ServiceSubcategory: "Relational",
		Provider:           source.Slug,
		SourceEndpoint:     source.GetInvoice,
	}
	w := &writer{t: t, national: nationalOf(inv.totals), abs: map[string]transform.Decimal{}}
	problems := map[string][]string{} // per currency
	// x_ChargeId: invoice / cluster / position in line_items. LineItem has
	// no id nor region, and the same item may repeat within a cluster
	// (one per region), so its position tells it apart; a cluster in a
	// second invoice item is the cluster id with #2.
	clusters := transform.ChargeIDs{}
	for _, it := range inv.items {
		c := it.cluster
		item := clusters.Next(inv.id + "/" + c.id)
		cl := base
		cl.ResourceID, cl.ResourceName, cl.ResourceType = c.id, c.name, "Cluster"
		if len(c.regions) == 1 {
			cl.RegionID, cl.RegionName = c.regions[0], c.regions[0]
		}
		if len(c.regions) > 0 {
			cl.Regions = compactJSON(c.regions)
		}
		cl.Tags, cl.Plan, cl.CloudProvider = c.tags, c.plan, c.cloud
		cl.ChargeCategory, cl.ChargeFrequency = transform.Usage, transform.UsageBased
		for i, li := range it.lines {
			l := cl
			l.ChargeID = item + "/" + strconv.Itoa(i)
			l.ChargeDescription, l.SkuID, l.SkuMeter = li.description, li.description, li.description
			l.ConsumedQuantity, l.PricingQuantity = transform.Some(li.quantity), transform.Some(li.quantity)
			l.ConsumedUnit, l.PricingUnit = unitOf(li.unit), unitOf(li.unit)
			l.VendorUnitPrice = transform.Some(li.unitCost)
			if err := w.write(&l, li.total); err != nil {
				return nil, err
			}
		}
		for cur, msg := range checkItem(it) {
			problems[cur] = append(problems[cur], msg)
		}
	}
	// Adjustments count with the sign they are sent with: the spec gives
	// none, and Σ line items + Σ adjustments = total is what the invoice
	// row checks; a name tells nothing ("Credit card processing fee").
	for i, a := range inv.adjustments {
		l := base
		l.ChargeID = inv.id + "/adjustments/" + strconv.Itoa(i)
		l.ChargeDescription = a.name
		switch {
		case a.amount.amount.Sign() < 0:
			l.ChargeCategory, l.ChargeFrequency = transform.Credit, transform.OneTime
		default:
			// A Purchase needs a quantity (FOCUS): one of it, for the period.
			l.ChargeCategory, l.ChargeFrequency = transform.Purchase, transform.OneTime
			l.SkuID = a.name
			l.PricingQuantity, l.PricingUnit = transform.Some(one), "Units"
			if strings.Contains(strings.ToLower(a.name), "support") {
				l.ChargeFrequency = transform.Recurring
				l.ServiceCategory, l.ServiceSubcategory = "Management and Governance", "Support"
			}
		}
		if err := w.write(&l, a.amount); err != nil {
			return nil, err
		}
	}

	totals := map[string]transform.Decimal{}
	for _, a := range inv.totals {
		totals[a.currency] = a.amount
	}
	var rows []transform.Invoice
	// Every currency that has a line, an invoice total or a cluster total
	// gets a row: a cluster's finding in a currency the invoice totals do
	// not name is reported on that currency's row, not dropped.
	seen := maps.Clone(w.abs)
	for _, it := range inv.items {
		for _, a := range it.totals {
			if _, ok := seen[a.currency]; !ok {
				seen[a.currency] = transform.Decimal{}
			}
		}
	}
	for _, cur := range currencies(totals, seen) {
		row := transform.Invoice{
			Provider:           source.Slug,
			InvoiceID:          inv.id,
			BillingAccountID:   org.id,
			BillingAccountName: org.name,
			BillingPeriodStart: p.Start(),
			BillingPeriodEnd:   p.End(),
			Status:             inv.status,
			Final:              inv.status == "FINALIZED",
			Currency:           cur,
			VendorTotal:        totals[cur],
			SourceEndpoint:     source.GetInvoice,
		}
		scale, _ := w.abs[cur].Add(row.VendorTotal.Abs())
		problem := ""
		if ps := problems[cur]; len(ps) > 0 {
			problem = strings.Join(ps, "; ")
		}
		err := t.Reconcile(&row, floatNoise(scale), problem, func(gap transform.Decimal) transform.Line {
			l := base
			l.ChargeID = inv.id + "/rounding/" + cur
			l.ChargeCategory, l.ChargeFrequency = transform.Adjustment, transform.OneTime
			l.ChargeDescription = "Rounding adjustment: CockroachDB Cloud serializes amounts as float64; this closes the float noise between the lines and the invoice total"
			if transform.IsNationalCurrency(cur) {
				l.BillingCurrency = cur
				l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost = gap, gap, gap, gap
			} else {
				l.BillingCurrency, l.PricingCurrency, l.PricingCurrencyEffectiveCost = w.national, cur, transform.Some(gap)
			}
			return l
		})
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

var one = transform.MustDecimal("1")

// defaultUnit is QuantityUnit.Type's first value: what an omitted
// quantity_unit means in protobuf JSON.
const defaultUnit = "HOURS"

// checkItem compares a cluster's line items with the cluster's own
// totals, per currency: a difference beyond float noise is a finding even
// when the invoice total agrees. An item without totals is not checked.
func checkItem(it invoiceItem) map[string]string {
	if len(it.totals) == 0 {
		return nil
	}
	sums, scale := map[string]transform.Decimal{}, map[string]transform.Decimal{}
	for _, a := range it.totals {
		sums[a.currency] = transform.Decimal{}
		scale[a.currency] = a.amount.Abs()
	}
	for _, li := range it.lines {
		sums[li.total.currency], _ = sums[li.total.currency].Add(li.total.amount)
		scale[li.total.currency], _ = scale[li.total.currency].Add(li.total.amount.Abs())
	}
	out := map[string]string{}
	for cur, sum := range sums {
		var want transform.Decimal
		for _, a := range it.totals {
			if a.currency == cur {
				want = a.amount
			}
		}
		if gap, _ := want.Sub(sum); gap.Abs().Cmp(floatNoise(scale[cur])) > 0 {
			out[cur] = fmt.Sprintf("cluster %s (%s): its line items add up to %s %s but its totals say %s", it.cluster.name, it.cluster.id, sum, cur, want)
		}
	}
	return out
}

// floatNoise is how far float64 arithmetic, read at 15 significant
// digits, can leave values whose magnitudes add up to scale from the
// decimals they stand for: a value made from a decimal of at most 15
// digits reads back exactly, and a sum whose terms cancel may be one unit
// off in its 15th digit, 1e-14 of its magnitude at most. That stays far
// below a cent for any invoice.
func floatNoise(scale transform.Decimal) transform.Decimal {
	d, err := transform.ParseDecimal([]byte(scale.String()+"e-14"), true)
	if err != nil {
		return transform.Decimal{}
	}
	return d
}

// currencies lists an invoice's currencies: those of its totals and
// of the others map (its lines and its clusters' totals); national ones
// first.
func currencies(totals, lines map[string]transform.Decimal) []string {
	var out []string
	for c := range totals {
		out = append(out, c)
	}
	for c := range lines {
		if _, ok := totals[c]; !ok {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		out = append(out, "USD") // an empty invoice still has a row
	}
	slices.SortFunc(out, func(a, b string) int {
		if na, nb := transform.IsNationalCurrency(a), transform.IsNationalCurrency(b); na != nb {
			if na {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return out
}

// nationalOf is the invoice's national currency: the first ISO 4217 code
// among its totals, USD when there is none.
func nationalOf(totals []currencyAmount) string {
	for _, a := range totals {
		if transform.IsNationalCurrency(a.currency) {
			return a.currency
		}
	}
	return "USD"
}

// units maps QuantityUnit.Type to FOCUS units. The vendor adds values
// over time: an unknown one passes through verbatim.
var units = map[string]string{
	"HOURS":         "Hours",
	"REQUEST_UNITS": "Request Units",
	"GIB":           "GiB",
	"GIB_HOURS":     "GiB-Hours",
	"VCPU_HOURS":    "vCPU-Hours",
}

func unitOf(u string) string {
	if f, ok := units[u]; ok {
		return f
	}
	return u
}

// compactJSON is v as compact JSON, map keys sorted, without HTML escapes.
func compactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Decoding. Every object is read whole whatever its field order, then
// checked; the decoder itself rejects duplicate member names.

// decodeOrganization reads the billing account: its id, and its name
// ("Name of the organization"). Its label, "a short ID used by CockroachDB
// Support", is not exported (docs/vendors.md).
func decodeOrganization(b *extract.Body) (organization, error) {
	r := transform.NewReader(b, nil) // no numbers
	var org organization
	err := r.Document(func(name []byte) (err error) {
		switch string(name) {
		case "id":
			org.id, err = r.Str()
		case "name":
			org.name, err = r.Str()
		default:
			err = r.Skip() // label, created_at
		}
		return err
	})
	if err != nil {
		return org, err
	}
	if org.id == "" {
		return org, r.Errorf("the organization has no id")
	}
	return org, nil
}

func decodeInvoice(r *transform.Reader, b *extract.Body, p billing.Period) (*invoice, error) {
	inv := &invoice{}
	err := r.Document(func(name []byte) (err error) {
		switch string(name) {
		case "invoice_id":
			inv.id, err = r.Str()
		case "period_start":
			inv.start, err = r.Instant()
		case "period_end":
			inv.end, err = r.Instant()
		case "status":
			inv.status, err = r.Str()
		case "totals":
			inv.totals, err = readAmounts(r, "the invoice's totals")
		case "invoice_items":
			// A cluster may have two invoice items: nothing says it is
			// unique; its lines are exported with both.
			err = r.Array(func() error {
				it, err := readItem(r)
				inv.items = append(inv.items, it)
				return err
			})
		case "adjustments":
			err = r.Array(func() error {
				a, err := readAdjustment(r)
				inv.adjustments = append(inv.adjustments, a)
				return err
			})
		default:
			err = r.Skip() // balances, folder_resources
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	want := strings.TrimPrefix(b.Call.Path, "/api/v1/invoices/")
	switch {
	case inv.id == "":
		return nil, r.Errorf("the invoice has no invoice_id")
	case inv.id != want:
		return nil, r.Errorf("the response is invoice %q, not the requested %q", inv.id, want)
	case inv.start.IsZero() || inv.end.IsZero():
		return nil, r.Errorf("the invoice has no period_start or period_end")
	case !inv.start.Equal(p.Start()):
		return nil, r.Errorf("the invoice covers a period from %s, not %s (a list captured on another day? replay with the --as-of of the run that recorded it)",
			inv.start.Format(time.RFC3339), p)
	case !inv.end.Equal(p.End()):
		return nil, r.Errorf("the invoice's period ends at %s: only calendar-month billing periods are supported", inv.end.Format(time.RFC3339))
	}
	return inv, nil
}

func readItem(r *transform.Reader) (invoiceItem, error) {
	var it invoiceItem
	var haveCluster bool
	err := r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "cluster":
			it.cluster, err = readCluster(r)
			haveCluster = true
		case "line_items":
			// Line items may repeat description, unit and unit cost (one
			// per region: LineItem names none): each is a line.
			err = r.Array(func() error {
				li, err := readLineItem(r)
				it.lines = append(it.lines, li)
				return err
			})
		case "totals":
			it.totals, err = readAmounts(r, "the invoice item's totals")
		default:
			err = r.Skip()
		}
		return err
	})
	if err == nil && !haveCluster {
		err = r.Errorf("an invoice item has no cluster")
	}
	return it, err
}

func readCluster(r *transform.Reader) (cluster, error) {
	var c cluster
	err := r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "id":
			c.id, err = r.Str()
		case "name":
			c.name, err = r.Str()
		case "plan":
			c.plan, err = r.Str()
		case "cloud_provider":
			c.cloud, err = r.Str()
		case "regions":
			err = r.Array(func() error {
				return r.Object(func(name []byte) error {
					if string(name) != "name" {
						return r.Skip()
					}
					s, err := r.Str()
					if s != "" {
						c.regions = append(c.regions, s)
					}
					return err
				})
			})
		case "labels":
			c.tags, err = readLabels(r)
		default:
			err = r.Skip() // state, deleted_at, config, ...: billed alike
		}
		return err
	})
	if err == nil && c.id == "" {
		err = r.Errorf("an invoice item's cluster has no id")
	}
	return c, err
}

// readLabels reads a map<string,string> as FOCUS Tags: JSON object text
// with sorted keys (deterministic output); "" (NULL) when empty.
func readLabels(r *transform.Reader) (string, error) {
	labels := map[string]string{}
	err := r.Object(func(name []byte) error {
		k := string(name)
		v, err := r.Str()
		labels[k] = v
		return err
	})
	if err != nil || len(labels) == 0 {
		return "", err
	}
	return compactJSON(labels), nil
}

// readLineItem reads a LineItem. quantity_unit is a protobuf enum:
// protobuf JSON leaves its default, the enum's first value HOURS, out (as
// it leaves USD out of a CurrencyAmount), so a missing unit is HOURS.
func readLineItem(r *transform.Reader) (lineItem, error) {
	li := lineItem{unit: defaultUnit}
	var haveTotal bool
	err := r.Object(func(name []byte) (err error) {
		var n transform.NullDecimal
		switch string(name) {
		case "description":
			li.description, err = r.Str()
		case "quantity":
			n, err = r.Float()
			li.quantity = n.Decimal
		case "quantity_unit":
			var u string
			if u, err = r.Str(); u != "" {
				li.unit = u
			}
		case "unit_cost":
			n, err = r.Float()
			li.unitCost = n.Decimal
		case "total":
			li.total, err = readAmount(r)
			haveTotal = true
		default:
			err = r.Skip()
		}
		return err
	})
	if err == nil && !haveTotal {
		err = r.Errorf("line item %q has no total", li.description)
	}
	return li, err
}

func readAdjustment(r *transform.Reader) (adjustment, error) {
	var a adjustment
	var haveAmount bool
	err := r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "name":
			a.name, err = r.Str()
		case "amount":
			a.amount, err = readAmount(r)
			haveAmount = true
		default:
			err = r.Skip()
		}
		return err
	})
	switch {
	case err != nil:
	case a.name == "":
		err = r.Errorf("an adjustment has no name")
	case !haveAmount:
		err = r.Errorf("adjustment %q has no amount", a.name)
	}
	return a, err
}

// readAmounts reads an array of CurrencyAmount, one per currency.
func readAmounts(r *transform.Reader, what string) ([]currencyAmount, error) {
	var out []currencyAmount
	err := r.Array(func() error {
		a, err := readAmount(r)
		if err != nil {
			return err
		}
		for _, o := range out {
			if o.currency == a.currency {
				return r.Errorf("%s name %s twice", what, a.currency)
			}
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// readAmount reads a CurrencyAmount, its amount at a float64's 15 digits;
// protobuf JSON omits the defaults: amount 0 and currency USD.
func readAmount(r *transform.Reader) (currencyAmount, error) {
	a := currencyAmount{currency: "USD"}
	err := r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "amount":
			var n transform.NullDecimal
			n, err = r.Float()
			a.amount = n.Decimal
		case "currency":
			// Upper-cased before it is classified: "usd" is USD, not a
			// virtual currency (enum values are upper case; ISO 4217 too).
			var c string
			if c, err = r.Str(); c != "" {
				a.currency = strings.ToUpper(c)
			}
		default:
			err = r.Skip()
		}
		return err
	})
	return a, err
}
