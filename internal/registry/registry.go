// Package registry is the list of providers: each describes itself once
// (Provider), and everything else (the provider list and --providers,
// settings and their checks, the Lambda's key variables, the summary's
// order, the docs tables, the template's parameters) derives from these
// descriptions. docs/architecture.md says how to add one.
package registry

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/transform"
)

// Provider is everything the pipeline knows about one provider.
type Provider struct {
	// Slug names the provider in partition paths (provider=<slug>), in
	// --providers, in events and in x_Provider.
	Slug string
	// Name is how people know it ("CockroachDB Cloud").
	Name string
	// EnvPrefix starts its variables: <EnvPrefix>_<setting>.
	EnvPrefix string
	// TemplateName starts its CloudFormation parameters: <TemplateName>
	// followed by a setting's name in CamelCase (WarpStreamApiUrl), and
	// for a secret setting <...>SecretArn and <...>Parameter.
	TemplateName string
	// Settings are its configuration: keys, base URL (API_URL), the rest.
	Settings []extract.Setting
	// Authorize wraps the transport of its requests with what its API
	// needs: credentials (a key header, an OAuth2 token source, HTTP
	// Digest) and fixed headers (an API version).
	Authorize func(c extract.Config, next http.RoundTripper) http.RoundTripper
	// Jobs makes the listing calls it needs and returns one job per period
	// with the calls still to make; each call names its capture file (the
	// capture layout). A dry run is Jobs against a Source that records.
	Jobs func(ctx context.Context, c extract.Config, src extract.Source, plan extract.Plan) ([]extract.Job, error)
	// Transform turns one job's bodies into lines and invoice rows.
	Transform transform.Func
	// ServiceCategory is the FOCUS ServiceCategory of its services.
	ServiceCategory string
	// Permissions says what its credential must be allowed (a role, a
	// kind of key), for the README's table of providers.
	Permissions string
	// RequestsPerSecond paces its calls when VENDOR_REQUESTS_PER_SECOND is
	// unset; 0: the HTTP source's default (10).
	RequestsPerSecond float64
	// Columns is the file, from the repository's root, that says where
	// each of its charge_lines columns comes from: a markdown table that
	// internal/docgen renders into docs/schema.md. A path, not the text,
	// so that the Lambda links no documentation.
	Columns string
}

var (
	mu        sync.RWMutex
	providers []Provider
)

// Register adds providers, in the order runs report them. A slug given
// twice, or a description that lacks a part, is a programming error.
func Register(ps ...Provider) {
	mu.Lock()
	defer mu.Unlock()
	for _, p := range ps {
		switch {
		case p.Slug == "" || p.Name == "" || p.EnvPrefix == "" || p.TemplateName == "" || p.ServiceCategory == "" || p.Columns == "" || p.Permissions == "":
			panic(fmt.Sprintf("registry: provider %q lacks a name", p.Slug))
		case p.Authorize == nil || p.Jobs == nil || p.Transform == nil:
			panic(fmt.Sprintf("registry: provider %q lacks Authorize, Jobs or Transform", p.Slug))
		case slices.ContainsFunc(providers, func(q Provider) bool { return q.Slug == p.Slug }):
			panic(fmt.Sprintf("registry: provider %q registered twice", p.Slug))
		}
		providers = append(providers, p)
	}
}

// Unregister removes a provider (tests register throwaway ones).
func Unregister(slug string) {
	mu.Lock()
	defer mu.Unlock()
	providers = slices.DeleteFunc(providers, func(p Provider) bool { return p.Slug == slug })
}

// All returns the providers, in the order runs report them.
func All() []Provider {
	mu.RLock()
	defer mu.RUnlock()
	return slices.Clone(providers)
}

// Slugs returns every provider's slug, in order.
func Slugs() []string {
	var out []string
	for _, p := range All() {
		out = append(out, p.Slug)
	}
	return out
}

// Get returns the provider of slug.
func Get(slug string) (Provider, error) {
	for _, p := range All() {
		if p.Slug == slug {
			return p, nil
		}
	}
	return Provider{}, fmt.Errorf("unknown provider %q (known: %s)", billing.Excerpt([]byte(slug), nil), strings.Join(Slugs(), ", "))
}

// Compare orders slugs as runs report them: registration order, unknown
// ones last.
func Compare(a, b string) int {
	slugs := Slugs()
	rank := func(s string) int {
		if i := slices.Index(slugs, s); i >= 0 {
			return i
		}
		return len(slugs)
	}
	return rank(a) - rank(b)
}

// ReadConfig reads the provider's settings through getenv and checks them.
func (p Provider) ReadConfig(getenv func(string) string) (extract.Config, error) {
	return extract.ReadConfig(p.Slug, p.EnvPrefix, p.Settings, getenv)
}

// Endpoint is where c's requests go and how they are authorized.
func (p Provider) Endpoint(c extract.Config) extract.Endpoint {
	var help []string
	for _, s := range p.Settings {
		if s.Rejected != "" {
			help = append(help, s.Rejected)
		}
	}
	return extract.Endpoint{
		URL:       c.Value("API_URL"),
		Authorize: func(next http.RoundTripper) http.RoundTripper { return p.Authorize(c, next) },
		Secrets:   c.Secrets(),
		KeyVar:    strings.Join(c.CredentialVars(), " and "),
		KeyHelp:   strings.Join(help, "; "),
		URLVar:    c.Var("API_URL"),
		Missing:   c.Missing(),

		RequestsPerSecond: p.RequestsPerSecond,
	}
}

// SecretVars are the variables of its secret settings (<PREFIX>_API_KEY):
// in Lambda, each may come from <VAR>_SECRET_ARN or <VAR>_PARAMETER.
func (p Provider) SecretVars() []string {
	var out []string
	for _, s := range p.Settings {
		if s.Secret {
			out = append(out, p.EnvPrefix+"_"+s.Name)
		}
	}
	return out
}
