package extract

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// stallServer answers every request with its status line, headers and the
// start of a body, then sends a byte every `every` (never, when 0) until
// the client goes away; it counts the requests.
func stallServer(t *testing.T, every time.Duration) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(stallStart))
		w.(http.Flusher).Flush()
		var tick <-chan time.Time
		if every > 0 {
			tk := time.NewTicker(every)
			defer tk.Stop()
			tick = tk.C
		}
		for {
			select {
			case <-r.Context().Done():
				return
			case <-tick:
				w.Write([]byte(" "))
				w.(http.Flusher).Flush()
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

const stallStart = `{"date_from":"2026-10-01","tenants":[` // 37 bytes

// fetchWithin runs Fetch and fails the test if it takes longer than limit
// (a stalled call would otherwise hang it for minutes); the call is then
// cancelled, so that the server can close.
func fetchWithin(t *testing.T, ctx context.Context, src *HTTP, limit time.Duration) (error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		b, err := src.Fetch(ctx, wsCall)
		if b != nil {
			b.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err, time.Since(start)
	case <-time.After(limit):
		cancel()
		<-done
		t.Fatalf("Fetch still running after %s", limit)
		return nil, 0
	}
}

// A vendor that sends its headers and then stalls the body: each attempt
// ends after ReadIdleTimeout without a byte, is retried, and the call
// fails with a message naming the vendor, the call and the stall.
func TestStalledBodyIsRetriedThenFails(t *testing.T) {
	srv, requests := stallServer(t, 0)
	src := testSource(srv.URL, HTTPOptions{Attempts: 3, ReadIdleTimeout: 100 * time.Millisecond, CallTimeout: time.Minute})
	err, took := fetchWithin(t, context.Background(), src, 5*time.Second)
	want := "warpstream get_past_invoice (POST /api/v1/billing/invoices/get_past_invoice): gave up after 3 attempts: reading the response body: no byte for 100ms after 37 bytes (the vendor stalled)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if took < 300*time.Millisecond || took > 2*time.Second {
		t.Errorf("took %s, want about 3 × 100ms", took)
	}
}

// The call's time limit holds whatever the vendor does: a body that
// trickles a byte at a time (never idle) is cut by it, and so is a vendor
// that stalls every attempt, retries and waits included.
func TestCallTimeoutBoundsTheWholeCall(t *testing.T) {
	for _, c := range []struct {
		name         string
		every        time.Duration
		min, max     int32 // requests
		wantInErrMsg string
	}{
		{"trickling body", 20 * time.Millisecond, 1, 1, "after 1 attempt(s): reading the response body: time ran out "},
		// The limit comes during an attempt or a wait: either way the
		// message says the last complete attempt stalled.
		{"stalled attempts", 0, 3, 6, "reading the response body: no byte for 150ms after 37 bytes (the vendor stalled)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, requests := stallServer(t, c.every)
			src := testSource(srv.URL, HTTPOptions{Attempts: 100, ReadIdleTimeout: 150 * time.Millisecond, CallTimeout: 700 * time.Millisecond})
			err, took := fetchWithin(t, context.Background(), src, 5*time.Second)
			prefix := "warpstream get_past_invoice (POST /api/v1/billing/invoices/get_past_invoice): no complete answer within 700ms, the time limit of one call (VENDOR_CALL_TIMEOUT), after "
			if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), c.wantInErrMsg) {
				t.Fatalf("err = %v", err)
			}
			// A call gives up as soon as the next wait would not fit in its
			// limit (extract/http.go), so it may end a backoff before 700ms.
			if took < 500*time.Millisecond || took > 2*time.Second {
				t.Errorf("took %s, want the call's 700ms", took)
			}
			if n := requests.Load(); n < c.min || n > c.max {
				t.Errorf("%d requests, want %d to %d", n, c.min, c.max)
			}
		})
	}
}

// The run's deadline (the Lambda's) ends a stalled call before its own
// limits do.
func TestRunDeadlineEndsAStalledCall(t *testing.T) {
	srv, _ := stallServer(t, 0)
	src := testSource(srv.URL, HTTPOptions{ReadIdleTimeout: time.Minute, CallTimeout: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err, took := fetchWithin(t, ctx, src, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "warpstream get_past_invoice (POST ") || !strings.Contains(err.Error(), "context deadline exceeded (last failure: reading the response body: time ran out ") ||
		!strings.HasSuffix(err.Error(), "after the last byte, 37 bytes in)") {
		t.Fatalf("err = %v", err)
	}
	if took > time.Second {
		t.Errorf("took %s, want the run's 300ms", took)
	}
}
