package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Uploads go in parts of s3PartSize, s3Concurrency at a time: the memory an
// upload holds is their product, whatever the file's size.
const (
	s3PartSize    = 8 << 20
	s3Concurrency = 2
)

// S3 is the sink for s3://bucket/prefix. An object appears only when its
// upload completes (PutObject, or CompleteMultipartUpload), which gives the
// folder sink's staged rename for free.
type S3 struct {
	client   *s3.Client
	uploader *manager.Uploader
	guard    *s3Guard
	sse      SSE
	bucket   string
	prefix   string // "" or ending in "/"
}

// SSE is the server-side encryption objects ask for: S3_SSE, one of
// AES256 (SSE-S3), aws:kms (SSE-KMS, the account's aws/s3 key) or
// aws:kms:KEY (SSE-KMS, KEY a key id, alias or ARN). By default objects
// ask for none: an S3 bucket encrypts them with its default encryption
// (the template's does, SSE-S3), and an endpoint that serves no
// encryption, such as a stock MinIO, refuses objects that ask for it.
type SSE struct {
	Algorithm types.ServerSideEncryption // "" for none
	KMSKeyID  string
}

// OptionsFromEnv reads S3_SSE.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	v := getenv("S3_SSE")
	var o Options
	switch {
	case v == "":
	case v == string(types.ServerSideEncryptionAes256), v == string(types.ServerSideEncryptionAwsKms):
		o.SSE.Algorithm = types.ServerSideEncryption(v)
	case strings.HasPrefix(v, "aws:kms:") && len(v) > len("aws:kms:"):
		o.SSE = SSE{Algorithm: types.ServerSideEncryptionAwsKms, KMSKeyID: strings.TrimPrefix(v, "aws:kms:")}
	default:
		return o, fmt.Errorf("S3_SSE=%q: use AES256, aws:kms or aws:kms:KEY (a KMS key id, alias or ARN), or leave it unset: objects then ask for no encryption and the bucket's default applies", v)
	}
	return o, nil
}

func openS3(ctx context.Context, dest string, opt Options) (Sink, error) {
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(dest, "s3://"), "/")
	if bucket == "" {
		return nil, errors.New("no bucket: use s3://bucket/prefix")
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	if opt.AWS == nil {
		return nil, errors.New("no AWS configuration for an s3:// destination (load.Options.AWS)")
	}
	cfg, err := opt.AWS(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	// Objects written by multipart upload have no whole-object checksum to
	// validate on reads; the SDK would warn on each. The manifest's sha256
	// is the end-to-end check.
	cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	if cfg.Region == "" {
		// S3 needs a region to sign with; MinIO and most S3 endpoints accept this one.
		cfg.Region = "us-east-1"
	}
	return newS3(cfg, bucket, prefix, opt), nil
}

// newS3 is the sink on an AWS configuration.
func newS3(cfg aws.Config, bucket, prefix string, opt Options) *S3 {
	next := cfg.HTTPClient
	if next == nil {
		next = awshttp.NewBuildableClient()
	}
	guard := newS3Guard(next, S3Stall)
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		// Virtual-hosted addressing needs DNS for bucket.host, which a custom
		// endpoint such as MinIO on 127.0.0.1 does not have.
		o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
		o.HTTPClient = guard
		o.APIOptions = append(o.APIOptions, countStalls)
	})
	return &S3{
		client: client,
		uploader: manager.NewUploader(client, func(u *manager.Uploader) {
			u.PartSize = s3PartSize
			u.Concurrency = s3Concurrency
		}),
		guard:  guard,
		sse:    opt.SSE,
		bucket: bucket,
		prefix: prefix,
	}
}

// fail is the error of a call that failed: once the sink has stopped
// (s3Guard.check), the stop's, which says why and matches
// ErrStorageUnresponsive; otherwise the service's code and message.
func (s *S3) fail(what string, err error) error {
	if err = s.guard.check(s.String(), err); errors.Is(err, ErrStorageUnresponsive) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var ae smithy.APIError
	if s.sse.Algorithm != "" && errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented" {
		return fmt.Errorf("%s: %s (the endpoint serves no server-side encryption %s: unset S3_SSE, and the bucket's default encryption, if any, applies)",
			what, s3Cause(err), s.sse.Algorithm)
	}
	return fmt.Errorf("%s: %s", what, s3Cause(err))
}

