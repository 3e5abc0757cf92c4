package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/gen"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/internal/testkit/duck"
	"github.com/invoice-export/invoice-export/load"
)

var repoRoot, _ = filepath.Abs("../..")

// bootstrap is the real binary, built once as Lambda runs it (no cgo, no
// RPC shim), for the host's architecture.
var bootstrap = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "invoice-export-lambda")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	code := m.Run()
	if bin, err := bootstrap(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

// runtimeAPI is a fake Lambda Runtime API: it hands out queued events on
// invocation/next and records what the function answers.
type runtimeAPI struct {
	*httptest.Server
	events  chan string
	answers chan answer
	nexts   chan time.Time // when each invocation/next arrived
	stop    chan struct{}
}

type answer struct {
	id      string
	error   bool
	body    string
	header  int  // bytes of the request's header fields (aws-lambda-go puts the error in one)
	refused bool // HTTP 431: the header was over runtimeHeaderLimit
}

// runtimeHeaderLimit is what the fake Runtime API takes of an answer's
// header fields: the real one refused a 100 KB error (aws-lambda-go sends
// it in Lambda-Runtime-Function-Xray-Error-Cause) with HTTP 431, and
// publishes no limit.
const runtimeHeaderLimit = 16 << 10

func newRuntimeAPI(t testing.TB) *runtimeAPI {
	api := &runtimeAPI{events: make(chan string, 10), answers: make(chan answer, 10), nexts: make(chan time.Time, 10), stop: make(chan struct{})}
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case api.nexts <- time.Now():
		default:
		}
		select {
		case ev := <-api.events:
			id := "req-" + strconv.FormatInt(n.Add(1), 10)
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", id)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(5*time.Minute).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:invoice-export")
			w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
			io.WriteString(w, ev)
		case <-api.stop:
			http.Error(w, "shutting down", http.StatusGone)
		}
	})
	record := func(isErr bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			a := answer{id: r.PathValue("id"), error: isErr, body: string(b)}
			for k, vs := range r.Header {
				for _, v := range vs {
					a.header += len(k) + len(v) + 4
				}
			}
			a.refused = a.header > runtimeHeaderLimit
			api.answers <- a
			if a.refused {
				w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
				return
			}
			w.WriteHeader(http.StatusAccepted)
		}
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", record(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", record(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", record(true))
	api.Server = httptest.NewServer(mux)
	t.Cleanup(func() { close(api.stop); api.Close() })
	return api
}

// invoke queues one event and waits for the function's answer.
func (api *runtimeAPI) invoke(t testing.TB, event string) answer {
	t.Helper()
	api.events <- event
	select {
	case a := <-api.answers:
		return a
	case <-time.After(2 * time.Minute):
		t.Fatalf("no answer to %s", event)
		return answer{}
	}
}

// function is the bootstrap process, with its output captured.
type function struct {
	api            *runtimeAPI
	stdout, stderr *syncBuffer
}

// syncBuffer is written by exec's copying goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// runRecords waits for n run-level metric records on stdout: the process
// writes them before it answers, but the pipe may deliver them after.
func (f *function) runRecords(t testing.TB, n int) []map[string]any {
	deadline := time.Now().Add(5 * time.Second)
	for {
		recs := emf(t, f.stdout.String())
		if len(recs) >= n || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startFunction(t testing.TB, env map[string]string) *function {
	t.Helper()
	bin, err := bootstrap()
	if err != nil {
		t.Fatal(err)
	}
	api := newRuntimeAPI(t)
	f := &function{api: api, stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(api.URL, "http://"),
		"AWS_LAMBDA_FUNCTION_NAME=invoice-export-test",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024",
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=test-secret",
		"AWS_EC2_METADATA_DISABLED=true",
		"HOME=" + t.TempDir(),
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = f.stdout, f.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return f
}

// fakeAWS answers GetSecretValue or GetParameter (AWS JSON 1.1) from values,
// counting the calls.
func fakeAWS(t testing.TB, target string, values map[string]string) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var in struct{ SecretId, Name string }
		json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if got := r.Header.Get("X-Amz-Target"); got != target {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"__type":"UnknownOperationException","message":"%s"}`, got)
			return
		}
		v, ok := values[in.SecretId+in.Name]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"not found"}`)
			return
		}
		if in.SecretId != "" {
			json.NewEncoder(w).Encode(map[string]string{"ARN": in.SecretId, "Name": "k", "SecretString": v})
		} else {
			json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]string{"Name": in.Name, "Type": "SecureString", "Value": v}})
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

const (
	wsKey       = "aks_LAMBDA_TEST_WARPSTREAM_KEY_0123456789"
	crdbKey     = "CCDB1_LAMBDA_TEST_COCKROACH_KEY_0123456789"
	scKey       = "LAMBDA-TEST-SPECTRO-KEY-0123456789"
	atlasID     = "mdb_sa_id_LAMBDA_TEST"
	atlasSecret = "mdb_sa_sk_LAMBDA_TEST_ATLAS_SECRET_0123456789"
)

