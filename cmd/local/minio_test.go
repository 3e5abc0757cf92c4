package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/invoice-export/invoice-export/internal/testkit"
)

// The sample run into a real MinIO through the S3 sink gives the folder
// run's files byte for byte; DuckDB reads the same totals from them; a rerun
// replaces without leftovers.
func TestSampleToMinIO(t *testing.T) {
	m := testkit.StartMinIO(t)
	folder := t.TempDir()
	if code, _, stderr := runLocal(t, nil, "--out", folder); code != 0 {
		t.Fatalf("folder run: exit %d: %s", code, stderr)
	}
	for range 2 {
		code, stdout, stderr := runLocal(t, nil, "--out", "s3://"+m.Bucket+"/invoice-export")
		if code != 0 {
			t.Fatalf("MinIO run: exit %d\n%s\n%s", code, stdout, stderr)
		}
		if !strings.Contains(stdout, "s3://"+m.Bucket+"/invoice-export") {
			t.Errorf("the summary does not say where it wrote:\n%s", stdout)
		}
	}
	keys := m.Keys(t, "invoice-export/")
	// A stock MinIO (no KMS key) takes the objects because they ask for no
	// encryption.
	head, err := m.Client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(m.Bucket), Key: aws.String(keys[0])})
	if err != nil || head.ServerSideEncryption != "" {
		t.Errorf("%s: %v, ServerSideEncryption %q", keys[0], err, head.ServerSideEncryption)
	}
	var parts, manifests int
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, "invoice-export/charge_lines/"), strings.HasPrefix(k, "invoice-export/invoices/"):
			if !strings.HasSuffix(k, "/part-00000.parquet") {
				t.Errorf("not a Parquet part under a table: %s", k)
			}
			parts++
		case strings.HasPrefix(k, "invoice-export/_manifests/"):
			manifests++
		default:
			t.Errorf("unexpected key %s", k)
		}
	}
	// 3 providers × 2 periods, each with a lines file and an invoices file.
	if parts != 12 || manifests != 6 {
		t.Errorf("%d parts and %d manifests after two runs, want 12 and 6:\n%s", parts, manifests, strings.Join(keys, "\n"))
	}
	got := t.TempDir()
	m.Download(t, "invoice-export/", got)
	if s3, f := dataFiles(t, got), dataFiles(t, folder); len(s3) != 12 || !mapsEqual(s3, f) {
		t.Fatalf("MinIO and folder files differ:\n%v\n%v", s3, f)
	}
	db := testkit.DuckDB(t)
	totals := func(dest string) [][]string {
		return testkit.Rows(t, db, `SELECT provider, billing_period, BillingCurrency, count(*), sum(BilledCost)::VARCHAR FROM `+
			testkit.Table(dest, "charge_lines")+` GROUP BY ALL ORDER BY ALL`)
	}
	if a, b := totals(got), totals(folder); len(a) < 6 || !slices.EqualFunc(a, b, slices.Equal) {
		t.Errorf("DuckDB reads from MinIO %v\nfrom the folder %v", a, b)
	}
}

// With S3_SSE=AES256, on a MinIO that serves encryption (a KMS key), every
// object the run writes asks for SSE-S3; a stock MinIO refuses such
// objects, and an S3_SSE the sink does not know is one line before
// anything runs.
func TestSampleToMinIOWithSSE(t *testing.T) {
	m := testkit.StartMinIO(t, testkit.WithKMS())
	env := map[string]string{"S3_SSE": "AES256"}
	if code, stdout, stderr := runLocal(t, env, "--out", "s3://"+m.Bucket+"/sse"); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	keys := m.Keys(t, "sse/")
	if len(keys) != 18 {
		t.Errorf("%d objects: %v", len(keys), keys)
	}
	for _, k := range keys {
		head, err := m.Client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(m.Bucket), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		if head.ServerSideEncryption != types.ServerSideEncryptionAes256 {
			t.Errorf("%s: ServerSideEncryption %q", k, head.ServerSideEncryption)
		}
	}
	code, stdout, stderr := runLocal(t, map[string]string{"S3_SSE": "aes-256"}, "--out", "s3://"+m.Bucket+"/sse")
	if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, `invoice-export: S3_SSE="aes-256": use AES256, aws:kms or aws:kms:KEY`) {
		t.Errorf("a bad S3_SSE: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// A live run to MinIO lands the raw responses under raw/<date>/<run id>/;
// copied down, they replay into the same data files.
func TestLiveToMinIOReplaysFromRaw(t *testing.T) {
	m := testkit.StartMinIO(t)
	caps := filepath.Join(repoRoot, "testdata/captures")
	const (
		wsKey   = "aks_minio_test_warpstream_key"
		crdbKey = "CCDB1_minio_test_cockroach_key"
		scKey   = "minio-test-spectro-key"
	)
	ws := testkit.FakeWarpStream(t, caps, wsKey, "POST")
	crdb := testkit.FakeCockroachDB(t, caps, crdbKey)
	sc := testkit.FakeSpectroCloud(t, caps, scKey, true)
	env := map[string]string{
		"WARPSTREAM_API_KEY": wsKey, "WARPSTREAM_API_URL": ws.URL,
		"COCKROACH_API_KEY": crdbKey, "COCKROACH_API_URL": crdb.URL,
		"SPECTROCLOUD_API_KEY": scKey, "SPECTROCLOUD_API_URL": sc.URL,
	}
	code, stdout, stderr := runLocal(t, env, "--live", "--as-of", sampleAsOf, "--out", "s3://"+m.Bucket+"/live")
	if code != 0 {
		t.Fatalf("live run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	live := t.TempDir()
	m.Download(t, "live/", live)
	runs, _ := filepath.Glob(filepath.Join(live, "raw", "*", "*"))
	if len(runs) != 1 {
		t.Fatalf("raw/<date>/<run id>: %v", runs)
	}
	replay := t.TempDir()
	if code, _, stderr := runLocal(t, nil, "--in", runs[0], "--as-of", sampleAsOf, "--out", replay); code != 0 {
		t.Fatalf("replay of raw/: exit %d: %s", code, stderr)
	}
	if l, r := dataFiles(t, live), dataFiles(t, replay); len(l) != 12 || !mapsEqual(l, r) {
		t.Fatalf("live (MinIO) and replay of its raw/ differ:\n%v\n%v", l, r)
	}
}
