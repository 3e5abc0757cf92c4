// Package load writes charge lines and invoices as Parquet, one partition
// per provider and billing period, to a folder or an S3 prefix, replacing
// each partition whole and writing its manifest last.
package load

import (
	"context"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Sink is where output goes. The folder and S3 backends behave the same:
// an object appears whole, or not at all.
type Sink interface {
	// Create starts a new object at key (slash-separated, relative to the
	// destination). It becomes visible, whole, on Commit; Abort drops it.
	// ctx ending before Commit may fail the object (S3 stops its upload
	// and aborts it); once Commit has begun, ctx no longer matters.
	Create(ctx context.Context, key string) (Object, error)
	// Open reads an object; a missing one gives an error wrapping fs.ErrNotExist.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// List returns every key under prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes objects; a missing one is not an error.
	Delete(ctx context.Context, keys ...string) error
	// String names the destination for people: a path or s3://bucket/prefix.
	String() string
}

// Object is an object being written.
type Object interface {
	io.Writer
	Commit() error
	Abort()
}

// Options are the settings of an s3:// destination.
type Options struct {
	// SSE is the server-side encryption every object asks for (S3_SSE);
	// zero, none: the bucket's default encryption applies, and an
	// endpoint without encryption (a stock MinIO) takes the objects.
	SSE SSE
	// AWS gives an s3:// destination its AWS configuration (credentials,
	// region, endpoints). The commands choose how: cmd/local loads the
	// SDK's defaults (profiles, SSO, instance roles), the Lambda reads the
	// environment Lambda sets, so its binary links no other loader.
	AWS func(context.Context) (aws.Config, error)
}

// Open returns the sink for a destination: s3://bucket/prefix or a folder.
func Open(ctx context.Context, dest string, opt Options) (Sink, error) {
	if strings.HasPrefix(dest, "s3://") {
		return openS3(ctx, dest, opt)
	}
	return NewFolder(dest)
}

// Check reads the destination once (its manifests) and, for a folder,
// checks that it can be written, so that a missing bucket, missing
// credentials or a folder that cannot be written is one error before
// anything runs, not one failure per provider and period.
func Check(ctx context.Context, s Sink) error {
	if _, err := s.List(ctx, "_manifests/"); err != nil {
		return err
	}
	if f, ok := s.(*Folder); ok {
		return f.checkWritable()
	}
	return nil
}
