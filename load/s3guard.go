package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// StallLimits bound how long one S3 request may make no progress: no
// byte of an upload's body taken for Upload (PutObject, UploadPart), and
// for every request no answer, or no byte of the answer's body, for Call
// (Upload for an upload) after the last progress. Such an attempt is cut
// and retried once, with the SDK's backoff; a second one fails the call
// and stops the sink (ErrStorageUnresponsive): a frozen endpoint (a
// stopped MinIO, a dead route) would otherwise hold a run forever, since
// TCP alone never gives up on a peer that still acknowledges packets.
type StallLimits struct {
	Upload, Call time.Duration
}

// S3Stall is the sink's limits; tests shorten them.
var S3Stall = StallLimits{Upload: 60 * time.Second, Call: 30 * time.Second}

// stallAttempts is how many stalled attempts one call gets.
const stallAttempts = 2

// stallBackoff bounds the SDK's wait before the retry of a first failed
// attempt (its standard retryer waits up to 2 s then: a random part of
// 2^1 s; its 2026 retries, less).
const stallBackoff = 2 * time.Second

// Bound is the longest an S3 sink waits on a frozen endpoint: from its last
// progress, stallAttempts stalled attempts and the backoff between them.
// Every call in flight then ends at once (see s3Guard.stop), so this bounds
// a run's wait on a frozen endpoint too.
func (l StallLimits) Bound() time.Duration {
	return stallAttempts*max(l.Upload, l.Call) + stallBackoff
}

// ErrStorageUnresponsive is in the chain of every error of a sink that
// stopped (see StallLimits): the endpoint did not answer, or could not be
// reached, through a call's retries. Every later call fails at once with
// the same error, so a run stops writing instead of waiting out each
// partition in turn.
var ErrStorageUnresponsive = errors.New("the storage stopped answering")

// stallError is an attempt cut for making no progress. The SDK retries
// it (Temporary) unless it was the call's last stalled attempt.
type stallError struct {
	op, endpoint string
	limit        time.Duration
	last         bool
}

func (e *stallError) Error() string {
	return fmt.Sprintf("%s to %s made no progress for %s", e.op, e.endpoint, e.limit)
}
func (e *stallError) Timeout() bool        { return true }
func (e *stallError) Temporary() bool      { return true }
func (e *stallError) RetryableError() bool { return !e.last }

// s3Guard is the S3 client's HTTP client: it times each request's
// progress (StallLimits) and, once the sink has stopped, cuts every
// request in flight and refuses new ones.
type s3Guard struct {
	next   aws.HTTPClient
	limits StallLimits
	life   context.Context // ends when the sink stops; its cause says why
	stop   context.CancelCauseFunc
}

func newS3Guard(next aws.HTTPClient, limits StallLimits) *s3Guard {
	life, stop := context.WithCancelCause(context.Background())
	return &s3Guard{next: next, limits: limits, life: life, stop: stop}
}

// stopped is why the sink stopped; nil while it works.
func (g *s3Guard) stopped() error {
	if g.life.Err() == nil {
		return nil
	}
	return context.Cause(g.life)
}

// check stops the sink when err ends a call for want of an endpoint that
// answers: a last stalled attempt, or a connection that failed through
// every retry. It returns the error to report: the stop's, once stopped.
func (g *s3Guard) check(dest string, err error) error {
	if err == nil {
		return nil
	}
	if cause := g.stopped(); cause != nil {
		return cause
	}
	var stall *stallError
	var conn interface{ ConnectionError() bool }
	switch {
	case errors.As(err, &stall):
		g.stop(stopError{fmt.Errorf("%w: %s, %d times in a row; nothing more is written to %s this run: run again once it answers",
			ErrStorageUnresponsive, stall, stallAttempts, dest)})
	case errors.As(err, &conn) && conn.ConnectionError():
		why := errors.Unwrap(err)
		var op *net.OpError
		if errors.As(err, &op) {
			why = op // "dial tcp 127.0.0.1:9000: connect: connection refused", without the SDK's retry chatter
		}
		g.stop(stopError{fmt.Errorf("%w: %s could not be reached through every retry (%v); nothing more is written to it this run: run again once it answers",
			ErrStorageUnresponsive, dest, why)})
	default:
		return err
	}
	return g.stopped()
}

// Unresponsive returns the stop of the sink err comes from, the same error
// for every call it failed; nil when err is not one.
func Unresponsive(err error) error {
	var stop stopError
	if errors.As(err, &stop) {
		return stop
	}
	return nil
}

