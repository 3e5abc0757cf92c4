package warpstream

import (
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
)

// The key goes in the warpstream-api-key header, on a copy of the request.
func TestAuthorize(t *testing.T) {
	sent, caller := testkit.Headers(t, Slug, "WARPSTREAM", Settings, Authorize, map[string]string{"WARPSTREAM_API_KEY": "aks_k"})
	if sent.Get("warpstream-api-key") != "aks_k" || sent.Get("Accept") != "application/json" || caller.Get("warpstream-api-key") != "" {
		t.Errorf("sent %v, caller's request %v", sent, caller)
	}
}
