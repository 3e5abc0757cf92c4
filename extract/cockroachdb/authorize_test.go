package cockroachdb

import (
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
)

// The key is a bearer token, sent with the API version the responses are
// read in.
func TestAuthorize(t *testing.T) {
	sent, caller := testkit.Headers(t, Slug, "COCKROACH", Settings, Authorize, map[string]string{"COCKROACH_API_KEY": "CCDB1_k"})
	if sent.Get("Authorization") != "Bearer CCDB1_k" || sent.Get("Cc-Version") != "2024-09-16" || caller.Get("Authorization") != "" {
		t.Errorf("sent %v, caller's request %v", sent, caller)
	}
}
