package testkit

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Fault is one way a vendor misbehaves.
type Fault int

const (
	Unavailable Fault = iota // 503
	TooMany                  // 429 with Retry-After: 1
	Reset                    // the connection closed with no answer
	Truncated                // a 200 whose body stops short of its Content-Length
	Slow                     // the right answer, late
	faultKinds
)

func (f Fault) String() string {
	return [...]string{"503", "429", "reset", "truncated", "slow"}[f]
}

// Faulty is a proxy in front of a fake vendor API that answers the first
// tries of every distinct request with faults, in rotation, before letting
// one through: a flaky vendor that a client with retries gets through.
type Faulty struct {
	*httptest.Server
	mu     sync.Mutex
	seen   map[string]int // tries per distinct request
	next   Fault
	counts map[Fault]int
}

// FaultyProxy fronts upstream; each distinct request (method, path, query,
// body) fails `faults` times before it is passed on.
func FaultyProxy(t testing.TB, upstream string, faults int) *Faulty {
	f := &Faulty{seen: map[string]int{}, counts: map[Fault]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := r.Method + " " + r.URL.RequestURI() + " " + string(body)
		f.mu.Lock()
		try := f.seen[id]
		f.seen[id]++
		fault := f.next
		if try < faults {
			f.next = (f.next + 1) % faultKinds
			f.counts[fault]++
		}
		f.mu.Unlock()
		if try >= faults {
			f.forward(w, r, upstream, body, false)
			return
		}
		switch fault {
		case Unavailable:
			http.Error(w, "<html>503 Service Temporarily Unavailable</html>", http.StatusServiceUnavailable)
		case TooMany:
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"message":"rate limit exceeded"}`, http.StatusTooManyRequests)
		case Reset:
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				c.Close()
			}
		case Truncated:
			f.forward(w, r, upstream, body, true)
		case Slow:
			time.Sleep(300 * time.Millisecond)
			f.forward(w, r, upstream, body, false)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// Counts says how many times each fault was served.
func (f *Faulty) Counts() map[Fault]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[Fault]int{}
	for k, v := range f.counts {
		out[k] = v
	}
	return out
}

func (f *Faulty) forward(w http.ResponseWriter, r *http.Request, upstream string, body []byte, truncate bool) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	if !truncate {
		w.WriteHeader(resp.StatusCode)
		w.Write(b)
		return
	}
	// Written by hand on the hijacked connection: the status line and the
	// full Content-Length, then half the body, then the connection closes.
	c, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(fmt.Sprintf("truncating: %v", err))
	}
	defer c.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %s\r\n\r\n",
		resp.StatusCode, http.StatusText(resp.StatusCode), resp.Header.Get("Content-Type"), strconv.Itoa(len(b)))
	buf.Write(b[:len(b)/2])
	buf.Flush()
}
