package invoiceexport_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/docgen"
	"github.com/invoice-export/invoice-export/internal/registry"
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
	for _, c := range docgen.Columns(table) {
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
		if i, err := strconv.Atoi(key); err == nil && cur.Kind == yaml.SequenceNode {
			if i >= 0 && i < len(cur.Content) {
				next = cur.Content[i]
			}
		}
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

// items are a sequence's elements (none for anything else).
func (n node) items() []node {
	if n.Node == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]node, len(n.Content))
	for i, c := range n.Content {
		out[i] = node{c}
	}
	return out
}

// keys are a mapping's keys, in order.
func (n node) keys() []string {
	var out []string
	for i := 0; n.Node != nil && n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

// list is a scalar or a sequence as a list of texts (IAM's Action and
// Resource take either).
func (n node) list() []string {
	if n.Node != nil && n.Kind == yaml.SequenceNode && n.Tag == "!!seq" {
		var out []string
		for _, it := range n.items() {
			out = append(out, it.text())
		}
		return out
	}
	return []string{n.text()}
}

// iamStatement is one statement of the function's policies, with the
// condition it is under (!If [cond, statement, !Ref AWS::NoValue]), if any.
type iamStatement struct {
	cond string
	node
}

// templateSecret is a secret setting of a provider as the template knows
// it: the parameters it may come from, the condition and the IAM
// statements that go with them, its variable.
type templateSecret struct{ name, env string }

// templateSecrets are the registry's secret settings (API_KEY: name
// WarpStreamApiKey, env WARPSTREAM_API_KEY).
func templateSecrets() []templateSecret {
	var out []templateSecret
	for _, p := range registry.All() {
		for _, s := range p.Settings {
			if s.Secret {
				name := strings.TrimSuffix(docgen.TemplateParameters(p, s)[0], "SecretArn")
				out = append(out, templateSecret{name, p.EnvPrefix + "_" + s.Name})
			}
		}
	}
	return out
}

// s3Writes are the S3 actions that write or delete: a statement whose
// Action matches any of them may name only the output prefix.
var s3Writes = []string{"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl", "s3:PutObjectTagging",
	"s3:PutBucketPolicy", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration", "s3:PutBucketAcl", "s3:AbortMultipartUpload"}

// actionMatches reports whether an IAM action pattern (with * and ?)
// covers action; IAM compares case-insensitively.
func actionMatches(pattern, action string) bool {
	re := "(?i)^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(action)
}

// checkTemplate returns what in template b breaks the deployment the
// README describes (least privilege, retries, alarms, partition
// projection, one parameter per provider setting); nil when nothing does.
// Scalars are compared exactly.
func checkTemplate(b []byte) (problems []string) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return []string{"not YAML: " + err.Error()}
	}
	errorf := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	root := node{&doc}
	res := root.get("Resources")
	eq := func(want string, path ...string) {
		if got := root.get(path...).text(); got != want {
			errorf("%s = %q, want %q", strings.Join(path, "."), got, want)
		}
	}
	fnp := []string{"Resources", "ExportFunction", "Properties"}
	in := func(base []string, path ...string) []string { return append(slices.Clone(base), path...) }

	// The function.
	eq("AWS::Serverless::Function", "Resources", "ExportFunction", "Type")
	eq("makefile", "Resources", "ExportFunction", "Metadata", "BuildMethod")
	for _, c := range []struct{ path, want string }{
		{"Runtime", "provided.al2023"},
		{"Handler", "bootstrap"},
		{"CodeUri", "."},
		{"Architectures", "[arm64]"},
		{"MemorySize", "1024"},
		{"Timeout", "900"},
		// One run at a time; fanned out, as many as the Map runs at once.
		{"ReservedConcurrentExecutions", "!If [FanOut, !Ref FanOutConcurrency, 1]"},
		{"EphemeralStorage.Size", "6144"},
		{"Role", "<missing>"}, // a role of its own would bypass Policies
		{"EventInvokeConfig.MaximumRetryAttempts", "2"},
		{"EventInvokeConfig.MaximumEventAgeInSeconds", "21600"},
		{"EventInvokeConfig.DestinationConfig.OnFailure.Type", "SQS"},
		{"EventInvokeConfig.DestinationConfig.OnFailure.Destination", "!GetAtt FailedRunsQueue.Arn"},
		{"Environment.Variables.OUTPUT_URI", "!Sub s3://${OutputBucket}/${OutputPrefix}"},
		{"Environment.Variables.RESTATEMENT_DAYS", "!Ref RestatementDays"},
		// Objects ask for no encryption unless S3_SSE says so: the bucket
		// encrypts by default, and a stock MinIO refuses the header.
		{"Environment.Variables.S3_SSE", "!Ref S3ServerSideEncryption"},
		// The accounts document (docs/fanout.md): its SSM parameter or S3 object.
		{"Environment.Variables.ACCOUNTS_PARAMETER", "!Ref AccountsParameter"},
		{"Environment.Variables.ACCOUNTS_OBJECT", "!Ref AccountsObject"},
	} {
		eq(c.want, in(fnp, strings.Split(c.path, ".")...)...)
	}
	// The schedule is a resource of its own (ExportFunctionDaily, checked
	// with the fan-out): an event of the function could not switch targets.
	if ev := root.get(in(fnp, "Events")...).keys(); len(ev) != 0 {
		errorf("the function has events %v, want none (the schedule is ExportFunctionDaily)", ev)
	}
	// Every setting of every provider is set by a parameter of its own (a
	// secret by its Secrets Manager ARN or SSM parameter), and the
	// function's variables of the providers are exactly those.
	vars := in(fnp, "Environment", "Variables")
	providerVars := map[string]bool{}
	for _, p := range registry.All() {
		for _, s := range p.Settings {
			env, params := p.EnvPrefix+"_"+s.Name, docgen.TemplateParameters(p, s)
			if s.Secret {
				eq("!Ref "+params[0], in(vars, env+"_SECRET_ARN")...)
				eq("!Ref "+params[1], in(vars, env+"_PARAMETER")...)
				providerVars[env+"_SECRET_ARN"], providerVars[env+"_PARAMETER"] = true, true
			} else {
				eq("!Ref "+params[0], in(vars, env)...)
				providerVars[env] = true
			}
			for _, param := range params {
				if d := root.get("Parameters", param, "Default").text(); d != "" && d != s.Default {
					errorf("parameter %s: default %q, want empty or the program's own (%q)", param, d, s.Default)
				}
				if root.get("Parameters", param).Node == nil {
					errorf("%s's setting %s has no parameter %s", p.Slug, s.Name, param)
				}
			}
		}
	}
	for _, k := range root.get(vars...).keys() {
		if !providerVars[k] && !slices.Contains([]string{"OUTPUT_URI", "RESTATEMENT_DAYS", "S3_SSE", "ACCOUNTS_PARAMETER", "ACCOUNTS_OBJECT"}, k) {
			errorf("the function's variable %s is no setting of a registered provider", k)
		}
	}
	for _, v := range templateSecrets() {
		eq(`!Not [!Equals [!Ref `+v.name+`SecretArn, ""]]`, "Conditions", "Has"+v.name+"Secret")
		eq(`!Not [!Equals [!Ref `+v.name+`Parameter, ""]]`, "Conditions", "Has"+v.name+"Parameter")
	}
	eq(`!Not [!Equals [!Ref ApiKeysKmsKeyArn, ""]]`, "Conditions", "HasKmsKey")
	eq("", "Parameters", "S3ServerSideEncryption", "Default")
	eq("^(AES256|aws:kms(:[a-zA-Z0-9:/_-]+)?)?$", "Parameters", "S3ServerSideEncryption", "AllowedPattern")

	// Least privilege. Every policy is an inline document; its statements
	// are exactly these (Sid: condition, actions, resources, condition block).
	type want struct {
		cond, actions, resources, condition string
	}
	expected := map[string]want{
		"ListOwnPrefix":      {"", "s3:ListBucket", "!GetAtt OutputBucket.Arn", "StringLike:\n    s3:prefix: !Sub ${OutputPrefix}/*"},
		"ReadWriteOwnPrefix": {"", "s3:GetObject s3:PutObject s3:DeleteObject s3:AbortMultipartUpload", "!Sub ${OutputBucket.Arn}/${OutputPrefix}/*", "<missing>"},
		"DecryptKeysWithCustomerKey": {"HasKmsKey", "kms:Decrypt", "!Ref ApiKeysKmsKeyArn",
			"StringEquals:\n    kms:ViaService:\n        - !Sub secretsmanager.${AWS::Region}.amazonaws.com\n        - !Sub ssm.${AWS::Region}.amazonaws.com"},
		// The accounts document, and the keys it names under the prefixes
		// docs/fanout.md asks for.
		"ReadAccountsParameter": {"HasAccountsParameter", "ssm:GetParameter",
			"!Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${AccountsParameter}", "<missing>"},
		"ReadAccountsObject": {"HasAccountsObject", "s3:GetObject",
			"!Sub\n- arn:${AWS::Partition}:s3:::${Object}\n- Object: !Join [\"\", !Split [\"s3://\", !Ref AccountsObject]]", "<missing>"},
		"ReadAccountSecrets":    {"HasAccountsDocument", "secretsmanager:GetSecretValue", accountSecrets, "<missing>"},
		"ReadAccountParameters": {"HasAccountsDocument", "ssm:GetParameter", accountParameters, "<missing>"},
	}
	for _, v := range templateSecrets() {
		expected["Read"+v.name] = want{"Has" + v.name + "Secret", "secretsmanager:GetSecretValue", "!Ref " + v.name + "SecretArn", "<missing>"}
		expected["Read"+v.name+"Parameter"] = want{"Has" + v.name + "Parameter", "ssm:GetParameter",
			"!Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${" + v.name + "Parameter}", "<missing>"}
	}
	var stmts []iamStatement
	for i, pol := range root.get(in(fnp, "Policies")...).items() {
		if pol.Kind != yaml.MappingNode || !slices.Equal(pol.keys(), []string{"Version", "Statement"}) {
			errorf("policy %d is not an inline document of statements (a managed policy or a SAM policy template grants what this test cannot see): %s", i, pol.text())
			continue
		}
		for _, st := range pol.get("Statement").items() {
			if st.Tag == "!If" {
				if len(st.Content) != 3 || (node{st.Content[2]}).text() != "!Ref AWS::NoValue" {
					errorf("a conditional statement must be !If [condition, statement, !Ref AWS::NoValue]: %s", st.text())
					continue
				}
				stmts = append(stmts, iamStatement{st.Content[0].Value, node{st.Content[1]}})
				continue
			}
			stmts = append(stmts, iamStatement{"", st})
		}
	}
	seen := map[string]bool{}
	for _, st := range stmts {
		sid := st.get("Sid").text()
		acts, rsrc := st.get("Action").list(), st.get("Resource").list()
		for _, k := range st.keys() {
			if !slices.Contains([]string{"Sid", "Effect", "Action", "Resource", "Condition"}, k) {
				errorf("statement %s: %s is not allowed here (NotAction, NotResource, Principal grant by exclusion)", sid, k)
			}
		}
		if e := st.get("Effect").text(); e != "Allow" {
			errorf("statement %s: Effect %q, want Allow", sid, e)
		}
		for _, a := range acts {
			if a == "*" || strings.HasSuffix(a, ":*") {
				errorf("statement %s grants %s", sid, a)
			}
			if slices.ContainsFunc(s3Writes, func(w string) bool { return actionMatches(a, w) }) {
				for _, r := range rsrc {
					if r != "!Sub ${OutputBucket.Arn}/${OutputPrefix}/*" {
						errorf("statement %s: %s on %s, outside the output prefix", sid, a, r)
					}
				}
			}
			if strings.HasPrefix(a, "secretsmanager:") || strings.HasPrefix(a, "ssm:") || strings.HasPrefix(a, "kms:") || a == "s3:GetObject" && sid != "ReadWriteOwnPrefix" {
				if st.cond == "" {
					errorf("statement %s: %s granted whether or not a key is named (no !If condition)", sid, a)
				}
			}
		}
		for _, r := range rsrc {
			// The only wildcards: the output prefix, and the two prefixes of
			// the accounts' keys.
			if r == accountSecrets || r == accountParameters {
				continue
			}
			if strings.ContainsAny(strings.ReplaceAll(r, "${OutputPrefix}/*", ""), "*?") || strings.HasSuffix(r, ":*") {
				errorf("statement %s: resource %s is a wildcard", sid, r)
			}
		}
		w, ok := expected[sid]
		if !ok {
			errorf("unexpected statement %q in the function's policies: %s", sid, st.text())
			continue
		}
		if seen[sid] {
			errorf("statement %s appears twice", sid)
		}
		seen[sid] = true
		if st.cond != w.cond {
			errorf("statement %s: under condition %q, want %q", sid, st.cond, w.cond)
		}
		if got := strings.Join(acts, " "); got != w.actions {
			errorf("statement %s: actions %q, want %q", sid, got, w.actions)
		}
		if got := strings.Join(rsrc, " "); got != w.resources {
			errorf("statement %s: resources %q, want %q", sid, got, w.resources)
		}
		if got := st.get("Condition").text(); got != w.condition {
			errorf("statement %s: condition %q, want %q", sid, got, w.condition)
		}
	}
	for sid := range expected {
		if !seen[sid] {
			errorf("the function's policies lack statement %s", sid)
		}
	}

	// The bucket: encrypted, private, TLS only (a bucket policy that only denies).
	bp := []string{"Resources", "OutputBucket", "Properties"}
	eq("AES256", in(bp, "BucketEncryption", "ServerSideEncryptionConfiguration", "0", "ServerSideEncryptionByDefault", "SSEAlgorithm")...)
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		eq("true", in(bp, "PublicAccessBlockConfiguration", k)...)
	}
	eq("!Ref OutputBucket", "Resources", "OutputBucketPolicy", "Properties", "Bucket")
	tls := 0
	for _, st := range res.get("OutputBucketPolicy", "Properties", "PolicyDocument", "Statement").items() {
		sid := st.get("Sid").text()
		if e := st.get("Effect").text(); e != "Deny" {
			errorf("bucket policy statement %s: Effect %q, want Deny (the bucket policy only denies)", sid, e)
		}
		if sid != "TLSOnly" {
			continue
		}
		tls++
		for _, c := range []struct{ path, want string }{
			{"Principal", "*"},
			{"Action", "s3:*"},
			{"Resource", "- !GetAtt OutputBucket.Arn\n- !Sub ${OutputBucket.Arn}/*"},
			{"Condition", "Bool:\n    aws:SecureTransport: \"false\""},
			{"Condition.Bool.aws:SecureTransport", "false"},
		} {
			if got := st.get(strings.Split(c.path, ".")...).text(); got != c.want {
				errorf("bucket policy TLSOnly: %s = %q, want %q", c.path, got, c.want)
			}
		}
	}
	if tls != 1 {
		errorf("the bucket policy has %d TLSOnly statements, want 1", tls)
	}

	// Both tables: partition projection as the output layout is.
	for table, dir := range map[string]string{"ChargeLinesTable": "charge_lines", "InvoicesTable": "invoices"} {
		ti := []string{"Resources", table, "Properties", "TableInput"}
		eq(dir, in(ti, "Name")...)
		eq("EXTERNAL_TABLE", in(ti, "TableType")...)
		params := map[string]string{
			"classification":                          "parquet",
			"EXTERNAL":                                "TRUE",
			"projection.enabled":                      "true",
			"projection.provider.type":                "enum",
			"projection.provider.values":              strings.Join(registry.Slugs(), ","),
			"projection.billing_period.type":          "date",
			"projection.billing_period.format":        "yyyy-MM",
			"projection.billing_period.range":         "2015-01,NOW",
			"projection.billing_period.interval":      "1",
			"projection.billing_period.interval.unit": "MONTHS",
			"storage.location.template":               "!Sub s3://${OutputBucket}/${OutputPrefix}/" + dir + "/provider=${!provider}/billing_period=${!billing_period}",
		}
		for k, v := range params {
			eq(v, in(ti, "Parameters", k)...)
		}
		if got := root.get(in(ti, "Parameters")...).keys(); len(got) != len(params) {
			errorf("%s: table parameters %v, want exactly %d", table, got, len(params))
		}
		eq("- Name: provider\n  Type: string\n- Name: billing_period\n  Type: string", in(ti, "PartitionKeys")...)
		eq("!Sub s3://${OutputBucket}/${OutputPrefix}/"+dir+"/", in(ti, "StorageDescriptor", "Location")...)
		eq("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat", in(ti, "StorageDescriptor", "InputFormat")...)
		eq("org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat", in(ti, "StorageDescriptor", "OutputFormat")...)
		eq("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", in(ti, "StorageDescriptor", "SerdeInfo", "SerializationLibrary")...)
	}
	eq("!Sub s3://${OutputBucket}/athena-results/", "Resources", "AthenaWorkGroup", "Properties", "WorkGroupConfiguration", "ResultConfiguration", "OutputLocation")
	eq("true", "Resources", "AthenaWorkGroup", "Properties", "WorkGroupConfiguration", "EnforceWorkGroupConfiguration")

	problems = append(problems, checkFanOut(root)...)

	// Alarms.
	for _, a := range []struct{ name, namespace, metric, stat, period, evals, datapoints, op, missing string }{
		{"FunctionErrorsAlarm", "AWS/Lambda", "Errors", "Sum", "3600", "1", "<missing>", "GreaterThanOrEqualToThreshold", "notBreaching"},
		{"FailedProvidersAlarm", "InvoiceExport", "FailedProviders", "Maximum", "3600", "1", "<missing>", "GreaterThanOrEqualToThreshold", "notBreaching"},
		{"UnreconciledInvoicesAlarm", "InvoiceExport", "UnreconciledInvoices", "Maximum", "3600", "1", "<missing>", "GreaterThanOrEqualToThreshold", "notBreaching"},
		// One missed daily run: 26 hours in a row with no invocation.
		{"MissedRunAlarm", "AWS/Lambda", "Invocations", "Sum", "3600", "26", "26", "LessThanThreshold", "breaching"},
	} {
		ap := []string{"Resources", a.name, "Properties"}
		for k, v := range map[string]string{"Namespace": a.namespace, "MetricName": a.metric, "Statistic": a.stat, "Period": a.period,
			"EvaluationPeriods": a.evals, "DatapointsToAlarm": a.datapoints, "Threshold": "1", "ComparisonOperator": a.op,
			"TreatMissingData": a.missing, "AlarmActions": "[!Ref AlarmTopic]"} {
			eq(v, in(ap, k)...)
		}
		eq("- Name: FunctionName\n  Value: !Ref ExportFunction", in(ap, "Dimensions")...)
	}
	return problems
}

