package invoiceexport_test

import (
	"fmt"
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
	if len(res.Failures) != 1 || !strings.HasPrefix(res.Failures[0].Error(), want) || len(res.Partitions) != 4 {
		t.Errorf("failures %v, %d partitions; want one failure %q and the other providers' 4 partitions", res.Failures, len(res.Partitions), want)
	}
}
