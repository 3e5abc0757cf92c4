// Package testkit holds what tests need across packages: fake provider
// APIs and a real MinIO on 127.0.0.1 (stopped by the test that started
// them), sources of bodies kept in memory, and oracles that read the
// providers' totals from captures without any code of ours. DuckDB, which
// links cgo, is in the duck subpackage.
package testkit

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
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

// Headers sends a request through a provider's Authorize, configured by
// env, and returns the headers that reached the network, and those of the
// request as the caller still sees it (a transport must not change them).
func Headers(t testing.TB, slug, prefix string, settings []extract.Setting, authorize func(extract.Config, http.RoundTripper) http.RoundTripper, env map[string]string) (sent, caller http.Header) {
	t.Helper()
	cfg, err := extract.ReadConfig(slug, prefix, settings, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var got http.Header
	rt := authorize(cfg, roundTrip(func(r *http.Request) (*http.Response, error) {
		got = r.Header.Clone()
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
	}))
	req, _ := http.NewRequest("GET", "https://example.invalid/x", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return got, req.Header
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
