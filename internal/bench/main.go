// Command bench prints the performance table of docs/performance.md
// (`make bench`): for synthetic WarpStream captures of 100k and 1M daily
// lines (and 5M with -big) it times the real cmd/local replay and DuckDB
// doing the same conversion, in the same run, each in its own process
// under /usr/bin/time -v for its peak RSS.
//
//	go run ./internal/bench                 # 100k and 1M lines
//	go run ./internal/bench -big            # and 5M
//	go run ./internal/bench -big -shapes wide,products40,digits17   # make bench
//	go run ./internal/bench -sizes 200000 -repeat 5 -duckdb=false
//
// -shapes adds rows for months shaped differently (internal/gen's
// Shapes) at -shape-lines lines each (992,000: 8,000 clusters × 4
// products × 31 days in the wide shape), in the same table.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/invoice-export/invoice-export/internal/gen"
)

// The benchmark month and the --as-of that makes it a closed one.
var (
	month = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	asOf  = "2026-11-03"
)

func main() {
	// Child mode: DuckDB's conversion in its own process, so that its
	// peak RSS is its own.
	if len(os.Args) == 4 && os.Args[1] == "-child-duckdb" {
		if _, err := duckDBConvert(os.Args[2], os.Args[3], month); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	var (
		sizes    = flag.String("sizes", "100000,1000000", "comma-separated daily line counts")
		big      = flag.Bool("big", false, "add 5,000,000 lines (~470 MB of JSON; DuckDB needs a minute and several GB)")
		repeat   = flag.Int("repeat", 3, "runs per tool and size; the table shows the median")
		duck     = flag.Bool("duckdb", true, "run DuckDB's conversion for the ratio")
		work     = flag.String("dir", filepath.Join(os.TempDir(), "invoice-export-bench"), "scratch folder (removed at the end unless -keep)")
		keep     = flag.Bool("keep", false, "keep the scratch folder (captures and outputs)")
		indent   = flag.Bool("indent", false, "pretty-printed captures instead of compact JSON")
		lambda   = flag.Bool("lambda", true, "measure the Lambda bootstrap size and cold start, when cmd/lambda exists")
		backfill = flag.Bool("backfill", true, "run the rate-limited backfill, when every vendor has a fake API")
		shapes   = flag.String("shapes", "", "comma-separated shapes of internal/gen (wide, products40, digits17) to add at -shape-lines lines")
		shapeN   = flag.Int("shape-lines", 992_000, "daily lines of each -shapes month")
	)
	flag.Parse()
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fatalf("-sizes: %q is not a line count", s)
		}
		ns = append(ns, n)
	}
	if *big && !slices.Contains(ns, 5_000_000) {
		ns = append(ns, 5_000_000)
	}
	type shaped struct {
		shape string
		lines int
	}
	var months []shaped
	for _, n := range ns {
		months = append(months, shaped{gen.ShapeDefault, n})
	}
	for _, s := range strings.Split(*shapes, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(gen.Shapes, s) {
			fatalf("-shapes: %q is not one of %s", s, strings.Join(gen.Shapes, ", "))
		}
		months = append(months, shaped{s, *shapeN})
	}
	if err := os.MkdirAll(*work, 0o755); err != nil {
		fatalf("%v", err)
	}
	if !*keep {
		defer os.RemoveAll(*work)
	}
	root, err := moduleRoot()
	if err != nil {
		fatalf("%v", err)
	}
	local := filepath.Join(*work, "local")
	if err := goBuild(root, local, "./cmd/local"); err != nil {
		fatalf("building cmd/local: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		fatalf("%v", err)
	}

	printMachine()
	fmt.Printf("Replay of one month of WarpStream daily breakdowns into Parquet: median of %d runs, each in its own process.\n\n", *repeat)
	// Fixed widths, not a tabwriter: each size prints as soon as it is done.
	const rowFormat = "%10s  %8s  %8s  %9s  %7s  %8s  %5s  %11s  %9s\n"
	fmt.Printf(rowFormat, "shape", "lines", "input MB", "tool", "seconds", "lines/s", "MB/s", "peak RSS MB", "vs DuckDB")
	for _, m := range months {
		n := m.lines
		caps := filepath.Join(*work, fmt.Sprintf("caps-%s-%d", m.shape, n))
		os.RemoveAll(caps)
		if _, err := gen.Write(caps, gen.Config{Seed: 1, Lines: n, Start: month, Indent: *indent, Shape: m.shape}); err != nil {
			fatalf("generating %d lines: %v", n, err)
		}
		brk := filepath.Join(caps, "warpstream", "invoice_breakdowns", month.Format("2006-01")+".json")
		st, err := os.Stat(brk)
		if err != nil {
			fatalf("%v", err)
		}
		mb := float64(st.Size()) / 1e6
		out := filepath.Join(*work, "out")
		ours, err := measure(*repeat, func() *exec.Cmd {
			os.RemoveAll(out)
			return exec.Command(local, "--in", caps, "--out", out, "--as-of", asOf,
				"--from", month.Format("2006-01"), "--to", month.Format("2006-01"), "--providers", "warpstream")
		})
		if err != nil {
			fatalf("cmd/local on %d lines: %v", n, err)
		}
		var theirs result
		if *duck {
			theirs, err = measure(*repeat, func() *exec.Cmd {
				os.RemoveAll(out)
				return exec.Command(self, "-child-duckdb", brk, filepath.Join(out, "charge_lines"))
			})
			if err != nil {
				fatalf("DuckDB on %d lines: %v", n, err)
			}
		}
		os.RemoveAll(out)
		row := func(tool string, r result, ratio string) {
			fmt.Printf(rowFormat, m.shape, strconv.Itoa(n), fmt.Sprintf("%.1f", mb), tool, fmt.Sprintf("%.2f", r.seconds),
				fmt.Sprintf("%.0f", float64(n)/r.seconds), fmt.Sprintf("%.1f", mb/r.seconds), fmt.Sprintf("%.0f", r.rssMB), ratio)
		}
		ratio := "-"
		if *duck {
			ratio = fmt.Sprintf("%.1f×", theirs.seconds/ours.seconds)
		}
		row("cmd/local", ours, ratio)
		if *duck {
			row("DuckDB", theirs, "1.0×")
		}
		os.RemoveAll(caps)
	}

	if *lambda {
		fmt.Println()
		lambdaFigures(root, *work)
	}
	if *backfill {
		fmt.Println()
		backfillFigures(root)
	}
}

