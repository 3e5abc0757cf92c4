package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testKey = "aks_feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface"

// faultServer answers each request with the next fault of its script
// ("ok" once the script runs out): the faults vendors really produce.
type faultServer struct {
	*httptest.Server
	body     []byte
	mu       sync.Mutex
	script   []string
	n        int
	starts   []time.Time
	inFlight atomic.Int32
	maxIn    atomic.Int32
	headers  []http.Header
}

func newFaultServer(t *testing.T, body string, script ...string) *faultServer {
	f := &faultServer{body: []byte(body), script: script}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *faultServer) serve(w http.ResponseWriter, r *http.Request) {
	in := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxIn.Load()
		if in <= m || f.maxIn.CompareAndSwap(m, in) {
			break
		}
	}
	f.mu.Lock()
	fault := "ok"
	if f.n < len(f.script) {
		fault = f.script[f.n]
	}
	f.n++
	f.starts = append(f.starts, time.Now())
	f.headers = append(f.headers, r.Header.Clone())
	f.mu.Unlock()
	switch fault {
	case "ok":
		w.Header().Set("Content-Type", "application/json")
		w.Write(f.body)
	case "slow":
		time.Sleep(150 * time.Millisecond)
		w.Write(f.body)
	case "503", "500", "499", "400", "404":
		code, _ := strconv.Atoi(fault)
		w.WriteHeader(code)
		w.Write([]byte(`{"message":"` + fault + ` from the fake"}`))
	case "400 with the body":
		w.WriteHeader(http.StatusBadRequest)
		w.Write(f.body)
	case "401":
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_api_key ` + testKey + `"}`)) // a vendor echoing the key back
	case "429":
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	case "reset":
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	case "truncate":
		w.Header().Set("Content-Length", strconv.Itoa(len(f.body)))
		w.Write(f.body[:len(f.body)/2])
	case "html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<html>Service temporarily unavailable</html>"))
	}
}

func (f *faultServer) requests() int { f.mu.Lock(); defer f.mu.Unlock(); return f.n }

// testSource calls url for the provider "warpstream", which authorizes
// its requests with a key header as WarpStream does.
func testSource(url string, opt HTTPOptions) *HTTP {
	eps := map[string]Endpoint{"warpstream": {
		URL: url,
		Authorize: func(next http.RoundTripper) http.RoundTripper {
			return WithHeaders(next, map[string]string{"warpstream-api-key": testKey})
		},
		Secrets: []Secret{testKey},
		KeyVar:  "WARPSTREAM_API_KEY",
		URLVar:  "WARPSTREAM_API_URL",
	}}
	if opt.MaxBackoff == 0 {
		opt.MaxBackoff = 20 * time.Millisecond
	}
	if opt.RequestsPerSecond == 0 {
		opt.RequestsPerSecond = 1000
	}
	return NewHTTP(eps, opt)
}

var wsCall = Call{Provider: "warpstream", Endpoint: "get_past_invoice", Method: "POST", Path: "/api/v1/billing/invoices/get_past_invoice", Body: []byte(`{"date_start":"2026-10-01"}`), Capture: "warpstream/past_invoice/2026-10.json"}

func readBody(t *testing.T, b *Body) string {
	t.Helper()
	defer b.Close()
	got, err := io.ReadAll(b.Reader())
	if err != nil {
		t.Fatal(err)
	}
	return string(got)
}

// Every transient fault is retried until the body arrives whole: the
// bytes the transform sees are exactly the vendor's, so totals stay exact.
func TestRetriesTransientFaultsUntilTheBodyIsWhole(t *testing.T) {
	body := `{"date_from":"2026-10-01","total":22.77,` + strings.Repeat(`"pad":"xxxxxxxxxxxxxxxxxxxx",`, 2000) + `"end":1}`
	f := newFaultServer(t, body, "503", "429", "reset", "truncate", "499", "500", "slow")
	start := time.Now()
	b, err := testSource(f.URL, HTTPOptions{Attempts: 8}).Fetch(context.Background(), wsCall)
	if err != nil {
		t.Fatal(err)
	}
	if got := readBody(t, b); got != body {
		t.Fatalf("body differs from what the vendor sent (%d vs %d bytes)", len(got), len(body))
	}
	if n := f.requests(); n != 7 {
		t.Errorf("%d requests, want 7", n)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("Retry-After: 1 was not honoured (%s)", el)
	}
	h := f.headers[0]
	if h.Get("warpstream-api-key") != testKey || h.Get("Content-Type") != "application/json" || !strings.HasPrefix(h.Get("User-Agent"), "invoice-export/") {
		t.Errorf("headers = %v", h)
	}
}

