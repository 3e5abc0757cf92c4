package invoiceexport_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/internal/testkit"
)

// Keys of the echo tests: long, and made of runs no output holds, so that
// any keyWindow bytes of one found in what a run printed or wrote are a leak.
const (
	echoWSKey   = "aks_ECHO7f3a9c1e5b8d2f4a6c0e9b7d5f3a1c8e6b4d2f0a9c7e5b3d1f8a6c4e2b0d9e"
	echoCRDBKey = "CCDB1_ECHO4k9Qz2Lm8Rt6Wv1Xy3Nb5Hj7Fd0Gs_Pq2Zc4Vb6Nm8Kl1Jh3Gf5Ds7Ae9R"
	echoSCKey   = "SCKEY-ECHO-9x8w7v6u5t4s3r2q1p0o9n8m7l6k5j4i3h2g1f0eZyXwVuTsRqPo"
	keyWindow   = 12
)

// leak returns the first keyWindow-byte run of key found in s, or "".
func leak(s []byte, key string) string {
	for i := 0; i+keyWindow <= len(key); i++ {
		if bytes.Contains(s, []byte(key[i:i+keyWindow])) {
			return key[i : i+keyWindow]
		}
	}
	return ""
}

// assertNoKeyRun checks that no keyWindow bytes of key are in what the run
// printed (its log and failures) nor in any file under dirs.
func assertNoKeyRun(t *testing.T, key, printed string, dirs ...string) {
	t.Helper()
	if l := leak([]byte(printed), key); l != "" {
		t.Errorf("the run printed %q, part of the key:\n%s", l, printed)
	}
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(p)
				if l := leak(b, key); l != "" {
					t.Errorf("%s holds %q, part of the key", p, l)
				}
			}
			return nil
		})
	}
}

