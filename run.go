// Package invoiceexport runs the export: for each provider and billing
// period, extract (fetch the raw responses), transform (exact FOCUS charge
// lines, reconciled against the invoices) and load (Parquet partitions and
// their manifests). cmd/local and cmd/lambda are thin shells over Run.
package invoiceexport

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/load"
	"github.com/invoice-export/invoice-export/transform"
)

// Options is one run.
type Options struct {
	AsOf      time.Time      // "today", UTC: which period is open
	From, To  billing.Period // a backfill range; both zero for the default window
	Providers []string       // the providers to run
	Config    Configs        // the providers' settings, by slug
	// Accounts are the accounts to run (of Providers' providers; all of
	// them when Providers is empty). Empty: one account DefaultAccount per
	// provider of Providers, with its settings from Config.
	Accounts []Account
	// AccountConcurrency bounds the accounts of one provider exported at
	// once (DefaultAccountConcurrency when 0); providers run side by side.
	AccountConcurrency int
	Source             extract.Source // live APIs or a capture folder, for every account (extract.ForAccount)
	Sink               load.Sink      // where output goes
	RunID              string
	RestatementDays    int
	Logger             *slog.Logger
	Now                func() time.Time // manifest times; time.Now if nil
	// Lookahead is how many periods of one provider are fetched ahead of
	// the one being transformed (default 4).
	Lookahead int
	// Progress, if set, is told of each step; it is called from the
	// providers' goroutines at once.
	Progress func(Event)
	// MaxRangeMonths is the most months a backfill may span
	// (DefaultMaxRangeMonths when 0; CheckRange).
	MaxRangeMonths int
	// AcceptUnreconciled lets a closed month whose final invoice no longer
	// reconciles replace the reconciled partition exported before
	// (load.Store.AcceptUnreconciled); without it that period fails and
	// its partition stays.
	AcceptUnreconciled bool
}

// DefaultAccountConcurrency is Options.AccountConcurrency's default.
const DefaultAccountConcurrency = 2

// accounts are the accounts o runs, grouped by provider in the registry's
// order, then by id.
func (o *Options) accounts() []Account {
	var out []Account
	if len(o.Accounts) == 0 {
		for _, p := range o.Providers {
			out = append(out, Account{Provider: p, ID: DefaultAccount, Config: o.Config[p]})
		}
	} else {
		for _, a := range o.Accounts {
			if len(o.Providers) == 0 || slices.Contains(o.Providers, a.Provider) {
				out = append(out, a)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Account) int {
		return cmp.Or(registry.Compare(a.Provider, b.Provider), strings.Compare(a.ID, b.ID))
	})
	return out
}

// Event is a step of a run, for a progress display.
type Event struct {
	Provider string
	Account  string
	Stage    Stage
	Periods  int            // Planned: how many periods the provider exports
	Period   billing.Period // Written, Failed (zero: the whole provider failed)
	Rows     int64          // Written
}

type Stage int

const (
	Planned Stage = iota
	Written
	Failed
)

// Report is what a run did, for the summary, the logs and the exit status.
type Report struct {
	RunID      string
	Partitions []Exported
	Failures   []Failure
	// Stopped is why the run stopped early: the destination stopped
	// answering (load.ErrStorageUnresponsive). Every period not written
	// because of it is a Failure whose error is this one.
	Stopped error
}

// Exported is one unit (provider, account and period) the run wrote.
type Exported struct {
	Provider string
	Account  string
	Period   billing.Period
	Manifest *load.Manifest
	Invoices []transform.Invoice
	// Duration is the partition's job from the start of its vendor fetch
	// to the end of its commit. With the lookahead, later periods are
	// fetched while earlier ones are transformed, so durations overlap and
	// do not add up to the run's time.
	Duration time.Duration
}

// Failure is a provider and period (or a whole provider, Period zero) that
// was not written; its previous partition, if any, is untouched.
type Failure struct {
	Provider string
	Account  string // "" or DefaultAccount: the provider's one account
	Period   billing.Period
	Err      error
}

func (f Failure) Error() string { return f.where() + ": " + f.Err.Error() }

// OK reports whether every requested provider and period was written.
func (r *Report) OK() bool { return len(r.Failures) == 0 }

// Unreconciled counts final invoices whose lines do not add up to their
// total: the data-quality failures an alarm watches. Open (pending, draft)
// invoices are still moving and are reported, not counted.
func (r *Report) Unreconciled() (n int) {
	for _, p := range r.Partitions {
		n += p.Unreconciled()
	}
	return n
}

// Unreconciled counts the partition's final invoices that do not reconcile.
func (p Exported) Unreconciled() (n int) {
	for _, inv := range p.Invoices {
		if inv.Final && !inv.Reconciled {
			n++
		}
	}
	return n
}

// Err summarizes the failures, one line per cause (the periods a stop left
// unwritten: one line for all, first), at most MaxListed lines, then how
// many more; it wraps every failure. nil when the run is OK.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	var errs []error
	var lines []string
	if r.Stopped != nil {
		stop := r.StopError()
		errs, lines = append(errs, stop), append(lines, stop.Error())
	}
	for _, f := range r.Failures {
		if r.Stopped == nil || !errors.Is(f.Err, r.Stopped) {
			errs, lines = append(errs, f), append(lines, f.lines()...)
		}
	}
	return boundedErr(errs, lines, len(r.Failures))
}