func TestGivesUpAfterTheLastAttempt(t *testing.T) {
	f := newFaultServer(t, "{}", "503", "503", "503", "503")
	_, err := testSource(f.URL, HTTPOptions{Attempts: 3}).Fetch(context.Background(), wsCall)
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") || !strings.Contains(err.Error(), "HTTP 503") ||
		!strings.Contains(err.Error(), "warpstream get_past_invoice (POST /api/v1/billing/invoices/get_past_invoice)") {
		t.Fatalf("err = %v", err)
	}
	if f.requests() != 3 {
		t.Errorf("%d requests, want 3", f.requests())
	}
}

// A 429's Retry-After holds every call to that vendor, not only the one
// that got it: the vendor asked for a pause.
func TestRetryAfterHoldsTheVendor(t *testing.T) {
	f := newFaultServer(t, "{}", "429")
	src := testSource(f.URL, HTTPOptions{})
	var wg sync.WaitGroup
	fetch := func() {
		defer wg.Done()
		b, err := src.Fetch(context.Background(), wsCall)
		if err != nil {
			t.Error(err)
			return
		}
		b.Close()
	}
	wg.Add(1)
	go fetch()
	for f.requests() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the 429 is answered and read
	wg.Add(1)
	go fetch()
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.starts) != 3 {
		t.Fatalf("%d requests, want 3 (a 429, then both calls)", len(f.starts))
	}
	for i, at := range f.starts[1:] {
		if d := at.Sub(f.starts[0]); d < 900*time.Millisecond {
			t.Errorf("request %d started %s after the 429 with Retry-After: 1", i+2, d.Round(time.Millisecond))
		}
	}
}

// No answer at all (nothing listens there) points at the address and the
// network, and the vendor's 503 does not.
func TestNoAnswerNamesTheURLVariable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // connections to it are refused from now on
	_, err = testSource("http://"+addr, HTTPOptions{Attempts: 2}).Fetch(context.Background(), wsCall)
	if err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts") || !strings.HasSuffix(err.Error(), "(check WARPSTREAM_API_URL and the network)") {
		t.Fatalf("err = %v", err)
	}
	f := newFaultServer(t, "{}", "503", "503")
	if _, err := testSource(f.URL, HTTPOptions{Attempts: 2}).Fetch(context.Background(), wsCall); err == nil || strings.Contains(err.Error(), "the network") {
		t.Fatalf("a vendor's 503 is not a network problem: %v", err)
	}
}

// 4xx other than 429 cannot be fixed by trying again: one request, a
// clear message, and never the key, even when the vendor echoes it.
func TestClientErrorsAreNotRetried(t *testing.T) {
	cases := map[string]string{
		"401":  "the vendor rejected WARPSTREAM_API_KEY",
		"400":  "HTTP 400 Bad Request: {\"message\":\"400 from the fake\"}",
		"404":  "HTTP 404",
		"html": "HTML page instead of JSON",
	}
	for fault, want := range cases {
		t.Run(fault, func(t *testing.T) {
			f := newFaultServer(t, "{}", fault)
			_, err := testSource(f.URL, HTTPOptions{}).Fetch(context.Background(), wsCall)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want %q", err, want)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("the key leaked: %v", err)
			}
			if f.requests() != 1 {
				t.Errorf("%d requests, want 1", f.requests())
			}
			if fault == "404" && !errors.Is(err, ErrNotFound) {
				t.Errorf("404 does not wrap ErrNotFound: %v", err)
			}
		})
	}
}

