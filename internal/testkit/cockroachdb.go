package testkit

import (
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FakeCockroachDB serves CockroachDB Cloud's billing routes from dir (the
// capture layout: dir/cockroachdb/...). Like the real API it requires
// "Authorization: Bearer <key>" (401 otherwise) and a valid Cc-Version
// (400 "invalid Cc-Version." otherwise), and ListInvoices' start_time and
// end_time to be RFC 3339 date-times. A folder without organization.json
// stands for a key whose service account has only the BILLING_COORDINATOR
// role: the organization route answers 403, as the API does to a role
// other than ORG_ADMIN and ORG_MEMBER.
func FakeCockroachDB(t testing.TB, dir, key string) *FakeAPI {
	f := &FakeAPI{}
	mux := http.NewServeMux()
	handle := func(pattern string, file func(r *http.Request) string) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+key {
				http.Error(w, `{"code":16,"message":"unauthenticated","details":[]}`, http.StatusUnauthorized)
				return
			}
			if r.Header.Get("Cc-Version") != "2024-09-16" {
				http.Error(w, `{"code":3,"message":"invalid Cc-Version.","details":[]}`, http.StatusBadRequest)
				return
			}
			f.record(r)
			name := file(r)
			if name == "" {
				http.Error(w, `{"code":3,"message":"invalid request","details":[]}`, http.StatusBadRequest)
				return
			}
			path := filepath.Join(dir, "cockroachdb", name)
			if _, err := os.Stat(path); err != nil && name == "organization.json" {
				http.Error(w, `{"code":7,"message":"user does not have permission to perform this action","details":[]}`, http.StatusForbidden)
				return
			}
			serveFile(w, path)
		})
	}
	handle("GET /api/v1/organization", func(*http.Request) string { return "organization.json" })
	handle("GET /api/v1/invoices", func(r *http.Request) string {
		for _, p := range []string{"start_time", "end_time"} {
			if v := r.URL.Query().Get(p); v != "" {
				if _, err := time.Parse(time.RFC3339, v); err != nil {
					return ""
				}
			}
		}
		return "invoices.json"
	})
	handle("GET /api/v1/invoices/{id}", func(r *http.Request) string {
		return filepath.Join("invoice", filepath.Base(r.PathValue("id"))+".json")
	})
	f.Server = httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(f.Close)
	return f
}

func init() {
	Oracles["cockroachdb"] = cockroachTotals
	Live["cockroachdb"] = func(t testing.TB, dir string, wrap func(string) string) map[string]string {
		const key = "CCDB1_LIVE_cockroach_7f3a9c"
		return map[string]string{"COCKROACH_API_KEY": key, "COCKROACH_API_URL": wrap(FakeCockroachDB(t, dir, key).URL)}
	}
}

// cockroachTotals sums each invoice's totals per period and currency, as
// the API sends them: an omitted amount is 0, an omitted currency USD; an
// amount is a float64 (at 15 digits).
func cockroachTotals(t testing.TB, dir string) []Total {
	files, _ := filepath.Glob(filepath.Join(dir, "cockroachdb", "invoice", "*.json"))
	sums := map[[2]string]*big.Rat{}
	for _, f := range files {
		var inv struct {
			PeriodStart string `json:"period_start"`
			Totals      []struct {
				Amount   *json.Number `json:"amount"`
				Currency *string      `json:"currency"`
			} `json:"totals"`
		}
		readJSON(t, f, &inv)
		for _, tot := range inv.Totals {
			cur, amount := "USD", "0"
			if tot.Currency != nil {
				cur = *tot.Currency
			}
			if tot.Amount != nil {
				amount = string(*tot.Amount)
			}
			k := [2]string{inv.PeriodStart[:7], cur}
			if sums[k] == nil {
				sums[k] = new(big.Rat)
			}
			sums[k].Add(sums[k], float15Of(t, amount))
		}
	}
	return sortedTotals("cockroachdb", sums)
}
