package testkit

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FakeSpectroCloud serves Spectro Cloud Palette's routes from dir (the
// capture layout: dir/spectrocloud/...). It requires the ApiKey header to
// equal key (401 otherwise), answers only for the tenant of
// users_info.json, and serves the invoice list pages
// (spectrocloud/invoices/0001.json, 0002.json, ...) by their
// listmeta.continue tokens, as Palette paginates. With list false the list
// route answers 404, as it may on the real API (it is not in the public
// spec).
func FakeSpectroCloud(t testing.TB, dir, key string, list bool) *FakeAPI {
	if list {
		return FakeSpectroCloudList(t, dir, key, http.StatusOK)
	}
	return FakeSpectroCloudList(t, dir, key, http.StatusNotFound)
}

// FakeSpectroCloudList is FakeSpectroCloud whose list route answers with
// status: 200 (the pages), or the 404 or 405 the unpublished route may get.
func FakeSpectroCloudList(t testing.TB, dir, key string, status int) *FakeAPI {
	base := filepath.Join(dir, "spectrocloud")
	var info struct {
		TenantUID string `json:"tenantUid"`
	}
	if b, err := os.ReadFile(filepath.Join(base, "users_info.json")); err == nil {
		json.Unmarshal(b, &info)
	}
	// The page each continue token leads to: the token of page n opens n+1.
	pages := map[string]string{"": "invoices/0001.json"}
	for n := 1; ; n++ {
		b, err := os.ReadFile(filepath.Join(base, fmt.Sprintf("invoices/%04d.json", n)))
		if err != nil {
			break
		}
		var page struct {
			ListMeta struct {
				Continue string `json:"continue"`
			} `json:"listmeta"`
		}
		json.Unmarshal(b, &page)
		if page.ListMeta.Continue != "" {
			pages[page.ListMeta.Continue] = fmt.Sprintf("invoices/%04d.json", n+1)
		}
	}

	f := &FakeAPI{}
	mux := http.NewServeMux()
	handle := func(pattern string, file func(r *http.Request) (string, int)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("ApiKey") != key {
				http.Error(w, `{"code":"Unauthorized","message":"invalid api key"}`, http.StatusUnauthorized)
				return
			}
			f.record(r)
			if t := r.PathValue("tenant"); t != "" && t != info.TenantUID {
				http.Error(w, `{"code":"ResourceNotFound","message":"tenant not found"}`, http.StatusNotFound)
				return
			}
			name, code := file(r)
			switch code {
			case http.StatusNotFound:
				http.Error(w, `{"code":"ResourceNotFound","message":"404 page not found"}`, code)
				return
			case http.StatusBadRequest:
				http.Error(w, `{"code":"BadRequest","message":"invalid continue token"}`, code)
				return
			case http.StatusMethodNotAllowed:
				http.Error(w, `{"code":"MethodNotAllowed","message":"Method Not Allowed"}`, code)
				return
			}
			serveFile(w, filepath.Join(base, name))
		})
	}
	handle("GET /v1/users/info", func(*http.Request) (string, int) { return "users_info.json", http.StatusOK })
	handle("GET /v1/tenants/{tenant}/invoices", func(r *http.Request) (string, int) {
		if status != http.StatusOK {
			return "", status
		}
		page, ok := pages[r.URL.Query().Get("continue")]
		if !ok {
			return "", http.StatusBadRequest
		}
		return page, http.StatusOK
	})
	handle("GET /v1/tenants/{tenant}/invoices/{uid}", func(r *http.Request) (string, int) {
		return filepath.Join("invoice", filepath.Base(r.PathValue("uid"))+".json"), http.StatusOK
	})
	f.Server = httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(f.Close)
	return f
}

func init() {
	Oracles["spectrocloud"] = spectroTotals
	Live["spectrocloud"] = func(t testing.TB, dir string, wrap func(string) string) map[string]string {
		const key = "LIVE-spectro-7f3a9c"
		return map[string]string{"SPECTROCLOUD_API_KEY": key, "SPECTROCLOUD_API_URL": wrap(FakeSpectroCloud(t, dir, key, true).URL)}
	}
}

// spectroTotals sums billableAmount (a float64, at 15 digits) per billing
// month and paymentUnit.
func spectroTotals(t testing.TB, dir string) []Total {
	files, _ := filepath.Glob(filepath.Join(dir, "spectrocloud", "invoice", "*.json"))
	sums := map[[2]string]*big.Rat{}
	for _, f := range files {
		var inv struct {
			Spec struct {
				BillingPeriod struct {
					Start string `json:"start"`
				} `json:"billingPeriod"`
				PaymentUnit string `json:"paymentUnit"`
			} `json:"spec"`
			Status struct {
				BillableAmount *json.Number `json:"billableAmount"`
			} `json:"status"`
		}
		readJSON(t, f, &inv)
		cur, amount := strings.ToUpper(inv.Spec.PaymentUnit), "0"
		if cur == "" {
			cur = "USD"
		}
		if inv.Status.BillableAmount != nil {
			amount = string(*inv.Status.BillableAmount)
		}
		k := [2]string{inv.Spec.BillingPeriod.Start[:7], cur}
		if sums[k] == nil {
			sums[k] = new(big.Rat)
		}
		sums[k].Add(sums[k], float15Of(t, amount))
	}
	return sortedTotals("spectrocloud", sums)
}
