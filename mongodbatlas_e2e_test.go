package invoiceexport_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/internal/testkit/duck"
)

const atlasOrg = "65a1b2c3d4e5f60718293a4b"

// A live run against a fake MongoDB Atlas, with a service account or with
// an API key (a real digest challenge on every call), writes the sample
// replay's data files, and so does the replay of what it recorded; every
// invoice reconciles; neither secret is printed or written anywhere.
func TestLiveMongoDBAtlasEqualsReplay(t *testing.T) {
	replay := t.TempDir()
	sample := mustExport(t, run{Providers: []string{"mongodbatlas"}, Out: replay})
	want := dataFiles(t, replay)
	if len(want) != 4 {
		t.Fatalf("the sample's data files: %v", want)
	}
	invoices := 0
	for _, p := range sample.Partitions {
		for _, inv := range p.Invoices {
			invoices++
			if !inv.Reconciled {
				t.Errorf("%s %s: %s", p.Period, inv.InvoiceID, inv.Problem)
			}
		}
	}
	if invoices != 4 {
		t.Errorf("%d invoices, want 4", invoices)
	}

	for _, c := range []struct {
		name   string
		creds  testkit.AtlasCredentials
		env    map[string]string
		secret string
		calls  []string
	}{
		{"service account", testkit.AtlasCredentials{ClientID: "mdb_sa_id_0a1b2c", ClientSecret: "mdb_sa_sk_9f8e7d6c5b4a39281706f5e4d3c2b1a0"},
			map[string]string{"ATLAS_CLIENT_ID": "mdb_sa_id_0a1b2c", "ATLAS_CLIENT_SECRET": "mdb_sa_sk_9f8e7d6c5b4a39281706f5e4d3c2b1a0"},
			"mdb_sa_sk_9f8e7d6c5b4a39281706f5e4d3c2b1a0", nil},
		{"API key", testkit.AtlasCredentials{PublicKey: "zxcvbnmq", PrivateKey: "5d4c3b2a-1908-4f7e-a6d5-c4b3a2918070"},
			map[string]string{"ATLAS_PUBLIC_KEY": "zxcvbnmq", "ATLAS_PRIVATE_KEY": "5d4c3b2a-1908-4f7e-a6d5-c4b3a2918070", "ATLAS_ORG_ID": atlasOrg},
			"5d4c3b2a-1908-4f7e-a6d5-c4b3a2918070", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			api := testkit.FakeMongoDBAtlas(t, sampleDir, atlasOrg, c.creds)
			env := map[string]string{"ATLAS_API_URL": api.URL}
			for k, v := range c.env {
				env[k] = v
			}
			live, again, rec := t.TempDir(), t.TempDir(), t.TempDir()
			res := export(t, run{Env: env, Live: true, Providers: []string{"mongodbatlas"}, Out: live, Record: rec})
			if !res.OK() {
				t.Fatalf("live: %v\n%s", res.Err(), res.log)
			}
			mustExport(t, run{In: rec, Providers: []string{"mongodbatlas"}, Out: again})
			if got := dataFiles(t, live); !mapsEqual(got, want) {
				t.Errorf("live data files differ from the sample's:\n got %v\nwant %v", got, want)
			}
			if got := dataFiles(t, again); !mapsEqual(got, want) {
				t.Errorf("the replay of the recording differs:\n got %v\nwant %v", got, want)
			}
			calls := api.Calls()
			slices.Sort(calls)
			wantCalls := []string{
				"GET /api/atlas/v2/orgs/" + atlasOrg + "/invoices/6720a1b2c3d4e5f607182930",
				"GET /api/atlas/v2/orgs/" + atlasOrg + "/invoices/pending",
				"GET /api/atlas/v2/orgs/" + atlasOrg + "/invoices?fromDate=2026-10-01&includeCount=true&itemsPerPage=500&pageNum=1&toDate=2026-12-02&viewLinkedInvoices=true",
				"GET /api/atlas/v2/orgs?includeCount=true&itemsPerPage=500&pageNum=1",
			}
			if !slices.Equal(calls, wantCalls) {
				t.Errorf("calls\n got %q\nwant %q", calls, wantCalls)
			}
			assertRecorded(t, "mongodbatlas", rec, []string{"orgs.json", "pending_invoices.json", "invoice/6720a1b2c3d4e5f607182930.json"})
			assertNoKey(t, c.secret, res.printed(), live)
			assertNoKey(t, c.secret, res.printed(), rec)
		})
	}

	// A refused credential: one clear failure naming the provider and the
	// variables, without the secret; nothing written.
	api := testkit.FakeMongoDBAtlas(t, sampleDir, atlasOrg, testkit.AtlasCredentials{PublicKey: "zxcvbnmq", PrivateKey: "right-private-key"})
	out := t.TempDir()
	res := export(t, run{Env: map[string]string{"ATLAS_PUBLIC_KEY": "zxcvbnmq", "ATLAS_PRIVATE_KEY": "wrong-private-key", "ATLAS_API_URL": api.URL},
		Live: true, Providers: []string{"mongodbatlas"}, Out: out})
	if res.OK() || !strings.Contains(res.printed(), "mongodbatlas") || !strings.Contains(res.printed(), "ATLAS_PUBLIC_KEY and ATLAS_PRIVATE_KEY") ||
		!strings.Contains(res.printed(), "401") || strings.Contains(res.printed(), "wrong-private-key") {
		t.Errorf("refused key:\n%s", res.printed())
	}
	if files := dataFiles(t, out); len(files) != 0 {
		t.Errorf("a refused key wrote %v", files)
	}
}

