package main

import (
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/internal/gen"
	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/internal/testkit/duck"
)

// The real bootstrap with an accounts document in SSM (ACCOUNTS_PARAMETER),
// driven through the Runtime API as the state machine drives it: first
// {"list_units":true}, then one per-account event per unit. Keys come from
// Secrets Manager, SSM and the environment; each invocation writes its own
// account only; an account whose key cannot be read fails its invocation
// alone; an account not in the document is refused.
func TestBootstrapPerAccountEvents(t *testing.T) {
	caps := filepath.Join(repoRoot, "testdata/captures")
	devCaps := t.TempDir()
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if _, err := gen.Write(devCaps, gen.Config{Seed: 9, Lines: 120, Start: oct, Months: 2, Pending: true, PendingDays: 2}); err != nil {
		t.Fatal(err)
	}
	const (
		prodKey = "aks_LAMBDA_TEST_PROD_KEY_0123456789"
		devKey  = "aks_LAMBDA_TEST_DEV_KEY_0123456789"
		prodArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:invoice-export/ws-prod"
		goneArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:invoice-export/ws-gone"
	)
	doc, _ := json.Marshal(map[string]any{"accounts": []map[string]any{
		{"provider": "warpstream", "id": "prod", "name": "Production", "key": map[string]string{"secret_arn": prodArn},
			"url": testkit.FakeWarpStream(t, caps, prodKey, "POST").URL},
		{"provider": "warpstream", "id": "dev", "key": map[string]string{"ssm_parameter": "/invoice-export/ws-dev"},
			"url": testkit.FakeWarpStream(t, devCaps, devKey, "GET").URL, "settings": map[string]string{"WARPSTREAM_HTTP_METHOD": "GET"}},
		{"provider": "warpstream", "id": "gone", "key": map[string]string{"secret_arn": goneArn},
			"url": testkit.FakeWarpStream(t, caps, prodKey, "POST").URL},
		{"provider": "cockroachdb", "id": "bu-a", "key": map[string]string{"env": "CRDB_BU_A_KEY"},
			"url": testkit.FakeCockroachDB(t, caps, crdbKey).URL},
	}})
	sm, _ := fakeAWS(t, "secretsmanager.GetSecretValue", map[string]string{prodArn: prodKey})
	ps, _ := fakeAWS(t, "AmazonSSM.GetParameter", map[string]string{"/invoice-export/accounts": string(doc), "/invoice-export/ws-dev": devKey})
	out := t.TempDir()
	fn := startFunction(t, map[string]string{
		"OUTPUT_URI": out, "ACCOUNTS_PARAMETER": "/invoice-export/accounts", "CRDB_BU_A_KEY": crdbKey,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.URL, "AWS_ENDPOINT_URL_SSM": ps.URL,
	})

	a := fn.api.invoke(t, `{"list_units":true,"as_of":"2026-11-03"}`)
	want := `{"units":[` + // in the document's order
		`{"provider":"warpstream","account":"prod","from":"2026-10","to":"2026-11","as_of":"2026-11-03"},` +
		`{"provider":"warpstream","account":"dev","from":"2026-10","to":"2026-11","as_of":"2026-11-03"},` +
		`{"provider":"warpstream","account":"gone","from":"2026-10","to":"2026-11","as_of":"2026-11-03"},` +
		`{"provider":"cockroachdb","account":"bu-a","from":"2026-10","to":"2026-11","as_of":"2026-11-03"}]}`
	if a.error || a.body != want {
		t.Fatalf("list_units: %+v\nwant %s\nstdout:\n%s", a, want, fn.stdout)
	}

	var units struct{ Units []map[string]string }
	json.Unmarshal([]byte(a.body), &units)
	for _, u := range units.Units {
		event, _ := json.Marshal(u)
		a := fn.api.invoke(t, string(event))
		if u["account"] == "gone" {
			if !a.error || !strings.Contains(a.body, "warpstream/gone: reading its key from Secrets Manager secret "+goneArn) || !strings.Contains(a.body, "ResourceNotFoundException") {
				t.Errorf("account gone: %+v", a)
			}
			continue
		}
		if a.error {
			t.Fatalf("%s: %s\nstdout:\n%s", event, a.body, fn.stdout)
		}
		var res Result
		json.Unmarshal([]byte(a.body), &res)
		if len(res.Partitions) != 2 || res.Partitions[0].Provider != u["provider"] {
			t.Errorf("%s: partitions %+v", event, res.Partitions)
		}
		// This invocation wrote this account's files and no other's.
		files, _ := filepath.Glob(filepath.Join(out, "charge_lines", "provider=*", "billing_period=*", "account-"+u["account"]+".parquet"))
		if len(files) != 2 {
			t.Errorf("%s: files %v", event, files)
		}
	}

	// Every account's data, to the cent, against its captures' totals.
	db := duck.Open(t)
	for _, c := range []struct{ provider, account, caps string }{
		{"warpstream", "prod", caps}, {"warpstream", "dev", devCaps}, {"cockroachdb", "bu-a", caps},
	} {
		for _, w := range testkit.Totals(t, c.caps) {
			if w.Provider != c.provider || len(w.Currency) != 3 {
				continue // CockroachDB's credits: their own test (cmd/local)
			}
			got := duck.Value(t, db, `SELECT sum(BilledCost)::VARCHAR FROM `+duck.Table(out, "charge_lines")+
				` WHERE provider = ? AND x_AccountId = ? AND billing_period = ? AND BillingCurrency = ?`, c.provider, c.account, w.Period, w.Currency)
			if g, ok := new(big.Rat).SetString(got); !ok || g.Cmp(w.Amount) != 0 {
				t.Errorf("%s/%s %s: Σ BilledCost %s, want %s", c.provider, c.account, w.Period, got, w.Amount.FloatString(8))
			}
		}
	}
	if n := duck.Value(t, db, `SELECT count(*) FROM `+duck.Table(out, "charge_lines")+` WHERE x_AccountId = 'gone'`); n != "0" {
		t.Errorf("account gone wrote %s lines", n)
	}

	for event, want := range map[string]string{
		`{"provider":"warpstream","account":"staging","as_of":"2026-11-03"}`: `event: account "staging" of warpstream is not in the accounts document`,
		`{"provider":"warpstream","as_of":"2026-11-03"}`:                     `event: one account's export names both "provider" and "account"`,
		`{"list_units":true,"provider":"warpstream","account":"prod"}`:       `event: list_units lists every account: it takes no provider or account`,
	} {
		a = fn.api.invoke(t, event)
		var e struct{ ErrorMessage string }
		json.Unmarshal([]byte(a.body), &e)
		if !a.error || e.ErrorMessage != want {
			t.Errorf("%s: %+v, want the error %q", event, a, want)
		}
	}
	printed := fn.stdout.String() + fn.stderr.String()
	for _, key := range []string{prodKey, devKey, crdbKey} {
		if strings.Contains(printed, key) {
			t.Errorf("key %s… printed", key[:8])
		}
		filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, _ := os.ReadFile(p); strings.Contains(string(b), key) {
					t.Errorf("key %s… written in %s", key[:8], p)
				}
			}
			return nil
		})
	}
}
