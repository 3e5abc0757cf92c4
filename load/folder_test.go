package load

import (
	"context"
	"io/fs"
	"os"
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

// A killed run's staging files (nobody holds them) are removed when the
// next run opens the folder, once untouched for stagingGrace; a live
// run's (held) are kept whatever their age, and so are fresh ones and
// anything that is not a staging file.
func TestSweepRemovesOnlyDeadRunsFiles(t *testing.T) {
	dir := t.TempDir()
	staging := filepath.Join(dir, stagingDir)
	os.MkdirAll(staging, 0o755)
	old := time.Now().Add(-stagingGrace - time.Minute)
	file := func(name string, mtime time.Time) string {
		p := filepath.Join(staging, name)
		if err := os.WriteFile(p, []byte("part of a partition"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mtime, mtime)
		return p
	}
	dead := file("111.tmp", old)
	fresh := file("222.tmp", time.Now())
	other := file("notes.txt", old)
	held := file("333.tmp", old)
	live, err := os.Open(held) // a run still writing it holds the lock
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	lockStaged(live)
	if _, err := NewFolder(dir); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{dead: false, fresh: true, other: true, held: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists = %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}

// A file where the staging folder goes is refused when the folder is
// opened, in one error naming it, before anything is written.
func TestStagingIsAFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, stagingDir), nil, 0o644)
	_, err := NewFolder(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, stagingDir)+" is not a folder") {
		t.Fatalf("err = %v", err)
	}
}
