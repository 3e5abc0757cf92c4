package invoiceexport_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/internal/testkit/duck"
)

// Upgrading never double counts (docs/accounts.md, "Upgrading"): output in
// the layout written before accounts existed (one part-00000.parquet per
// provider and period, the manifest without an account level) is taken
// over by the first run that replaces each unit: the old files and
// manifests go in the same replacement, the sums stay the same, and no
// reader sees the old file beside the new one afterwards.

// partitionSums are the rows and Σ BilledCost per provider and period of
// the charge lines under dest, and the invoices' rows and totals.
func partitionSums(t *testing.T, dest string) string {
	t.Helper()
	db := duck.Open(t)
	var b strings.Builder
	for _, r := range duck.Rows(t, db, `SELECT provider, billing_period, BillingCurrency, count(*), sum(BilledCost)::VARCHAR FROM `+duck.Table(dest, "charge_lines")+` GROUP BY ALL ORDER BY ALL`) {
		b.WriteString(strings.Join(r, " ") + "\n")
	}
	for _, r := range duck.Rows(t, db, `SELECT provider, billing_period, BillingCurrency, count(*), sum(InvoiceTotal)::VARCHAR FROM `+duck.Table(dest, "invoices")+` GROUP BY ALL ORDER BY ALL`) {
		b.WriteString("invoices " + strings.Join(r, " ") + "\n")
	}
	return b.String()
}

// legacyKeys lists the files of the old layout under dest.
func legacyKeys(t *testing.T, dest string) (old []string) {
	filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (d.Name() == "part-00000.parquet" || strings.HasPrefix(d.Name(), "billing_period=") && !strings.Contains(p, "account=")) {
			old = append(old, p)
		}
		return err
	})
	return old
}

func TestUpgradeTakesOverTheOldLayoutInAFolder(t *testing.T) {
	out := t.TempDir()
	mustExport(t, run{Out: out})
	testkit.LegacyLayout(t, duck.Open(t), out)
	before := partitionSums(t, out)
	if n := len(legacyKeys(t, out)); n != sampleFiles()/2*3 {
		t.Fatalf("%d files in the old layout, want %d", n, sampleFiles()/2*3)
	}

	// One provider first: a mixed-version table, which DuckDB reads with
	// NULL for the older files' x_AccountId, and the same sums.
	mustExport(t, run{Out: out, Providers: []string{"warpstream"}})
	db := duck.Open(t)
	mixed := duck.Rows(t, db, `SELECT provider, coalesce(x_AccountId, 'NULL'), count(*) FROM `+duck.Table(out, "charge_lines")+` GROUP BY ALL ORDER BY ALL`)
	want := [][]string{{"cockroachdb", "NULL", "16"}, {"mongodbatlas", "NULL", "26"}, {"spectrocloud", "NULL", "9"}, {"warpstream", "default", "396"}}
	if len(mixed) != len(want) {
		t.Fatalf("mixed table: %v, want %v", mixed, want)
	}
	for i := range want {
		if strings.Join(mixed[i], " ") != strings.Join(want[i], " ") {
			t.Errorf("mixed table: %v, want %v", mixed, want)
			break
		}
	}
	if got := partitionSums(t, out); got != before {
		t.Errorf("sums after upgrading WarpStream:\n%s\nbefore:\n%s", got, before)
	}

	// Then everything: nothing of the old layout is left.
	mustExport(t, run{Out: out})
	if old := legacyKeys(t, out); len(old) != 0 {
		t.Errorf("left after the upgrade: %v", old)
	}
	if got := partitionSums(t, out); got != before {
		t.Errorf("sums after the upgrade:\n%s\nbefore:\n%s", got, before)
	}
	if n := duck.Value(t, db, `SELECT count(*) FROM `+duck.Table(out, "charge_lines")+` WHERE x_AccountId IS DISTINCT FROM 'default'`); n != "0" {
		t.Errorf("%s lines without the default account after the upgrade", n)
	}
}

func TestUpgradeTakesOverTheOldLayoutOnMinIO(t *testing.T) {
	m := testkit.StartMinIO(t)
	legacy := t.TempDir()
	mustExport(t, run{Out: legacy})
	testkit.LegacyLayout(t, duck.Open(t), legacy)
	before := partitionSums(t, legacy)
	m.Upload(t, legacy, "upgrade/")
	oldKeys := 0
	for _, k := range m.Keys(t, "upgrade/") {
		if strings.HasSuffix(k, "/part-00000.parquet") {
			oldKeys++
		}
	}
	if oldKeys != sampleFiles() {
		t.Fatalf("%d old files in MinIO, want %d", oldKeys, sampleFiles())
	}

	res := export(t, run{Out: "s3://" + m.Bucket + "/upgrade"})
	if !res.OK() {
		t.Fatalf("MinIO run: %v\n%s", res.Err(), res.log)
	}
	var left []string
	for _, k := range m.Keys(t, "upgrade/") {
		if strings.HasSuffix(k, "/part-00000.parquet") || strings.HasPrefix(k, "upgrade/_manifests/") && !strings.Contains(k, "/account=") {
			left = append(left, k)
		}
	}
	if len(left) != 0 {
		t.Errorf("left in MinIO after the upgrade: %v", left)
	}
	after := t.TempDir()
	m.Download(t, "upgrade/", after)
	if got := partitionSums(t, after); got != before {
		t.Errorf("sums after the upgrade on MinIO:\n%s\nbefore:\n%s", got, before)
	}
}
