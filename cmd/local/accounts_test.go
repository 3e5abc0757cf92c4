package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/internal/gen"
	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/internal/testkit/duck"
)

// Two accounts per vendor, with different keys and data, through the real
// command (--accounts): account "a" is the bundled sample, account "b" is
// generated (WarpStream: other lines and amounts; CockroachDB and Spectro
// Cloud: the sample's October invoice under other ids; MongoDB Atlas: the
// sample under another credential and organization). Every account's data
// is checked against its own vendor totals, read from its captures by
// testkit's oracles (no code of ours).

const (
	accountsAsOf = "2026-11-03"
	atlasOrgA    = "65a1b2c3d4e5f60718293a4b"
)

// accountSet is one account's captures and the fake APIs serving them.
type accountSet struct {
	id, caps string
	env      map[string]string // its keys, by the variable the document names
	urls     map[string]string // by provider
	atlasID  string
}

func sampleCaptures() string { return filepath.Join(repoRoot, "testdata", "captures") }

// generatedCaptures writes account b's captures.
func generatedCaptures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if _, err := gen.Write(dir, gen.Config{Seed: 42, Lines: 150, Start: oct, Months: 2, Pending: true, PendingDays: 2}); err != nil {
		t.Fatal(err)
	}
	if err := gen.Months(dir, sampleCaptures(), oct, 1); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "mongodbatlas"), os.DirFS(filepath.Join(sampleCaptures(), "mongodbatlas"))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startAccount starts the four fake vendor APIs on caps, each taking only
// this account's keys.
func startAccount(t *testing.T, id, caps string) accountSet {
	s := accountSet{id: id, caps: caps, env: map[string]string{}, urls: map[string]string{}, atlasID: "mdb_sa_id_" + id}
	up := strings.ToUpper(id)
	for _, p := range []string{"WS", "CRDB", "SC", "ATLAS"} {
		s.env[p+"_"+up+"_KEY"] = fmt.Sprintf("%s-key-of-account-%s-0123456789", strings.ToLower(p), id)
	}
	s.urls["warpstream"] = testkit.FakeWarpStream(t, caps, s.env["WS_"+up+"_KEY"], "POST").URL
	s.urls["cockroachdb"] = testkit.FakeCockroachDB(t, caps, s.env["CRDB_"+up+"_KEY"]).URL
	s.urls["spectrocloud"] = testkit.FakeSpectroCloud(t, caps, s.env["SC_"+up+"_KEY"], true).URL
	s.urls["mongodbatlas"] = testkit.FakeMongoDBAtlas(t, caps, atlasOrgA,
		testkit.AtlasCredentials{ClientID: s.atlasID, ClientSecret: s.env["ATLAS_"+up+"_KEY"]}).URL
	return s
}

// document is the accounts document of sets, as JSON.
func document(sets ...accountSet) string {
	var accts []map[string]any
	for _, s := range sets {
		up := strings.ToUpper(s.id)
		accts = append(accts,
			map[string]any{"provider": "warpstream", "id": s.id, "name": "WarpStream " + s.id, "key": map[string]string{"env": "WS_" + up + "_KEY"}, "url": s.urls["warpstream"]},
			map[string]any{"provider": "cockroachdb", "id": s.id, "key": map[string]string{"env": "CRDB_" + up + "_KEY"}, "url": s.urls["cockroachdb"]},
			map[string]any{"provider": "spectrocloud", "id": s.id, "key": map[string]string{"env": "SC_" + up + "_KEY"}, "url": s.urls["spectrocloud"]},
			map[string]any{"provider": "mongodbatlas", "id": s.id, "key": map[string]string{"env": "ATLAS_" + up + "_KEY"}, "url": s.urls["mongodbatlas"],
				"settings": map[string]string{"ATLAS_CLIENT_ID": s.atlasID, "ATLAS_ORG_ID": atlasOrgA}})
	}
	b, _ := json.MarshalIndent(map[string]any{"accounts": accts}, "", "  ")
	return string(b)
}

