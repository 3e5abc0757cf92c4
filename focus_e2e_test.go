package invoiceexport_test

import (
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit/duck"
)

// focusRules are the FOCUS 1.2 requirements that can be checked on the
// output itself (docs/focus-conformance.md lists every requirement that
// applies, checked or not). Each query counts the rows that break the rule;
// the ids match the conformance document.
var focusRules = []struct{ id, rule, violations string }{
	{"BC-1", "BilledCost, EffectiveCost, ListCost, ContractedCost are not null",
		`SELECT count(*) FROM lines WHERE BilledCost IS NULL OR EffectiveCost IS NULL OR ListCost IS NULL OR ContractedCost IS NULL`},
	{"BC-2", "Σ BilledCost per invoice and currency equals the invoice total",
		`SELECT count(*) FROM invoices i LEFT JOIN (
		   SELECT provider, billing_period, coalesce(InvoiceId, '') AS inv, BillingCurrency AS cur, sum(BilledCost) AS s FROM lines GROUP BY ALL
		   UNION ALL
		   SELECT provider, billing_period, coalesce(InvoiceId, ''), PricingCurrency, sum(PricingCurrencyEffectiveCost) FROM lines
		   WHERE PricingCurrency IS NOT NULL AND PricingCurrency <> BillingCurrency GROUP BY ALL) l
		 ON l.provider = i.provider AND l.billing_period = i.billing_period AND l.inv = coalesce(i.InvoiceId, '') AND l.cur = i.BillingCurrency
		 WHERE i.Reconciled AND coalesce(l.s, 0) <> i.InvoiceTotal`},
	{"BA-1", "BillingAccountId is not null", `SELECT count(*) FROM lines WHERE BillingAccountId IS NULL`},
	{"CUR-1", "BillingCurrency is an ISO 4217 code (three upper-case letters)",
		`SELECT count(*) FROM lines WHERE BillingCurrency IS NULL OR NOT regexp_full_match(BillingCurrency, '[A-Z]{3}')`},
	{"CUR-2", "PricingCurrency is set only where it differs from BillingCurrency, and then PricingCurrencyEffectiveCost is set",
		`SELECT count(*) FROM lines WHERE PricingCurrency = BillingCurrency OR (PricingCurrency IS NOT NULL AND PricingCurrencyEffectiveCost IS NULL)`},
	{"CC-1", "ChargeCategory is one of Usage, Purchase, Tax, Credit, Adjustment",
		`SELECT count(*) FROM lines WHERE ChargeCategory IS NULL OR ChargeCategory NOT IN ('Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment')`},
	{"CC-2", "ChargeClass is NULL or Correction", `SELECT count(*) FROM lines WHERE ChargeClass IS NOT NULL AND ChargeClass <> 'Correction'`},
	{"CF-1", "ChargeFrequency is One-Time, Recurring or Usage-Based, and never Usage-Based for a Purchase",
		`SELECT count(*) FROM lines WHERE ChargeFrequency NOT IN ('One-Time', 'Recurring', 'Usage-Based') OR (ChargeCategory = 'Purchase' AND ChargeFrequency = 'Usage-Based')`},
	{"CP-1", "ChargePeriodStart/End and BillingPeriodStart/End are not null and start < end",
		`SELECT count(*) FROM lines WHERE ChargePeriodStart IS NULL OR ChargePeriodEnd IS NULL OR BillingPeriodStart IS NULL OR BillingPeriodEnd IS NULL
		 OR ChargePeriodStart >= ChargePeriodEnd OR BillingPeriodStart >= BillingPeriodEnd`},
	{"CP-2", "Every charge period lies within its billing period, a calendar month [start, end)",
		`SELECT count(*) FROM lines WHERE ChargePeriodStart < BillingPeriodStart OR ChargePeriodEnd > BillingPeriodEnd
		 OR BillingPeriodStart <> date_trunc('month', BillingPeriodStart) OR BillingPeriodEnd <> BillingPeriodStart + INTERVAL 1 MONTH
		 OR strftime(BillingPeriodStart, '%Y-%m') <> billing_period`},
	{"CQ-1", "ConsumedQuantity is NULL unless ChargeCategory is Usage", `SELECT count(*) FROM lines WHERE ConsumedQuantity IS NOT NULL AND ChargeCategory <> 'Usage'`},
	{"CQ-2", "ConsumedQuantity and ConsumedUnit are set together", `SELECT count(*) FROM lines WHERE (ConsumedQuantity IS NULL) <> (ConsumedUnit IS NULL)`},
	{"EC-1", "EffectiveCost equals BilledCost for charges not related to usage or purchases (credits, adjustments)",
		`SELECT count(*) FROM lines WHERE ChargeCategory IN ('Credit', 'Adjustment') AND EffectiveCost <> BilledCost`},
	{"LC-1", "Without a unit price, ListCost and ContractedCost of credits equal BilledCost",
		`SELECT count(*) FROM lines WHERE ChargeCategory = 'Credit' AND (ListCost <> BilledCost OR ContractedCost <> BilledCost)`},
	{"IN-1", "InvoiceIssuerName, ProviderName, PublisherName, ServiceName are not null",
		`SELECT count(*) FROM lines WHERE InvoiceIssuerName IS NULL OR ProviderName IS NULL OR PublisherName IS NULL OR ServiceName IS NULL`},
	{"PQ-1", "PricingQuantity, PricingUnit and SkuId are not null for Usage and Purchase lines that are not corrections",
		`SELECT count(*) FROM lines WHERE ChargeCategory IN ('Usage', 'Purchase') AND ChargeClass IS NULL
		 AND (PricingQuantity IS NULL OR PricingUnit IS NULL OR SkuId IS NULL)`},
	{"PQ-2", "PricingQuantity and PricingUnit are set together", `SELECT count(*) FROM lines WHERE (PricingQuantity IS NULL) <> (PricingUnit IS NULL)`},
	{"TX-1", "PricingQuantity and SkuId are NULL for Tax lines", `SELECT count(*) FROM lines WHERE ChargeCategory = 'Tax' AND (PricingQuantity IS NOT NULL OR SkuId IS NOT NULL)`},
	{"SC-1", "ServiceCategory and ServiceSubcategory are an allowed pair",
		`SELECT count(*) FROM lines l LEFT JOIN allowed_services a ON a.category = l.ServiceCategory AND a.subcategory = l.ServiceSubcategory WHERE a.category IS NULL`},
	{"TG-1", "Tags is a JSON object whose values are not objects or arrays",
		`SELECT count(*) FROM lines WHERE Tags IS NOT NULL AND (NOT json_valid(Tags) OR json_type(Tags::JSON) <> 'OBJECT'
		 OR list_has_any(list_transform(json_keys(Tags::JSON), k -> json_type(Tags::JSON, '$."' || k || '"')), ['OBJECT', 'ARRAY']))`},
	{"RG-1", "RegionName is set only with RegionId", `SELECT count(*) FROM lines WHERE RegionName IS NOT NULL AND RegionId IS NULL`},
	{"SA-1", "SubAccountName is set only with SubAccountId", `SELECT count(*) FROM lines WHERE SubAccountName IS NOT NULL AND SubAccountId IS NULL`},
	{"RS-1", "ResourceName and ResourceType are set only with ResourceId", `SELECT count(*) FROM lines WHERE (ResourceName IS NOT NULL OR ResourceType IS NOT NULL) AND ResourceId IS NULL`},
}

