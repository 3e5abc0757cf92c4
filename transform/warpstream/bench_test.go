package warpstream_test

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"strconv"
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
// setup does not count, small enough for -count=10. BENCH_LINES and
// BENCH_SHAPE (internal/gen's shapes) change it.
var benchLines = 200_000

func init() {
	if n, err := strconv.Atoi(os.Getenv("BENCH_LINES")); err == nil && n > 0 {
		benchLines = n
	}
}

// benchCaptures generates one month of WarpStream captures (October 2026,
// benchLines daily lines) into a temporary folder.
func benchCaptures(b *testing.B) (dir string, brkBytes int64) {
	b.Helper()
	dir = b.TempDir()
	cfg := gen.Config{Seed: 1, Lines: benchLines, Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Shape: os.Getenv("BENCH_SHAPE")}
	if _, err := gen.Write(dir, cfg); err != nil {
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
	b.ReportMetric(float64(benchLines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// liveHeap is an Output that measures the transform's live heap: after a
// GC every 100,000 lines, the most seen.
type liveHeap struct {
	n    int64
	peak uint64
}

func (h *liveHeap) Write(*transform.Line) error {
	if h.n++; h.n%100_000 == 0 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		h.peak = max(h.peak, m.HeapAlloc)
	}
	return nil
}

// BenchmarkWarpStreamLiveHeap is the transform's state, what no writer
// holds: the most live heap while it makes a month's lines (the
// benchmark's own included), which the reconciliation ledger keeps flat
// whatever the number of clusters.
//
//	BENCH_LINES=5000000 go test -run XXX -bench LiveHeap ./transform/warpstream
func BenchmarkWarpStreamLiveHeap(b *testing.B) {
	var peak uint64
	transformMonth(b, func() countingOutput { return &liveHeap{} }, func(o countingOutput) {
		peak = max(peak, o.(*liveHeap).peak)
	})
	b.ReportMetric(float64(peak)/1e6, "live-MB")
}

// BenchmarkWarpStreamTransform decodes the invoice and the breakdowns from
// their files and makes every line (decode + transform, no writing).
func BenchmarkWarpStreamTransform(b *testing.B) {
	transformMonth(b, func() countingOutput { return &discard{} }, func(countingOutput) {})
}

// countingOutput is an Output that counts its lines.
type countingOutput interface {
	transform.Output
	lines() int64
}

func (d *discard) lines() int64  { return d.n }
func (h *liveHeap) lines() int64 { return h.n }

// transformMonth transforms a generated month b.N times into the outputs
// newOut makes, passing each to done.
func transformMonth(b *testing.B, newOut func() countingOutput, done func(countingOutput)) {
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
		out := newOut()
		res, err := transform.Run(transform.Input{Job: jobs[0], Bodies: bodies, AsOf: asOf}, out, warpstream.Transform)
		if err != nil {
			b.Fatal(err)
		}
		if !res.Invoices[0].Reconciled || out.lines() < int64(benchLines) {
			b.Fatalf("%d lines, invoice %+v", out.lines(), res.Invoices[0])
		}
		done(out)
	}
	b.ReportMetric(float64(benchLines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