// vendorEnv starts the fake vendor APIs on the sample captures: their
// addresses; the keys are the tests' to give.
func vendorEnv(t testing.TB) map[string]string {
	caps := filepath.Join(repoRoot, "testdata/captures")
	return map[string]string{
		"WARPSTREAM_API_URL":   testkit.FakeWarpStream(t, caps, wsKey, "POST").URL,
		"COCKROACH_API_URL":    testkit.FakeCockroachDB(t, caps, crdbKey).URL,
		"SPECTROCLOUD_API_URL": testkit.FakeSpectroCloud(t, caps, scKey, true).URL,
		"ATLAS_API_URL": testkit.FakeMongoDBAtlas(t, caps, "65a1b2c3d4e5f60718293a4b",
			testkit.AtlasCredentials{ClientID: atlasID, ClientSecret: atlasSecret}).URL,
	}
}

type manifest struct {
	Provider      string `json:"provider"`
	BillingPeriod string `json:"billing_period"`
	Rows          int64  `json:"rows"`
	Reconciled    bool   `json:"reconciled"`
}

func manifests(t testing.TB, out string) map[string]manifest {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(out, "_manifests", "provider=*", "account=*", "*.json"))
	ms := map[string]manifest{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m manifest
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		ms[m.Provider+" "+m.BillingPeriod] = m
	}
	return ms
}

// emf returns the run-level Embedded Metric Format records the function
// printed.
func emf(t testing.TB, stdout string) []map[string]any {
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["_aws"] != nil && rec["Provider"] == nil {
			recs = append(recs, rec)
		}
	}
	return recs
}

// The real bootstrap, driven through the Runtime API: keys from Secrets
// Manager and SSM (read once), a backfill event exports every provider into
// OUTPUT_URI, a bad event is refused, and no key is printed or written.
func TestBootstrapExports(t *testing.T) {
	sm, smCalls := fakeAWS(t, "secretsmanager.GetSecretValue", map[string]string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:ws": wsKey,
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:atlas": atlasSecret})
	ps, psCalls := fakeAWS(t, "AmazonSSM.GetParameter", map[string]string{"/invoice-export/cockroach": crdbKey})
	out := t.TempDir()
	env := vendorEnv(t)
	env["OUTPUT_URI"] = out
	env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = sm.URL
	env["AWS_ENDPOINT_URL_SSM"] = ps.URL
	env["WARPSTREAM_API_KEY_SECRET_ARN"] = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ws"
	env["COCKROACH_API_KEY_PARAMETER"] = "/invoice-export/cockroach"
	env["SPECTROCLOUD_API_KEY"] = scKey
	// MongoDB Atlas's secret setting has its own _SECRET_ARN.
	env["ATLAS_CLIENT_ID"] = atlasID
	env["ATLAS_CLIENT_SECRET_SECRET_ARN"] = "arn:aws:secretsmanager:us-east-1:123456789012:secret:atlas"
	fn := startFunction(t, env)

	a := fn.api.invoke(t, `{"from":"2026-10","to":"2026-11","as_of":"2026-11-03"}`)
	if a.error {
		t.Fatalf("backfill failed: %s\nstdout:\n%s\nstderr:\n%s", a.body, fn.stdout, fn.stderr)
	}
	var res Result
	if err := json.Unmarshal([]byte(a.body), &res); err != nil {
		t.Fatalf("response %s: %v", a.body, err)
	}
	ms := manifests(t, out)
	if len(res.Partitions) != 8 || len(ms) != 8 || res.Unreconciled != 0 {
		t.Fatalf("response %s; manifests %v", a.body, ms)
	}
	var rows int64
	for _, p := range res.Partitions {
		m := ms[p.Provider+" "+p.Period]
		if m.Rows != p.Rows || m.Rows == 0 || !m.Reconciled {
			t.Errorf("%s %s: response says %d rows, manifest %+v", p.Provider, p.Period, p.Rows, m)
		}
		rows += p.Rows
	}
	if raws, _ := filepath.Glob(filepath.Join(out, "raw", "*", res.RunID, "*")); len(raws) != 4 {
		t.Errorf("raw/ of run %s holds %v, want the four vendors", res.RunID, raws)
	}

	// A second invocation in the same process: the keys are not read again.
	a = fn.api.invoke(t, `{"providers":["warpstream"],"from":"2026-10","to":"2026-10","as_of":"2026-11-03"}`)
	if a.error || !strings.Contains(a.body, `"billing_period":"2026-10"`) {
		t.Errorf("second backfill: %s", a.body)
	}
	if smCalls.Load() != 2 || psCalls.Load() != 1 {
		t.Errorf("Secrets Manager called %d times, SSM %d: want once per secret per cold start (2 and 1)", smCalls.Load(), psCalls.Load())
	}

	a = fn.api.invoke(t, `{"from":"2026-10","weeks":3}`)
	if !a.error || !strings.Contains(a.body, "event not understood") || !strings.Contains(a.body, "Scheduled Event") {
		t.Errorf("bad event: %+v", a)
	}

	recs := fn.runRecords(t, 2)
	if len(recs) != 2 || recs[0]["FailedProviders"] != 0.0 || recs[0]["RowsWritten"] != float64(rows) || recs[0]["FunctionName"] != "invoice-export-test" {
		t.Errorf("EMF run records: %v", recs)
	}
	for _, rec := range []string{
		`{"BilledCost":2800.79,"BillingPeriod":"2026-10","Currency":"USD","FunctionName":"invoice-export-test","Provider":"warpstream"`,
		`{"BilledCost":194.06,"BillingPeriod":"2026-10","Currency":"USD","FunctionName":"invoice-export-test","Provider":"mongodbatlas"`,
		`"FunctionName":"invoice-export-test","Provider":"mongodbatlas","RowsWritten":26,"UnreconciledInvoices":0`,
	} {
		if !strings.Contains(fn.stdout.String(), rec) {
			t.Errorf("no metrics record %s in:\n%s", rec, fn.stdout)
		}
	}
	printed := fn.stdout.String() + fn.stderr.String()
	if !strings.Contains(printed, `"run_id":"`+res.RunID+`"`) {
		t.Errorf("the logs do not carry the run id %s:\n%s", res.RunID, printed)
	}
	for _, key := range []string{wsKey, crdbKey, scKey, atlasSecret} {
		if strings.Contains(printed, key) {
			t.Errorf("key %s… printed", key[:8])
		}
		filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(key)) {
					t.Errorf("key %s… written in %s", key[:8], p)
				}
			}
			return nil
		})
	}
}

