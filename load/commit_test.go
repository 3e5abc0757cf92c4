package load

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/transform"
)

// Tests of Partition.Commit replacing a partition as one unit: both files
// finished before either is committed, the Replacing marker, the commit's
// own context, the nothing-lost check and the read-back against concurrent
// runs.

var (
	linesKey    = DataKey(ChargeLines.Name, october10)
	invoicesKey = DataKey(Invoices.Name, october10)
	manifestK   = ManifestKey(october10)
)

// hookSink calls before on each Commit (an error fails that commit: the
// object is aborted) and after once it succeeded.
type hookSink struct {
	Sink
	mu     sync.Mutex
	before func(key string, n int) error // n: how many commits of key before this one
	after  func(key string, n int)
	n      map[string]int
}

func (h *hookSink) Create(ctx context.Context, key string) (Object, error) {
	obj, err := h.Sink.Create(ctx, key)
	if err != nil {
		return nil, err
	}
	return &hookObject{obj, h, key}, nil
}

type hookObject struct {
	Object
	h   *hookSink
	key string
}

func (o *hookObject) Commit() error {
	o.h.mu.Lock()
	if o.h.n == nil {
		o.h.n = map[string]int{}
	}
	n := o.h.n[o.key]
	o.h.n[o.key]++
	o.h.mu.Unlock()
	if o.h.before != nil {
		if err := o.h.before(o.key, n); err != nil {
			o.Object.Abort()
			return err
		}
	}
	if err := o.Object.Commit(); err != nil {
		return err
	}
	if o.h.after != nil {
		o.h.after(o.key, n)
	}
	return nil
}

// export writes a partition of lines and invoices as run, on ctx.
func export(ctx context.Context, sink Sink, run string, lines []transform.Line, invoices []transform.Invoice) (*Manifest, error) {
	s := &Store{Sink: sink, RunID: run, AsOf: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)}
	p, err := s.Begin(ctx, october10)
	if err != nil {
		return nil, err
	}
	for i := range lines {
		if err := p.Write(&lines[i]); err != nil {
			p.Abort()
			return nil, err
		}
	}
	return p.Commit(&transform.Result{Invoices: invoices})
}

func readManifest(t *testing.T, dir string) *Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, manifestK))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// assertMarkerOrConsistent checks what a reader of manifests may rely on:
// the manifest is a Replacing marker (not final, no files), or every file
// it lists is there with its size and sha256. It returns the manifest.
func assertMarkerOrConsistent(t *testing.T, dir string) *Manifest {
	t.Helper()
	m := readManifest(t, dir)
	if m.Replacing {
		if m.Final || len(m.Files) != 0 {
			t.Errorf("a marker that is final or lists files: %+v", m)
		}
		return m
	}
	if len(m.Files) != 2 {
		t.Errorf("manifest lists %d files", len(m.Files))
	}
	for _, f := range m.Files {
		sha, size := fileSHA(t, filepath.Join(dir, f.Key))
		if sha != f.SHA256 || size != f.Bytes {
			t.Errorf("%s: the manifest (run %s) says %d bytes %s, the file is %d bytes %s", f.Key, m.RunID, f.Bytes, f.SHA256, size, sha)
		}
	}
	return m
}

func tables(t *testing.T, dir string) map[string]string {
	t.Helper()
	s := snapshot(t, dir)
	for k := range s {
		if strings.HasPrefix(k, stagingDir) {
			delete(s, k)
		}
	}
	return s
}

func invoice(id string) transform.Invoice {
	inv := sampleInvoice
	inv.Provider, inv.InvoiceID = "spectrocloud", id
	return inv
}

