package transform

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/invoice-export/invoice-export/extract"
)

// Spectro Cloud Palette (REFERENCE §2). An invoice bills products ("pure":
// managed clusters, "alloy": imported clusters) in credits (kilo CPU core
// hours) at a tier price. Lines:
//   - one Usage line per project × product, from status.projects[].usage;
//   - per product, one invoice-level line for the part of
//     status.productInvoice.<product>.amount that no project carries: free
//     credits and discounts make it negative (a Credit), usage outside any
//     project (tenant-scope clusters) positive (Usage);
//
// so Σ BilledCost = Σ product amounts, which must equal billableAmount up to
// the vendor's rounding to cents (closed by an Adjustment line).
//
// The invoice is also checked against itself, and a finding rules out
// reconciliation (the lines are still written): each project's amount must
// be the sum of its usage amounts, and a product may cost less than its
// projects' usage only by what the invoice says can reduce it: its free
// credits at the tier price plus its discount (spBound).
//
// Money is float64 with Go's omitempty: a missing amount or credit count is
// 0. An unset time is printed as 0001-01-01T00:00:00Z and read as unset.
// An invoice is final once its billing period is over (as of the run) and
// it has been issued (it has a payment state): its amounts no longer move;
// later payment states do not change them.

const spectroName = "Spectro Cloud"

type spProduct struct {
	amount      Decimal
	used        Decimal // usedCredits; omitted (omitempty) = 0
	freeCredits Decimal
	discount    Decimal
	tierName    string
	tierPrice   NullDecimal
}

type spUsage struct {
	amount, used Decimal
	tierPrice    NullDecimal
}

type spProject struct {
	uid, name string
	amount    NullDecimal // the project's total, checked against its usage
	usage     map[string]spUsage
}

type spInvoice struct {
	uid        string
	start, end time.Time
	currency   string
	planType   string
	haveStatus bool
	billable   Decimal
	products   map[string]spProduct
	projects   []spProject
	state      string // the latest payment state; "" when none
}

func spectroCloud(in Input, t *tally) (*Result, error) {
	p := in.Job.Period
	tenant := in.Job.Account
	if tenant == "" {
		return nil, fmt.Errorf("spectrocloud %s: the job names no tenant uid", p)
	}
	var orgName string
	if b, err := in.body(extract.SpectroUsersInfo); err == nil {
		if orgName, err = spDecodeUsersInfo(b); err != nil {
			return nil, err
		}
	}
	res := &Result{}
	if _, err := in.body(extract.SpectroListInvoices); err != nil {
		res.Notes = append(res.Notes, "the invoice list route is not available (HTTP 404, or no capture): the invoices exported are those named by SPECTROCLOUD_INVOICE_UIDS")
	}
	seen := map[string]bool{}
	for _, b := range in.Bodies {
		if b.Call.Endpoint != extract.SpectroGetInvoice {
			continue
		}
		inv, err := spDecodeInvoice(b, p, &t.rounded)
		if err != nil {
			return nil, err
		}
		if seen[inv.uid] {
			return nil, fmt.Errorf("%s: invoice %s appears twice in the period", b.Call, inv.uid)
		}
		seen[inv.uid] = true
		row, err := spExport(t, in, res, tenant, orgName, inv)
		if err != nil {
			return nil, err
		}
		res.Invoices = append(res.Invoices, row)
	}
	return res, nil
}

