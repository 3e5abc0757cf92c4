package main

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/internal/registry"
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
// the run ends with exit 1 and one FAILED line for every period the stop
// left unwritten, without the "fix or delete" hint. (What the stop keeps,
// and the bound with the default limits: TestFrozenStorageMidRun in the
// root package.)
func TestStoppedRunIsOneLine(t *testing.T) {
	stalls(t, load.StallLimits{Upload: time.Second, Call: 500 * time.Millisecond})
	m := testkit.StartMinIO(t)
	dest := "s3://" + m.Bucket + "/mid"
	var once sync.Once
	freezing := func(upstream string) string {
		u, _ := url.Parse(upstream)
		proxy := httputil.NewSingleHostReverseProxy(u)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { m.Freeze(t) })
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	caps := filepath.Join(repoRoot, "testdata/captures")
	env := map[string]string{}
	for _, p := range registry.All() {
		maps.Copy(env, testkit.Live[p.Slug](t, caps, freezing))
	}
	code, stdout, stderr := runLocal(t, env, "--live", "--as-of", sampleAsOf, "--out", dest)
	lines := failedLines(stderr)
	if code != 1 || len(lines) != 1 {
		t.Fatalf("exit %d, want 1 and one line\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"invoice-export: FAILED the storage stopped answering: ",
		"; nothing more is written to s3://exports/mid this run: run again once it answers (not written, each kept as it was: ",
	} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("%q does not say %q", lines[0], want)
		}
	}
	for _, p := range registry.Slugs() {
		if !strings.Contains(lines[0], ": "+p+" ") && !strings.Contains(lines[0], ", "+p+" ") {
			t.Errorf("%q does not name %s", lines[0], p)
		}
	}
	if strings.Contains(stderr, "fix or delete") {
		t.Errorf("a storage fault with the hint to repair the manifest:\n%s", stderr)
	}
}
