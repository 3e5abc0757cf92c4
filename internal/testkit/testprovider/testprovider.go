// Package testprovider is a throwaway provider, Acme Cloud, that tests
// register to prove that a provider is its own files: a description, its
// calls, its transform, its provenance (columns.md) and its captures
// (testdata/captures/acme), and nothing else anywhere. It bills one
// invoice a month: {"invoice_id", "total", "lines": [{"sku", "amount"}]}.
package testprovider

import (
	"context"
	"net/http"
	"testing"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/transform"
)

// Slug names Acme Cloud.
const Slug = "acme"

// Captures is its capture folder (relative to this package).
const Captures = "testdata/captures"

// Provider is Acme Cloud's description.
var Provider = registry.Provider{
	Slug:         Slug,
	Name:         "Acme Cloud",
	EnvPrefix:    "ACME",
	TemplateName: "Acme",
	Settings:     []extract.Setting{extract.APIKey, extract.BaseURL("https://api.acme.example")},
	Authorize: func(c extract.Config, next http.RoundTripper) http.RoundTripper {
		return extract.WithHeaders(next, map[string]string{"X-Acme-Key": c.Secret("API_KEY").Reveal()})
	},
	Jobs:            jobs,
	Transform:       transformInvoice,
	ServiceCategory: "Developer Tools",
	Permissions:     "a read-only billing key",
	Columns:         "internal/testkit/testprovider/columns.md",
}

// Register registers Acme Cloud for the test, and removes it when the
// test ends.
func Register(t testing.TB) {
	registry.Register(Provider)
	t.Cleanup(func() { registry.Unregister(Slug) })
}

func jobs(ctx context.Context, c extract.Config, src extract.Source, plan extract.Plan) ([]extract.Job, error) {
	var out []extract.Job
	for _, p := range plan.Periods {
		out = append(out, extract.Job{Provider: Slug, Period: p, Account: "acme-account", Calls: []extract.Call{{
			Provider: Slug, Endpoint: "GetInvoice", Method: "GET", Path: "/v1/invoices/" + p.String(), Capture: Slug + "/invoice/" + p.String() + ".json",
		}}})
	}
	return out, nil
}

func transformInvoice(in transform.Input, t *transform.Tally) (*transform.Result, error) {
	b, err := in.Body("GetInvoice")
	if err != nil {
		return nil, err
	}
	p := in.Job.Period
	base := transform.Line{
		BillingAccountID: in.Job.Account, BillingCurrency: "USD", BillingPeriodStart: p.Start(), BillingPeriodEnd: p.End(),
		ChargePeriodStart: p.Start(), ChargePeriodEnd: p.End(), ChargeCategory: transform.Usage, ChargeFrequency: transform.UsageBased,
		InvoiceIssuerName: "Acme", ProviderName: "Acme", PublisherName: "Acme", ServiceName: "Acme Cloud",
		ServiceCategory: "Developer Tools", ServiceSubcategory: "Other (Developer Tools)", Provider: Slug, SourceEndpoint: "GetInvoice",
		PricingQuantity: transform.Some(transform.MustDecimal("1")), PricingUnit: "Units",
	}
	r := t.Reader(b)
	inv := transform.Invoice{Provider: Slug, BillingAccountID: in.Job.Account, BillingPeriodStart: p.Start(), BillingPeriodEnd: p.End(),
		Status: "final", Final: true, Currency: "USD", SourceEndpoint: "GetInvoice"}
	err = r.Document(func(name []byte) (err error) {
		switch string(name) {
		case "invoice_id":
			inv.InvoiceID, err = r.Str()
			base.InvoiceID = inv.InvoiceID
		case "total":
			var n transform.NullDecimal
			n, err = r.Number(false)
			inv.VendorTotal = n.Decimal
		case "lines":
			ids := transform.ChargeIDs{}
			err = r.Array(func() error {
				l := base
				err := r.Object(func(name []byte) (err error) {
					switch string(name) {
					case "sku":
						l.SkuID, err = r.Str()
						l.ChargeDescription = l.SkuID
					case "amount":
						var n transform.NullDecimal
						n, err = r.Number(false)
						l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost = n.Decimal, n.Decimal, n.Decimal, n.Decimal
					default:
						err = r.Skip()
					}
					return err
				})
				if err == nil {
					l.ChargeID = ids.Next(p.String() + "/" + l.SkuID)
					err = t.Write(&l)
				}
				return err
			})
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := t.Reconcile(&inv, transform.Decimal{}, "", nil); err != nil {
		return nil, err
	}
	return &transform.Result{Invoices: []transform.Invoice{inv}}, nil
}