func writeDoc(t *testing.T, doc string) string {
	f := filepath.Join(t.TempDir(), "accounts.json")
	if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func envOf(sets ...accountSet) map[string]string {
	env := map[string]string{}
	for _, s := range sets {
		for k, v := range s.env {
			env[k] = v
		}
	}
	return env
}

// checkAccount holds an account's exported lines to its vendor totals: Σ
// BilledCost per provider, period and currency, to the last digit, and
// every final invoice reconciled.
func checkAccount(t *testing.T, out string, s accountSet) {
	t.Helper()
	db := duck.Open(t)
	got := map[string]*big.Rat{}
	for _, r := range duck.Rows(t, db, `
		SELECT provider, billing_period, BillingCurrency, sum(BilledCost)::VARCHAR FROM `+duck.Table(out, "charge_lines")+` WHERE x_AccountId = ? GROUP BY ALL
		UNION ALL
		SELECT provider, billing_period, PricingCurrency, sum(PricingCurrencyEffectiveCost)::VARCHAR FROM `+duck.Table(out, "charge_lines")+`
		WHERE x_AccountId = ? AND PricingCurrency IS NOT NULL AND PricingCurrency <> BillingCurrency GROUP BY ALL`, s.id, s.id) {
		r0, _ := new(big.Rat).SetString(r[3])
		got[r[0]+" "+r[1]+" "+r[2]] = r0
	}
	want := testkit.Totals(t, s.caps)
	if len(want) == 0 {
		t.Fatalf("account %s: no vendor totals in %s", s.id, s.caps)
	}
	for _, w := range want {
		k := w.Provider + " " + w.Period + " " + w.Currency
		if g := got[k]; g == nil || g.Cmp(w.Amount) != 0 {
			t.Errorf("account %s: %s: Σ BilledCost = %v, the vendor's total = %s", s.id, k, g, w.Amount.FloatString(8))
		}
		delete(got, k)
	}
	for k, g := range got {
		if g.Sign() != 0 {
			t.Errorf("account %s: %s: %s exported that no invoice of the account totals", s.id, k, g.FloatString(8))
		}
	}
	if n := duck.Value(t, db, `SELECT count(*) FROM `+duck.Table(out, "invoices")+` WHERE x_AccountId = ? AND IsFinal AND NOT Reconciled`, s.id); n != "0" {
		t.Errorf("account %s: %s final invoices do not reconcile", s.id, n)
	}
}

// fileIDs are the inode and hash of every file under dir, by path.
func fileIDs(t *testing.T, dir string) map[string]string {
	ids := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "/raw/") {
			return err
		}
		st, _ := os.Stat(p)
		b, _ := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		ids[filepath.ToSlash(rel)] = fmt.Sprintf("inode %d sha %x", st.Sys().(*syscall.Stat_t).Ino, sha256.Sum256(b))
		return nil
	})
	return ids
}