// StopError is Stopped with the periods it left unwritten; nil if the run
// did not stop.
func (r *Report) StopError() error {
	if r.Stopped == nil {
		return nil
	}
	var left []string
	for _, f := range r.Failures {
		if errors.Is(f.Err, r.Stopped) {
			if f.Period.IsZero() {
				left = append(left, UnitLabel(f.Provider, f.Account)+" (every period)")
			} else {
				left = append(left, UnitLabel(f.Provider, f.Account)+" "+f.Period.String())
			}
		}
	}
	if n := len(left); n > MaxListed {
		left = append(left[:MaxListed], fmt.Sprintf("and %d more", n-MaxListed))
	}
	return fmt.Errorf("%w (not written, each kept as it was: %s)", r.Stopped, strings.Join(left, ", "))
}

// NewRunID returns a sortable, unique run id.
func NewRunID(now time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// Run exports every provider of o. Providers run side by side and never
// stop each other: a failure is recorded and the others go on.
func Run(ctx context.Context, o Options) *Report {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Lookahead <= 0 {
		o.Lookahead = 4
	}
	// A destination that stops answering stops the whole run: every
	// provider would only wait on it in turn.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	store := &load.Store{Sink: o.Sink, RunID: o.RunID, AsOf: o.AsOf, Now: o.Now, AcceptUnreconciled: o.AcceptUnreconciled}
	if o.AcceptUnreconciled {
		o.Logger.Warn("accepting unreconciled final invoices: a reconciled partition may be replaced by one that does not reconcile (accept-unreconciled)")
	}
	if o.AccountConcurrency <= 0 {
		o.AccountConcurrency = DefaultAccountConcurrency
	}
	rep := &Report{RunID: o.RunID}
	var mu sync.Mutex
	var wg sync.WaitGroup
	// Providers side by side; a provider's accounts at most
	// AccountConcurrency at once, each its own unit of failure. Memory
	// follows the units in flight, not the number of accounts.
	slots := map[string]chan struct{}{}
	for _, a := range o.accounts() {
		if slots[a.Provider] == nil {
			slots[a.Provider] = make(chan struct{}, o.AccountConcurrency)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots[a.Provider] <- struct{}{}:
				defer func() { <-slots[a.Provider] }()
			case <-ctx.Done(): // runAccount fails it at once
			}
			parts, fails := runAccount(ctx, stop, &o, store, a)
			mu.Lock()
			rep.Partitions = append(rep.Partitions, parts...)
			rep.Failures = append(rep.Failures, fails...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if cause := context.Cause(ctx); errors.Is(cause, load.ErrStorageUnresponsive) {
		rep.Stopped = cause
	}
	rep.Sort()
	return rep
}

// Sort orders partitions and failures by provider (as the registry lists
// them), then period; a whole provider's failure comes first. (sort.Slice
// rather than slices.SortFunc: each generic instantiation adds kilobytes
// to the Lambda's binary, whose budget is 25 MB; these lists are short.)
func (r *Report) Sort() {
	sort.Slice(r.Partitions, func(i, j int) bool {
		a, b := r.Partitions[i], r.Partitions[j]
		return cmp.Or(registry.Compare(a.Provider, b.Provider), strings.Compare(a.Account, b.Account), a.Period.Compare(b.Period)) < 0
	})
	sort.Slice(r.Failures, func(i, j int) bool {
		a, b := r.Failures[i], r.Failures[j]
		return cmp.Or(registry.Compare(a.Provider, b.Provider), strings.Compare(a.Account, b.Account), a.Period.Compare(b.Period)) < 0
	})
}

// runAccount exports an account's periods. A failure because the
// destination stopped answering stops the run (stopRun); the periods left
// then fail with that cause.
func runAccount(ctx context.Context, stopRun context.CancelCauseFunc, o *Options, store *load.Store, acct Account) (parts []Exported, fails []Failure) {
	provider := acct.Provider
	log := o.Logger.With("provider", provider)
	if acct.ID != DefaultAccount {
		log = log.With("account", acct.ID)
	}
	progress := func(e Event) {
		if o.Progress != nil {
			e.Provider, e.Account = provider, acct.ID
			o.Progress(e)
		}
	}
	fail := func(p billing.Period, err error) {
		if down := load.Unresponsive(err); down != nil {
			stopRun(down)
		}
		if cause := context.Cause(ctx); errors.Is(cause, load.ErrStorageUnresponsive) &&
			(errors.Is(err, context.Canceled) || errors.Is(err, load.ErrStorageUnresponsive)) {
			err = cause // cut by the stop
		}
		fails = append(fails, Failure{Provider: provider, Account: acct.ID, Period: p, Err: err})
		log.Error("export failed", "period", periodAttr(p), "error", Bounded(err))
		progress(Event{Stage: Failed, Period: p})
	}
	prov, err := registry.Get(provider)
	if err != nil {
		fail(billing.Period{}, err)
		return
	}
	if ctx.Err() != nil {
		fail(billing.Period{}, context.Cause(ctx))
		return
	}
	periods, err := window(ctx, store, provider, acct.ID, o)
	if err != nil {
		fail(billing.Period{}, err)
		return
	}
	log.Info("exporting", "periods", periodList(periods))
	progress(Event{Stage: Planned, Periods: len(periods)})
	src := extract.ForAccount(o.Source, acct.ID)
	jobs, err := prov.Jobs(ctx, acct.Config, src, extract.Plan{Periods: periods, AsOf: o.AsOf})
	if err == nil {
		err = extract.CheckJobs(jobs)
	}
	if err != nil {
		fail(billing.Period{}, fmt.Errorf("listing invoices: %w", err))
		return
	}
	defer func() {
		seen := map[*extract.Body]bool{}
		for _, j := range jobs {
			for _, b := range j.Shared {
				if !seen[b] {
					seen[b] = true
					b.Close()
				}
			}
		}
	}()

	// Fetch up to Lookahead periods ahead of the one being transformed, so
	// that network waits overlap with work; results are taken in order.
	type fetched struct {
		bodies []*extract.Body
		start  time.Time // when the fetch began
		err    error
	}
	results := make([]chan fetched, len(jobs))
	for i := range results {
		results[i] = make(chan fetched, 1)
	}
	slots := make(chan struct{}, o.Lookahead)
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for i, job := range jobs {
			select {
			case slots <- struct{}{}:
				go func() {
					start := time.Now()
					b, err := fetchAll(fctx, src, job.Calls)
					results[i] <- fetched{b, start, err}
				}()
			case <-fctx.Done():
				results[i] <- fetched{err: fctx.Err()}
			}
		}
	}()
	for i, job := range jobs {
		f := <-results[i]
		if f.err != nil {
			fail(job.Period, f.err)
		} else {
			part, err := export(ctx, o, store, prov.Transform, acct.ID, job, f.bodies, f.start)
			if err != nil {
				fail(job.Period, err)
			} else {
				logPartition(log, part)
				parts = append(parts, part)
				progress(Event{Stage: Written, Period: job.Period, Rows: part.Manifest.Rows})
			}
			for _, b := range f.bodies {
				b.Close()
			}
		}
		select {
		case <-slots:
		default: // this job never took a slot (the run was cancelled)
		}
	}
	return parts, fails
}

// fetchAll fetches a job's calls side by side (the source bounds how many
// are in flight per provider); on any failure it releases what it got.
func fetchAll(ctx context.Context, src extract.Source, calls []extract.Call) ([]*extract.Body, error) {
	bodies := make([]*extract.Body, len(calls))
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i], errs[i] = src.Fetch(ctx, c)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, b := range bodies {
			if b != nil {
				b.Close()
			}
		}
		return nil, err
	}
	return bodies, nil
}

