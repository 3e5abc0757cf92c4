package invoiceexport_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
)

// One WARPSTREAM_API_URL serves this tool and WarpStream's Terraform
// provider, whose variable of that name ends in /api/v1: with or without
// it, with or without a trailing slash, every call reaches
// /api/v1/billing/invoices/<call> once.
func TestWarpStreamAPIURLForms(t *testing.T) {
	const key = "aks_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
	api := testkit.FakeWarpStream(t, sampleDir, key, "POST")
	want := []string{
		"POST /api/v1/billing/invoices/get_invoice_breakdowns",
		"POST /api/v1/billing/invoices/get_invoice_breakdowns",
		"POST /api/v1/billing/invoices/get_past_invoice",
		"POST /api/v1/billing/invoices/get_pending_invoice",
	}
	for _, suffix := range []string{"", "/", "/api/v1", "/api/v1/"} {
		before := len(api.Calls())
		env := map[string]string{"WARPSTREAM_API_KEY": key, "WARPSTREAM_API_URL": api.URL + suffix}
		res := export(t, run{Env: env, Live: true, Providers: []string{"warpstream"}, Out: t.TempDir()})
		calls := api.Calls()[before:]
		slices.Sort(calls)
		if !res.OK() || !slices.Equal(calls, want) {
			t.Errorf("WARPSTREAM_API_URL=<server>%s: %v\ncalls %v, want %v", suffix, res.Err(), calls, want)
		}
	}
}

// A failed call names the path it was sent to, the base URL's own path
// included, so that a wrong prefix (or a doubled /api/v1) shows.
func TestWarpStreamErrorNamesTheRequestedPath(t *testing.T) {
	const key = "aks_0123456789abcdef"
	api := testkit.FakeWarpStream(t, sampleDir, key, "POST")
	env := map[string]string{"WARPSTREAM_API_KEY": key, "WARPSTREAM_API_URL": api.URL + "/warpstream-proxy"}
	res := export(t, run{Env: env, Live: true, Providers: []string{"warpstream"}, Out: t.TempDir(), From: "2026-10", To: "2026-10"})
	if res.OK() || !strings.Contains(res.Err().Error(), "warpstream get_past_invoice (POST /warpstream-proxy/api/v1/billing/invoices/get_past_invoice): HTTP 404") {
		t.Errorf("error: %v", res.Err())
	}
}

// A key WarpStream rejects (401 or 403) names the kind of key to create:
// the billing calls need an account key.
func TestWarpStreamRejectedKeyNamesItsKind(t *testing.T) {
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":"invalid_api_key"}`, code)
		}))
		t.Cleanup(srv.Close)
		env := map[string]string{"WARPSTREAM_API_KEY": "aks_rejected_key_value", "WARPSTREAM_API_URL": srv.URL}
		res := export(t, run{Env: env, Live: true, Providers: []string{"warpstream"}, Out: t.TempDir(), From: "2026-10", To: "2026-10"})
		msg := ""
		if err := res.Err(); err != nil {
			msg = err.Error()
		}
		if res.OK() || !strings.Contains(msg, http.StatusText(code)) ||
			!strings.Contains(msg, "the vendor rejected WARPSTREAM_API_KEY (WarpStream's billing calls need an account key: create one in the console's Workspaces management view") ||
			!strings.Contains(msg, "on an account without Workspaces an application key works too") || strings.Contains(res.printed(), "aks_rejected_key_value") {
			t.Errorf("HTTP %d: %s", code, res.printed())
		}
	}
}
