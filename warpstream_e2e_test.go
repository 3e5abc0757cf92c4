package invoiceexport_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
)

// Live mode against a fake WarpStream API gives exactly the replay's data
// files, records exactly what the API sent, and lands it under raw/.
func TestLiveWarpStreamEqualsReplay(t *testing.T) {
	const key = "aks_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
	api := testkit.FakeWarpStream(t, sampleDir, key, "POST")
	env := map[string]string{"WARPSTREAM_API_KEY": key, "WARPSTREAM_API_URL": api.URL}
	live, replay, rec := t.TempDir(), t.TempDir(), t.TempDir()
	res := export(t, run{Env: env, Live: true, Providers: []string{"warpstream"}, Out: live, Record: rec})
	if !res.OK() {
		t.Fatalf("live: %v\n%s", res.Err(), res.log)
	}
	mustExport(t, run{Providers: []string{"warpstream"}, Out: replay})
	if l, r := dataFiles(t, live), dataFiles(t, replay); len(l) != 4 || !mapsEqual(l, r) {
		t.Fatalf("live and replay differ:\nlive   %v\nreplay %v", l, r)
	}
	calls := api.Calls()
	slices.Sort(calls)
	want := []string{
		"POST /api/v1/billing/invoices/get_invoice_breakdowns",
		"POST /api/v1/billing/invoices/get_invoice_breakdowns",
		"POST /api/v1/billing/invoices/get_past_invoice",
		"POST /api/v1/billing/invoices/get_pending_invoice",
	}
	if !slices.Equal(calls, want) {
		t.Errorf("calls = %v, want %v", calls, want)
	}
	// --record and raw/ hold the bodies byte for byte, in the capture layout.
	raws, _ := filepath.Glob(filepath.Join(live, "raw", "*", "*", "warpstream", "*.json"))
	if len(raws) != 1 {
		t.Errorf("raw landing: %v", raws)
	}
	for _, f := range []string{"pending_invoice.json", "past_invoice/2026-10.json", "invoice_breakdowns/2026-10.json", "invoice_breakdowns/2026-11.json"} {
		want, _ := os.ReadFile(filepath.Join("testdata/captures/warpstream", f))
		got, err := os.ReadFile(filepath.Join(rec, "warpstream", f))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("--record %s: %v (equal=%v)", f, err, bytes.Equal(got, want))
		}
	}
	// The key is nowhere in what the run printed or wrote.
	if strings.Contains(res.printed(), key) {
		t.Error("the API key was printed")
	}
	filepath.WalkDir(live, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(key)) {
				t.Errorf("the API key is in %s", p)
			}
		}
		return nil
	})

	// A rejected key: one clear line naming the vendor and the variable,
	// without the key; nothing written.
	bad := map[string]string{"WARPSTREAM_API_KEY": "aks_wrong_key_value", "WARPSTREAM_API_URL": api.URL}
	out := t.TempDir()
	res = export(t, run{Env: bad, Live: true, Providers: []string{"warpstream"}, Out: out})
	if res.OK() || !strings.Contains(res.printed(), "WARPSTREAM_API_KEY") || !strings.Contains(res.printed(), "401") || strings.Contains(res.printed(), "aks_wrong_key_value") {
		t.Errorf("bad key:\n%s", res.printed())
	}
	if files := dataFiles(t, out); len(files) != 0 {
		t.Errorf("bad key wrote %v", files)
	}
}
