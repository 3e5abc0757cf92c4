package invoiceexport_test

import (
	"bytes"
	"context"
	"fmt"
	"github.com/invoice-export/invoice-export/internal/billing"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/load"
)

// fakeAPIs starts every provider's fake API on the sample captures, each
// behind wrap (which may return the URL it is given), and returns the
// environment of a live run against them.
func fakeAPIs(t testing.TB, wrap func(provider, url string) string) map[string]string {
	env := map[string]string{}
	for _, p := range registry.All() {
		live := testkit.Live[p.Slug]
		if live == nil {
			t.Fatalf("%s has no fake API for live runs (testkit.Live)", p.Slug)
		}
		maps.Copy(env, live(t, sampleDir, func(url string) string { return wrap(p.Slug, url) }))
	}
	return env
}

// assertNoKeys checks the secrets env configures against what the run
// printed and every byte under dirs.
func assertNoKeys(t *testing.T, env map[string]string, printed string, dirs ...string) {
	t.Helper()
	for _, p := range registry.All() {
		for _, v := range p.SecretVars() {
			if key := env[v]; key != "" {
				for _, dir := range dirs {
					assertNoKey(t, key, printed, dir)
				}
			}
		}
	}
}

// sampleFiles is how many data files a run of the whole sample writes:
// two periods of every provider, each a lines file and an invoices file.
func sampleFiles() int { return 2 * 2 * len(registry.All()) }

// Every vendor answers each request with faults first (503, 429 with
// Retry-After, a reset connection, a truncated body, a slow answer): the
// run gets through with exactly the clean run's files.
func TestFlakyVendorsGiveExactFiles(t *testing.T) {
	var proxies []*testkit.Faulty
	env := fakeAPIs(t, func(_, url string) string {
		p := testkit.FaultyProxy(t, url, 2)
		proxies = append(proxies, p)
		return p.URL
	})
	out, rec := t.TempDir(), t.TempDir()
	res := export(t, run{Env: env, Live: true, Out: out, Record: rec})
	if !res.OK() {
		t.Fatalf("%v\n%s", res.Err(), res.log)
	}
	clean := t.TempDir()
	mustExport(t, run{Out: clean})
	if got, want := dataFiles(t, out), dataFiles(t, clean); len(got) != sampleFiles() || !mapsEqual(got, want) {
		t.Fatalf("flaky run and clean run differ:\n%v\n%v", got, want)
	}
	served := map[testkit.Fault]int{}
	for _, p := range proxies {
		for f, n := range p.Counts() {
			served[f] += n
		}
	}
	for f := range testkit.Fault(5) {
		if served[f] == 0 {
			t.Errorf("no %s fault was served: %v", f, served)
		}
	}
	assertNoKeys(t, env, res.printed(), out, rec)
}

// One provider down for good: the others are written, its partitions from
// an earlier run stay byte for byte, and the failure names the provider,
// the endpoint and the cause.
func TestOneVendorDown(t *testing.T) {
	out := t.TempDir()
	mustExport(t, run{Out: out})
	before := snapshotProvider(t, out, "cockroachdb")
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream connect error", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	env := fakeAPIs(t, func(provider, url string) string {
		if provider == "cockroachdb" {
			return down.URL
		}
		return url
	})
	res := export(t, run{Env: env, Live: true, Out: out})
	if others := sampleFiles()/2 - 2; res.OK() || len(res.Failures) != 1 || res.Failures[0].Provider != "cockroachdb" || len(res.Partitions) != others {
		t.Fatalf("want cockroachdb failed and the %d partitions of the others written: %+v, %v", others, res.Partitions, res.Err())
	}
	if err := res.Err().Error(); !strings.HasPrefix(err, "cockroachdb: ") || !strings.Contains(err, "503") || !strings.Contains(err, "/api/v1/organization") {
		t.Errorf("the failure does not name provider, endpoint and cause:\n%s", err)
	}
	if after := snapshotProvider(t, out, "cockroachdb"); !mapsEqual(before, after) || len(before) != 6 {
		t.Errorf("the failed vendor's partitions changed:\n%v\n%v", before, after)
	}
	for _, p := range slices.DeleteFunc(registry.Slugs(), func(s string) bool { return s == "cockroachdb" }) {
		runs, _ := filepath.Glob(filepath.Join(out, "raw", "*", "*", p))
		if len(runs) != 1 {
			t.Errorf("%s was not fetched live: %v", p, runs)
		}
	}
	assertNoKeys(t, env, res.printed(), out)
}

// snapshotProvider hashes every file of one provider, manifests included.
func snapshotProvider(t *testing.T, dest, provider string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, "provider="+provider) {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dest, p)
			sums[rel] = string(b)
		}
		return nil
	})
	return sums
}