// An invoice row failing validation, which is only known once the charge
// lines are written, commits nothing: the previous partition stays byte
// for byte, and no staging file is left.
func TestInvalidInvoiceCommitsNothing(t *testing.T) {
	dir := t.TempDir()
	sink, _ := NewFolder(dir)
	writePartition(t, sink, syntheticLines(5), []transform.Invoice{sampleInvoice})
	before := tables(t, dir)
	bad := sampleInvoice
	bad.BillingAccountID = ""
	_, err := export(context.Background(), sink, "run-2", syntheticLines(9), []transform.Invoice{bad})
	if err == nil || !strings.Contains(err.Error(), "missing a required column") {
		t.Fatalf("err = %v", err)
	}
	if after := tables(t, dir); !sameFiles(before, after) {
		t.Errorf("a failed commit changed the partition:\nbefore %v\nafter  %v", before, after)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, stagingDir)); len(entries) != 0 {
		t.Errorf("staging not cleaned: %v", entries)
	}
}

// A failure after the first file is committed (an upload of the invoices
// or of the manifest failing) leaves the Replacing marker, never a
// manifest over files it does not describe; the next run repairs it.
func TestFailureMidCommitLeavesTheMarker(t *testing.T) {
	for _, c := range []struct {
		name string
		fail func(key string, n int) bool
	}{
		{"invoices", func(key string, n int) bool { return key == invoicesKey }},
		// Commit 0 of the manifest is the marker, 1 the new manifest.
		{"manifest", func(key string, n int) bool { return key == manifestK && n == 1 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			folder, _ := NewFolder(dir)
			writePartition(t, folder, syntheticLines(5), []transform.Invoice{sampleInvoice})
			sink := &hookSink{Sink: folder, before: func(key string, n int) error {
				if c.fail(key, n) {
					return errors.New("upload failed")
				}
				return nil
			}}
			lines := syntheticLines(9)
			if _, err := export(context.Background(), sink, "run-2", lines, []transform.Invoice{sampleInvoice}); err == nil || !strings.Contains(err.Error(), "upload failed") {
				t.Fatalf("err = %v", err)
			}
			if m := assertMarkerOrConsistent(t, dir); !m.Replacing || m.RunID != "run-2" || m.Final {
				t.Fatalf("after a failed replacement, manifest = %+v", m)
			}
			// The next run repairs the partition.
			m, err := export(context.Background(), folder, "run-3", lines, []transform.Invoice{sampleInvoice})
			if err != nil {
				t.Fatal(err)
			}
			if got := assertMarkerOrConsistent(t, dir); got.Replacing || got.RunID != "run-3" || !got.Final || got.Rows != 9 {
				t.Errorf("after the rerun, manifest = %+v", got)
			}
			clean := t.TempDir()
			cs, _ := NewFolder(clean)
			cm := writePartition(t, cs, lines, []transform.Invoice{sampleInvoice})
			if !slices.Equal(m.Files, cm.Files) {
				t.Errorf("repaired files %v, a clean write gives %v", m.Files, cm.Files)
			}
		})
	}
}

// The run's context ending right after the first file is committed (the
// Lambda's deadline, Ctrl-C) does not cut the commit in half.
func TestCancelMidCommitFinishesTheCommit(t *testing.T) {
	dir := t.TempDir()
	folder, _ := NewFolder(dir)
	writePartition(t, folder, syntheticLines(5), []transform.Invoice{sampleInvoice})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &hookSink{Sink: folder, after: func(key string, _ int) {
		if key == linesKey {
			cancel()
		}
	}}
	m, err := export(ctx, sink, "run-2", syntheticLines(9), []transform.Invoice{sampleInvoice})
	if err != nil {
		t.Fatalf("a commit cut by the run's end: %v", err)
	}
	if got := assertMarkerOrConsistent(t, dir); got.Replacing || got.RunID != "run-2" || got.Rows != 9 || !slices.Equal(got.Files, m.Files) {
		t.Errorf("manifest = %+v", got)
	}
}

// A commit still going commitGrace after the run's end is stopped; what it
// leaves is the marker.
func TestCommitGraceRunsOut(t *testing.T) {
	defer func(g time.Duration) { commitGrace = g }(commitGrace)
	commitGrace = 50 * time.Millisecond
	dir := t.TempDir()
	folder, _ := NewFolder(dir)
	writePartition(t, folder, syntheticLines(5), []transform.Invoice{sampleInvoice})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &hookSink{Sink: folder, after: func(key string, _ int) {
		if key == linesKey {
			cancel()
			time.Sleep(300 * time.Millisecond) // a slow upload
		}
	}}
	_, err := export(ctx, sink, "run-2", syntheticLines(9), []transform.Invoice{sampleInvoice})
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the run's cancellation", err)
	}
	if m := assertMarkerOrConsistent(t, dir); !m.Replacing {
		t.Errorf("manifest = %+v", m)
	}
}