// A vendor that rejects its key fails the invocation (so Lambda retries and
// the alarms fire) with a message naming it; the others are written.
func TestBootstrapVendorFailure(t *testing.T) {
	out := t.TempDir()
	env := vendorEnv(t)
	env["OUTPUT_URI"] = out
	env["WARPSTREAM_API_KEY"] = wsKey
	env["COCKROACH_API_KEY"] = "CCDB1_not_the_right_key"
	env["SPECTROCLOUD_API_KEY"] = scKey
	fn := startFunction(t, env)
	a := fn.api.invoke(t, `{"as_of":"2026-11-03"}`)
	if !a.error || !strings.Contains(a.body, "cockroachdb") || !strings.Contains(a.body, "401") || strings.Contains(a.body, "CCDB1_not_the_right_key") {
		t.Fatalf("answer: %+v", a)
	}
	ms := manifests(t, out)
	// As of the 3rd, the window is October (restated) and November.
	for _, want := range []string{"warpstream 2026-10", "warpstream 2026-11", "spectrocloud 2026-10", "spectrocloud 2026-11"} {
		if _, ok := ms[want]; !ok || len(ms) != 4 {
			t.Errorf("manifests %v: want %s, and no cockroachdb", ms, want)
		}
	}
	recs := fn.runRecords(t, 1)
	if len(recs) != 1 || recs[0]["FailedProviders"] != 1.0 {
		t.Errorf("EMF run records: %v", recs)
	}
}

// In process: errors a deployment can make are one clear line.
func TestHandlerConfigurationErrors(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"WARPSTREAM_API_KEY": "k"}, "OUTPUT_URI is not set"},
		{map[string]string{"OUTPUT_URI": t.TempDir()}, "no provider to run"},
		{map[string]string{"OUTPUT_URI": t.TempDir(), "WARPSTREAM_API_KEY": "k", "RESTATEMENT_DAYS": "x"}, "RESTATEMENT_DAYS"},
		{map[string]string{"OUTPUT_URI": t.TempDir(), "WARPSTREAM_API_KEY": "k", "MAX_RANGE_MONTHS": "0"}, `MAX_RANGE_MONTHS="0": use a number of months from 1 to 600`},
		{map[string]string{"OUTPUT_URI": t.TempDir(), "WARPSTREAM_API_KEY_SECRET_ARN": "a", "WARPSTREAM_API_KEY_PARAMETER": "b"}, "warpstream: WARPSTREAM_API_KEY_SECRET_ARN and WARPSTREAM_API_KEY_PARAMETER are both set: keep one"},
		{map[string]string{"OUTPUT_URI": t.TempDir(), "WARPSTREAM_API_KEY": "k", "WARPSTREAM_API_URL": "api.warpstream.com"}, `WARPSTREAM_API_URL="api.warpstream.com" is not an absolute http(s) URL`},
		{map[string]string{"OUTPUT_URI": t.TempDir(), "WARPSTREAM_API_KEY": "k", "WARPSTREAM_HTTP_METHOD": "gett"}, `WARPSTREAM_HTTP_METHOD="gett": use GET or POST`},
		{map[string]string{"OUTPUT_URI": "s3://bucket/prefix", "WARPSTREAM_API_KEY": "k", "S3_SSE": "SSE-S3"}, `S3_SSE="SSE-S3": use AES256, aws:kms or aws:kms:KEY`},
	} {
		getenv := func(k string) string { return c.env[k] }
		h := &handler{getenv: getenv, keys: &keys{getenv: getenv}}
		_, err := h.handle(context.Background(), json.RawMessage(`{"as_of":"2026-11-03"}`))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.env, err, c.want)
		}
	}
}

