// Package extract fetches vendors' billing responses untouched, from their
// APIs or from a folder of captured responses, so that live and replayed runs
// share every line of code after the fetch.
//
// A Vendor turns a Plan (which billing periods) into Jobs (which calls make
// each period); a Source answers calls with complete response bodies.
package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Provider slugs, as they appear in partition paths and in --providers.
const (
	WarpStream   = "warpstream"
	CockroachDB  = "cockroachdb"
	SpectroCloud = "spectrocloud"
)

// Providers lists every supported provider in the order runs report them.
var Providers = []string{WarpStream, CockroachDB, SpectroCloud}

// Period is a calendar-month billing period, [Start, End) in UTC.
type Period struct{ start time.Time }

// PeriodOf returns the period that contains t.
func PeriodOf(t time.Time) Period {
	t = t.UTC()
	return Period{time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)}
}

// ParsePeriod parses "YYYY-MM".
func ParsePeriod(s string) (Period, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return Period{}, fmt.Errorf("%q is not a month: use YYYY-MM, e.g. 2026-01", s)
	}
	return Period{t}, nil
}

func (p Period) Start() time.Time     { return p.start }
func (p Period) End() time.Time       { return p.start.AddDate(0, 1, 0) }
func (p Period) Next() Period         { return Period{p.End()} }
func (p Period) Prev() Period         { return Period{p.start.AddDate(0, -1, 0)} }
func (p Period) IsZero() bool         { return p.start.IsZero() }
func (p Period) Before(q Period) bool { return p.start.Before(q.start) }
func (p Period) String() string       { return p.start.Format("2006-01") }

// Contains reports whether t falls in [Start, End).
func (p Period) Contains(t time.Time) bool {
	return !t.Before(p.start) && t.Before(p.End())
}

// Call is one request to a vendor and the place its response body takes in
// the capture layout (DESIGN §5).
type Call struct {
	Provider string
	Endpoint string // the vendor's name for the call, for messages
	Method   string
	Path     string // path and query, relative to the vendor's base URL
	Body     []byte // JSON request body, if any
	Capture  string // slash-separated path in the capture layout
}

func (c Call) String() string { return c.Provider + " " + c.Endpoint + " (" + c.Capture + ")" }

// Body is one complete response body. It lives in a file, not in memory, so
// that responses of any size can be decoded as streams, landed as raw files
// and read more than once.
type Body struct {
	Call Call
	f    *os.File
	size int64
	key  Secret // the vendor's key, kept out of the body (see spool) and of Excerpt
}

// Reader returns a new reader over the whole body.
func (b *Body) Reader() *io.SectionReader { return io.NewSectionReader(b.f, 0, b.size) }

// Size is the body's length in bytes.
func (b *Body) Size() int64 { return b.size }

// Close releases the body (and its disk space when it was spooled).
func (b *Body) Close() error { return b.f.Close() }

// Excerpt shortens a value of the body for an error message (which quotes
// it): at most 100 bytes, with anything that looks like the vendor's key
// masked.
func (b *Body) Excerpt(v []byte) string { return excerpt(v, b.key) }

// Source answers calls with complete response bodies.
type Source interface {
	Fetch(ctx context.Context, c Call) (*Body, error)
}

// ErrNotFound is wrapped by errors for a call the vendor (HTTP 404) or the
// capture folder (no such file) cannot answer.
var ErrNotFound = errors.New("not found")

// spool copies r into an unlinked temporary file: the disk space goes back
// to the system when the Body is closed or the process dies, whatever happens.
// Every chunk is scanned for key before it is written; a body that holds it
// fails with ErrKeyInBody, and what was spooled of it goes with the file.
func spool(c Call, r io.Reader, key Secret) (*Body, error) {
	f, err := os.CreateTemp("", "invoice-export-body-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	var w io.Writer = f
	if s := newKeyScanner(key); s != nil {
		w = io.MultiWriter(s, f) // the scanner first: a chunk with the key is never written
	}
	n, err := io.Copy(w, r)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Body{Call: c, f: f, size: n, key: key}, nil
}

// Plan says which billing periods a run exports, and when "now" is.
type Plan struct {
	Periods []Period // ascending
	AsOf    time.Time
}

// Job is the work for one provider and billing period: bodies already
// fetched while listing (shared by the run's jobs, closed by the run) and the
// calls still to make.
type Job struct {
	Provider string
	Period   Period
	Account  string // billing account id when the vendor's responses name none
	Shared   []*Body
	Calls    []Call
}

// Vendor knows which calls make each billing period of one provider.
type Vendor interface {
	Provider() string
	// Jobs makes the listing calls the vendor needs (if any) and returns one
	// Job per period of the plan that the vendor has data for.
	Jobs(ctx context.Context, src Source, plan Plan) ([]Job, error)
}

// checkID rejects an identifier that would escape its place in the capture
// layout or in a URL path: vendors' ids are opaque, so we check them.
func checkID(provider, what, id string) error {
	bad := id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\\") || strings.Contains(id, "..")
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			bad = true
		}
	}
	if bad || len(id) > 200 {
		return fmt.Errorf("%s: %s %q is not a safe identifier (empty, too long, or contains '/', '\\', '..' or control characters)", provider, what, excerpt([]byte(id), ""))
	}
	return nil
}
