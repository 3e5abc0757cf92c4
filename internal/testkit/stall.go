package testkit

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Stalling is a proxy in front of a fake vendor API that passes requests
// on, except that the answers to those stall picks send their status line,
// their headers and the first bytes of their body, then nothing more until
// the client gives up: a vendor that stalls mid-body.
type Stalling struct {
	*httptest.Server
	mu      sync.Mutex
	stalled map[string]int // stalled answers per request path
}

// StallingProxy fronts upstream; stall picks the requests to stall.
func StallingProxy(t testing.TB, upstream string, stall func(*http.Request) bool) *Stalling {
	s := &Stalling{stalled: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
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
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		if !stall(r) {
			w.Write(b)
			return
		}
		s.mu.Lock()
		s.stalled[r.URL.Path]++
		s.mu.Unlock()
		w.Write(b[:min(len(b), 64)])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the client went away
	}))
	t.Cleanup(s.Close)
	return s
}

// Stalled says how many answers to path were stalled.
func (s *Stalling) Stalled(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stalled[path]
}