// Near its deadline the run stops by itself, reports the failure and
// leaves no partition behind.
func TestHandlerStopsBeforeTheDeadline(t *testing.T) {
	done := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	defer slow.Close()
	defer close(done)
	out := t.TempDir()
	env := map[string]string{"OUTPUT_URI": out, "WARPSTREAM_API_KEY": wsKey, "WARPSTREAM_API_URL": slow.URL}
	getenv := func(k string) string { return env[k] }
	h := &handler{getenv: getenv, keys: &keys{getenv: getenv}}
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(deadlineMargin+500*time.Millisecond))
	defer cancel()
	start := time.Now()
	_, err := h.handle(ctx, json.RawMessage(`{"as_of":"2026-11-03"}`))
	if err == nil || !strings.Contains(err.Error(), "warpstream") || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("error %v, want warpstream and the deadline", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v: the run did not stop at its deadline", took)
	}
	if ms := manifests(t, out); len(ms) != 0 {
		t.Errorf("manifests written: %v", ms)
	}
	if parts, _ := filepath.Glob(filepath.Join(out, "charge_lines", "*", "*", "*")); len(parts) != 0 {
		t.Errorf("data written: %v", parts)
	}
}

func TestParseEvent(t *testing.T) {
	r, err := parseEvent([]byte(`{"version":"0","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`))
	if err != nil || !r.From.IsZero() || !r.To.IsZero() || !slices.Equal(r.Providers, registry.Slugs()) || r.AsOf != "" {
		t.Errorf("scheduled event: %+v %v", r, err)
	}
	// The template's own payload, and the Scheduler's with an empty detail.
	for _, ev := range []string{`{"detail-type":"Scheduled Event","source":"invoice-export.schedule","detail":{}}`, `{"detail-type":"Scheduled Event"}`} {
		if r, err := parseEvent([]byte(ev)); err != nil || !r.From.IsZero() || !slices.Equal(r.Providers, registry.Slugs()) {
			t.Errorf("%s: %+v %v", ev, r, err)
		}
	}
	if r, err := parseEvent([]byte(`{}`)); err != nil || !r.From.IsZero() || !slices.Equal(r.Providers, registry.Slugs()) || r.AcceptUnreconciled {
		t.Errorf("{}: %+v %v (every field is optional)", r, err)
	}
	if r, err := parseEvent([]byte(`{"accept_unreconciled":true}`)); err != nil || !r.From.IsZero() || !slices.Equal(r.Providers, registry.Slugs()) || !r.AcceptUnreconciled {
		t.Errorf("accept_unreconciled alone: %+v %v (the default window, accepting)", r, err)
	}
	r, err = parseEvent([]byte(`{"from":"2025-01","to":"2025-12","providers":["cockroachdb"],"as_of":"2026-01-02"}`))
	if err != nil || r.From.String() != "2025-01" || r.To.String() != "2025-12" || len(r.Providers) != 1 || r.AsOf != "2026-01-02" {
		t.Errorf("backfill: %+v %v", r, err)
	}
	for ev, want := range map[string]string{
		`[]`:                                  "event not understood",
		``:                                    "event not understood",
		`{"FROM":"2025-01"}`:                  `unknown field "FROM" (field names are matched exactly: write "from")`,
		`{"As_Of":"2026-01-02"}`:              `write "as_of"`,
		`{"from":"2025-01","from":"2025-02"}`: `field "from" appears twice`,
		`{"from":"2025-01"`:                   "event not understood",
		`{"Detail-Type":"Scheduled Event"}`:   `unknown field "Detail-Type"`,
		`{"detail-type":"Scheduled Event","from":"2025-01","to":"2025-03"}`:                       `a "Scheduled Event" means the default window and takes no backfill field, but it carries "from", "to"`,
		`{"detail-type":"Scheduled Event","Providers":["warpstream"]}`:                            `carries "Providers"`,
		`{"detail-type":"Scheduled Event","source":"aws.events","detail":{"as_of":"2026-01-02"}}`: `carries "as_of"`,
		`{"from":1}`:                    "event not understood (from:",
		`"go"`:                          "event not understood",
		`{"from":"2025-13"}`:            "from",
		`{"providers":["aws"]}`:         "unknown provider",
		`{"as_of":"yesterday"}`:         "as_of",
		`{"detail-type":"Other"}`:       "event not understood",
		`{"from":"2025-01"} {"x":1}`:    "event not understood",
		`{"providers":"warpstream"}`:    "event not understood",
		`{"accept_unreconciled":"yes"}`: "event not understood (accept_unreconciled:",
		`{"detail-type":"Scheduled Event","accept_unreconciled":true}`: `carries "accept_unreconciled"`,
		`{"Accept_Unreconciled":true}`:                                 `write "accept_unreconciled"`,
	} {
		if _, err := parseEvent([]byte(ev)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", ev, err, want)
		}
	}
}

