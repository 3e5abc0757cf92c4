package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/load"
)

// stalls sets the S3 sink's stall limits for one test.
func stalls(t *testing.T, l load.StallLimits) load.StallLimits {
	old := load.S3Stall
	load.S3Stall = l
	t.Cleanup(func() { load.S3Stall = old })
	return l
}

// failedLines are the lines of stderr that are not progress.
func failedLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(l, "invoice-export: ") {
			out = append(out, l)
		}
	}
	return out
}

// A MinIO frozen before the run (SIGSTOP): the run ends with exit 1 and one
// line saying the storage stopped answering, once the destination check's
// listing has made no progress twice.
func TestFrozenStorageBeforeTheRun(t *testing.T) {
	limits := stalls(t, load.StallLimits{Upload: time.Second, Call: 500 * time.Millisecond})
	m := testkit.StartMinIO(t)
	m.Freeze(t)
	start := time.Now()
	code, stdout, stderr := runLocal(t, nil, "--out", "s3://"+m.Bucket+"/frozen")
	took := time.Since(start)
	lines := failedLines(stderr)
	if code != 1 || len(lines) != 1 || stdout != "" ||
		!strings.HasPrefix(lines[0], "invoice-export: FAILED the storage stopped answering: ListObjectsV2 to "+m.Endpoint+" made no progress for 500ms, 2 times in a row; nothing more is written to s3://exports/frozen this run") {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	if took < 2*limits.Call || took > limits.Bound()+2*time.Second {
		t.Errorf("the run took %v, want about two stalled attempts of %v", took, limits.Call)
	}
}

// MinIO freezes once the run is under way (at the first vendor request):
// the run ends with exit 1 and one line naming the storage's fault and
// every period it left unwritten, within the bound; no "fix or delete"
// hint; once MinIO runs again, what an earlier run wrote is there, byte for
// byte.
func TestFrozenStorageMidRun(t *testing.T) {
	limits := stalls(t, load.StallLimits{Upload: time.Second, Call: 500 * time.Millisecond})
	frozenMidRun(t, limits)
}

// The same with the default limits: the run ends within 3 minutes.
func TestFrozenStorageMidRunDefaultLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the default stall limits (about 1 to 2 minutes)")
	}
	if load.S3Stall.Bound() > 3*time.Minute-10*time.Second {
		t.Fatalf("the default limits allow %v", load.S3Stall.Bound())
	}
	if took := frozenMidRun(t, load.S3Stall); took > 3*time.Minute {
		t.Errorf("the run took %v", took)
	}
}

func frozenMidRun(t *testing.T, limits load.StallLimits) time.Duration {
	m := testkit.StartMinIO(t)
	dest := "s3://" + m.Bucket + "/mid"
	if code, _, stderr := runLocal(t, nil, "--as-of", sampleAsOf, "--out", dest); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	snapshot := func() map[string]string {
		dir := t.TempDir()
		m.Download(t, "mid/", dir)
		files := dataFiles(t, dir)
		for _, k := range m.Keys(t, "mid/_manifests/") {
			b, _ := os.ReadFile(dir + "/" + strings.TrimPrefix(k, "mid/"))
			files[k] = string(b)
		}
		return files
	}
	before := snapshot()

	// The vendors sit behind a proxy that freezes MinIO on the first
	// request: the run has checked its destination and planned its
	// windows, and everything it writes meets the frozen server.
	var once sync.Once
	frozen := make(chan struct{})
	env := vendors(t, func(_, upstream string) string {
		u, _ := url.Parse(upstream)
		proxy := httputil.NewSingleHostReverseProxy(u)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { m.Freeze(t); close(frozen) })
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	})
	t.Chdir(repoRoot)
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run([]string{"--live", "--as-of", sampleAsOf, "--out", dest}, &stdout, &stderr, func(k string) string { return env[k] })
	took := time.Since(start)
	select {
	case <-frozen:
	default:
		t.Fatal("no vendor request: MinIO was never frozen")
	}
	lines := failedLines(stderr.String())
	if code != 1 || len(lines) != 1 {
		t.Fatalf("exit %d, want 1 and one line\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		"invoice-export: FAILED the storage stopped answering: ",
		" made no progress for ",
		", 2 times in a row; nothing more is written to s3://exports/mid this run: run again once it answers (not written, each kept as it was: ",
	} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("%q does not say %q", lines[0], want)
		}
	}
	for _, p := range []string{"warpstream", "cockroachdb", "spectrocloud"} {
		if !strings.Contains(lines[0], ": "+p+" ") && !strings.Contains(lines[0], ", "+p+" ") {
			t.Errorf("%q does not name %s", lines[0], p)
		}
	}
	if strings.Contains(stderr.String(), "fix or delete") {
		t.Errorf("a storage fault with the hint to repair the manifest:\n%s", stderr.String())
	}
	if took > limits.Bound()+5*time.Second {
		t.Errorf("the run took %v, over the bound %v", took, limits.Bound())
	}
	t.Logf("frozen mid-run: exit %d after %v (bound %v)", code, took.Round(time.Millisecond), limits.Bound())
	m.Thaw()
	if after := snapshot(); !mapsEqual(after, before) {
		t.Errorf("the frozen run changed what was there")
	}
	return took
}