// allowedServices is FOCUS 1.2's ServiceCategory → ServiceSubcategory table.
var allowedServices = map[string][]string{
	"AI and Machine Learning":   {"Bots", "Generative AI", "Machine Learning", "Natural Language Processing", "Other (AI and Machine Learning)"},
	"Analytics":                 {"Analytics Platform", "Business Intelligence", "Data Processing", "Search", "Streaming Analytics", "Other (Analytics)"},
	"Business Applications":     {"Other (Business Applications)"},
	"Compute":                   {"Containers", "End User Computing", "Quantum", "Serverless Compute", "Virtual Machines", "Other (Compute)"},
	"Databases":                 {"Caching", "Data Warehouse", "Relational", "NoSQL", "Ledger", "Time Series", "Other (Databases)"},
	"Developer Tools":           {"Other (Developer Tools)"},
	"Identity":                  {"Other (Identity)"},
	"Integration":               {"API Management", "Messaging", "Workflow Automation", "Other (Integration)"},
	"Internet of Things":        {"Other (Internet of Things)"},
	"Management and Governance": {"Administration", "Architecture", "Compliance", "Cost Management", "Data Governance", "Disaster Recovery", "Observability", "Support", "Other (Management and Governance)"},
	"Media":                     {"Other (Media)"},
	"Migration":                 {"Other (Migration)"},
	"Mobile":                    {"Other (Mobile)"},
	"Multicloud":                {"Other (Multicloud)"},
	"Networking":                {"Content Delivery", "Data Transfer", "Load Balancing", "Network Management", "Network Security", "Other (Networking)"},
	"Security":                  {"CSPM", "Credentials", "SIEM", "Threat Detection", "Other (Security)"},
	"Storage":                   {"Backups", "Bulk Transfer", "Disk", "Files", "Object Storage", "Other (Storage)"},
	"Web":                       {"Other (Web)"},
	"Other":                     {"Other (Other)"},
}

