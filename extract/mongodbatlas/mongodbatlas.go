// Package mongodbatlas is MongoDB Atlas's billing API, the Atlas
// Administration API v2 as its OpenAPI specification describes it
// (docs/vendors.md). The organizations the credential can see name the
// billing account (ATLAS_ORG_ID picks one); its invoices are listed page
// by page, narrowed to the planned months with fromDate and toDate; the
// open month's invoices come whole from the pending-invoices call; every
// other listed invoice of a planned month is read by id. An invoice
// carries its line items and the invoices of the organizations linked to
// it (cross-organization billing), so no further call is needed.
package mongodbatlas

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
)

// Slug names MongoDB Atlas in partition paths, --providers and x_Provider.
const Slug = "mongodbatlas"

// The calls, by the specification's operation ids, as they appear in
// messages and in x_SourceEndpoint.
const (
	ListOrgs        = "listOrgs"
	ListInvoices    = "listInvoices"
	PendingInvoices = "listInvoicePending"
	GetInvoice      = "getInvoice"
)

// The two credentials Atlas offers (the specification's securitySchemes).
const (
	serviceAccount = "a service account"
	apiKey         = "an API key"
)

// Settings are MongoDB Atlas's configuration (ATLAS_*): one of its two
// credentials, the organization, the address.
var Settings = []extract.Setting{
	{Name: "CLIENT_ID", Required: true, Credential: serviceAccount,
		Doc: "a service account's client id (OAuth 2.0 client credentials, the credential Atlas recommends)"},
	{Name: "CLIENT_SECRET", Secret: true, Required: true, Credential: serviceAccount,
		Doc: "the service account's client secret"},
	{Name: "PUBLIC_KEY", Required: true, Credential: apiKey,
		Doc: "a programmatic API key's public key (HTTP Digest; Atlas calls these keys legacy)"},
	{Name: "PRIVATE_KEY", Secret: true, Required: true, Credential: apiKey,
		Doc: "the API key's private key"},
	{Name: "ORG_ID", Check: checkOrg,
		Doc: "the organization whose invoices to export (24 hex digits); empty: the only one the credential can see"},
	extract.BaseURL("https://cloud.mongodb.com"),
}

var orgID = regexp.MustCompile(`^[a-f0-9]{24}$`)

func checkOrg(name, v string) (string, error) {
	if !orgID.MatchString(v) {
		return "", fmt.Errorf("%s=%q is not an organization id (24 lower-case hex digits)", name, v)
	}
	return v, nil
}

// pageSize is the largest itemsPerPage the API takes: the fewer pages, the
// fewer calls against its rate limit. Tests lower it.
var pageSize = 500

// listed is what listing needs of an invoice (BillingInvoiceMetadata, or
// a BillingInvoice of the pending call, whose line items are skipped).
type listed struct {
	ID        string    `json:"id"`
	StartDate time.Time `json:"startDate"`
	Linked    []listed  `json:"linkedInvoices"`
}

// Jobs reads the organizations and the invoice list, then makes one job
// per period: the open month's takes the pending call's body, the others
// a getInvoice call per listed invoice.
func Jobs(ctx context.Context, c extract.Config, src extract.Source, plan extract.Plan) (jobs []extract.Job, err error) {
	if len(plan.Periods) == 0 {
		return nil, nil
	}
	var bodies []*extract.Body // closed on error
	defer func() {
		if err != nil {
			for _, b := range bodies {
				b.Close()
			}
		}
	}()
	org := c.Value("ORG_ID")
	orgs, err := src.Fetch(ctx, extract.Call{Provider: Slug, Endpoint: ListOrgs, Method: "GET",
		Path: extract.Path("api", "atlas", "v2", "orgs") + "?includeCount=true&itemsPerPage=500&pageNum=1", Capture: Slug + "/orgs.json"})
	switch {
	case errors.Is(err, extract.ErrNotFound) && org != "":
		// No capture of the call (a recording without it): the configured
		// organization, without its name.
	case err != nil:
		return nil, err
	default:
		bodies = append(bodies, orgs)
		if org, err = pickOrg(orgs, org); err != nil {
			return nil, err
		}
	}
	invoices, err := list(ctx, src, org, plan)
	if err != nil {
		return nil, err
	}
	shared := bodies[:len(bodies):len(bodies)] // the organizations
	jobs = make([]extract.Job, len(plan.Periods))
	for i, p := range plan.Periods {
		jobs[i] = extract.Job{Provider: Slug, Period: p, Account: org, Shared: shared}
	}
	job := func(p billing.Period) *extract.Job {
		for i := range jobs {
			if jobs[i].Period == p {
				return &jobs[i]
			}
		}
		return nil
	}

	// The open month: its invoices come whole from the pending call. An
	// invoice listed for that month that the pending call does not carry
	// (it closed between the two calls) is read by id like the others.
	open := billing.PeriodOf(plan.AsOf)
	pending := map[string]bool{}
	if j := job(open); j != nil {
		b, err := src.Fetch(ctx, call(org, PendingInvoices, extract.Path("invoices", "pending"), "pending_invoices.json"))
		switch {
		case errors.Is(err, extract.ErrNotFound):
			// No pending invoice (or no capture of the call): the listed
			// invoices are read by id.
		case err != nil:
			return nil, err
		default:
			bodies = append(bodies, b)
			j.Shared = append(append([]*extract.Body(nil), j.Shared...), b)
			var resp struct {
				Results []listed `json:"results"`
			}
			// The line items are skipped as they are read: memory holds
			// the ids and dates only.
			if err := extract.DecodeSmall(b, "the pending invoices are not what the API documents", &resp); err != nil {
				return nil, err
			}
			var walk func(ls []listed)
			walk = func(ls []listed) {
				for _, l := range ls {
					if billing.PeriodOf(l.StartDate) == open {
						pending[l.ID] = true
					}
					walk(l.Linked)
				}
			}
			walk(resp.Results)
		}
	}
	seen := map[string]bool{}
	for _, l := range invoices {
		p := billing.PeriodOf(l.StartDate)
		j := job(p)
		if j == nil || seen[l.ID] || (p == open && pending[l.ID]) {
			continue
		}
		seen[l.ID] = true
		j.Calls = append(j.Calls, call(org, GetInvoice, extract.Path("invoices", l.ID), "invoice/"+l.ID+".json"))
	}
	return jobs, nil
}

