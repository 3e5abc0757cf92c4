package invoiceexport

import (
	"context"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/gen"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/load"
)

// BenchmarkBackfill is a 24-month backfill of all three providers against
// fake APIs that each enforce 10 requests/s (a token bucket, 429 beyond
// it). It reports x_of_limit: the run's time over the time the limit
// allows (the busiest vendor's requests / 10 s); the target is ≤ 1.2, with
// no 429 answered. Run it with -benchtime 1x.
func BenchmarkBackfill(b *testing.B) {
	const months = 24
	start := time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC)
	caps := b.TempDir()
	if _, err := gen.Write(caps, gen.Config{Seed: 1, Lines: 2000, Start: start, Months: months}); err != nil {
		b.Fatal(err)
	}
	if err := gen.Months(caps, "testdata/captures", start, months); err != nil {
		b.Fatal(err)
	}
	from, to := billing.PeriodOf(start), billing.PeriodOf(start.AddDate(0, months-1, 0))
	for b.Loop() {
		limited := map[string]*testkit.Limited{
			"warpstream":   testkit.RateLimited(b, testkit.FakeWarpStream(b, caps, "ws-key", "POST").URL, 10, 10),
			"cockroachdb":  testkit.RateLimited(b, testkit.FakeCockroachDB(b, caps, "crdb-key").URL, 10, 10),
			"spectrocloud": testkit.RateLimited(b, testkit.FakeSpectroCloud(b, caps, "sc-key", true).URL, 10, 10),
		}
		env := map[string]string{
			"WARPSTREAM_API_KEY": "ws-key", "WARPSTREAM_API_URL": limited["warpstream"].URL,
			"COCKROACH_API_KEY": "crdb-key", "COCKROACH_API_URL": limited["cockroachdb"].URL,
			"SPECTROCLOUD_API_KEY": "sc-key", "SPECTROCLOUD_API_URL": limited["spectrocloud"].URL,
		}
		cfg, err := ReadConfigs(func(k string) string { return env[k] })
		if err != nil {
			b.Fatal(err)
		}
		sink, err := load.NewFolder(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		began := time.Now()
		rep := Run(context.Background(), Options{
			AsOf:      to.End(),
			From:      from,
			To:        to,
			Providers: backfilled(limited),
			Config:    cfg,
			Source:    NewAccountsHTTP(DefaultAccounts(cfg), extract.HTTPOptions{}),
			Sink:      sink,
			RunID:     "backfill",
		})
		took := time.Since(began)
		if !rep.OK() || len(rep.Partitions) != 3*months || rep.Unreconciled() != 0 {
			b.Fatalf("%d partitions, failures: %v", len(rep.Partitions), rep.Err())
		}
		busiest, total := 0, 0
		for p, l := range limited {
			n, rejected := l.Counts()
			if rejected > 0 {
				b.Fatalf("%s answered 429 to %d of %d requests", p, rejected, n)
			}
			busiest, total = max(busiest, n), total+n
		}
		b.ReportMetric(float64(total), "requests")
		b.ReportMetric(took.Seconds()/(float64(busiest)/10), "x_of_limit")
	}
}

// backfilled lists, in the registry's order, the providers the benchmark
// serves: the ones whose months gen.Months makes.
func backfilled(served map[string]*testkit.Limited) []string {
	var ps []string
	for _, p := range registry.Slugs() {
		if served[p] != nil {
			ps = append(ps, p)
		}
	}
	return ps
}
