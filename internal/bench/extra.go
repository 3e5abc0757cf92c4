package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
)

// lambdaFigures reports the arm64 bootstrap's size (built exactly as the
// Makefile's lambda target builds it) and its cold start to the first
// invocation/next (BenchmarkColdStart, against a fake Runtime API).
func lambdaFigures(root, work string) {
	bin := filepath.Join(work, "bootstrap")
	c := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/lambda")
	c.Dir = root
	c.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := c.CombinedOutput(); err != nil {
		fmt.Printf("Lambda: building bootstrap failed: %v\n%s", err, out)
		return
	}
	st, err := os.Stat(bin)
	if err != nil {
		fmt.Printf("Lambda: %v\n", err)
		return
	}
	fmt.Printf("Lambda bootstrap (linux/arm64, -s -w): %.1f MB (target ≤ 25 MB)\n", float64(st.Size())/1e6)
	out := runBench(root, "./cmd/lambda", "ColdStart", "20x")
	fmt.Printf("Lambda cold start, process start to first invocation/next (mean of 20, host arch): %s ms (target ≤ 50 ms)\n", metric(out, "ms-to-next"))
}

// backfillFigures runs BenchmarkBackfill: 24 months × 3 vendors against
// fake APIs enforcing 10 requests/s.
func backfillFigures(root string) {
	out := runBench(root, ".", "Backfill", "1x")
	fmt.Printf("Backfill, 24 months × 3 vendors at 10 requests/s per vendor: %s requests in %s s, %s× the time the limit allows (target ≤ 1.2×), no 429\n",
		metric(out, "requests"), metric(out, "sec/op"), metric(out, "x_of_limit"))
}

// runBench runs one Go benchmark and returns its output.
func runBench(root, pkg, name, benchtime string) string {
	c := exec.Command("go", "test", "-run", "XXX", "-bench", "^Benchmark"+name+"$", "-benchtime", benchtime, pkg)
	c.Dir = root
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Sprintf("failed: %v\n%s", err, out)
	}
	return string(out)
}

// metric is the value a benchmark line reports in unit ("sec/op" is ns/op
// in seconds), or a dash.
func metric(out, unit string) string {
	u := unit
	if unit == "sec/op" {
		u = "ns/op"
	}
	m := regexp.MustCompile(`([\d.]+) ` + regexp.QuoteMeta(u)).FindStringSubmatch(out)
	if m == nil {
		return "-"
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	if unit == "sec/op" {
		f /= 1e9
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}
