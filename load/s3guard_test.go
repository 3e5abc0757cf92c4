package load

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/invoice-export/invoice-export/transform"
)

// shortStalls sets the sink's stall limits for one test (sinks opened
// after it use them).
func shortStalls(t *testing.T, upload, call time.Duration) StallLimits {
	old := S3Stall
	S3Stall = StallLimits{Upload: upload, Call: call}
	t.Cleanup(func() { S3Stall = old })
	return S3Stall
}

// The defaults keep a run on a frozen endpoint within 3 minutes: each
// call gets two stalled attempts of at most a minute, and the first call
// to give up stops every other (TestS3FrozenEndpoint).
func TestStallDefaults(t *testing.T) {
	if S3Stall.Upload != time.Minute || S3Stall.Call != 30*time.Second {
		t.Errorf("limits %+v, want uploads 60 s and other calls 30 s", S3Stall)
	}
	if b := S3Stall.Bound(); b != 2*time.Minute+2*time.Second || b > 3*time.Minute {
		t.Errorf("bound %v", b)
	}
}

// A frozen MinIO (SIGSTOP: connections are taken, nothing answers): a
// call gives up after two stalled attempts of its limit, with one error
// saying which call made no progress for how long, where; from then on
// the sink is stopped and every call fails at once, a call already in
// flight included.
func TestS3FrozenEndpoint(t *testing.T) {
	limits := shortStalls(t, 2*time.Second, 500*time.Millisecond)
	m, sink := openMinIO(t)
	put(t, sink, "before.txt", []byte("written before the freeze"))
	m.Freeze(t)

	// An upload (PutObject: the upload limit) and a listing (the call
	// limit) at once: the listing gives up first and stops the sink, which
	// cuts the upload.
	upload := make(chan error, 1)
	var uploadTook time.Duration
	go func() {
		start := time.Now()
		obj, err := sink.Create(context.Background(), "during.txt")
		if err == nil {
			obj.Write([]byte("written during the freeze"))
			err = obj.Commit()
		}
		uploadTook = time.Since(start)
		upload <- err
	}()
	start := time.Now()
	_, err := sink.List(context.Background(), "")
	took := time.Since(start)
	if !errors.Is(err, ErrStorageUnresponsive) || !strings.Contains(err.Error(), "ListObjectsV2 to "+m.Endpoint+" made no progress for 500ms, 2 times in a row") ||
		!strings.Contains(err.Error(), "nothing more is written to s3://exports/exports this run") || strings.Contains(err.Error(), "\n") {
		t.Errorf("List: %v", err)
	}
	if took < 2*limits.Call || took > 2*limits.Call+stallBackoff+time.Second {
		t.Errorf("List gave up after %v, want two attempts of %v and a backoff", took, limits.Call)
	}
	if err := <-upload; !errors.Is(err, ErrStorageUnresponsive) || !strings.Contains(err.Error(), "uploading s3://exports/exports/during.txt: ") {
		t.Errorf("upload in flight: %v", err)
	}
	if uploadTook >= 2*limits.Upload {
		t.Errorf("the upload in flight took %v: the stop did not cut it", uploadTook)
	}

	start = time.Now()
	if _, err := sink.Create(context.Background(), "after.txt"); !errors.Is(err, ErrStorageUnresponsive) {
		t.Errorf("Create after the stop: %v", err)
	}
	if _, err := sink.Open(context.Background(), "before.txt"); !errors.Is(err, ErrStorageUnresponsive) {
		t.Errorf("Open after the stop: %v", err)
	}
	if err := sink.Delete(context.Background(), "before.txt"); !errors.Is(err, ErrStorageUnresponsive) {
		t.Errorf("Delete after the stop: %v", err)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("calls after the stop took %v, want at once", took)
	}
}

// An upload to a frozen endpoint gets the upload limit: two stalled
// attempts of it.
func TestS3FrozenUpload(t *testing.T) {
	limits := shortStalls(t, 1500*time.Millisecond, 300*time.Millisecond)
	m, sink := openMinIO(t)
	m.Freeze(t)
	start := time.Now()
	obj, err := sink.Create(context.Background(), "frozen.txt")
	if err != nil {
		t.Fatal(err)
	}
	obj.Write([]byte("a small object: one PutObject"))
	err = obj.Commit()
	took := time.Since(start)
	if !errors.Is(err, ErrStorageUnresponsive) || !strings.Contains(err.Error(), "PutObject to "+m.Endpoint+" made no progress for 1.5s, 2 times in a row") {
		t.Errorf("Commit: %v", err)
	}
	if took < 2*limits.Upload || took > limits.Bound()+time.Second {
		t.Errorf("the upload gave up after %v, want two attempts of %v", took, limits.Upload)
	}
}

// slowS3 serves GETs of body piece by piece with pauses; a key with
// "stall" in it stops halfway instead.
func slowS3(t *testing.T, piece int, pause time.Duration, body []byte) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		for off := 0; off < len(body); off += piece {
			w.Write(body[off:min(off+piece, len(body))])
			w.(http.Flusher).Flush()
			if strings.Contains(r.URL.Path, "stall") && off >= len(body)/2 {
				<-r.Context().Done()
				return
			}
			time.Sleep(pause)
		}
	}))
	t.Cleanup(srv.Close)
	setS3Env(t, srv.URL)
}

