package invoiceexport_test

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The fan-out of template.yaml (docs/fanout.md): the Orchestration switch,
// the daily schedule and its role, the state machine, its role and alarms,
// and the accounts document's permissions. checkTemplate calls checkFanOut,
// so TestTemplateProperties runs these checks and the mutations below
// show that each can fail.

// unitFields are the fields of the per-account event (the function's
// {"list_units":true} answer lists units of exactly these).
var unitFields = []string{"provider", "account", "from", "to", "as_of"}

// lambdaTransient are the errors of Lambda itself (not of the function):
// retried quickly and often.
var lambdaTransient = []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}

// The prefixes under which an accounts document names its keys: the only
// wildcards of the function's policies besides the output prefix.
const (
	accountSecrets    = "!Sub arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:invoice-export/*"
	accountParameters = "!Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/invoice-export/*"
)

// stmt is an IAM statement as a test compares it: the condition it is under,
// its actions and resources (space-separated, as written).
type stmt struct{ cond, actions, resources string }

// policyStatements are the statements of a role's inline policies by Sid,
// with problems for what is not an inline document or has no Sid.
func policyStatements(role node, errorf func(string, ...any)) map[string]stmt {
	out := map[string]stmt{}
	for i, pol := range role.get("Properties", "Policies").items() {
		doc := pol.get("PolicyDocument")
		if doc.Node == nil {
			errorf("policy %d of a role is not an inline document: %s", i, pol.text())
			continue
		}
		for _, st := range doc.get("Statement").items() {
			cond := ""
			if st.Tag == "!If" {
				if len(st.Content) != 3 || (node{st.Content[2]}).text() != "!Ref AWS::NoValue" {
					errorf("a conditional statement must be !If [condition, statement, !Ref AWS::NoValue]: %s", st.text())
					continue
				}
				cond, st = st.Content[0].Value, node{st.Content[1]}
			}
			sid := st.get("Sid").text()
			if e := st.get("Effect").text(); e != "Allow" {
				errorf("statement %s: Effect %q, want Allow", sid, e)
			}
			for _, k := range st.keys() {
				if !slices.Contains([]string{"Sid", "Effect", "Action", "Resource"}, k) {
					errorf("statement %s: %s is not expected here", sid, k)
				}
			}
			if _, dup := out[sid]; dup {
				errorf("statement %s appears twice", sid)
			}
			out[sid] = stmt{cond, strings.Join(st.get("Action").list(), " "), strings.Join(st.get("Resource").list(), " ")}
		}
	}
	return out
}

// checkStates checks what makes a state machine valid whatever it does:
// StartAt and every transition name a state of the same scope, every state
// is reachable and ends or goes on (not both), and States.ALL stands alone
// and last among retriers and catchers. Map states' processors are checked
// as scopes of their own.
func checkStates(scope string, def map[string]any, errorf func(string, ...any)) {
	states, _ := def["States"].(map[string]any)
	start, _ := def["StartAt"].(string)
	if _, ok := states[start]; !ok {
		errorf("%s: StartAt %q is no state", scope, start)
	}
	next := map[string][]string{}
	for name, v := range states {
		st, _ := v.(map[string]any)
		typ, _ := st["Type"].(string)
		if !slices.Contains([]string{"Task", "Pass", "Map", "Choice", "Succeed", "Fail", "Wait", "Parallel"}, typ) {
			errorf("%s.%s: Type %q", scope, name, typ)
		}
		var targets []string
		if n, ok := st["Next"].(string); ok {
			targets = append(targets, n)
		}
		if n, ok := st["Default"].(string); ok {
			targets = append(targets, n)
		}
		for _, c := range asList(st["Choices"]) {
			if n, ok := c["Next"].(string); ok {
				targets = append(targets, n)
			}
		}
		for _, c := range asList(st["Catch"]) {
			if n, ok := c["Next"].(string); ok {
				targets = append(targets, n)
			}
		}
		for _, t := range targets {
			if _, ok := states[t]; !ok {
				errorf("%s.%s: goes to %q, which is no state", scope, name, t)
			}
		}
		next[name] = targets
		_, hasNext := st["Next"]
		end, _ := st["End"].(bool)
		switch {
		case typ == "Choice" || typ == "Succeed" || typ == "Fail":
			if hasNext || end {
				errorf("%s.%s: a %s takes neither Next nor End", scope, name, typ)
			}
		case hasNext == end:
			errorf("%s.%s: needs exactly one of Next and End", scope, name)
		}
		for _, field := range []string{"Retry", "Catch"} {
			list := asList(st[field])
			for i, r := range list {
				if errs := asStrings(r["ErrorEquals"]); slices.Contains(errs, "States.ALL") && (len(errs) != 1 || i != len(list)-1) {
					errorf("%s.%s: States.ALL must stand alone in the last of %s", scope, name, field)
				}
			}
		}
		if typ == "Map" {
			if proc, ok := st["ItemProcessor"].(map[string]any); ok {
				checkStates(scope+"."+name, proc, errorf)
			} else {
				errorf("%s.%s: a Map without ItemProcessor", scope, name)
			}
		}
	}
	seen := map[string]bool{}
	var walk func(string)
	walk = func(s string) {
		if seen[s] {
			return
		}
		seen[s] = true
		for _, t := range next[s] {
			walk(t)
		}
	}
	walk(start)
	for name := range states {
		if !seen[name] {
			errorf("%s.%s: no transition reaches it", scope, name)
		}
	}
}

