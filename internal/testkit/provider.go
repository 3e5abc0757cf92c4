package testkit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/transform"
)

// Lines is a transform.Output keeping a copy of every line.
type Lines struct{ Lines []transform.Line }

func (s *Lines) Write(l *transform.Line) error { s.Lines = append(s.Lines, *l); return nil }

// RunProvider writes files (paths under the provider's capture folder)
// into a temporary capture folder and runs the provider's real jobs and
// transform over it for one period ("YYYY-MM"), as of asOf
// ("YYYY-MM-DD"), with the settings env names.
func RunProvider(t testing.TB, p registry.Provider, env map[string]string, period, asOf string, files map[string]string) (*transform.Result, []transform.Line, error) {
	t.Helper()
	return RunProviderIn(t, t.TempDir(), p, env, period, asOf, files)
}

// RunProviderIn is RunProvider in a given folder (fuzzing reuses one).
func RunProviderIn(t testing.TB, dir string, p registry.Provider, env map[string]string, period, asOf string, files map[string]string) (*transform.Result, []transform.Line, error) {
	t.Helper()
	for name, body := range files {
		path := filepath.Join(dir, p.Slug, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := p.ReadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	per, _ := billing.ParsePeriod(period)
	day, _ := time.Parse("2006-01-02", asOf)
	src := extract.Dir(dir)
	jobs, err := p.Jobs(context.Background(), cfg, src, extract.Plan{Periods: []billing.Period{per}, AsOf: day})
	if err != nil {
		return nil, nil, err
	}
	defer CloseJobs(jobs)
	if len(jobs) != 1 {
		t.Fatalf("%d jobs for one period", len(jobs))
	}
	bodies := append([]*extract.Body(nil), jobs[0].Shared...)
	for _, c := range jobs[0].Calls {
		b, err := src.Fetch(context.Background(), c)
		if err != nil {
			return nil, nil, err
		}
		defer b.Close()
		bodies = append(bodies, b)
	}
	out := &Lines{}
	res, err := transform.Run(transform.Input{Job: jobs[0], Bodies: bodies, AsOf: day}, out, p.Transform)
	return res, out.Lines, err
}

// CheckAccepted holds what a fuzzed provider input must give: a rejection
// is a positioned DataError (or a sum beyond DECIMAL(38,24)); what is
// accepted reconciles exactly per invoice and currency, or says why not,
// every line has a ChargeID of its own, and every line is one FOCUS allows.
func CheckAccepted(t testing.TB, res *transform.Result, lines []transform.Line, err error) {
	t.Helper()
	if err != nil {
		var de *billing.DataError
		if !errors.As(err, &de) && !strings.Contains(err.Error(), "leaves DECIMAL(38,24)") {
			t.Fatalf("not a DataError: %v", err)
		}
		return
	}
	for _, inv := range res.Invoices {
		var s transform.Decimal
		for _, l := range lines {
			switch {
			case l.InvoiceID != inv.InvoiceID:
			case l.PricingCurrency == inv.Currency && l.PricingCurrencyEffectiveCost.Valid:
				s, _ = s.Add(l.PricingCurrencyEffectiveCost.Decimal)
			case l.BillingCurrency == inv.Currency:
				s, _ = s.Add(l.BilledCost)
			}
		}
		if inv.Reconciled && s.Cmp(inv.VendorTotal) != 0 {
			t.Fatalf("%s reconciled, but the lines sum to %s and the invoice says %s", inv.Currency, s, inv.VendorTotal)
		}
		if !inv.Reconciled && inv.Problem == "" {
			t.Fatal("not reconciled and no problem stated")
		}
	}
	ids := map[string]bool{}
	for _, l := range lines {
		if l.ChargeID == "" || ids[l.ChargeID] {
			t.Fatalf("ChargeID %q is empty or not unique: %+v", l.ChargeID, l)
		}
		ids[l.ChargeID] = true
		if !l.ChargePeriodEnd.After(l.ChargePeriodStart) || l.BillingCurrency == "" || l.BillingAccountID == "" {
			t.Fatalf("bad line: %+v", l)
		}
		if l.ChargePeriodStart.Before(l.BillingPeriodStart) || l.ChargePeriodEnd.After(l.BillingPeriodEnd) {
			t.Fatalf("line outside its billing period: %+v", l)
		}
		if (l.ChargeCategory == transform.Usage || l.ChargeCategory == transform.Purchase) && (!l.PricingQuantity.Valid || l.PricingUnit == "") {
			t.Fatalf("%s line without PricingQuantity or PricingUnit (FOCUS): %+v", l.ChargeCategory, l)
		}
		if !transform.IsNationalCurrency(l.BillingCurrency) {
			t.Fatalf("BillingCurrency %q is not an upper-case ISO 4217 code: %+v", l.BillingCurrency, l)
		}
	}
}
