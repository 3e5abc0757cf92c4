package invoiceexport_test

// The vendors' own published example bodies (testdata/vendor-examples,
// whose README says where each comes from), replayed as of the day they
// describe.

const (
	vendorExamples     = "testdata/vendor-examples"
	vendorExamplesAsOf = "2026-01-03"
	crdbOrganizationID = "9a7c3e51-4b2d-4f8e-a6c0-1d5b7e9f2a34"
	spectroExampleUIDs = "6775f1a8c3d2e4b5a6978812,679d8e34b1c2a3d4e5f60718"
	spectroExampleDec  = "6775f1a8c3d2e4b5a6978812"
	spectroExampleJan  = "679d8e34b1c2a3d4e5f60718"
	crdbExampleDec     = "e2b7c4d1-8a3f-4e6b-9d0c-5f1a2b3c4d5e"
	crdbExampleJan     = "f3c8d5e2-9b4a-4f7c-8e1d-6a2b3c4d5e6f"
)

// exampleSet is one capture set of testdata/vendor-examples and how its
// README says to replay it.
type exampleSet struct {
	name     string
	from, to string
	env      map[string]string
}

func (s exampleSet) dir() string {
	if s.name == "main" {
		return vendorExamples
	}
	return vendorExamples + "/variants/" + s.name
}

func (s exampleSet) run(out string) run {
	return run{In: s.dir(), Out: out, AsOf: vendorExamplesAsOf, From: s.from, To: s.to, Env: s.env}
}

// exampleSets are every set, with the configuration each needs to export.
var exampleSets = []exampleSet{
	{name: "main"},
	{name: "crdb-billing-only-key", env: map[string]string{"COCKROACH_ORGANIZATION_ID": crdbOrganizationID}},
	{name: "crdb-credit-sign", from: "2025-12", to: "2025-12"},
	{name: "sc-no-list-route", env: map[string]string{"SPECTROCLOUD_INVOICE_UIDS": spectroExampleUIDs}},
	{name: "sc-list-items-key", env: map[string]string{"SPECTROCLOUD_INVOICE_UIDS": spectroExampleUIDs}},
	{name: "ws-tiered-invoice", from: "2025-12", to: "2025-12"},
	{name: "ws-mixed-tiers", from: "2025-12", to: "2025-12"},
	{name: "ws-repeat-invoice-line", from: "2025-12", to: "2025-12"},
	{name: "ws-repeat-breakdown-charge", from: "2025-12", to: "2025-12"},
	{name: "ws-repeat-breakdown-day", from: "2025-12", to: "2025-12"},
	{name: "ws-omitted-zeros", from: "2025-12", to: "2025-12"},
	{name: "ws-extra-fields", from: "2025-12", to: "2025-12"},
	{name: "ws-float-total", from: "2025-12", to: "2025-12"},
	{name: "ws-pending-to-date", from: "2026-01", to: "2026-01"},
}
