// Package transform decodes vendors' raw responses (numbers as exact
// decimals) into FOCUS charge lines and invoice rows, and reconciles the
// lines against each invoice's total.
package transform

import (
	"fmt"
	"time"

	"github.com/invoice-export/invoice-export/extract"
)

// Input is one provider's bodies for one billing period.
type Input struct {
	Job    extract.Job
	Bodies []*extract.Body // the job's shared bodies, then one per call
	AsOf   time.Time
}

// Output receives lines as they are made. It must not keep the pointer.
type Output interface {
	Write(*Line) error
}

// Result is what a period's transform produced besides its lines.
type Result struct {
	Invoices []Invoice
	Lines    int64
	Notes    []string // facts the run reports (e.g. days outside the period left out)
}

// Func is one provider's transform: it decodes the job's bodies, writes
// their lines to t and returns the invoice rows (reconciled with
// t.Reconcile) and any notes.
type Func func(in Input, t *Tally) (*Result, error)

// Run transforms one job with f. On error nothing it wrote may be kept: the
// caller discards the partition.
func Run(in Input, out Output, f Func) (*Result, error) {
	t := &Tally{out: out}
	res, err := f(in, t)
	if err != nil {
		return nil, err
	}
	if t.err != nil {
		return nil, t.err
	}
	res.Lines = t.lines
	// Quantities keep 24 decimals (DECIMAL(38,24)); more are rounded half
	// to even, which the run reports (money is never rounded: it fails).
	switch {
	case t.rounded == 1:
		res.Notes = append(res.Notes, fmt.Sprintf("1 quantity had more than %d decimals and was rounded half-to-even at the %dth", Scale, Scale))
	case t.rounded > 1:
		res.Notes = append(res.Notes, fmt.Sprintf("%d quantities had more than %d decimals and were rounded half-to-even at the %dth", t.rounded, Scale, Scale))
	}
	return res, nil
}

// body returns the input's body for endpoint (the first when several).
func (in Input) Body(endpoint string) (*extract.Body, error) {
	for _, b := range in.Bodies {
		if b.Call.Endpoint == endpoint {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%s %s: no %s response in the job", in.Job.Provider, in.Job.Period, endpoint)
}

// Tally counts the lines passing to out and sums them per invoice and
// currency (Line.VirtualAmount), for reconciliation.
type Tally struct {
	out     Output
	lines   int64
	accs    map[accKey]*acc
	err     error
	rounded int64 // quantities rounded at the 24th decimal while decoding
}

type accKey struct{ invoice, currency string }

type acc struct {
	sum Decimal
	n   int64
}

func (t *Tally) add(invoice, currency string, d Decimal, provider string) {
	if t.accs == nil {
		t.accs = map[accKey]*acc{}
	}
	a := t.accs[accKey{invoice, currency}]
	if a == nil {
		a = &acc{}
		t.accs[accKey{invoice, currency}] = a
	}
	var ok bool
	if a.sum, ok = a.sum.Add(d); !ok && t.err == nil {
		t.err = fmt.Errorf("%s: the sum of the lines leaves DECIMAL(38,24)", provider)
	}
	a.n++
}

// Write passes l on to the output, counted and summed. A line without a
// ChargeID is refused: every provider names each line (x_ChargeId).
func (t *Tally) Write(l *Line) error {
	if l.ChargeID == "" {
		return fmt.Errorf("%s: a charge line has no ChargeID (x_ChargeId), a provider's bug: %s %s %s", l.Provider, l.ChargeCategory, l.ChargeDescription, l.BilledCost)
	}
	t.add(l.InvoiceID, l.BillingCurrency, l.BilledCost, l.Provider)
	if cur, amount, ok := l.VirtualAmount(); ok {
		t.add(l.InvoiceID, cur, amount, l.Provider)
	}
	t.lines++
	return t.out.Write(l)
}

// sum is the total and count of the lines of one invoice in one currency.
func (t *Tally) sum(invoice, currency string) (Decimal, int64) {
	if a := t.accs[accKey{invoice, currency}]; a != nil {
		return a.sum, a.n
	}
	return Decimal{}, 0
}

// HalfCent is the most rounding to cents can move one invoice line.
var HalfCent = MustDecimal("0.005")

// Reader reads b, counting the quantities it rounds into the run's notes.
func (t *Tally) Reader(b *extract.Body) *Reader { return NewReader(b, &t.rounded) }

// Reconcile settles inv against the lines written for it. A gap within
// tolerance (what rounding can explain) is closed by an explicit Adjustment
// line built by adjust; a larger gap is reported in inv.Problem and left
// open, never papered over. problem, if not empty, is a vendor-specific
// finding (e.g. one cluster's days disagree with its invoice line) that
// rules reconciliation out whatever the totals say.
func (t *Tally) Reconcile(inv *Invoice, tolerance Decimal, problem string, adjust func(gap Decimal) Line) error {
	sum, _ := t.sum(inv.InvoiceID, inv.Currency)
	gap, _ := inv.VendorTotal.Sub(sum)
	switch {
	case problem != "":
		inv.Problem = problem
	case gap.Abs().Cmp(tolerance) > 0:
		inv.Problem = fmt.Sprintf("the lines add up to %s %s but the invoice says %s: a gap of %s, more than rounding can explain (at most %s)",
			sum, inv.Currency, inv.VendorTotal, gap, tolerance)
	case !gap.IsZero():
		l := adjust(gap)
		if err := t.Write(&l); err != nil {
			return err
		}
		inv.RoundingAdjustment = gap
		sum = inv.VendorTotal
		gap = Decimal{}
	}
	inv.LinesTotal = sum
	_, inv.Lines = t.sum(inv.InvoiceID, inv.Currency)
	inv.Difference = gap
	inv.Reconciled = inv.Problem == ""
	return nil
}
