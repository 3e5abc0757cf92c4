package spectrocloud

import (
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
)

// The key goes in the ApiKey header, and nowhere else.
func TestAuthorize(t *testing.T) {
	sent, caller := testkit.Headers(t, Slug, "SPECTROCLOUD", Settings, Authorize, map[string]string{"SPECTROCLOUD_API_KEY": "sc-k"})
	if sent.Get("ApiKey") != "sc-k" || sent.Get("Authorization") != "" || caller.Get("ApiKey") != "" {
		t.Errorf("sent %v, caller's request %v", sent, caller)
	}
}