// TestTemplateProperties asserts what the README's deployment promises of
// the stack, on the template as written.
func TestTemplateProperties(t *testing.T) {
	b, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkTemplate(b) {
		t.Error(p)
	}
	// One named query stands for each file in queries/.
	files, _ := filepath.Glob("queries/*.sql")
	if n := strings.Count(string(b), "Type: AWS::Athena::NamedQuery"); n != len(files) || n < 6 {
		t.Errorf("%d named queries for %d files in queries/", n, len(files))
	}
}

// The checks can fail: each change a reviewer made or could make to the
// template (the ones an earlier, prefix-matching version let through among
// them) is caught, with a message about what was changed.
// mutation is a change to template.yaml that checkTemplate must catch with
// a problem containing want.
type mutation struct {
	name   string
	mutate func(string) string
	want   string
}

// first replaces the first old; last the last one.
func first(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

func last(old, new string) func(string) string {
	return func(s string) string {
		i := strings.LastIndex(s, old)
		if i < 0 {
			return s
		}
		return s[:i] + new + s[i+len(old):]
	}
}

// catchMutations applies each mutation to template.yaml and wants it caught.
func catchMutations(t *testing.T, ms []mutation) {
	b, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	orig := string(b)
	for _, m := range ms {
		t.Run(m.name, func(t *testing.T) {
			mutated := m.mutate(orig)
			if mutated == orig {
				t.Fatal("the mutation does not apply to template.yaml any more: update it")
			}
			problems := checkTemplate([]byte(mutated))
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, m.want) }) {
				t.Errorf("not caught: want a problem containing %q, got %q", m.want, problems)
			}
		})
	}
}

