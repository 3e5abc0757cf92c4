package invoiceexport_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// hugeSize is the size of the hostile answers: 400 MB, many times the
// limits (a token of 1 MiB, a listing document of 8 MiB) and the 150 MB a
// run may take, as the red team sent them.
const hugeSize = 400_000_000

// maxPeakRSS is the most memory a run may take, whatever vendors send: the
// Lambda has 1,024 MB.
const maxPeakRSS = 150 << 20

// generated is a body made as it is sent: head, unit repeated to about
// hugeSize bytes, tail. No more than a block of it is ever in memory.
type generated struct {
	head, unit, tail string
}

func (g generated) size() int64 {
	n := hugeSize / len(g.unit)
	return int64(len(g.head) + n*len(g.unit) + len(g.tail))
}

func (g generated) reader() io.Reader {
	block := []byte(strings.Repeat(g.unit, max(1, 64<<10/len(g.unit))))
	return io.MultiReader(strings.NewReader(g.head),
		&repeated{block: block, left: int64(hugeSize / len(g.unit) * len(g.unit))},
		strings.NewReader(g.tail))
}

// repeated reads block over and over, left bytes in all.
type repeated struct {
	block []byte
	at    int
	left  int64
}

func (r *repeated) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.left > 0 {
		k := copy(p[n:min(len(p), n+int(min(r.left, int64(len(r.block)-r.at))))], r.block[r.at:])
		n, r.at, r.left = n+k, (r.at+k)%len(r.block), r.left-int64(k)
	}
	return n, nil
}

// hostile fronts a fake vendor API: the request match picks is answered
// with body, the others are passed on.
func hostile(t *testing.T, upstream string, match func(r *http.Request, body []byte) bool, body generated) string {
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		if !match(r, b) {
			proxy.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(body.size()))
		io.Copy(w, body.reader())
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// buildLocal builds cmd/local for the test.
func buildLocal(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "local")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/local").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runLocal runs cmd/local (bin) with args and env, and returns its exit
// code, what it printed and its peak resident memory: the highest VmHWM
// of /proc/<pid>/status once the process runs bin. getrusage's ru_maxrss
// would not do: Go starts a child sharing the test's memory until exec
// (CLONE_VM), and Linux carries that memory's high-water mark across exec,
// so the child would report the test process's own peak.
func runLocal(t *testing.T, bin string, env map[string]string, args ...string) (code int, printed string, peak int64) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	name := filepath.Base(bin)
	if len(name) > 15 {
		name = name[:15] // the kernel's comm
	}
	var err error
	for tick := time.NewTicker(time.Millisecond); ; {
		if b, rerr := os.ReadFile(status); rerr == nil && procField(b, "Name:") == name {
			var kb int64
			fmt.Sscan(procField(b, "VmHWM:"), &kb)
			peak = max(peak, kb<<10)
		}
		select {
		case err = <-done:
			tick.Stop()
		case <-tick.C:
			continue
		}
		break
	}
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	t.Logf("cmd/local %s: exit %d in %v, peak RSS %.0f MB", strings.Join(args, " "), cmd.ProcessState.ExitCode(),
		time.Since(start).Round(time.Millisecond), float64(peak)/1e6)
	return cmd.ProcessState.ExitCode(), out.String(), peak
}

