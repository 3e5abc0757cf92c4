package load

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/transform"
)

// sdkDefaults is the AWS configuration cmd/local gives an s3:// sink: the
// SDK's defaults (the tests' MinIO sets its environment).
func sdkDefaults(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }

func openMinIO(t *testing.T) (*testkit.MinIO, Sink) {
	t.Helper()
	m := testkit.StartMinIO(t)
	sink, err := Open(context.Background(), "s3://"+m.Bucket+"/exports/", Options{AWS: sdkDefaults})
	if err != nil {
		t.Fatal(err)
	}
	if got := sink.String(); got != "s3://exports/exports" {
		t.Errorf("String() = %q", got)
	}
	return m, sink
}

func put(t *testing.T, sink Sink, key string, data []byte) {
	t.Helper()
	obj, err := sink.Create(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := obj.Commit(); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, sink Sink, key string) []byte {
	t.Helper()
	r, err := sink.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestS3SinkContract runs on a stock MinIO (no KMS key), which refuses
// any object asking for encryption: by default the sink asks for none.
func TestS3SinkContract(t *testing.T) {
	m, sink := openMinIO(t)
	ctx := context.Background()

	put(t, sink, "a/small.txt", []byte("hello"))
	if got := string(get(t, sink, "a/small.txt")); got != "hello" {
		t.Errorf("small object = %q", got)
	}
	head, err := m.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(m.Bucket), Key: aws.String("exports/a/small.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if head.ServerSideEncryption != "" {
		t.Errorf("ServerSideEncryption = %q on a stock MinIO, want none", head.ServerSideEncryption)
	}

	// Three parts and a bit, written in odd-sized pieces: a multipart upload
	// that must come back byte for byte.
	big := make([]byte, 3*s3PartSize+12345)
	rand.NewChaCha8([32]byte{1}).Read(big)
	obj, err := sink.Create(ctx, "a/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	for rest := big; len(rest) > 0; {
		n := min(len(rest), 777_777)
		if _, err := obj.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := obj.Commit(); err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(get(t, sink, "a/big.bin")) != sha256.Sum256(big) {
		t.Error("the multipart object does not round-trip")
	}
	head, err = m.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(m.Bucket), Key: aws.String("exports/a/big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if etag := aws.ToString(head.ETag); !strings.Contains(etag, "-4") {
		t.Errorf("ETag %s: want a 4-part multipart upload", etag)
	}

	// An aborted object, multipart or not, leaves nothing behind.
	for _, size := range []int{10, 2*s3PartSize + 1} {
		obj, err := sink.Create(ctx, "a/aborted.bin")
		if err != nil {
			t.Fatal(err)
		}
		obj.Write(big[:size])
		obj.Abort()
	}
	if _, err := sink.Open(ctx, "a/aborted.bin"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("aborted object: Open error = %v, want fs.ErrNotExist", err)
	}
	uploads, err := m.Client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(m.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(uploads.Uploads) != 0 {
		t.Errorf("%d multipart uploads left pending", len(uploads.Uploads))
	}

	// List pages past 1000 keys and sorts; Delete batches past 1000.
	var want []string
	for i := range 1003 {
		k := fmt.Sprintf("many/%04d", 1002-i)
		put(t, sink, k, nil)
		want = append(want, k)
	}
	slices.Sort(want)
	keys, err := sink.List(ctx, "many/")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("List: %d keys, first %q; want %d", len(keys), keys[:min(3, len(keys))], len(want))
	}
	if err := sink.Delete(ctx, append(keys, "many/missing")...); err != nil {
		t.Fatal(err)
	}
	if keys, _ := sink.List(ctx, "many/"); len(keys) != 0 {
		t.Errorf("%d keys left after Delete", len(keys))
	}
	if keys := m.Keys(t, ""); !slices.Equal(keys, []string{"exports/a/big.bin", "exports/a/small.txt"}) {
		t.Errorf("bucket holds %q", keys)
	}
}

func TestS3ClearErrors(t *testing.T) {
	m := testkit.StartMinIO(t)
	sink, err := Open(context.Background(), "s3://no-such-bucket/x", Options{AWS: sdkDefaults})
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := sink.Create(context.Background(), "k")
	obj.Write([]byte("data"))
	err = obj.Commit()
	if err == nil || !strings.Contains(err.Error(), "s3://no-such-bucket/x/k") || !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Errorf("missing bucket: %v", err)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-value")
	sink, _ = Open(context.Background(), "s3://"+m.Bucket, Options{AWS: sdkDefaults})
	_, err = sink.List(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "check the AWS credentials") || strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("bad credentials: %v", err)
	}
	if _, err := Open(context.Background(), "s3:///prefix", Options{AWS: sdkDefaults}); err == nil {
		t.Error("s3:///prefix: no error")
	}
	// The commands say how an s3:// sink gets its configuration.
	if _, err := Open(context.Background(), "s3://"+m.Bucket, Options{}); err == nil || !strings.Contains(err.Error(), "no AWS configuration") {
		t.Errorf("no AWS configuration: %v", err)
	}
}

// The partition store behaves on S3 as on a folder: the legacy takeover's
// order (marker, old parts gone, data, manifest, old manifest gone), the
// same bytes as a folder gives.
func TestS3Partitions(t *testing.T) {
	_, sink := openMinIO(t)
	ctx := context.Background()
	put(t, sink, "charge_lines/provider=warpstream/billing_period=2026-10/part-00003.parquet", []byte("stale"))
	order := &orderSink{Sink: sink}
	lines := syntheticLines(5000)
	m := writePartition(t, order, lines, []transform.Invoice{sampleInvoice})
	want := []string{
		"commit " + ManifestKey(october10), // the marker
		"delete charge_lines/provider=warpstream/billing_period=2026-10/part-00003.parquet",
		"commit " + DataKey(ChargeLines.Name, october10),
		"commit " + DataKey(Invoices.Name, october10),
		"commit " + ManifestKey(october10),
		"delete " + LegacyManifestKey("warpstream", october),
	}
	if !slices.Equal(order.log, want) {
		t.Errorf("order = %q\nwant    %q", order.log, want)
	}
	keys, err := sink.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{
		ManifestKey(october10),
		DataKey(ChargeLines.Name, october10),
		DataKey(Invoices.Name, october10),
	}; !slices.Equal(keys, want) {
		t.Errorf("keys = %q", keys)
	}
	if m.Rows != 5000 {
		t.Errorf("manifest rows = %d", m.Rows)
	}
	folder, _ := NewFolder(t.TempDir())
	fm := writePartition(t, folder, lines, []transform.Invoice{sampleInvoice})
	for i, f := range m.Files {
		got := get(t, sink, f.Key)
		if fmt.Sprintf("%x", sha256.Sum256(got)) != f.SHA256 || f.SHA256 != fm.Files[i].SHA256 {
			t.Errorf("%s: S3 bytes differ from the manifest or from the folder's", f.Key)
		}
	}
	if !bytes.Contains(get(t, sink, ManifestKey(october10)), []byte(m.Files[0].SHA256)) {
		t.Error("the manifest on S3 does not list the file's sha256")
	}
}

// A write whose context is cancelled mid-upload leaves no multipart upload
// pending, whether the object is then aborted or committed: the uploader
// aborts with a live context (the SDK aborts on the context it was given,
// and with the cancelled one the abort failed silently). Commit reports
// the cancellation, and no object appears.
func TestS3CancelledUploadLeavesNoParts(t *testing.T) {
	m, sink := openMinIO(t)
	big := make([]byte, 2*s3PartSize+1)
	rand.NewChaCha8([32]byte{2}).Read(big)
	for _, end := range []string{"Abort", "Commit"} {
		ctx, cancel := context.WithCancel(context.Background())
		obj, err := sink.Create(ctx, "cancelled/"+end+".bin")
		if err != nil {
			t.Fatal(err)
		}
		// Two parts read: the multipart upload exists on the server.
		if _, err := obj.Write(big); err != nil {
			t.Fatal(err)
		}
		uploads, err := m.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(m.Bucket)})
		if err != nil {
			t.Fatal(err)
		}
		if len(uploads.Uploads) != 1 {
			t.Fatalf("%s: %d multipart uploads in progress, want 1 (the test no longer exercises a multipart upload)", end, len(uploads.Uploads))
		}
		cancel()
		if end == "Abort" {
			obj.Abort()
		} else if err := obj.Commit(); !errors.Is(err, context.Canceled) {
			t.Errorf("Commit after cancel: %v, want context.Canceled", err)
		}
		uploads, err = m.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(m.Bucket)})
		if err != nil {
			t.Fatal(err)
		}
		if len(uploads.Uploads) != 0 {
			t.Errorf("%s after cancel: %d multipart uploads left pending", end, len(uploads.Uploads))
		}
	}
	if keys := m.Keys(t, ""); len(keys) != 0 {
		t.Errorf("cancelled uploads left objects: %q", keys)
	}
}