// A vendor that echoes its API key in a 200 answer (in a string field
// exported as a column, as a date, as a number) gets nothing stored: the
// period fails with one failure that names the call and says why, the body is
// neither in --record's folder nor under raw/, the partition from an
// earlier run stays byte for byte, and nothing printed or written holds
// the key or any part of it long enough to matter.
func TestVendorEchoingTheKeyGetsNothingStored(t *testing.T) {
	caps := sampleDir
	const (
		wsBreakdowns = "warpstream/invoice_breakdowns/2026-10.json"
		crdbInvoice  = "cockroachdb/invoice/3b0d7c52-9a4e-4f1b-8c6d-2e5f7a9b1c04.json"
		scList       = "spectrocloud/invoices/0001.json"
		scInvoice    = "spectrocloud/invoice/6540e1f2a3b4c5d6e7f80912.json"
	)
	// The call that answers each file.
	endpoint := map[string]string{wsBreakdowns: "get_invoice_breakdowns", crdbInvoice: "GetInvoice", scList: "v1InvoicesList", scInvoice: "v1InvoicesUidGet"}
	for _, c := range []struct {
		name, key, file, old, new string
		failed                    string // the period that fails ("" for the whole provider)
	}{
		{"warpstream/string", echoWSKey, wsBreakdowns, `"cluster_name": "vcn_orders"`, `"cluster_name": "%KEY%"`, "2026-10"},
		{"warpstream/date", echoWSKey, wsBreakdowns, `"date_from": "2026-10-02"`, `"date_from": "%KEY%"`, "2026-10"},
		{"warpstream/number", echoWSKey, wsBreakdowns, `"total": 3.33331`, `"total": "%KEY%"`, "2026-10"},
		{"cockroachdb/string", echoCRDBKey, crdbInvoice, `"name": "analytics-東京"`, `"name": "%KEY%"`, "2026-10"},
		{"cockroachdb/date", echoCRDBKey, crdbInvoice, `"period_start": "2026-10-01T00:00:00Z"`, `"period_start": "%KEY%"`, "2026-10"},
		{"cockroachdb/number", echoCRDBKey, crdbInvoice, `"amount": 988.5700000000002`, `"amount": "%KEY%"`, "2026-10"},
		{"spectrocloud/string", echoSCKey, scInvoice, `"projectName": "Zürich Produktion"`, `"projectName": "%KEY%"`, "2026-10"},
		{"spectrocloud/date", echoSCKey, scList, `"start": "2022-07-01T00:00:00.000Z"`, `"start": "%KEY%"`, ""},
		{"spectrocloud/number", echoSCKey, scInvoice, `"billableAmount": 4260`, `"billableAmount": "%KEY%"`, "2026-10"},
		// Split by a JSON escape, the key is the same string to a decoder.
		{"warpstream/escaped", echoWSKey, wsBreakdowns, `"cluster_name": "vcn_orders"`, `"cluster_name": "%ESCAPED%"`, "2026-10"},
	} {
		t.Run(c.name, func(t *testing.T) {
			provider := strings.Split(c.file, "/")[0]
			// An earlier run wrote every period of the provider.
			out := t.TempDir()
			mustExport(t, run{Providers: []string{provider}, Out: out})
			before := snapshotProvider(t, out, provider)

			in := t.TempDir()
			if err := os.CopyFS(in, os.DirFS(caps)); err != nil {
				t.Fatal(err)
			}
			body, err := os.ReadFile(filepath.Join(in, c.file))
			if err != nil || !bytes.Contains(body, []byte(c.old)) {
				t.Fatalf("%s has no %q (%v)", c.file, c.old, err)
			}
			escaped := fmt.Sprintf(`%s\u%04x%s`, c.key[:20], c.key[20], c.key[21:])
			echo := strings.NewReplacer("%KEY%", c.key, "%ESCAPED%", escaped).Replace(c.new)
			os.WriteFile(filepath.Join(in, c.file), bytes.Replace(body, []byte(c.old), []byte(echo), 1), 0o644)
			var api string
			switch provider {
			case "warpstream":
				api = testkit.FakeWarpStream(t, in, c.key, "POST").URL
			case "cockroachdb":
				api = testkit.FakeCockroachDB(t, in, c.key).URL
			case "spectrocloud":
				api = testkit.FakeSpectroCloud(t, in, c.key, true).URL
			}
			p, err := registry.Get(provider)
			if err != nil {
				t.Fatal(err)
			}
			env := map[string]string{p.EnvPrefix + "_API_KEY": c.key, p.EnvPrefix + "_API_URL": api}
			rec := t.TempDir()
			res := export(t, run{Env: env, Live: true, Providers: []string{provider}, Out: out, Record: rec})

			want := "the response contains this vendor's API key; nothing from it was stored"
			call := provider + " " + endpoint[c.file] + " ("
			if len(res.Failures) != 1 {
				t.Fatalf("want one failure naming %s %s and the call %s...), saying %q; got %v", provider, c.failed, call, want, res.Err())
			}
			f := res.Failures[0]
			if msg := f.Error(); f.Provider != provider || f.Period.String() != c.failed && !(c.failed == "" && f.Period.IsZero()) ||
				!strings.HasSuffix(msg, "): "+want) || !strings.Contains(msg, call) || !strings.HasPrefix(msg, strings.TrimSpace(provider+" "+c.failed)+": ") {
				t.Errorf("want one failure naming %s %s and the call %s...), saying %q:\n%s", provider, c.failed, call, want, msg)
			}
			// Capture: the body is neither in --record's folder nor under raw/.
			if _, err := os.Stat(filepath.Join(rec, c.file)); err == nil {
				t.Errorf("--record saved %s", c.file)
			}
			if raws, _ := filepath.Glob(filepath.Join(out, "raw", "*", "*", c.file)); len(raws) != 0 {
				t.Errorf("raw/ holds %v", raws)
			}
			// Column: no line written; the earlier partition stays as it was.
			after := snapshotProvider(t, out, provider)
			for k, v := range before {
				if (c.failed == "" || strings.Contains(k, c.failed)) && after[k] != v {
					t.Errorf("%s changed although its period failed", k)
				}
			}
			// Error text, captures, Parquet, manifests: no part of the key.
			assertNoKeyRun(t, c.key, res.printed(), out, rec)
		})
	}
}
