package extract

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A failed call tells the status the vendor answered with, whatever the
// message wraps around it; a call that got no answer tells 0.
func TestStatusOfAFailedCall(t *testing.T) {
	for _, code := range []int{http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusUnauthorized} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"message":"no"}`, code)
		}))
		_, err := testSource(srv.URL, HTTPOptions{}).Fetch(context.Background(), wsCall)
		srv.Close()
		if err == nil || Status(err) != code {
			t.Errorf("HTTP %d: Status(%v) = %d", code, err, Status(err))
		}
		if code == http.StatusNotFound && !errors.Is(err, ErrNotFound) {
			t.Errorf("404 no longer wraps ErrNotFound: %v", err)
		}
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nobody answers
	_, err := testSource(srv.URL, HTTPOptions{Attempts: 1}).Fetch(context.Background(), wsCall)
	if err == nil || Status(err) != 0 {
		t.Errorf("no answer: Status(%v) = %d, want 0", err, Status(err))
	}
	if _, err := Dir(t.TempDir()).Fetch(context.Background(), wsCall); Status(err) != 0 || !errors.Is(err, ErrNotFound) {
		t.Errorf("a missing capture: Status(%v) = %d", err, Status(err))
	}
}
