// Package docgen renders what the docs say about the code from the code
// itself: docs/schema.md (load's schema, the columns' meanings, and where
// each registered provider takes each value, from its columns file), the
// settings table of docs/vendors.md and the README's table of providers
// (the registry's descriptions) and the Glue column lists of template.yaml. Only tests import it, so the Lambda links
// no documentation; tests hold every generated text equal to the files.
package docgen

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/load"
)

// Column is one column of a table, in file order, for people and for Glue.
type Column struct {
	Name     string
	GlueType string // its type in Athena DDL
	Required bool   // never NULL
	Doc      string // what it means
}

// Columns lists a table's columns in file order.
func Columns(t load.Table) []Column {
	docs := chargeMeanings
	if t.Name == load.Invoices.Name {
		docs = invoiceMeanings
	}
	var cols []Column
	for _, f := range t.Schema().Fields() {
		cols = append(cols, Column{Name: f.Name(), GlueType: glueType(f), Required: !f.Optional(), Doc: docs[f.Name()]})
	}
	return cols
}

func glueType(n pq.Node) string {
	var lt format.LogicalTypeValue
	if l := n.Type().LogicalType(); l != nil {
		lt = l.Value
	}
	switch v := lt.(type) {
	case *format.DecimalType:
		return fmt.Sprintf("decimal(%d,%d)", v.Precision, v.Scale)
	case *format.TimestampType:
		return "timestamp"
	}
	switch {
	case n.Type().Kind() == pq.Boolean:
		return "boolean"
	case n.Type().Kind() == pq.Int64:
		return "bigint"
	}
	return "string"
}

// ProviderColumns reads a provider's columns file (a markdown table of
// column and source, under the repository root): where its value of each
// charge_lines column comes from.
func ProviderColumns(root string, p registry.Provider) (map[string]string, error) {
	path := filepath.Join(root, filepath.FromSlash(p.Columns))
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: its columns file: %w", p.Slug, err)
	}
	defer f.Close()
	out := map[string]string{}
	row := regexp.MustCompile("^\\| `([^`]+)` \\| (.*) \\|$")
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("%s:%d: not a row | `column` | source |", path, n)
		}
		if _, dup := out[m[1]]; dup {
			return nil, fmt.Errorf("%s:%d: %s is there twice", path, n, m[1])
		}
		out[m[1]] = strings.ReplaceAll(m[2], `\|`, "|")
	}
	for name, src := range pipelineSources {
		if _, ok := out[name]; !ok {
			out[name] = src
		}
	}
	return out, sc.Err()
}

// pipelineSources are the charge_lines columns whose value comes from the
// configuration, the same for every provider: a provider's columns file
// need not repeat them.
var pipelineSources = map[string]string{
	"x_AccountId": "the account's `id` in the accounts document; `default` without one (docs/accounts.md)",
}

// Schema renders docs/schema.md; root is the repository's root.
func Schema(root string) (string, error) {
	var b strings.Builder
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	b.WriteString("# Schema\n\nGenerated from the code (`load/schema.go`, `internal/docgen`, and each provider's `transform/<provider>/columns.md`) by `go test ./internal/docgen -update`; a test fails when it is out of date.\n\n")
	fmt.Fprintf(&b, "Schema version %d. Money and quantities are `decimal(38,24)`; times are `timestamp` (INT64 microseconds, UTC). Both tables are partitioned by `provider` and `billing_period` (`YYYY-MM`), which readers see as columns.\n\n", load.SchemaVersion)
	b.WriteString("## charge_lines\n\nFOCUS 1.2 columns first, then ours (`x_`). NULL means unknown or not applicable, never an empty string.\n\n")
	providers := registry.All()
	from := make([]map[string]string, len(providers))
	b.WriteString("| column | type | nullable | meaning |")
	for i, p := range providers {
		cols, err := ProviderColumns(root, p)
		if err != nil {
			return "", err
		}
		from[i] = cols
		b.WriteString(" " + p.Name + " |")
	}
	b.WriteString("\n|---|---|---|---|" + strings.Repeat("---|", len(providers)) + "\n")
	for _, c := range Columns(load.ChargeLines) {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |", c.Name, c.GlueType, yesNo(!c.Required), esc(c.Doc))
		for i := range providers {
			b.WriteString(" " + esc(from[i][c.Name]) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n## invoices\n\nOne row per invoice and currency (per account and period where the vendor issues no invoice id).\n\n")
	b.WriteString("| column | type | nullable | meaning |\n|---|---|---|---|\n")
	for _, c := range Columns(load.Invoices) {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", c.Name, c.GlueType, yesNo(!c.Required), esc(c.Doc))
	}
	return b.String(), nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Settings renders the table of every provider's settings: the variable,
// its default, what it is for, and its template parameter(s).
func Settings() string {
	var b strings.Builder
	b.WriteString("| provider | variable | default | meaning | template parameter |\n|---|---|---|---|---|\n")
	for _, p := range registry.All() {
		for _, s := range p.Settings {
			def, doc := s.Default, s.Doc
			if def != "" {
				def = "`" + def + "`"
			}
			switch {
			case s.Required && s.Credential != "":
				doc += "; part of " + s.Credential + ": the provider takes one of its credentials, and is skipped without any"
			case s.Required:
				doc += "; without it the provider is skipped"
			}
			if s.Secret {
				doc += "; in Lambda also `_SECRET_ARN` (Secrets Manager) or `_PARAMETER` (SSM), never printed"
			}
			params := TemplateParameters(p, s)
			for i := range params {
				params[i] = "`" + params[i] + "`"
			}
			fmt.Fprintf(&b, "| %s | `%s_%s` | %s | %s | %s |\n", p.Name, p.EnvPrefix, s.Name, def, doc, strings.Join(params, ", "))
		}
	}
	return b.String()
}

// Providers renders the README's table of providers: each one's slug,
// its variables (the credentials it accepts first) and what its
// credential must be allowed.
func Providers() string {
	var b strings.Builder
	b.WriteString("| provider | slug | settings | the key needs |\n|---|---|---|---|\n")
	for _, p := range registry.All() {
		var creds, rest []string
		var names []string // credentials, in order
		byName := map[string][]string{}
		for _, s := range p.Settings {
			v := "`" + p.EnvPrefix + "_" + s.Name + "`"
			switch {
			case s.Credential != "":
				if byName[s.Credential] == nil {
					names = append(names, s.Credential)
				}
				byName[s.Credential] = append(byName[s.Credential], v)
			case s.Required:
				creds = append(creds, v)
			default:
				rest = append(rest, v)
			}
		}
		for _, n := range names {
			creds = append(creds, strings.Join(byName[n], " and ")+" ("+n+")")
		}
		settings := strings.Join(creds, ", or ")
		if len(rest) > 0 {
			settings += "; " + strings.Join(rest, ", ")
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", p.Name, p.Slug, settings, strings.ReplaceAll(p.Permissions, "|", `\|`))
	}
	return b.String()
}

// TemplateParameters are the CloudFormation parameters of a setting: for
// a secret, the Secrets Manager ARN and the SSM parameter it may come
// from; otherwise the value itself. Their names are the provider's
// TemplateName and the setting's name in CamelCase (WarpStreamApiUrl).
func TemplateParameters(p registry.Provider, s extract.Setting) []string {
	name := p.TemplateName + camel(s.Name)
	if s.Secret {
		return []string{name + "SecretArn", name + "Parameter"}
	}
	return []string{name}
}

// camel turns API_KEY into ApiKey.
func camel(s string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(strings.ToLower(s), "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
