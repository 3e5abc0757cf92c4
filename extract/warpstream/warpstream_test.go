package warpstream

import (
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/testkit"
)

// The key goes in the warpstream-api-key header, on a copy of the request.
func TestAuthorize(t *testing.T) {
	sent, caller := testkit.Headers(t, Slug, "WARPSTREAM", Settings, Authorize, map[string]string{"WARPSTREAM_API_KEY": "aks_k"})
	if sent.Get("warpstream-api-key") != "aks_k" || sent.Get("Accept") != "application/json" || caller.Get("warpstream-api-key") != "" {
		t.Errorf("sent %v, caller's request %v", sent, caller)
	}
}

// WARPSTREAM_API_URL is read with or without /api/v1 (the form WarpStream's
// Terraform provider reads from the same variable) and a trailing slash;
// a proxy's own path prefix is kept.
func TestAPIURLForms(t *testing.T) {
	for value, want := range map[string]string{
		"":                            "https://api.warpstream.com",
		"https://api.warpstream.com":  "https://api.warpstream.com",
		"https://api.warpstream.com/": "https://api.warpstream.com",
		"https://api.prod.us-east-1.warpstream.com/api/v1":  "https://api.prod.us-east-1.warpstream.com",
		"https://api.prod.us-east-1.warpstream.com/api/v1/": "https://api.prod.us-east-1.warpstream.com",
		"https://proxy.example/warpstream":                  "https://proxy.example/warpstream",
		"https://proxy.example/warpstream/api/v1/":          "https://proxy.example/warpstream",
	} {
		c, err := extract.ReadConfig(Slug, "WARPSTREAM", Settings, func(k string) string {
			return map[string]string{"WARPSTREAM_API_URL": value}[k]
		})
		if err != nil || c.Value("API_URL") != want {
			t.Errorf("WARPSTREAM_API_URL=%q: %q, %v; want %q", value, c.Value("API_URL"), err, want)
		}
		if got := call(c, PastInvoice, nil, "x.json").RequestPath(c.Value("API_URL")); !strings.HasSuffix(got, "/api/v1/billing/invoices/get_past_invoice") || strings.Count(got, "/api/v1") != 1 {
			t.Errorf("WARPSTREAM_API_URL=%q: requests go to %s", value, got)
		}
	}
	if _, err := extract.ReadConfig(Slug, "WARPSTREAM", Settings, func(k string) string {
		return map[string]string{"WARPSTREAM_API_URL": "api.warpstream.com/api/v1"}[k]
	}); err == nil || !strings.Contains(err.Error(), "WARPSTREAM_API_URL") {
		t.Errorf("a URL without scheme: %v", err)
	}
}
