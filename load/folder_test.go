package load

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/transform"
)

// What the folder sink commits is readable by others (0644), not
// owner-only as os.CreateTemp makes it: data files, manifests, raw files.
func TestFolderFilesAreWorldReadable(t *testing.T) {
	dir := t.TempDir()
	sink, _ := NewFolder(dir)
	writePartition(t, sink, syntheticLines(3), []transform.Invoice{sampleInvoice})
	s := &Store{Sink: sink, RunID: "run-1"}
	if err := s.SaveRaw(time.Now())(context.Background(), "warpstream/pending_invoice.json", strings.NewReader("{}")); err != nil {
		t.Fatal(err)
	}
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		info, err := d.Info()
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o644 {
			rel, _ := filepath.Rel(dir, p)
			t.Errorf("%s: mode %v, want -rw-r--r--", rel, mode)
		}
		return nil
	})
	if n != 4 {
		t.Errorf("%d files written, want 4", n)
	}
}
