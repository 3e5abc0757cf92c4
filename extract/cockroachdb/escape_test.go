package cockroachdb

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

// Ids a vendor may send that mean something in a URL.
var awkwardIDs = []string{"inv%2Fx", "inv-1?x=1#frag", "a b", "inv;v=2", "ü"}

// Every invoice id reaches the vendor as one path segment, as listed: the
// request URI the server sees escapes it, and no query parameter arrives
// with the request that carries the key.
func TestInvoiceIDsAreEscapedInURLs(t *testing.T) {
	const key = "CCDB1_escape_test_key_0123456789"
	var list struct {
		Invoices []map[string]string `json:"invoices"`
	}
	for _, id := range awkwardIDs {
		list.Invoices = append(list.Invoices, map[string]string{"invoice_id": id, "period_start": "2026-10-01T00:00:00Z"})
	}
	listBody, _ := json.Marshal(list)
	var mu sync.Mutex
	seen := map[string]string{} // request URI -> the decoded id
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+key {
			http.Error(w, "no key", http.StatusUnauthorized)
			return
		}
		switch {
		case r.URL.Path == "/api/v1/organization":
			w.Write([]byte(`{"id": "org-1"}`))
		case r.URL.Path == "/api/v1/invoices":
			w.Write(listBody)
		case strings.HasPrefix(r.URL.Path, "/api/v1/invoices/"):
			mu.Lock()
			seen[r.RequestURI] = strings.TrimPrefix(r.URL.Path, "/api/v1/invoices/")
			mu.Unlock()
			if r.URL.RawQuery != "" || len(r.URL.Query()) > 0 {
				t.Errorf("%s: query parameters %v arrived with the key", r.RequestURI, r.URL.Query())
			}
			w.Write([]byte(`{}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	cfg, err := extract.ReadConfig(Slug, "COCKROACH", Settings, func(k string) string {
		return map[string]string{"COCKROACH_API_KEY": key, "COCKROACH_API_URL": srv.URL}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
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
	if len(jobs) != 1 || len(jobs[0].Calls) != len(awkwardIDs) {
		t.Fatalf("jobs %+v: want one call per id", jobs)
	}
	for _, c := range jobs[0].Calls {
		b, err := src.Fetch(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
	for _, id := range awkwardIDs {
		uri := "/api/v1/invoices/" + url.PathEscape(id)
		if got, ok := seen[uri]; !ok || got != id {
			t.Errorf("id %q: no request for %s (the server saw %q)", id, uri, seen)
		}
	}
	if len(seen) != len(awkwardIDs) {
		t.Errorf("requests %q, want one per id", seen)
	}
}