func TestTemplatePropertiesCatchMutations(t *testing.T) {
	catchMutations(t, []mutation{
		{"reserved concurrency 100", first("ReservedConcurrentExecutions: !If [FanOut, !Ref FanOutConcurrency, 1]\n", "ReservedConcurrentExecutions: 100\n"), "ReservedConcurrentExecutions = \"100\""},
		{"schedule retries 30", first("          MaximumRetryAttempts: 3\n", "          MaximumRetryAttempts: 30\n"), "Target.RetryPolicy.MaximumRetryAttempts = \"30\""},
		{"async retries 30", first("        MaximumRetryAttempts: 2\n", "        MaximumRetryAttempts: 30\n"), "EventInvokeConfig.MaximumRetryAttempts = \"30\""},
		{"TLS statement allows", func(s string) string {
			return first(`aws:SecureTransport: "false"`, `aws:SecureTransport: "true"`)(first("          - Sid: TLSOnly\n            Effect: Deny", "          - Sid: TLSOnly\n            Effect: Allow")(s))
		}, "bucket policy statement TLSOnly: Effect \"Allow\""},
		{"TLS condition true", first(`aws:SecureTransport: "false"`, `aws:SecureTransport: "true"`), "aws:SecureTransport = \"true\""},
		{"projection off on charge_lines", first(`projection.enabled: "true"`, `projection.enabled: "false"`), "ChargeLinesTable.Properties.TableInput.Parameters.projection.enabled = \"false\""},
		{"projection off on invoices", last(`projection.enabled: "true"`, `projection.enabled: "false"`), "InvoicesTable.Properties.TableInput.Parameters.projection.enabled = \"false\""},
		{"projection type", last("projection.billing_period.type: date", "projection.billing_period.type: integer"), "billing_period.type = \"integer\""},
		{"location template", last("/invoices/provider=${!provider}", "/charge_lines/provider=${!provider}"), "InvoicesTable.Properties.TableInput.Parameters.storage.location.template"},
		{"put on the whole bucket", first("            - !If\n              - HasWarpStreamApiKeySecret\n",
			"            - Sid: Extra\n              Effect: Allow\n              Action: s3:PutObject\n              Resource: !Sub ${OutputBucket.Arn}/*\n            - !If\n              - HasWarpStreamApiKeySecret\n"),
			"statement Extra: s3:PutObject on !Sub ${OutputBucket.Arn}/*, outside the output prefix"},
		{"delete by wildcard", first("                - s3:AbortMultipartUpload\n              Resource: !Sub ${OutputBucket.Arn}/${OutputPrefix}/*",
			"                - s3:AbortMultipartUpload\n                - s3:Delete*\n              Resource:\n                - !Sub ${OutputBucket.Arn}/${OutputPrefix}/*\n                - !GetAtt OutputBucket.Arn"),
			"statement ReadWriteOwnPrefix: s3:Delete* on !GetAtt OutputBucket.Arn, outside the output prefix"},
		{"a managed policy", first("      Policies:\n", "      Policies:\n        - AmazonS3FullAccess\n"), "policy 0 is not an inline document"},
		{"a role of its own", first("      Environment:\n", "      Role: arn:aws:iam::123456789012:role/admin\n      Environment:\n"), "Role = \"arn:aws:iam::123456789012:role/admin\""},
		{"any secret", first("Resource: !Ref WarpStreamApiKeySecretArn", `Resource: "*"`), "statement ReadWarpStreamApiKey: resource * is a wildcard"},
		{"every parameter", first("parameter${CockroachApiKeyParameter}", "parameter/*"), "statement ReadCockroachApiKeyParameter: resource"},
		{"unconditional parameter", first("            - !If\n              - HasSpectroCloudApiKeyParameter\n              - Sid: ReadSpectroCloudApiKeyParameter\n                Effect: Allow\n                Action: ssm:GetParameter\n                Resource: !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SpectroCloudApiKeyParameter}\n              - !Ref AWS::NoValue\n",
			"            - Sid: ReadSpectroCloudApiKeyParameter\n              Effect: Allow\n              Action: ssm:GetParameter\n              Resource: !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SpectroCloudApiKeyParameter}\n"),
			"statement ReadSpectroCloudApiKeyParameter: ssm:GetParameter granted whether or not a key is named"},
		{"kms without its condition", first("                    kms:ViaService:", "                    kms:CallerAccount:"), "statement DecryptKeysWithCustomerKey: condition"},
		{"default ephemeral storage", first("        Size: 6144\n", "        Size: 512\n"), "EphemeralStorage.Size = \"512\""},
		{"no schedule name", first("      Name: !Sub ${AWS::StackName}-daily\n", ""), "ExportFunctionDaily.Properties.Name = \"<missing>\""},
		{"missed-run alarm waits two days", first("      Period: 3600\n      EvaluationPeriods: 26\n      DatapointsToAlarm: 26\n", "      Period: 86400\n      EvaluationPeriods: 2\n"), "MissedRunAlarm.Properties.Period = \"86400\""},
		{"missing data not breaching", last("      TreatMissingData: breaching\n", "      TreatMissingData: notBreaching\n"), "MissedRunAlarm.Properties.TreatMissingData = \"notBreaching\""},
		{"public bucket", first("RestrictPublicBuckets: true", "RestrictPublicBuckets: false"), "RestrictPublicBuckets = \"false\""},
		{"a setting without its variable", first("          WARPSTREAM_HTTP_METHOD: !Ref WarpStreamHttpMethod\n", ""), "WARPSTREAM_HTTP_METHOD = \"<missing>\""},
		{"a variable of no provider", first("          WARPSTREAM_HTTP_METHOD: !Ref WarpStreamHttpMethod\n", "          WARPSTREAM_HTTP_METHOD: !Ref WarpStreamHttpMethod\n          ACME_API_URL: x\n"),
			"the function's variable ACME_API_URL is no setting of a registered provider"},
		{"a setting without its parameter", first("  WarpStreamHttpMethod:\n    Type: String\n", "  WarpStreamHttpMethodX:\n    Type: String\n"), "setting HTTP_METHOD has no parameter WarpStreamHttpMethod"},
		{"SSE asked by default", first("    Type: String\n    Default: \"\"\n    AllowedPattern: \"^(AES256|", "    Type: String\n    Default: AES256\n    AllowedPattern: \"^(AES256|"),
			"Parameters.S3ServerSideEncryption.Default = \"AES256\""},
	})
}
