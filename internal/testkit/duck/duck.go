// Package duck is DuckDB as an independent reader of the output, for
// tests. It is a package of its own because it links DuckDB (cgo): only
// the tests that read Parquet import it.
package duck

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // cgo: tests only; the Lambda build stays CGO-free
)

// Open opens an in-memory DuckDB that never downloads an extension (the
// machines have no network; Parquet support is built in).
func Open(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{"SET autoinstall_known_extensions=false", "SET autoload_known_extensions=false", "SET TimeZone='UTC'"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db
}

// Table is a read_parquet() over one table of an output folder, with the
// hive partition columns provider and billing_period.
func Table(dest, table string) string {
	glob := filepath.ToSlash(filepath.Join(dest, table, "**", "*.parquet"))
	return fmt.Sprintf("read_parquet('%s', hive_partitioning=true, union_by_name=true)", strings.ReplaceAll(glob, "'", "''"))
}

// Rows runs a query and returns every row as strings (NULL as "NULL").
func Rows(t testing.TB, db *sql.DB, query string, args ...any) [][]string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = format(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// format prints a value exactly: decimals keep every digit, times are UTC.
func format(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

// Value runs a query returning one value.
func Value(t testing.TB, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows := Rows(t, db, query, args...)
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: want one value, got %v", query, rows)
	}
	return rows[0][0]
}
