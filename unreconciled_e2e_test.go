package invoiceexport_test

import (
	"encoding/json"
	"fmt"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/load"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
)

// A vendor that keeps a closed month's final invoice but stops sending its
// lines (empty WarpStream breakdowns, CockroachDB invoices without items)
// does not replace the reconciled month: that period fails with one line
// saying what the vendor now sends and how to accept it, and its files
// stay byte for byte. The open month, whose invoices are still pending or
// draft, is replaced as always. Accepting unreconciled data
// (--accept-unreconciled, the event's accept_unreconciled) lets the closed
// month through, and its manifest says so. (cmd/local's flag, exit status
// and summary note: its TestAcceptUnreconciledFlag.)
func TestClosedMonthNotReplacedByUnreconciled(t *testing.T) {
	caps := testkit.CopyCaptures(t, sampleDir)
	out := t.TempDir()
	exportAll := func(accept bool) result {
		return export(t, run{In: caps, Out: out, AcceptUnreconciled: accept})
	}
	if res := exportAll(false); !res.OK() {
		t.Fatalf("good run: %v", res.Err())
	}
	closed := []string{"warpstream", "cockroachdb"} // their 2026-10 invoices are final
	partition := func(provider, period string) map[string]string {
		files := map[string]string{}
		for _, table := range []string{"charge_lines", "invoices"} {
			per, _ := billing.ParsePeriod(period)
			k := load.DataKey(table, load.Unit{Provider: provider, Account: "default", Period: per})
			sha, _ := fileSHA(t, filepath.Join(out, k))
			files[k] = sha
		}
		per, _ := billing.ParsePeriod(period)
		m, err := os.ReadFile(filepath.Join(out, load.ManifestKey(load.Unit{Provider: provider, Account: "default", Period: per})))
		if err != nil {
			t.Fatal(err)
		}
		files["manifest"] = string(m)
		return files
	}
	before := map[string]map[string]string{}
	for _, p := range closed {
		before[p+" 2026-10"] = partition(p, "2026-10")
		before[p+" 2026-11"] = partition(p, "2026-11")
	}

	testkit.DropLines(t, caps, "2026-10")
	testkit.DropLines(t, caps, "2026-11")
	res := exportAll(false)
	if len(res.Failures) != 2 {
		t.Fatalf("want one failure per closed month, got: %v", res.Err())
	}
	for i, p := range closed {
		f := res.Failures[i]
		var m struct {
			RunID string `json:"run_id"`
			Rows  int64
		}
		json.Unmarshal([]byte(before[p+" 2026-10"]["manifest"]), &m)
		msg := f.Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: more than one line: %q", p, msg)
		}
		for _, want := range []string{
			p + " 2026-10: not replacing the partition, which reconciled, with one that does not: the vendor now sends ",
			fmt.Sprintf(" lines (run %s exported %d, reconciled): final ", m.RunID, m.Rows),
			"against its total of ",
			"--accept-unreconciled",
			`"accept_unreconciled": true`,
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: %q does not say %q", p, msg, want)
			}
		}
		if got := partition(p, "2026-10"); !mapsEqual(got, before[p+" 2026-10"]) {
			t.Errorf("%s 2026-10 changed although its replacement was refused", p)
		}
		if got := partition(p, "2026-11"); mapsEqual(got, before[p+" 2026-11"]) {
			t.Errorf("%s 2026-11, an open month, was not replaced", p)
		}
	}

	res = exportAll(true)
	if !res.OK() {
		t.Fatalf("accepting: %v", res.Err())
	}
	if !strings.Contains(res.log, "accept-unreconciled") {
		t.Errorf("the run did not log that it accepts unreconciled invoices:\n%s", res.log)
	}
	for _, p := range closed {
		got := partition(p, "2026-10")
		if mapsEqual(got, before[p+" 2026-10"]) {
			t.Errorf("%s 2026-10 was not replaced when accepting", p)
		}
		var m struct {
			Reconciled bool
			Rows       int64
			Notes      []string
		}
		json.Unmarshal([]byte(got["manifest"]), &m)
		if m.Reconciled || m.Rows >= 10 || !strings.Contains(strings.Join(m.Notes, "\n"), "replaced a reconciled partition on purpose (accept-unreconciled)") {
			t.Errorf("%s 2026-10 manifest: %+v", p, m)
		}
		if !slices.ContainsFunc(notes(res), func(n string) bool {
			return strings.HasPrefix(n, p+" 2026-10: replaced a reconciled partition on purpose")
		}) {
			t.Errorf("the report has no note for %s: %q", p, notes(res))
		}
	}
	// What was accepted is now the partition: the next run replaces it
	// without accepting.
	if res := exportAll(false); !res.OK() {
		t.Errorf("rerun after accepting: %v", res.Err())
	}
}