// The FOCUS self-check: the sample output breaks none of the checkable
// FOCUS 1.2 rules. Each rule is also shown to catch a planted violation,
// so that none of them can pass vacuously.
func TestFocusConformance(t *testing.T) {
	out := t.TempDir()
	mustExport(t, run{Out: out})
	db := duck.Open(t)
	mustExec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`CREATE TABLE lines AS SELECT * FROM ` + duck.Table(out, "charge_lines"))
	mustExec(`CREATE TABLE invoices AS SELECT * FROM ` + duck.Table(out, "invoices"))
	var pairs []string
	for cat, subs := range allowedServices {
		for _, s := range subs {
			pairs = append(pairs, "('"+cat+"', '"+s+"')")
		}
	}
	mustExec(`CREATE TABLE allowed_services (category VARCHAR, subcategory VARCHAR)`)
	mustExec(`INSERT INTO allowed_services VALUES ` + strings.Join(pairs, ", "))

	if n := duck.Value(t, db, `SELECT count(*) FROM lines`); n == "0" {
		t.Fatal("no lines to check")
	}
	for _, r := range focusRules {
		if n := duck.Value(t, db, r.violations); n != "0" {
			t.Errorf("FOCUS %s (%s): %s violating rows", r.id, r.rule, n)
		}
	}

	// Custom columns carry the x_ prefix; FOCUS columns come first.
	seenCustom := false
	for _, r := range duck.Rows(t, db, `SELECT column_name FROM (DESCRIBE lines) WHERE column_name NOT IN ('provider', 'billing_period')`) {
		custom := strings.HasPrefix(r[0], "x_")
		if seenCustom && !custom {
			t.Errorf("FOCUS column %s comes after a custom column", r[0])
		}
		seenCustom = seenCustom || custom
	}

	// Each rule catches every violation planted for it (each in a copy of
	// one Usage line).
	plant := map[string][]string{
		"BC-1": {`BilledCost = NULL`}, "BC-2": {`BilledCost = BilledCost + 1`}, "BA-1": {`BillingAccountId = NULL`},
		"CUR-1": {`BillingCurrency = 'usd'`}, "CUR-2": {`PricingCurrency = BillingCurrency`}, "CC-1": {`ChargeCategory = 'Discount'`},
		"CC-2": {`ChargeClass = 'Refund'`}, "CF-1": {`ChargeCategory = 'Purchase', ChargeFrequency = 'Usage-Based'`},
		"CP-1": {`ChargePeriodEnd = ChargePeriodStart`}, "CP-2": {`ChargePeriodEnd = BillingPeriodEnd + INTERVAL 1 DAY`},
		"CQ-1": {`ChargeCategory = 'Credit', ConsumedQuantity = 1`}, "CQ-2": {`ConsumedUnit = NULL, ConsumedQuantity = 1`},
		"EC-1": {`ChargeCategory = 'Credit', EffectiveCost = BilledCost + 1`}, "LC-1": {`ChargeCategory = 'Credit', ListCost = BilledCost + 1`},
		"IN-1": {`ServiceName = NULL`},
		"PQ-1": {`SkuId = NULL`, `PricingQuantity = NULL, PricingUnit = NULL`, `PricingUnit = NULL`,
			`ChargeCategory = 'Purchase', ChargeFrequency = 'One-Time', ConsumedQuantity = NULL, ConsumedUnit = NULL, PricingQuantity = NULL, PricingUnit = NULL`,
			`ChargeCategory = 'Purchase', ChargeFrequency = 'One-Time', ConsumedQuantity = NULL, ConsumedUnit = NULL, PricingUnit = NULL`},
		"PQ-2": {`PricingUnit = NULL, PricingQuantity = 1`},
		"TX-1": {`ChargeCategory = 'Tax', ChargeFrequency = 'One-Time', ConsumedQuantity = NULL, ConsumedUnit = NULL`,
			`ChargeCategory = 'Tax', ChargeFrequency = 'One-Time', ConsumedQuantity = NULL, ConsumedUnit = NULL, PricingQuantity = NULL, PricingUnit = NULL`},
		"SC-1": {`ServiceSubcategory = 'Not A Subcategory'`}, "TG-1": {`Tags = '{"a": {"b": 1}}'`}, "RG-1": {`RegionId = NULL, RegionName = 'x'`},
		"SA-1": {`SubAccountId = NULL, SubAccountName = 'x'`}, "RS-1": {`ResourceId = NULL, ResourceName = 'x'`},
	}
	for _, r := range focusRules {
		sets, ok := plant[r.id]
		if !ok {
			t.Errorf("rule %s has no planted violation", r.id)
			continue
		}
		for _, set := range sets {
			mustExec(`CREATE OR REPLACE TABLE saved AS SELECT * FROM lines`)
			mustExec(`CREATE OR REPLACE TEMP TABLE one AS SELECT * FROM lines WHERE ChargeCategory = 'Usage' LIMIT 1`)
			mustExec(`UPDATE one SET ` + set)
			mustExec(`DELETE FROM lines WHERE rowid IN (SELECT rowid FROM lines WHERE ChargeCategory = 'Usage' LIMIT 1)`)
			mustExec(`INSERT INTO lines SELECT * FROM one`)
			if n := duck.Value(t, db, r.violations); n == "0" {
				t.Errorf("FOCUS %s did not catch its planted violation (%s)", r.id, set)
			}
			mustExec(`CREATE OR REPLACE TABLE lines AS SELECT * FROM saved`)
		}
	}

	// Purchases and taxes are there to be checked: PQ-1 and TX-1 do not
	// pass for want of them.
	for _, c := range []struct{ category, rule string }{{"Purchase", "PQ-1"}, {"Tax", "TX-1"}} {
		if n := duck.Value(t, db, `SELECT count(*) FROM lines WHERE ChargeCategory = ?`, c.category); n == "0" {
			t.Errorf("the sample has no %s line to check %s on", c.category, c.rule)
		}
	}
}
