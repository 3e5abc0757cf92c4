package invoiceexport_test

import (
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/load"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit/duck"
)

// Every line has an x_ChargeId of its own within its partition, and the
// same input gives the same ids on every run: over the sample and every
// set of the vendors' examples (whatever of them exports: a set may fail a
// period of a provider that does not read it yet).
func TestChargeIDsAreDistinctAndStable(t *testing.T) {
	sets := []exampleSet{{name: "sample"}}
	sets = append(sets, exampleSets...)
	db := duck.Open(t)
	partitions := 0
	for _, s := range sets {
		var ids [2][][]string
		for i := range ids {
			out := t.TempDir()
			r := s.run(out)
			if s.name == "sample" {
				r = run{Out: out}
			}
			export(t, r)
			if _, err := os.Stat(filepath.Join(out, "charge_lines")); err != nil {
				t.Logf("%s: nothing written", s.name)
				break
			}
			lines := duck.Table(out, "charge_lines")
			for _, p := range duck.Rows(t, db, `SELECT provider, billing_period, count(*), count(x_ChargeId), count(DISTINCT x_ChargeId) FROM `+lines+` GROUP BY ALL ORDER BY ALL`) {
				if p[2] != p[3] || p[2] != p[4] {
					t.Errorf("%s %s %s: %s lines, %s with an x_ChargeId, %s distinct", s.name, p[0], p[1], p[2], p[3], p[4])
				}
				if i == 0 {
					partitions++
				}
			}
			ids[i] = duck.Rows(t, db, `SELECT provider, billing_period, x_ChargeId, BilledCost::VARCHAR, ChargeDescription FROM `+lines+` ORDER BY ALL`)
		}
		if !slices.EqualFunc(ids[0], ids[1], slices.Equal) {
			t.Errorf("%s: the ids differ between two runs over the same input (%d and %d lines)", s.name, len(ids[0]), len(ids[1]))
		}
	}
	if partitions < 20 {
		t.Errorf("only %d partitions checked", partitions)
	}
}

// Files written before x_ChargeId (schema version 1) sit beside new ones
// in the same table: readers that union columns by name (DuckDB with
// union_by_name, as the docs' queries read; Athena and Glue, which read
// Parquet by column name) see NULL for the old files' lines and every other
// column unchanged.
func TestOldFilesReadTheNewColumnAsNull(t *testing.T) {
	out := t.TempDir()
	mustExport(t, run{Out: out, Providers: []string{"cockroachdb"}})
	db := duck.Open(t)
	// A file of version 1: the same lines without the column, in the
	// place of the November partition.
	november, _ := billing.ParsePeriod("2026-11")
	nov := filepath.Join(out, load.DataKey("charge_lines", load.Unit{Provider: "cockroachdb", Account: "default", Period: november}))
	old := filepath.Join(t.TempDir(), "v1.parquet")
	if _, err := db.Exec(`COPY (SELECT * EXCLUDE (x_ChargeId, x_AccountId, provider, billing_period) FROM read_parquet('` + filepath.ToSlash(nov) + `')) TO '` + filepath.ToSlash(old) + `' (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
	if cols := duck.Value(t, db, `SELECT count(*) FROM (DESCRIBE SELECT * FROM read_parquet('`+filepath.ToSlash(old)+`')) WHERE column_name = 'x_ChargeId'`); cols != "0" {
		t.Fatal("the old file has x_ChargeId")
	}
	b, err := os.ReadFile(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nov, b, 0o644); err != nil {
		t.Fatal(err)
	}
	lines := duck.Table(out, "charge_lines") // union_by_name=true
	got := duck.Rows(t, db, `SELECT billing_period, count(*), count(x_ChargeId), sum(BilledCost)::VARCHAR FROM `+lines+` GROUP BY ALL ORDER BY ALL`)
	want := [][]string{
		{"2026-10", "11", "11", "988.570000000000000000000000"},
		{"2026-11", "5", "0", "31.510000000000000000000000"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("old and new files together:\n got %q\nwant %q", got, want)
	}
	if typ := duck.Value(t, db, `SELECT column_type FROM (DESCRIBE SELECT * FROM `+lines+`) WHERE column_name = 'BilledCost'`); typ != "DECIMAL(38,24)" {
		t.Errorf("BilledCost is %s", typ)
	}
}
