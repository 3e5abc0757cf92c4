package extract

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// CockroachDB Cloud (REFERENCE §3): the organization names the billing
// account; one ListInvoices call covers every planned period (the route has
// no pagination); then GetInvoice for each invoice whose period is planned.
type cockroachDB struct{ cfg CockroachDBConfig }

// The vendor's names for the calls (the Go SDK's), as they appear in
// messages and in x_SourceEndpoint.
const (
	CockroachOrganization = "GetOrganizationInfo"
	CockroachListInvoices = "ListInvoices"
	CockroachGetInvoice   = "GetInvoice"
)

func (cockroachDB) Provider() string { return CockroachDB }

func (c cockroachDB) Jobs(ctx context.Context, src Source, plan Plan) ([]Job, error) {
	if len(plan.Periods) == 0 {
		return nil, nil
	}
	org, err := src.Fetch(ctx, c.call(CockroachOrganization, "/api/v1/organization", "organization.json"))
	if err != nil {
		return nil, err
	}
	list, err := src.Fetch(ctx, c.call(CockroachListInvoices, "/api/v1/invoices?"+listQuery(plan).Encode(), "invoices.json"))
	if err != nil {
		org.Close()
		return nil, err
	}
	jobs, err := c.jobs(list, plan)
	if err != nil {
		org.Close()
		list.Close()
		return nil, err
	}
	for i := range jobs {
		jobs[i].Shared = []*Body{org, list}
	}
	return jobs, nil
}

// listQuery asks for every invoice of the plan. start_time is inclusive;
// end_time is documented as both "ended at or before" and "exclusive", and
// the open month's period_end lies in the future: asking one day past the
// last period's end includes its invoice under either reading, and the
// month after it cannot start before end_time anyway.
func listQuery(plan Plan) url.Values {
	first, last := plan.Periods[0], plan.Periods[len(plan.Periods)-1]
	return url.Values{
		"start_time": {first.Start().Format(time.RFC3339)},
		"end_time":   {last.End().AddDate(0, 0, 1).Format(time.RFC3339)},
	}
}

// jobs makes one Job per planned period with a GetInvoice call for each
// listed invoice of that period. The list may hold more (a replayed
// capture, a wider filter): invoices of other periods are left out.
func (c cockroachDB) jobs(list *Body, plan Plan) ([]Job, error) {
	var resp struct {
		// Protobuf JSON leaves an empty list out: a missing "invoices" is none.
		Invoices []struct {
			InvoiceID   string `json:"invoice_id"`
			PeriodStart string `json:"period_start"`
		} `json:"invoices"`
	}
	if err := decodeSmall(list, "the invoice list is not what the API documents", &resp); err != nil {
		return nil, err
	}
	jobs := make([]Job, len(plan.Periods))
	for i, p := range plan.Periods {
		jobs[i] = Job{Provider: CockroachDB, Period: p}
	}
	seen := map[string]bool{}
	for n, inv := range resp.Invoices {
		if inv.InvoiceID == "" {
			return nil, fmt.Errorf("%s: invoice %d of the list has no invoice_id", list.Call, n)
		}
		if err := checkID(CockroachDB, "invoice_id", inv.InvoiceID); err != nil {
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
		p := PeriodOf(start)
		for i := range jobs {
			if jobs[i].Period == p {
				jobs[i].Calls = append(jobs[i].Calls,
					c.call(CockroachGetInvoice, "/api/v1/invoices/"+inv.InvoiceID, "invoice/"+inv.InvoiceID+".json"))
			}
		}
	}
	return jobs, nil
}

func (cockroachDB) call(endpoint, path, capture string) Call {
	return Call{Provider: CockroachDB, Endpoint: endpoint, Method: "GET", Path: path, Capture: CockroachDB + "/" + capture}
}
