package invoiceexport

import (
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/load"
)

// LiveSource calls the APIs of the providers configured in o.Config and
// lands every response under raw/ of o.Sink in the capture layout, so that
// any live run, local or in Lambda, can be replayed with cmd/local --in.
func LiveSource(o Options, opt extract.HTTPOptions) extract.Source {
	if opt.Logger == nil {
		opt.Logger = o.Logger
	}
	store := &load.Store{Sink: o.Sink, RunID: o.RunID}
	return extract.Record(extract.NewHTTP(endpoints(o.Config), opt), store.SaveRaw(time.Now()))
}

// endpoints are the configured providers' endpoints, by slug.
func endpoints(cfgs Configs) map[string]extract.Endpoint {
	eps := map[string]extract.Endpoint{}
	for _, p := range registry.All() {
		if c, ok := cfgs[p.Slug]; ok {
			eps[p.Slug] = p.Endpoint(c)
		}
	}
	return eps
}
