package invoiceexport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/load"
)

// Each account keeps its own rate gate and Retry-After: a vendor that
// tells one account to wait 3 s (429, Retry-After: 3) holds that account's
// calls, while another account of the same vendor, in the same run, is
// written without waiting.
func TestRetryAfterHoldsOneAccountOnly(t *testing.T) {
	const slowKey, fastKey = "ws-slow-account-key-0123", "ws-fast-account-key-0123"
	upstream, _ := url.Parse(testkit.FakeWarpStream(t, sampleDir, slowKey, "POST").URL)
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	var throttled atomic.Bool
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if throttled.CompareAndSwap(false, true) {
			w.Header().Set("Retry-After", "3")
			http.Error(w, `{"message":"rate limit exceeded"}`, http.StatusTooManyRequests)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)
	fast := testkit.FakeWarpStream(t, sampleDir, fastKey, "POST")

	p, _ := registry.Get("warpstream")
	account := func(id, key, url string) invoiceexport.Account {
		c, err := p.ReadConfig(func(v string) string {
			return map[string]string{"WARPSTREAM_API_KEY": key, "WARPSTREAM_API_URL": url, "WARPSTREAM_ACCOUNT_ID": id}[v]
		})
		if err != nil {
			t.Fatal(err)
		}
		return invoiceexport.Account{Provider: "warpstream", ID: id, Config: c}
	}
	sink, err := load.NewFolder(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := invoiceexport.Options{
		AsOf:            time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC),
		Accounts:        []invoiceexport.Account{account("slow", slowKey, slow.URL), account("fast", fastKey, fast.URL)},
		Sink:            sink,
		RunID:           "retry-after",
		RestatementDays: 5,
	}
	o.Source = invoiceexport.LiveSource(o, extract.HTTPOptions{RequestsPerSecond: 1000})
	rep := invoiceexport.Run(context.Background(), o)
	if !rep.OK() || len(rep.Partitions) != 4 {
		t.Fatalf("%d partitions: %v", len(rep.Partitions), rep.Err())
	}
	var slowest time.Duration // the throttled call's period waited
	for _, part := range rep.Partitions {
		switch part.Account {
		case "fast":
			if part.Duration > 2*time.Second {
				t.Errorf("fast %s took %s: held by the other account's Retry-After", part.Period, part.Duration)
			}
		case "slow":
			slowest = max(slowest, part.Duration)
		}
	}
	if slowest < 2500*time.Millisecond || !throttled.Load() {
		t.Errorf("the slow account's longest period took %s: its Retry-After of 3 s was not honoured", slowest)
	}
}