// The sample's Atlas partitions, read back with DuckDB: the first Tax
// lines, credits, linked invoices as their own rows, every invoice
// reconciled to the cent.
func TestSampleMongoDBAtlasWithDuckDB(t *testing.T) {
	out := t.TempDir()
	mustExport(t, run{Providers: []string{"mongodbatlas"}, Out: out})
	db := duck.Open(t)
	lines, invoices := duck.Table(out, "charge_lines"), duck.Table(out, "invoices")
	got := duck.Rows(t, db, `SELECT billing_period, InvoiceId, BillingAccountId, InvoiceStatus, IsFinal, Reconciled, InvoiceTotal::VARCHAR, LineCount FROM `+invoices+` ORDER BY ALL`)
	want := [][]string{
		{"2026-10", "6720a1b2c3d4e5f607182930", "65a1b2c3d4e5f60718293a4b", "PAID", "true", "true", "173.900000000000000000000000", "16"},
		{"2026-10", "6720a1b2c3d4e5f607182a40", "65a1b2c3d4e5f60718293c5d", "CLOSED", "true", "true", "20.160000000000000000000000", "3"},
		{"2026-11", "6743c1d2e3f4a5b607182931", "65a1b2c3d4e5f60718293a4b", "PENDING", "false", "true", "74.580000000000000000000000", "6"},
		{"2026-11", "6743c1d2e3f4a5b607182a41", "65a1b2c3d4e5f60718293c5d", "PENDING", "false", "true", "10.080000000000000000000000", "1"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("invoices:\n got %q\nwant %q", got, want)
	}
	assertNoEmptyStrings(t, db, lines)
	for _, c := range []struct{ query, want string }{
		{`SELECT string_agg(ChargeCategory || ' ' || BilledCost::DECIMAL(10,2)::VARCHAR, ', ' ORDER BY ChargeCategory, BilledCost) FROM ` + lines + ` WHERE ChargeCategory NOT IN ('Usage', 'Purchase')`,
			"Adjustment -5.00, Credit -20.00, Credit -15.00, Tax 14.58"},
		{`SELECT count(*) FROM ` + lines + ` WHERE ChargeCategory = 'Tax' AND (SkuId IS NOT NULL OR PricingQuantity IS NOT NULL)`, "0"},
		{`SELECT count(*) FROM ` + lines + ` WHERE ListCost > BilledCost`, "5"},
		{`SELECT string_agg(DISTINCT SubAccountName, ',' ORDER BY SubAccountName) FROM ` + lines, "analytics,payments-prod,payments-staging"},
		{`SELECT count(*) FROM ` + lines + ` WHERE ChargeCategory = 'Usage' AND (ChargePeriodStart < BillingPeriodStart OR ChargePeriodEnd > BillingPeriodEnd OR ChargePeriodEnd <= ChargePeriodStart)`, "0"},
	} {
		if got := duck.Value(t, db, c.query); got != c.want {
			t.Errorf("%s = %s, want %s", c.query, got, c.want)
		}
	}
}
