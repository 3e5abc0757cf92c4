package invoiceexport_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/load"
)

var update = flag.Bool("update", false, "rewrite the generated parts of template.yaml")

// TestTemplate holds template.yaml to the code: the Glue tables' columns are
// the Parquet schema's (names, types, order), and the named queries are
// queries/*.sql. Run with -update to regenerate them.
func TestTemplate(t *testing.T) {
	b, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	want := got
	for _, table := range []load.Table{load.ChargeLines, load.Invoices} {
		want = replaceGenerated(t, want, "columns "+table.Name, glueColumns(table))
	}
	want = replaceGenerated(t, want, "named queries", namedQueries(t))
	if got != want {
		if *update {
			if err := os.WriteFile("template.yaml", []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatal("template.yaml is out of date with the schema or queries/: run go test -run TestTemplate -update .")
	}
}

// replaceGenerated swaps what stands between "# generated: name" and the
// next "# end generated", indented like the opening marker.
func replaceGenerated(t *testing.T, s, name, body string) string {
	re := regexp.MustCompile(`(?m)^( *)# generated: ` + regexp.QuoteMeta(name) + `\n(?s:.*?)^ *# end generated\n`)
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		t.Fatalf("template.yaml has no %q block", "# generated: "+name)
	}
	indent := s[m[2]:m[3]]
	var b strings.Builder
	fmt.Fprintf(&b, "%s# generated: %s\n", indent, name)
	for line := range strings.SplitSeq(strings.TrimSuffix(body, "\n"), "\n") {
		if line == "" {
			b.WriteString("\n")
		} else {
			b.WriteString(indent + line + "\n")
		}
	}
	fmt.Fprintf(&b, "%s# end generated\n", indent)
	return s[:m[0]] + b.String() + s[m[1]:]
}

// quote writes a YAML double-quoted scalar (JSON's string syntax is YAML's).
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func glueColumns(table load.Table) string {
	var b strings.Builder
	for _, c := range table.Columns() {
		fmt.Fprintf(&b, "- Name: %s\n  Type: %s\n", c.Name, c.GlueType)
		if c.Doc != "" {
			doc := c.Doc
			if len(doc) > 255 { // Glue's limit
				doc = doc[:252] + "..."
			}
			fmt.Fprintf(&b, "  Comment: %s\n", quote(doc))
		}
	}
	return b.String()
}

func namedQueries(t *testing.T) string {
	files, err := filepath.Glob("queries/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no queries/*.sql: %v", err)
	}
	var b strings.Builder
	for _, f := range files {
		sql, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".sql")
		first, _, _ := strings.Cut(string(sql), "\n")
		logical := "Query"
		for part := range strings.SplitSeq(name, "_") {
			logical += strings.ToUpper(part[:1]) + part[1:]
		}
		fmt.Fprintf(&b, "%s:\n  Type: AWS::Athena::NamedQuery\n  Properties:\n", logical)
		fmt.Fprintf(&b, "    Name: %s\n    Description: %s\n", name, quote(strings.TrimPrefix(first, "-- ")))
		b.WriteString("    Database: !Ref GlueDatabase\n    WorkGroup: !Ref AthenaWorkGroup\n    QueryString: |\n")
		for line := range strings.SplitSeq(strings.TrimRight(string(sql), "\n"), "\n") {
			if line == "" {
				b.WriteString("\n")
			} else {
				b.WriteString("      " + line + "\n")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