func setS3Env(t *testing.T, endpoint string) {
	t.Setenv("AWS_ENDPOINT_URL_S3", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

// slowTaker is an S3 endpoint in process, with no kernel buffer between
// the client and it (a socket buffer takes megabytes at once, and the
// client sees no progress while the endpoint drains them): it takes an
// upload piece by piece with pauses, or stops taking it halfway.
type slowTaker struct {
	piece int
	pause time.Duration
	stall bool
}

func (s slowTaker) Do(r *http.Request) (*http.Response, error) {
	buf := make([]byte, s.piece)
	for n := 0; ; n++ {
		if s.stall && n == 4 {
			<-r.Context().Done()
			return nil, r.Context().Err()
		}
		if _, err := io.ReadFull(r.Body, buf); err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		} else if err != nil {
			return nil, err
		}
		time.Sleep(s.pause)
	}
	h := http.Header{"Etag": {`"0"`}}
	return &http.Response{StatusCode: 200, Header: h, Body: http.NoBody, Request: r}, nil
}

// Slow is not stalled: an upload the endpoint takes slowly, a download it
// sends slowly and a reader that pauses between reads all last several
// times the limit and go through; an upload or a download that stops
// halfway fails after the limit, naming the call.
func TestS3SlowButMovingIsNotCut(t *testing.T) {
	limits := shortStalls(t, 500*time.Millisecond, 500*time.Millisecond)
	body := make([]byte, 2<<20)
	rand.Read(body)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test-secret", ""),
		BaseEndpoint: aws.String("http://s3.test"), ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired}
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://s3.test") // path-style
	// 2 MiB taken 64 KiB per 100 ms: 3.2 s.
	cfg.HTTPClient = slowTaker{piece: 64 << 10, pause: 100 * time.Millisecond}
	start := time.Now()
	put(t, newS3(cfg, "bucket", "prefix/", Options{}), "slow-upload.bin", body)
	if took := time.Since(start); took < 4*limits.Upload {
		t.Errorf("the upload took %v: the endpoint was not slow, the test proves nothing", took)
	}
	cfg.HTTPClient = slowTaker{piece: 64 << 10, pause: 100 * time.Millisecond, stall: true}
	obj, _ := newS3(cfg, "bucket", "prefix/", Options{}).Create(context.Background(), "stalled-upload.bin")
	obj.Write(body)
	start = time.Now()
	if err := obj.Commit(); !errors.Is(err, ErrStorageUnresponsive) || !strings.Contains(err.Error(), "PutObject to http://s3.test made no progress for 500ms, 2 times in a row") {
		t.Errorf("stalled upload: %v", err)
	}
	if took := time.Since(start); took > limits.Bound()+time.Second {
		t.Errorf("the stalled upload failed after %v", took)
	}

	// 2 MiB sent 64 KiB per 100 ms; the reader waits 1 s after its first read.
	slowS3(t, 64<<10, 100*time.Millisecond, body)
	sink, err := Open(context.Background(), "s3://bucket/prefix", Options{AWS: sdkDefaults})
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	r, err := sink.Open(context.Background(), "slow-download.bin")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	buf := make([]byte, 1<<20)
	for first := true; ; first = false {
		n, err := r.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("slow download: %v after %d bytes", err, got.Len())
		}
		if first {
			time.Sleep(2 * limits.Call) // a slow reader: the clock is stopped
		}
	}
	r.Close()
	if !bytes.Equal(got.Bytes(), body) {
		t.Errorf("downloaded %d bytes, not the object", got.Len())
	}
	if took := time.Since(start); took < 2*limits.Call {
		t.Errorf("the download took %v: not slow", took)
	}

	r, err = sink.Open(context.Background(), "stall.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	start = time.Now()
	_, err = io.Copy(io.Discard, r)
	if err == nil || !strings.Contains(err.Error(), "GetObject to http://127.0.0.1:") || !strings.Contains(err.Error(), "made no progress for 500ms") {
		t.Errorf("stalled download: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the stalled download failed after %v", took)
	}
}

// "Fix or delete the manifest" is said of a manifest that was read and is
// not one, never of one that could not be read: the storage's fault is
// not the user's to repair.
func TestManifestHintOnlyForBadManifests(t *testing.T) {
	dir := t.TempDir()
	folder, _ := NewFolder(dir)
	os.MkdirAll(filepath.Join(dir, filepath.Dir(manifestK)), 0o755)
	os.WriteFile(filepath.Join(dir, manifestK), []byte(`{"schema_version": 1, "files": [`), 0o644)
	_, err := export(context.Background(), folder, "run-1", syntheticLines(3), []transform.Invoice{sampleInvoice})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, manifestK)+" is not a manifest (fix or delete it, then run again)") {
		t.Errorf("bad manifest: %v", err)
	}

	// Nothing listens on port 1.
	setS3Env(t, "http://127.0.0.1:1")
	refused, err := Open(context.Background(), "s3://exports/refused", Options{AWS: sdkDefaults})
	if err != nil {
		t.Fatal(err)
	}
	_, err = export(context.Background(), refused, "run-2", syntheticLines(3), []transform.Invoice{sampleInvoice})
	if !errors.Is(err, ErrStorageUnresponsive) || strings.Contains(err.Error(), "fix or delete") ||
		!strings.Contains(err.Error(), "s3://exports/refused could not be reached through every retry (dial tcp 127.0.0.1:1: connect: connection refused)") {
		t.Errorf("unreachable storage: %v", err)
	}

	shortStalls(t, 400*time.Millisecond, 200*time.Millisecond)
	m, sink := openMinIO(t)
	m.Freeze(t)
	_, err = export(context.Background(), sink, "run-3", syntheticLines(3), []transform.Invoice{sampleInvoice})
	if !errors.Is(err, ErrStorageUnresponsive) || strings.Contains(err.Error(), "fix or delete") {
		t.Errorf("frozen storage: %v", err)
	}
}
