// Package warpstream maps WarpStream's invoices and daily breakdowns to
// FOCUS charge lines (docs/vendors.md). The pending or past invoice gives
// the period's total, its rounded per-cluster lines and the account charges
// (credits, support); the daily breakdowns give the usage lines. The
// invoice's own arithmetic is exact (its total is Σ of its charges and
// account charges, and so is every cluster, workspace and tenant total it
// states, all in cents); daily totals carry up to 8 decimals while invoice
// lines are rounded to cents, so each cluster × product's days are checked
// against its invoice lines (ledger.go: repeats added up, an untiered line
// against its tiers' days), and one rounding Adjustment line closes the
// period so that Σ BilledCost = total exactly. Any other gap is reported,
// never a failed period.
//
// WarpStream states no currency; its prices are in US dollars.
package warpstream

import (
	"fmt"
	"strings"

	source "github.com/invoice-export/invoice-export/extract/warpstream"
	"github.com/invoice-export/invoice-export/transform"
)

// serviceCategory is the FOCUS category of WarpStream's services (support
// aside, which is Management and Governance).
const serviceCategory = "Analytics"

var one = transform.MustDecimal("1")

// Transform maps one period: the account charges and the rounding
// adjustment from the invoice, the usage lines from the breakdowns.
func Transform(in transform.Input, t *transform.Tally) (*transform.Result, error) {
	res, _, err := transformPeriod(in, t, false)
	return res, err
}

// ledgerStats is how the ledger went, for tests (ledger_test.go): the most
// clusters it held at once, and whether one came back after it was
// dropped (then every cluster was kept, from a second decode).
type ledgerStats struct {
	Held     int
	CameBack bool
}

