package invoiceexport

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/gen"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/load"
)

// BenchmarkReplayWarpStreamAccounts measures memory against the number of
// accounts (docs/accounts.md: memory bounded by the largest unit, not by
// the number of accounts): a replay of 50 generated WarpStream accounts
// (BENCH_ACCOUNTS; each one closed month of BENCH_ACCOUNT_LINES daily
// lines, 20,000 by default), then of one of them alone, each in a child
// process whose peak RSS (getrusage's high-water mark) is reported with
// the run's time and the time of one account-period. `make bench` runs it
// (its -bench pattern takes ReplayWarpStream).
func BenchmarkReplayWarpStreamAccounts(b *testing.B) {
	accounts, lines := envInt("BENCH_ACCOUNTS", 50), envInt("BENCH_ACCOUNT_LINES", 20_000)
	caps := b.TempDir()
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i := range accounts {
		dir := filepath.Join(caps, extract.AccountPrefix(benchAccount(i)))
		if _, err := gen.Write(dir, gen.Config{Seed: uint64(i + 1), Lines: lines, Start: oct}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		for _, n := range []int{accounts, 1} {
			out, peak, err := testkit.RunChild(b, "TestAccountsReplayChild", "BENCH_CAPTURES="+caps, "BENCH_ACCOUNTS="+strconv.Itoa(n),
				"BENCH_OUT="+b.TempDir())
			m := regexp.MustCompile(`took=([0-9.]+) rows=(\d+)`).FindStringSubmatch(out)
			if err != nil || m == nil {
				b.Fatalf("child: %v\n%s", err, out)
			}
			took, _ := strconv.ParseFloat(m[1], 64)
			rows, _ := strconv.Atoi(m[2])
			if rows < n*lines {
				b.Fatalf("%d accounts: %d rows, want at least %d", n, rows, n*lines)
			}
			b.ReportMetric(float64(peak)/(1<<20), fmt.Sprintf("peakRSS_MB_%d_accounts", n))
			b.ReportMetric(took, fmt.Sprintf("s_%d_accounts", n))
			if n == accounts {
				b.ReportMetric(took/float64(n), "s/account-period")
			}
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func benchAccount(i int) string { return fmt.Sprintf("acct-%02d", i) }

// TestAccountsReplayChild is BenchmarkReplayWarpStreamAccounts's child:
// the replay of BENCH_ACCOUNTS accounts of BENCH_CAPTURES, with the
// default account concurrency. Run alone, it does nothing.
func TestAccountsReplayChild(t *testing.T) {
	if !testkit.InChild() || os.Getenv("BENCH_CAPTURES") == "" {
		t.Skip("the child of BenchmarkReplayWarpStreamAccounts")
	}
	n := envInt("BENCH_ACCOUNTS", 1)
	p, _ := registry.Get("warpstream")
	var accounts []Account
	for i := range n {
		id := benchAccount(i)
		c, err := p.ReadConfig(func(v string) string {
			if v == "WARPSTREAM_ACCOUNT_ID" {
				return id
			}
			return ""
		})
		if err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, Account{Provider: "warpstream", ID: id, Config: c})
	}
	sink, err := load.NewFolder(os.Getenv("BENCH_OUT"))
	if err != nil {
		t.Fatal(err)
	}
	oct, _ := billing.ParsePeriod("2026-10")
	start := time.Now()
	rep := Run(context.Background(), Options{
		AsOf: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), From: oct, To: oct,
		Accounts: accounts, Source: extract.Dir(os.Getenv("BENCH_CAPTURES")), Sink: sink, RunID: "bench",
	})
	took := time.Since(start)
	if !rep.OK() || len(rep.Partitions) != n {
		t.Fatalf("%d partitions: %v", len(rep.Partitions), rep.Err())
	}
	var rows int64
	for _, p := range rep.Partitions {
		rows += p.Manifest.Rows
	}
	fmt.Printf("took=%.3f rows=%d\n", took.Seconds(), rows)
}