// export transforms one period into a new partition and commits it; on
// any error the partition is dropped and the previous one stays. start is
// when the job's fetch began.
//
// The context is checked once more before Commit: a run out of time
// commits nothing new. A commit once begun is not cut by the context's
// end (load.Partition.Commit): half a commit would leave the partition
// half replaced until the next run.
func export(ctx context.Context, o *Options, store *load.Store, f transform.Func, account string, job extract.Job, bodies []*extract.Body, start time.Time) (Exported, error) {
	part, err := store.Begin(ctx, load.Unit{Provider: job.Provider, Account: account, Period: job.Period})
	if err != nil {
		return Exported{}, err
	}
	in := transform.Input{Job: job, Bodies: append(slices.Clone(job.Shared), bodies...), AsOf: o.AsOf}
	res, err := transform.Run(in, part, f)
	if err == nil {
		err = ctx.Err() // stop cleanly before the deadline: commit nothing late
	}
	if err != nil {
		part.Abort()
		return Exported{}, err
	}
	m, err := part.Commit(res)
	if err != nil {
		return Exported{}, err
	}
	return Exported{Provider: job.Provider, Account: account, Period: job.Period, Manifest: m, Invoices: res.Invoices, Duration: time.Since(start)}, nil
}

func logPartition(log *slog.Logger, p Exported) {
	attrs := []any{"period", p.Period.String(), "rows", p.Manifest.Rows, "duration_ms", p.Duration.Milliseconds()}
	for cur, tot := range p.Manifest.Totals {
		attrs = append(attrs, "total_"+cur, tot.String())
	}
	log.Info("partition written", attrs...)
	for _, n := range p.Manifest.Notes {
		log.Info("note", "period", p.Period.String(), "note", n)
	}
	for _, inv := range p.Invoices {
		if inv.Reconciled {
			continue
		}
		lvl := slog.LevelError
		if !inv.Final {
			lvl = slog.LevelWarn // an open invoice is still moving
		}
		log.Log(context.Background(), lvl, "invoice does not reconcile", "period", p.Period.String(),
			"invoice_id", inv.InvoiceID, "currency", inv.Currency, "status", inv.Status,
			"vendor_total", inv.VendorTotal.String(), "lines_total", inv.LinesTotal.String(), "problem", cut(inv.Problem)) // whole in the manifest
	}
}

func periodAttr(p billing.Period) string {
	if p.IsZero() {
		return "all"
	}
	return p.String()
}

func periodList(ps []billing.Period) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}
