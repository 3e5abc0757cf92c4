package invoiceexport

import (
	"context"
	"errors"
	"sync"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/load"
)

// ProviderPlan is what a run would do for one provider: the periods it
// would export and the calls it would make, found without calling anyone.
type ProviderPlan struct {
	Provider string
	Account  string
	URL      string // the account's API base URL, for showing requests
	Periods  []billing.Period
	Calls    []extract.Call
	// More: the provider lists its invoices first, and the rest of the calls
	// (one per invoice) follow from that answer.
	More bool
	Err  error
}

// DryRun works out what Run would do with o. It reads the
// destination's manifests (the default window depends on them) and, when
// o.Source is a capture folder, the captured invoice lists (local files, so
// the plan is complete); it never calls a vendor.
func DryRun(ctx context.Context, o Options) []ProviderPlan {
	store := &load.Store{Sink: o.Sink, RunID: o.RunID, AsOf: o.AsOf}
	var plans []ProviderPlan
	for _, a := range o.accounts() {
		plans = append(plans, planProvider(ctx, &o, store, a))
	}
	return plans
}

func planProvider(ctx context.Context, o *Options, store *load.Store, a Account) (p ProviderPlan) {
	p.Provider, p.Account, p.URL = a.Provider, a.ID, a.Config.Value("API_URL")
	prov, err := registry.Get(a.Provider)
	if err != nil {
		p.Err = err
		return p
	}
	if p.Periods, p.Err = window(ctx, store, a.Provider, a.ID, o); p.Err != nil {
		return p
	}
	src := &dryRun{}
	if dir, ok := o.Source.(extract.Dir); ok {
		src.dir = &dir
	}
	jobs, err := prov.Jobs(ctx, a.Config, extract.ForAccount(src, a.ID), extract.Plan{Periods: p.Periods, AsOf: o.AsOf})
	p.Calls = src.calls
	defer func() {
		for _, b := range src.bodies {
			b.Close()
		}
	}()
	switch {
	case errors.Is(err, errDryRun):
		p.More = true
	case err != nil:
		p.Err = err
	default:
		for _, j := range jobs {
			p.Calls = append(p.Calls, j.Calls...)
		}
	}
	return p
}

var errDryRun = errors.New("dry run: not fetched")

// dryRun is a Source that records calls instead of making them; with a
// capture folder, it answers them from there as well.
type dryRun struct {
	dir    *extract.Dir
	mu     sync.Mutex
	calls  []extract.Call
	bodies []*extract.Body
}

func (d *dryRun) Fetch(ctx context.Context, c extract.Call) (*extract.Body, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, c)
	if d.dir == nil {
		return nil, errDryRun
	}
	b, err := d.dir.Fetch(ctx, c)
	if err == nil {
		d.bodies = append(d.bodies, b)
	}
	return b, err
}