// stopError is the sink's stop: no retry gets past it.
type stopError struct{ error }

func (e stopError) Unwrap() error        { return e.error }
func (e stopError) RetryableError() bool { return false }

// stallCount is how many attempts of one call stalled (see countStalls).
type stallCount struct{}

// countStalls gives each call (all its attempts) a stall counter: the
// initialize step runs once per call, before the retry loop.
func countStalls(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("InvoiceExportStallCount",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(context.WithValue(ctx, stallCount{}, new(atomic.Int32)), in)
		}), middleware.Before)
}

// Do sends one attempt. A watchdog cuts it once it has made no progress
// for its limit: the clock restarts with every read of the request's body
// (what the connection took), then runs until the answer's headers; each
// read of the answer's body, by whoever reads it, is timed again.
func (g *s3Guard) Do(req *http.Request) (*http.Response, error) {
	if cause := g.stopped(); cause != nil {
		return nil, cause
	}
	op := awsmiddleware.GetOperationName(req.Context())
	limit := g.limits.Call
	if op == "PutObject" || op == "UploadPart" {
		limit = g.limits.Upload
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	unlink := context.AfterFunc(g.life, func() { cancel(context.Cause(g.life)) })
	w := &watchdog{limit: limit, sending: true}
	w.timer = time.AfterFunc(limit, func() {
		e := &stallError{op: op, endpoint: req.URL.Scheme + "://" + req.URL.Host, limit: limit}
		if n, ok := req.Context().Value(stallCount{}).(*atomic.Int32); ok && n.Add(1) >= stallAttempts {
			e.last = true
		}
		cancel(e)
	})
	done := func() { w.stop(); unlink(); cancel(nil) }

	r := req.WithContext(ctx)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &sendProgress{r.Body, w}
	}
	if getBody := r.GetBody; getBody != nil {
		r.GetBody = func() (io.ReadCloser, error) {
			b, err := getBody()
			if err != nil || b == nil || b == http.NoBody {
				return b, err
			}
			return &sendProgress{b, w}, nil
		}
	}
	resp, err := g.next.Do(r)
	w.sent()
	if err != nil {
		cut := ctx.Err() != nil && req.Context().Err() == nil
		cause := context.Cause(ctx)
		done()
		if cut {
			return nil, cause // the watchdog's, or the sink's stop
		}
		return nil, err
	}
	resp.Body = &receiveProgress{ReadCloser: resp.Body, w: w, ctx: ctx, parent: req.Context(), done: done}
	return resp, nil
}

// watchdog is one request's clock.
type watchdog struct {
	limit   time.Duration
	mu      sync.Mutex
	timer   *time.Timer
	sending bool // until the answer's headers: reads of the request's body count
}

// progress restarts the clock on the request's body being read, while the
// request is being sent: the transport may read on after the answer came.
func (w *watchdog) progress() {
	w.mu.Lock()
	if w.sending {
		w.timer.Reset(w.limit)
	}
	w.mu.Unlock()
}

// sent stops the clock: the answer's headers (or an error) came.
func (w *watchdog) sent() {
	w.mu.Lock()
	w.sending = false
	w.timer.Stop()
	w.mu.Unlock()
}

func (w *watchdog) start() {
	w.mu.Lock()
	w.timer.Reset(w.limit)
	w.mu.Unlock()
}

func (w *watchdog) stop() {
	w.mu.Lock()
	w.timer.Stop()
	w.mu.Unlock()
}

// sendProgress restarts the watchdog whenever the transport takes more of
// the body: it reads more only as the connection accepts what it has.
type sendProgress struct {
	io.ReadCloser
	w *watchdog
}

func (b *sendProgress) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.w.progress()
	}
	return n, err
}

// receiveProgress times each read of the answer's body. Between reads the
// clock is stopped: a slow reader is not a stalled endpoint.
type receiveProgress struct {
	io.ReadCloser
	w           *watchdog
	ctx, parent context.Context
	done        func()
	once        sync.Once
}

func (b *receiveProgress) Read(p []byte) (int, error) {
	b.w.start()
	n, err := b.ReadCloser.Read(p)
	b.w.stop()
	if err != nil && err != io.EOF && b.ctx.Err() != nil && b.parent.Err() == nil {
		return n, context.Cause(b.ctx)
	}
	return n, err
}

func (b *receiveProgress) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}