// A cancelled run commits nothing: Commit checks first.
func TestCommitAfterTheRunEndedCommitsNothing(t *testing.T) {
	dir := t.TempDir()
	folder, _ := NewFolder(dir)
	writePartition(t, folder, syntheticLines(5), []transform.Invoice{sampleInvoice})
	before := tables(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Store{Sink: folder, RunID: "run-2", AsOf: time.Now()}
	p, err := s.Begin(ctx, october10)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range syntheticLines(3) {
		p.Write(&l)
	}
	cancel()
	if _, err := p.Commit(&transform.Result{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if after := tables(t, dir); !sameFiles(before, after) {
		t.Errorf("changed:\nbefore %v\nafter  %v", before, after)
	}
}

// The marker is written only when the files change: a rerun of the same
// data (the common case) writes the data files and the manifest, nothing
// else; a changed partition is marked first.
func TestMarkerOnlyWhenTheFilesChange(t *testing.T) {
	folder, _ := NewFolder(t.TempDir())
	writePartition(t, folder, syntheticLines(5), []transform.Invoice{sampleInvoice})
	for _, c := range []struct {
		lines int
		want  []string
	}{
		{5, []string{"commit " + linesKey, "commit " + invoicesKey, "commit " + manifestK}},
		{6, []string{"commit " + manifestK, "commit " + linesKey, "commit " + invoicesKey, "commit " + manifestK}},
	} {
		sink := &orderSink{Sink: folder}
		if _, err := export(context.Background(), sink, "run-2", syntheticLines(c.lines), []transform.Invoice{sampleInvoice}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sink.log, c.want) {
			t.Errorf("%d lines: order = %q\nwant %q", c.lines, sink.log, c.want)
		}
	}
}

// An export lacking invoices the current partition holds does not replace
// it: the error names the missing ids, the run that exported them and the
// way out; the files stay byte for byte. After the manifest is deleted, as
// the message says, the export goes through.
func TestNothingLost(t *testing.T) {
	dir := t.TempDir()
	sink, _ := NewFolder(dir)
	lines := syntheticLines(5)
	if _, err := export(context.Background(), sink, "run-1", lines, []transform.Invoice{invoice("inv-a"), invoice("inv-b"), invoice("inv-c")}); err != nil {
		t.Fatal(err)
	}
	before := tables(t, dir)
	_, err := export(context.Background(), sink, "run-2", lines[:2], []transform.Invoice{invoice("inv-b")})
	if err == nil {
		t.Fatal("a partition losing invoices was replaced")
	}
	msg := err.Error()
	for _, want := range []string{"inv-a, inv-c", "run-1", "delete " + filepath.Join(dir, manifestK), "invoice ids the configuration lists"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "inv-b") || strings.Contains(msg, "\n") {
		t.Errorf("%q: names a present invoice or is not one line", msg)
	}
	if after := tables(t, dir); !sameFiles(before, after) {
		t.Errorf("the refused export changed the output:\nbefore %v\nafter  %v", before, after)
	}
	// More invoices than before, or the same: fine.
	if _, err := export(context.Background(), sink, "run-3", lines, []transform.Invoice{invoice("inv-a"), invoice("inv-b"), invoice("inv-c"), invoice("inv-d")}); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, manifestK))
	if _, err := export(context.Background(), sink, "run-4", lines[:2], []transform.Invoice{invoice("inv-b")}); err != nil {
		t.Fatalf("after deleting the manifest: %v", err)
	}
	if m := assertMarkerOrConsistent(t, dir); len(m.Invoices) != 1 || m.RunID != "run-4" {
		t.Errorf("manifest = %+v", m)
	}
}

// A replacement that died keeps protecting the invoices: the marker lists
// them.
func TestMarkerKeepsTheInvoices(t *testing.T) {
	dir := t.TempDir()
	folder, _ := NewFolder(dir)
	if _, err := export(context.Background(), folder, "run-1", syntheticLines(5), []transform.Invoice{invoice("inv-a")}); err != nil {
		t.Fatal(err)
	}
	sink := &hookSink{Sink: folder, before: func(key string, _ int) error {
		if key == invoicesKey {
			return errors.New("upload failed")
		}
		return nil
	}}
	if _, err := export(context.Background(), sink, "run-2", syntheticLines(6), []transform.Invoice{invoice("inv-a"), invoice("inv-b")}); err == nil {
		t.Fatal("no error")
	}
	_, err := export(context.Background(), folder, "run-3", syntheticLines(6), nil)
	if err == nil || !strings.Contains(err.Error(), "inv-a, inv-b") || !strings.Contains(err.Error(), "run-2") {
		t.Fatalf("err = %v", err)
	}
}

// Two runs with different data writing one partition at once, interleaved
// at each step of the commit: whatever the order, what is left is the
// marker or a consistent partition, and a run that found another's files
// says so.
func TestConcurrentRunsWithDifferentData(t *testing.T) {
	for _, c := range []struct {
		name string
		key  string
		n    int
	}{
		{"after A's marker", manifestK, 0},
		{"after A's charge lines", linesKey, 0},
		{"after A's invoices", invoicesKey, 0},
		{"after A's manifest", manifestK, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			folder, _ := NewFolder(dir)
			writePartition(t, folder, syntheticLines(5), []transform.Invoice{sampleInvoice})
			var errB error
			once := sync.Once{}
			sink := &hookSink{Sink: folder, after: func(key string, n int) {
				if key == c.key && n == c.n {
					once.Do(func() {
						// B runs whole between two of A's steps.
						_, errB = export(context.Background(), folder, "run-b", syntheticLines(8), []transform.Invoice{sampleInvoice})
					})
				}
			}}
			_, errA := export(context.Background(), sink, "run-a", syntheticLines(7), []transform.Invoice{sampleInvoice})
			m := assertMarkerOrConsistent(t, dir)
			t.Logf("A: %v; B: %v; manifest of %s, replacing %v", errA, errB, m.RunID, m.Replacing)
			if m.Replacing {
				if errA == nil && errB == nil {
					t.Error("a marker is left and both runs succeeded")
				}
			} else if m.RunID == "run-a" && errA != nil || m.RunID == "run-b" && errB != nil {
				t.Errorf("the manifest's run reported an error")
			}
			if errA != nil && !strings.Contains(errA.Error(), "another run") {
				t.Errorf("A: %v", errA)
			}
			// The next run repairs.
			if _, err := export(context.Background(), folder, "run-c", syntheticLines(7), []transform.Invoice{sampleInvoice}); err != nil {
				t.Fatal(err)
			}
			if m := assertMarkerOrConsistent(t, dir); m.Replacing || m.RunID != "run-c" {
				t.Errorf("after the rerun: %+v", m)
			}
		})
	}
}

