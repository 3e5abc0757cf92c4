package mongodbatlas_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/transform"
	"github.com/invoice-export/invoice-export/transform/mongodbatlas"
)

func dec(s string) transform.Decimal      { return transform.MustDecimal(s) }
func some(s string) transform.NullDecimal { return transform.Some(transform.MustDecimal(s)) }
func utc(s string) time.Time              { t, _ := time.Parse(time.RFC3339, s); return t }

// The sample: organization P pays for the linked organization L. October
// (PAID, read by id) carries L's October invoice nested; November
// (PENDING) comes with L's from the pending call.
const (
	atlasP    = "65a1b2c3d4e5f60718293a4b"
	atlasL    = "65a1b2c3d4e5f60718293c5d"
	atlasPOct = "6720a1b2c3d4e5f607182930"
	atlasLOct = "6720a1b2c3d4e5f607182a40"
	atlasPNov = "6743c1d2e3f4a5b607182931"
	atlasLNov = "6743c1d2e3f4a5b607182a41"
)

var atlasEnv = map[string]string{"ATLAS_ORG_ID": atlasP}

// atlasSample reads the bundled captures, by path under mongodbatlas/.
func atlasSample(t testing.TB) map[string]string {
	t.Helper()
	root := filepath.Join("..", "..", "testdata", "captures", "mongodbatlas")
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func runAtlas(t *testing.T, period string, files map[string]string) (*transform.Result, []transform.Line, error) {
	t.Helper()
	return testkit.RunProvider(t, mongodbatlas.Provider, atlasEnv, period, "2026-11-03", files)
}

// with returns files with one file's text replaced once (old must occur).
func with(t *testing.T, files map[string]string, name, old, new string) map[string]string {
	t.Helper()
	if !strings.Contains(files[name], old) {
		t.Fatalf("%s has no %q", name, old)
	}
	out := map[string]string{}
	for k, v := range files {
		out[k] = v
	}
	out[name] = strings.Replace(files[name], old, new, 1)
	return out
}

func invoiceSums(lines []transform.Line) map[string]transform.Decimal {
	s := map[string]transform.Decimal{}
	for _, l := range lines {
		s[l.InvoiceID], _ = s[l.InvoiceID].Add(l.BilledCost)
	}
	return s
}

func TestOctoberFromTheSample(t *testing.T) {
	res, lines, err := runAtlas(t, "2026-10", atlasSample(t))
	if err != nil {
		t.Fatal(err)
	}
	// P: 14 line items, sales tax, starting balance (its credits are
	// itemized: no invoice-level credit); L: 3 line items.
	if len(lines) != 19 {
		t.Fatalf("%d lines, want 19", len(lines))
	}
	if len(res.Invoices) != 2 {
		t.Fatalf("invoices: %+v", res.Invoices)
	}
	linked, paying := res.Invoices[0], res.Invoices[1] // a linked invoice closes first
	if paying.InvoiceID != atlasPOct || !paying.Reconciled || paying.VendorTotal.String() != "173.9" || paying.LinesTotal.String() != "173.9" ||
		paying.Lines != 16 || paying.Status != "PAID" || !paying.Final || paying.BillingAccountID != atlasP || paying.Currency != "USD" ||
		paying.SourceEndpoint != "getInvoice" || !paying.RoundingAdjustment.IsZero() || paying.Problem != "" || paying.BillingAccountName != "Acme Payments" {
		t.Errorf("paying invoice = %+v", paying)
	}
	if linked.InvoiceID != atlasLOct || !linked.Reconciled || linked.VendorTotal.String() != "20.16" || linked.Lines != 3 ||
		linked.Status != "CLOSED" || !linked.Final || linked.BillingAccountID != atlasL || linked.BillingAccountName != "" {
		t.Errorf("linked invoice = %+v", linked)
	}
	if s := invoiceSums(lines); s[atlasPOct].String() != "173.9" || s[atlasLOct].String() != "20.16" {
		t.Errorf("Σ per invoice = %v", s)
	}

	m30 := lines[0]
	want := transform.Line{
		BilledCost: dec("38.88"), EffectiveCost: dec("38.88"), ContractedCost: dec("38.88"), ListCost: dec("43.2"),
		BillingAccountID: atlasP, BillingAccountName: "Acme Payments", BillingCurrency: "USD",
		BillingPeriodStart: utc("2026-10-01T00:00:00Z"), BillingPeriodEnd: utc("2026-11-01T00:00:00Z"),
		ChargePeriodStart: utc("2026-10-01T00:00:00Z"), ChargePeriodEnd: utc("2026-10-02T00:00:00Z"),
		ChargeCategory: "Usage", ChargeFrequency: "Usage-Based", ChargeDescription: "ATLAS_AWS_INSTANCE_M30",
		ConsumedQuantity: some("72"), ConsumedUnit: "Hours", PricingQuantity: some("72"), PricingUnit: "Hours",
		InvoiceID: atlasPOct, ChargeID: atlasPOct + "/0", InvoiceIssuerName: "MongoDB", ProviderName: "MongoDB", PublisherName: "MongoDB",
		ResourceID: "65b0c1d2e3f4a5b6c7d8e9f0/clusters/orders-prod", ResourceName: "orders-prod", ResourceType: "Cluster",
		ServiceName: "MongoDB Atlas", ServiceCategory: "Databases", ServiceSubcategory: "NoSQL",
		SkuID: "ATLAS_AWS_INSTANCE_M30", SkuMeter: "ATLAS_AWS_INSTANCE_M30",
		SubAccountID: "65b0c1d2e3f4a5b6c7d8e9f0", SubAccountName: "payments-prod",
		Tags:     `{"cost-center":"cc-4711","env":"prod","team":"payments,platform"}`,
		Provider: "mongodbatlas", VendorUnitPrice: some("0.54"), CloudProvider: "AWS", SourceEndpoint: "getInvoice",
	}
	if m30 != want {
		t.Errorf("M30 line\n got %+v\nwant %+v", m30, want)
	}
	// The vendor's cents are the truth: 1.29… GB months at 0.12 is 15 cents.
	if l := lines[1]; l.BilledCost.String() != "0.15" || l.ConsumedQuantity.String() != "1.2903225806451613" || l.PricingUnit != "GB-Months" || l.ListCost != l.BilledCost {
		t.Errorf("storage line = %+v", l)
	}
	if l := lines[2]; l.Tags != `{"env":"staging","ephemeral":true}` || l.SubAccountName != "payments-staging" || l.BilledCost.String() != "5.76" {
		t.Errorf("staging line = %+v", l)
	}
	byDesc := map[string]transform.Line{}
	for _, l := range lines {
		byDesc[l.ChargeDescription] = l
	}
	if l := byDesc["ATLAS_AWS_DATA_TRANSFER_INTERNET, tier 0 to 1000"]; l.ServiceCategory != "Networking" || l.ServiceSubcategory != "Data Transfer" || l.BilledCost.String() != "0.25" {
		t.Errorf("tiered transfer line = %+v", l)
	}
	if l := byDesc["ATLAS_AWS_BACKUP_SNAPSHOT_STORAGE"]; l.ServiceCategory != "Storage" || l.ServiceSubcategory != "Backups" {
		t.Errorf("backup line = %+v", l)
	}
	if l := byDesc["ATLAS_SUPPORT: Developer support"]; l.ChargeCategory != "Purchase" || l.ChargeFrequency != "Recurring" ||
		l.ServiceSubcategory != "Support" || l.PricingQuantity.String() != "1" || l.PricingUnit != "dollars" || l.ConsumedQuantity.Valid ||
		!l.ChargePeriodStart.Equal(utc("2026-10-01T00:00:00Z")) || !l.ChargePeriodEnd.Equal(utc("2026-11-01T00:00:00Z")) || l.BilledCost.String() != "49" {
		t.Errorf("support line = %+v", l)
	}
	if l := byDesc["CREDIT: Promotional credit: ATLAS-WELCOME"]; l.ChargeCategory != "Credit" || l.ChargeFrequency != "One-Time" ||
		l.BilledCost.String() != "-20" || l.ListCost != l.BilledCost || l.PricingQuantity.Valid || l.ConsumedQuantity.Valid {
		t.Errorf("credit line item = %+v", l)
	}
	// L's invoice closes inside P's (linkedInvoices follows lineItems), so
	// its lines come before P's own.
	tax, balance := lines[17], lines[18]
	if tax.ChargeCategory != "Tax" || tax.BilledCost.String() != "14.58" || tax.EffectiveCost != tax.BilledCost || tax.SkuID != "" ||
		tax.PricingQuantity.Valid || tax.InvoiceID != atlasPOct || !tax.ChargePeriodEnd.Equal(utc("2026-11-01T00:00:00Z")) {
		t.Errorf("tax line = %+v", tax)
	}
	if balance.ChargeCategory != "Adjustment" || balance.BilledCost.String() != "-5" || !strings.Contains(balance.ChargeDescription, "startingBalanceCents") {
		t.Errorf("starting balance line = %+v", balance)
	}
	if l := lines[14]; l.InvoiceID != atlasLOct || l.BillingAccountID != atlasL || l.CloudProvider != "GCP" || l.SubAccountName != "analytics" || l.BilledCost.String() != "10.08" {
		t.Errorf("linked invoice's line = %+v", l)
	}
	if l := lines[16]; !l.BilledCost.IsZero() || l.ConsumedQuantity.String() != "0.3" || l.ServiceSubcategory != "Data Transfer" {
		t.Errorf("zero-cent line = %+v", l)
	}
	if len(res.Notes) != 0 {
		t.Errorf("notes: %q", res.Notes)
	}
}

func TestNovemberFromThePendingCall(t *testing.T) {
	res, lines, err := runAtlas(t, "2026-11", atlasSample(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 7 || len(res.Invoices) != 2 {
		t.Fatalf("%d lines, %d invoices", len(lines), len(res.Invoices))
	}
	linked, paying := res.Invoices[0], res.Invoices[1]
	if paying.InvoiceID != atlasPNov || !paying.Reconciled || paying.VendorTotal.String() != "74.58" || paying.Final || paying.Status != "PENDING" ||
		paying.SourceEndpoint != "listInvoicePending" || paying.Lines != 6 {
		t.Errorf("paying invoice = %+v", paying)
	}
	if linked.InvoiceID != atlasLNov || !linked.Reconciled || linked.VendorTotal.String() != "10.08" || linked.Final {
		t.Errorf("linked invoice = %+v", linked)
	}
	// The credits are not itemized: one Credit line carries them.
	credit := lines[6]
	if credit.ChargeCategory != "Credit" || credit.BilledCost.String() != "-15" || credit.InvoiceID != atlasPNov || credit.SkuID != "" {
		t.Errorf("credit line = %+v", credit)
	}
	app := lines[4]
	if app.ResourceID != "65b0c1d2e3f4a5b6c7d8e9f0/apps/checkout-triggers" || app.ResourceType != "App Services Application" ||
		app.ConsumedQuantity.String() != "150000" || app.ConsumedUnit != "requests" || app.VendorUnitPrice.String() != "0.000002" || app.BilledCost.String() != "0.3" {
		t.Errorf("App Services line = %+v", app)
	}
	if s := invoiceSums(lines); s[atlasPNov].String() != "74.58" || s[atlasLNov].String() != "10.08" {
		t.Errorf("Σ per invoice = %v", s)
	}
}

// Field order never matters: line items before the invoice's own fields
// (its id and dates) are mapped alike.
func TestFieldOrder(t *testing.T) {
	files := atlasSample(t)
	_, want, err := runAtlas(t, "2026-10", files)
	if err != nil {
		t.Fatal(err)
	}
	name := "invoice/" + atlasPOct + ".json"
	body := files[name]
	i, j := strings.Index(body, `  "lineItems": [`), strings.Index(body, `  "linkedInvoices": [`)
	reordered := "{\n" + body[i:j] + body[2:i] + body[j:]
	res, got, err := runAtlas(t, "2026-10", with(t, files, name, body, reordered))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || !res.Invoices[1].Reconciled {
		t.Fatalf("%d lines, want %d; %+v", len(got), len(want), res.Invoices)
	}
	for k := range want {
		if got[k] != want[k] {
			t.Fatalf("line %d\n got %+v\nwant %+v", k, got[k], want[k])
		}
	}
}

// What does not add up is exported and reported, never dropped.
func TestReportsWhatDoesNotReconcile(t *testing.T) {
	name := "invoice/" + atlasPOct + ".json"
	for _, c := range []struct{ name, old, new, problem string }{
		{"subtotal", `"subtotalCents": 18432,
  "updated"`, `"subtotalCents": 18433,
  "updated"`, "subtotalCents says 184.33 USD but the positive line items add up to 184.32"},
		{"billed after discount", `"amountBilledCents": 17390`, `"amountBilledCents": 16094`,
			"a gap of -12.96 (line items 184.32 and -20, creditsCents 20, salesTaxCents 14.58, startingBalanceCents 5); the gap is the line items' discounts"},
		{"one cent", `"amountBilledCents": 17390`, `"amountBilledCents": 17391`, "the lines add up to 173.9 USD but amountBilledCents says 173.91: a gap of 0.01"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, lines, err := runAtlas(t, "2026-10", with(t, atlasSample(t), name, c.old, c.new))
			if err != nil {
				t.Fatal(err)
			}
			inv := res.Invoices[1]
			if inv.Reconciled || !strings.Contains(inv.Problem, c.problem) || inv.Lines != 16 || len(lines) != 19 {
				t.Errorf("invoice = %+v", inv)
			}
			if inv.LinesTotal.String() != "173.9" || !inv.RoundingAdjustment.IsZero() {
				t.Errorf("lines total %s, adjustment %s", inv.LinesTotal, inv.RoundingAdjustment)
			}
		})
	}
}

// Vendor variations that are data, not failures.
func TestVariations(t *testing.T) {
	name := "invoice/" + atlasPOct + ".json"
	t.Run("undated line item", func(t *testing.T) {
		files := with(t, atlasSample(t), name, `"endDate": "2026-10-02T00:00:00Z",`, ``)
		res, lines, err := runAtlas(t, "2026-10", files)
		if err != nil {
			t.Fatal(err)
		}
		if l := lines[0]; !l.ChargePeriodStart.Equal(utc("2026-10-01T00:00:00Z")) || !l.ChargePeriodEnd.Equal(utc("2026-11-01T00:00:00Z")) {
			t.Errorf("undated line = %+v", l)
		}
		if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "1 line items had no start and end dates") {
			t.Errorf("notes = %q", res.Notes)
		}
	})
	t.Run("fraction of a cent", func(t *testing.T) {
		files := with(t, atlasSample(t), name, `"totalPriceCents": 15,`, `"totalPriceCents": 15.5,`)
		files = with(t, files, name, `"amountBilledCents": 17390`, `"amountBilledCents": 17390.5`)
		files = with(t, files, name, `"subtotalCents": 18432,
  "updated"`, `"subtotalCents": 18432.5,
  "updated"`)
		res, lines, err := runAtlas(t, "2026-10", files)
		if err != nil {
			t.Fatal(err)
		}
		if lines[1].BilledCost.String() != "0.155" || !res.Invoices[1].Reconciled || res.Invoices[1].VendorTotal.String() != "173.905" {
			t.Errorf("line %+v, invoice %+v", lines[1], res.Invoices[1])
		}
	})
	t.Run("omitted zeros", func(t *testing.T) {
		files := with(t, atlasSample(t), name, `"startingBalanceCents": 500,`, ``)
		files = with(t, files, name, `"amountBilledCents": 17390`, `"amountBilledCents": 17890`)
		res, lines, err := runAtlas(t, "2026-10", files)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 18 || !res.Invoices[1].Reconciled {
			t.Errorf("%d lines, invoice %+v", len(lines), res.Invoices[1])
		}
	})
	t.Run("an invoice met twice", func(t *testing.T) {
		// The linked invoice also at the top of the pending call, after the
		// invoice it is nested in: exported once, from the top level (its
		// copy there says INVOICED, to tell them apart).
		files := atlasSample(t)
		pending := files["pending_invoices.json"]
		i := strings.Index(pending, `"linkedInvoices": [`) + len(`"linkedInvoices": [`)
		j := strings.Index(pending, `"links": [`+"\n"+`        {`+"\n"+`          "href": "https://cloud.mongodb.com/api/atlas/v2/orgs/`+atlasP)
		linked := strings.TrimSpace(pending[i:j])
		linked = strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(linked, ",")), "]")
		linked = strings.Replace(linked, `"statusName": "PENDING"`, `"statusName": "INVOICED"`, 1)
		files = with(t, files, "pending_invoices.json", "    }\n  ],\n  \"totalCount\": 1", "    },\n"+linked+"\n  ],\n  \"totalCount\": 2")
		res, lines, err := runAtlas(t, "2026-11", files)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 7 || len(res.Invoices) != 2 || invoiceSums(lines)[atlasLNov].String() != "10.08" {
			t.Errorf("%d lines, invoices %+v", len(lines), res.Invoices)
		}
		if inv := res.Invoices[1]; inv.InvoiceID != atlasLNov || inv.Status != "INVOICED" || !inv.Reconciled {
			t.Errorf("the linked invoice was not taken from the top level: %+v", res.Invoices[1])
		}
		if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "1 copies of invoices met more than once") {
			t.Errorf("notes = %q", res.Notes)
		}
	})
	t.Run("pending invoice of another month", func(t *testing.T) {
		files := with(t, atlasSample(t), "pending_invoices.json", `"startDate": "2026-11-01T00:00:00Z",
          "startingBalanceCents": 0,
          "statusName": "PENDING",`, `"startDate": "2026-12-01T00:00:00Z",
          "startingBalanceCents": 0,
          "statusName": "PENDING",`)
		files = with(t, files, "pending_invoices.json", `"endDate": "2026-12-01T00:00:00Z",
          "id": "`+atlasLNov, `"endDate": "2027-01-01T00:00:00Z",
          "id": "`+atlasLNov)
		res, lines, err := runAtlas(t, "2026-11", files)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Invoices) != 1 || len(lines) != 6 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "bills 2026-12, not 2026-11") {
			t.Errorf("invoices %+v, notes %q", res.Invoices, res.Notes)
		}
	})
}

