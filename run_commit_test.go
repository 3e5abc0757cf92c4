package invoiceexport

import (
	"context"
	"encoding/json"
	"github.com/invoice-export/invoice-export/internal/billing"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/load"
)

func replayAsOf(t *testing.T, src extract.Source, out, asOf, run string) *Report {
	t.Helper()
	sink, err := load.NewFolder(out)
	if err != nil {
		t.Fatal(err)
	}
	day, _ := time.Parse("2006-01-02", asOf)
	return Run(context.Background(), Options{
		AsOf:            day,
		Providers:       []string{"warpstream"},
		Config:          noConfig(),
		Source:          src,
		Sink:            sink,
		RunID:           run,
		RestatementDays: 5,
	})
}

// slowSource answers every call after a delay, as a vendor far away does.
type slowSource struct {
	extract.Source
	delay time.Duration
}

func (s slowSource) Fetch(ctx context.Context, c extract.Call) (*extract.Body, error) {
	time.Sleep(s.delay)
	return s.Source.Fetch(ctx, c)
}

// A partition's duration covers its fetch, not only transform and commit.
func TestPartitionDurationCoversTheFetch(t *testing.T) {
	const delay = 300 * time.Millisecond
	rep := replayAsOf(t, slowSource{extract.Dir(copyCaptures(t, "warpstream")), delay}, t.TempDir(), "2026-11-03", "r1")
	if !rep.OK() || len(rep.Partitions) != 2 {
		t.Fatalf("report = %+v", rep)
	}
	for _, p := range rep.Partitions {
		if p.Duration < delay {
			t.Errorf("%s: duration %v, less than its fetch (%v)", p.Period, p.Duration, delay)
		}
	}
}

func editManifest(t *testing.T, out, period string, edit func(m map[string]any)) {
	t.Helper()
	f := filepath.Join(out, load.ManifestKey(load.Unit{Provider: "warpstream", Account: DefaultAccount, Period: mustPeriod(period)}))
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A re-export lacking an invoice that the partition holds fails that
// provider and period, with a message saying what to do, and leaves the
// partition as it was; the other periods are written.
func TestInvoiceMissingFromTheVendorFailsThePeriod(t *testing.T) {
	captures, out := copyCaptures(t, "warpstream"), t.TempDir()
	if rep := replayAsOf(t, extract.Dir(captures), out, "2026-11-03", "r1"); !rep.OK() {
		t.Fatal(rep.Err())
	}
	// As if an earlier export had held an invoice the vendor no longer lists.
	editManifest(t, out, "2026-10", func(m map[string]any) {
		m["invoices"] = append(m["invoices"].([]any), map[string]any{"invoice_id": "inv-gone", "currency": "USD"})
	})
	before := hashTree(t, out)
	rep := replayAsOf(t, extract.Dir(captures), out, "2026-11-03", "r2")
	if rep.OK() || len(rep.Failures) != 1 || rep.Failures[0].Period.String() != "2026-10" || len(rep.Partitions) != 1 {
		t.Fatalf("report = %+v", rep)
	}
	msg := rep.Err().Error()
	for _, want := range []string{"warpstream 2026-10", "inv-gone", "run r1", "delete " + filepath.Join(out, load.ManifestKey(load.Unit{Provider: "warpstream", Account: DefaultAccount, Period: mustPeriod("2026-10")}))} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not say %q", msg, want)
		}
	}
	after := hashTree(t, out)
	for k, v := range before {
		if strings.Contains(k, "2026-10") && after[k] != v {
			t.Errorf("%s changed although the period was refused", k)
		}
	}
}

// A partition whose replacement died (its manifest the Replacing marker,
// its files a mix) is exported again by the next scheduled run, outside
// the restatement window, and repaired.
func TestInterruptedReplacementIsRepaired(t *testing.T) {
	captures, out := copyCaptures(t, "warpstream"), t.TempDir()
	if rep := replayAsOf(t, extract.Dir(captures), out, "2026-11-03", "r1"); !rep.OK() {
		t.Fatal(rep.Err())
	}
	want := hashTree(t, out)
	lines := filepath.Join(out, load.DataKey("charge_lines", load.Unit{Provider: "warpstream", Account: DefaultAccount, Period: mustPeriod("2026-10")}))
	os.WriteFile(lines, []byte("PAR1 another run's file"), 0o644)
	editManifest(t, out, "2026-10", func(m map[string]any) {
		m["replacing"], m["final"], m["files"] = true, false, []any{}
	})
	rep := replayAsOf(t, extract.Dir(captures), out, "2026-11-20", "r2")
	if !rep.OK() || len(rep.Partitions) != 2 || rep.Partitions[0].Period.String() != "2026-10" {
		t.Fatalf("report = %+v", rep)
	}
	got := hashTree(t, out)
	for k, v := range want {
		if strings.HasSuffix(k, ".parquet") && got[k] != v {
			t.Errorf("%s not repaired", k)
		}
	}
	var m load.Manifest
	b, _ := os.ReadFile(filepath.Join(out, load.ManifestKey(load.Unit{Provider: "warpstream", Account: DefaultAccount, Period: mustPeriod("2026-10")})))
	if err := json.Unmarshal(b, &m); err != nil || m.Replacing || len(m.Files) != 2 || m.RunID != "r2" {
		t.Errorf("manifest = %+v (%v)", m, err)
	}
}

func mustPeriod(s string) billing.Period {
	p, err := billing.ParsePeriod(s)
	if err != nil {
		panic(err)
	}
	return p
}