// A rerun of unchanged data writes no marker first; but if it fails after
// committing a file, a concurrent run may have replaced the partition in
// between (here: whole, between A's two data commits), so it writes the
// marker then: never B's manifest over A's charge lines.
func TestFailedRerunAfterAConcurrentRunLeavesTheMarker(t *testing.T) {
	dir := t.TempDir()
	folder, _ := NewFolder(dir)
	writePartition(t, folder, syntheticLines(5), []transform.Invoice{sampleInvoice})
	sink := &hookSink{Sink: folder,
		after: func(key string, _ int) {
			if key == linesKey {
				if _, err := export(context.Background(), folder, "run-b", syntheticLines(8), []transform.Invoice{sampleInvoice}); err != nil {
					t.Error(err)
				}
			}
		},
		before: func(key string, _ int) error {
			if key == invoicesKey {
				return errors.New("upload failed")
			}
			return nil
		},
	}
	if _, err := export(context.Background(), sink, "run-a", syntheticLines(5), []transform.Invoice{sampleInvoice}); err == nil {
		t.Fatal("no error")
	}
	if m := assertMarkerOrConsistent(t, dir); !m.Replacing {
		t.Errorf("manifest = %+v", m)
	}
}

// A final invoice that no longer reconciles does not replace the version
// of it that did (matched by id and currency); a draft one does, and so
// does one replacing data that did not reconcile either. Accepted on
// purpose, the replacement goes through and its manifest says so.
func TestStillReconciled(t *testing.T) {
	unreconciled := func(inv transform.Invoice, final bool) transform.Invoice {
		inv.Final, inv.Reconciled, inv.Status = final, false, "draft"
		if final {
			inv.Status = "final"
		}
		inv.LinesTotal, inv.Problem = transform.MustDecimal("0.01"), "the lines add up to 0.01"
		return inv
	}
	exportAs := func(sink Sink, run string, accept bool, lines int, invoices ...transform.Invoice) (*Manifest, error) {
		s := &Store{Sink: sink, RunID: run, AsOf: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), AcceptUnreconciled: accept}
		p, err := s.Begin(context.Background(), october10)
		if err != nil {
			return nil, err
		}
		ls := syntheticLines(lines)
		for i := range ls {
			p.Write(&ls[i])
		}
		return p.Commit(&transform.Result{Invoices: invoices})
	}
	good := []transform.Invoice{invoice("inv-a"), invoice("inv-b")}
	for _, c := range []struct {
		name     string
		old, new []transform.Invoice
		accept   bool
		refused  string // "" when the partition is replaced
	}{
		{"final, no longer reconciles", good, []transform.Invoice{unreconciled(invoice("inv-a"), true), invoice("inv-b")}, false,
			"the vendor now sends 1 lines (run run-1 exported 40, reconciled): final invoice inv-a (USD): lines add up to 0.01 against its total of 22.77; the partition is kept;"},
		{"both final invoices", good, []transform.Invoice{unreconciled(invoice("inv-a"), true), unreconciled(invoice("inv-b"), true)}, false,
			"final invoice inv-a (USD): lines add up to 0.01 against its total of 22.77; final invoice inv-b (USD)"},
		{"draft", good, []transform.Invoice{unreconciled(invoice("inv-a"), false), invoice("inv-b")}, false, ""},
		{"did not reconcile before either", []transform.Invoice{unreconciled(invoice("inv-a"), true)}, []transform.Invoice{unreconciled(invoice("inv-a"), true)}, false, ""},
		{"another currency", good, []transform.Invoice{invoice("inv-a"), invoice("inv-b"), func() transform.Invoice {
			inv := unreconciled(invoice("inv-a"), true)
			inv.Currency = "EUR"
			return inv
		}()}, false, ""},
		{"accepted", good, []transform.Invoice{unreconciled(invoice("inv-a"), true), invoice("inv-b")}, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			sink, _ := NewFolder(dir)
			if _, err := exportAs(sink, "run-1", false, 40, c.old...); err != nil {
				t.Fatal(err)
			}
			before := tables(t, dir)
			m, err := exportAs(sink, "run-2", c.accept, 1, c.new...)
			if c.refused != "" {
				if err == nil || !strings.Contains(err.Error(), c.refused) || !strings.Contains(err.Error(), "--accept-unreconciled") || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line saying %q", err, c.refused)
				}
				if after := tables(t, dir); !sameFiles(before, after) {
					t.Errorf("the refused export changed the output")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := assertMarkerOrConsistent(t, dir); got.RunID != "run-2" || got.Rows != 1 {
				t.Errorf("not replaced: %+v", got)
			}
			accepted := slices.ContainsFunc(m.Notes, func(n string) bool {
				return strings.HasPrefix(n, "replaced a reconciled partition on purpose (accept-unreconciled): the vendor now sends 1 lines (run run-1 exported 40, reconciled)")
			})
			if accepted != c.accept {
				t.Errorf("notes %q", m.Notes)
			}
		})
	}
}
