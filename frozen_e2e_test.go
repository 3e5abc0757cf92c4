package invoiceexport_test

import (
	"errors"
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

// MinIO freezes once the run is under way (at the first vendor request):
// the run stops with one error naming the storage's fault and every period
// it left unwritten, within the bound; no "fix or delete" hint; once MinIO
// runs again, what an earlier run wrote is there, byte for byte. (cmd/local
// prints that error as its one FAILED line, exit 1: its
// TestStoppedRunIsOneLine.)
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
	mustExport(t, run{Out: dest})
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
	// request: the run has planned its windows, and everything it writes
	// meets the frozen server.
	var once sync.Once
	frozen := make(chan struct{})
	env := fakeAPIs(t, func(_, upstream string) string {
		u, _ := url.Parse(upstream)
		proxy := httputil.NewSingleHostReverseProxy(u)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { m.Freeze(t); close(frozen) })
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	})
	start := time.Now()
	res := export(t, run{Env: env, Live: true, Out: dest})
	took := time.Since(start)
	select {
	case <-frozen:
	default:
		t.Fatal("no vendor request: MinIO was never frozen")
	}
	if !errors.Is(res.Stopped, load.ErrStorageUnresponsive) || res.OK() {
		t.Fatalf("the run did not stop: %v", res.Err())
	}
	msg := res.Err().Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("want one line, got:\n%s", msg)
	}
	for _, want := range []string{
		"the storage stopped answering: ",
		" made no progress for ",
		", 2 times in a row; nothing more is written to s3://exports/mid this run: run again once it answers (not written, each kept as it was: ",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not say %q", msg, want)
		}
	}
	for _, p := range []string{"warpstream", "cockroachdb", "spectrocloud"} {
		if !strings.Contains(msg, ": "+p+" ") && !strings.Contains(msg, ", "+p+" ") {
			t.Errorf("%q does not name %s", msg, p)
		}
	}
	if strings.Contains(res.printed(), "fix or delete") {
		t.Errorf("a storage fault with the hint to repair the manifest:\n%s", res.printed())
	}
	if took > limits.Bound()+5*time.Second {
		t.Errorf("the run took %v, over the bound %v", took, limits.Bound())
	}
	t.Logf("frozen mid-run: stopped after %v (bound %v)", took.Round(time.Millisecond), limits.Bound())
	m.Thaw()
	if after := snapshot(); !mapsEqual(after, before) {
		t.Errorf("the frozen run changed what was there")
	}
	return took
}
