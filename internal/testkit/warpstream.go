package testkit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// FakeAPI is a vendor API served from a capture folder on 127.0.0.1. It
// checks authentication and counts the calls it answers.
type FakeAPI struct {
	*httptest.Server
	mu    sync.Mutex
	calls []string // "METHOD path" of each answered request
}

// Calls returns the requests answered so far.
func (f *FakeAPI) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *FakeAPI) record(r *http.Request) {
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+r.URL.RequestURI())
	f.mu.Unlock()
}

// serveFile answers with a capture file, or 404 when there is none.
func serveFile(w http.ResponseWriter, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// FakeWarpStream serves WarpStream's three billing endpoints from dir (the
// capture layout: dir/warpstream/...). It requires the warpstream-api-key
// header to equal key and the request to use method with a JSON body.
func FakeWarpStream(t testing.TB, dir, key, method string) *FakeAPI {
	f := &FakeAPI{}
	mux := http.NewServeMux()
	handle := func(endpoint string, file func(body map[string]string) string) {
		mux.HandleFunc("/api/v1/billing/invoices/"+endpoint, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("warpstream-api-key") != key {
				http.Error(w, `{"error":"invalid_api_key"}`, http.StatusUnauthorized)
				return
			}
			if r.Method != method {
				http.Error(w, `{"error":"method not allowed"}`, http.StatusMethodNotAllowed)
				return
			}
			var body map[string]string
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				http.Error(w, `{"error":"bad body"}`, http.StatusBadRequest)
				return
			}
			f.record(r)
			serveFile(w, filepath.Join(dir, "warpstream", file(body)))
		})
	}
	handle("get_pending_invoice", func(map[string]string) string { return "pending_invoice.json" })
	handle("get_past_invoice", func(b map[string]string) string { return "past_invoice/" + month(b["date_start"]) + ".json" })
	handle("get_invoice_breakdowns", func(b map[string]string) string {
		return "invoice_breakdowns/" + month(b["date_start"]) + ".json"
	})
	f.Server = httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(f.Close)
	return f
}

func month(date string) string {
	if len(date) >= 7 {
		return date[:7]
	}
	return "invalid"
}

func init() {
	Oracles["warpstream"] = warpStreamTotals
	Live["warpstream"] = func(t testing.TB, dir string, wrap func(string) string) map[string]string {
		const key = "aks_LIVE_warpstream_7f3a9c"
		return map[string]string{"WARPSTREAM_API_KEY": key, "WARPSTREAM_API_URL": wrap(FakeWarpStream(t, dir, key, "POST").URL)}
	}
}

// warpStreamTotals are the invoices' totals as sent.
func warpStreamTotals(t testing.TB, dir string) []Total {
	files, _ := filepath.Glob(filepath.Join(dir, "warpstream", "past_invoice", "*.json"))
	files = append(files, filepath.Join(dir, "warpstream", "pending_invoice.json"))
	var out []Total
	for _, f := range files {
		var inv struct {
			DateFrom string      `json:"date_from"`
			Total    json.Number `json:"total"`
		}
		readJSON(t, f, &inv)
		out = append(out, Total{"warpstream", inv.DateFrom[:7], "USD", ratOf(t, string(inv.Total))})
	}
	return out
}
