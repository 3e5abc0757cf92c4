package testkit

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// MinIO is a real MinIO server on 127.0.0.1 with one empty bucket, for the
// test that started it.
type MinIO struct {
	Endpoint string // http://127.0.0.1:port
	Bucket   string
	Client   *s3.Client
	proc     *os.Process
}

const (
	minioUser     = "invoice-export"
	minioPassword = "invoice-export-test-secret"
)

// MinIOOption changes the server StartMinIO starts.
type MinIOOption func(*minioConfig)

type minioConfig struct{ kms bool }

// WithKMS gives the server a KMS key (MINIO_KMS_SECRET_KEY, named
// MinIOKMSKey), so that it serves server-side encryption (SSE-S3, and
// SSE-KMS with that key). Without it the server is a stock MinIO, as
// `minio server DIR` starts, which refuses objects asking for encryption.
func WithKMS() MinIOOption { return func(c *minioConfig) { c.kms = true } }

// MinIOKMSKey is the name of the KMS key WithKMS gives the server.
const MinIOKMSKey = "invoice-export-test"

// StartMinIO starts the minio binary that `make minio` installs, points the
// AWS SDK's environment at it (t.Setenv) and stops it when the test ends.
func StartMinIO(t testing.TB, opts ...MinIOOption) *MinIO {
	t.Helper()
	var conf minioConfig
	for _, o := range opts {
		o(&conf)
	}
	bin, err := exec.LookPath("minio")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		bin = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "minio")
		if _, err := os.Stat(bin); err != nil {
			// A plain machine skips, CI never: make test sets CI.
			if os.Getenv("CI") == "" {
				t.Skip("no minio server, so this test is skipped: run `make minio` (it builds the pinned MinIO into $(go env GOPATH)/bin), or set CI=1 to make this a failure")
			}
			t.Fatalf("no minio server (CI is set, so this fails rather than skips): run `make minio` (it builds the pinned MinIO into $(go env GOPATH)/bin)")
		}
	}
	addr, console := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin, "server", t.TempDir(), "--address", addr, "--console-address", console, "--quiet")
	// The caller's MINIO_* settings (a KMS key, say) would change the server.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "MINIO_") })
	cmd.Env = append(cmd.Env,
		"MINIO_ROOT_USER="+minioUser,
		"MINIO_ROOT_PASSWORD="+minioPassword,
		"MINIO_BROWSER=off",
	)
	if conf.kms {
		key := make([]byte, 32)
		rand.Read(key)
		cmd.Env = append(cmd.Env, "MINIO_KMS_SECRET_KEY="+MinIOKMSKey+":"+base64.StdEncoding.EncodeToString(key))
	}
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting minio: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	m := &MinIO{Endpoint: "http://" + addr, Bucket: "exports", proc: cmd.Process}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(m.Endpoint + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			t.Fatalf("minio exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("minio did not become live in 30 s: %s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Setenv("AWS_ENDPOINT_URL_S3", m.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", minioUser)
	t.Setenv("AWS_SECRET_ACCESS_KEY", minioPassword)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	m.Client = s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(m.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(minioUser, minioPassword, ""),
	})
	if _, err := m.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(m.Bucket)}); err != nil {
		t.Fatalf("creating bucket: %v", err)
	}
	return m
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Keys lists every key under prefix in the bucket, in order.
func (m *MinIO) Keys(t testing.TB, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(m.Client, &s3.ListObjectsV2Input{Bucket: aws.String(m.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// Download copies every object under prefix into dir (DuckDB reads Parquet
// from disk only: no httpfs extension can be installed here), keys relative
// to prefix.
func (m *MinIO) Download(t testing.TB, prefix, dir string) {
	t.Helper()
	for _, k := range m.Keys(t, prefix) {
		out, err := m.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(m.Bucket), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(k, prefix)))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(dst)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(f, out.Body)
		out.Body.Close()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(fmt.Errorf("downloading %s: %w", k, err))
		}
	}
}

// Freeze stops the server (SIGSTOP) as a hung endpoint would be: its port
// still takes connections (the kernel completes the handshakes) and
// buffers what is sent, but nothing answers. Thaw, or the test's end,
// resumes it.
func (m *MinIO) Freeze(t testing.TB) {
	t.Helper()
	if err := m.proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("freezing minio: %v", err)
	}
	t.Cleanup(m.Thaw)
	// The signal is delivered asynchronously: on a busy machine the server
	// could answer a few more requests. Wait until it is stopped ("T").
	stat := fmt.Sprintf("/proc/%d/stat", m.proc.Pid)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		b, err := os.ReadFile(stat)
		if err != nil {
			time.Sleep(100 * time.Millisecond) // no /proc: give the signal time
			return
		}
		// pid (comm) state ...: the state follows the last ')'.
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && strings.HasPrefix(string(b[i+1:]), " T") {
			return
		}
	}
	t.Fatal("minio did not stop within 5 s of SIGSTOP")
}

// Thaw resumes a frozen server (SIGCONT).
func (m *MinIO) Thaw() { m.proc.Signal(syscall.SIGCONT) }

// Upload copies every file under dir into the bucket under prefix, keys
// relative to dir.
func (m *MinIO) Upload(t testing.TB, dir, prefix string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(dir, p)
		_, err = m.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(m.Bucket), Key: aws.String(prefix + filepath.ToSlash(rel)), Body: f})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
