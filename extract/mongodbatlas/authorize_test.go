package mongodbatlas

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/internal/testkit"
)

// source is the HTTP source calling the fake at url with the settings of
// env, as a run builds it from the registry.
func source(t *testing.T, url string, env map[string]string) *extract.HTTP {
	t.Helper()
	env = maps.Clone(env)
	env["ATLAS_API_URL"], env["ATLAS_ORG_ID"] = url, org
	c := config(t, env)
	p := registry.Provider{Slug: Slug, EnvPrefix: "ATLAS", Settings: Settings, Authorize: Authorize, RequestsPerSecond: RequestsPerSecond}
	return extract.NewHTTP(map[string]extract.Endpoint{Slug: p.Endpoint(c)}, extract.HTTPOptions{RequestsPerSecond: 1000, MaxBackoff: 10 * time.Millisecond})
}

// fetchAll runs the jobs of plan against src and returns every body's
// text by capture path.
func fetchAll(t *testing.T, src extract.Source, plan extract.Plan) (map[string]string, error) {
	t.Helper()
	// Every body is read as it arrives: Jobs closes the list pages it has
	// read.
	out := map[string]string{}
	src = extract.Record(src, func(_ context.Context, capture string, r io.Reader) error {
		text, err := io.ReadAll(r)
		out[capture] = string(text)
		return err
	})
	jobs, err := Jobs(context.Background(), config(t, map[string]string{"ATLAS_ORG_ID": org}), src, plan)
	if err != nil {
		return nil, err
	}
	defer testkit.CloseJobs(jobs)
	for _, j := range jobs {
		for _, c := range j.Calls {
			b, err := src.Fetch(context.Background(), c)
			if err != nil {
				return nil, err
			}
			b.Close()
		}
	}
	return out, nil
}

var pendingCall = call(org, PendingInvoices, extract.Path("invoices", "pending"), "pending_invoices.json")

// A service account asks for one token for the whole run; the list is
// followed page by page, narrowed to the planned months; every call asks
// for the versioned media type (the fake answers 406 otherwise).
func TestServiceAccountAndPagination(t *testing.T) {
	setPageSize(t, 1)
	fake := testkit.FakeMongoDBAtlas(t, sample, org, testkit.AtlasCredentials{ClientID: "mdb_sa_id_65a1", ClientSecret: secret})
	got, err := fetchAll(t, source(t, fake.URL, map[string]string{"ATLAS_CLIENT_ID": "mdb_sa_id_65a1", "ATLAS_CLIENT_SECRET": secret}),
		testkit.Plan("2026-11-03", "2026-10", "2026-11"))
	if err != nil {
		t.Fatal(err)
	}
	list := "GET /api/atlas/v2/orgs/" + org + "/invoices?fromDate=2026-10-01&includeCount=true&itemsPerPage=1&pageNum=%d&toDate=2026-12-02&viewLinkedInvoices=true"
	// Every page is full at one invoice a page, so the list ends at the
	// empty third.
	want := []string{
		"GET /api/atlas/v2/orgs?includeCount=true&itemsPerPage=500&pageNum=1",
		fmt.Sprintf(list, 1), fmt.Sprintf(list, 2), fmt.Sprintf(list, 3),
		"GET /api/atlas/v2/orgs/" + org + "/invoices/pending",
		"GET /api/atlas/v2/orgs/" + org + "/invoices/" + pOct,
	}
	if calls := fake.Calls(); !slices.Equal(calls, want) {
		t.Errorf("calls\n got %q\nwant %q", calls, want)
	}
	if tokens, challenges := fake.Counts(); tokens != 1 || challenges != 0 {
		t.Errorf("%d token requests, %d digest challenges; want 1 and 0", tokens, challenges)
	}
	for _, name := range []string{"mongodbatlas/pending_invoices.json", "mongodbatlas/invoice/" + pOct + ".json"} {
		b, _ := os.ReadFile(filepath.Join(sample, name))
		if got[name] != string(b) {
			t.Errorf("%s differs from the capture", name)
		}
	}
	if p := got["mongodbatlas/invoices/0002.json"]; !strings.Contains(p, `"id": "`+pOct+`"`) || strings.Contains(p, "lineItems") {
		t.Errorf("page 2 = %s", p)
	}
}