// The deployment package must stay small: the arm64 binary as SAM builds it.
func TestBootstrapSize(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("linux/arm64 bootstrap: %.1f MB", float64(st.Size())/1e6)
	if st.Size() > 25e6 {
		t.Errorf("bootstrap is %.1f MB, over the 25 MB budget", float64(st.Size())/1e6)
	}
}

// BenchmarkColdStart times process start to the first invocation/next, the
// part of a cold start the code controls.
func BenchmarkColdStart(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("linux only")
	}
	bin, err := bootstrap()
	if err != nil {
		b.Fatal(err)
	}
	api := newRuntimeAPI(b)
	var total time.Duration
	for b.Loop() {
		cmd := exec.Command(bin)
		cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(api.URL, "http://")}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-api.nexts:
			total += at.Sub(start)
		case <-time.After(10 * time.Second):
			b.Fatal("no invocation/next in 10 s")
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	b.ReportMetric(total.Seconds()*1000/float64(b.N), "ms-to-next")
}

// The real bootstrap writing to a real MinIO: the EventBridge Scheduler's
// Scheduled Event exports the open month (of today: the captures are
// generated for it), a backfill of that month replaces it byte for byte,
// and a malformed event is refused.
func TestBootstrapToMinIO(t *testing.T) {
	m := testkit.StartMinIO(t)
	today := time.Now().UTC()
	month := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	caps := t.TempDir()
	if _, err := gen.Write(caps, gen.Config{Seed: 7, Lines: 3000, Start: month, Pending: true, PendingDays: max(today.Day()-1, 1)}); err != nil {
		t.Fatal(err)
	}
	fn := startFunction(t, map[string]string{
		"WARPSTREAM_API_KEY": wsKey, "WARPSTREAM_API_URL": testkit.FakeWarpStream(t, caps, wsKey, "POST").URL,
		"OUTPUT_URI":          "s3://" + m.Bucket + "/lambda",
		"RESTATEMENT_DAYS":    "0", // the open month only, whatever today is
		"AWS_ENDPOINT_URL_S3": m.Endpoint, "AWS_ACCESS_KEY_ID": os.Getenv("AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY": os.Getenv("AWS_SECRET_ACCESS_KEY"),
	})
	period := month.Format("2006-01")
	unit := load.Unit{Provider: "warpstream", Account: "default", Period: billing.PeriodOf(month)}
	scheduled := `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events",` +
		`"account":"123456789012","time":"` + today.Format(time.RFC3339) + `","region":"us-east-1",` +
		`"resources":["arn:aws:events:us-east-1:123456789012:rule/invoice-export"],"detail":{}}`
	a := fn.api.invoke(t, scheduled)
	if a.error || !strings.Contains(a.body, `"billing_period":"`+period+`"`) {
		t.Fatalf("scheduled event: %+v\n%s", a, fn.stderr)
	}
	data := func() map[string]string {
		dir := t.TempDir()
		m.Download(t, "lambda/", dir)
		sums := map[string]string{}
		for _, k := range m.Keys(t, "lambda/") {
			if strings.HasSuffix(k, ".parquet") {
				b, _ := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(k, "lambda/")))
				sums[k] = fmt.Sprintf("%x", sha256.Sum256(b))
			}
		}
		db := duck.Open(t)
		rows := duck.Value(t, db, `SELECT count(*) FROM `+duck.Table(dir, "charge_lines"))
		if want := fmt.Sprintf(`"rows":%s`, rows); !strings.Contains(a.body, want) {
			t.Errorf("DuckDB reads %s lines from MinIO; the response says %s", rows, a.body)
		}
		return sums
	}
	first := data()
	want := []string{
		"lambda/" + load.DataKey("charge_lines", unit),
		"lambda/" + load.DataKey("invoices", unit),
	}
	if len(first) != 2 || first[want[0]] == "" || first[want[1]] == "" {
		t.Fatalf("Parquet in MinIO: %v", first)
	}
	if !slices.Contains(m.Keys(t, "lambda/_manifests/"), "lambda/"+load.ManifestKey(unit)) {
		t.Errorf("no manifest: %v", m.Keys(t, "lambda/"))
	}
	if raws := m.Keys(t, "lambda/raw/"); len(raws) != 2 {
		t.Errorf("raw responses: %v", raws)
	}

	a = fn.api.invoke(t, `{"from":"`+period+`","to":"`+period+`","providers":["warpstream"]}`)
	if a.error {
		t.Fatalf("backfill: %s", a.body)
	}
	if again := data(); !maps.Equal(first, again) {
		t.Errorf("the backfill changed the data files:\n%v\n%v", first, again)
	}

	a = fn.api.invoke(t, `{"detail-type":"Scheduled Event"`)
	if !a.error || !strings.Contains(a.body, "event not understood") {
		t.Errorf("malformed event: %+v", a)
	}
}

