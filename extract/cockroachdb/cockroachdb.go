// Package cockroachdb is CockroachDB Cloud's billing API: the organization
// names the billing account; one ListInvoices call covers every planned
// period (the route has no pagination); then GetInvoice for each invoice
// whose period is planned (docs/vendors.md).
package cockroachdb

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
)

// Slug names CockroachDB Cloud in partition paths, --providers and x_Provider.
const Slug = "cockroachdb"

// The calls, by the names of the provider's Go SDK, as they appear in
// messages and in x_SourceEndpoint.
const (
	Organization = "GetOrganizationInfo"
	ListInvoices = "ListInvoices"
	GetInvoice   = "GetInvoice"
)

// Settings are CockroachDB Cloud's configuration (COCKROACH_*).
var Settings = []extract.Setting{
	extract.APIKey,
	extract.BaseURL("https://cockroachlabs.cloud"),
}

// Authorize sends the key as a bearer token, with the API version the
// responses are read in.
func Authorize(c extract.Config, next http.RoundTripper) http.RoundTripper {
	return extract.WithHeaders(next, map[string]string{
		"Authorization": "Bearer " + c.Secret("API_KEY").Reveal(),
		"Cc-Version":    "2024-09-16",
	})
}

// Jobs reads the organization and the invoice list, then makes one job per
// period with a GetInvoice call per invoice of that period.
func Jobs(ctx context.Context, c extract.Config, src extract.Source, plan extract.Plan) ([]extract.Job, error) {
	if len(plan.Periods) == 0 {
		return nil, nil
	}
	org, err := src.Fetch(ctx, call(Organization, "/api/v1/organization", "organization.json"))
	if err != nil {
		return nil, err
	}
	list, err := src.Fetch(ctx, call(ListInvoices, "/api/v1/invoices?"+listQuery(plan).Encode(), "invoices.json"))
	if err != nil {
		org.Close()
		return nil, err
	}
	jobs, err := jobsOf(list, plan)
	if err != nil {
		org.Close()
		list.Close()
		return nil, err
	}
	for i := range jobs {
		jobs[i].Shared = []*extract.Body{org, list}
	}
	return jobs, nil
}

// listQuery asks for every invoice of the plan. start_time is inclusive;
// end_time is documented as both "ended at or before" and "exclusive", and
// the open month's period_end lies in the future: asking one day past the
// last period's end includes its invoice under either reading, and the
// month after it cannot start before end_time anyway.
func listQuery(plan extract.Plan) url.Values {
	first, last := plan.Periods[0], plan.Periods[len(plan.Periods)-1]
	return url.Values{
		"start_time": {first.Start().Format(time.RFC3339)},
		"end_time":   {last.End().AddDate(0, 0, 1).Format(time.RFC3339)},
	}
}

// jobsOf makes one Job per planned period with a GetInvoice call for each
// listed invoice of that period. The list may hold more (a replayed
// capture, a wider filter): invoices of other periods are left out.
func jobsOf(list *extract.Body, plan extract.Plan) ([]extract.Job, error) {
	var resp struct {
		// Protobuf JSON leaves an empty list out: a missing "invoices" is none.
		Invoices []struct {
			InvoiceID   string `json:"invoice_id"`
			PeriodStart string `json:"period_start"`
		} `json:"invoices"`
	}
	if err := extract.DecodeSmall(list, "the invoice list is not what the API documents", &resp); err != nil {
		return nil, err
	}
	jobs := make([]extract.Job, len(plan.Periods))
	for i, p := range plan.Periods {
		jobs[i] = extract.Job{Provider: Slug, Period: p}
	}
	seen := map[string]bool{}
	for n, inv := range resp.Invoices {
		if inv.InvoiceID == "" {
			return nil, fmt.Errorf("%s: invoice %d of the list has no invoice_id", list.Call, n)
		}
		if err := extract.CheckID(Slug, "invoice_id", inv.InvoiceID); err != nil {
			return nil, err
		}
		start, err := time.Parse(time.RFC3339, inv.PeriodStart)
		if err != nil {
			return nil, fmt.Errorf("%s: invoice %s has no valid period_start (%q)", list.Call, inv.InvoiceID, list.Excerpt([]byte(inv.PeriodStart)))
		}
		if seen[inv.InvoiceID] {
			continue
		}
		seen[inv.InvoiceID] = true
		p := billing.PeriodOf(start)
		for i := range jobs {
			if jobs[i].Period == p {
				jobs[i].Calls = append(jobs[i].Calls,
					call(GetInvoice, extract.Path("api", "v1", "invoices", inv.InvoiceID), "invoice/"+inv.InvoiceID+".json"))
			}
		}
	}
	return jobs, nil
}

func call(endpoint, path, capture string) extract.Call {
	return extract.Call{Provider: Slug, Endpoint: endpoint, Method: "GET", Path: path, Capture: Slug + "/" + capture}
}