// Bad data fails the period with the body, the offset and the pointer.
func TestBadData(t *testing.T) {
	name := "invoice/" + atlasPOct + ".json"
	sample := atlasSample(t)
	for _, c := range []struct{ name, old, new, msg string }{
		{"truncated", sample[name], sample[name][:900], "the body ends in the middle of a value"},
		{"another invoice", `"id": "` + atlasPOct, `"id": "6720a1b2c3d4e5f6071829ff`, `the response is invoice "6720a1b2c3d4e5f6071829ff", not the requested`},
		{"cents as text", `"totalPriceCents": 3888,`, `"totalPriceCents": "3888",`, `/lineItems/0/totalPriceCents: number expected, found the string "3888"`},
		{"no dates", `"startDate": "2026-10-01T00:00:00Z",
  "startingBalanceCents"`, `"startingBalanceCents"`, "has no startDate or endDate"},
		{"two months", `"endDate": "2026-11-01T00:00:00Z",
  "id"`, `"endDate": "2026-12-01T00:00:00Z",
  "id"`, "only billing periods within one calendar month are supported"},
		{"duplicate member", `"salesTaxCents": 1458,`, `"salesTaxCents": 1458, "salesTaxCents": 1458,`, "duplicate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := runAtlas(t, "2026-10", with(t, sample, name, c.old, c.new))
			var de *billing.DataError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), "mongodbatlas getInvoice (mongodbatlas/invoice/"+atlasPOct+".json)") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// testdata/vendor-examples: the set built from the specification's
// schemas, and one variant per open reading of it. Each replays, and what
// does not reconcile says why.
func TestVendorExamples(t *testing.T) {
	const org = "4888442a3354817a7320eb61" // the specification's example organization id
	root := filepath.Join("..", "..", "testdata", "vendor-examples")
	run := func(t *testing.T, dir, period string, env map[string]string) (*transform.Result, []transform.Line) {
		t.Helper()
		res, lines, err := testkit.RunProviderIn(t, dir, mongodbatlas.Provider, env, period, "2026-01-03", nil)
		if err != nil {
			t.Fatal(err)
		}
		return res, lines
	}
	t.Run("December", func(t *testing.T) {
		res, lines := run(t, root, "2025-12", nil)
		inv := res.Invoices[0]
		if len(res.Invoices) != 1 || !inv.Reconciled || inv.VendorTotal.String() != "138.83" || inv.Lines != 12 || len(lines) != 12 ||
			inv.BillingAccountID != org || inv.BillingAccountName != "Example Org" || inv.Status != "CLOSED" || !inv.Final {
			t.Errorf("invoices %+v", res.Invoices)
		}
	})
	t.Run("January", func(t *testing.T) {
		res, lines := run(t, root, "2026-01", nil)
		if len(res.Invoices) != 1 || !res.Invoices[0].Reconciled || res.Invoices[0].VendorTotal.String() != "11.52" || res.Invoices[0].Final || len(lines) != 2 {
			t.Errorf("invoices %+v", res.Invoices)
		}
	})
	variant := func(name string) string { return filepath.Join(root, "variants", name) }
	for _, c := range []struct{ name, problem string }{
		{"atlas-discount-before-total", "a gap of -12.96 (line items 170.2 and -25, creditsCents 25, salesTaxCents 9.59, startingBalanceCents 3); the gap is the line items' discounts"},
		{"atlas-billed-without-credits", "a gap of 25 (line items 157.24 and -25, creditsCents 25, salesTaxCents 9.59, startingBalanceCents 3); the gap is creditsCents"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, _ := run(t, variant(c.name), "2025-12", nil)
			if inv := res.Invoices[0]; inv.Reconciled || !strings.Contains(inv.Problem, c.problem) {
				t.Errorf("invoice %+v", inv)
			}
		})
	}
	t.Run("atlas-linked-without-line-items", func(t *testing.T) {
		res, _ := run(t, variant("atlas-linked-without-line-items"), "2025-12", nil)
		linked, paying := res.Invoices[0], res.Invoices[1]
		if !paying.Reconciled || linked.Reconciled || linked.Lines != 0 || linked.BillingAccountID != "5f0c1d2e3a4b5c6d7e8f9a0b" ||
			!strings.Contains(linked.Problem, "the lines add up to 0 USD but amountBilledCents says 5.04") {
			t.Errorf("invoices %+v", res.Invoices)
		}
	})
	t.Run("atlas-omitted-zeros", func(t *testing.T) {
		res, lines := run(t, variant("atlas-omitted-zeros"), "2025-12", nil)
		if inv := res.Invoices[0]; !inv.Reconciled || inv.VendorTotal.String() != "132.24" || len(lines) != 10 {
			t.Errorf("invoice %+v, %d lines", inv, len(lines))
		}
	})
	t.Run("atlas-no-org-list", func(t *testing.T) {
		res, _ := run(t, variant("atlas-no-org-list"), "2025-12", map[string]string{"ATLAS_ORG_ID": org})
		if inv := res.Invoices[0]; !inv.Reconciled || inv.BillingAccountID != org || inv.BillingAccountName != "" {
			t.Errorf("invoice %+v", inv)
		}
	})
}
