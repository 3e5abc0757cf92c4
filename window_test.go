package invoiceexport

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/load"
)

func TestWindow(t *testing.T) {
	p := func(s string) billing.Period { x, _ := billing.ParsePeriod(s); return x }
	cases := []struct {
		name      string
		asOf      string
		from, to  string
		manifests map[string]bool // period → final
		want      string
		err       string
	}{
		{name: "mid-month: the open period", asOf: "2026-11-23", want: "2026-11"},
		{name: "restatement window: the previous one too", asOf: "2026-11-05", want: "2026-10,2026-11"},
		{name: "restatement window ends", asOf: "2026-11-06", want: "2026-11"},
		{name: "a year boundary", asOf: "2027-01-01", want: "2026-12,2027-01"},
		{name: "missed runs: back to the last final manifest", asOf: "2026-11-20",
			manifests: map[string]bool{"2026-07": true, "2026-08": true, "2026-09": false}, want: "2026-09,2026-10,2026-11"},
		{name: "a draft is exported again until final", asOf: "2026-11-20",
			manifests: map[string]bool{"2026-10": false}, want: "2026-10,2026-11"},
		{name: "up to date", asOf: "2026-11-20", manifests: map[string]bool{"2026-10": true, "2026-11": false}, want: "2026-11"},
		{name: "never before its first export", asOf: "2026-11-20", manifests: map[string]bool{"2026-11": false}, want: "2026-11"},
		{name: "backfill", asOf: "2026-11-20", from: "2025-11", to: "2026-02", want: "2025-11,2025-12,2026-01,2026-02"},
		{name: "backfill from a month to now", asOf: "2026-11-20", from: "2026-09", want: "2026-09,2026-10,2026-11"},
		{name: "one month", asOf: "2026-11-20", to: "2026-03", want: "2026-03"},
		{name: "never the future", asOf: "2026-11-20", from: "2026-10", to: "2027-05", want: "2026-10,2026-11"},
		{name: "reversed", asOf: "2026-11-20", from: "2026-10", to: "2026-09", err: "the range starts at 2026-10, after its end 2026-09"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for period, final := range c.manifests {
				f := filepath.Join(dir, "_manifests", "provider=warpstream", "billing_period="+period+".json")
				os.MkdirAll(filepath.Dir(f), 0o755)
				body := `{"final": false}`
				if final {
					body = `{"final": true}`
				}
				os.WriteFile(f, []byte(body), 0o644)
			}
			sink, _ := load.NewFolder(dir)
			asOf, _ := time.Parse("2006-01-02", c.asOf)
			o := &Options{AsOf: asOf, RestatementDays: 5}
			if c.from != "" {
				o.From = p(c.from)
			}
			if c.to != "" {
				o.To = p(c.to)
			}
			got, err := window(context.Background(), &load.Store{Sink: sink}, "warpstream", o)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := periodList(got); s != c.want {
				t.Errorf("window = %s, want %s", s, c.want)
			}
			if !slices.IsSortedFunc(got, func(a, b billing.Period) int { return a.Start().Compare(b.Start()) }) {
				t.Errorf("not ascending: %v", got)
			}
		})
	}
}

// A Replacing marker (a run died while replacing that partition) is
// exported again even past the last final manifest, within maxCatchUp.
func TestWindowExportsInterruptedReplacements(t *testing.T) {
	dir := t.TempDir()
	for period, body := range map[string]string{
		"2025-10": `{"final": false, "replacing": true}`, // beyond maxCatchUp
		"2026-07": `{"final": true}`,
		"2026-08": `{"final": false, "replacing": true}`,
		"2026-09": `{"final": true}`,
		"2026-10": `{"final": true}`,
	} {
		f := filepath.Join(dir, "_manifests", "provider=warpstream", "billing_period="+period+".json")
		os.MkdirAll(filepath.Dir(f), 0o755)
		os.WriteFile(f, []byte(body), 0o644)
	}
	sink, _ := load.NewFolder(dir)
	asOf := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	got, err := window(context.Background(), &load.Store{Sink: sink}, "warpstream", &Options{AsOf: asOf, RestatementDays: 5})
	if err != nil {
		t.Fatal(err)
	}
	if s := periodList(got); s != "2026-08,2026-11" {
		t.Errorf("window = %s, want 2026-08,2026-11", s)
	}
}
