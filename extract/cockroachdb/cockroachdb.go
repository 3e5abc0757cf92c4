// Package cockroachdb is CockroachDB Cloud's billing API: the organization
// names the billing account (or COCKROACH_ORGANIZATION_ID does, for a key
// that may not read it); one ListInvoices call covers every planned period
// (the route has no pagination); then GetInvoice for each invoice whose
// period is planned (docs/vendors.md).
package cockroachdb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

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
	{Name: "ORGANIZATION_ID", Check: checkOrganizationID,
		Doc: "the organization's id (BillingAccountId), for a key that may not read GET /api/v1/organization: that route needs the ORG_ADMIN or ORG_MEMBER role, the invoices only BILLING_COORDINATOR; when set, that call is skipped and BillingAccountName is NULL"},
}

// checkOrganizationID takes an id as the Cloud Console shows it: one word.
func checkOrganizationID(name, v string) (string, error) {
	if strings.ContainsFunc(v, unicode.IsSpace) || extract.CheckID(Slug, "organization id", v) != nil {
		return "", fmt.Errorf("%s=%q is not an organization id: use the id the CockroachDB Cloud Console shows for the organization, such as 9a7c3e51-4b2d-4f8e-a6c0-1d5b7e9f2a34", name, v)
	}
	return v, nil
}

// Authorize sends the key as a bearer token, with the API version the
// responses are read in.
func Authorize(c extract.Config, next http.RoundTripper) http.RoundTripper {
	return extract.WithHeaders(next, map[string]string{
		"Authorization": "Bearer " + c.Secret("API_KEY").Reveal(),
		"Cc-Version":    "2024-09-16",
	})
}

// Jobs reads the organization (unless COCKROACH_ORGANIZATION_ID names it)
// and the invoice list, then makes one job per period with a GetInvoice
// call per invoice of that period.
func Jobs(ctx context.Context, c extract.Config, src extract.Source, plan extract.Plan) (jobs []extract.Job, err error) {
	if len(plan.Periods) == 0 {
		return nil, nil
	}
	var shared []*extract.Body
	defer func() {
		if err != nil {
			for _, b := range shared {
				b.Close()
			}
		}
	}()
	account := c.Value("ORGANIZATION_ID")
	if account == "" {
		org, err := src.Fetch(ctx, call(Organization, "/api/v1/organization", "organization.json"))
		if err != nil {
			return nil, organizationError(c, err)
		}
		shared = append(shared, org)
	}
	list, err := src.Fetch(ctx, call(ListInvoices, "/api/v1/invoices?"+listQuery(plan).Encode(), "invoices.json"))
	if err != nil {
		return nil, err
	}
	shared = append(shared, list)
	if jobs, err = jobsOf(list, plan); err != nil {
		return nil, err
	}
	for i := range jobs {
		jobs[i].Account = account
		jobs[i].Shared = shared
	}
	return jobs, nil
}

// organizationError explains why the organization could not be read when
// the configuration can stand in for it: a key whose role may not read it
// (a service account with only BILLING_COORDINATOR can read the invoices,
// not the organization), or a replayed folder recorded without it.
func organizationError(c extract.Config, err error) error {
	v := c.Var("ORGANIZATION_ID")
	switch {
	case extract.Status(err) == http.StatusForbidden:
		return fmt.Errorf("the API key may not read the organization (GET /api/v1/organization needs the ORG_ADMIN or ORG_MEMBER role; the invoices need only BILLING_COORDINATOR): set %s to the organization's id, or grant the key's service account ORG_MEMBER: %w", v, err)
	case errors.Is(err, extract.ErrNotFound):
		return fmt.Errorf("the organization cannot be read (a run with %s set records none): set %s to the organization's id: %w", v, v, err)
	}
	return err
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
