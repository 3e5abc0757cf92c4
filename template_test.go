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

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/load"
	"gopkg.in/yaml.v3"
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

// node walks a template parsed as plain YAML: CloudFormation's short tags
// (!Ref, !Sub, !If, ...) stay as tagged nodes, so every property can be
// read as written.
type node struct{ *yaml.Node }

func (n node) get(path ...string) node {
	cur := n.Node
	for _, key := range path {
		if cur == nil {
			return node{}
		}
		if cur.Kind == yaml.DocumentNode {
			cur = cur.Content[0]
		}
		var next *yaml.Node
		for i := 0; i+1 < len(cur.Content) && cur.Kind == yaml.MappingNode; i += 2 {
			if cur.Content[i].Value == key {
				next = cur.Content[i+1]
			}
		}
		cur = next
	}
	return node{cur}
}

// text is a scalar's value, or the tag and values of a tagged node, or the
// node re-encoded: what a test can compare with a string.
func (n node) text() string {
	if n.Node == nil {
		return "<missing>"
	}
	if n.Kind == yaml.ScalarNode && !strings.HasPrefix(n.Tag, "!") || n.Tag == "!!str" {
		return n.Value
	}
	b, _ := yaml.Marshal(n.Node)
	return strings.TrimSpace(string(b))
}

// TestTemplateProperties asserts what DESIGN §8 and the AWS issue require
// of the stack, on the template as written.
func TestTemplateProperties(t *testing.T) {
	b, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	root := node{&doc}
	res := root.get("Resources")
	fn := res.get("ExportFunction")
	for _, c := range []struct {
		got  node
		want string
	}{
		{fn.get("Type"), "AWS::Serverless::Function"},
		{fn.get("Metadata", "BuildMethod"), "makefile"},
		{fn.get("Properties", "Runtime"), "provided.al2023"},
		{fn.get("Properties", "Handler"), "bootstrap"},
		{fn.get("Properties", "Architectures"), "[arm64]"},
		{fn.get("Properties", "ReservedConcurrentExecutions"), "1"},
		{fn.get("Properties", "Environment", "Variables", "OUTPUT_URI"), "!Sub s3://${OutputBucket}/${OutputPrefix}"},
		{fn.get("Properties", "EventInvokeConfig", "DestinationConfig", "OnFailure", "Type"), "SQS"},
		{fn.get("Properties", "Events", "Daily", "Type"), "ScheduleV2"},
		{fn.get("Properties", "Events", "Daily", "Properties", "ScheduleExpressionTimezone"), "UTC"},
		{fn.get("Properties", "Events", "Daily", "Properties", "RetryPolicy", "MaximumRetryAttempts"), "3"},
		{fn.get("Properties", "Events", "Daily", "Properties", "DeadLetterConfig", "Arn"), "!GetAtt ScheduleDeadLetterQueue.Arn"},
		{res.get("OutputBucket", "Properties", "BucketEncryption", "ServerSideEncryptionConfiguration"), "- ServerSideEncryptionByDefault:\n    SSEAlgorithm: AES256"},
		{res.get("OutputBucket", "Properties", "PublicAccessBlockConfiguration", "RestrictPublicBuckets"), "true"},
		{res.get("OutputBucketPolicy", "Properties", "PolicyDocument", "Statement"), "- Sid: TLSOnly"},
		{res.get("ChargeLinesTable", "Properties", "TableInput", "Parameters", "projection.provider.values"), strings.Join(extract.Providers, ",")},
		{res.get("InvoicesTable", "Properties", "TableInput", "Parameters", "projection.billing_period.format"), "yyyy-MM"},
		{res.get("ChargeLinesTable", "Properties", "TableInput", "Parameters", "storage.location.template"),
			"!Sub s3://${OutputBucket}/${OutputPrefix}/charge_lines/provider=${!provider}/billing_period=${!billing_period}"},
		{res.get("AthenaWorkGroup", "Properties", "WorkGroupConfiguration", "ResultConfiguration", "OutputLocation"), "!Sub s3://${OutputBucket}/athena-results/"},
		{res.get("FunctionErrorsAlarm", "Properties", "MetricName"), "Errors"},
		{res.get("FailedProvidersAlarm", "Properties", "MetricName"), "FailedProviders"},
		{res.get("UnreconciledInvoicesAlarm", "Properties", "MetricName"), "UnreconciledInvoices"},
		{res.get("UnreconciledInvoicesAlarm", "Properties", "Namespace"), "InvoiceExport"},
	} {
		if got := c.got.text(); !strings.HasPrefix(got, c.want) {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}

	// Least privilege: objects only under the output prefix, the listing
	// only of it, and each secret only when it is named.
	policy := fn.get("Properties", "Policies").text()
	for _, want := range []string{
		"Resource: !Sub ${OutputBucket.Arn}/${OutputPrefix}/*",
		"s3:prefix: !Sub ${OutputPrefix}/*",
		"Resource: !Ref WarpStreamApiKeySecretArn",
		"Resource: !Ref CockroachApiKeySecretArn",
		"Resource: !Ref SpectroCloudApiKeySecretArn",
	} {
		if !strings.Contains(policy, want) {
			t.Errorf("the function's policy lacks %q:\n%s", want, policy)
		}
	}
	if strings.Contains(policy, "Resource: '*'") || strings.Contains(policy, "s3:*") {
		t.Errorf("the function's policy grants too much:\n%s", policy)
	}

	// Both tables are partitioned as the output layout is, and one named
	// query stands for each file in queries/.
	for _, table := range []string{"ChargeLinesTable", "InvoicesTable"} {
		if got := res.get(table, "Properties", "TableInput", "PartitionKeys").text(); got != "- Name: provider\n  Type: string\n- Name: billing_period\n  Type: string" {
			t.Errorf("%s partition keys:\n%s", table, got)
		}
	}
	files, _ := filepath.Glob("queries/*.sql")
	if n := strings.Count(string(b), "Type: AWS::Athena::NamedQuery"); n != len(files) || n < 6 {
		t.Errorf("%d named queries for %d files in queries/", n, len(files))
	}
}