// Two runs at once into the same folder leave what one run leaves.
func TestConcurrentRuns(t *testing.T) {
	out := t.TempDir()
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Go(func() { results[i] = export(t, run{Out: out}) })
	}
	wg.Wait()
	for _, r := range results {
		if !r.OK() {
			t.Fatalf("a run failed: %v", r.Err())
		}
	}
	one := t.TempDir()
	mustExport(t, run{Out: one})
	if got, want := dataFiles(t, out), dataFiles(t, one); len(got) != sampleFiles() || !mapsEqual(got, want) {
		t.Errorf("two runs at once:\n%v\none run:\n%v", got, want)
	}
	assertManifestsMatchFiles(t, out)
}

// assertManifestsMatchFiles checks what a reader relies on: every file a
// manifest lists exists whole, with the size and sha256 it states.
func assertManifestsMatchFiles(t *testing.T, dest string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dest, "_manifests", "*", "*.json"))
	for _, mf := range files {
		var m struct {
			Replacing bool `json:"replacing"`
			Files     []struct {
				Key    string `json:"key"`
				Bytes  int64  `json:"bytes"`
				SHA256 string `json:"sha256"`
			} `json:"files"`
		}
		readJSON(t, mf, &m)
		// A marker (a replacement cut short) lists nothing; any other
		// manifest lists both files, as they are.
		want := 2
		if m.Replacing {
			want = 0
		}
		if len(m.Files) != want {
			t.Errorf("%s (replacing: %v) lists %d files, want %d", mf, m.Replacing, len(m.Files), want)
		}
		for _, f := range m.Files {
			sha, size := fileSHA(t, filepath.Join(dest, f.Key))
			if sha != f.SHA256 || size != f.Bytes {
				t.Errorf("%s: %s is %d bytes %s, the manifest says %d bytes %s", mf, f.Key, size, sha, f.Bytes, f.SHA256)
			}
		}
	}
}

// Killing cmd/local (SIGKILL) at any moment, then running it again,
// gives the clean run's files; after every kill, each manifest still
// matches the files it lists. On a folder and on a real MinIO.
func TestKilledAtAnyMomentThenRerun(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "local")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/local").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	clean := t.TempDir()
	mustExport(t, run{Out: clean})
	want := dataFiles(t, clean)

	t.Run("folder", func(t *testing.T) {
		out := t.TempDir()
		killAndRerun(t, bin, out, nil, want, func() string { return out })
		// Outside the layout, only the staging folder (swept by a later run)
		// may hold what a killed run left.
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			switch e.Name() {
			case "charge_lines", "invoices", "_manifests", "raw", ".staging":
			default:
				t.Errorf("unexpected %s in the output", e.Name())
			}
		}
	})
	t.Run("MinIO", func(t *testing.T) {
		m := testkit.StartMinIO(t)
		aws := map[string]string{}
		for _, k := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} {
			aws[k] = os.Getenv(k)
		}
		killAndRerun(t, bin, "s3://"+m.Bucket+"/crash", aws, want, func() string {
			dir := t.TempDir()
			m.Download(t, "crash/", dir)
			return dir
		})
	})
}

// killAndRerun kills runs of bin into dest at several moments, checks the
// manifests after each kill (local returns dest's content on disk), then
// runs to completion and compares the data files with want.
func killAndRerun(t *testing.T, bin, dest string, extraEnv, want map[string]string, local func() string) {
	var env map[string]string
	runBin := func(timeout time.Duration) (killed bool) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--live", "--as-of", sampleAsOf, "--out", dest)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
		for _, e := range []map[string]string{env, extraEnv} {
			for k, v := range e {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
		}
		err := cmd.Run() // CommandContext kills with SIGKILL
		return ctx.Err() != nil && err != nil
	}
	kills := 0
	for i, d := range []time.Duration{50, 150, 300, 500, 800, 1100, 1500, 2000} {
		// Slow vendors (each request delayed or failed first) make a run
		// last long enough to be killed while fetching, transforming and
		// writing; the proxies remember what they delayed, so each run
		// gets new ones.
		env = fakeAPIs(t, func(_, url string) string { return testkit.FaultyProxy(t, url, 1+i%3).URL })
		if runBin(d * time.Millisecond) {
			kills++
		}
		assertManifestsMatchFiles(t, local())
	}
	if kills < 4 {
		t.Errorf("only %d of 8 runs were killed mid-way: the test no longer exercises crashes", kills)
	}
	env = fakeAPIs(t, func(_, url string) string { return url })
	if runBin(time.Minute) {
		t.Fatal("the final run did not finish")
	}
	got := local()
	if files := dataFiles(t, got); !mapsEqual(files, want) {
		t.Errorf("after kills and a rerun:\n%v\nclean:\n%v", files, want)
	}
	assertManifestsMatchFiles(t, got)
}