// pickOrg is the organization to export: the configured one, else the
// only one the credential can see (a service account or an API key
// belongs to one). One page of 500 is read: a credential that sees more
// must name its organization anyway.
func pickOrg(b *extract.Body, configured string) (string, error) {
	var resp struct {
		Results []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"results"`
	}
	if err := extract.DecodeSmall(b, "the organizations are not what the API documents", &resp); err != nil {
		return "", err
	}
	if configured != "" {
		return configured, nil
	}
	if len(resp.Results) != 1 {
		var ids []string
		for _, o := range resp.Results {
			ids = append(ids, fmt.Sprintf("%s (%s)", o.ID, o.Name))
		}
		return "", fmt.Errorf("%s: the credential can see %d organizations: set ATLAS_ORG_ID to the one whose invoices to export (%s)",
			b.Call, len(resp.Results), strings.Join(ids, ", "))
	}
	if id := resp.Results[0].ID; !orgID.MatchString(id) {
		return "", fmt.Errorf("%s: the organization's id %q is not 24 lower-case hex digits", b.Call, id)
	}
	return resp.Results[0].ID, nil
}

// list reads every page of the organization's invoices whose billing
// periods lie in the plan. fromDate keeps invoices starting on or after
// the first planned month; toDate keeps those ending on or before the day
// after the last planned month ends, so that the open month's invoice,
// which ends on the first of the next month, is kept under any reading of
// "on or before". Pages are captured as mongodbatlas/invoices/<n>.json,
// n = 0001, 0002, ...
//
// The list ends at an empty page, or at a page shorter than itemsPerPage
// once totalCount invoices were read: totalCount is documented as an
// estimate, so a full page is always followed.
func list(ctx context.Context, src extract.Source, org string, plan extract.Plan) ([]listed, error) {
	first, last := plan.Periods[0], plan.Periods[len(plan.Periods)-1]
	var all []listed
	for n := 1; ; n++ {
		if n > extract.MaxListPages {
			return nil, fmt.Errorf("%s %s: the invoice list goes on past %d pages: nothing of it is exported", Slug, ListInvoices, extract.MaxListPages)
		}
		q := url.Values{
			"includeCount":       {"true"},
			"itemsPerPage":       {strconv.Itoa(pageSize)},
			"pageNum":            {strconv.Itoa(n)},
			"viewLinkedInvoices": {"true"},
			"fromDate":           {first.Start().Format(time.DateOnly)},
			"toDate":             {last.End().AddDate(0, 0, 1).Format(time.DateOnly)},
		}
		b, err := src.Fetch(ctx, call(org, ListInvoices, extract.Path("invoices")+"?"+q.Encode(), fmt.Sprintf("invoices/%04d.json", n)))
		if err != nil {
			return nil, err
		}
		page := struct {
			Results    []listed `json:"results"`
			TotalCount *int64   `json:"totalCount"` // absent with includeCount=false
		}{}
		// The transform reads no list page: each is closed once read, so a
		// list of any length holds one file open.
		err = extract.DecodeSmall(b, "the invoice list is not what the API documents", &page)
		b.Close()
		if err != nil {
			return nil, err
		}
		for i, l := range page.Results {
			if err := extract.CheckID(Slug, "invoice id", l.ID); err != nil {
				return nil, fmt.Errorf("%s: invoice %d of the page: %w", b.Call, i, err)
			}
			if l.StartDate.IsZero() {
				return nil, fmt.Errorf("%s: invoice %s has no startDate", b.Call, l.ID)
			}
		}
		all = append(all, page.Results...)
		if len(all) > extract.MaxListed {
			return nil, fmt.Errorf("%s: the invoice list names more than %d invoices: nothing of it is exported", b.Call, extract.MaxListed)
		}
		short := len(page.Results) < pageSize
		counted := page.TotalCount == nil || int64(len(all)) >= *page.TotalCount
		if len(page.Results) == 0 || (short && counted) {
			return all, nil
		}
	}
}

func call(org, endpoint, rest, capture string) extract.Call {
	return extract.Call{
		Provider: Slug,
		Endpoint: endpoint,
		Method:   "GET",
		Path:     extract.Path("api", "atlas", "v2", "orgs", org) + rest,
		Capture:  Slug + "/" + capture,
	}
}
