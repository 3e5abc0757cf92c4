package spectrocloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/testkit"
)

func spInv(uid, month string) string {
	return `{"metadata": {"uid": "` + uid + `"}, "spec": {"billingPeriod": {"start": "` + month + `-01T00:00:00.000Z", "end": "2099-01-01T00:00:00.000Z"}}, "status": {}}`
}

// Two pages: September on the first, October and November on the second.
func spBodies() map[string]string {
	return map[string]string{
		"spectrocloud/users_info.json": `{"orgName": "Müller AG", "tenantUid": "t-1", "userUid": "u-1"}`,
		"spectrocloud/invoices/0001.json": `{"invoices": [` + spInv("inv-09", "2026-09") + `],
			"listmeta": {"continue": "eyJvZmZzZXQiOjF9+/=", "count": 3, "limit": 1, "offset": 0}}`,
		"spectrocloud/invoices/0002.json": `{"listmeta": {"continue": "", "count": 3, "limit": 2, "offset": 1}, "invoices": [` +
			spInv("inv-10", "2026-10") + `, ` +
			// spec.month stands in for an unset billing period.
			`{"metadata": {"uid": "inv-11"}, "spec": {"billingPeriod": {"start": "0001-01-01T00:00:00Z"}, "month": "2026-11-01T00:00:00.000Z"}}]}`,
		"spectrocloud/invoice/inv-09.json": spInv("inv-09", "2026-09"),
		"spectrocloud/invoice/inv-10.json": spInv("inv-10", "2026-10"),
		"spectrocloud/invoice/inv-11.json": spInv("inv-11", "2026-11"),
	}
}