func asList(v any) []map[string]any {
	var out []map[string]any
	l, _ := v.([]any)
	for _, e := range l {
		m, _ := e.(map[string]any)
		out = append(out, m)
	}
	return out
}

func asStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// checkFanOut returns what in the template breaks the fan-out that
// docs/fanout.md describes; nil when nothing does.
func checkFanOut(root node) (problems []string) {
	errorf := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	eq := func(want string, path ...string) {
		if got := root.get(path...).text(); got != want {
			errorf("%s = %q, want %q", strings.Join(path, "."), got, want)
		}
	}
	res := root.get("Resources")

	// Parameters and conditions.
	eq("Direct", "Parameters", "Orchestration", "Default")
	eq("[Direct, StepFunctions]", "Parameters", "Orchestration", "AllowedValues")
	eq("Number", "Parameters", "FanOutConcurrency", "Type")
	eq("10", "Parameters", "FanOutConcurrency", "Default")
	eq("1", "Parameters", "FanOutConcurrency", "MinValue")
	eq("", "Parameters", "AccountsParameter", "Default")
	eq("", "Parameters", "AccountsObject", "Default")
	for name, want := range map[string]string{
		"DirectSchedule":       "!Equals [!Ref Orchestration, Direct]",
		"FanOut":               "!Equals [!Ref Orchestration, StepFunctions]",
		"HasAccountsParameter": `!Not [!Equals [!Ref AccountsParameter, ""]]`,
		"HasAccountsObject":    `!Not [!Equals [!Ref AccountsObject, ""]]`,
		"HasAccountsDocument":  "!Or [{Condition: HasAccountsParameter}, {Condition: HasAccountsObject}]",
	} {
		eq(want, "Conditions", name)
	}
	eq(`!Or [!Equals [!Ref AccountsParameter, ""], !Equals [!Ref AccountsObject, ""]]`, "Rules", "OneAccountsDocument", "Assertions", "0", "Assert")
	// The object's key is named in an IAM resource: no wildcard may pass.
	if re, err := regexp.Compile(root.get("Parameters", "AccountsObject", "AllowedPattern").text()); err != nil {
		errorf("AccountsObject's AllowedPattern: %v", err)
	} else {
		for v, ok := range map[string]bool{"": true, "s3://my-bucket/config/accounts.json": true, "s3://my-bucket/*": false,
			"s3://my-bucket/a?.json": false, "my-bucket/accounts.json": false, "s3://my-bucket/s3://x": false} {
			if re.MatchString(v) != ok {
				errorf("AccountsObject's AllowedPattern takes %q: %v, want %v", v, !ok, ok)
			}
		}
	}

	// The schedule: one resource, whose target the switch changes.
	sp := []string{"ExportFunctionDaily", "Properties"}
	eq("AWS::Scheduler::Schedule", "Resources", "ExportFunctionDaily", "Type")
	eq("<missing>", "Resources", "ExportFunctionDaily", "Condition")
	for path, want := range map[string]string{
		"Name":                       "!Sub ${AWS::StackName}-daily",
		"ScheduleExpression":         "!Ref ScheduleExpression",
		"ScheduleExpressionTimezone": "UTC",
		"FlexibleTimeWindow.Mode":    "OFF",
		"Target.Arn":                 "!If [FanOut, !Ref FanOutStateMachine, !GetAtt ExportFunction.Arn]",
		"Target.RoleArn":             "!GetAtt ExportFunctionDailyRole.Arn",
		"Target.Input":               `{"detail-type":"Scheduled Event","source":"invoice-export.schedule","detail":{}}`,
		"Target.RetryPolicy.MaximumRetryAttempts":     "3",
		"Target.RetryPolicy.MaximumEventAgeInSeconds": "3600",
		"Target.DeadLetterConfig.Arn":                 "!GetAtt ScheduleDeadLetterQueue.Arn",
	} {
		if got := res.get(append(slices.Clone(sp), strings.Split(path, ".")...)...).text(); got != want {
			errorf("ExportFunctionDaily.Properties.%s = %q, want %q", path, got, want)
		}
	}
	roles := map[string]struct {
		service string
		stmts   map[string]stmt
	}{
		"ExportFunctionDailyRole": {"scheduler.amazonaws.com", map[string]stmt{
			"InvokeExportFunction": {"DirectSchedule", "lambda:InvokeFunction", "!GetAtt ExportFunction.Arn"},
			"StartFanOut":          {"FanOut", "states:StartExecution", "!Ref FanOutStateMachine"},
			"SendUndelivered":      {"", "sqs:SendMessage", "!GetAtt ScheduleDeadLetterQueue.Arn"},
		}},
		// What a Distributed Map does on the state machine's behalf: start,
		// watch and stop its own child executions.
		"FanOutRole": {"states.amazonaws.com", map[string]stmt{
			"InvokeExportFunction": {"", "lambda:InvokeFunction", "!GetAtt ExportFunction.Arn"},
			"StartChildExecutions": {"", "states:StartExecution", "!Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-fanout"},
			"WatchChildExecutions": {"", "states:DescribeExecution states:StopExecution", "!Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-fanout/*"},
		}},
	}
	for name, want := range roles {
		role := res.get(name)
		eq("AWS::IAM::Role", "Resources", name, "Type")
		trust := role.get("Properties", "AssumeRolePolicyDocument", "Statement")
		if got := trust.text(); got != "- Effect: Allow\n  Principal:\n    Service: "+want.service+"\n  Action: sts:AssumeRole\n  Condition:\n    StringEquals:\n        aws:SourceAccount: !Ref AWS::AccountId" {
			errorf("%s: trust policy %q, want %s only, from this account", name, got, want.service)
		}
		for _, k := range role.get("Properties").keys() {
			if k != "AssumeRolePolicyDocument" && k != "Policies" {
				errorf("%s: %s grants what this test cannot see", name, k)
			}
		}
		got := policyStatements(role, errorf)
		for sid, w := range want.stmts {
			if g, ok := got[sid]; !ok {
				errorf("%s lacks statement %s", name, sid)
			} else if g != w {
				errorf("%s: statement %s is %+v, want %+v", name, sid, g, w)
			}
		}
		for sid, g := range got {
			if _, ok := want.stmts[sid]; !ok {
				errorf("%s: unexpected statement %s: %+v", name, sid, g)
			}
		}
	}

	// The state machine.
	sm := res.get("FanOutStateMachine")
	eq("AWS::Serverless::StateMachine", "Resources", "FanOutStateMachine", "Type")
	eq("FanOut", "Resources", "FanOutStateMachine", "Condition")
	for path, want := range map[string]string{
		"Type": "STANDARD", "Name": "!Sub ${AWS::StackName}-fanout", "Role": "!GetAtt FanOutRole.Arn",
		"Policies": "<missing>", "Events": "<missing>",
		"DefinitionSubstitutions": "ExportFunctionArn: !GetAtt ExportFunction.Arn\nFanOutConcurrency: !Ref FanOutConcurrency",
	} {
		if got := sm.get(append([]string{"Properties"}, strings.Split(path, ".")...)...).text(); got != want {
			errorf("FanOutStateMachine.Properties.%s = %q, want %q", path, got, want)
		}
	}
	// The role names the state machine by its name (a reference would be a cycle).
	if name := strings.TrimPrefix(sm.get("Properties", "Name").text(), "!Sub "); !strings.HasSuffix(roles["FanOutRole"].stmts["StartChildExecutions"].resources, ":stateMachine:"+name) {
		errorf("FanOutRole names the state machine other than its Name %s", name)
	}
	var def map[string]any
	if n := sm.get("Properties", "Definition"); n.Node == nil || n.Decode(&def) != nil {
		errorf("FanOutStateMachine has no Definition the test can read")
		return problems
	}
	// Every placeholder is substituted, and every substitution used.
	defText := fmt.Sprint(def)
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{([^}]*)\}`).FindAllStringSubmatch(defText, -1) {
		used[m[1]] = true
	}
	if subs := sm.get("Properties", "DefinitionSubstitutions").keys(); !slices.Equal(slices.Sorted(maps.Keys(used)), subs) {
		errorf("the definition's placeholders are %v, its substitutions %v", slices.Sorted(maps.Keys(used)), subs)
	}
	checkStates("Definition", def, errorf)
	states, _ := def["States"].(map[string]any)
	if got := slices.Sorted(maps.Keys(states)); !slices.Equal(got, []string{"AnyUnitFailed", "DescribeFailures", "ExportUnits", "Exported", "ListUnits", "UnitsFailed"}) {
		errorf("the states are %v", got)
	}
	st := func(path ...string) any {
		var cur any = states
		for _, k := range path {
			m, _ := cur.(map[string]any)
			cur = m[k]
		}
		return cur
	}
	same := func(want any, path ...string) {
		if got := st(path...); !reflect.DeepEqual(got, want) {
			errorf("Definition.States.%s = %#v, want %#v", strings.Join(path, "."), got, want)
		}
	}
	if t, ok := def["TimeoutSeconds"].(int); !ok || t <= 0 || t >= 86400 {
		errorf("Definition.TimeoutSeconds = %v: an execution must time out before the next day's run", def["TimeoutSeconds"])
	}
	// ListUnits: the function's list of units, and the Map's concurrency.
	if def["StartAt"] != "ListUnits" {
		errorf("Definition starts at %v, want ListUnits", def["StartAt"])
	}
	same("Task", "ListUnits", "Type")
	same("arn:aws:states:::lambda:invoke", "ListUnits", "Resource")
	same(map[string]any{"FunctionName": "${ExportFunctionArn}", "Payload": map[string]any{"list_units": true}}, "ListUnits", "Parameters")
	same(map[string]any{"units.$": "$.Payload.units", "max_concurrency.$": "States.StringToJson('${FanOutConcurrency}')"}, "ListUnits", "ResultSelector")
	same("ExportUnits", "ListUnits", "Next")
	transient := []any{}
	for _, e := range lambdaTransient {
		transient = append(transient, e)
	}
	quickRetry := map[string]any{"ErrorEquals": transient, "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2, "MaxDelaySeconds": 60, "JitterStrategy": "FULL"}
	// A bad accounts document is not mended by a retry: Lambda's own errors only.
	same([]any{quickRetry}, "ListUnits", "Retry")

	// ExportUnits: a Distributed Map over the listed units.
	same("Map", "ExportUnits", "Type")
	same("$.units", "ExportUnits", "ItemsPath")
	same(nil, "ExportUnits", "ItemReader")
	sel := map[string]any{}
	for _, f := range unitFields {
		sel[f+".$"] = "$$.Map.Item.Value." + f
	}
	same(sel, "ExportUnits", "ItemSelector")
	same(nil, "ExportUnits", "MaxConcurrency")
	same("$.max_concurrency", "ExportUnits", "MaxConcurrencyPath")
	// The paths the Map reads are the ones ListUnits writes.
	for _, p := range []string{"ItemsPath", "MaxConcurrencyPath"} {
		if path, _ := st("ExportUnits", p).(string); st("ListUnits", "ResultSelector", strings.TrimPrefix(path, "$.")+".$") == nil {
			errorf("ExportUnits.%s %q is not written by ListUnits", p, path)
		}
	}
	same(0, "ExportUnits", "ToleratedFailurePercentage")
	same(nil, "ExportUnits", "ToleratedFailureCount")
	same(map[string]any{"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "ExportUnits", "ItemProcessor", "ProcessorConfig")
	same("ExportUnit", "ExportUnits", "ItemProcessor", "StartAt")
	unit := []string{"ExportUnits", "ItemProcessor", "States", "ExportUnit"}
	at := func(path ...string) []string { return append(slices.Clone(unit), path...) }
	same("Task", at("Type")...)
	same("arn:aws:states:::lambda:invoke", at("Resource")...)
	same(map[string]any{"FunctionName": "${ExportFunctionArn}", "Payload.$": "$"}, at("Parameters")...)
	if t, ok := st(at("TimeoutSeconds")...).(int); !ok || t <= 900 || t > 1200 {
		errorf("ExportUnit.TimeoutSeconds = %v, want a little over the function's 900", st(at("TimeoutSeconds")...))
	}
	// Nothing of a unit that succeeded is kept: the Map's result stays small.
	u, _ := st(unit...).(map[string]any)
	for _, k := range []string{"ResultPath", "OutputPath"} {
		if v, ok := u[k]; !ok || v != nil {
			errorf("ExportUnit.%s = %v, want null", k, v)
		}
	}
	// The export's own failure is retried twice at most, with a backoff: a
	// unit is replaced whole, but each retry is up to 15 minutes of work.
	same([]any{quickRetry, map[string]any{"ErrorEquals": []any{"States.ALL"}, "IntervalSeconds": 60, "MaxAttempts": 2, "BackoffRate": 2}}, at("Retry")...)
	for _, r := range asList(st(at("Retry")...)) {
		if !reflect.DeepEqual(r["ErrorEquals"], transient) {
			if n, _ := r["MaxAttempts"].(int); n > 2 {
				errorf("ExportUnit retries the function's own errors %d times, want at most 2", n)
			}
		}
	}
	same([]any{map[string]any{"ErrorEquals": []any{"States.ALL"}, "ResultPath": "$.error", "Next": "UnitFailed"}}, at("Catch")...)
	failed := map[string]any{"error.$": "$.error.Error"}
	for _, f := range []string{"provider", "account", "from", "to"} {
		failed[f+".$"] = "$." + f
	}
	same(map[string]any{"Type": "Pass", "Parameters": failed, "End": true}, "ExportUnits", "ItemProcessor", "States", "UnitFailed")
	// The run fails when any unit did, naming them.
	same(map[string]any{"units.$": "States.ArrayLength($)", "failed.$": "$[?(@.error)]"}, "ExportUnits", "ResultSelector")
	same("AnyUnitFailed", "ExportUnits", "Next")
	same([]any{map[string]any{"Variable": "$.failed[0]", "IsPresent": true, "Next": "DescribeFailures"}}, "AnyUnitFailed", "Choices")
	same("Exported", "AnyUnitFailed", "Default")
	same(map[string]any{"Type": "Pass", "Next": "UnitsFailed", "Parameters": map[string]any{
		"cause.$": "States.Format('{} of {} units failed: {}', States.ArrayLength($.failed), $.units, States.JsonToString($.failed))"}}, "DescribeFailures")
	same(map[string]any{"Type": "Fail", "Error": "UnitsFailed", "CausePath": "$.cause"}, "UnitsFailed")
	same("Succeed", "Exported", "Type")

	// Alarms: a failed or timed-out execution, to the alarm topic.
	for name, metric := range map[string]string{"FanOutFailedAlarm": "ExecutionsFailed", "FanOutTimedOutAlarm": "ExecutionsTimedOut"} {
		eq("FanOut", "Resources", name, "Condition")
		ap := []string{"Resources", name, "Properties"}
		for k, v := range map[string]string{"Namespace": "AWS/States", "MetricName": metric, "Statistic": "Sum", "Period": "3600",
			"EvaluationPeriods": "1", "Threshold": "1", "ComparisonOperator": "GreaterThanOrEqualToThreshold",
			"TreatMissingData": "notBreaching", "AlarmActions": "[!Ref AlarmTopic]",
			"Dimensions": "- Name: StateMachineArn\n  Value: !Ref FanOutStateMachine"} {
			eq(v, append(slices.Clone(ap), k)...)
		}
	}

	// Each mode creates what it needs and refers to nothing it lacks.
	for _, mode := range []string{"Direct", "StepFunctions"} {
		for _, acc := range []map[string]string{{}, {"AccountsParameter": "/invoice-export/accounts"}, {"AccountsObject": "s3://config-bucket/accounts.json"}} {
			params := map[string]string{"Orchestration": mode}
			maps.Copy(params, acc)
			problems = append(problems, checkDeployment(root, params)...)
		}
	}
	return problems
}

// deployment is the template as CloudFormation would deploy it with some
// parameter values: its conditions' values, and its resources with every
// !If decided.
type deployment struct {
	params    map[string]string
	conds     map[string]bool
	resources map[string]*yaml.Node // the resolved resources that exist
}

func deploy(root node, params map[string]string) (*deployment, error) {
	d := &deployment{params: map[string]string{}, conds: map[string]bool{}, resources: map[string]*yaml.Node{}}
	ps := root.get("Parameters")
	for _, k := range ps.keys() {
		d.params[k] = ps.get(k, "Default").text()
	}
	for k, v := range params {
		if _, ok := d.params[k]; !ok {
			return nil, fmt.Errorf("no parameter %s", k)
		}
		d.params[k] = v
	}
	cs := root.get("Conditions")
	var eval func(n *yaml.Node) (bool, error)
	value := func(n *yaml.Node) string {
		if n.Tag == "!Ref" {
			return d.params[n.Value]
		}
		return n.Value
	}
	eval = func(n *yaml.Node) (bool, error) {
		switch {
		case n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "Condition":
			c := cs.get(n.Content[1].Value)
			if c.Node == nil {
				return false, fmt.Errorf("no condition %s", n.Content[1].Value)
			}
			return eval(c.Node)
		case n.Tag == "!Equals" && len(n.Content) == 2:
			return value(n.Content[0]) == value(n.Content[1]), nil
		case n.Tag == "!Not" && len(n.Content) == 1:
			v, err := eval(n.Content[0])
			return !v, err
		case n.Tag == "!Or" || n.Tag == "!And":
			any, all := false, true
			for _, c := range n.Content {
				v, err := eval(c)
				if err != nil {
					return false, err
				}
				any, all = any || v, all && v
			}
			return n.Tag == "!Or" && any || n.Tag == "!And" && all, nil
		}
		return false, fmt.Errorf("condition not understood: %s", node{n}.text())
	}
	for _, k := range cs.keys() {
		v, err := eval(cs.get(k).Node)
		if err != nil {
			return nil, err
		}
		d.conds[k] = v
	}
	rs := root.get("Resources")
	for _, k := range rs.keys() {
		r := rs.get(k)
		if c := r.get("Condition"); c.Node != nil && !d.conds[c.Value] {
			continue
		}
		d.resources[k] = d.resolve(r.Node)
	}
	return d, nil
}

// resolve copies n with every !If decided and every AWS::NoValue dropped
// (nil when n itself is one).
func (d *deployment) resolve(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Tag == "!If" && len(n.Content) == 3 {
		if d.conds[n.Content[0].Value] {
			return d.resolve(n.Content[1])
		}
		return d.resolve(n.Content[2])
	}
	if n.Tag == "!Ref" && n.Value == "AWS::NoValue" {
		return nil
	}
	c := *n
	c.Content = nil
	for i := 0; i < len(n.Content); i++ {
		if n.Kind == yaml.MappingNode {
			v := d.resolve(n.Content[i+1])
			if v != nil {
				c.Content = append(c.Content, n.Content[i], v)
			}
			i++
			continue
		}
		if v := d.resolve(n.Content[i]); v != nil {
			c.Content = append(c.Content, v)
		}
	}
	return &c
}

// refs are the resources and parameters n refers to (!Ref, !GetAtt, !Sub).
func refs(n *yaml.Node) []string {
	var out []string
	subVars := regexp.MustCompile(`\$\{([^!}][^}.]*)`)
	var walk func(n *yaml.Node, local map[string]bool)
	walk = func(n *yaml.Node, local map[string]bool) {
		switch {
		case n.Tag == "!Ref":
			out = append(out, n.Value)
			return
		case n.Tag == "!GetAtt" && n.Kind == yaml.ScalarNode:
			out = append(out, strings.Split(n.Value, ".")[0])
			return
		case n.Tag == "!Sub":
			s, vars := n, map[string]bool{}
			if n.Kind == yaml.SequenceNode && len(n.Content) == 2 {
				s = n.Content[0]
				for i := 0; i+1 < len(n.Content[1].Content); i += 2 {
					vars[n.Content[1].Content[i].Value] = true
					walk(n.Content[1].Content[i+1], nil)
				}
			}
			for _, m := range subVars.FindAllStringSubmatch(s.Value, -1) {
				if !vars[m[1]] {
					out = append(out, m[1])
				}
			}
			return
		}
		for _, c := range n.Content {
			walk(c, local)
		}
	}
	walk(n, nil)
	return out
}

// checkDeployment checks the template deployed with params: every reference
// of a resource or output that exists names something that exists, and each
// mode's schedule, function and permissions are what docs/fanout.md says.
func checkDeployment(root node, params map[string]string) (problems []string) {
	label := fmt.Sprint(params)
	errorf := func(format string, a ...any) { problems = append(problems, label+": "+fmt.Sprintf(format, a...)) }
	d, err := deploy(root, params)
	if err != nil {
		errorf("%v", err)
		return problems
	}
	exists := func(name string) bool {
		_, isParam := d.params[name]
		_, isRes := d.resources[name]
		return isParam || isRes || strings.HasPrefix(name, "AWS::")
	}
	for name, r := range d.resources {
		props := node{r}.get("Properties").Node
		if props == nil {
			continue
		}
		for _, ref := range refs(props) {
			if !exists(ref) {
				errorf("%s refers to %s, which this deployment does not create", name, ref)
			}
		}
	}
	outs := root.get("Outputs")
	for _, k := range outs.keys() {
		o := outs.get(k)
		if c := o.get("Condition"); c.Node != nil && !d.conds[c.Value] {
			continue
		}
		for _, ref := range refs(d.resolve(o.Node)) {
			if !exists(ref) {
				errorf("output %s refers to %s, which this deployment does not create", k, ref)
			}
		}
	}
	r := func(name string, path ...string) string {
		n, ok := d.resources[name]
		if !ok {
			return "<no " + name + ">"
		}
		return node{n}.get(path...).text()
	}
	fanOut := params["Orchestration"] == "StepFunctions"
	for _, name := range []string{"FanOutStateMachine", "FanOutRole", "FanOutFailedAlarm", "FanOutTimedOutAlarm"} {
		if _, ok := d.resources[name]; ok != fanOut {
			errorf("%s created: %v, want %v", name, ok, fanOut)
		}
	}
	target, reserved, starts := "!GetAtt ExportFunction.Arn", "1", "lambda:InvokeFunction"
	if fanOut {
		target, reserved, starts = "!Ref FanOutStateMachine", "!Ref FanOutConcurrency", "states:StartExecution"
	}
	if got := r("ExportFunctionDaily", "Properties", "Target", "Arn"); got != target {
		errorf("the schedule's target is %q, want %q", got, target)
	}
	if got := r("ExportFunction", "Properties", "ReservedConcurrentExecutions"); got != reserved {
		errorf("the function's reserved concurrency is %q, want %q", got, reserved)
	}
	var actions []string
	for _, st := range (node{d.resources["ExportFunctionDailyRole"]}).get("Properties", "Policies", "0", "PolicyDocument", "Statement").items() {
		actions = append(actions, st.get("Action").list()...)
	}
	if want := []string{starts, "sqs:SendMessage"}; !slices.Equal(actions, want) {
		errorf("the schedule may %v, want %v", actions, want)
	}
	var sids []string
	for _, pol := range (node{d.resources["ExportFunction"]}).get("Properties", "Policies").items() {
		for _, st := range pol.get("Statement").items() {
			if sid := st.get("Sid").text(); strings.Contains(sid, "Account") {
				sids = append(sids, sid)
			}
		}
	}
	var want []string
	switch {
	case params["AccountsParameter"] != "":
		want = []string{"ReadAccountsParameter", "ReadAccountSecrets", "ReadAccountParameters"}
	case params["AccountsObject"] != "":
		want = []string{"ReadAccountsObject", "ReadAccountSecrets", "ReadAccountParameters"}
	}
	if !slices.Equal(sids, want) {
		errorf("the function's statements about accounts are %v, want %v", sids, want)
	}
	return problems
}

// Each change below breaks the fan-out or its permissions, and is caught
// with a message about what was changed.
func TestTemplateFanOutCatchMutations(t *testing.T) {
	catchMutations(t, []mutation{
		{"express children", first("ExecutionType: STANDARD", "ExecutionType: EXPRESS"), `ProcessorConfig = map[string]interface {}{"ExecutionType":"EXPRESS"`},
		{"inline map", first("Mode: DISTRIBUTED", "Mode: INLINE"), `"Mode":"INLINE"`},
		{"fixed concurrency", first("MaxConcurrencyPath: $.max_concurrency", "MaxConcurrency: 40"), "ExportUnits.MaxConcurrency = 40"},
		{"concurrency read from nowhere", first("MaxConcurrencyPath: $.max_concurrency", "MaxConcurrencyPath: $.concurrency"), `ExportUnits.MaxConcurrencyPath "$.concurrency" is not written by ListUnits`},
		{"items from elsewhere", first("ItemsPath: $.units", "ItemsPath: $.Payload"), `ExportUnits.ItemsPath "$.Payload" is not written by ListUnits`},
		{"a unit without as_of", first("              as_of.$: $$.Map.Item.Value.as_of\n", ""), "ExportUnits.ItemSelector"},
		{"failures tolerated", first("ToleratedFailurePercentage: 0", "ToleratedFailurePercentage: 10"), "ExportUnits.ToleratedFailurePercentage = 10"},
		{"export errors retried 5 times", first("                      IntervalSeconds: 60\n                      MaxAttempts: 2\n", "                      IntervalSeconds: 60\n                      MaxAttempts: 5\n"), "retries the function's own errors 5 times"},
		{"no backoff", first("                      IntervalSeconds: 60\n", "                      IntervalSeconds: 1\n"), "ExportUnit.Retry"},
		{"States.ALL first", first("                    - ErrorEquals:\n                        - Lambda.ServiceException", "                    - ErrorEquals: [States.ALL]\n                      MaxAttempts: 1\n                    - ErrorEquals:\n                        - Lambda.ServiceException"), "States.ALL must stand alone in the last of Retry"},
		{"list retried on function errors", first("                  - Lambda.TooManyRequestsException\n                IntervalSeconds: 2", "                  - Lambda.TooManyRequestsException\n                  - States.TaskFailed\n                IntervalSeconds: 2"), "ListUnits.Retry"},
		{"no catch", first("                  Catch:\n                    - ErrorEquals: [States.ALL]\n                      ResultPath: $.error\n                      Next: UnitFailed\n", ""), "UnitFailed: no transition reaches it"},
		{"a transition to nowhere", first("            Default: Exported", "            Default: Done"), `goes to "Done", which is no state`},
		{"failures ignored", first("                Next: DescribeFailures\n", "                Next: Exported\n"), "DescribeFailures: no transition reaches it"},
		{"list units differently", first("                list_units: true", "                list: true"), "ListUnits.Parameters"},
		{"unsubstituted placeholder", first("FunctionName: ${ExportFunctionArn}\n                    Payload.$: $", "FunctionName: ${ExportFunction}\n                    Payload.$: $"), "the definition's placeholders are"},
		{"no timeout", first("        TimeoutSeconds: 82800\n", ""), "Definition.TimeoutSeconds = <nil>"},
		{"express workflow", first("      Type: STANDARD\n", "      Type: EXPRESS\n"), `FanOutStateMachine.Properties.Type = "EXPRESS"`},
		{"invoke any function", first("              - Sid: InvokeExportFunction\n                Effect: Allow\n                Action: lambda:InvokeFunction\n                Resource: !GetAtt ExportFunction.Arn\n              - Sid: StartChildExecutions",
			"              - Sid: InvokeExportFunction\n                Effect: Allow\n                Action: lambda:InvokeFunction\n                Resource: \"*\"\n              - Sid: StartChildExecutions"), "FanOutRole: statement InvokeExportFunction"},
		{"start any state machine", first(":stateMachine:${AWS::StackName}-fanout\n", ":stateMachine:*\n"), "FanOutRole: statement StartChildExecutions"},
		{"an extra grant", first("              - Sid: WatchChildExecutions", "              - Sid: Logs\n                Effect: Allow\n                Action: logs:*\n                Resource: \"*\"\n              - Sid: WatchChildExecutions"), "FanOutRole: unexpected statement Logs"},
		{"a managed policy", first("      AssumeRolePolicyDocument:\n        Version: \"2012-10-17\"\n        Statement:\n          - Effect: Allow\n            Principal:\n              Service: states.amazonaws.com",
			"      ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]\n      AssumeRolePolicyDocument:\n        Version: \"2012-10-17\"\n        Statement:\n          - Effect: Allow\n            Principal:\n              Service: states.amazonaws.com"), "FanOutRole: ManagedPolicyArns grants"},
		{"schedule always on the function", first("Arn: !If [FanOut, !Ref FanOutStateMachine, !GetAtt ExportFunction.Arn]", "Arn: !GetAtt ExportFunction.Arn"), `the schedule's target is "!GetAtt ExportFunction.Arn", want "!Ref FanOutStateMachine"`},
		{"schedule may invoke in both modes", first("              - !If\n                - DirectSchedule\n                - Sid: InvokeExportFunction\n                  Effect: Allow\n                  Action: lambda:InvokeFunction\n                  Resource: !GetAtt ExportFunction.Arn\n                - !Ref AWS::NoValue\n",
			"              - Sid: InvokeExportFunction\n                Effect: Allow\n                Action: lambda:InvokeFunction\n                Resource: !GetAtt ExportFunction.Arn\n"), "the schedule may [lambda:InvokeFunction states:StartExecution sqs:SendMessage]"},
		{"state machine in both modes", first("    Type: AWS::Serverless::StateMachine\n    Condition: FanOut\n", "    Type: AWS::Serverless::StateMachine\n"), "FanOutStateMachine created: true, want false"},
		{"alarm on a resource that may not exist", first("  FanOutTimedOutAlarm:\n    Type: AWS::CloudWatch::Alarm\n    Condition: FanOut\n", "  FanOutTimedOutAlarm:\n    Type: AWS::CloudWatch::Alarm\n"), "FanOutTimedOutAlarm refers to FanOutStateMachine, which this deployment does not create"},
		{"one unit at a time, fanned out", first("!If [FanOut, !Ref FanOutConcurrency, 1]", "1"), `the function's reserved concurrency is "1", want "!Ref FanOutConcurrency"`},
		{"no failure alarm", first("      MetricName: ExecutionsFailed\n", "      MetricName: ExecutionsSucceeded\n"), "FanOutFailedAlarm.Properties.MetricName"},
		{"any secret of the account", first("secret:invoice-export/*", "secret:*"), "statement ReadAccountSecrets: resource"},
		{"every parameter", first("parameter/invoice-export/*", "parameter/*"), "statement ReadAccountParameters: resource"},
		{"prefix grants without a document", first("              - HasAccountsDocument\n              - Sid: ReadAccountSecrets", "              - HasAccountsObject\n              - Sid: ReadAccountSecrets"),
			"statement ReadAccountSecrets: under condition \"HasAccountsObject\", want \"HasAccountsDocument\""},
		{"any object", first("                  - Object: !Join [\"\", !Split [\"s3://\", !Ref AccountsObject]]", "                  - Object: \"*\""), "statement ReadAccountsObject: resources"},
		{"a wildcard key allowed", first("[a-zA-Z0-9_./=+-]+)?$", "[a-zA-Z0-9_./=+*-]+)?$"), `AccountsObject's AllowedPattern takes "s3://my-bucket/*": true`},
		{"no accounts object variable", first("          ACCOUNTS_OBJECT: !Ref AccountsObject\n", ""), "ACCOUNTS_OBJECT = \"<missing>\""},
		{"direct by default no more", first("    Default: Direct\n", "    Default: StepFunctions\n"), `Parameters.Orchestration.Default = "StepFunctions"`},
	})
}
