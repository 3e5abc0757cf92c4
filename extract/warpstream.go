package extract

import (
	"context"
	"encoding/json"

	"github.com/invoice-export/invoice-export/internal/billing"
)

// WarpStream: one invoice call per period (the pending invoice for the open
// month, get_past_invoice for a closed one) and one daily-breakdown call.
// WarpStream has no list endpoint and no invoice id (REFERENCE §1).
type warpStream struct{ cfg WarpStreamConfig }

func (warpStream) Provider() string { return WarpStream }

func (w warpStream) Jobs(ctx context.Context, src Source, plan Plan) ([]Job, error) {
	open := billing.PeriodOf(plan.AsOf)
	var jobs []Job
	for _, p := range plan.Periods {
		if open.Before(p) {
			continue // nothing is billed in the future
		}
		var invoice Call
		if p == open {
			invoice = w.call("get_pending_invoice", nil, "pending_invoice.json")
		} else {
			// Any date inside a cycle returns that cycle's invoice.
			invoice = w.call("get_past_invoice", map[string]string{
				"date_start": p.Start().Format("2006-01-02"),
			}, "past_invoice/"+p.String()+".json")
		}
		// date_end's inclusivity is undocumented: asking up to the first day
		// of the next month and keeping only this month's days is right
		// either way (transform drops days outside the period).
		breakdowns := w.call("get_invoice_breakdowns", map[string]string{
			"date_start": p.Start().Format("2006-01-02"),
			"date_end":   p.End().Format("2006-01-02"),
		}, "invoice_breakdowns/"+p.String()+".json")
		jobs = append(jobs, Job{
			Provider: WarpStream,
			Period:   p,
			Account:  w.cfg.AccountID,
			Calls:    []Call{invoice, breakdowns},
		})
	}
	return jobs, nil
}

// call builds a request the way WarpStream's own Terraform provider does: a
// JSON body with every call (POST by default; the docs say GET with a body).
func (w warpStream) call(endpoint string, body map[string]string, capture string) Call {
	if body == nil {
		body = map[string]string{}
	}
	b, _ := json.Marshal(body)
	return Call{
		Provider: WarpStream,
		Endpoint: endpoint,
		Method:   w.cfg.Method,
		Path:     "/api/v1/billing/invoices/" + endpoint,
		Body:     b,
		Capture:  WarpStream + "/" + capture,
	}
}