// On S3 too, the run's context ending mid-commit does not cut the commit:
// the invoices upload, created before, completes, then the manifest.
func TestS3CancelMidCommitFinishesTheCommit(t *testing.T) {
	m, sink := openMinIO(t)
	writePartition(t, sink, syntheticLines(50), []transform.Invoice{sampleInvoice})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hooked := &hookSink{Sink: sink, after: func(key string, _ int) {
		if key == linesKey {
			cancel()
		}
	}}
	man, err := export(ctx, hooked, "run-2", syntheticLines(5000), []transform.Invoice{sampleInvoice})
	if err != nil {
		t.Fatalf("a commit cut by the run's end: %v", err)
	}
	dir := t.TempDir()
	m.Download(t, "exports/", dir)
	if got := assertMarkerOrConsistent(t, dir); got.Replacing || got.RunID != "run-2" || !slices.Equal(got.Files, man.Files) {
		t.Errorf("manifest = %+v", got)
	}
	uploads, err := m.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(m.Bucket)})
	if err != nil || len(uploads.Uploads) != 0 {
		t.Errorf("pending uploads: %v %v", uploads, err)
	}
}

// Without credentials the sink says which variables to set.
func TestS3WithoutCredentials(t *testing.T) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1")
	t.Setenv("AWS_REGION", "us-east-1")
	sink, err := Open(context.Background(), "s3://bucket/prefix", Options{AWS: sdkDefaults})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sink.List(context.Background(), "_manifests/")
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE") {
		t.Fatalf("err = %v", err)
	}
}

