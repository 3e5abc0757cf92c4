package spectrocloud

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/testkit"
)

// The tenant and every invoice uid reach the vendor as one path segment
// each, as sent: the request URI the server sees escapes them, and no query
// parameter arrives with the request that carries the key (the list's own
// continue token aside).
func TestUIDsAreEscapedInURLs(t *testing.T) {
	const key = "SPECTRO-ESCAPE-TEST-KEY-0123456789"
	const tenant = "t%2F1?x=1"
	uids := []string{"inv%2Fx", "inv-1?x=1#frag", "a b", "ü"}
	var page struct {
		Invoices []json.RawMessage `json:"invoices"`
	}
	for _, uid := range uids {
		q, _ := json.Marshal(uid)
		page.Invoices = append(page.Invoices, json.RawMessage(`{"metadata": {"uid": `+string(q)+`}, "spec": {"billingPeriod": {"start": "2026-10-01T00:00:00Z"}}}`))
	}
	pageBody, _ := json.Marshal(page)
	listURI := "/v1/tenants/" + url.PathEscape(tenant) + "/invoices"
	var mu sync.Mutex
	seen := map[string]string{} // request URI -> the decoded uid
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("ApiKey") != key {
			http.Error(w, "no key", http.StatusUnauthorized)
			return
		}
		if r.URL.RawQuery != "" {
			t.Errorf("%s: query parameters %v arrived with the key", r.RequestURI, r.URL.Query())
		}
		switch {
		case r.URL.Path == "/v1/users/info":
			json.NewEncoder(w).Encode(map[string]string{"tenantUid": tenant})
		case r.RequestURI == listURI:
			w.Write(pageBody)
		case strings.HasPrefix(r.RequestURI, listURI+"/"):
			mu.Lock()
			seen[r.RequestURI] = strings.TrimPrefix(r.URL.Path, "/v1/tenants/"+tenant+"/invoices/")
			mu.Unlock()
			w.Write([]byte(`{}`))
		default:
			t.Errorf("unexpected request %s", r.RequestURI)
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	cfg := config(t, map[string]string{"SPECTROCLOUD_API_KEY": key, "SPECTROCLOUD_API_URL": srv.URL})
	src := extract.NewHTTP(map[string]extract.Endpoint{Slug: {
		URL:       srv.URL,
		Authorize: func(next http.RoundTripper) http.RoundTripper { return Authorize(cfg, next) },
		Secrets:   cfg.Secrets(),
	}}, extract.HTTPOptions{RequestsPerSecond: 1000})
	ctx := context.Background()
	jobs, err := Jobs(ctx, cfg, src, testkit.Plan("2026-11-03", "2026-10"))
	if err != nil {
		t.Fatal(err)
	}
	defer testkit.CloseJobs(jobs)
	if len(jobs) != 1 || len(jobs[0].Calls) != len(uids) {
		t.Fatalf("jobs %+v: want one call per uid", jobs)
	}
	for _, c := range jobs[0].Calls {
		b, err := src.Fetch(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
	for _, uid := range uids {
		uri := listURI + "/" + url.PathEscape(uid)
		if got, ok := seen[uri]; !ok || got != uid {
			t.Errorf("uid %q: no request for %s (the server saw %q)", uid, uri, seen)
		}
	}
	if len(seen) != len(uids) {
		t.Errorf("requests %q, want one per uid", seen)
	}
}