// A token the API no longer accepts is replaced once; a secret Atlas
// refuses fails at once, naming the variables and never the secret.
func TestTokens(t *testing.T) {
	fake := testkit.FakeMongoDBAtlas(t, sample, org, testkit.AtlasCredentials{ClientID: "mdb_sa_id_65a1", ClientSecret: secret})
	h := source(t, fake.URL, map[string]string{"ATLAS_CLIENT_ID": "mdb_sa_id_65a1", "ATLAS_CLIENT_SECRET": secret})
	for i := range 3 {
		if i == 2 {
			fake.RevokeTokens()
		}
		b, err := h.Fetch(context.Background(), pendingCall)
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
	if tokens, _ := fake.Counts(); tokens != 2 {
		t.Errorf("%d token requests, want 2 (one, then one after the revocation)", tokens)
	}

	bad := source(t, fake.URL, map[string]string{"ATLAS_CLIENT_ID": "mdb_sa_id_65a1", "ATLAS_CLIENT_SECRET": secret + "x"})
	start := time.Now()
	_, err := bad.Fetch(context.Background(), pendingCall)
	if err == nil || !strings.Contains(err.Error(), "HTTP 401 Unauthorized: the token request (POST /api/oauth/token) got HTTP 401: invalid_client Invalid client credentials") ||
		!strings.Contains(err.Error(), "the vendor rejected ATLAS_CLIENT_ID and ATLAS_CLIENT_SECRET") || strings.Contains(err.Error(), secret) {
		t.Fatalf("err = %v", err)
	}
	if tokens, _ := fake.Counts(); tokens != 2 || time.Since(start) > time.Second {
		t.Errorf("a refused secret was retried (%d tokens issued in all, %s)", tokens, time.Since(start))
	}
}

// A token endpoint that answers 429 holds the call for its Retry-After,
// like the API's own 429.
func TestTokenEndpointRateLimit(t *testing.T) {
	fake := testkit.FakeMongoDBAtlas(t, sample, org, testkit.AtlasCredentials{ClientID: "mdb_sa_id_65a1", ClientSecret: secret})
	h := source(t, fake.URL, map[string]string{"ATLAS_CLIENT_ID": "mdb_sa_id_65a1", "ATLAS_CLIENT_SECRET": secret})
	fake.ThrottleTokens(1)
	start := time.Now()
	b, err := h.Fetch(context.Background(), pendingCall)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %s, before the Retry-After of 1s", d)
	}
	if tokens, _ := fake.Counts(); tokens != 1 {
		t.Errorf("%d tokens", tokens)
	}
}