// transformPeriod is Transform; keep makes the ledger keep every cluster
// from the start, as it does when one comes back (tests compare the two).
func transformPeriod(in transform.Input, t *transform.Tally, keep bool) (*transform.Result, ledgerStats, error) {
	var stats ledgerStats
	p := in.Job.Period
	invBody, err := in.Body(source.PastInvoice)
	if err != nil {
		if invBody, err = in.Body(source.PendingInvoice); err != nil {
			return nil, stats, err
		}
	}
	brkBody, err := in.Body(source.Breakdowns)
	if err != nil {
		return nil, stats, err
	}
	inv, err := decodeInvoice(t.Reader(invBody), p, invBody.Call.Endpoint == source.PendingInvoice)
	if err != nil {
		return nil, stats, err
	}
	base := transform.Line{
		BillingAccountID:   in.Job.Account,
		BillingCurrency:    "USD",
		BillingPeriodStart: p.Start(),
		BillingPeriodEnd:   p.End(),
		InvoiceIssuerName:  "WarpStream",
		ProviderName:       "WarpStream",
		PublisherName:      "WarpStream",
		ServiceName:        "WarpStream",
		ServiceCategory:    serviceCategory,
		ServiceSubcategory: "Streaming Analytics",
		Provider:           source.Slug,
	}
	// The invoice is read a second time, cluster by cluster, as the
	// breakdowns reach them (ledger.go); its quantities are not read
	// again, so nothing is counted twice.
	ledger := newLedger(keep)
	defer ledger.close()
	ledger.readInvoice(transform.NewReader(invBody, nil))
	days := &daysReader{period: p, base: base, out: t, ledger: ledger}
	if err := days.decode(t.Reader(brkBody)); err != nil {
		return nil, stats, err
	}
	if err := ledger.readAll(); err != nil {
		return nil, stats, err
	}
	stats = ledgerStats{Held: ledger.held, CameBack: ledger.cameBack}
	if ledger.cameBack {
		// A cluster came back after its sums were dropped: every cluster
		// is kept this time, from a second decode of the breakdowns that
		// makes no line.
		ledger = newLedger(true)
		defer ledger.close()
		ledger.readInvoice(transform.NewReader(invBody, nil))
		sums := &daysReader{period: p, ledger: ledger, sumsOnly: true}
		if err := sums.decode(transform.NewReader(brkBody, nil)); err != nil {
			return nil, stats, err
		}
		if err := ledger.readAll(); err != nil {
			return nil, stats, err
		}
	}
	res := &transform.Result{}
	if days.outside > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d daily lines dated outside %s were left out (they belong to another period)", days.outside, p))
	}

	// Account charges cover the whole period.
	var account transform.Decimal
	ids := transform.ChargeIDs{}
	for _, c := range inv.account {
		account, _ = account.Add(c.total.Decimal)
		l := base
		l.ChargeID = ids.Next(p.String() + "/account_charges/" + c.product)
		l.ChargePeriodStart, l.ChargePeriodEnd = p.Start(), p.End()
		l.ChargeDescription = c.product
		l.SkuID = c.product
		l.SkuMeter = meterOf(c.product)
		l.VendorUnitPrice = c.unitPrice
		l.SourceEndpoint = invBody.Call.Endpoint
		l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost = c.total.Decimal, c.total.Decimal, c.total.Decimal, c.total.Decimal
		if c.total.Sign() < 0 {
			l.ChargeCategory, l.ChargeFrequency = transform.Credit, transform.OneTime
		} else {
			l.ChargeCategory, l.ChargeFrequency = transform.Purchase, transform.Recurring
			// FOCUS wants a quantity and a unit on every purchase. A count
			// of a product whose name tells no unit (support) is in Units;
			// a purchase without a quantity is one of it, for the period
			// (as CockroachDB's support adjustments are).
			l.PricingQuantity = c.quantity
			if l.PricingUnit = unitOf(c.product); l.PricingUnit == "" || !c.quantity.Valid {
				l.PricingUnit = "Units"
			}
			if !c.quantity.Valid {
				l.PricingQuantity = transform.Some(one)
			}
			if strings.Contains(strings.ToLower(c.product), "support") {
				l.ServiceCategory, l.ServiceSubcategory = "Management and Governance", "Support"
			}
		}
		if err := t.Write(&l); err != nil {
			return nil, stats, err
		}
	}

	tolerance, problem := ledger.check(inv, account)
	status := "final"
	if invBody.Call.Endpoint == source.PendingInvoice {
		status = "pending"
	}
	invoice := transform.Invoice{
		Provider:           source.Slug,
		BillingAccountID:   in.Job.Account,
		BillingPeriodStart: p.Start(),
		BillingPeriodEnd:   p.End(),
		Status:             status,
		Final:              status == "final",
		Currency:           "USD",
		VendorTotal:        inv.total.Decimal,
		SourceEndpoint:     invBody.Call.Endpoint,
	}
	err = t.Reconcile(&invoice, tolerance, problem, func(gap transform.Decimal) transform.Line {
		l := base
		l.ChargeID = p.String() + "/rounding"
		l.ChargeCategory, l.ChargeFrequency = transform.Adjustment, transform.OneTime
		l.ChargeDescription = "Rounding adjustment: the invoice rounds each line to cents, the daily breakdowns do not"
		l.ChargePeriodStart, l.ChargePeriodEnd = p.Start(), p.End()
		l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost = gap, gap, gap, gap
		l.SourceEndpoint = invBody.Call.Endpoint
		return l
	})
	if err != nil {
		return nil, stats, err
	}
	res.Invoices = []transform.Invoice{invoice}
	return res, stats, nil
}

// unitOf is the FOCUS unit of a WarpStream product, from its name.
func unitOf(product string) string {
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

// meterOf is the product without its price tier ("... - Tier 1").
func meterOf(product string) string {
	if i := strings.Index(product, " - Tier "); i > 0 {
		return product[:i]
	}
	return product
}

// resourceType tells kinds of clusters apart by their id prefix.
func resourceType(id string) string {
	switch {
	case strings.HasPrefix(id, "vci_dl_"):
		return "Tableflow Cluster"
	case strings.HasPrefix(id, "vci_sr_"):
		return "Schema Registry"
	}
	return "Virtual Cluster"
}
