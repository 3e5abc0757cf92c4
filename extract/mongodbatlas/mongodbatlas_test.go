package mongodbatlas

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/testkit"
)

const (
	org     = "65a1b2c3d4e5f60718293a4b"
	pOct    = "6720a1b2c3d4e5f607182930"
	secret  = "atlas-secret-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	private = "1c2b3a49-5867-4f3e-9d2c-1b0a99887766"
)

var sample = filepath.Join("..", "..", "testdata", "captures")

func config(t *testing.T, env map[string]string) extract.Config {
	t.Helper()
	c, err := extract.ReadConfig(Slug, "ATLAS", Settings, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func setPageSize(t *testing.T, n int) {
	old := pageSize
	pageSize = n
	t.Cleanup(func() { pageSize = old })
}

func captures(bodies []*extract.Body) (out []string) {
	for _, b := range bodies {
		out = append(out, b.Call.Capture)
	}
	return out
}

// The sample: two list pages, the pending call for the open month, and
// October read by id; no ATLAS_ORG_ID: the only organization the
// credential sees.
func TestJobsFromTheSample(t *testing.T) {
	jobs, err := Jobs(context.Background(), config(t, nil), extract.Dir(sample), testkit.Plan("2026-11-03", "2026-10", "2026-11"))
	if err != nil {
		t.Fatal(err)
	}
	defer testkit.CloseJobs(jobs)
	if len(jobs) != 2 {
		t.Fatalf("%d jobs", len(jobs))
	}
	oct, nov := jobs[0], jobs[1]
	if got := captures(oct.Shared); !slices.Equal(got, []string{"mongodbatlas/orgs.json"}) {
		t.Errorf("October's shared bodies: %q", got)
	}
	if len(oct.Calls) != 1 || oct.Calls[0].Path != "/api/atlas/v2/orgs/"+org+"/invoices/"+pOct ||
		oct.Calls[0].Capture != "mongodbatlas/invoice/"+pOct+".json" || oct.Calls[0].Endpoint != GetInvoice || oct.Account != org {
		t.Errorf("October's calls: %+v", oct.Calls)
	}
	if got := captures(nov.Shared); len(got) != 2 || got[1] != "mongodbatlas/pending_invoices.json" || len(nov.Calls) != 0 || nov.Account != org {
		t.Errorf("November: shared %q, calls %+v", got, nov.Calls)
	}
}

func writePages(t *testing.T, pages ...string) string {
	dir := t.TempDir()
	for i, p := range pages {
		name := filepath.Join(dir, Slug, "invoices", fmt.Sprintf("%04d.json", i+1))
		os.MkdirAll(filepath.Dir(name), 0o755)
		if err := os.WriteFile(name, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The list goes on while pages are full (totalCount is only an estimate)
// and stops at an empty page, or at a short page once totalCount is met.
func TestListPagination(t *testing.T) {
	setPageSize(t, 2)
	inv := func(id string) string {
		return `{"id":"` + id + `","startDate":"2026-10-01T00:00:00Z","statusName":"PAID"}`
	}
	page := func(count string, invs ...string) string {
		return `{"results":[` + strings.Join(invs, ",") + `]` + count + `}`
	}
	a, b, c, d := "6720a1b2c3d4e5f6071829a1", "6720a1b2c3d4e5f6071829a2", "6720a1b2c3d4e5f6071829a3", "6720a1b2c3d4e5f6071829a4"
	for _, tc := range []struct {
		name  string
		pages []string
		calls int
	}{
		{"short page, count met", []string{page(`,"totalCount":2`, inv(a), inv(b)), page(`,"totalCount":3`, inv(c))}, 3},
		{"count too low", []string{page(`,"totalCount":1`, inv(a), inv(b)), page(`,"totalCount":1`, inv(c))}, 3},
		{"no count, full page", []string{page(``, inv(a), inv(b)), page(``, inv(c))}, 3},
		{"short page, count not met", []string{page(`,"totalCount":4`, inv(a), inv(b)), page(`,"totalCount":4`, inv(c)), page(`,"totalCount":4`, inv(d))}, 4},
		{"empty page", []string{page(`,"totalCount":9`, inv(a), inv(b)), page(`,"totalCount":9`, inv(c)), page(`,"totalCount":9`)}, 3},
		{"an invoice on two pages", []string{page(`,"totalCount":3`, inv(a), inv(b)), page(`,"totalCount":3`, inv(b))}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jobs, err := Jobs(context.Background(), config(t, map[string]string{"ATLAS_ORG_ID": org}), extract.Dir(writePages(t, tc.pages...)), testkit.Plan("2026-11-03", "2026-10"))
			if err != nil {
				t.Fatal(err)
			}
			defer testkit.CloseJobs(jobs)
			if len(jobs[0].Calls) != tc.calls {
				t.Errorf("%d calls: %+v", len(jobs[0].Calls), jobs[0].Calls)
			}
		})
	}
}

func TestJobsRefuseBadLists(t *testing.T) {
	for _, tc := range []struct{ name, page, msg string }{
		{"unsafe id", `{"results":[{"id":"../x","startDate":"2026-10-01T00:00:00Z"}]}`, "not a safe identifier"},
		{"no start", `{"results":[{"id":"6720a1b2c3d4e5f6071829a1"}]}`, "has no startDate"},
		{"count as text", `{"results":[],"totalCount":"2"}`, "bad data at byte 27, /totalCount: the invoice list is not what the API documents"},
		{"fractional count", `{"results":[],"totalCount":2.5}`, "/totalCount: the invoice list is not what the API documents"},
		{"truncated", `{"results":[{"id":"6720a1b2c3d4e5f6071829a1",`, "the body ends in the middle of a value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Jobs(context.Background(), config(t, map[string]string{"ATLAS_ORG_ID": org}), extract.Dir(writePages(t, tc.page)), testkit.Plan("2026-11-03", "2026-10"))
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// Without ATLAS_ORG_ID, a credential that sees several organizations must
// name one; a configured one is used without a capture of listOrgs.
func TestOrganization(t *testing.T) {
	dir := writePages(t, `{"results":[]}`)
	os.WriteFile(filepath.Join(dir, Slug, "orgs.json"), []byte(`{"results":[{"id":"65a1b2c3d4e5f60718293a4b","name":"Acme"},{"id":"65a1b2c3d4e5f60718293c5d","name":"Acme Labs"}]}`), 0o644)
	plan := testkit.Plan("2026-11-03", "2026-10")
	_, err := Jobs(context.Background(), config(t, nil), extract.Dir(dir), plan)
	if err == nil || !strings.Contains(err.Error(), "the credential can see 2 organizations: set ATLAS_ORG_ID to the one whose invoices to export (65a1b2c3d4e5f60718293a4b (Acme), 65a1b2c3d4e5f60718293c5d (Acme Labs))") {
		t.Fatalf("err = %v", err)
	}
	labs := map[string]string{"ATLAS_ORG_ID": "65a1b2c3d4e5f60718293c5d"}
	jobs, err := Jobs(context.Background(), config(t, labs), extract.Dir(dir), plan)
	if err != nil || jobs[0].Account != "65a1b2c3d4e5f60718293c5d" || len(jobs[0].Shared) != 1 {
		t.Fatalf("jobs %+v, err %v", jobs, err)
	}
	testkit.CloseJobs(jobs)
	os.Remove(filepath.Join(dir, Slug, "orgs.json"))
	jobs, err = Jobs(context.Background(), config(t, labs), extract.Dir(dir), plan)
	if err != nil || len(jobs[0].Shared) != 0 || jobs[0].Calls != nil {
		t.Fatalf("jobs %+v, err %v", jobs, err)
	}
	testkit.CloseJobs(jobs)
	if _, err := Jobs(context.Background(), config(t, nil), extract.Dir(dir), plan); !errors.Is(err, extract.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}

// One credential, whole; the organization id as the API writes it.
func TestSettings(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, ""}, // not configured: skipped, not an error
		{map[string]string{"ATLAS_CLIENT_ID": "id", "ATLAS_CLIENT_SECRET": secret}, ""},
		{map[string]string{"ATLAS_PUBLIC_KEY": "pub", "ATLAS_PRIVATE_KEY": private, "ATLAS_ORG_ID": org}, ""},
		{map[string]string{"ATLAS_CLIENT_ID": "id"}, "ATLAS_CLIENT_SECRET is not set: a service account needs ATLAS_CLIENT_ID and ATLAS_CLIENT_SECRET"},
		{map[string]string{"ATLAS_PRIVATE_KEY": private}, "ATLAS_PUBLIC_KEY is not set: an API key needs ATLAS_PUBLIC_KEY and ATLAS_PRIVATE_KEY"},
		{map[string]string{"ATLAS_CLIENT_ID": "id", "ATLAS_CLIENT_SECRET": secret, "ATLAS_PUBLIC_KEY": "pub", "ATLAS_PRIVATE_KEY": private},
			"a service account (ATLAS_CLIENT_ID and ATLAS_CLIENT_SECRET) and an API key (ATLAS_PUBLIC_KEY and ATLAS_PRIVATE_KEY) are set: set one of them"},
		{map[string]string{"ATLAS_ORG_ID": "Acme", "ATLAS_CLIENT_ID": "id", "ATLAS_CLIENT_SECRET": secret}, `ATLAS_ORG_ID="Acme" is not an organization id`},
		{map[string]string{"ATLAS_API_URL": "cloud.mongodb.com"}, `ATLAS_API_URL="cloud.mongodb.com" is not an absolute http(s) URL`},
	} {
		c, err := extract.ReadConfig(Slug, "ATLAS", Settings, func(k string) string { return tc.env[k] })
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: err = %v, want %q", tc.env, err, tc.want)
		case err != nil && (strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), private)):
			t.Errorf("a secret in %v", err)
		}
		if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, secret) || strings.Contains(s, private) {
			t.Errorf("a secret prints: %s", s)
		}
	}
	c := config(t, nil)
	if m := c.Missing(); !slices.Equal(m, []string{"ATLAS_CLIENT_ID and ATLAS_CLIENT_SECRET, or ATLAS_PUBLIC_KEY and ATLAS_PRIVATE_KEY"}) || c.Value("API_URL") != "https://cloud.mongodb.com" {
		t.Errorf("missing %q, URL %q", m, c.Value("API_URL"))
	}
}

// An invoice id is one escaped path segment: an id holding '?' or '#'
// never sends a query parameter (or the rest of the path) elsewhere.
func TestInvoiceIDsAreEscapedInPaths(t *testing.T) {
	dir := writePages(t, `{"results":[{"id":"inv?x=1#frag","startDate":"2026-10-01T00:00:00Z","statusName":"PAID"}]}`)
	os.WriteFile(filepath.Join(dir, Slug, "orgs.json"), []byte(`{"results":[{"id":"`+org+`","name":"Acme"}]}`), 0o644)
	jobs, err := Jobs(context.Background(), config(t, nil), extract.Dir(dir), testkit.Plan("2026-11-03", "2026-10"))
	if err != nil {
		t.Fatal(err)
	}
	defer testkit.CloseJobs(jobs)
	if len(jobs[0].Calls) != 1 || jobs[0].Calls[0].Path != "/api/atlas/v2/orgs/"+org+"/invoices/inv%3Fx=1%23frag" {
		t.Errorf("calls %+v", jobs[0].Calls)
	}
}
