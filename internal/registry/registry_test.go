package registry

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/transform"
)

func fake(slug string) Provider {
	return Provider{
		Slug: slug, Name: strings.ToUpper(slug), EnvPrefix: strings.ToUpper(slug), TemplateName: slug, ServiceCategory: "Other", Columns: slug + ".md", Permissions: "any key",
		Settings: []extract.Setting{extract.APIKey, extract.BaseURL("https://" + slug + ".example"), {Name: "CLIENT_SECRET", Secret: true, Rejected: "create a client of kind X"}},
		Authorize: func(c extract.Config, next http.RoundTripper) http.RoundTripper {
			return extract.WithHeaders(next, map[string]string{"K": c.Secret("API_KEY").Reveal()})
		},
		Jobs: func(context.Context, extract.Config, extract.Source, extract.Plan) ([]extract.Job, error) {
			return nil, nil
		},
		Transform: func(transform.Input, *transform.Tally) (*transform.Result, error) {
			return &transform.Result{}, nil
		},
	}
}

// Registration order is the report's order; a slug twice, or a
// description without a part, is refused at once.
func TestRegister(t *testing.T) {
	Register(fake("zz"), fake("aa"))
	t.Cleanup(func() { Unregister("zz"); Unregister("aa") })
	if got := Slugs(); !slices.Equal(got[len(got)-2:], []string{"zz", "aa"}) {
		t.Errorf("slugs %v", got)
	}
	if Compare("zz", "aa") >= 0 || Compare("aa", "unknown") >= 0 {
		t.Error("Compare does not follow registration order, unknown last")
	}
	if _, err := Get("nope"); err == nil || !strings.Contains(err.Error(), `unknown provider "nope" (known: `) {
		t.Errorf("Get: %v", err)
	}
	for name, p := range map[string]Provider{"twice": fake("zz"), "no transform": func() Provider { p := fake("bb"); p.Transform = nil; return p }(),
		"no columns":     func() Provider { p := fake("cc"); p.Columns = ""; return p }(),
		"no permissions": func() Provider { p := fake("dd"); p.Permissions = ""; return p }()} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: registered", name)
				}
			}()
			Register(p)
		}()
	}
}

// A provider's endpoint is its settings: URL, every secret to scrub, the
// variables its messages name, what is missing.
func TestEndpoint(t *testing.T) {
	p := fake("acme")
	c, err := p.ReadConfig(func(k string) string {
		return map[string]string{"ACME_CLIENT_SECRET": "s3cr3t-value", "ACME_API_URL": "https://proxy.example/acme/"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	ep := p.Endpoint(c)
	if ep.URL != "https://proxy.example/acme" || ep.URLVar != "ACME_API_URL" || ep.KeyVar != "ACME_API_KEY and ACME_CLIENT_SECRET" ||
		!slices.Equal(ep.Missing, []string{"ACME_API_KEY"}) || len(ep.Secrets) != 1 || ep.Secrets[0].Reveal() != "s3cr3t-value" {
		t.Errorf("endpoint %+v", ep)
	}
	if ep.KeyHelp != "create a client of kind X" {
		t.Errorf("what a rejected key needs: %q", ep.KeyHelp)
	}
	if got := p.SecretVars(); !slices.Equal(got, []string{"ACME_API_KEY", "ACME_CLIENT_SECRET"}) {
		t.Errorf("secret variables %v", got)
	}
}

// A provider that takes one of two credentials: its refusals name the
// one configured, its calls are paced at its own rate.
func TestEndpointOfAlternativeCredentials(t *testing.T) {
	p := fake("acme")
	p.Settings = []extract.Setting{
		{Name: "CLIENT_ID", Required: true, Credential: "a service account"},
		{Name: "CLIENT_SECRET", Secret: true, Required: true, Credential: "a service account"},
		{Name: "PUBLIC_KEY", Required: true, Credential: "an API key"},
		{Name: "PRIVATE_KEY", Secret: true, Required: true, Credential: "an API key"},
		extract.BaseURL("https://acme.example"),
	}
	p.RequestsPerSecond = 2
	c, err := p.ReadConfig(func(k string) string {
		return map[string]string{"ACME_PUBLIC_KEY": "pub", "ACME_PRIVATE_KEY": "priv-0123456789"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	ep := p.Endpoint(c)
	if ep.KeyVar != "ACME_PUBLIC_KEY and ACME_PRIVATE_KEY" || len(ep.Missing) != 0 || ep.RequestsPerSecond != 2 || len(ep.Secrets) != 1 {
		t.Errorf("endpoint %+v", ep)
	}
	if got := p.SecretVars(); !slices.Equal(got, []string{"ACME_CLIENT_SECRET", "ACME_PRIVATE_KEY"}) {
		t.Errorf("secret variables %v", got)
	}
}