// result is one tool on one input: median wall time, and the peak RSS of
// that same run.
type result struct {
	seconds float64
	rssMB   float64
}

// measure runs the command repeat times and returns the median run.
func measure(repeat int, cmd func() *exec.Cmd) (result, error) {
	var rs []result
	for range max(repeat, 1) {
		r, err := timed(cmd())
		if err != nil {
			return result{}, err
		}
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(a, b result) int { return int((a.seconds - b.seconds) * 1e9) })
	return rs[len(rs)/2], nil
}

var maxRSS = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)

// timed runs c under /usr/bin/time -v when there is one (the peak RSS it
// prints), else reads the same figure from the process's rusage.
func timed(c *exec.Cmd) (result, error) {
	var stderr bytes.Buffer
	c.Stdout = io.Discard
	c.Stderr = &stderr
	useTime := false
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		c.Args = append([]string{"/usr/bin/time", "-v"}, c.Args...)
		c.Path = "/usr/bin/time"
		useTime = true
	}
	start := time.Now()
	err := c.Run()
	wall := time.Since(start).Seconds()
	if err != nil {
		return result{}, fmt.Errorf("%v: %s", err, lastLines(stderr.String(), 5))
	}
	var kb int64
	if m := maxRSS.FindStringSubmatch(stderr.String()); useTime && m != nil {
		kb, _ = strconv.ParseInt(m[1], 10, 64)
	} else if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		kb = ru.Maxrss
	}
	return result{seconds: wall, rssMB: float64(kb) / 1024}, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run from inside the module (make bench)")
	}
	return filepath.Dir(gomod), nil
}

func goBuild(root, out, pkg string, env ...string) error {
	c := exec.Command("go", "build", "-o", out, pkg)
	c.Dir = root
	c.Env = append(os.Environ(), env...)
	c.Stderr = os.Stderr
	return c.Run()
}

func printMachine() {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(b); m != nil {
			cpu = string(m[1])
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if m := regexp.MustCompile(`MemTotal:\s+(\d+) kB`).FindSubmatch(b); m != nil {
			kb, _ := strconv.ParseFloat(string(m[1]), 64)
			mem = fmt.Sprintf(", %.0f GB RAM", kb/1024/1024)
		}
	}
	goVersion, _ := exec.Command("go", "env", "GOVERSION").Output()
	fmt.Printf("Machine: %s, %d cores%s, %s, %s\n", cpu, runtime.NumCPU(), mem, strings.TrimSpace(string(goVersion)), time.Now().UTC().Format("2006-01-02"))
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	os.Exit(1)
}
