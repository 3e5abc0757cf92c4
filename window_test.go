package invoiceexport

import (
	"context"
	"fmt"
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
				f := filepath.Join(dir, load.ManifestKey(load.Unit{Provider: "warpstream", Account: DefaultAccount, Period: p(period)}))
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
			got, err := window(context.Background(), &load.Store{Sink: sink}, "warpstream", DefaultAccount, o)
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
	p := func(s string) billing.Period { x, _ := billing.ParsePeriod(s); return x }
	dir := t.TempDir()
	for period, body := range map[string]string{
		"2025-10": `{"final": false, "replacing": true}`, // beyond maxCatchUp
		"2026-07": `{"final": true}`,
		"2026-08": `{"final": false, "replacing": true}`,
		"2026-09": `{"final": true}`,
		"2026-10": `{"final": true}`,
	} {
		// Written before accounts existed: the default account's still.
		f := filepath.Join(dir, load.LegacyManifestKey("warpstream", p(period)))
		os.MkdirAll(filepath.Dir(f), 0o755)
		os.WriteFile(f, []byte(body), 0o644)
	}
	sink, _ := load.NewFolder(dir)
	asOf := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	got, err := window(context.Background(), &load.Store{Sink: sink}, "warpstream", DefaultAccount, &Options{AsOf: asOf, RestatementDays: 5})
	if err != nil {
		t.Fatal(err)
	}
	if s := periodList(got); s != "2026-08,2026-11" {
		t.Errorf("window = %s, want 2026-08,2026-11", s)
	}
}

// A range is refused at the start, in one line saying what to do, when it
// starts before 2000-01 or after the open period, ends before it starts,
// or spans more months than one run may export.
func TestCheckRange(t *testing.T) {
	p := func(s string) billing.Period {
		if s == "" {
			return billing.Period{}
		}
		x, err := billing.ParsePeriod(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	asOf := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		from, to string
		max      int
		want     string
	}{
		{"", "", 36, ""},
		{"2023-12", "2026-11", 36, ""},
		{"2023-12", "", 36, ""},
		{"2023-12", "2099-12", 36, ""}, // to is clamped to the open period
		{"", "2000-01", 36, ""},
		{"2023-11", "2026-11", 36, "the range 2023-11..2026-11 is 37 months, more than the 36 one run may export (MAX_RANGE_MONTHS): split it into runs of at most 36 months: 2023-11..2026-10, then 2026-11..2026-11"},
		{"2000-01", "", 36, "the range 2000-01..2026-11 is 323 months, more than the 36 one run may export (MAX_RANGE_MONTHS): split it into runs of at most 36 months: 2000-01..2002-12, then 2003-01..2005-12, and so on up to 2026-11"},
		{"2025-01", "2025-12", 6, "the range 2025-01..2025-12 is 12 months, more than the 6 one run may export (MAX_RANGE_MONTHS): split it into runs of at most 6 months: 2025-01..2025-06, then 2025-07..2025-12"},
		{"1926-01", "2026-11", 36, "the range starts at 1926-01, before 2000-01: no vendor exported here bills that far back; start at 2000-01 or later"},
		{"", "1999-12", 36, "the range starts at 1999-12, before 2000-01"},
		{"0002-01", "", 36, "the range starts at 0002-01, before 2000-01"},
		{"2026-12", "", 36, "the range starts at 2026-12, after the open period 2026-11 (as of 2026-11-20): nothing is billed yet"},
		{"2026-10", "2026-09", 36, "the range starts at 2026-10, after its end 2026-09: give the earlier month first"},
	} {
		err := CheckRange(asOf, p(c.from), p(c.to), c.max)
		if got := fmt.Sprint(err); (c.want == "" && err != nil) || (c.want != "" && !strings.HasPrefix(got, c.want)) {
			t.Errorf("%s..%s (max %d): %v\nwant %q", c.from, c.to, c.max, err, c.want)
		}
	}
	// The zero month means "unset": it is no month to give.
	if _, err := billing.ParsePeriod("0001-01"); err == nil {
		t.Error("ParsePeriod(0001-01) is the zero Period, taken as unset")
	}
}

// MAX_RANGE_MONTHS: 36 by default, 1 to 600; anything else is one line.
func TestMaxRangeMonthsFromEnv(t *testing.T) {
	for v, want := range map[string]string{"": "36", "12": "12", "600": "600", "0": "error", "601": "error", "x": "error"} {
		n, err := MaxRangeMonthsFromEnv(func(string) string { return v })
		got := fmt.Sprint(n)
		if err != nil {
			got = "error"
			if !strings.Contains(err.Error(), "MAX_RANGE_MONTHS=") {
				t.Errorf("%q: %v", v, err)
			}
		}
		if got != want {
			t.Errorf("%q: %s, want %s", v, got, want)
		}
	}
}
