// Package spectrocloud maps Spectro Cloud Palette's invoices to FOCUS
// charge lines (docs/vendors.md). An invoice bills products ("pure":
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
// credits at the tier price plus its discount (discountBound).
//
// Money is float64 with Go's omitempty: a missing amount or credit count is
// 0. An unset time is printed as 0001-01-01T00:00:00Z and read as unset.
// An invoice is final once its billing period is over (as of the run) and
// it has been issued (it has a payment state): its amounts no longer move;
// later payment states do not change them.
package spectrocloud

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	source "github.com/invoice-export/invoice-export/extract/spectrocloud"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/transform"
)

// serviceCategory is the FOCUS category of its services.
const serviceCategory = "Compute"

const companyName = "Spectro Cloud"

type productInvoice struct {
	amount      transform.Decimal
	used        transform.Decimal // usedCredits; omitted (omitempty) = 0
	freeCredits transform.Decimal
	discount    transform.Decimal
	tierName    string
	tierPrice   transform.NullDecimal
}

type usage struct {
	amount, used transform.Decimal
	tierPrice    transform.NullDecimal
}

type project struct {
	uid, name string
	amount    transform.NullDecimal // the project's total, checked against its usage
	usage     map[string]usage
}

type invoice struct {
	uid        string
	start, end time.Time
	currency   string
	planType   string
	haveStatus bool
	billable   transform.Decimal
	products   map[string]productInvoice
	projects   []project
	state      string // the latest payment state; "" when none
}

// Transform maps the period's invoices.
func Transform(in transform.Input, t *transform.Tally) (*transform.Result, error) {
	p := in.Job.Period
	tenant := in.Job.Account
	if tenant == "" {
		return nil, fmt.Errorf("spectrocloud %s: the job names no tenant uid", p)
	}
	var orgName string
	if b, err := in.Body(source.UsersInfo); err == nil {
		if orgName, err = decodeUsersInfo(b); err != nil {
			return nil, err
		}
	}
	res := &transform.Result{}
	if _, err := in.Body(source.ListInvoices); err != nil {
		res.Notes = append(res.Notes, "the invoice list route is not available (HTTP 404, or no capture): the invoices exported are those named by SPECTROCLOUD_INVOICE_UIDS")
	}
	seen := map[string]bool{}
	for _, b := range in.Bodies {
		if b.Call.Endpoint != source.GetInvoice {
			continue
		}
		inv, err := decodeInvoice(t.Reader(b), b, p)
		if err != nil {
			return nil, err
		}
		if seen[inv.uid] {
			return nil, fmt.Errorf("%s: invoice %s appears twice in the period", b.Call, inv.uid)
		}
		seen[inv.uid] = true
		row, err := export(t, in, res, tenant, orgName, inv)
		if err != nil {
			return nil, err
		}
		res.Invoices = append(res.Invoices, row)
	}
	return res, nil
}

