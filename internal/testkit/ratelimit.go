package testkit

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Limited is a proxy in front of a fake vendor API that enforces a rate
// limit as a vendor does: a token bucket of burst requests refilled at rps;
// a request finding it empty is answered 429.
type Limited struct {
	*httptest.Server
	mu       sync.Mutex
	tokens   float64
	last     time.Time
	requests int
	rejected int
}

func RateLimited(t testing.TB, upstream string, rps float64, burst int) *Limited {
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	l := &Limited{tokens: float64(burst), last: time.Now()}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		now := time.Now()
		l.tokens = min(float64(burst), l.tokens+now.Sub(l.last).Seconds()*rps)
		l.last = now
		l.requests++
		ok := l.tokens >= 1
		if ok {
			l.tokens--
		} else {
			l.rejected++
		}
		l.mu.Unlock()
		if !ok {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"message":"rate limit exceeded"}`, http.StatusTooManyRequests)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(l.Close)
	return l
}

// Counts returns the requests received and how many were answered 429.
func (l *Limited) Counts() (requests, rejected int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.requests, l.rejected
}