// Bad data in a capture: a clear error naming vendor, capture file and
// position; nothing written for that vendor and period; the rest written.
func TestBadCapturesAreClearErrors(t *testing.T) {
	for _, c := range []struct {
		name, file, old, new, want string
	}{
		{"NaN", "warpstream/invoice_breakdowns/2026-10.json", `"total": 3.33331`, `"total": NaN`, "warpstream/invoice_breakdowns/2026-10.json"},
		{"HTML", "cockroachdb/invoice/3b0d7c52-9a4e-4f1b-8c6d-2e5f7a9b1c04.json", "", "<html><body>502 Bad Gateway</body></html>", "cockroachdb/invoice/3b0d7c52-9a4e-4f1b-8c6d-2e5f7a9b1c04.json"},
		{"absurd", "spectrocloud/invoice/6540e1f2a3b4c5d6e7f80912.json", `"billableAmount": `, `"billableAmount": 1e400000`, "spectrocloud/invoice/6540e1f2a3b4c5d6e7f80912.json"},
		{"truncated", "mongodbatlas/invoice/6720a1b2c3d4e5f607182930.json", `"lineItems": [`, `"lineItems": [{"sku": "ATLAS_AWS_INSTANCE_M30", "totalPriceCents": 38`, "mongodbatlas/invoice/6720a1b2c3d4e5f607182930.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := t.TempDir()
			if err := os.CopyFS(in, os.DirFS(sampleDir)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(in, c.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			body := c.new
			if c.old != "" {
				if !bytes.Contains(b, []byte(c.old)) {
					t.Fatalf("%s has no %q", c.file, c.old)
				}
				body = strings.Replace(string(b), c.old, c.new, 1)
			}
			os.WriteFile(path, []byte(body), 0o644)
			out := t.TempDir()
			res := export(t, run{In: in, Out: out})
			if res.OK() || len(res.Failures) != 1 || !strings.Contains(res.Err().Error(), c.want) || !strings.Contains(res.Err().Error(), "bad data at byte") {
				t.Fatalf("want one failure naming %s and the byte: %v", c.want, res.Err())
			}
			provider := strings.Split(c.file, "/")[0]
			if f := res.Failures[0]; f.Provider != provider || f.Period.String() != "2026-10" {
				t.Errorf("the failure does not name %s 2026-10: %v", provider, f)
			}
			files := dataFiles(t, out)
			if len(files) != sampleFiles()-2 {
				t.Errorf("%d files written, want the %d of the other partitions: %v", len(files), sampleFiles()-2, files)
			}
			for f := range files {
				if strings.Contains(f, "provider="+provider+"/billing_period=2026-10") {
					t.Errorf("wrote %s", f)
				}
			}
		})
	}
}

// A run killed while it writes leaves its staging file; the next run's
// start removes it once it is older than the staging grace, while a file a
// live run still holds is kept, whatever its age. The writer is a real
// process (this test binary, re-run as TestHoldStaging), killed with SIGKILL.
func TestKilledRunsStagingFileIsSwept(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldStaging$")
	cmd.Env = append(os.Environ(), "INVOICE_EXPORT_HOLD_STAGING="+out)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line := make([]byte, 6)
	if _, err := io.ReadFull(stdout, line); err != nil || string(line) != "ready\n" {
		t.Fatalf("helper: %q, %v", line, err)
	}
	left, _ := filepath.Glob(filepath.Join(out, ".staging", "*.tmp"))
	if len(left) != 1 {
		t.Fatalf("the writer holds %v", left)
	}
	old := time.Now().Add(-2 * time.Minute)
	os.Chtimes(left[0], old, old)

	if res := export(t, run{Out: out}); !res.OK() {
		t.Fatalf("run beside a live writer: %v", res.Err())
	}
	if _, err := os.Stat(left[0]); err != nil {
		t.Fatalf("a live writer's staging file was swept: %v", err)
	}

	cmd.Process.Kill()
	cmd.Wait()
	if res := export(t, run{Out: out}); !res.OK() {
		t.Fatalf("run after the kill: %v", res.Err())
	}
	if still, _ := filepath.Glob(filepath.Join(out, ".staging", "*")); len(still) != 0 {
		t.Errorf("the killed writer's staging file is still there: %v", still)
	}
}

// TestHoldStaging is the writer TestKilledRunsStagingFileIsSwept kills:
// it starts an object in the folder sink, writes part of it and waits.
func TestHoldStaging(t *testing.T) {
	dir := os.Getenv("INVOICE_EXPORT_HOLD_STAGING")
	if dir == "" {
		t.Skip("a helper process of TestKilledRunsStagingFileIsSwept")
	}
	sink, err := load.NewFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	october2026, _ := billing.ParsePeriod("2026-10")
	obj, err := sink.Create(context.Background(), load.DataKey("charge_lines", load.Unit{Provider: "warpstream", Account: "default", Period: october2026}))
	if err != nil {
		t.Fatal(err)
	}
	obj.Write([]byte("PAR1 and half a row group"))
	fmt.Println("ready")
	select {}
}