// An API key answers a real digest challenge on every call; a wrong key
// is refused, naming its variables and never the key.
func TestDigest(t *testing.T) {
	fake := testkit.FakeMongoDBAtlas(t, sample, org, testkit.AtlasCredentials{PublicKey: "qwertyui", PrivateKey: private})
	got, err := fetchAll(t, source(t, fake.URL, map[string]string{"ATLAS_PUBLIC_KEY": "qwertyui", "ATLAS_PRIVATE_KEY": private}),
		testkit.Plan("2026-11-03", "2026-10", "2026-11"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 { // organizations, one list page of up to 500, pending, October
		t.Errorf("bodies: %d", len(got))
	}
	if _, challenges := fake.Counts(); challenges != 4 || len(fake.Calls()) != 4 {
		t.Errorf("%d challenges for %d calls", challenges, len(fake.Calls()))
	}

	bad := source(t, fake.URL, map[string]string{"ATLAS_PUBLIC_KEY": "qwertyui", "ATLAS_PRIVATE_KEY": "wrong-" + private})
	_, err = bad.Fetch(context.Background(), pendingCall)
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "the vendor rejected ATLAS_PUBLIC_KEY and ATLAS_PRIVATE_KEY") || strings.Contains(err.Error(), private) {
		t.Fatalf("err = %v", err)
	}
}

// A 429 holds the provider for its Retry-After, then the call goes
// through; with digest, the challenge is asked again.
func TestRateLimit(t *testing.T) {
	fake := testkit.FakeMongoDBAtlas(t, sample, org, testkit.AtlasCredentials{PublicKey: "qwertyui", PrivateKey: private})
	h := source(t, fake.URL, map[string]string{"ATLAS_PUBLIC_KEY": "qwertyui", "ATLAS_PRIVATE_KEY": private})
	fake.Throttle(1)
	start := time.Now()
	b, err := h.Fetch(context.Background(), pendingCall)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %s, before the Retry-After of 1s", d)
	}
	if _, challenges := fake.Counts(); challenges != 2 || len(fake.Calls()) != 1 {
		t.Errorf("%d challenges, calls %q", challenges, fake.Calls())
	}
}

// Authorize leaves the caller's request as it was (a RoundTripper must),
// and sends the versioned media type in its place.
func TestAuthorizeSendsTheVersion(t *testing.T) {
	sent, caller := testkit.Headers(t, Slug, "ATLAS", Settings, Authorize, map[string]string{})
	if sent.Get("Accept") != "application/vnd.atlas.2023-01-01+json" || caller.Get("Accept") != "application/json" || sent.Get("Authorization") != "" {
		t.Errorf("sent %v, caller's request %v", sent, caller)
	}
	var got http.Header
	rt := Authorize(config(t, map[string]string{"ATLAS_PUBLIC_KEY": "p", "ATLAS_PRIVATE_KEY": private}), roundTrip(func(r *http.Request) (*http.Response, error) {
		got = r.Header.Clone()
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
	}))
	req, _ := http.NewRequest("POST", "https://example.invalid/x", strings.NewReader(`{}`))
	if resp, err := rt.RoundTrip(req); err == nil {
		resp.Body.Close()
	}
	if got.Get("Content-Type") != "application/vnd.atlas.2023-01-01+json" {
		t.Errorf("a body is sent as %q", got.Get("Content-Type"))
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// What the token endpoint answers is the call's answer: a refusal of the
// client (400 invalid_client or invalid_grant, 401, 403) fails at once
// naming the credential; a server error is tried again.
func TestTokenRefusals(t *testing.T) {
	for _, c := range []struct {
		code     int
		body     string
		want     string
		attempts int
	}{
		{400, `{"error":"invalid_grant","error_description":"secret expired"}`, "got HTTP 400: invalid_grant secret expired: the vendor rejected ATLAS_CLIENT_ID and ATLAS_CLIENT_SECRET", 1},
		{403, `{"error":"access_denied"}`, "got HTTP 403: access_denied: the vendor rejected ATLAS_CLIENT_ID and ATLAS_CLIENT_SECRET", 1},
		{503, `<html>down</html>`, "gave up after 6 attempts: HTTP 503 Service Unavailable: the token request (POST /api/oauth/token) got HTTP 503: <html>down</html>", 6},
	} {
		t.Run(fmt.Sprint(c.code), func(t *testing.T) {
			var tries atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/oauth/token" {
					t.Errorf("%s %s before a token", r.Method, r.URL)
				}
				tries.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(c.code)
				io.WriteString(w, c.body)
			}))
			defer srv.Close()
			_, err := source(t, srv.URL, map[string]string{"ATLAS_CLIENT_ID": "id", "ATLAS_CLIENT_SECRET": secret}).Fetch(context.Background(), pendingCall)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), secret) {
				t.Errorf("err = %v\nwant %q", err, c.want)
			}
			if n := tries.Load(); n != int32(c.attempts) {
				t.Errorf("%d token requests, want %d", n, c.attempts)
			}
		})
	}
}