// export writes one invoice's lines and returns its invoices row; facts
// worth a note go to res.
func export(t *transform.Tally, in transform.Input, res *transform.Result, tenant, orgName string, inv *invoice) (transform.Invoice, error) {
	p := in.Job.Period
	base := transform.Line{
		BillingAccountID:   tenant,
		BillingAccountName: orgName,
		BillingCurrency:    inv.currency,
		BillingPeriodStart: p.Start(),
		BillingPeriodEnd:   p.End(),
		ChargePeriodStart:  p.Start(),
		ChargePeriodEnd:    p.End(),
		InvoiceID:          inv.uid,
		InvoiceIssuerName:  companyName,
		ProviderName:       companyName,
		PublisherName:      companyName,
		ServiceName:        "Palette",
		ServiceCategory:    serviceCategory,
		ServiceSubcategory: "Containers",
		Provider:           source.Slug,
		TenantID:           tenant,
		Plan:               inv.planType,
		SourceEndpoint:     source.GetInvoice,
	}
	cost := func(l *transform.Line, d transform.Decimal) {
		l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost = d, d, d, d
	}
	var problems []string
	products := productsOf(inv)
	attributed := map[string]transform.Decimal{}
	usedByProjects := map[string]transform.Decimal{}
	projectsOf := map[string]int64{}                   // projects carrying the product
	projectPrice := map[string]transform.NullDecimal{} // the highest project tier price
	for _, pr := range inv.projects {
		var prSum transform.Decimal
		for _, product := range products {
			u, ok := pr.usage[product]
			if !ok {
				continue
			}
			l := base
			l.ChargeCategory, l.ChargeFrequency = transform.Usage, transform.UsageBased
			l.ChargeDescription = description(product, inv.products[product].tierName)
			l.SkuID, l.SkuMeter = product, meterOf(product)
			l.ConsumedQuantity, l.PricingQuantity = transform.Some(u.used), transform.Some(u.used)
			l.ConsumedUnit, l.PricingUnit = "Credits", "Credits"
			l.VendorUnitPrice = u.tierPrice
			l.ResourceID, l.ResourceName, l.ResourceType = pr.uid, pr.name, "Project"
			l.SubAccountID, l.SubAccountName = pr.uid, pr.name
			cost(&l, u.amount)
			if err := t.Write(&l); err != nil {
				return transform.Invoice{}, err
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
			tol, _ := transform.HalfCent.MulInt(int64(max(1, len(pr.usage))))
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
		l.SkuID, l.SkuMeter = product, meterOf(product)
		cost(&l, rest)
		if rest.Sign() < 0 {
			l.ChargeCategory, l.ChargeFrequency = transform.Credit, transform.OneTime
			l.ChargeDescription = description(product, "") + ": not attributed to a project (free credits, discounts)"
			price := pi.tierPrice
			if !price.Valid {
				price = projectPrice[product]
			}
			bound, how, ok := discountBound(pi, price.Decimal, attributed[product])
			slack, _ := transform.HalfCent.MulInt(1 + projectsOf[product])
			if over, _ := rest.Neg().Sub(bound); ok && over.Cmp(slack) > 0 {
				problems = append(problems, fmt.Sprintf("%s: its projects' amounts add up to %s but the product's amount is %s: %s less, more than its free credits and discount can explain (at most %s: %s)",
					product, attributed[product], pi.amount, rest.Neg(), bound, how))
			}
		} else {
			l.ChargeCategory, l.ChargeFrequency = transform.Usage, transform.UsageBased
			l.ChargeDescription = description(product, pi.tierName) + ": usage not attributed to a project (tenant-scope clusters)"
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
				q = transform.Decimal{}
			}
			l.ConsumedQuantity, l.PricingQuantity = transform.Some(q), transform.Some(q)
		}
		if err := t.Write(&l); err != nil {
			return transform.Invoice{}, err
		}
	}

	row := transform.Invoice{
		Provider:           source.Slug,
		InvoiceID:          inv.uid,
		BillingAccountID:   tenant,
		BillingAccountName: orgName,
		BillingPeriodStart: p.Start(),
		BillingPeriodEnd:   p.End(),
		Status:             inv.state,
		Final:              inv.state != "" && !in.AsOf.Before(p.End()),
		Currency:           inv.currency,
		VendorTotal:        inv.billable,
		SourceEndpoint:     source.GetInvoice,
	}
	// billableAmount is rounded to cents, the product amounts need not be:
	// half a cent per product.
	tolerance, _ := transform.HalfCent.MulInt(int64(max(1, len(inv.products))))
	err := t.Reconcile(&row, tolerance, strings.Join(problems, "; "), func(gap transform.Decimal) transform.Line {
		l := base
		l.ChargeCategory, l.ChargeFrequency = transform.Adjustment, transform.OneTime
		l.ChargeDescription = "Rounding adjustment: Spectro Cloud rounds the billable amount to cents, its product amounts are not rounded"
		cost(&l, gap)
		return l
	})
	return row, err
}

// discountBound is how much an invoice says a product's amount may fall below
// its projects' usage (gross): its free credits at the tier price, plus its
// discount. The discount's unit is undocumented (an integer: a percentage
// or an amount in the payment unit), so the bound takes the larger reading:
// the discount as an amount, or as a percentage (at most 100) of gross. It
// also says how it was reached, for the message. ok is false when the
// bound leaves DECIMAL(38,24) (then nothing is checked).
func discountBound(pi productInvoice, price, gross transform.Decimal) (bound transform.Decimal, how string, ok bool) {
	free, ok1 := pi.freeCredits.Mul(price)
	disc := pi.discount
	how = fmt.Sprintf("%s free credits × %s", pi.freeCredits, price)
	switch pct := pi.discount; {
	case pct.IsZero():
		how += ", no discount"
	default:
		if pct.Cmp(hundred) > 0 {
			pct = hundred
		}
		if share, ok := gross.Mul(pct); ok {
			if share, ok = share.DivInt(100); ok && share.Cmp(disc) > 0 {
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

var hundred = transform.MustDecimal("100")

// productsOf lists the invoice's products, pure and alloy first, then any
// other (the API may add products) in name order.
func productsOf(inv *invoice) []string {
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

func description(product, tier string) string {
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

func meterOf(product string) string {
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

func decodeUsersInfo(b *extract.Body) (string, error) {
	r := transform.NewReader(b, nil) // no numbers
	var org string
	err := r.Document(func(name []byte) (err error) {
		if string(name) == "orgName" {
			org, err = r.Str()
			return err
		}
		return r.Skip()
	})
	return org, err
}

func decodeInvoice(r *transform.Reader, b *extract.Body, p billing.Period) (*invoice, error) {
	inv := &invoice{products: map[string]productInvoice{}, currency: "USD"}
	var stateAt time.Time
	err := r.Document(func(name []byte) error {
		switch string(name) {
		case "metadata":
			return r.Object(func(name []byte) (err error) {
				if string(name) == "uid" {
					inv.uid, err = r.Str()
					return err
				}
				return r.Skip()
			})
		case "spec":
			return readSpec(r, inv)
		case "status":
			inv.haveStatus = true
			return readStatus(r, inv, &stateAt)
		}
		return r.Skip()
	})
	if err != nil {
		return nil, err
	}
	want := b.Call.Path[strings.LastIndexByte(b.Call.Path, '/')+1:]
	switch {
	case inv.uid == "":
		return nil, r.Errorf("the invoice has no metadata.uid")
	case inv.uid != want:
		return nil, r.Errorf("the response is invoice %q, not the requested %q", inv.uid, want)
	case inv.start.IsZero() || inv.end.IsZero():
		return nil, r.Errorf("invoice %s has no spec.billingPeriod (start and end)", inv.uid)
	case !isMonth(inv.start, inv.end):
		return nil, r.Errorf("invoice %s bills %s to %s: only calendar-month billing periods are supported",
			inv.uid, inv.start.Format(time.RFC3339Nano), inv.end.Format(time.RFC3339Nano))
	case !inv.start.Equal(p.Start()):
		return nil, r.Errorf("invoice %s bills %s, not %s", inv.uid, inv.start.Format("2006-01"), p)
	case !inv.haveStatus:
		return nil, r.Errorf("invoice %s has no status: it carries no amounts", inv.uid)
	}
	return inv, nil
}

// isMonth accepts [first of a month, first of the next) in UTC; the end
// may also be printed inclusively, as the last second (or millisecond) of
// the month.
func isMonth(start, end time.Time) bool {
	if !start.Equal(billing.PeriodOf(start).Start()) {
		return false
	}
	next := start.AddDate(0, 1, 0)
	return !end.After(next) && !end.Before(next.Add(-time.Second))
}

func readSpec(r *transform.Reader, inv *invoice) error {
	return r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "billingPeriod":
			err = r.Object(func(name []byte) (err error) {
				switch string(name) {
				case "start":
					inv.start, err = r.Instant()
				case "end":
					inv.end, err = r.Instant()
				default:
					err = r.Skip()
				}
				return err
			})
		case "paymentUnit":
			var u string
			if u, err = r.Str(); err == nil && u != "" {
				inv.currency = strings.ToUpper(u)
				if !transform.IsNationalCurrency(inv.currency) {
					err = r.Errorf("paymentUnit %q is not an ISO 4217 currency code", r.Excerpt([]byte(u)))
				}
			}
		case "plan":
			err = r.Object(func(name []byte) (err error) {
				if string(name) == "plantype" {
					inv.planType, err = r.Str()
					return err
				}
				return r.Skip()
			})
		default:
			err = r.Skip() // month (billingPeriod is the period), credits, address, ...
		}
		return err
	})
}

func readStatus(r *transform.Reader, inv *invoice, stateAt *time.Time) error {
	return r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "billableAmount":
			var n transform.NullDecimal
			n, err = r.Number(false)
			inv.billable = n.Decimal
		case "productInvoice":
			err = r.Object(func(name []byte) error {
				product := string(name)
				if k, err := r.Peek(); err != nil || k == 'n' {
					if err == nil {
						err = r.Skip() // null: no such product
					}
					return err
				}
				pi, err := readProduct(r)
				inv.products[product] = pi
				return err
			})
		case "projects":
			err = r.Array(func() error {
				pr, err := readProject(r)
				if err != nil {
					return err
				}
				for _, o := range inv.projects {
					if o.uid == pr.uid {
						return r.Errorf("project %s (%s) is listed twice", pr.uid, pr.name)
					}
				}
				inv.projects = append(inv.projects, pr)
				return nil
			})
		case "states":
			err = r.Array(func() error { return readState(r, inv, stateAt) })
		default:
			err = r.Skip()
		}
		return err
	})
}

func readProduct(r *transform.Reader) (productInvoice, error) {
	var pi productInvoice
	err := r.Object(func(name []byte) (err error) {
		var n transform.NullDecimal
		switch string(name) {
		case "amount":
			n, err = r.Number(false)
			pi.amount = n.Decimal
		case "usedCredits":
			n, err = r.Number(true)
			pi.used = n.Decimal // omitted or null: 0 (omitempty)
		case "freeCredits":
			n, err = r.Number(true)
			pi.freeCredits = n.Decimal
		case "discount":
			n, err = r.Number(false)
			pi.discount = n.Decimal
		case "tierName":
			pi.tierName, err = r.Str()
		case "tierPrice":
			pi.tierPrice, err = r.Number(true)
		default:
			err = r.Skip()
		}
		return err
	})
	return pi, err
}

func readProject(r *transform.Reader) (project, error) {
	pr := project{usage: map[string]usage{}}
	err := r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "projectUid":
			pr.uid, err = r.Str()
		case "projectName":
			pr.name, err = r.Str()
		case "usage":
			err = r.Object(func(name []byte) error {
				product := string(name)
				if k, err := r.Peek(); err != nil || k == 'n' {
					if err == nil {
						err = r.Skip()
					}
					return err
				}
				var u usage
				err := r.Object(func(name []byte) (err error) {
					var n transform.NullDecimal
					switch string(name) {
					case "amount":
						n, err = r.Number(false)
						u.amount = n.Decimal
					case "usedCredits":
						n, err = r.Number(true)
						u.used = n.Decimal
					case "tierPrice":
						u.tierPrice, err = r.Number(true)
					default:
						err = r.Skip()
					}
					return err
				})
				pr.usage[product] = u
				return err
			})
		case "amount":
			pr.amount, err = r.Number(false) // the sum of its usage amounts (checked)
		default:
			err = r.Skip()
		}
		return err
	})
	if err == nil && pr.uid == "" {
		err = r.Errorf("a project has no projectUid")
	}
	return pr, err
}

// readState keeps the latest payment state by timestamp (the order of
// states[] is undocumented); among equal timestamps, the last listed.
func readState(r *transform.Reader, inv *invoice, latest *time.Time) error {
	var state string
	var at time.Time
	err := r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "state":
			state, err = r.Str()
		case "timestamp":
			at, err = r.Instant()
		default:
			err = r.Skip()
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
