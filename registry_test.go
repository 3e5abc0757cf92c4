package invoiceexport_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/docgen"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/internal/testkit/testprovider"
	"github.com/invoice-export/invoice-export/load"
)

// Every registered provider is complete: captures to replay, a fuzz target
// for its decoders, a section in docs/vendors.md, and its template
// parameters (TestTemplateProperties checks how they are used).
func TestEveryProviderIsComplete(t *testing.T) {
	vendors, err := os.ReadFile("docs/vendors.md")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	providers := registry.All()
	if len(providers) < 3 {
		t.Fatalf("%d providers registered", len(providers))
	}
	for _, p := range providers {
		if entries, err := os.ReadDir(filepath.Join("testdata/captures", p.Slug)); err != nil || len(entries) == 0 {
			t.Errorf("%s: no captures in testdata/captures/%s (go run ./cmd/local replays them): %v", p.Slug, p.Slug, err)
		}
		out, err := exec.Command("go", "test", "-list", "^Fuzz", "./transform/"+p.Slug).CombinedOutput()
		if err != nil || !regexp.MustCompile(`(?m)^Fuzz\w+$`).Match(out) {
			t.Errorf("%s: no fuzz target in transform/%s (make fuzz runs every Fuzz function): %v\n%s", p.Slug, p.Slug, err, out)
		}
		if !strings.Contains(string(vendors), "\n## "+p.Name+" (`"+p.Slug+"`)\n") && !regexp.MustCompile("\n## [^\n]*\\(`"+p.Slug+"`\\)\n").Match(vendors) {
			t.Errorf("%s: docs/vendors.md has no section \"## %s (`%s`)\"", p.Slug, p.Name, p.Slug)
		}
		for _, s := range p.Settings {
			for _, param := range docgen.TemplateParameters(p, s) {
				if !strings.Contains(string(tmpl), "\n  "+param+":\n") {
					t.Errorf("%s: template.yaml has no parameter %s (for %s_%s)", p.Slug, param, p.EnvPrefix, s.Name)
				}
			}
		}
	}
}

// A provider that is nothing but its own files (internal/testkit/
// testprovider) goes through a replay and a dry run like the others.
func TestThrowawayProviderReplays(t *testing.T) {
	testprovider.Register(t)
	caps := filepath.Join("internal/testkit/testprovider", testprovider.Captures)
	out := t.TempDir()
	sink, err := load.NewFolder(out)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := invoiceexport.ReadConfigs(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	oct, _ := billing.ParsePeriod("2026-10")
	o := invoiceexport.Options{AsOf: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), From: oct, To: oct,
		Config: cfg, Source: extract.Dir(caps), Sink: sink, RunID: "throwaway"}
	// Its captures are its own: of every provider, only it has some there.
	o.Providers, _ = invoiceexport.Usable(registry.Slugs(), invoiceexport.HasCaptures(extract.Dir(caps)))
	if len(o.Providers) != 1 || o.Providers[0] != testprovider.Slug {
		t.Fatalf("providers with captures: %v", o.Providers)
	}
	plans := invoiceexport.DryRun(context.Background(), o)
	if len(plans) != 1 || len(plans[0].Calls) != 1 || plans[0].Calls[0].Capture != "acme/invoice/2026-10.json" {
		t.Fatalf("dry run: %+v", plans)
	}
	rep := invoiceexport.Run(context.Background(), o)
	if !rep.OK() || len(rep.Partitions) != 1 {
		t.Fatalf("run: %v", rep.Err())
	}
	p := rep.Partitions[0]
	if p.Provider != testprovider.Slug || p.Manifest.Rows != 2 || p.Manifest.Totals["USD"].String() != "12.5" || !p.Invoices[0].Reconciled {
		t.Errorf("partition %+v, manifest %+v, invoices %+v", p, p.Manifest, p.Invoices)
	}
	if _, err := os.Stat(filepath.Join(out, "charge_lines/provider=acme/billing_period=2026-10/account-default.parquet")); err != nil {
		t.Error(err)
	}
}