func TestTwoAccountsPerVendorLiveReplayAndRerun(t *testing.T) {
	a, b := startAccount(t, "a", sampleCaptures()), startAccount(t, "b", generatedCaptures(t))
	doc := writeDoc(t, document(a, b))
	env := envOf(a, b)
	out, rec := t.TempDir(), t.TempDir()

	code, stdout, stderr := runLocal(t, env, "--live", "--accounts", doc, "--as-of", accountsAsOf, "--out", out, "--record", rec)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, s := range []accountSet{a, b} {
		checkAccount(t, out, s)
	}
	// Each unit is its own file and manifest; the summary names accounts.
	for _, p := range []string{"warpstream", "cockroachdb", "spectrocloud", "mongodbatlas"} {
		for _, id := range []string{"a", "b"} {
			for _, f := range []string{
				"charge_lines/provider=" + p + "/billing_period=2026-10/account-" + id + ".parquet",
				"invoices/provider=" + p + "/billing_period=2026-10/account-" + id + ".parquet",
				"_manifests/provider=" + p + "/account=" + id + "/billing_period=2026-10.json",
			} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Errorf("no %s", f)
				}
			}
			if !regexp.MustCompile(`(?m)^` + p + "/" + id + `\s+2026-10\s+\d+\s+USD`).MatchString(stdout) {
				t.Errorf("the summary has no row of %s/%s 2026-10:\n%s", p, id, stdout)
			}
		}
	}
	db := duck.Open(t)
	// WarpStream names no account: the account's id is its BillingAccountId.
	if got := duck.Value(t, db, `SELECT string_agg(DISTINCT x_AccountId || '=' || BillingAccountId, ',' ORDER BY x_AccountId || '=' || BillingAccountId) FROM `+duck.Table(out, "charge_lines")+` WHERE provider = 'warpstream'`); got != "a=a,b=b" {
		t.Errorf("WarpStream accounts: %s", got)
	}
	// b's WarpStream data is not a's: different rows and totals.
	if got := duck.Value(t, db, `SELECT count(DISTINCT (cnt, tot)) FROM (SELECT x_AccountId, count(*) cnt, sum(BilledCost) tot FROM `+duck.Table(out, "charge_lines")+` WHERE provider = 'warpstream' AND billing_period = '2026-10' GROUP BY 1)`); got != "2" {
		t.Errorf("accounts a and b exported the same WarpStream October")
	}
	for _, s := range []accountSet{a, b} {
		for k, v := range s.env {
			if strings.Contains(stdout+stderr, v) {
				t.Errorf("key %s printed", k)
			}
		}
	}

	// The recording replays with each account's captures under its own
	// folder, without a document, into the same bytes.
	for _, f := range []string{"account=a/warpstream/pending_invoice.json", "account=b/cockroachdb/invoices.json"} {
		if _, err := os.Stat(filepath.Join(rec, f)); err != nil {
			t.Errorf("recording: no %s", f)
		}
	}
	replay := t.TempDir()
	if code, stdout, stderr := runLocal(t, nil, "--in", rec, "--as-of", accountsAsOf, "--out", replay); code != 0 {
		t.Fatalf("replay: exit %d\n%s\n%s", code, stdout, stderr)
	}
	live, again := fileIDs(t, filepath.Join(out, "charge_lines")), fileIDs(t, filepath.Join(replay, "charge_lines"))
	if len(live) != 16 || len(again) != 16 {
		t.Fatalf("%d files live, %d replayed, want 16 (4 vendors × 2 accounts × 2 periods)", len(live), len(again))
	}
	for k, v := range live {
		if sha := v[strings.Index(v, " sha "):]; !strings.HasSuffix(again[k], sha) {
			t.Errorf("%s: the replay wrote other bytes", k)
		}
	}

	// Rerunning account a alone rewrites a's files and leaves b's as they
	// were: the same files, not rewritten (same inodes).
	before := fileIDs(t, out)
	onlyA := writeDoc(t, document(a))
	if code, stdout, stderr := runLocal(t, env, "--live", "--accounts", onlyA, "--as-of", accountsAsOf, "--out", out); code != 0 {
		t.Fatalf("rerun of a: exit %d\n%s\n%s", code, stdout, stderr)
	}
	after := fileIDs(t, out)
	var rewrittenA, keptB int
	for k, v := range before {
		switch {
		case strings.Contains(k, "account-b.") || strings.Contains(k, "account=b/"):
			if after[k] != v {
				t.Errorf("%s: changed by the rerun of account a (%s -> %s)", k, v, after[k])
			}
			keptB++
		case strings.Contains(k, "account-a."):
			if after[k] == v {
				t.Errorf("%s: not rewritten by the rerun of account a", k)
			}
			rewrittenA++
		}
	}
	if keptB != 24 || rewrittenA != 16 {
		t.Errorf("%d files of b kept, %d of a rewritten; want 24 and 16", keptB, rewrittenA)
	}
}

// A key that cannot be read fails its account alone: the others are
// exported, the exit status is 1, and one FAILED line names the account.
func TestOneAccountsKeyFails(t *testing.T) {
	a, b := startAccount(t, "a", sampleCaptures()), startAccount(t, "b", generatedCaptures(t))
	env := envOf(a, b)
	delete(env, "WS_B_KEY")
	out := t.TempDir()
	code, stdout, stderr := runLocal(t, env, "--live", "--accounts", writeDoc(t, document(a, b)), "--as-of", accountsAsOf, "--out", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	var failed []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "FAILED") {
			failed = append(failed, l)
		}
	}
	want := "invoice-export: FAILED warpstream/b: reading its key from environment variable WS_B_KEY: WS_B_KEY is not set"
	if !slices.Equal(failed, []string{want}) {
		t.Errorf("FAILED lines %q, want %q", failed, want)
	}
	if !regexp.MustCompile(`(?m)^warpstream/b\s+all\s+FAILED`).MatchString(stdout) {
		t.Errorf("the summary does not show warpstream/b failed:\n%s", stdout)
	}
	checkAccount(t, out, a)
	db := duck.Open(t)
	if got := duck.Value(t, db, `SELECT string_agg(DISTINCT provider, ',' ORDER BY provider) FROM `+duck.Table(out, "charge_lines")+` WHERE x_AccountId = 'b'`); got != "cockroachdb,mongodbatlas,spectrocloud" {
		t.Errorf("account b exported %s", got)
	}
}