// A client-side limit keeps us under the vendors' 10 requests/s, and only
// so many requests are in flight at once.
func TestRateLimitAndConcurrency(t *testing.T) {
	f := newFaultServer(t, "{}", "slow", "slow", "slow", "slow", "slow", "slow")
	src := testSource(f.URL, HTTPOptions{RequestsPerSecond: 20, Concurrency: 2})
	const n = 12
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b, err := src.Fetch(context.Background(), wsCall); err == nil {
				b.Close()
			} else {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if el := time.Since(start); el < 550*time.Millisecond {
		t.Errorf("%d requests at 20/s took %s, want at least 550ms", n, el)
	}
	// The gate releases the i-th request no sooner than i × 50ms after the
	// first: the i-th to arrive cannot come earlier. (The gap between two
	// arrivals is no bound: a loaded machine may delay one and not the next.)
	for i, at := range f.starts {
		if since := at.Sub(start); since < time.Duration(i)*45*time.Millisecond {
			t.Errorf("request %d arrived %s after the start, want ≥ %s", i, since, time.Duration(i)*50*time.Millisecond)
		}
	}
	if m := f.maxIn.Load(); m > 2 {
		t.Errorf("%d requests in flight, want at most 2", m)
	}
}

// The run's deadline wins over waiting: no sleep past it.
// A provider's own rate paces it when the options name none; a rate the
// options name holds for every provider.
func TestProviderRate(t *testing.T) {
	f := newFaultServer(t, "{}")
	for _, c := range []struct {
		opt, ep float64
		gap     time.Duration
	}{{0, 5, 200 * time.Millisecond}, {50, 5, 20 * time.Millisecond}, {0, 0, 100 * time.Millisecond}} {
		src := NewHTTP(map[string]Endpoint{"warpstream": {URL: f.URL, RequestsPerSecond: c.ep}}, HTTPOptions{RequestsPerSecond: c.opt})
		if g := src.gate("warpstream"); g.every != c.gap {
			t.Errorf("options %v, endpoint %v: calls %s apart, want %s", c.opt, c.ep, g.every, c.gap)
		}
	}
	src := NewHTTP(map[string]Endpoint{"warpstream": {URL: f.URL, RequestsPerSecond: 5}}, HTTPOptions{})
	start := time.Now()
	for range 3 {
		b, err := src.Fetch(context.Background(), wsCall)
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
	if el := time.Since(start); el < 390*time.Millisecond {
		t.Errorf("3 calls at 5/s took %s, want at least 400ms", el)
	}
}

func TestRespectsTheDeadline(t *testing.T) {
	f := newFaultServer(t, "{}", "429", "429", "429")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := testSource(f.URL, HTTPOptions{}).Fetch(ctx, wsCall)
	if err == nil || !strings.Contains(err.Error(), "deadline is too close") {
		t.Fatalf("err = %v", err)
	}
	if el := time.Since(start); el > 250*time.Millisecond {
		t.Errorf("returned after %s; it should not wait for a retry it cannot make", el)
	}
}

// Nothing that prints a key shows it.
func TestSecretNeverPrints(t *testing.T) {
	s := Secret(testKey)
	cfg, err := ReadConfig("warpstream", "WARPSTREAM", []Setting{APIKey, {Name: "URL"}}, func(k string) string {
		return map[string]string{"WARPSTREAM_API_KEY": testKey, "WARPSTREAM_URL": "u"}[k]
	})
	if err != nil || cfg.Secret("API_KEY").Reveal() != testKey {
		t.Fatal(err)
	}
	for _, out := range []string{s.String(), fmtAll(s), fmtAll(cfg), fmtAll(&cfg)} {
		if strings.Contains(out, testKey) {
			t.Fatalf("key printed: %s", out)
		}
	}
	if b, _ := s.MarshalText(); string(b) != "[redacted]" {
		t.Errorf("MarshalText = %s", b)
	}
}

func fmtAll(v any) string {
	var b strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		b.WriteString(fmt.Sprintf(verb, v))
	}
	return b.String()
}

func TestHTTPOptionsFromEnv(t *testing.T) {
	env := map[string]string{"VENDOR_REQUESTS_PER_SECOND": "2.5", "VENDOR_CONCURRENCY": "2", "VENDOR_CALL_TIMEOUT": "10m"}
	o, err := HTTPOptionsFromEnv(func(k string) string { return env[k] })
	if err != nil || o.RequestsPerSecond != 2.5 || o.Concurrency != 2 || o.CallTimeout != 10*time.Minute {
		t.Errorf("got %+v, %v", o, err)
	}
	if o, err := HTTPOptionsFromEnv(func(string) string { return "" }); err != nil || o.RequestsPerSecond != 0 || o.Concurrency != 0 || o.CallTimeout != 0 {
		t.Errorf("unset: %+v, %v (zero means the defaults)", o, err)
	}
	for k, v := range map[string]string{"VENDOR_REQUESTS_PER_SECOND": "0", "VENDOR_CONCURRENCY": "many", "VENDOR_CALL_TIMEOUT": "300"} {
		_, err := HTTPOptionsFromEnv(func(name string) string {
			if name == k {
				return v
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: error %v", k, v, err)
		}
	}
}

// A redirect is refused: Go would copy the key headers to the host the
// Location names (even over plain http), so the second server must never
// see a request, and the error says what to set instead.
func TestRedirectsAreRefused(t *testing.T) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			var leaked atomic.Int32
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				leaked.Add(1)
				if strings.Contains(fmt.Sprint(r.Header), testKey) {
					t.Error("the key reached the redirect's target")
				}
				w.Write([]byte("{}"))
			}))
			defer other.Close()
			var asked atomic.Int32
			first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				asked.Add(1)
				http.Redirect(w, r, other.URL+r.URL.Path+"?token="+testKey, code)
			}))
			defer first.Close()
			_, err := testSource(first.URL, HTTPOptions{}).Fetch(context.Background(), wsCall)
			if err == nil {
				t.Fatal("a redirect was followed")
			}
			host := strings.TrimPrefix(other.URL, "http://")
			for _, want := range []string{"HTTP " + strconv.Itoa(code), "redirects to http://" + host + ";", "set WARPSTREAM_API_URL to the address it names", "warpstream get_past_invoice"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want %q", err, want)
				}
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "token") {
				t.Errorf("the error shows more than the target's host: %v", err)
			}
			if n := leaked.Load(); n != 0 {
				t.Errorf("the redirect's target got %d requests", n)
			}
			if n := asked.Load(); n != 1 {
				t.Errorf("%d requests to the vendor, want 1 (a redirect is not retried)", n)
			}
		})
	}
}

