// Package extract fetches vendors' billing responses untouched, from their
// APIs or from a folder of captured responses, so that live and replayed runs
// share every line of code after the fetch.
//
// A provider's Jobs function (extract/<provider>) turns a Plan (which
// billing periods) into Jobs (which calls make each period); a Source
// answers calls with complete response bodies.
package extract

import (
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/invoice-export/invoice-export/internal/billing"
)

// Provider slugs, as they appear in partition paths and in --providers.
const (
	WarpStream   = "warpstream"
	CockroachDB  = "cockroachdb"
	SpectroCloud = "spectrocloud"
)

// Call is one request to a provider and the place its response body takes
// in the capture layout (README: "Output layout"; docs/architecture.md).
type Call struct {
	Provider string
	Endpoint string // the vendor's name for the call, for messages
	Method   string
	Path     string // path and query, relative to the vendor's base URL
	Body     []byte // JSON request body, if any
	Capture  string // slash-separated path in the capture layout
	// Account is the configured account the call is made for (its key,
	// its captures); "" before ForAccount sets it.
	Account string
}

func (c Call) String() string { return c.Provider + " " + c.Endpoint + " (" + c.Capture + ")" }

// RequestPath is the path (and query) the call is sent to under the base
// URL base: base's own path first (a proxy's prefix, say). Messages and
// the dry run show it, so that a path doubled by the configuration shows.
func (c Call) RequestPath(base string) string {
	u, err := url.Parse(base + c.Path)
	if err != nil {
		return c.Path
	}
	return u.RequestURI()
}

// Body is one complete response body. It lives in a file, not in memory, so
// that responses of any size can be decoded as streams, landed as raw files
// and read more than once.
type Body struct {
	Call    Call
	f       *os.File
	size    int64
	secrets []Secret // what it was fetched with, kept out of the body (see spool) and of messages
}

// Reader returns a new reader over the whole body.
func (b *Body) Reader() *io.SectionReader { return io.NewSectionReader(b.f, 0, b.size) }

// Size is the body's length in bytes.
func (b *Body) Size() int64 { return b.size }

// Close releases the body (and its disk space when it was spooled).
func (b *Body) Close() error { return b.f.Close() }

// Document is the body as its decoders name it in a billing.DataError,
// with the secrets it was fetched with masked in whatever they quote.
func (b *Body) Document() billing.Document {
	d := billing.Document{Source: b.Call.String()}
	if len(b.secrets) > 0 {
		d.Mask = b.mask
	}
	return d
}

// Excerpt shortens a value of the body for an error message (which quotes
// it): at most billing.MaxExcerpt bytes, with any run of the secrets the
// body was fetched with masked.
func (b *Body) Excerpt(v []byte) string { return b.Document().Excerpt(v) }

func (b *Body) mask(s string) string {
	keys := make([]string, len(b.secrets))
	for i, k := range b.secrets {
		keys[i] = k.Reveal()
	}
	return billing.Mask(s, keys...)
}

// Source answers calls with complete response bodies.
type Source interface {
	Fetch(ctx context.Context, c Call) (*Body, error)
}

// ErrNotFound is wrapped by errors for a call the vendor (HTTP 404) or the
// capture folder (no such file) cannot answer.
var ErrNotFound = errors.New("not found")

// NewBody spools r into a Body for c: what a Source returns, for sources
// outside this package (a test's bodies kept in memory).
func NewBody(c Call, r io.Reader) (*Body, error) { return spool(c, r, nil) }

// spool copies r into an unlinked temporary file: the disk space goes back
// to the system when the Body is closed or the process dies, whatever happens.
// Every chunk is scanned for the secrets before it is written; a body that
// holds one fails with ErrKeyInBody, and what was spooled of it goes with
// the file.
func spool(c Call, r io.Reader, secrets []Secret) (*Body, error) {
	f, err := os.CreateTemp("", "invoice-export-body-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	var w io.Writer = f
	if s := newKeyScanners(secrets); s != nil {
		w = io.MultiWriter(s, f) // the scanner first: a chunk with a key is never written
	}
	n, err := io.Copy(w, r)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Body{Call: c, f: f, size: n, secrets: secrets}, nil
}

// Plan says which billing periods a run exports, and when "now" is.
type Plan struct {
	Periods []billing.Period // ascending
	AsOf    time.Time
}

// Job is the work for one provider and billing period: bodies already
// fetched while listing (shared by the run's jobs, closed by the run) and the
// calls still to make.
type Job struct {
	Provider string
	Period   billing.Period
	Account  string // billing account id when the provider's responses name none
	Shared   []*Body
	Calls    []Call
}