// S3_SSE asks for encryption on every object, single and multipart, on a
// MinIO with a KMS key: AES256 (SSE-S3), or aws:kms with a named key. On
// a stock MinIO an explicit setting fails with a line saying what to do.
func TestS3ExplicitSSE(t *testing.T) {
	m := testkit.StartMinIO(t, testkit.WithKMS())
	ctx := context.Background()
	big := make([]byte, s3PartSize+1) // two parts: CreateMultipartUpload carries the setting
	for _, c := range []struct {
		env     string
		want    types.ServerSideEncryption
		wantKey string
	}{
		{"AES256", types.ServerSideEncryptionAes256, ""},
		{"aws:kms:" + testkit.MinIOKMSKey, types.ServerSideEncryptionAwsKms, testkit.MinIOKMSKey},
	} {
		opt, err := OptionsFromEnv(func(string) string { return c.env })
		if err != nil {
			t.Fatal(err)
		}
		opt.AWS = sdkDefaults
		sink, err := Open(ctx, "s3://"+m.Bucket+"/sse", opt)
		if err != nil {
			t.Fatal(err)
		}
		for key, data := range map[string][]byte{"small": []byte("hello"), "big": big} {
			put(t, sink, key, data)
			if got := get(t, sink, key); !bytes.Equal(got, data) {
				t.Errorf("%s %s: read back %d bytes", c.env, key, len(got))
			}
			head, err := m.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(m.Bucket), Key: aws.String("sse/" + key)})
			if err != nil {
				t.Fatal(err)
			}
			if head.ServerSideEncryption != c.want || !strings.HasSuffix(aws.ToString(head.SSEKMSKeyId), c.wantKey) {
				t.Errorf("S3_SSE=%s, %s: ServerSideEncryption %q, key %q", c.env, key, head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId))
			}
		}
	}

	stock := testkit.StartMinIO(t)
	opt, _ := OptionsFromEnv(func(string) string { return "AES256" })
	opt.AWS = sdkDefaults
	sink, err := Open(ctx, "s3://"+stock.Bucket+"/sse", opt)
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := sink.Create(ctx, "refused")
	obj.Write([]byte("hello"))
	if err := obj.Commit(); err == nil || !strings.Contains(err.Error(), "unset S3_SSE") || strings.Contains(err.Error(), "\n") {
		t.Errorf("AES256 on a stock MinIO: %v", err)
	}
}

func TestSSESetting(t *testing.T) {
	for v, want := range map[string]SSE{
		"":        {},
		"AES256":  {Algorithm: types.ServerSideEncryptionAes256},
		"aws:kms": {Algorithm: types.ServerSideEncryptionAwsKms},
		"aws:kms:arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab": {Algorithm: types.ServerSideEncryptionAwsKms,
			KMSKeyID: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
	} {
		if o, err := OptionsFromEnv(func(string) string { return v }); err != nil || o.SSE != want {
			t.Errorf("S3_SSE=%q: %+v %v", v, o.SSE, err)
		}
	}
	for _, v := range []string{"aes256", "AES", "aws:kms:", "SSE-S3", "none"} {
		_, err := OptionsFromEnv(func(string) string { return v })
		if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("S3_SSE=%q: use AES256, aws:kms or aws:kms:KEY", v)) {
			t.Errorf("S3_SSE=%q: %v", v, err)
		}
	}
}