// The wait this client chooses never exceeds MaxBackoff, keeps its jitter
// within [ceiling/4, ceiling), and grows 0.5s, 1s, 2s, ... up to the cap.
func TestBackoffStaysUnderTheCap(t *testing.T) {
	lowest := func(n int64) int64 { return 0 }
	highest := func(n int64) int64 { return n - 1 }
	for _, c := range []struct {
		max      time.Duration
		attempt  int
		min, top time.Duration // the wait is in [min, top]
	}{
		{30 * time.Second, 1, 125 * time.Millisecond, 500*time.Millisecond - 1},
		{30 * time.Second, 2, 250 * time.Millisecond, time.Second - 1},
		{30 * time.Second, 3, 500 * time.Millisecond, 2*time.Second - 1},
		{30 * time.Second, 4, time.Second, 4*time.Second - 1},
		{30 * time.Second, 5, 2 * time.Second, 8*time.Second - 1},
		{30 * time.Second, 7, 7500 * time.Millisecond, 30*time.Second - 1},  // 32s capped at 30s
		{30 * time.Second, 40, 7500 * time.Millisecond, 30*time.Second - 1}, // no overflow
		{3 * time.Second, 3, 500 * time.Millisecond, 2*time.Second - 1},
		{3 * time.Second, 4, 750 * time.Millisecond, 3*time.Second - 1},
		{20 * time.Millisecond, 1, 5 * time.Millisecond, 20*time.Millisecond - 1},
	} {
		lo, hi := backoff(c.attempt, c.max, lowest), backoff(c.attempt, c.max, highest)
		if lo != c.min || hi != c.top {
			t.Errorf("max %s, attempt %d: waits %s..%s, want %s..%s", c.max, c.attempt, lo, hi, c.min, c.top)
		}
		for range 1000 {
			if w := backoff(c.attempt, c.max, rand.Int64N); w < c.min || w > c.top || w > c.max {
				t.Fatalf("max %s, attempt %d: wait %s outside %s..%s", c.max, c.attempt, w, c.min, c.top)
			}
		}
	}
}