// fakeSecretsManager answers GetSecretValue from values on 127.0.0.1,
// except where deny says the call (the n-th for that secret, from 1) is
// refused with AccessDeniedException, as right after a deploy.
func fakeSecretsManager(t testing.TB, values map[string]string, deny func(id string, n int) bool) (*httptest.Server, func(id string) int) {
	var mu sync.Mutex
	calls := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ SecretId string }
		json.NewDecoder(r.Body).Decode(&in)
		mu.Lock()
		calls[in.SecretId]++
		n := calls[in.SecretId]
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		v, ok := values[in.SecretId]
		switch {
		case r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue":
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"UnknownOperationException","message":"unknown"}`)
		case deny(in.SecretId, n):
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"AccessDeniedException","message":"User is not authorized to perform: secretsmanager:GetSecretValue"}`)
		case !ok:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"not found"}`)
		default:
			json.NewEncoder(w).Encode(map[string]string{"ARN": in.SecretId, "Name": "k", "SecretString": v})
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func(id string) int { mu.Lock(); defer mu.Unlock(); return calls[id] }
}

// providerFailed returns the Failed metric of the last per-provider EMF
// record printed for each provider.
func providerFailed(t testing.TB, stdout string) map[string]float64 {
	failed := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["_aws"] != nil && rec["Provider"] != nil && rec["BillingPeriod"] == nil {
			failed[rec["Provider"].(string)], _ = rec["Failed"].(float64)
		}
	}
	return failed
}

const (
	wsSecret   = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ws"
	crdbSecret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:crdb"
	backfill   = `{"from":"2026-10","to":"2026-11","as_of":"2026-11-03"}`
)

// A one-off Secrets Manager failure (AccessDenied right after a deploy)
// fails that vendor in that invocation only: the others are written, and
// the next invocation in the same container reads the key again and
// succeeds; a key read is then kept.
func TestBootstrapSecretFailsOnce(t *testing.T) {
	sm, calls := fakeSecretsManager(t, map[string]string{wsSecret: wsKey}, func(id string, n int) bool { return n == 1 })
	out := t.TempDir()
	env := vendorEnv(t)
	env["OUTPUT_URI"] = out
	env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = sm.URL
	env["WARPSTREAM_API_KEY_SECRET_ARN"] = wsSecret
	env["COCKROACH_API_KEY"] = crdbKey
	env["SPECTROCLOUD_API_KEY"] = scKey
	fn := startFunction(t, env)

	a := fn.api.invoke(t, backfill)
	if !a.error || !strings.Contains(a.body, "warpstream: reading WARPSTREAM_API_KEY from Secrets Manager "+wsSecret) ||
		!strings.Contains(a.body, "AccessDeniedException") || !strings.Contains(a.body, "the next invocation tries again") ||
		!strings.Contains(a.body, "1 provider/period(s) failed") {
		t.Fatalf("first invocation: %+v\n%s", a, fn.stderr)
	}
	ms := manifests(t, out)
	for _, p := range []string{"cockroachdb", "spectrocloud"} {
		for _, period := range []string{"2026-10", "2026-11"} {
			if _, ok := ms[p+" "+period]; !ok {
				t.Errorf("%s %s not written while warpstream's key failed: %v", p, period, ms)
			}
		}
	}
	if len(ms) != 4 {
		t.Errorf("manifests %v: want cockroachdb and spectrocloud only", ms)
	}
	if recs := fn.runRecords(t, 1); len(recs) != 1 || recs[0]["FailedProviders"] != 1.0 {
		t.Errorf("EMF run records: %v", recs)
	}
	if f := providerFailed(t, fn.stdout.String()); f["warpstream"] != 1 || f["cockroachdb"] != 0 || f["spectrocloud"] != 0 || len(f) != 3 {
		t.Errorf("per-provider Failed: %v", f)
	}

	a = fn.api.invoke(t, backfill)
	if a.error {
		t.Fatalf("second invocation (the secret readable now): %s", a.body)
	}
	if ms := manifests(t, out); len(ms) != 6 {
		t.Errorf("manifests after the second invocation: %v", ms)
	}
	a = fn.api.invoke(t, `{"providers":["warpstream"],"from":"2026-10","to":"2026-10","as_of":"2026-11-03"}`)
	if a.error {
		t.Fatalf("third invocation: %s", a.body)
	}
	if n := calls(wsSecret); n != 2 {
		t.Errorf("Secrets Manager called %d times: want 2 (the failure, then the read that is kept)", n)
	}
}

// A secret that stays unreadable fails its vendor on every invocation and
// only it: the other vendors are written each time, and a key that was
// read is not read again.
func TestBootstrapSecretFailsForOneVendor(t *testing.T) {
	sm, calls := fakeSecretsManager(t, map[string]string{wsSecret: wsKey, crdbSecret: crdbKey}, func(id string, _ int) bool { return id == crdbSecret })
	out := t.TempDir()
	env := vendorEnv(t)
	env["OUTPUT_URI"] = out
	env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = sm.URL
	env["WARPSTREAM_API_KEY_SECRET_ARN"] = wsSecret
	env["COCKROACH_API_KEY_SECRET_ARN"] = crdbSecret
	env["SPECTROCLOUD_API_KEY"] = scKey
	fn := startFunction(t, env)
	for i := 1; i <= 2; i++ {
		a := fn.api.invoke(t, backfill)
		if !a.error || !strings.Contains(a.body, "cockroachdb: reading COCKROACH_API_KEY from Secrets Manager "+crdbSecret) ||
			strings.Contains(a.body, "warpstream") || strings.Contains(a.body, "spectrocloud") {
			t.Fatalf("invocation %d: %+v\n%s", i, a, fn.stderr)
		}
		ms := manifests(t, out)
		if len(ms) != 4 {
			t.Errorf("invocation %d: manifests %v, want warpstream and spectrocloud", i, ms)
		}
		for k := range ms {
			if strings.HasPrefix(k, "cockroachdb") {
				t.Errorf("invocation %d: cockroachdb written without its key: %v", i, ms)
			}
		}
	}
	if recs := fn.runRecords(t, 2); len(recs) != 2 || recs[0]["FailedProviders"] != 1.0 || recs[1]["FailedProviders"] != 1.0 {
		t.Errorf("EMF run records: %v", recs)
	}
	if f := providerFailed(t, fn.stdout.String()); f["cockroachdb"] != 1 || f["warpstream"] != 0 {
		t.Errorf("per-provider Failed: %v", f)
	}
	if calls(wsSecret) != 1 || calls(crdbSecret) != 2 {
		t.Errorf("Secrets Manager calls: warpstream %d (want 1, kept), cockroachdb %d (want 2, retried)", calls(wsSecret), calls(crdbSecret))
	}
	printed := fn.stdout.String() + fn.stderr.String()
	for _, key := range []string{wsKey, crdbKey, scKey} {
		if strings.Contains(printed, key) {
			t.Errorf("key %s… printed", key[:8])
		}
	}
}

// A vendor that keeps a closed month's final invoice but stops sending its
// lines does not replace the reconciled month: the invocation fails (so
// the alarms fire) saying how to accept it, and the partition stays; the
// event field "accept_unreconciled" lets it through, and the log says so.
func TestBootstrapKeepsAReconciledMonth(t *testing.T) {
	caps := testkit.CopyCaptures(t, filepath.Join(repoRoot, "testdata/captures"))
	out := t.TempDir()
	fn := startFunction(t, map[string]string{
		"OUTPUT_URI":         out,
		"WARPSTREAM_API_KEY": wsKey, "WARPSTREAM_API_URL": testkit.FakeWarpStream(t, caps, wsKey, "POST").URL,
	})
	const event = `{"from":"2026-10","to":"2026-10","as_of":"2026-11-03"`
	if a := fn.api.invoke(t, event+`}`); a.error {
		t.Fatalf("good run: %s", a.body)
	}
	before := manifests(t, out)["warpstream 2026-10"]
	testkit.DropLines(t, caps, "2026-10")
	a := fn.api.invoke(t, event+`}`)
	if !a.error || !strings.Contains(a.body, "warpstream 2026-10: not replacing the partition, which reconciled") || !strings.Contains(a.body, `\"accept_unreconciled\": true`) {
		t.Fatalf("answer: %+v", a)
	}
	if m := manifests(t, out)["warpstream 2026-10"]; m != before {
		t.Errorf("the partition changed: %+v, was %+v", m, before)
	}
	a = fn.api.invoke(t, event+`,"accept_unreconciled":true}`)
	if a.error {
		t.Fatalf("accepted: %s", a.body)
	}
	if m := manifests(t, out)["warpstream 2026-10"]; m.Reconciled || m.Rows >= before.Rows {
		t.Errorf("not replaced: %+v, was %+v", m, before)
	}
	// The process logs before it answers, but the pipe may deliver later.
	logged := func() bool {
		out := fn.stdout.String()
		return strings.Contains(out, `"accept_unreconciled":true`) && strings.Contains(out, "replaced a reconciled partition on purpose")
	}
	for deadline := time.Now().Add(5 * time.Second); !logged() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if !logged() {
		t.Errorf("the log does not say the run accepted unreconciled data:\n%s", fn.stdout)
	}
}

