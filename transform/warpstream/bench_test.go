package warpstream_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/gen"
	"github.com/invoice-export/invoice-export/transform"
	"github.com/invoice-export/invoice-export/transform/warpstream"
)

// benchLines is the size of the generated month: big enough that per-call
// setup does not count, small enough for -count=10.
const benchLines = 200_000

// benchCaptures generates one month of WarpStream captures (October 2026,
// benchLines daily lines) into a temporary folder.
func benchCaptures(b *testing.B) (dir string, brkBytes int64) {
	b.Helper()
	dir = b.TempDir()
	if _, err := gen.Write(dir, gen.Config{Seed: 1, Lines: benchLines, Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(dir + "/warpstream/invoice_breakdowns/2026-10.json")
	if err != nil {
		b.Fatal(err)
	}
	return dir, st.Size()
}

// discard is an Output that keeps nothing.
type discard struct{ n int64 }

func (d *discard) Write(*transform.Line) error { d.n++; return nil }

// BenchmarkWarpStreamTokens is the floor of any jsontext-based decoder:
// reading every token of the breakdowns and nothing else.
//
//	go test -run XXX -bench WarpStream -benchmem ./transform/warpstream
func BenchmarkWarpStreamTokens(b *testing.B) {
	dir, size := benchCaptures(b)
	body, err := os.ReadFile(dir + "/warpstream/invoice_breakdowns/2026-10.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	for b.Loop() {
		dec := jsontext.NewDecoder(bytes.NewReader(body))
		for {
			if _, err := dec.ReadToken(); err != nil {
				break
			}
		}
	}
	b.ReportMetric(benchLines*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkWarpStreamTransform decodes the invoice and the breakdowns from
// their files and makes every line (decode + transform, no writing).
func BenchmarkWarpStreamTransform(b *testing.B) {
	dir, size := benchCaptures(b)
	cfg, err := warpstream.Provider.ReadConfig(func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	p, _ := billing.ParsePeriod("2026-10")
	asOf := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	jobs, err := warpstream.Provider.Jobs(context.Background(), cfg, extract.Dir(dir), extract.Plan{Periods: []billing.Period{p}, AsOf: asOf})
	if err != nil {
		b.Fatal(err)
	}
	var bodies []*extract.Body
	for _, c := range jobs[0].Calls {
		body, err := extract.Dir(dir).Fetch(context.Background(), c)
		if err != nil {
			b.Fatal(err)
		}
		defer body.Close()
		bodies = append(bodies, body)
	}
	b.SetBytes(size)
	for b.Loop() {
		out := &discard{}
		res, err := transform.Run(transform.Input{Job: jobs[0], Bodies: bodies, AsOf: asOf}, out, warpstream.Transform)
		if err != nil {
			b.Fatal(err)
		}
		if !res.Invoices[0].Reconciled || out.n < benchLines {
			b.Fatalf("%d lines, invoice %+v", out.n, res.Invoices[0])
		}
	}
	b.ReportMetric(benchLines*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
