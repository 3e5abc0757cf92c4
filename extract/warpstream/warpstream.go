// Package warpstream is WarpStream's billing API: one invoice call per
// period (the pending invoice for the open month, get_past_invoice for a
// closed one) and one call for the daily breakdowns. WarpStream has no
// list endpoint and no invoice id (docs/vendors.md).
package warpstream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
)

// Slug names WarpStream in partition paths, --providers and x_Provider.
const Slug = "warpstream"

// The calls, by the names the API gives them.
const (
	PendingInvoice = "get_pending_invoice"
	PastInvoice    = "get_past_invoice"
	Breakdowns     = "get_invoice_breakdowns"
)

// Settings are WarpStream's configuration (WARPSTREAM_*).
var Settings = []extract.Setting{
	apiKey(),
	apiURL(),
	{Name: "HTTP_METHOD", Default: "POST", Check: checkMethod,
		Doc: "the HTTP method of every call: POST, as WarpStream's API reference says for every request; GET sends the same JSON body"},
	{Name: "ACCOUNT_ID", Default: "default", Doc: "names the billing account (BillingAccountId): WarpStream's responses name none"},
}

// apiVersion starts the path of every call.
const apiVersion = "/api/v1"

// apiKey is WARPSTREAM_API_KEY. Billing is account-wide (its invoices
// group every workspace's clusters) while an application key belongs to
// one workspace, so the calls need an account key; on an account without
// the Workspaces feature an application key reaches everything
// (docs/vendors.md, "Key kind").
func apiKey() extract.Setting {
	s := extract.APIKey
	s.Doc = "the API key: an account key (the console's Workspaces management view), or an application key on an account without Workspaces"
	s.Rejected = "WarpStream's billing calls need an account key: create one in the console's Workspaces management view, " +
		"which admins of every workspace see; on an account without Workspaces an application key works too. Check that the key is one of these and belongs to this account"
	return s
}

// apiURL is WARPSTREAM_API_URL, with or without the /api/v1 that
// WarpStream's Terraform provider puts in a variable of the same name, so
// that one value serves both tools.
func apiURL() extract.Setting {
	s := extract.BaseURL("https://api.warpstream.com")
	check := s.Check
	s.Check = func(name, v string) (string, error) {
		v, err := check(name, v) // trailing slashes dropped
		return strings.TrimSuffix(v, apiVersion), err
	}
	s.Doc = "the API's base URL; /api/v1 at its end is optional (WarpStream's Terraform provider reads a variable of the same name with it)"
	return s
}

// checkMethod takes GET and POST in any case.
func checkMethod(name, v string) (string, error) {
	if m := strings.ToUpper(v); m == "GET" || m == "POST" {
		return m, nil
	}
	return "", fmt.Errorf("%s=%q: use GET or POST (default POST)", name, v)
}

// Authorize sends the key in the warpstream-api-key header.
func Authorize(c extract.Config, next http.RoundTripper) http.RoundTripper {
	return extract.WithHeaders(next, map[string]string{"warpstream-api-key": c.Secret("API_KEY").Reveal()})
}

// Jobs makes no listing call: each period is its invoice and its breakdowns.
func Jobs(ctx context.Context, c extract.Config, src extract.Source, plan extract.Plan) ([]extract.Job, error) {
	open := billing.PeriodOf(plan.AsOf)
	var jobs []extract.Job
	for _, p := range plan.Periods {
		if open.Before(p) {
			continue // nothing is billed in the future
		}
		var invoice extract.Call
		if p == open {
			invoice = call(c, PendingInvoice, nil, "pending_invoice.json")
		} else {
			// Any date inside a cycle returns that cycle's invoice.
			invoice = call(c, PastInvoice, map[string]string{
				"date_start": p.Start().Format("2006-01-02"),
			}, "past_invoice/"+p.String()+".json")
		}
		// date_end's inclusivity is undocumented: asking up to the first day
		// of the next month and keeping only this month's days is right
		// either way (the transform drops days outside the period).
		breakdowns := call(c, Breakdowns, map[string]string{
			"date_start": p.Start().Format("2006-01-02"),
			"date_end":   p.End().Format("2006-01-02"),
		}, "invoice_breakdowns/"+p.String()+".json")
		jobs = append(jobs, extract.Job{
			Provider: Slug,
			Period:   p,
			Account:  c.Value("ACCOUNT_ID"),
			Calls:    []extract.Call{invoice, breakdowns},
		})
	}
	return jobs, nil
}

// call builds a request the way WarpStream's API reference and its own
// Terraform provider do: POST (by default) with a JSON body.
func call(c extract.Config, endpoint string, body map[string]string, capture string) extract.Call {
	if body == nil {
		body = map[string]string{}
	}
	b, _ := json.Marshal(body)
	return extract.Call{
		Provider: Slug,
		Endpoint: endpoint,
		Method:   c.Value("HTTP_METHOD"),
		Path:     apiVersion + "/billing/invoices/" + endpoint,
		Body:     b,
		Capture:  Slug + "/" + capture,
	}
}