func (s *S3) String() string { return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/") }

func (s *S3) url(key string) string { return "s3://" + s.bucket + "/" + s.prefix + key }

// s3AbortGrace is how long an upload cut by its context's end has to abort
// its multipart upload (see commitGrace).
const s3AbortGrace = 5 * time.Second

// Create streams the object up as it is written: Write feeds a pipe that
// the uploader reads on its own goroutine.
//
// The upload does not run on ctx but on context.WithoutCancel(ctx): the
// uploader aborts a failed multipart upload with the context it was given,
// and with a cancelled one the abort itself fails (silently), leaving the
// upload's parts pending. When ctx ends, the pipe is closed with ctx's
// error instead: the uploader's next read fails, and it aborts with a live
// context, given s3AbortGrace to do so before that context is cancelled
// too. An object whose Commit has closed the pipe is past this: its upload
// completes.
func (s *S3) Create(ctx context.Context, key string) (Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.guard.stopped(); err != nil {
		return nil, fmt.Errorf("uploading %s: %w", s.url(key), err)
	}
	uctx, ucancel := context.WithCancel(context.WithoutCancel(ctx))
	pr, pw := io.Pipe()
	o := &s3Object{pw: pw, ctx: ctx, done: make(chan error, 1), url: s.url(key), s: s}
	stop := context.AfterFunc(ctx, func() {
		pw.CloseWithError(fmt.Errorf("stopped: %w", context.Cause(ctx)))
		t := time.NewTimer(s3AbortGrace)
		defer t.Stop()
		select {
		case <-t.C:
			ucancel()
		case <-uctx.Done(): // the upload has returned
		}
	})
	go func() {
		in := &s3.PutObjectInput{
			Bucket:               aws.String(s.bucket),
			Key:                  aws.String(s.prefix + key),
			Body:                 pr,
			ServerSideEncryption: s.sse.Algorithm,
		}
		if s.sse.KMSKeyID != "" {
			in.SSEKMSKeyId = aws.String(s.sse.KMSKeyID)
		}
		_, err := s.uploader.Upload(uctx, in)
		if err != nil {
			// Stops the sink at once if the endpoint is gone, not only
			// when the object's Commit comes.
			err = s.guard.check(s.String(), err)
		}
		// Unblocks a writer still in Write when the upload failed.
		pr.CloseWithError(err)
		stop()
		ucancel()
		o.done <- err
	}()
	return o, nil
}

type s3Object struct {
	pw   *io.PipeWriter
	ctx  context.Context // the caller's: its end stops the upload
	done chan error
	url  string
	s    *S3
}

func (o *s3Object) Write(p []byte) (int, error) {
	n, err := o.pw.Write(p)
	if err != nil {
		return n, fmt.Errorf("uploading %s: %w", o.url, err)
	}
	return n, nil
}

func (o *s3Object) Commit() error {
	if cause := context.Cause(o.ctx); cause != nil {
		// Ahead of Create's AfterFunc, which runs on a goroutine of its own.
		o.pw.CloseWithError(fmt.Errorf("stopped: %w", cause))
	}
	o.pw.Close()
	if err := <-o.done; err != nil {
		if cause := context.Cause(o.ctx); cause != nil {
			return fmt.Errorf("uploading %s: %w", o.url, cause)
		}
		return o.s.fail("uploading "+o.url, err)
	}
	return nil
}

// Abort fails the upload's reads rather than cancelling its context: the
// uploader then aborts the multipart upload with a live context, so no part
// is left behind (the bucket's lifecycle rule catches a crash).
func (o *s3Object) Abort() {
	o.pw.CloseWithError(errors.New("aborted"))
	<-o.done
}

func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, fmt.Errorf("%s: %w", s.url(key), fs.ErrNotExist)
		}
		return nil, s.fail("reading "+s.url(key), err)
	}
	return out.Body, nil
}

func (s *S3) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(s.prefix + prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.fail("listing "+s.url(prefix), err)
		}
		for _, o := range page.Contents {
			keys = append(keys, strings.TrimPrefix(aws.ToString(o.Key), s.prefix))
		}
	}
	slices.Sort(keys)
	return keys, nil
}

func (s *S3) Delete(ctx context.Context, keys ...string) error {
	for batch := range slices.Chunk(keys, 1000) { // DeleteObjects' limit
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(s.prefix + k)}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(s.bucket),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return s.fail("deleting under "+s.String(), err)
		}
		// DeleteObjects answers 200 with per-key errors.
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("deleting s3://%s/%s: %s (%d keys failed)", s.bucket, aws.ToString(e.Key), aws.ToString(e.Message), len(out.Errors))
		}
	}
	return nil
}

// s3Cause is the service's error code and message, without the SDK's
// request ids and retry chatter; what to check comes with the common ones.
func s3Cause(err error) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		if strings.Contains(err.Error(), "get credentials") {
			return "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (" + err.Error() + ")"
		}
		return err.Error()
	}
	msg := ae.ErrorCode() + ": " + ae.ErrorMessage()
	switch ae.ErrorCode() {
	case "NoSuchBucket":
		msg += " (create the bucket, or check the name)"
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch":
		msg += " (check the AWS credentials and their permissions on this prefix)"
	}
	return msg
}