// The answers the red team sent, 400 MB each, generated as they are sent:
// cmd/local's peak memory stays under 150 MB on every one. A string of
// 400 MB and a listing document of 400 MB are bad data, each one line; 400
// MB of white space inside valid JSON is valid JSON, and the period is
// written exactly as without it.
func TestHugeAnswersInBoundedMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("measures the run with Linux's getrusage")
	}
	bin := buildLocal(t)
	breakdowns, err := os.ReadFile(filepath.Join(sampleDir, "warpstream/invoice_breakdowns/2026-10.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Members of the body's object: the first one huge.
	rest := strings.TrimPrefix(strings.TrimSpace(string(breakdowns)), "{")
	octoberBreakdowns := func(r *http.Request, body []byte) bool {
		return strings.HasSuffix(r.URL.Path, "/get_invoice_breakdowns") && bytes.Contains(body, []byte(`"2026-10-01"`))
	}
	invoiceList := func(r *http.Request, _ []byte) bool { return r.URL.Path == "/api/v1/invoices" }
	args := func(out, provider string) []string {
		return []string{"--live", "--out", out, "--as-of", sampleAsOf, "--from", "2026-10", "--to", "2026-10", "--providers", provider}
	}

	t.Run("a string in WarpStream's breakdowns", func(t *testing.T) {
		env := fakeAPIs(t, func(p, url string) string {
			return hostile(t, url, octoberBreakdowns, generated{head: `{"x_pad": "`, unit: "x", tail: `",` + rest})
		})
		code, printed, peak := runLocal(t, bin, env, args(t.TempDir(), "warpstream")...)
		want := "FAILED warpstream 2026-10: warpstream get_invoice_breakdowns (warpstream/invoice_breakdowns/2026-10.json): bad data at byte 10, /x_pad: a string of more than 1048576 bytes"
		if code != 1 || !strings.Contains(printed, want) || len(printed) > 2000 {
			t.Errorf("exit %d, printed:\n%.2000s\nwant %q", code, printed, want)
		}
		if peak > maxPeakRSS {
			t.Errorf("peak RSS %d MB, more than %d MB", peak>>20, maxPeakRSS>>20)
		}
	})

	t.Run("white space in WarpStream's breakdowns", func(t *testing.T) {
		clean := t.TempDir()
		if code, printed, _ := runLocal(t, bin, fakeAPIs(t, func(_, url string) string { return url }), args(clean, "warpstream")...); code != 0 {
			t.Fatalf("the run without white space: exit %d\n%s", code, printed)
		}
		out := t.TempDir()
		env := fakeAPIs(t, func(p, url string) string {
			return hostile(t, url, octoberBreakdowns, generated{head: "{", unit: " \n", tail: rest})
		})
		code, printed, peak := runLocal(t, bin, env, args(out, "warpstream")...)
		if code != 0 {
			t.Fatalf("exit %d, printed:\n%.2000s", code, printed)
		}
		if got, want := dataFiles(t, out), dataFiles(t, clean); len(got) != 2 || !mapsEqual(got, want) {
			t.Errorf("data files %v, want those of the run without white space %v", got, want)
		}
		if peak > maxPeakRSS {
			t.Errorf("peak RSS %d MB, more than %d MB", peak>>20, maxPeakRSS>>20)
		}
	})

	// A tenant whose workspaces come before its tenant_id: the workspaces
	// are decoded once the id is known, read again from the spooled body.
	t.Run("WarpStream's workspaces before their tenant", func(t *testing.T) {
		clean := t.TempDir()
		if code, printed, _ := runLocal(t, bin, fakeAPIs(t, func(_, url string) string { return url }), args(clean, "warpstream")...); code != 0 {
			t.Fatalf("the run without them: exit %d\n%s", code, printed)
		}
		out := t.TempDir()
		// A tenant of empty workspaces first: no line of its own.
		at := strings.Index(rest, `"tenants": [`) + len(`"tenants": [`)
		env := fakeAPIs(t, func(p, url string) string {
			return hostile(t, url, octoberBreakdowns, generated{
				head: "{" + rest[:at] + `{"workspaces": [`,
				unit: `{"workspace_id": "wi_empty", "workspace_name": "` + strings.Repeat("w", 1000) + `", "clusters": []}, `,
				tail: `{"workspace_id": "wi_empty", "workspace_name": "", "clusters": []}], "tenant_id": "ti_empty"}, ` + rest[at:],
			})
		})
		code, printed, peak := runLocal(t, bin, env, args(out, "warpstream")...)
		if code != 0 {
			t.Fatalf("exit %d, printed:\n%.2000s", code, printed)
		}
		if got, want := dataFiles(t, out), dataFiles(t, clean); len(got) != 2 || !mapsEqual(got, want) {
			t.Errorf("data files %v, want those of the run without them %v", got, want)
		}
		if peak > maxPeakRSS {
			t.Errorf("peak RSS %d MB, more than %d MB", peak>>20, maxPeakRSS>>20)
		}
	})

	t.Run("CockroachDB's invoice list", func(t *testing.T) {
		list := generated{
			head: `{"invoices": [`,
			unit: `{"invoice_id": "c1e2d3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f", "period_start": "2026-10-01T00:00:00Z"}, `,
			tail: `{"invoice_id": "c1e2d3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f", "period_start": "2026-10-01T00:00:00Z"}]}`,
		}
		env := fakeAPIs(t, func(p, url string) string { return hostile(t, url, invoiceList, list) })
		code, printed, peak := runLocal(t, bin, env, args(t.TempDir(), "cockroachdb")...)
		want := fmt.Sprintf("FAILED cockroachdb: listing invoices: cockroachdb ListInvoices (cockroachdb/invoices.json): bad data at byte 8388608: "+
			"the invoice list is not what the API documents: the body is %d bytes, more than the 8 MiB a listing document may have", list.size())
		if code != 1 || !strings.Contains(printed, want) || len(printed) > 2000 {
			t.Errorf("exit %d, printed:\n%.2000s\nwant %q", code, printed, want)
		}
		if peak > maxPeakRSS {
			t.Errorf("peak RSS %d MB, more than %d MB", peak>>20, maxPeakRSS>>20)
		}
	})
}

// procField is the value of a "Name:\tvalue" line of a /proc status file.
func procField(status []byte, field string) string {
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
		}
	}
	return ""
}