// spExport writes one invoice's lines and returns its invoices row; facts
// worth a note go to res.
func spExport(t *tally, in Input, res *Result, tenant, orgName string, inv *spInvoice) (Invoice, error) {
	p := in.Job.Period
	base := Line{
		BillingAccountID:   tenant,
		BillingAccountName: orgName,
		BillingCurrency:    inv.currency,
		BillingPeriodStart: p.Start(),
		BillingPeriodEnd:   p.End(),
		ChargePeriodStart:  p.Start(),
		ChargePeriodEnd:    p.End(),
		InvoiceID:          inv.uid,
		InvoiceIssuerName:  spectroName,
		ProviderName:       spectroName,
		PublisherName:      spectroName,
		ServiceName:        "Palette",
		ServiceCategory:    "Compute",
		ServiceSubcategory: "Containers",
		Provider:           extract.SpectroCloud,
		TenantID:           tenant,
		Plan:               inv.planType,
		SourceEndpoint:     extract.SpectroGetInvoice,
	}
	cost := func(l *Line, d Decimal) {
		l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost = d, d, d, d
	}
	var problems []string
	products := spProducts(inv)
	attributed := map[string]Decimal{}
	usedByProjects := map[string]Decimal{}
	projectsOf := map[string]int64{}         // projects carrying the product
	projectPrice := map[string]NullDecimal{} // the highest project tier price
	for _, pr := range inv.projects {
		var prSum Decimal
		for _, product := range products {
			u, ok := pr.usage[product]
			if !ok {
				continue
			}
			l := base
			l.ChargeCategory, l.ChargeFrequency = Usage, UsageBased
			l.ChargeDescription = spDescription(product, inv.products[product].tierName)
			l.SkuID, l.SkuMeter = product, spMeter(product)
			l.ConsumedQuantity, l.PricingQuantity = Some(u.used), Some(u.used)
			l.ConsumedUnit, l.PricingUnit = "Credits", "Credits"
			l.VendorUnitPrice = u.tierPrice
			l.ResourceID, l.ResourceName, l.ResourceType = pr.uid, pr.name, "Project"
			l.SubAccountID, l.SubAccountName = pr.uid, pr.name
			cost(&l, u.amount)
			if err := t.Write(&l); err != nil {
				return Invoice{}, err
			}
			attributed[product], _ = attributed[product].Add(u.amount)
			usedByProjects[product], _ = usedByProjects[product].Add(u.used)
			projectsOf[product]++
			if tp := projectPrice[product]; u.tierPrice.Valid && (!tp.Valid || u.tierPrice.Cmp(tp.Decimal) > 0) {
				projectPrice[product] = u.tierPrice
			}
			prSum, _ = prSum.Add(u.amount)
		}
		// A project's amount is the sum of its usage amounts, up to
		// rounding to cents (half a cent per usage).
		if pr.amount.Valid {
			tol, _ := halfCent.MulInt(int64(max(1, len(pr.usage))))
			if gap, _ := pr.amount.Sub(prSum); gap.Abs().Cmp(tol) > 0 {
				problems = append(problems, fmt.Sprintf("project %s (%s): its amount %s is not the sum of its usage amounts, %s",
					pr.uid, pr.name, pr.amount.Decimal, prSum))
			}
		}
	}
	for _, product := range products {
		pi := inv.products[product]
		rest, _ := pi.amount.Sub(attributed[product])
		if rest.IsZero() {
			continue
		}
		l := base
		l.SkuID, l.SkuMeter = product, spMeter(product)
		cost(&l, rest)
		if rest.Sign() < 0 {
			l.ChargeCategory, l.ChargeFrequency = Credit, OneTime
			l.ChargeDescription = spDescription(product, "") + ": not attributed to a project (free credits, discounts)"
			price := pi.tierPrice
			if !price.Valid {
				price = projectPrice[product]
			}
			bound, how, ok := spBound(pi, price.Decimal, attributed[product])
			slack, _ := halfCent.MulInt(1 + projectsOf[product])
			if over, _ := rest.Neg().Sub(bound); ok && over.Cmp(slack) > 0 {
				problems = append(problems, fmt.Sprintf("%s: its projects' amounts add up to %s but the product's amount is %s: %s less, more than its free credits and discount can explain (at most %s: %s)",
					product, attributed[product], pi.amount, rest.Neg(), bound, how))
			}
		} else {
			l.ChargeCategory, l.ChargeFrequency = Usage, UsageBased
			l.ChargeDescription = spDescription(product, pi.tierName) + ": usage not attributed to a project (tenant-scope clusters)"
			l.ConsumedUnit, l.PricingUnit = "Credits", "Credits"
			l.VendorUnitPrice = pi.tierPrice
			// The credits no project carries. FOCUS wants a quantity on
			// every Usage line: when the projects claim more credits than
			// the product (whose omitted usedCredits is 0), it is 0, and
			// the run says so.
			q, _ := pi.used.Sub(usedByProjects[product])
			if q.Sign() < 0 {
				res.Notes = append(res.Notes, fmt.Sprintf("invoice %s, %s: the projects' usedCredits add up to %s, more than the product's %s: its usage not attributed to a project (%s %s) has quantity 0",
					inv.uid, product, usedByProjects[product], pi.used, rest, inv.currency))
				q = Decimal{}
			}
			l.ConsumedQuantity, l.PricingQuantity = Some(q), Some(q)
		}
		if err := t.Write(&l); err != nil {
			return Invoice{}, err
		}
	}

	row := Invoice{
		Provider:           extract.SpectroCloud,
		InvoiceID:          inv.uid,
		BillingAccountID:   tenant,
		BillingAccountName: orgName,
		BillingPeriodStart: p.Start(),
		BillingPeriodEnd:   p.End(),
		Status:             inv.state,
		Final:              inv.state != "" && !in.AsOf.Before(p.End()),
		Currency:           inv.currency,
		VendorTotal:        inv.billable,
		SourceEndpoint:     extract.SpectroGetInvoice,
	}
	// billableAmount is rounded to cents, the product amounts need not be:
	// half a cent per product.
	tolerance, _ := halfCent.MulInt(int64(max(1, len(inv.products))))
	err := reconcile(t, &row, tolerance, strings.Join(problems, "; "), func(gap Decimal) Line {
		l := base
		l.ChargeCategory, l.ChargeFrequency = Adjustment, OneTime
		l.ChargeDescription = "Rounding adjustment: Spectro Cloud rounds the billable amount to cents, its product amounts are not rounded"
		cost(&l, gap)
		return l
	})
	return row, err
}

