package cockroachdb

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/testkit"
)

const crdbList = `{"invoices": [
  {"invoice_id": "inv-09", "period_start": "2026-09-01T00:00:00Z", "period_end": "2026-10-01T00:00:00Z", "totals": [{"amount": 1}]},
  {"period_end": "2026-11-01T00:00:00Z", "period_start": "2026-10-01T00:00:00Z", "invoice_id": "inv-10", "status": "FINALIZED"},
  {"invoice_id": "inv-10", "period_start": "2026-10-01T00:00:00Z", "period_end": "2026-11-01T00:00:00Z"},
  {"invoice_id": "inv-11", "period_start": "2026-11-01T00:00:00Z", "period_end": "2026-12-01T00:00:00Z", "status": "DRAFT"}]}`

func config(t *testing.T) extract.Config {
	c, err := extract.ReadConfig(Slug, "COCKROACH", Settings, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCockroachJobsListOnceAndFilterByPeriod(t *testing.T) {
	f := &testkit.Bodies{Bodies: map[string]string{
		"cockroachdb/organization.json": `{"id": "org-1"}`,
		"cockroachdb/invoices.json":     crdbList,
	}}
	jobs, err := Jobs(context.Background(), config(t), f, testkit.Plan("2026-11-03", "2026-07", "2026-10", "2026-11"))
	if err != nil {
		t.Fatal(err)
	}
	defer testkit.CloseJobs(jobs)
	// One organization and one list call, whatever the number of periods.
	want := []string{"GET /api/v1/organization", "GET /api/v1/invoices?end_time=2026-12-02T00%3A00%3A00Z&start_time=2026-07-01T00%3A00%3A00Z"}
	if got := f.Paths(); !slices.Equal(got, want) {
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
		if j.Period.String() != w.period || j.Provider != Slug || !slices.Equal(calls, w.calls) {
			t.Errorf("job %d = %s %s %q, want %s %q", i, j.Provider, j.Period, calls, w.period, w.calls)
		}
		if len(j.Shared) != 2 || j.Shared[0].Call.Endpoint != Organization || j.Shared[1].Call.Endpoint != ListInvoices {
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
			f := &testkit.Bodies{Bodies: map[string]string{"cockroachdb/organization.json": `{"id": "org-1"}`, "cockroachdb/invoices.json": c.list}}
			jobs, err := Jobs(context.Background(), config(t), f, testkit.Plan("2026-11-03", "2026-10"))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			var de *billing.DataError
			if strings.Contains(c.want, "bad data at byte") && !errors.As(err, &de) {
				t.Errorf("not a DataError: %#v", err)
			}
			if jobs != nil {
				t.Errorf("jobs on error: %v", jobs)
			}
		})
	}
	// An empty list (protobuf leaves out an empty array) is no invoice.
	f := &testkit.Bodies{Bodies: map[string]string{"cockroachdb/organization.json": `{"id": "org-1"}`, "cockroachdb/invoices.json": `{}`}}
	jobs, err := Jobs(context.Background(), config(t), f, testkit.Plan("2026-11-03", "2026-10"))
	if err != nil || len(jobs) != 1 || len(jobs[0].Calls) != 0 {
		t.Errorf("empty list: %v %v", jobs, err)
	}
	testkit.CloseJobs(jobs)
}

func TestCockroachJobsMissingResponses(t *testing.T) {
	f := &testkit.Bodies{Bodies: map[string]string{"cockroachdb/invoices.json": crdbList}}
	if _, err := Jobs(context.Background(), config(t), f, testkit.Plan("2026-11-03", "2026-10")); !errors.Is(err, extract.ErrNotFound) {
		t.Errorf("no organization: %v", err)
	}
	f = &testkit.Bodies{Bodies: map[string]string{"cockroachdb/organization.json": `{"id": "org-1"}`}}
	if _, err := Jobs(context.Background(), config(t), f, testkit.Plan("2026-11-03", "2026-10")); !errors.Is(err, extract.ErrNotFound) {
		t.Errorf("no list: %v", err)
	}
	if jobs, err := Jobs(context.Background(), config(t), f, extract.Plan{}); jobs != nil || err != nil {
		t.Errorf("no period: %v %v", jobs, err)
	}
}

// The bundled sample replays through the capture folder as planned.
func TestCockroachJobsFromSampleCaptures(t *testing.T) {
	jobs, err := Jobs(context.Background(), config(t), extract.Dir("../../testdata/captures"), testkit.Plan("2026-11-03", "2026-10", "2026-11"))
	if err != nil {
		t.Fatal(err)
	}
	defer testkit.CloseJobs(jobs)
	for _, j := range jobs {
		if len(j.Calls) != 1 {
			t.Fatalf("%s: calls %v, want the period's one invoice", j.Period, j.Calls)
		}
		b, err := extract.Dir("../../testdata/captures").Fetch(context.Background(), j.Calls[0])
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
}

// configWith reads the settings from env.
func configWith(t *testing.T, env map[string]string) extract.Config {
	c, err := extract.ReadConfig(Slug, "COCKROACH", Settings, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A key whose service account has only the BILLING_COORDINATOR role reads
// the invoices, but GET /api/v1/organization answers it 403. Without
// COCKROACH_ORGANIZATION_ID that fails at once, naming the variable and the
// roles; with it, the organization is not asked for, and the jobs name the
// account.
func TestCockroachBillingOnlyKey(t *testing.T) {
	const key = "CCDB1_billing_coordinator_only"
	dir := "../../testdata/vendor-examples/variants/crdb-billing-only-key"
	api := testkit.FakeCockroachDB(t, dir, key)
	src := func(c extract.Config) extract.Source {
		return extract.NewHTTP(map[string]extract.Endpoint{Slug: {
			URL:       api.URL,
			Authorize: func(next http.RoundTripper) http.RoundTripper { return Authorize(c, next) },
			Secrets:   c.Secrets(),
			KeyVar:    "COCKROACH_API_KEY",
			URLVar:    "COCKROACH_API_URL",
		}}, extract.HTTPOptions{})
	}
	plan := testkit.Plan("2026-01-03", "2025-12", "2026-01")

	c := configWith(t, map[string]string{"COCKROACH_API_KEY": key})
	_, err := Jobs(context.Background(), c, src(c), plan)
	for _, want := range []string{"COCKROACH_ORGANIZATION_ID", "ORG_ADMIN or ORG_MEMBER", "BILLING_COORDINATOR", "HTTP 403"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("without COCKROACH_ORGANIZATION_ID: %v, want it to say %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), key) {
		t.Errorf("the key leaked: %v", err)
	}
	if calls := api.Calls(); !slices.Equal(calls, []string{"GET /api/v1/organization"}) {
		t.Errorf("calls = %q: a key that cannot read the organization should stop at once", calls)
	}

	const org = "9a7c3e51-4b2d-4f8e-a6c0-1d5b7e9f2a34"
	c = configWith(t, map[string]string{"COCKROACH_API_KEY": key, "COCKROACH_ORGANIZATION_ID": " " + org + " "})
	before := len(api.Calls())
	jobs, err := Jobs(context.Background(), c, src(c), plan)
	if err != nil {
		t.Fatal(err)
	}
	defer testkit.CloseJobs(jobs)
	if calls := api.Calls()[before:]; len(calls) != 1 || !strings.HasPrefix(calls[0], "GET /api/v1/invoices?") {
		t.Errorf("calls = %q, want the invoice list only", calls)
	}
	for _, j := range jobs {
		if j.Account != org || len(j.Calls) != 1 || len(j.Shared) != 1 || j.Shared[0].Call.Endpoint != ListInvoices {
			t.Errorf("job %s: account %q, calls %v, shared %v", j.Period, j.Account, j.Calls, j.Shared)
		}
	}

	// Replayed from the folder such a run records: no organization.json is
	// needed with the variable, and its absence says to set it without.
	jobs2, err := Jobs(context.Background(), c, extract.Dir(dir), plan)
	if err != nil {
		t.Fatal(err)
	}
	testkit.CloseJobs(jobs2)
	c = configWith(t, nil)
	if _, err := Jobs(context.Background(), c, extract.Dir(dir), plan); err == nil || !strings.Contains(err.Error(), "set COCKROACH_ORGANIZATION_ID") || !errors.Is(err, extract.ErrNotFound) {
		t.Errorf("replay without the variable: %v", err)
	}
}

func TestCockroachOrganizationIDIsChecked(t *testing.T) {
	for _, v := range []string{"Example Corp", "a/b", "..", "x\ty"} {
		_, err := extract.ReadConfig(Slug, "COCKROACH", Settings, func(k string) string {
			return map[string]string{"COCKROACH_ORGANIZATION_ID": v}[k]
		})
		if err == nil || !strings.Contains(err.Error(), "COCKROACH_ORGANIZATION_ID=") || !strings.Contains(err.Error(), "is not an organization id") {
			t.Errorf("%q: %v", v, err)
		}
	}
}