// A provider that takes a pair (MongoDB Atlas: a client id in a variable,
// its secret in Secrets Manager) is whole before its secret is read, and
// when the read fails it fails alone: the others are written.
func TestBootstrapPairedSecretFailsAlone(t *testing.T) {
	const atlasArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:atlas"
	sm, calls := fakeSecretsManager(t, map[string]string{atlasArn: atlasSecret}, func(id string, _ int) bool { return id == atlasArn })
	out := t.TempDir()
	env := vendorEnv(t)
	env["OUTPUT_URI"] = out
	env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = sm.URL
	env["WARPSTREAM_API_KEY"] = wsKey
	env["ATLAS_CLIENT_ID"] = atlasID
	env["ATLAS_CLIENT_SECRET_SECRET_ARN"] = atlasArn
	fn := startFunction(t, env)
	a := fn.api.invoke(t, backfill)
	if !a.error || !strings.Contains(a.body, "mongodbatlas: reading ATLAS_CLIENT_SECRET from Secrets Manager "+atlasArn) ||
		strings.Contains(a.body, "is not set") || strings.Contains(a.body, "warpstream") {
		t.Fatalf("%+v\n%s", a, fn.stderr)
	}
	ms := manifests(t, out)
	if len(ms) != 2 || ms["warpstream 2026-10"].Rows == 0 {
		t.Errorf("manifests %v, want warpstream's two", ms)
	}
	// The run's record comes last (cmd/lambda/metrics.go): the providers' are out once it is.
	if recs := fn.runRecords(t, 1); len(recs) != 1 || recs[0]["FailedProviders"] != 1.0 {
		t.Errorf("EMF run records: %v", recs)
	}
	if f := providerFailed(t, fn.stdout.String()); f["mongodbatlas"] != 1 || f["warpstream"] != 0 {
		t.Errorf("per-provider Failed: %v", f)
	}
	if calls(atlasArn) != 1 {
		t.Errorf("Secrets Manager called %d times for the Atlas secret", calls(atlasArn))
	}
}

