package extract

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// vendorFake answers calls from bodies keyed by capture path; a missing
// one is a 404. It records the calls it was asked.
type vendorFake struct {
	mu     sync.Mutex
	bodies map[string]string
	calls  []Call
}

func (f *vendorFake) Fetch(ctx context.Context, c Call) (*Body, error) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	body, ok := f.bodies[c.Capture]
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%s: HTTP 404 Not Found: %w", c, ErrNotFound)
	}
	return spool(c, strings.NewReader(body), "")
}

func (f *vendorFake) paths() []string {
	var out []string
	for _, c := range f.calls {
		out = append(out, c.Method+" "+c.Path)
	}
	return out
}

func plan(asOf string, periods ...string) Plan {
	var p Plan
	for _, s := range periods {
		q, _ := ParsePeriod(s)
		p.Periods = append(p.Periods, q)
	}
	p.AsOf, _ = time.Parse("2006-01-02", asOf)
	return p
}

func closeJobs(jobs []Job) {
	seen := map[*Body]bool{}
	for _, j := range jobs {
		for _, b := range j.Shared {
			if !seen[b] {
				seen[b] = true
				b.Close()
			}
		}
	}
}

const crdbList = `{"invoices": [
  {"invoice_id": "inv-09", "period_start": "2026-09-01T00:00:00Z", "period_end": "2026-10-01T00:00:00Z", "totals": [{"amount": 1}]},
  {"period_end": "2026-11-01T00:00:00Z", "period_start": "2026-10-01T00:00:00Z", "invoice_id": "inv-10", "status": "FINALIZED"},
  {"invoice_id": "inv-10", "period_start": "2026-10-01T00:00:00Z", "period_end": "2026-11-01T00:00:00Z"},
  {"invoice_id": "inv-11", "period_start": "2026-11-01T00:00:00Z", "period_end": "2026-12-01T00:00:00Z", "status": "DRAFT"}]}`