// spBound is how much an invoice says a product's amount may fall below
// its projects' usage (gross): its free credits at the tier price, plus its
// discount. The discount's unit is undocumented (an integer: a percentage
// or an amount in the payment unit), so the bound takes the larger reading:
// the discount as an amount, or as a percentage (at most 100) of gross. It
// also says how it was reached, for the message. ok is false when the
// bound leaves DECIMAL(38,24) (then nothing is checked).
func spBound(pi spProduct, price, gross Decimal) (bound Decimal, how string, ok bool) {
	free, ok1 := mulDecimal(pi.freeCredits, price)
	disc := pi.discount
	how = fmt.Sprintf("%s free credits × %s", pi.freeCredits, price)
	switch pct := pi.discount; {
	case pct.IsZero():
		how += ", no discount"
	default:
		if pct.Cmp(hundred) > 0 {
			pct = hundred
		}
		if share, ok := mulDecimal(gross, pct); ok {
			if share, ok = divInt(share, 100); ok && share.Cmp(disc) > 0 {
				disc = share
				how += fmt.Sprintf(" + discount %s read as %s%% of %s, %s", pi.discount, pct, gross, share)
				break
			}
		}
		how += fmt.Sprintf(" + discount %s", pi.discount)
	}
	bound, ok2 := free.Add(disc)
	return bound, how, ok1 && ok2
}

var hundred = MustDecimal("100")

// mulDecimal is a × b rounded at the 24th decimal, through math/big: it is
// used for a few bounds per invoice, never on the hot path nor for a cost.
func mulDecimal(a, b Decimal) (Decimal, bool) {
	x, _ := new(big.Rat).SetString(a.String())
	y, _ := new(big.Rat).SetString(b.String())
	d, err := ParseDecimal([]byte(x.Mul(x, y).FloatString(Scale)), true)
	return d, err == nil
}

// divInt is d / n rounded at the 24th decimal.
func divInt(d Decimal, n int64) (Decimal, bool) {
	x, _ := new(big.Rat).SetString(d.String())
	q, err := ParseDecimal([]byte(x.Quo(x, big.NewRat(n, 1)).FloatString(Scale)), true)
	return q, err == nil
}

