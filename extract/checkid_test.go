package extract

import (
	"strings"
	"testing"
)

// CheckID guards the capture layout only: what would leave its folder or
// its file name is refused; what only means something in a URL is a valid
// id (Path escapes it).
func TestCheckIDGuardsTheCaptureLayout(t *testing.T) {
	for _, id := range []string{"inv-10", "inv%2Fx", "inv-1?x=1#frag", "a b", "inv;v=2", "ü", "a.b", strings.Repeat("x", 200)} {
		if err := CheckID("p", "invoice id", id); err != nil {
			t.Errorf("%q refused: %v", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", "a/b", `a\b`, "a..b", "../x", "a\nb", "a\x00b", "a\x7fb", strings.Repeat("x", 201)} {
		err := CheckID("p", "invoice id", id)
		if err == nil || !strings.Contains(err.Error(), "is not a safe identifier") {
			t.Errorf("%q: %v, want it refused", id, err)
		}
	}
}
