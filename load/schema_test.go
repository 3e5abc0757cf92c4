package load

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/schema.md from the schema")

var providerTitles = map[string]string{"warpstream": "WarpStream", "cockroachdb": "CockroachDB Cloud", "spectrocloud": "Spectro Cloud"}

// documented lists the providers the docs cover, in the order of
// extract.Providers.
func documented() []string {
	var out []string
	for _, p := range []string{"warpstream", "cockroachdb", "spectrocloud"} {
		for _, d := range chargeDocs {
			if _, ok := d.From[p]; ok {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

func renderSchemaDoc() string {
	var b strings.Builder
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	b.WriteString("# Schema\n\nGenerated from the code (`load/schema.go`, `load/docs.go`) by `go test ./load -run TestSchemaDoc -update`; a test fails when it is out of date.\n\n")
	fmt.Fprintf(&b, "Schema version %d. Money and quantities are `decimal(38,24)`; times are `timestamp` (INT64 microseconds, UTC). Both tables are partitioned by `provider` and `billing_period` (`YYYY-MM`), which readers see as columns.\n\n", SchemaVersion)
	b.WriteString("## charge_lines\n\nFOCUS 1.2 columns first, then ours (`x_`). NULL means unknown or not applicable, never an empty string.\n\n")
	provs := documented()
	b.WriteString("| column | type | nullable | meaning |")
	for _, p := range provs {
		b.WriteString(" " + providerTitles[p] + " |")
	}
	b.WriteString("\n|---|---|---|---|" + strings.Repeat("---|", len(provs)) + "\n")
	for _, c := range ChargeLines.Columns() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |", c.Name, c.GlueType, yesNo(!c.Required), esc(c.Doc))
		for _, p := range provs {
			b.WriteString(" " + esc(c.From[p]) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n## invoices\n\nOne row per invoice and currency (per account and period where the vendor issues no invoice id).\n\n")
	b.WriteString("| column | type | nullable | meaning |\n|---|---|---|---|\n")
	for _, c := range Invoices.Columns() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", c.Name, c.GlueType, yesNo(!c.Required), esc(c.Doc))
	}
	return b.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func TestSchemaDoc(t *testing.T) {
	const path = "../docs/schema.md"
	got := renderSchemaDoc()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil || string(want) != got {
		t.Fatalf("docs/schema.md is out of date with the schema: run go test ./load -run TestSchemaDoc -update")
	}
}

// Every column is documented, for every documented provider, and the docs
// name no column that does not exist.
func TestDocsCoverEveryColumn(t *testing.T) {
	for _, table := range []Table{ChargeLines, Invoices} {
		names := map[string]bool{}
		for _, c := range table.Columns() {
			names[c.Name] = true
			if c.Doc == "" {
				t.Errorf("%s.%s has no doc", table.Name, c.Name)
			}
			if table.Name == ChargeLines.Name {
				for _, p := range documented() {
					if c.From[p] == "" {
						t.Errorf("%s.%s does not say where %s's value comes from", table.Name, c.Name, p)
					}
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(table.docs)) {
			if !names[k] {
				t.Errorf("%s docs name %s, which is not a column", table.Name, k)
			}
		}
	}
}

// FOCUS columns come first, in alphabetical order, then ours with x_.
func TestChargeLinesColumnOrder(t *testing.T) {
	var names []string
	for _, c := range ChargeLines.Columns() {
		names = append(names, c.Name)
	}
	if !slices.IsSorted(names) {
		t.Errorf("columns are not FOCUS (sorted) then x_ (sorted): %v", names)
	}
}
