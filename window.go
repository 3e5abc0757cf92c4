package invoiceexport

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/load"
)

// maxCatchUp bounds how far back a run looks for periods a missed run left
// unfinished; beyond it, a backfill (--from/--to) is the tool.
const maxCatchUp = 12

// window returns the periods a run exports for provider (README: "Run it
// once now", docs/storage.md):
//   - with From/To: that range, up to the open period;
//   - otherwise the open period; the previous one during the first
//     RestatementDays days of the month; and, once the provider has been
//     exported before, every earlier period whose manifest is missing or
//     was written before the vendor finalized it (a run was missed, or an
//     invoice was still a draft), back to the last final one; and, up to
//     maxCatchUp periods back, any whose manifest is a Replacing marker (a
//     run died while replacing that partition: its files may mix two runs').
//
// Each account of a provider has its own window: its own manifests.
func window(ctx context.Context, store *load.Store, provider, account string, o *Options) ([]billing.Period, error) {
	open := billing.PeriodOf(o.AsOf)
	if !o.From.IsZero() || !o.To.IsZero() {
		if err := CheckRange(o.AsOf, o.From, o.To, o.maxRangeMonths()); err != nil {
			return nil, err
		}
		from, to := o.From, o.To
		if from.IsZero() {
			from = to
		}
		if to.IsZero() || open.Before(to) {
			to = open
		}
		var ps []billing.Period
		for p := from; !to.Before(p); p = p.Next() {
			ps = append(ps, p)
		}
		return ps, nil
	}

	periods := []billing.Period{open}
	restating := o.AsOf.Day() <= o.RestatementDays
	done, err := store.Partitions(ctx, provider, account)
	if err != nil {
		return nil, fmt.Errorf("%s: reading manifests: %w", UnitLabel(provider, account), err)
	}
	var earliest billing.Period
	if len(done) > 0 {
		earliest = done[0]
	}
	caughtUp := false // past the last final manifest
	for p, n := open.Prev(), 0; n < maxCatchUp; p, n = p.Prev(), n+1 {
		if n == 0 && restating {
			periods = append([]billing.Period{p}, periods...)
			continue
		}
		if earliest.IsZero() || p.Before(earliest) {
			break // never exported before: nothing was missed
		}
		if caughtUp && !slices.Contains(done, p) {
			continue
		}
		m, err := store.Manifest(ctx, load.Unit{Provider: provider, Account: account, Period: p})
		if err != nil {
			return nil, err
		}
		switch {
		case m != nil && m.Replacing: // an interrupted replacement: always again
		case caughtUp:
			continue
		case m != nil && m.Final:
			caughtUp = true
			continue
		}
		periods = append([]billing.Period{p}, periods...)
	}
	return periods, nil
}

// Earliest is the first month a range may start: no vendor exported here
// bills further back, and "0001-01" (the zero Period) means "unset".
var Earliest = billing.PeriodOf(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))

// CheckRange says in one line what is wrong with a backfill's range of
// periods as of asOf (either end may be zero: from alone is from..the
// open period, to alone is that one period): it starts before Earliest or
// after the open period, ends before it starts, or spans more than
// maxMonths (to clamped to the open period), which it says how to split.
// Both commands call it before anything runs.
func CheckRange(asOf time.Time, from, to billing.Period, maxMonths int) error {
	open, first := billing.PeriodOf(asOf), from
	if first.IsZero() {
		first = to
	}
	last := to
	if to.IsZero() || open.Before(to) {
		last = open
	}
	if from.IsZero() {
		last = first
	}
	switch {
	case first.IsZero():
		return nil // the default window
	case first.Before(Earliest):
		return fmt.Errorf("the range starts at %s, before %s: no vendor exported here bills that far back; start at %s or later", first, Earliest, Earliest)
	case open.Before(first):
		return fmt.Errorf("the range starts at %s, after the open period %s (as of %s): nothing is billed yet", first, open, asOf.Format("2006-01-02"))
	case !from.IsZero() && !to.IsZero() && to.Before(from):
		return fmt.Errorf("the range starts at %s, after its end %s: give the earlier month first", from, to)
	}
	if n := months(first, last); n > maxMonths {
		end := func(p billing.Period) billing.Period { return billing.PeriodOf(p.Start().AddDate(0, maxMonths-1, 0)) }
		second := end(first).Next()
		then := second.String() + ".." + end(second).String() + ", and so on up to " + last.String()
		if months(second, last) <= maxMonths {
			then = second.String() + ".." + last.String()
		}
		return fmt.Errorf("the range %s..%s is %d months, more than the %d one run may export (%s): split it into runs of at most %d months: %s..%s, then %s",
			first, last, n, maxMonths, MaxRangeMonthsVar, maxMonths, first, end(first), then)
	}
	return nil
}

// months counts the periods from first to last, both included.
func months(first, last billing.Period) int {
	a, b := first.Start(), last.Start()
	return (b.Year()-a.Year())*12 + int(b.Month()-a.Month()) + 1
}

func (o *Options) maxRangeMonths() int {
	if o.MaxRangeMonths > 0 {
		return o.MaxRangeMonths
	}
	return DefaultMaxRangeMonths
}

// Window is the periods a run of o would export for a provider's account:
// the default window or o's backfill range (the Lambda's list_units event
// answers with it, cmd/lambda).
func Window(ctx context.Context, o Options, provider, account string) ([]billing.Period, error) {
	store := &load.Store{Sink: o.Sink, RunID: o.RunID, AsOf: o.AsOf}
	return window(ctx, store, provider, account, &o)
}