// spProducts lists the invoice's products, pure and alloy first, then any
// other (the API may add products) in name order.
func spProducts(inv *spInvoice) []string {
	set := map[string]bool{}
	for p := range inv.products {
		set[p] = true
	}
	for _, pr := range inv.projects {
		for p := range pr.usage {
			set[p] = true
		}
	}
	var out []string
	for _, p := range []string{"pure", "alloy"} {
		if set[p] {
			out = append(out, p)
			delete(set, p)
		}
	}
	rest := make([]string, 0, len(set))
	for p := range set {
		rest = append(rest, p)
	}
	slices.Sort(rest)
	return append(out, rest...)
}

func spDescription(product, tier string) string {
	d := "Palette " + product
	switch product {
	case "pure":
		d = "Palette managed clusters (pure)"
	case "alloy":
		d = "Palette imported clusters (alloy)"
	}
	if tier != "" {
		d += ", " + tier
	}
	return d
}

func spMeter(product string) string {
	switch product {
	case "pure":
		return "Managed clusters"
	case "alloy":
		return "Imported clusters"
	}
	return product
}

// Decoding. Every object is read whole whatever its field order, then
// checked; the decoder itself rejects duplicate member names.

func spDecodeUsersInfo(b *extract.Body) (string, error) {
	r := newReader(b, nil) // no numbers
	var org string
	err := r.document(func(name []byte) (err error) {
		if string(name) == "orgName" {
			org, err = r.str()
			return err
		}
		return r.skip()
	})
	return org, err
}

func spDecodeInvoice(b *extract.Body, p extract.Period, rounded *int64) (*spInvoice, error) {
	r := newReader(b, rounded)
	inv := &spInvoice{products: map[string]spProduct{}, currency: "USD"}
	var stateAt time.Time
	err := r.document(func(name []byte) error {
		switch string(name) {
		case "metadata":
			return r.object(func(name []byte) (err error) {
				if string(name) == "uid" {
					inv.uid, err = r.str()
					return err
				}
				return r.skip()
			})
		case "spec":
			return spReadSpec(r, inv)
		case "status":
			inv.haveStatus = true
			return spReadStatus(r, inv, &stateAt)
		}
		return r.skip()
	})
	if err != nil {
		return nil, err
	}
	want := b.Call.Path[strings.LastIndexByte(b.Call.Path, '/')+1:]
	switch {
	case inv.uid == "":
		return nil, r.errorf("the invoice has no metadata.uid")
	case inv.uid != want:
		return nil, r.errorf("the response is invoice %q, not the requested %q", inv.uid, want)
	case inv.start.IsZero() || inv.end.IsZero():
		return nil, r.errorf("invoice %s has no spec.billingPeriod (start and end)", inv.uid)
	case !spIsMonth(inv.start, inv.end):
		return nil, r.errorf("invoice %s bills %s to %s: only calendar-month billing periods are supported",
			inv.uid, inv.start.Format(time.RFC3339Nano), inv.end.Format(time.RFC3339Nano))
	case !inv.start.Equal(p.Start()):
		return nil, r.errorf("invoice %s bills %s, not %s", inv.uid, inv.start.Format("2006-01"), p)
	case !inv.haveStatus:
		return nil, r.errorf("invoice %s has no status: it carries no amounts", inv.uid)
	}
	return inv, nil
}

// spIsMonth accepts [first of a month, first of the next) in UTC; the end
// may also be printed inclusively, as the last second (or millisecond) of
// the month.
func spIsMonth(start, end time.Time) bool {
	if !start.Equal(extract.PeriodOf(start).Start()) {
		return false
	}
	next := start.AddDate(0, 1, 0)
	return !end.After(next) && !end.Before(next.Add(-time.Second))
}

func spReadSpec(r *reader, inv *spInvoice) error {
	return r.object(func(name []byte) (err error) {
		switch string(name) {
		case "billingPeriod":
			err = r.object(func(name []byte) (err error) {
				switch string(name) {
				case "start":
					inv.start, err = readInstant(r)
				case "end":
					inv.end, err = readInstant(r)
				default:
					err = r.skip()
				}
				return err
			})
		case "paymentUnit":
			var u string
			if u, err = r.str(); err == nil && u != "" {
				inv.currency = strings.ToUpper(u)
				if !isNationalCurrency(inv.currency) {
					err = r.errorf("paymentUnit %q is not an ISO 4217 currency code", r.excerpt([]byte(u)))
				}
			}
		case "plan":
			err = r.object(func(name []byte) (err error) {
				if string(name) == "plantype" {
					inv.planType, err = r.str()
					return err
				}
				return r.skip()
			})
		default:
			err = r.skip() // month (billingPeriod is the period), credits, address, ...
		}
		return err
	})
}

