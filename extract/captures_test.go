package extract

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A recorded capture appears whole, where the layout puts it, readable by
// whoever replays it.
func TestSaveToDir(t *testing.T) {
	dir := t.TempDir()
	if err := SaveToDir(dir)(context.Background(), "warpstream/past_invoice/2026-10.json", strings.NewReader(`{"total": 1}`)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "warpstream", "past_invoice", "2026-10.json")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != `{"total": 1}` || st.Mode().Perm() != 0o644 {
		t.Errorf("%s: %q, mode %v", path, b, st.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "warpstream", "past_invoice", ".capture-*")); len(left) != 0 {
		t.Errorf("staging files left: %v", left)
	}
}
