package testkit

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// LegacyLayout turns an output folder written by this code into the layout
// written before accounts existed (schema version 2): each default
// account's file account-default.parquet becomes part-00000.parquet without
// the x_AccountId column (DuckDB copies the rest, column for column), and
// each manifest moves from _manifests/provider=p/account=default/ to
// _manifests/provider=p/, without its account and naming the old files.
// Upgrade tests start from it.
func LegacyLayout(t testing.TB, db *sql.DB, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*", "provider=*", "billing_period=*", "account-default.parquet"))
	if len(files) == 0 {
		t.Fatalf("no default account's files under %s", dir)
	}
	for _, f := range files {
		old := filepath.Join(filepath.Dir(f), "part-00000.parquet")
		q := `COPY (SELECT * EXCLUDE (x_AccountId) FROM read_parquet('` + filepath.ToSlash(f) + `', hive_partitioning=false)) TO '` + filepath.ToSlash(old) + `' (FORMAT parquet)`
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	manifests, _ := filepath.Glob(filepath.Join(dir, "_manifests", "provider=*", "account=default", "*.json"))
	for _, f := range manifests {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "account")
		m["schema_version"] = 2
		for _, file := range m["files"].([]any) {
			fm := file.(map[string]any)
			fm["key"] = strings.Replace(fm["key"].(string), "account-default.parquet", "part-00000.parquet", 1)
		}
		b, _ = json.MarshalIndent(m, "", "  ")
		if err := os.WriteFile(filepath.Join(filepath.Dir(filepath.Dir(f)), filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Remove(f)
		os.Remove(filepath.Dir(f))
	}
}