func spReadStatus(r *reader, inv *spInvoice, stateAt *time.Time) error {
	return r.object(func(name []byte) (err error) {
		switch string(name) {
		case "billableAmount":
			var n NullDecimal
			n, err = r.number(false)
			inv.billable = n.Decimal
		case "productInvoice":
			err = r.object(func(name []byte) error {
				product := string(name)
				if k, err := r.peek(); err != nil || k == 'n' {
					if err == nil {
						err = r.skip() // null: no such product
					}
					return err
				}
				pi, err := spReadProduct(r)
				inv.products[product] = pi
				return err
			})
		case "projects":
			err = r.array(func() error {
				pr, err := spReadProject(r)
				if err != nil {
					return err
				}
				for _, o := range inv.projects {
					if o.uid == pr.uid {
						return r.errorf("project %s (%s) is listed twice", pr.uid, pr.name)
					}
				}
				inv.projects = append(inv.projects, pr)
				return nil
			})
		case "states":
			err = r.array(func() error { return spReadState(r, inv, stateAt) })
		default:
			err = r.skip()
		}
		return err
	})
}

func spReadProduct(r *reader) (spProduct, error) {
	var pi spProduct
	err := r.object(func(name []byte) (err error) {
		var n NullDecimal
		switch string(name) {
		case "amount":
			n, err = r.number(false)
			pi.amount = n.Decimal
		case "usedCredits":
			n, err = r.number(true)
			pi.used = n.Decimal // omitted or null: 0 (omitempty)
		case "freeCredits":
			n, err = r.number(true)
			pi.freeCredits = n.Decimal
		case "discount":
			n, err = r.number(false)
			pi.discount = n.Decimal
		case "tierName":
			pi.tierName, err = r.str()
		case "tierPrice":
			pi.tierPrice, err = r.number(true)
		default:
			err = r.skip()
		}
		return err
	})
	return pi, err
}

func spReadProject(r *reader) (spProject, error) {
	pr := spProject{usage: map[string]spUsage{}}
	err := r.object(func(name []byte) (err error) {
		switch string(name) {
		case "projectUid":
			pr.uid, err = r.str()
		case "projectName":
			pr.name, err = r.str()
		case "usage":
			err = r.object(func(name []byte) error {
				product := string(name)
				if k, err := r.peek(); err != nil || k == 'n' {
					if err == nil {
						err = r.skip()
					}
					return err
				}
				var u spUsage
				err := r.object(func(name []byte) (err error) {
					var n NullDecimal
					switch string(name) {
					case "amount":
						n, err = r.number(false)
						u.amount = n.Decimal
					case "usedCredits":
						n, err = r.number(true)
						u.used = n.Decimal
					case "tierPrice":
						u.tierPrice, err = r.number(true)
					default:
						err = r.skip()
					}
					return err
				})
				pr.usage[product] = u
				return err
			})
		case "amount":
			pr.amount, err = r.number(false) // the sum of its usage amounts (checked)
		default:
			err = r.skip()
		}
		return err
	})
	if err == nil && pr.uid == "" {
		err = r.errorf("a project has no projectUid")
	}
	return pr, err
}

// spReadState keeps the latest payment state by timestamp (the order of
// states[] is undocumented); among equal timestamps, the last listed.
func spReadState(r *reader, inv *spInvoice, latest *time.Time) error {
	var state string
	var at time.Time
	err := r.object(func(name []byte) (err error) {
		switch string(name) {
		case "state":
			state, err = r.str()
		case "timestamp":
			at, err = readInstant(r)
		default:
			err = r.skip()
		}
		return err
	})
	if err != nil || state == "" {
		return err
	}
	if inv.state == "" || !at.Before(*latest) {
		inv.state, *latest = state, at
	}
	return nil
}