// However large the range or a field of the event, the answer is small:
// an absurd range is one line saying how to split it, and a message quotes
// at most 100 bytes of any field.
func TestParseEventQuotesShort(t *testing.T) {
	huge := strings.Repeat("x", 20<<20)
	for _, ev := range []string{
		`{"from":"` + huge + `"}`,
		`{"to":"` + huge + `"}`,
		`{"as_of":"` + huge + `"}`,
		`{"providers":["` + huge + `"]}`,
		`{"` + huge + `":1}`,
		`{"` + huge + `":1,"` + huge + `":1}`,
		`{"from":["` + huge + `"]}`,
		`{"from":"` + huge,
	} {
		_, err := parseEvent([]byte(ev))
		if err == nil || len(err.Error()) > 1000 || strings.Contains(err.Error(), huge[:101]) {
			t.Errorf("%.30s…: %d bytes of error: %.300s", ev, len(fmt.Sprint(err)), err)
		}
	}
}

// The real bootstrap: a range of a century, a range over the maximum, a
// 20 MB field and a 36-month backfill whose every period fails are each
// answered with a short error the Runtime API takes.
func TestBootstrapAnswersStaySmall(t *testing.T) {
	env := vendorEnv(t)
	env["OUTPUT_URI"] = t.TempDir()
	env["WARPSTREAM_API_KEY"] = "aks_not_the_right_key_0123456789" // every period fails
	fn := startFunction(t, env)
	for _, c := range []struct {
		event, want string
		lines       int
	}{
		{`{"from":"1926-01","to":"2026-11","as_of":"2026-11-03"}`, "event: from/to: the range starts at 1926-01, before 2000-01", 1},
		{`{"from":"2000-01","as_of":"2026-11-03"}`, "event: from/to: the range 2000-01..2026-11 is 323 months, more than the 36 one run may export (MAX_RANGE_MONTHS): split it into runs of at most 36 months: 2000-01..2002-12, then 2003-01..2005-12, and so on up to 2026-11", 1},
		{`{"from":"` + strings.Repeat("9", 20<<20) + `"}`, `event: from: "9999999999`, 1},
		{`{"from":"2023-12","to":"2026-11","as_of":"2026-11-03","providers":["warpstream"]}`, "36 provider/period(s) failed (the others were written): warpstream 2023-12: ", 11}, // 10 lines, then "and 62 more"
	} {
		a := fn.api.invoke(t, c.event)
		var msg struct{ ErrorMessage string }
		json.Unmarshal([]byte(a.body), &msg)
		t.Logf("%.60s…: answered %d bytes (header %d): %.200s", c.event, len(a.body), a.header, msg.ErrorMessage)
		if !a.error || a.refused || !strings.Contains(msg.ErrorMessage, c.want) {
			t.Errorf("%.60s…: answer %+v\nwant an error saying %q", c.event, a, c.want)
		}
		if n := strings.Count(msg.ErrorMessage, "\n") + 1; n > c.lines || len(a.body) > 8<<10 {
			t.Errorf("%.60s…: %d lines, %d bytes: %s", c.event, n, len(a.body), msg.ErrorMessage)
		}
	}
}
