package docgen_test

import (
	"flag"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	_ "github.com/invoice-export/invoice-export" // registers the providers
	"github.com/invoice-export/invoice-export/internal/docgen"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/internal/testkit/testprovider"
	"github.com/invoice-export/invoice-export/load"
)

var update = flag.Bool("update", false, "rewrite docs/schema.md, the settings table of docs/vendors.md and the README's table of providers from the code")

const root = "../.."

// docs/schema.md is what the schema, the meanings and the providers'
// columns files say.
func TestSchemaDoc(t *testing.T) {
	got, err := docgen.Schema(root)
	if err != nil {
		t.Fatal(err)
	}
	checkGenerated(t, root+"/docs/schema.md", got, "")
}

// The settings table of docs/vendors.md is the registry's.
func TestSettingsDoc(t *testing.T) {
	checkGenerated(t, root+"/docs/vendors.md", docgen.Settings(), "settings")
}

// The README's table of providers is the registry's.
func TestProvidersTable(t *testing.T) {
	checkGenerated(t, root+"/README.md", docgen.Providers(), "providers")
}

// checkGenerated holds a file (or its block between "<!-- generated:
// name -->" and "<!-- end generated -->") equal to want; -update writes it.
func checkGenerated(t *testing.T, path, want, block string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, next := string(b), want
	if block != "" {
		re := regexp.MustCompile(`(?s)(<!-- generated: ` + block + ` -->\n).*?(<!-- end generated -->)`)
		if !re.MatchString(got) {
			t.Fatalf("%s has no <!-- generated: %s --> block", path, block)
		}
		next = re.ReplaceAllLiteralString(got, "<!-- generated: "+block+" -->\n"+want+"<!-- end generated -->")
	}
	if got == next {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(next), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("%s is out of date with the code: run go test ./internal/docgen -update", path)
}

// Every column means something; every provider says where each of its
// values comes from, and names no column that does not exist.
func TestDocsCoverEveryColumn(t *testing.T) {
	for _, table := range []load.Table{load.ChargeLines, load.Invoices} {
		for _, c := range docgen.Columns(table) {
			if c.Doc == "" {
				t.Errorf("%s.%s has no meaning", table.Name, c.Name)
			}
		}
	}
	names := map[string]bool{}
	for _, c := range docgen.Columns(load.ChargeLines) {
		names[c.Name] = true
	}
	for _, p := range registry.All() {
		from, err := docgen.ProviderColumns(root, p)
		if err != nil {
			t.Error(err)
			continue
		}
		for name := range names {
			if strings.TrimSpace(from[name]) == "" {
				t.Errorf("%s: %s does not say where its %s comes from", p.Slug, p.Columns, name)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(from)) {
			if !names[name] {
				t.Errorf("%s: %s names %s, which is not a column", p.Slug, p.Columns, name)
			}
		}
	}
}

// FOCUS columns come first, in alphabetical order, then ours with x_.
func TestChargeLinesColumnOrder(t *testing.T) {
	var names []string
	for _, c := range docgen.Columns(load.ChargeLines) {
		names = append(names, c.Name)
	}
	if !slices.IsSorted(names) {
		t.Errorf("columns are not FOCUS (sorted) then x_ (sorted): %v", names)
	}
}

// A provider that is nothing but its own files (internal/testkit/
// testprovider) gets its column of docs/schema.md from its columns file and
// its rows of the settings table; one whose columns file lacks a column
// fails the docs check.
func TestDocsOfAThrowawayProvider(t *testing.T) {
	testprovider.Register(t)
	schema, err := docgen.Schema(root)
	if err != nil {
		t.Fatal(err)
	}
	all := registry.All()
	if !strings.Contains(schema, "| "+all[len(all)-2].Name+" | Acme Cloud |\n") || !strings.Contains(schema, "| `lines[].amount` |\n") {
		t.Errorf("docs/schema.md would not show Acme Cloud:\n%s", schema[:min(len(schema), 2000)])
	}
	if s := docgen.Settings(); !strings.Contains(s, "| Acme Cloud | `ACME_API_URL` | `https://api.acme.example` | the API's base URL | `AcmeApiUrl` |\n") {
		t.Errorf("settings:\n%s", s)
	}
	if s := docgen.Providers(); !strings.Contains(s, "| Acme Cloud | `acme` | `ACME_API_KEY`; `ACME_API_URL` | a read-only billing key |\n") {
		t.Errorf("providers:\n%s", s)
	}
	p, _ := registry.Get(testprovider.Slug)
	cols, err := docgen.ProviderColumns(root, p)
	if err != nil || len(cols) != len(docgen.Columns(load.ChargeLines)) {
		t.Errorf("%d columns, %v", len(cols), err)
	}
	p.Columns = "internal/testkit/testprovider/no-such-file.md"
	if _, err := docgen.ProviderColumns(root, p); err == nil {
		t.Error("a missing columns file is no error")
	}
}