func crdbVendor(t *testing.T) Vendor {
	v, err := ConfigFromEnv(func(string) string { return "" }).Vendor(CockroachDB)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCockroachJobsListOnceAndFilterByPeriod(t *testing.T) {
	f := &vendorFake{bodies: map[string]string{
		"cockroachdb/organization.json": `{"id": "org-1"}`,
		"cockroachdb/invoices.json":     crdbList,
	}}
	jobs, err := crdbVendor(t).Jobs(context.Background(), f, plan("2026-11-03", "2026-07", "2026-10", "2026-11"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeJobs(jobs)
	// One organization and one list call, whatever the number of periods.
	want := []string{"GET /api/v1/organization", "GET /api/v1/invoices?end_time=2026-12-02T00%3A00%3A00Z&start_time=2026-07-01T00%3A00%3A00Z"}
	if got := f.paths(); !slices.Equal(got, want) {
		t.Errorf("listing calls = %q, want %q", got, want)
	}
	if len(jobs) != 3 {
		t.Fatalf("%d jobs, want one per period", len(jobs))
	}
	// July: nothing billed, still a job (an empty partition). September is
	// listed but not planned; October is listed twice and fetched once.
	for i, w := range []struct {
		period string
		calls  []string
	}{
		{"2026-07", nil},
		{"2026-10", []string{"GetInvoice GET /api/v1/invoices/inv-10 cockroachdb/invoice/inv-10.json"}},
		{"2026-11", []string{"GetInvoice GET /api/v1/invoices/inv-11 cockroachdb/invoice/inv-11.json"}},
	} {
		j := jobs[i]
		var calls []string
		for _, c := range j.Calls {
			calls = append(calls, c.Endpoint+" "+c.Method+" "+c.Path+" "+c.Capture)
		}
		if j.Period.String() != w.period || j.Provider != CockroachDB || !slices.Equal(calls, w.calls) {
			t.Errorf("job %d = %s %s %q, want %s %q", i, j.Provider, j.Period, calls, w.period, w.calls)
		}
		if len(j.Shared) != 2 || j.Shared[0].Call.Endpoint != CockroachOrganization || j.Shared[1].Call.Endpoint != CockroachListInvoices {
			t.Errorf("job %d shares %v, want the organization and the list", i, j.Shared)
		}
	}
}

func TestCockroachJobsBadLists(t *testing.T) {
	for _, c := range []struct{ name, list, want string }{
		{"id with a slash", `{"invoices": [{"invoice_id": "a/b", "period_start": "2026-10-01T00:00:00Z"}]}`, `invoice_id "a/b" is not a safe identifier`},
		{"id with dot-dot", `{"invoices": [{"invoice_id": "..x", "period_start": "2026-10-01T00:00:00Z"}]}`, `invoice_id "..x" is not a safe identifier`},
		{"no id", `{"invoices": [{"period_start": "2026-10-01T00:00:00Z"}]}`, "invoice 0 of the list has no invoice_id"},
		{"no period", `{"invoices": [{"invoice_id": "inv-1"}]}`, `invoice inv-1 has no valid period_start ("")`},
		{"bad period", `{"invoices": [{"invoice_id": "inv-1", "period_start": "October"}]}`, `has no valid period_start ("October")`},
		// Bad data is positioned like transform's: the byte offset and the JSON pointer.
		{"not json", `<html>502</html>`, "cockroachdb ListInvoices (cockroachdb/invoices.json): bad data at byte 0: the invoice list is not what the API documents: invalid character '<' at start of value (the body is not JSON: an HTML error page?)"},
		{"wrong type", `{"invoices": {"invoice_id": "inv-1"}}`, "cockroachdb ListInvoices (cockroachdb/invoices.json): bad data at byte 13, /invoices: the invoice list is not what the API documents: expected an array, found an object"},
		{"id a number", `{"invoices": [{"invoice_id": 7}]}`, "bad data at byte 29, /invoices/0/invoice_id: the invoice list is not what the API documents: expected a string, found a number"},
		{"truncated", `{"invoices": [{"invoice_id": "inv-1", "period_st`, "cockroachdb ListInvoices (cockroachdb/invoices.json): bad data at byte 48, /invoices/0: the invoice list is not what the API documents: the body ends in the middle of a value (truncated response or capture)"},
		{"empty", ``, "cockroachdb ListInvoices (cockroachdb/invoices.json): bad data at byte 0: the invoice list is not what the API documents: the body is empty (an empty response or capture)"},
		{"blank", " \n", "the body is empty"},
		{"duplicate key", `{"invoices": [], "invoices": []}`, "bad data at byte 17, /invoices: the invoice list is not what the API documents: duplicate object member name"},
		{"trailing data", `{"invoices": []} {}`, "bad data at byte 17: the invoice list is not what the API documents: unexpected data after the top-level object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &vendorFake{bodies: map[string]string{"cockroachdb/organization.json": `{"id": "org-1"}`, "cockroachdb/invoices.json": c.list}}
			jobs, err := crdbVendor(t).Jobs(context.Background(), f, plan("2026-11-03", "2026-10"))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			var de *DataError
			if strings.Contains(c.want, "bad data at byte") && !errors.As(err, &de) {
				t.Errorf("not a DataError: %#v", err)
			}
			if jobs != nil {
				t.Errorf("jobs on error: %v", jobs)
			}
		})
	}
	// An empty list (protobuf leaves out an empty array) is no invoice.
	f := &vendorFake{bodies: map[string]string{"cockroachdb/organization.json": `{"id": "org-1"}`, "cockroachdb/invoices.json": `{}`}}
	jobs, err := crdbVendor(t).Jobs(context.Background(), f, plan("2026-11-03", "2026-10"))
	if err != nil || len(jobs) != 1 || len(jobs[0].Calls) != 0 {
		t.Errorf("empty list: %v %v", jobs, err)
	}
	closeJobs(jobs)
}

func TestCockroachJobsMissingResponses(t *testing.T) {
	f := &vendorFake{bodies: map[string]string{"cockroachdb/invoices.json": crdbList}}
	if _, err := crdbVendor(t).Jobs(context.Background(), f, plan("2026-11-03", "2026-10")); !errors.Is(err, ErrNotFound) {
		t.Errorf("no organization: %v", err)
	}
	f = &vendorFake{bodies: map[string]string{"cockroachdb/organization.json": `{"id": "org-1"}`}}
	if _, err := crdbVendor(t).Jobs(context.Background(), f, plan("2026-11-03", "2026-10")); !errors.Is(err, ErrNotFound) {
		t.Errorf("no list: %v", err)
	}
	if jobs, err := crdbVendor(t).Jobs(context.Background(), f, Plan{}); jobs != nil || err != nil {
		t.Errorf("no period: %v %v", jobs, err)
	}
}

// The bundled sample replays through the capture folder as planned.
func TestCockroachJobsFromSampleCaptures(t *testing.T) {
	jobs, err := crdbVendor(t).Jobs(context.Background(), Dir("../testdata/captures"), plan("2026-11-03", "2026-10", "2026-11"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeJobs(jobs)
	for _, j := range jobs {
		if len(j.Calls) != 1 {
			t.Fatalf("%s: calls %v, want the period's one invoice", j.Period, j.Calls)
		}
		b, err := Dir("../testdata/captures").Fetch(context.Background(), j.Calls[0])
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
}
