package invoiceexport

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/gen"
	"github.com/invoice-export/invoice-export/load"
)

// BenchmarkReplayWarpStream is cmd/local --in end to end, in process:
// decode, transform and Parquet write of one generated month into a folder
// (BENCH_LINES daily lines, 200,000 by default). Profile it with
//
//	go test -run XXX -bench ReplayWarpStream -benchmem -cpuprofile cpu.out .
func BenchmarkReplayWarpStream(b *testing.B) {
	lines := 200_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_LINES")); err == nil && v > 0 {
		lines = v
	}
	caps := b.TempDir()
	if _, err := gen.Write(caps, gen.Config{Seed: 1, Lines: lines, Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(caps, "warpstream", "invoice_breakdowns", "2026-10.json"))
	if err != nil {
		b.Fatal(err)
	}
	out := b.TempDir()
	sink, err := load.NewFolder(out)
	if err != nil {
		b.Fatal(err)
	}
	oct, _ := billing.ParsePeriod("2026-10")
	b.SetBytes(st.Size())
	for b.Loop() {
		rep := Run(context.Background(), Options{
			AsOf:      time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC),
			From:      oct,
			To:        oct,
			Providers: []string{"warpstream"},
			Config:    noConfig(),
			Source:    extract.Dir(caps),
			Sink:      sink,
			RunID:     "bench",
		})
		if !rep.OK() || len(rep.Partitions) != 1 || rep.Partitions[0].Manifest.Rows < int64(lines) {
			b.Fatalf("run: %v", rep.Err())
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