// A bad document is refused at start with one line naming the file, the
// account and the field.
func TestBadAccountsDocuments(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ doc, want string }{
		{`{"accounts":[{"provider":"warpstream","id":"prod","key":{"env":"K"}},{"provider":"warpstream","id":"prod","key":{"env":"L"}}]}`,
			`DOC: account 2 (warpstream/prod): id: "prod" is already the id of account 1: each account of a provider needs its own id`},
		{`{"accounts":[{"provider":"snowflake","id":"prod","key":{"env":"K"}}]}`,
			`DOC: account 1: provider: unknown provider "snowflake" (known: warpstream, cockroachdb, spectrocloud, mongodbatlas)`},
		{`{"accounts":[{"provider":"warpstream","id":"prod","key":{"env":"K","secret_arn":"arn:aws:secretsmanager:us-east-1:1:secret:invoice-export/x"}}]}`,
			`DOC: account 1 (warpstream/prod): key: given in 2 ways (env and secret_arn): give exactly one of env, secret_arn, ssm_parameter`},
		{`{"accounts":[{"provider":"warpstream","id":"../prod","key":{"env":"K"}}]}`,
			`DOC: account 1: id: "../prod" is not a safe account id: use 1 to 63 of a-z, 0-9 and '-', starting with a letter or digit (it names files and keys)`},
		{`{"accounts":[{"provider":"cockroachdb","id":"bu-a","key":{"env":"K"},"settings":{"COCKROACH_ORG":"x"}}]}`,
			`DOC: account 1 (cockroachdb/bu-a): settings: unknown setting "COCKROACH_ORG" for cockroachdb (its settings: COCKROACH_ORGANIZATION_ID)`},
		{`{"accounts":[{"provider":"warpstream","id":"prod","key":{"env":"K"},"settings":{"WARPSTREAM_HTTP_METHOD":"PUT"}}]}`,
			`DOC: account 1 (warpstream/prod): settings: WARPSTREAM_HTTP_METHOD="PUT": use GET or POST (default POST)`},
		{`{"accounts":[{"provider":"warpstream","id":"prod","key":{"env":"K"},"url":"ftp://x"}]}`,
			`DOC: account 1 (warpstream/prod): url: WARPSTREAM_API_URL="ftp://x" is not an absolute http(s) URL: use an absolute URL such as https://api.warpstream.com`},
		{`{"accounts":[{"provider":"warpstream","id":"prod","key":{"env":"K"},"settings":{"WARPSTREAM_API_KEY":"x"}}]}`,
			`DOC: account 1 (warpstream/prod): settings: WARPSTREAM_API_KEY is a secret: give it as the account's key, never in the document`},
		{`{"accounts":[{"provider":"warpstream","id":"prod","kee":{"env":"K"}}]}`,
			`DOC: account 1: "kee": unknown field (an account has provider, id, name, key, url, settings)`},
		{`{"accounts":[{"provider":"mongodbatlas","id":"org-1","key":{"env":"K"}}]}`,
			`DOC: account 1 (mongodbatlas/org-1): settings: mongodbatlas takes one of several credentials: set exactly one of ATLAS_CLIENT_ID, ATLAS_PUBLIC_KEY, whose secret is the key`},
		{`{"acounts":[]}`, `DOC: not an accounts document (unknown field "acounts"): expected {"accounts":[{"provider":...,"id":...,"key":{"env":...}}]}`},
	} {
		f := filepath.Join(dir, "accounts.json")
		os.WriteFile(f, []byte(c.doc), 0o644)
		code, _, stderr := runLocal(t, nil, "--accounts", f, "--out", t.TempDir())
		want := "invoice-export: " + strings.ReplaceAll(c.want, "DOC", f) + "\n"
		if code != 2 || stderr != want {
			t.Errorf("%s:\nexit %d, stderr %q\nwant exit 2, %q", c.doc, code, stderr, want)
		}
	}
}
