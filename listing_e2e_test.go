package invoiceexport_test

import (
	"fmt"
	"github.com/invoice-export/invoice-export/internal/registry"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A list naming more invoices for one period than a period may fetch
// (extract.MaxCalls) fails its provider before any invoice is fetched,
// with one line; the other providers are written.
func TestTooManyInvoicesInOnePeriod(t *testing.T) {
	in := t.TempDir()
	if err := os.CopyFS(in, os.DirFS(sampleDir)); err != nil {
		t.Fatal(err)
	}
	var invs []string
	for i := range 101 {
		invs = append(invs, fmt.Sprintf(`{"invoice_id": "inv-%03d", "period_start": "2026-10-01T00:00:00Z"}`, i))
	}
	list := `{"invoices": [` + strings.Join(invs, ", ") + `]}`
	if err := os.WriteFile(filepath.Join(in, "cockroachdb/invoices.json"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	res := export(t, run{In: in, Out: t.TempDir()})
	want := "cockroachdb: listing invoices: cockroachdb 2026-10: the listing names 101 calls for this period, more than the 100 one period may make"
	others := 2 * (len(registry.Slugs()) - 1) // two months of every other provider
	if len(res.Failures) != 1 || !strings.HasPrefix(res.Failures[0].Error(), want) || len(res.Partitions) != others {
		t.Errorf("failures %v, %d partitions; want one failure %q and the other providers' %d partitions", res.Failures, len(res.Partitions), want, others)
	}
}

// A period whose 50 calls all fail: its log record and the run's error
// list 10 causes each and count the rest.
func TestManyCausesAreListedBounded(t *testing.T) {
	in := t.TempDir()
	if err := os.CopyFS(in, os.DirFS(sampleDir)); err != nil {
		t.Fatal(err)
	}
	var invs []string
	for i := range 50 {
		invs = append(invs, fmt.Sprintf(`{"invoice_id": "missing-%02d", "period_start": "2026-10-01T00:00:00Z"}`, i))
	}
	if err := os.WriteFile(filepath.Join(in, "cockroachdb/invoices.json"), []byte(`{"invoices": [`+strings.Join(invs, ", ")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res := export(t, run{In: in, Out: t.TempDir(), Providers: []string{"cockroachdb"}})
	if len(res.Failures) != 1 {
		t.Fatalf("failures: %v", res.Failures)
	}
	msg := res.Err().Error()
	if n := strings.Count(msg, "\n") + 1; n != 11 || !strings.HasSuffix(msg, `and 40 more cause(s), of 1 failed provider/period(s) in all: each is logged ("export failed")`) {
		t.Errorf("%d lines:\n%s", n, msg)
	}
	var record string
	for _, l := range strings.Split(res.log, "\n") {
		if strings.Contains(l, "export failed") {
			record = l
		}
	}
	if !strings.Contains(record, `and 40 more cause(s)`) || len(record) > 8000 {
		t.Errorf("the log record (%d bytes): %.300s", len(record), record)
	}
}
