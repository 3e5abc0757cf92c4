// Command gencaptures writes synthetic WarpStream captures of any size in
// the capture layout, for benchmarks and load tests:
//
//	go run ./internal/gen/cmd/gencaptures -lines 5000000 -out /tmp/caps
//	go run ./internal/gen/cmd/gencaptures -lines 992000 -shape wide -out /tmp/caps
//	go run ./cmd/local --in /tmp/caps --out /tmp/out --as-of 2026-11-03 --from 2026-10 --to 2026-10
//
// The same flags always give the same bytes. Never commit the output.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/invoice-export/invoice-export/internal/gen"
)

func main() {
	var (
		lines   = flag.Int("lines", 100_000, "daily lines per month")
		months  = flag.Int("months", 1, "consecutive months to write")
		start   = flag.String("start", "2026-10", "first month, `YYYY-MM`")
		seed    = flag.Uint64("seed", 1, "random seed")
		out     = flag.String("out", "", "capture folder to write (required)")
		pending = flag.Bool("pending", false, "the last month is the open one (pending_invoice.json, -pending-days days)")
		pdays   = flag.Int("pending-days", 2, "days of the open month so far")
		indent  = flag.Bool("indent", false, "pretty-print the JSON (2 spaces) instead of compact")
		shape   = flag.String("shape", gen.ShapeDefault, "how lines spread over clusters and products: "+strings.Join(gen.Shapes, ", ")+" (internal/gen/warpstream.go)")
	)
	flag.Parse()
	first, err := time.Parse("2006-01", *start)
	if *out == "" || err != nil || *lines < 0 || *months < 1 {
		flag.Usage()
		os.Exit(2)
	}
	c := gen.Config{Seed: *seed, Lines: *lines, Start: first, Months: *months, Pending: *pending, PendingDays: *pdays, Indent: *indent, Shape: *shape}
	t0 := time.Now()
	n, err := gen.Write(*out, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencaptures:", err)
		os.Exit(1)
	}
	last := first.AddDate(0, *months-1, 0)
	asOf := last.AddDate(0, 1, 2)
	if *pending {
		asOf = last.AddDate(0, 0, *pdays)
	}
	fmt.Printf("wrote %d files, %.1f MB, in %s under %s\n", len(c.Files()), float64(n)/1e6, time.Since(t0).Round(time.Millisecond), *out)
	fmt.Printf("replay: go run ./cmd/local --in %s --out OUT --as-of %s --from %s --to %s\n",
		*out, asOf.Format("2006-01-02"), first.Format("2006-01"), last.Format("2006-01"))
}
