package invoiceexport_test

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
	"github.com/invoice-export/invoice-export/internal/testkit/duck"
)

// The sample run into a real MinIO through the S3 sink gives the folder
// run's files byte for byte; DuckDB reads the same totals from them; a rerun
// replaces without leftovers.
func TestSampleToMinIO(t *testing.T) {
	m := testkit.StartMinIO(t)
	folder := t.TempDir()
	mustExport(t, run{Out: folder})
	for range 2 {
		res := export(t, run{Out: "s3://" + m.Bucket + "/invoice-export"})
		if !res.OK() {
			t.Fatalf("MinIO run: %v\n%s", res.Err(), res.log)
		}
		if len(res.Partitions) != sampleFiles()/2 {
			t.Errorf("%d partitions written, want %d", len(res.Partitions), sampleFiles()/2)
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
			if !strings.HasSuffix(k, "/account-default.parquet") {
				t.Errorf("not a Parquet part under a table: %s", k)
			}
			parts++
		case strings.HasPrefix(k, "invoice-export/_manifests/"):
			manifests++
		default:
			t.Errorf("unexpected key %s", k)
		}
	}
	// Every provider × 2 periods, each with a lines file and an invoices file.
	if parts != sampleFiles() || manifests != sampleFiles()/2 {
		t.Errorf("%d parts and %d manifests after two runs, want %d and %d:\n%s", parts, manifests, sampleFiles(), sampleFiles()/2, strings.Join(keys, "\n"))
	}
	got := t.TempDir()
	m.Download(t, "invoice-export/", got)
	if s3, f := dataFiles(t, got), dataFiles(t, folder); len(s3) != sampleFiles() || !mapsEqual(s3, f) {
		t.Fatalf("MinIO and folder files differ:\n%v\n%v", s3, f)
	}
	db := duck.Open(t)
	totals := func(dest string) [][]string {
		return duck.Rows(t, db, `SELECT provider, billing_period, BillingCurrency, count(*), sum(BilledCost)::VARCHAR FROM `+
			duck.Table(dest, "charge_lines")+` GROUP BY ALL ORDER BY ALL`)
	}
	if a, b := totals(got), totals(folder); len(a) < 6 || !slices.EqualFunc(a, b, slices.Equal) {
		t.Errorf("DuckDB reads from MinIO %v\nfrom the folder %v", a, b)
	}
}

// With S3_SSE=AES256, on a MinIO that serves encryption (a KMS key), every
// object the run writes asks for SSE-S3 (a stock MinIO refuses such
// objects: load's TestS3ExplicitSSE; an S3_SSE the sink does not know is
// one line before anything runs: cmd/local's TestBadConfiguration).
func TestSampleToMinIOWithSSE(t *testing.T) {
	m := testkit.StartMinIO(t, testkit.WithKMS())
	mustExport(t, run{Env: map[string]string{"S3_SSE": "AES256"}, Out: "s3://" + m.Bucket + "/sse"})
	keys := m.Keys(t, "sse/")
	// Every provider's two periods: a lines file, an invoices file, a manifest.
	if len(keys) != sampleFiles()/2*3 {
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
}

// A live run to MinIO lands the raw responses under raw/<date>/<run id>/;
// copied down, they replay into the same data files.
func TestLiveToMinIOReplaysFromRaw(t *testing.T) {
	m := testkit.StartMinIO(t)
	env := fakeAPIs(t, func(_, url string) string { return url })
	res := export(t, run{Env: env, Live: true, Out: "s3://" + m.Bucket + "/live"})
	if !res.OK() {
		t.Fatalf("live run: %v\n%s", res.Err(), res.log)
	}
	live := t.TempDir()
	m.Download(t, "live/", live)
	runs, _ := filepath.Glob(filepath.Join(live, "raw", "*", "*"))
	if len(runs) != 1 {
		t.Fatalf("raw/<date>/<run id>: %v", runs)
	}
	replay := t.TempDir()
	mustExport(t, run{In: runs[0], Out: replay})
	if l, r := dataFiles(t, live), dataFiles(t, replay); len(l) != sampleFiles() || !mapsEqual(l, r) {
		t.Fatalf("live (MinIO) and replay of its raw/ differ:\n%v\n%v", l, r)
	}
}
