// Package testkit holds what tests need across packages: fake provider
// APIs and a real MinIO on 127.0.0.1 (stopped by the test that started
// them), sources of bodies kept in memory, and oracles that read the
// providers' totals from captures without any code of ours. DuckDB, which
// links cgo, is in the duck subpackage.
package testkit

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
)

// Bodies is an extract.Source answering calls from bodies keyed by capture
// path; a missing one is a 404. It records the calls it was asked.
type Bodies struct {
	mu     sync.Mutex
	Bodies map[string]string
	calls  []extract.Call
}

func (f *Bodies) Fetch(ctx context.Context, c extract.Call) (*extract.Body, error) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	body, ok := f.Bodies[c.Capture]
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%s: HTTP 404 Not Found: %w", c, extract.ErrNotFound)
	}
	return extract.NewBody(c, strings.NewReader(body))
}

// Paths lists the calls asked so far as "METHOD path".
func (f *Bodies) Paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.Method+" "+c.Path)
	}
	return out
}

// Plan is the extract.Plan of periods ("YYYY-MM") as of asOf ("YYYY-MM-DD").
func Plan(asOf string, periods ...string) extract.Plan {
	var p extract.Plan
	for _, s := range periods {
		q, _ := billing.ParsePeriod(s)
		p.Periods = append(p.Periods, q)
	}
	p.AsOf, _ = time.Parse("2006-01-02", asOf)
	return p
}

// CloseJobs closes the bodies jobs share.
func CloseJobs(jobs []extract.Job) {
	seen := map[*extract.Body]bool{}
	for _, j := range jobs {
		for _, b := range j.Shared {
			if !seen[b] {
				seen[b] = true
				b.Close()
			}
		}
	}
}