func config(t *testing.T, env map[string]string) extract.Config {
	c, err := extract.ReadConfig(Slug, "SPECTROCLOUD", Settings, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func jobCalls(j extract.Job) []string {
	var out []string
	for _, c := range j.Calls {
		out = append(out, c.Endpoint+" "+c.Path+" "+c.Capture)
	}
	return out
}

func sharedEndpoints(j extract.Job) []string {
	var out []string
	for _, b := range j.Shared {
		out = append(out, b.Call.Endpoint+" "+b.Call.Capture)
	}
	return out
}

func TestSpectroJobsFollowPagination(t *testing.T) {
	f := &testkit.Bodies{Bodies: spBodies()}
	jobs, err := Jobs(context.Background(), config(t, nil), f, testkit.Plan("2026-11-03", "2026-10", "2026-11"))
	if err != nil {
		t.Fatal(err)
	}
	defer testkit.CloseJobs(jobs)
	want := []string{
		"GET /v1/users/info",
		"GET /v1/tenants/t-1/invoices",
		"GET /v1/tenants/t-1/invoices?continue=eyJvZmZzZXQiOjF9%2B%2F%3D", // the token, escaped
	}
	if got := f.Paths(); !slices.Equal(got, want) {
		t.Errorf("listing calls = %q, want %q", got, want)
	}
	if len(jobs) != 2 {
		t.Fatalf("%d jobs", len(jobs))
	}
	for i, w := range [][]string{
		{"v1InvoicesUidGet /v1/tenants/t-1/invoices/inv-10 spectrocloud/invoice/inv-10.json"},
		{"v1InvoicesUidGet /v1/tenants/t-1/invoices/inv-11 spectrocloud/invoice/inv-11.json"},
	} {
		if got := jobCalls(jobs[i]); !slices.Equal(got, w) || jobs[i].Account != "t-1" {
			t.Errorf("job %s: calls %q account %q, want %q for t-1", jobs[i].Period, got, jobs[i].Account, w)
		}
		// Later pages are closed once read: only the first is kept.
		wantShared := []string{"v1UsersInfoGet spectrocloud/users_info.json", "v1InvoicesList spectrocloud/invoices/0001.json"}
		if got := sharedEndpoints(jobs[i]); !slices.Equal(got, wantShared) {
			t.Errorf("job %s shares %q, want %q", jobs[i].Period, got, wantShared)
		}
	}
}

// SPECTROCLOUD_TENANT_UID skips users/info; a period with no invoice gets
// a job anyway (an empty partition).
func TestSpectroJobsTenantFromConfig(t *testing.T) {
	bodies := spBodies()
	for k, v := range bodies {
		if strings.HasPrefix(k, "spectrocloud/invoices/") {
			bodies[k] = strings.ReplaceAll(v, "t-1", "t-env")
		}
	}
	f := &testkit.Bodies{Bodies: bodies}
	jobs, err := Jobs(context.Background(), config(t, map[string]string{"SPECTROCLOUD_TENANT_UID": "t-env"}), f, testkit.Plan("2026-08-03", "2026-08"))
	if err != nil {
		t.Fatal(err)
	}
	defer testkit.CloseJobs(jobs)
	if got := f.Paths(); len(got) != 2 || got[0] != "GET /v1/tenants/t-env/invoices" {
		t.Errorf("calls = %q, want no users/info", got)
	}
	if len(jobs) != 1 || len(jobs[0].Calls) != 0 || jobs[0].Account != "t-env" {
		t.Errorf("jobs = %+v", jobs)
	}
}

// Where the list route answers 404, the invoices come from
// SPECTROCLOUD_INVOICE_UIDS: fetched while listing, each handed to its
// period's job; those outside the plan are left out.
func TestSpectroJobsFallBackToConfiguredUIDs(t *testing.T) {
	bodies := spBodies()
	delete(bodies, "spectrocloud/invoices/0001.json")
	delete(bodies, "spectrocloud/invoices/0002.json")
	f := &testkit.Bodies{Bodies: bodies}
	env := map[string]string{"SPECTROCLOUD_INVOICE_UIDS": " inv-09, inv-11 ,inv-10,"}
	jobs, err := Jobs(context.Background(), config(t, env), f, testkit.Plan("2026-11-03", "2026-10", "2026-11"))
	if err != nil {
		t.Fatal(err)
	}
	defer testkit.CloseJobs(jobs)
	want := []string{"GET /v1/users/info", "GET /v1/tenants/t-1/invoices",
		"GET /v1/tenants/t-1/invoices/inv-09", "GET /v1/tenants/t-1/invoices/inv-11", "GET /v1/tenants/t-1/invoices/inv-10"}
	if got := f.Paths(); !slices.Equal(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
	for i, w := range [][]string{
		{"v1UsersInfoGet spectrocloud/users_info.json", "v1InvoicesUidGet spectrocloud/invoice/inv-10.json"},
		{"v1UsersInfoGet spectrocloud/users_info.json", "v1InvoicesUidGet spectrocloud/invoice/inv-11.json"},
	} {
		if got := sharedEndpoints(jobs[i]); !slices.Equal(got, w) || len(jobs[i].Calls) != 0 {
			t.Errorf("job %s: shared %q calls %q, want %q", jobs[i].Period, got, jobCalls(jobs[i]), w)
		}
	}
}

// A 200 answer of the list route that is not a list of invoices, with
// SPECTROCLOUD_INVOICE_UIDS set: the configured invoices are exported,
// and the list page is no job's (the transform notes the fallback).
func TestSpectroJobsBadListFallsBackToConfiguredUIDs(t *testing.T) {
	bodies := spBodies()
	bodies["spectrocloud/invoices/0001.json"] = `{"items": [` + spInv("inv-10", "2026-10") + `], "listmeta": {"continue": ""}}`
	f := &testkit.Bodies{Bodies: bodies}
	env := map[string]string{"SPECTROCLOUD_INVOICE_UIDS": "inv-10,inv-11"}
	jobs, err := Jobs(context.Background(), config(t, env), f, testkit.Plan("2026-11-03", "2026-10", "2026-11"))
	if err != nil {
		t.Fatal(err)
	}
	defer testkit.CloseJobs(jobs)
	for i, w := range [][]string{
		{"v1UsersInfoGet spectrocloud/users_info.json", "v1InvoicesUidGet spectrocloud/invoice/inv-10.json"},
		{"v1UsersInfoGet spectrocloud/users_info.json", "v1InvoicesUidGet spectrocloud/invoice/inv-11.json"},
	} {
		if got := sharedEndpoints(jobs[i]); !slices.Equal(got, w) || len(jobs[i].Calls) != 0 {
			t.Errorf("job %s: shared %q calls %q, want %q", jobs[i].Period, got, jobCalls(jobs[i]), w)
		}
	}
}

// Live, the unpublished list route may answer 404 or 405: both fall back
// to SPECTROCLOUD_INVOICE_UIDS; without it the provider fails at once,
// saying how to find invoice uids.
func TestSpectroJobsListRouteMissingLive(t *testing.T) {
	const key = "sc-key-0123456789"
	for _, code := range []int{http.StatusNotFound, http.StatusMethodNotAllowed} {
		api := testkit.FakeSpectroCloudList(t, "../../testdata/vendor-examples/variants/sc-no-list-route", key, code)
		src := func(c extract.Config) extract.Source {
			return extract.NewHTTP(map[string]extract.Endpoint{Slug: {
				URL:       api.URL,
				Authorize: func(next http.RoundTripper) http.RoundTripper { return Authorize(c, next) },
				Secrets:   c.Secrets(),
				KeyVar:    "SPECTROCLOUD_API_KEY",
				URLVar:    "SPECTROCLOUD_API_URL",
			}}, extract.HTTPOptions{})
		}
		plan := testkit.Plan("2026-01-03", "2025-12", "2026-01")
		c := config(t, map[string]string{"SPECTROCLOUD_API_KEY": key, "SPECTROCLOUD_INVOICE_UIDS": "6775f1a8c3d2e4b5a6978812,679d8e34b1c2a3d4e5f60718"})
		jobs, err := Jobs(context.Background(), c, src(c), plan)
		if err != nil {
			t.Fatalf("HTTP %d with SPECTROCLOUD_INVOICE_UIDS: %v", code, err)
		}
		for _, j := range jobs {
			if n := len(j.Shared); n != 2 || j.Shared[1].Call.Endpoint != GetInvoice {
				t.Errorf("HTTP %d: job %s shares %q", code, j.Period, sharedEndpoints(j))
			}
		}
		testkit.CloseJobs(jobs)

		c = config(t, map[string]string{"SPECTROCLOUD_API_KEY": key})
		before := len(api.Calls())
		_, err = Jobs(context.Background(), c, src(c), plan)
		want := fmt.Sprintf("the invoice list route (GET /v1/tenants/{tenantUid}/invoices, in no published Palette spec) answered HTTP %d and SPECTROCLOUD_INVOICE_UIDS is not set: set it to the uids of the invoices to export, comma-separated (an invoice's uid is its metadata.uid:", code)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("HTTP %d without SPECTROCLOUD_INVOICE_UIDS: %v", code, err)
		}
		if calls := api.Calls()[before:]; len(calls) != 2 {
			t.Errorf("HTTP %d: calls %q, want users/info and the list only", code, calls)
		}
	}
}

func TestSpectroJobsErrors(t *testing.T) {
	noList := func(b map[string]string) {
		delete(b, "spectrocloud/invoices/0001.json")
		delete(b, "spectrocloud/invoices/0002.json")
	}
	for _, c := range []struct {
		name  string
		env   map[string]string
		edit  func(map[string]string)
		want  string
		is404 bool
	}{
		{"no list and no UIDs", nil, noList, "the invoice list route (GET /v1/tenants/{tenantUid}/invoices, in no published Palette spec) has no capture (spectrocloud/invoices/0001.json) and SPECTROCLOUD_INVOICE_UIDS is not set: set it to the uids of the invoices to export, comma-separated (an invoice's uid is its metadata.uid: the Palette console's billing page", false},
		{"second page missing", nil, func(b map[string]string) { delete(b, "spectrocloud/invoices/0002.json") }, "invoices/0002.json", true},
		{"continue loops", nil, func(b map[string]string) {
			b["spectrocloud/invoices/0002.json"] = `{"invoices": [], "listmeta": {"continue": "eyJvZmZzZXQiOjF9+/="}}`
		}, "listmeta.continue repeats an earlier token", false},
		{"uid with a slash", nil, func(b map[string]string) {
			b["spectrocloud/invoices/0002.json"] = `{"invoices": [` + spInv("../../users", "2026-10") + `]}`
		}, `invoice uid "../../users" is not a safe identifier`, false},
		// A 200 that is not a list of invoices is never "no invoice": it
		// names the route and the variable to set instead.
		{"invoice without a period", nil, func(b map[string]string) {
			b["spectrocloud/invoices/0002.json"] = `{"invoices": [{"metadata": {"uid": "inv-x"}, "spec": {"month": "0001-01-01T00:00:00Z"}}]}`
		}, `spectrocloud v1InvoicesList (spectrocloud/invoices/0002.json): GET /v1/tenants/{tenantUid}/invoices answered 200 with no list of invoices: invoice inv-x has no billing month; the route is in no published Palette spec: set SPECTROCLOUD_INVOICE_UIDS to the uids of the invoices to export`, false},
		{"items instead of invoices", nil, func(b map[string]string) {
			b["spectrocloud/invoices/0001.json"] = `{"items": [` + spInv("inv-10", "2026-10") + `], "listmeta": {"continue": ""}}`
		}, `spectrocloud v1InvoicesList (spectrocloud/invoices/0001.json): GET /v1/tenants/{tenantUid}/invoices answered 200 with no list of invoices: it has no "invoices" array (its members: items, listmeta); the route is in no published Palette spec: set SPECTROCLOUD_INVOICE_UIDS`, false},
		{"empty object", nil, func(b map[string]string) { b["spectrocloud/invoices/0001.json"] = `{}` },
			`answered 200 with no list of invoices: it has no "invoices" array, nor anything else; the route is in no published Palette spec: set SPECTROCLOUD_INVOICE_UIDS`, false},
		{"invoices not an array", nil, func(b map[string]string) { b["spectrocloud/invoices/0001.json"] = `{"invoices": {"uid": "inv-10"}}` },
			`answered 200 with no list of invoices: its "invoices" is not an array; the route is in no published Palette spec: set SPECTROCLOUD_INVOICE_UIDS`, false},
		{"invoices of strings", nil, func(b map[string]string) { b["spectrocloud/invoices/0001.json"] = `{"invoices": ["inv-10"]}` },
			`answered 200 with no list of invoices: item 0 of its "invoices" is not an invoice`, false},
		{"item without uid", nil, func(b map[string]string) {
			b["spectrocloud/invoices/0001.json"] = `{"invoices": [{"kind": "Project", "metadata": {"name": "p"}}]}`
		}, `answered 200 with no list of invoices: item 0 of its "invoices" has no metadata.uid; the route is in no published Palette spec: set SPECTROCLOUD_INVOICE_UIDS`, false},
		{"list not json", nil, func(b map[string]string) { b["spectrocloud/invoices/0001.json"] = "<html>" }, "spectrocloud v1InvoicesList (spectrocloud/invoices/0001.json): bad data at byte 0: the invoice list is not what the API documents: invalid character '<' at start of value", false},
		{"list truncated", nil, func(b map[string]string) {
			b["spectrocloud/invoices/0002.json"] = `{"invoices": [{"metadata": {"uid": "inv-10"}`
		},
			"spectrocloud v1InvoicesList (spectrocloud/invoices/0002.json): bad data at byte 44, /invoices/0: the invoice list is not what the API documents: the body ends in the middle of a value (truncated response or capture)", false},
		{"list empty", nil, func(b map[string]string) { b["spectrocloud/invoices/0001.json"] = "" },
			"spectrocloud v1InvoicesList (spectrocloud/invoices/0001.json): bad data at byte 0: the invoice list is not what the API documents: the body is empty", false},
		{"list with a bad time", nil, func(b map[string]string) {
			b["spectrocloud/invoices/0002.json"] = `{"invoices": [{"metadata": {"uid": "inv-10"}, "spec": {"month": "October"}}]}`
		}, `answered 200 with no list of invoices: item 0 of its "invoices" is not an invoice (`, false},
		{"users/info truncated", nil, func(b map[string]string) { b["spectrocloud/users_info.json"] = `{"orgName": "x", "tenantU` },
			"spectrocloud v1UsersInfoGet (spectrocloud/users_info.json): bad data at byte 25: not what the API documents: the body ends in the middle of a value (truncated response or capture)", false},
		{"users/info empty", nil, func(b map[string]string) { b["spectrocloud/users_info.json"] = `` },
			"spectrocloud v1UsersInfoGet (spectrocloud/users_info.json): bad data at byte 0: not what the API documents: the body is empty", false},
		{"configured invoice truncated", map[string]string{"SPECTROCLOUD_INVOICE_UIDS": "inv-10"}, func(b map[string]string) {
			noList(b)
			b["spectrocloud/invoice/inv-10.json"] = `{"metadata": {"uid": "inv-10"}, "spec": {"billingPeriod": {"start": "2026-10-01T00:00:00.000Z", `
		}, "spectrocloud v1InvoicesUidGet (spectrocloud/invoice/inv-10.json): bad data at byte 96, /spec/billingPeriod: the invoice is not what the API documents: the body ends in the middle of a value (truncated response or capture)", false},
		{"tenant with a slash", map[string]string{"SPECTROCLOUD_TENANT_UID": "t/../x"}, nil, `tenant uid "t/../x" is not a safe identifier`, false},
		{"users/info without tenant", nil, func(b map[string]string) { b["spectrocloud/users_info.json"] = `{"orgName": "x"}` }, "has no tenantUid: set SPECTROCLOUD_TENANT_UID", false},
		{"users/info missing", nil, func(b map[string]string) { delete(b, "spectrocloud/users_info.json") }, "set SPECTROCLOUD_TENANT_UID to skip this call", true},
		{"configured uid unknown", map[string]string{"SPECTROCLOUD_INVOICE_UIDS": "nope"}, noList, "invoice nope of SPECTROCLOUD_INVOICE_UIDS", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := spBodies()
			if c.edit != nil {
				c.edit(b)
			}
			jobs, err := Jobs(context.Background(), config(t, c.env), &testkit.Bodies{Bodies: b}, testkit.Plan("2026-11-03", "2026-10", "2026-11"))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			var de *billing.DataError
			if strings.Contains(c.want, "bad data at byte") && !errors.As(err, &de) {
				t.Errorf("not a DataError: %#v", err)
			}
			if errors.Is(err, extract.ErrNotFound) != c.is404 {
				t.Errorf("errors.Is(err, extract.ErrNotFound) = %v: %v", !c.is404, err)
			}
			if jobs != nil {
				t.Errorf("jobs on error: %v", jobs)
			}
		})
	}
}

// A list page takes any bytes without panicking: what it refuses is a
// positioned DataError, a page that is not a list of invoices (saying so),
// or an unsafe uid; what it accepts is valid JSON with invoices that have
// a safe uid and a month.
func FuzzDecodeSmall(f *testing.F) {
	for _, s := range []string{spBodies()["spectrocloud/invoices/0002.json"], spInv("inv-10", "2026-10"), `{"invoices": null}`, `{"invoices": [{"invoice_id": 7}]}`,
		`{"a\u0073": 1, "listmeta": {"continue": "x"}}`, "<html>", "", " ", `{"invoices": []} {}`, `{"invoices": [], "invoices": []}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := extract.NewBody(extract.Call{Provider: Slug, Endpoint: ListInvoices, Capture: "spectrocloud/invoices/0001.json"}, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		items, _, err := decodePage(b)
		var de *billing.DataError
		switch {
		case err == nil && !json.Valid(data):
			t.Fatalf("accepted invalid JSON %q", data)
		case err == nil:
			for _, l := range items {
				if extract.CheckID(Slug, "uid", l.Metadata.UID) != nil || l.p.Start().IsZero() {
					t.Fatalf("accepted an item without a safe uid or a month: %+v", l)
				}
			}
		case isNotAList(err):
			if !strings.Contains(err.Error(), "answered 200 with no list of invoices") {
				t.Fatalf("not a list, unclear: %v", err)
			}
		case strings.Contains(err.Error(), "is not a safe identifier"):
		case !errors.As(err, &de):
			t.Fatalf("not a DataError: %v", err)
		case de.Offset < 0 || de.Offset > int64(len(data)):
			t.Fatalf("offset %d outside the body (%d bytes): %v", de.Offset, len(data), err)
		}
	})
}

// SPECTROCLOUD_INVOICE_UIDS: a uid listed twice is exported once (the
// transform would otherwise fail the whole period with "appears twice"),
// and a uid that is not a safe file name is refused before any request.
func TestInvoiceUIDsSetting(t *testing.T) {
	c := config(t, map[string]string{"SPECTROCLOUD_INVOICE_UIDS": " inv-b, inv-a ,inv-b,,inv-a,inv-c "})
	if got, want := invoiceUIDs(c), []string{"inv-b", "inv-a", "inv-c"}; !slices.Equal(got, want) {
		t.Errorf("uids %q, want %q", got, want)
	}
	_, err := extract.ReadConfig(Slug, "SPECTROCLOUD", Settings, func(k string) string {
		return map[string]string{"SPECTROCLOUD_INVOICE_UIDS": "ok,a..b"}[k]
	})
	if want := `invoice uid in SPECTROCLOUD_INVOICE_UIDS "a..b" is not a safe identifier`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}
