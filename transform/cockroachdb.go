package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/invoice-export/invoice-export/extract"
)

// CockroachDB Cloud (REFERENCE §3). Each invoice of the period gives one
// Usage line per cluster × line item and one invoice-level line per
// adjustment (credits, support). Invoices are small, so each is decoded
// whole, then mapped.
//
// Money: a CurrencyAmount is protobuf JSON, which leaves default values
// out: a missing amount is 0 and a missing currency is USD (the Currency
// enum's first value). The same holds for quantity and unit_cost, and for
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
// Rounding: amounts are float64 serializations of the vendor's decimals,
// so lines and totals may differ by float noise (e.g. 2e-13); only that much
// is closed by an Adjustment line. Anything larger is reported.

const cockroachName = "Cockroach Labs"

type crdbAmount struct {
	amount   Decimal
	currency string
}

type crdbCluster struct {
	id, name, plan, cloud string
	regions               []string
	tags                  string // JSON object text; "" when there are no labels
}

type crdbLineItem struct {
	description, unit  string
	quantity, unitCost Decimal
	total              crdbAmount
}

type crdbItem struct {
	cluster crdbCluster
	lines   []crdbLineItem
	totals  []crdbAmount
}

type crdbAdjustment struct {
	name   string
	amount crdbAmount
}

type crdbInvoice struct {
	id, status  string
	start, end  time.Time
	totals      []crdbAmount
	items       []crdbItem
	adjustments []crdbAdjustment
}

type crdbOrg struct{ id, name string }

func cockroachDB(in Input, t *tally) (*Result, error) {
	orgBody, err := in.body(extract.CockroachOrganization)
	if err != nil {
		return nil, err
	}
	org, err := crdbDecodeOrganization(orgBody)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for _, b := range in.Bodies {
		if b.Call.Endpoint != extract.CockroachGetInvoice {
			continue
		}
		inv, err := crdbDecodeInvoice(b, in.Job.Period, &t.rounded)
		if err != nil {
			return nil, err
		}
		rows, err := crdbExport(t, org, inv, in.Job.Period)
		if err != nil {
			return nil, err
		}
		res.Invoices = append(res.Invoices, rows...)
	}
	return res, nil
}

// crdbWriter writes one invoice's lines, keeping what reconciliation needs:
// the currencies seen and Σ|amount| per currency (the float-noise scale).
type crdbWriter struct {
	t        *tally
	national string
	abs      map[string]Decimal
}

// write sets l's costs from a and writes it.
func (w *crdbWriter) write(l *Line, a crdbAmount) error {
	if isNationalCurrency(a.currency) {
		l.BillingCurrency = a.currency
		l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost = a.amount, a.amount, a.amount, a.amount
	} else {
		l.BillingCurrency = w.national
		l.PricingCurrency = a.currency
		l.PricingCurrencyEffectiveCost = Some(a.amount)
	}
	w.abs[a.currency], _ = w.abs[a.currency].Add(a.amount.Abs())
	return w.t.Write(l)
}

func crdbExport(t *tally, org crdbOrg, inv *crdbInvoice, p extract.Period) ([]Invoice, error) {
	base := Line{
		BillingAccountID:   org.id,
		BillingAccountName: org.name,
		BillingPeriodStart: p.Start(),
		BillingPeriodEnd:   p.End(),
		ChargePeriodStart:  inv.start,
		ChargePeriodEnd:    inv.end,
		InvoiceID:          inv.id,
		InvoiceIssuerName:  cockroachName,
		ProviderName:       cockroachName,
		PublisherName:      cockroachName,
		ServiceName:        "CockroachDB Cloud",
		ServiceCategory:    "Databases",
		ServiceSubcategory: "Relational",
		Provider:           extract.CockroachDB,
		SourceEndpoint:     extract.CockroachGetInvoice,
	}
	w := &crdbWriter{t: t, national: crdbNational(inv.totals), abs: map[string]Decimal{}}
	problems := map[string][]string{} // per currency
	for _, it := range inv.items {
		c := it.cluster
		cl := base
		cl.ResourceID, cl.ResourceName, cl.ResourceType = c.id, c.name, "Cluster"
		if len(c.regions) == 1 {
			cl.RegionID, cl.RegionName = c.regions[0], c.regions[0]
		}
		if len(c.regions) > 0 {
			cl.Regions = crdbJSON(c.regions)
		}
		cl.Tags, cl.Plan, cl.CloudProvider = c.tags, c.plan, c.cloud
		cl.ChargeCategory, cl.ChargeFrequency = Usage, UsageBased
		for _, li := range it.lines {
			l := cl
			l.ChargeDescription, l.SkuID, l.SkuMeter = li.description, li.description, li.description
			l.ConsumedQuantity, l.PricingQuantity = Some(li.quantity), Some(li.quantity)
			l.ConsumedUnit, l.PricingUnit = crdbUnit(li.unit), crdbUnit(li.unit)
			l.VendorUnitPrice = Some(li.unitCost)
			if err := w.write(&l, li.total); err != nil {
				return nil, err
			}
		}
		for cur, msg := range crdbCheckItem(it) {
			problems[cur] = append(problems[cur], msg)
		}
	}
	for _, a := range inv.adjustments {
		l := base
		l.ChargeDescription = a.name
		amount := a.amount
		switch {
		case strings.Contains(strings.ToLower(a.name), "credit"):
			// The sign of credits is undocumented: a credit lowers the
			// invoice whatever sign the API gives it.
			amount.amount = amount.amount.Abs().Neg()
			l.ChargeCategory, l.ChargeFrequency = Credit, OneTime
		case amount.amount.Sign() < 0:
			l.ChargeCategory, l.ChargeFrequency = Credit, OneTime
		default:
			// A Purchase needs a quantity (FOCUS): one of it, for the period.
			l.ChargeCategory, l.ChargeFrequency = Purchase, OneTime
			l.SkuID = a.name
			l.PricingQuantity, l.PricingUnit = Some(crdbOne), "Units"
			if strings.Contains(strings.ToLower(a.name), "support") {
				l.ChargeFrequency = Recurring
				l.ServiceCategory, l.ServiceSubcategory = "Management and Governance", "Support"
			}
		}
		if err := w.write(&l, amount); err != nil {
			return nil, err
		}
	}

	totals := map[string]Decimal{}
	for _, a := range inv.totals {
		totals[a.currency] = a.amount
	}
	var rows []Invoice
	// Every currency that has a line, an invoice total or a cluster total
	// gets a row: a cluster's finding in a currency the invoice totals do
	// not name is reported on that currency's row, not dropped.
	seen := maps.Clone(w.abs)
	for _, it := range inv.items {
		for _, a := range it.totals {
			if _, ok := seen[a.currency]; !ok {
				seen[a.currency] = Decimal{}
			}
		}
	}
	for _, cur := range crdbCurrencies(totals, seen) {
		row := Invoice{
			Provider:           extract.CockroachDB,
			InvoiceID:          inv.id,
			BillingAccountID:   org.id,
			BillingAccountName: org.name,
			BillingPeriodStart: p.Start(),
			BillingPeriodEnd:   p.End(),
			Status:             inv.status,
			Final:              inv.status == "FINALIZED",
			Currency:           cur,
			VendorTotal:        totals[cur],
			SourceEndpoint:     extract.CockroachGetInvoice,
		}
		scale, _ := w.abs[cur].Add(row.VendorTotal.Abs())
		problem := ""
		if ps := problems[cur]; len(ps) > 0 {
			problem = strings.Join(ps, "; ")
		}
		err := reconcile(t, &row, crdbFloatNoise(scale), problem, func(gap Decimal) Line {
			l := base
			l.ChargeCategory, l.ChargeFrequency = Adjustment, OneTime
			l.ChargeDescription = "Rounding adjustment: CockroachDB Cloud serializes amounts as float64; this closes the float noise between the lines and the invoice total"
			if isNationalCurrency(cur) {
				l.BillingCurrency = cur
				l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost = gap, gap, gap, gap
			} else {
				l.BillingCurrency, l.PricingCurrency, l.PricingCurrencyEffectiveCost = w.national, cur, Some(gap)
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

var crdbOne = MustDecimal("1")

// crdbDefaultUnit is QuantityUnit.Type's first value: what an omitted
// quantity_unit means in protobuf JSON.
const crdbDefaultUnit = "HOURS"

// crdbCheckItem compares a cluster's line items with the cluster's own
// totals, per currency: a difference beyond float noise is a finding even
// when the invoice total agrees. An item without totals is not checked.
func crdbCheckItem(it crdbItem) map[string]string {
	if len(it.totals) == 0 {
		return nil
	}
	sums, scale := map[string]Decimal{}, map[string]Decimal{}
	for _, a := range it.totals {
		sums[a.currency] = Decimal{}
		scale[a.currency] = a.amount.Abs()
	}
	for _, li := range it.lines {
		sums[li.total.currency], _ = sums[li.total.currency].Add(li.total.amount)
		scale[li.total.currency], _ = scale[li.total.currency].Add(li.total.amount.Abs())
	}
	out := map[string]string{}
	for cur, sum := range sums {
		var want Decimal
		for _, a := range it.totals {
			if a.currency == cur {
				want = a.amount
			}
		}
		if gap, _ := want.Sub(sum); gap.Abs().Cmp(crdbFloatNoise(scale[cur])) > 0 {
			out[cur] = fmt.Sprintf("cluster %s (%s): its line items add up to %s %s but its totals say %s", it.cluster.name, it.cluster.id, sum, cur, want)
		}
	}
	return out
}

// crdbFloatNoise is how far float64 serialization can move values whose
// magnitudes add up to scale: each printed value is within 2^-53 (1.1e-16)
// of the decimal it stands for, relatively; 1e-15 leaves a wide margin and
// stays far below a cent for any invoice.
func crdbFloatNoise(scale Decimal) Decimal {
	d, err := ParseDecimal([]byte(scale.String()+"e-15"), true)
	if err != nil {
		return Decimal{}
	}
	return d
}

// crdbCurrencies lists an invoice's currencies: those of its totals and
// of the others map (its lines and its clusters' totals); national ones
// first.
func crdbCurrencies(totals, lines map[string]Decimal) []string {
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
		if na, nb := isNationalCurrency(a), isNationalCurrency(b); na != nb {
			if na {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return out
}

// crdbNational is the invoice's national currency: the first ISO 4217 code
// among its totals, USD when there is none.
func crdbNational(totals []crdbAmount) string {
	for _, a := range totals {
		if isNationalCurrency(a.currency) {
			return a.currency
		}
	}
	return "USD"
}

// isNationalCurrency tells an ISO 4217 code (USD) from a virtual currency
// (CRDB_CLOUD_CREDITS).
func isNationalCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// crdbUnits maps QuantityUnit.Type to FOCUS units. The vendor adds values
// over time: an unknown one passes through verbatim.
var crdbUnits = map[string]string{
	"HOURS":         "Hours",
	"REQUEST_UNITS": "Request Units",
	"GIB":           "GiB",
	"GIB_HOURS":     "GiB-Hours",
	"VCPU_HOURS":    "vCPU-Hours",
}

func crdbUnit(u string) string {
	if f, ok := crdbUnits[u]; ok {
		return f
	}
	return u
}

// crdbJSON is v as compact JSON, map keys sorted, without HTML escapes.
func crdbJSON(v any) string {
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

func crdbDecodeOrganization(b *extract.Body) (crdbOrg, error) {
	r := newReader(b, nil) // no numbers
	var org crdbOrg
	var label string
	err := r.document(func(name []byte) (err error) {
		switch string(name) {
		case "id":
			org.id, err = r.str()
		case "label":
			label, err = r.str()
		case "name":
			org.name, err = r.str()
		default:
			err = r.skip()
		}
		return err
	})
	if err != nil {
		return org, err
	}
	if org.id == "" {
		return org, r.errorf("the organization has no id")
	}
	if label != "" {
		org.name = label // the display name; name is the URL-safe one
	}
	return org, nil
}

func crdbDecodeInvoice(b *extract.Body, p extract.Period, rounded *int64) (*crdbInvoice, error) {
	r := newReader(b, rounded)
	inv := &crdbInvoice{}
	err := r.document(func(name []byte) (err error) {
		switch string(name) {
		case "invoice_id":
			inv.id, err = r.str()
		case "period_start":
			inv.start, err = readInstant(r)
		case "period_end":
			inv.end, err = readInstant(r)
		case "status":
			inv.status, err = r.str()
		case "totals":
			inv.totals, err = crdbReadAmounts(r, "the invoice's totals")
		case "invoice_items":
			err = r.array(func() error {
				it, err := crdbReadItem(r)
				if err != nil {
					return err
				}
				for _, o := range inv.items {
					if o.cluster.id == it.cluster.id {
						return r.errorf("cluster %s has two invoice items", it.cluster.id)
					}
				}
				inv.items = append(inv.items, it)
				return nil
			})
		case "adjustments":
			err = r.array(func() error {
				a, err := crdbReadAdjustment(r)
				inv.adjustments = append(inv.adjustments, a)
				return err
			})
		default:
			err = r.skip() // balances, folder_resources
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	want := strings.TrimPrefix(b.Call.Path, "/api/v1/invoices/")
	switch {
	case inv.id == "":
		return nil, r.errorf("the invoice has no invoice_id")
	case inv.id != want:
		return nil, r.errorf("the response is invoice %q, not the requested %q", inv.id, want)
	case inv.start.IsZero() || inv.end.IsZero():
		return nil, r.errorf("the invoice has no period_start or period_end")
	case !inv.start.Equal(p.Start()):
		return nil, r.errorf("the invoice covers a period from %s, not %s (a list captured on another day? replay with the --as-of of the run that recorded it)",
			inv.start.Format(time.RFC3339), p)
	case !inv.end.Equal(p.End()):
		return nil, r.errorf("the invoice's period ends at %s: only calendar-month billing periods are supported", inv.end.Format(time.RFC3339))
	}
	return inv, nil
}

func crdbReadItem(r *reader) (crdbItem, error) {
	var it crdbItem
	var haveCluster bool
	err := r.object(func(name []byte) (err error) {
		switch string(name) {
		case "cluster":
			it.cluster, err = crdbReadCluster(r)
			haveCluster = true
		case "line_items":
			err = r.array(func() error {
				li, err := crdbReadLineItem(r)
				if err != nil {
					return err
				}
				for _, o := range it.lines {
					if o.description == li.description && o.unit == li.unit && o.unitCost == li.unitCost && o.total.currency == li.total.currency {
						return r.errorf("duplicate line item %q (%s at %s %s)", li.description, li.unit, li.unitCost, li.total.currency)
					}
				}
				it.lines = append(it.lines, li)
				return nil
			})
		case "totals":
			it.totals, err = crdbReadAmounts(r, "the invoice item's totals")
		default:
			err = r.skip()
		}
		return err
	})
	if err == nil && !haveCluster {
		err = r.errorf("an invoice item has no cluster")
	}
	return it, err
}

func crdbReadCluster(r *reader) (crdbCluster, error) {
	var c crdbCluster
	err := r.object(func(name []byte) (err error) {
		switch string(name) {
		case "id":
			c.id, err = r.str()
		case "name":
			c.name, err = r.str()
		case "plan":
			c.plan, err = r.str()
		case "cloud_provider":
			c.cloud, err = r.str()
		case "regions":
			err = r.array(func() error {
				return r.object(func(name []byte) error {
					if string(name) != "name" {
						return r.skip()
					}
					s, err := r.str()
					if s != "" {
						c.regions = append(c.regions, s)
					}
					return err
				})
			})
		case "labels":
			c.tags, err = crdbReadLabels(r)
		default:
			err = r.skip() // state, deleted_at, config, ...: billed alike
		}
		return err
	})
	if err == nil && c.id == "" {
		err = r.errorf("an invoice item's cluster has no id")
	}
	return c, err
}

// crdbReadLabels reads a map<string,string> as FOCUS Tags: JSON object text
// with sorted keys (deterministic output); "" (NULL) when empty.
func crdbReadLabels(r *reader) (string, error) {
	labels := map[string]string{}
	err := r.object(func(name []byte) error {
		k := string(name)
		v, err := r.str()
		labels[k] = v
		return err
	})
	if err != nil || len(labels) == 0 {
		return "", err
	}
	return crdbJSON(labels), nil
}

// crdbReadLineItem reads a LineItem. quantity_unit is a protobuf enum:
// protobuf JSON leaves its default, the enum's first value HOURS, out (as
// it leaves USD out of a CurrencyAmount), so a missing unit is HOURS.
func crdbReadLineItem(r *reader) (crdbLineItem, error) {
	li := crdbLineItem{unit: crdbDefaultUnit}
	var haveTotal bool
	err := r.object(func(name []byte) (err error) {
		var n NullDecimal
		switch string(name) {
		case "description":
			li.description, err = r.str()
		case "quantity":
			n, err = r.number(true)
			li.quantity = n.Decimal
		case "quantity_unit":
			var u string
			if u, err = r.str(); u != "" {
				li.unit = u
			}
		case "unit_cost":
			n, err = r.number(true)
			li.unitCost = n.Decimal
		case "total":
			li.total, err = crdbReadAmount(r)
			haveTotal = true
		default:
			err = r.skip()
		}
		return err
	})
	if err == nil && !haveTotal {
		err = r.errorf("line item %q has no total", li.description)
	}
	return li, err
}

func crdbReadAdjustment(r *reader) (crdbAdjustment, error) {
	var a crdbAdjustment
	var haveAmount bool
	err := r.object(func(name []byte) (err error) {
		switch string(name) {
		case "name":
			a.name, err = r.str()
		case "amount":
			a.amount, err = crdbReadAmount(r)
			haveAmount = true
		default:
			err = r.skip()
		}
		return err
	})
	switch {
	case err != nil:
	case a.name == "":
		err = r.errorf("an adjustment has no name")
	case !haveAmount:
		err = r.errorf("adjustment %q has no amount", a.name)
	}
	return a, err
}

// crdbReadAmounts reads an array of CurrencyAmount, one per currency.
func crdbReadAmounts(r *reader, what string) ([]crdbAmount, error) {
	var out []crdbAmount
	err := r.array(func() error {
		a, err := crdbReadAmount(r)
		if err != nil {
			return err
		}
		for _, o := range out {
			if o.currency == a.currency {
				return r.errorf("%s name %s twice", what, a.currency)
			}
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// crdbReadAmount reads a CurrencyAmount; protobuf JSON omits the defaults:
// amount 0 and currency USD.
func crdbReadAmount(r *reader) (crdbAmount, error) {
	a := crdbAmount{currency: "USD"}
	err := r.object(func(name []byte) (err error) {
		switch string(name) {
		case "amount":
			var n NullDecimal
			n, err = r.number(false)
			a.amount = n.Decimal
		case "currency":
			// Upper-cased before it is classified: "usd" is USD, not a
			// virtual currency (enum values are upper case; ISO 4217 too).
			var c string
			if c, err = r.str(); c != "" {
				a.currency = strings.ToUpper(c)
			}
		default:
			err = r.skip()
		}
		return err
	})
	return a, err
}

// readInstant reads an RFC 3339 date-time in UTC. null, and the zero time
// that Go servers print for an unset time (0001-01-01T00:00:00Z), read as
// the zero time: unset.
func readInstant(r *reader) (time.Time, error) {
	b, err := r.bytes()
	if err != nil || b == nil {
		return time.Time{}, err
	}
	t, perr := time.Parse(time.RFC3339Nano, string(b))
	if perr != nil {
		return time.Time{}, r.errorf("%q is not a date-time (RFC 3339)", r.excerpt(b))
	}
	return t.UTC(), nil
}
