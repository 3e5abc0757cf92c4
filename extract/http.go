package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/invoice-export/invoice-export/internal/billing"
)

// HTTPOptions tunes how the HTTP source treats vendors. Zero values mean the
// defaults in brackets.
type HTTPOptions struct {
	// RequestsPerSecond paces each vendor's calls [its Endpoint's, else 10,
	// the documented limit of CockroachDB and Spectro Cloud]; set, it holds
	// for every vendor.
	RequestsPerSecond float64
	Concurrency       int // requests in flight per vendor [4]
	Attempts          int // tries per call, the first included [6]
	// ReadIdleTimeout ends an attempt whose body has sent no byte for this
	// long [60s]; it is retried like a reset connection. A vendor that sends
	// its headers and then stalls holds a call no longer than this per
	// attempt, while a large body that keeps coming is never cut by it.
	ReadIdleTimeout time.Duration
	// CallTimeout bounds one call from its first request to its end, every
	// attempt and every wait between attempts included [5m]; the run's
	// deadline (the Lambda's) bounds it too. Waiting for a free slot before
	// the first request is not counted: that is this run's queue, not the
	// vendor's doing.
	CallTimeout time.Duration
	// MaxBackoff caps the wait this client chooses between attempts [30s]:
	// before attempt n+1 it waits a random time in [c/4, c), c =
	// min(MaxBackoff, 0.5s·2^(n-1)), so never more than MaxBackoff. A
	// vendor's Retry-After is honoured instead, up to 5 minutes (a longer
	// one is cut to 5 minutes). A wait that would pass the call's time
	// limit or the run's deadline is not started: the call fails at once.
	MaxBackoff time.Duration
	Logger     *slog.Logger
	UserAgent  string
	Transport  http.RoundTripper // tests only; TLS is never relaxed here
}

// Endpoint is where one provider's API is and how its requests are
// authorized.
type Endpoint struct {
	URL string // base URL; a call's Path is appended to it
	// Authorize wraps the transport the provider's requests go through:
	// it adds credentials (a key header, an OAuth2 token, HTTP Digest) and
	// any fixed headers (an API version). nil: requests go as they are.
	Authorize func(next http.RoundTripper) http.RoundTripper
	Secrets   []Secret // scrubbed from every message
	KeyVar    string   // the setting a rejected key names (WARPSTREAM_API_KEY)
	KeyHelp   string   // what a rejected key needs (the kind to create); "" for the general advice
	URLVar    string   // the setting a wrong address names (WARPSTREAM_API_URL)
	Missing   []string // required settings not set: its calls fail at once
	// RequestsPerSecond paces its calls when HTTPOptions does not (0: the
	// default): a provider whose API allows less says so here.
	RequestsPerSecond float64
}

// HTTP is the live Source: it calls the providers' APIs.
type HTTP struct {
	endpoints map[string]Endpoint
	clients   map[string]*http.Client
	opt       HTTPOptions
	mu        sync.Mutex
	gates     map[string]*gate
}

// NewHTTP returns a Source calling the providers' endpoints, by slug.
func NewHTTP(endpoints map[string]Endpoint, opt HTTPOptions) *HTTP {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 4
	}
	if opt.Attempts <= 0 {
		opt.Attempts = 6
	}
	if opt.ReadIdleTimeout <= 0 {
		opt.ReadIdleTimeout = time.Minute
	}
	if opt.CallTimeout <= 0 {
		opt.CallTimeout = DefaultCallTimeout
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 30 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.UserAgent == "" {
		opt.UserAgent = "invoice-export/1"
	}
	rt := opt.Transport
	if rt == nil {
		rt = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 2 * time.Minute,
			MaxIdleConnsPerHost:   opt.Concurrency,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		}
	}
	// Redirects are not followed: the request to whatever host the
	// Location names would go through the provider's transport, with its
	// key, even over plain http. once turns a 3xx into a permanent error.
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	h := &HTTP{endpoints: endpoints, clients: map[string]*http.Client{}, opt: opt, gates: map[string]*gate{}}
	for p, ep := range endpoints {
		t := rt
		if ep.Authorize != nil {
			t = ep.Authorize(rt)
		}
		h.clients[p] = &http.Client{Transport: t, CheckRedirect: noRedirect}
	}
	return h
}

// WithHeaders returns a transport that sets headers on every request,
// then sends it with next: the simplest Endpoint.Authorize (a key header).
func WithHeaders(next http.RoundTripper, headers map[string]string) http.RoundTripper {
	return headerTransport{next, headers}
}

type headerTransport struct {
	next    http.RoundTripper
	headers map[string]string
}

func (t headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context()) // a RoundTripper must not change its caller's request
	for k, v := range t.headers {
		req.Header.Set(k, v)
	}
	return t.next.RoundTrip(req)
}

// DefaultCallTimeout is HTTPOptions.CallTimeout's default.
const DefaultCallTimeout = 5 * time.Minute

// errCallTimeout ends a call's context when its CallTimeout is up.
var errCallTimeout = errors.New("the call's time limit")

// Fetch makes the call, retrying what is worth retrying, and returns the
// complete body spooled to disk.
func (h *HTTP) Fetch(ctx context.Context, c Call) (*Body, error) {
	g := h.gate(c.Provider)
	run := ctx
	var last error
	for attempt := 1; ; attempt++ {
		if err := g.acquire(ctx); err != nil {
			return nil, h.wrap(c, h.outOfTime(run, ctx, attempt-1, last, err))
		}
		if attempt == 1 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeoutCause(run, h.opt.CallTimeout, errCallTimeout)
			defer cancel()
		}
		b, wait, err := h.once(ctx, c)
		g.release()
		if err == nil {
			return b, nil
		}
		if _, ok := errors.AsType[*permanentError](err); ok {
			return nil, h.wrap(c, err)
		}
		if ctx.Err() != nil {
			return nil, h.wrap(c, h.outOfTime(run, ctx, attempt, last, err))
		}
		last = err
		if attempt >= h.opt.Attempts {
			hint := ""
			if _, ok := errors.AsType[*url.Error](last); ok {
				// No answer at all: the address or the network, not the vendor.
				hint = fmt.Sprintf(" (check %s and the network)", h.endpoints[c.Provider].URLVar)
			}
			return nil, h.wrap(c, fmt.Errorf("gave up after %d attempts: %w%s", attempt, last, hint))
		}
		if wait == 0 {
			wait = backoff(attempt, h.opt.MaxBackoff, rand.Int64N)
		} else {
			// The vendor said when to come back: that holds for every call
			// to it, not only this one.
			g.holdUntil(time.Now().Add(wait))
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			if rdl, ok := run.Deadline(); ok && !rdl.After(dl) {
				return nil, h.wrap(c, fmt.Errorf("the run's deadline is too close to wait %s for another attempt: %w", wait.Round(time.Millisecond), last))
			}
			return nil, h.wrap(c, h.callTimedOut(attempt, last))
		}
		h.opt.Logger.Warn("retrying", "provider", c.Provider, "endpoint", c.Endpoint,
			"attempt", attempt, "wait", wait.Round(time.Millisecond).String(), "cause", h.redact(err.Error()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, h.wrap(c, h.outOfTime(run, ctx, attempt, last, ctx.Err()))
		case <-t.C:
		}
	}
}

// outOfTime explains a call that ended because its time did: the call's
// own limit (ctx, made by Fetch) or the run's (run). err is what the end
// interrupted, last the failure of the attempt before, if any.
func (h *HTTP) outOfTime(run, ctx context.Context, attempts int, last, err error) error {
	why := err
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, errCallTimeout) {
		// A wait, or a request not answered yet: the attempt before says more.
		if last != nil {
			why, last = last, nil
		}
	}
	if last != nil {
		why = fmt.Errorf("%w; the attempt before: %v", why, last)
	}
	if run.Err() == nil && errors.Is(context.Cause(ctx), errCallTimeout) {
		return h.callTimedOut(attempts, why)
	}
	return fmt.Errorf("%w (last failure: %w)", run.Err(), why)
}

// callTimedOut is the failure of a call whose CallTimeout is up, or too
// close to wait for another attempt.
func (h *HTTP) callTimedOut(attempts int, why error) error {
	return fmt.Errorf("no complete answer within %s, the time limit of one call (%s), after %d attempt(s): %w",
		h.opt.CallTimeout, callTimeoutVar, attempts, why)
}

// backoff is the wait after failed attempt n (1-based) when the server
// named none: exponential (a ceiling of 0.5s, 1s, 2s, ... capped at
// maxWait) with jitter, uniform in [ceiling/4, ceiling), so never above
// maxWait. randN is rand.Int64N.
func backoff(attempt int, maxWait time.Duration, randN func(int64) int64) time.Duration {
	ceil := maxWait
	if attempt < 32 { // 0.5s<<31 is past any sensible cap; the shift would overflow later
		ceil = min(maxWait, 500*time.Millisecond<<(attempt-1))
	}
	floor := ceil / 4
	if span := ceil - floor; span > 0 {
		return floor + time.Duration(randN(int64(span)))
	}
	return ceil
}

// permanentError marks a failure that another attempt cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// once makes one attempt. A non-zero wait is the server's Retry-After.
func (h *HTTP) once(ctx context.Context, c Call) (*Body, time.Duration, error) {
	ep, client, err := h.endpoint(c.Provider)
	if err != nil {
		return nil, 0, &permanentError{err}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var body io.Reader
	if c.Body != nil {
		body = bytes.NewReader(c.Body)
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, ep.URL+c.Path, body)
	if err != nil {
		return nil, 0, &permanentError{err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", h.opt.UserAgent)
	if c.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err // connection refused/reset, timeouts: worth another try
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "" {
		return nil, 0, &permanentError{redirectError(c, resp, ep.URLVar)}
	}
	if resp.StatusCode != http.StatusOK {
		// Room for the excerpt once runs of white space are folded.
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 4*billing.MaxExcerpt))
		return nil, retryAfter(resp.Header.Get("Retry-After")), &statusCoded{resp.StatusCode, statusError(ep, resp.StatusCode, snippet)}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt == "text/html" {
			return nil, 0, &permanentError{fmt.Errorf("HTTP 200 with an HTML page instead of JSON (a proxy, login or maintenance page?); check %s", ep.URLVar)}
		}
	}
	in := newIdleReader(resp.Body, h.opt.ReadIdleTimeout, func() { cancel(errIdle) })
	defer in.stop()
	b, err := spool(c, in, ep.Secrets)
	if errors.Is(err, ErrKeyInBody) {
		return nil, 0, &permanentError{err} // the vendor would echo it again
	}
	if err != nil {
		switch {
		case errors.Is(context.Cause(ctx), errIdle):
			err = fmt.Errorf("no byte for %s after %d bytes (the vendor stalled)", h.opt.ReadIdleTimeout, in.n)
		case ctx.Err() != nil:
			err = fmt.Errorf("time ran out %s after the last byte, %d bytes in", time.Since(in.last).Round(time.Millisecond), in.n)
		}
		return nil, 0, fmt.Errorf("reading the response body: %w", err) // truncated or stalled: retry
	}
	if resp.ContentLength >= 0 && b.size != resp.ContentLength {
		b.Close()
		return nil, 0, fmt.Errorf("truncated response: %d of %d bytes", b.size, resp.ContentLength)
	}
	return b, 0, nil
}

// errIdle ends an attempt whose body stalled.
var errIdle = errors.New("the body stalled")

// idleReader calls idle when no byte has come from r for d, counting from
// its creation and from each read that brought some.
type idleReader struct {
	r    io.Reader
	d    time.Duration
	t    *time.Timer
	n    int64     // bytes read
	last time.Time // when the last of them came
}

func newIdleReader(r io.Reader, d time.Duration, idle func()) *idleReader {
	return &idleReader{r: r, d: d, t: time.AfterFunc(d, idle), last: time.Now()}
}

func (i *idleReader) Read(p []byte) (int, error) {
	n, err := i.r.Read(p)
	if n > 0 {
		i.n += int64(n)
		i.last = time.Now()
		i.t.Reset(i.d)
	}
	return n, err
}

func (i *idleReader) stop() { i.t.Stop() }

// redirectError explains a refused redirect. Only the target's scheme and
// host are named: its path or query could carry anything.
func redirectError(c Call, resp *http.Response, urlVar string) error {
	where := "an address that cannot be parsed"
	if loc, err := resp.Location(); err == nil && loc.Host != "" {
		where = loc.Scheme + "://" + loc.Host
	}
	return fmt.Errorf("HTTP %d %s: %s redirects to %s; redirects are not followed, so that the API key never goes to another address: set %s to the address it names",
		resp.StatusCode, http.StatusText(resp.StatusCode), c.Provider, where, urlVar)
}

// statusError quotes the start of the vendor's answer, which may echo the
// key whole or cut anywhere: an excerpt masks any run of it.
func statusError(ep Endpoint, code int, snippet []byte) error {
	text := billing.Excerpt([]byte(strings.Join(strings.Fields(string(snippet)), " ")), ep.mask)
	if text != "" {
		text = ": " + text
	}
	err := fmt.Errorf("HTTP %d %s%s", code, http.StatusText(code), text)
	switch {
	case code == http.StatusTooManyRequests, code >= 500, code == 499:
		// 499 is WarpStream's "client went away": transient, safe to retry.
		return err
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		help := ep.KeyHelp
		if help == "" {
			help = "check the key, its permissions, and that it belongs to this account"
		}
		return &permanentError{fmt.Errorf("%w: the vendor rejected %s (%s)", err, ep.KeyVar, help)}
	case code == http.StatusNotFound:
		return &permanentError{fmt.Errorf("%w: %w", err, ErrNotFound)}
	}
	return &permanentError{err}
}

// wrap names provider, endpoint and the path requested in an error, with
// keys scrubbed from anything the vendor echoed back.
func (h *HTTP) wrap(c Call, err error) error {
	return &callError{call: c, path: c.RequestPath(h.endpoints[c.Provider].URL), msg: h.redact(err.Error()), err: err}
}

type callError struct {
	call Call
	path string // the base URL's path included: a path doubled by the configuration shows
	msg  string
	err  error
}

func (e *callError) Error() string {
	return fmt.Sprintf("%s %s (%s %s): %s", e.call.Provider, e.call.Endpoint, e.call.Method, e.path, e.msg)
}
func (e *callError) Unwrap() error { return e.err }

// redact removes every configured key from s.
func (h *HTTP) redact(s string) string {
	for _, ep := range h.endpoints {
		for _, k := range ep.Secrets {
			if len(k) >= 4 {
				s = strings.ReplaceAll(s, k.Reveal(), redacted)
			}
		}
	}
	return s
}

// mask hides any run of the endpoint's secrets (billing.Mask).
func (ep Endpoint) mask(s string) string {
	keys := make([]string, len(ep.Secrets))
	for i, k := range ep.Secrets {
		keys[i] = k.Reveal()
	}
	return billing.Mask(s, keys...)
}

func (h *HTTP) endpoint(provider string) (Endpoint, *http.Client, error) {
	ep, ok := h.endpoints[provider]
	switch {
	case !ok:
		return ep, nil, fmt.Errorf("no endpoint for provider %q", provider)
	case len(ep.Missing) > 0:
		return ep, nil, fmt.Errorf("no API key: set %s", strings.Join(ep.Missing, " and "))
	}
	return ep, h.clients[provider], nil
}

// retryAfter reads Retry-After as seconds or an HTTP date; 0 when absent.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, 5*time.Minute)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), 5*time.Minute)
	}
	return 0
}

func (h *HTTP) gate(provider string) *gate {
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.gates[provider]
	if g == nil {
		rate := h.opt.RequestsPerSecond
		if rate <= 0 {
			rate = h.endpoints[provider].RequestsPerSecond
		}
		if rate <= 0 {
			rate = 10
		}
		g = &gate{slots: make(chan struct{}, h.opt.Concurrency), every: time.Duration(float64(time.Second) / rate)}
		h.gates[provider] = g
	}
	return g
}

// gate bounds one vendor's requests: at most cap(slots) in flight, and
// starts spaced at least `every` apart (a token bucket of depth one, so a
// burst never trips the vendor's limit).
type gate struct {
	slots chan struct{}
	every time.Duration
	mu    sync.Mutex
	next  time.Time
}

func (g *gate) acquire(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	now := time.Now()
	at := g.next
	if at.Before(now) {
		at = now
	}
	g.next = at.Add(g.every)
	g.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			<-g.slots
			return ctx.Err()
		}
	}
	return nil
}

func (g *gate) release() { <-g.slots }

// holdUntil makes the vendor's next request start no earlier than t.
func (g *gate) holdUntil(t time.Time) {
	g.mu.Lock()
	if g.next.Before(t) {
		g.next = t
	}
	g.mu.Unlock()
}

// callTimeoutVar sets HTTPOptions.CallTimeout.
const callTimeoutVar = "VENDOR_CALL_TIMEOUT"

// HTTPOptionsFromEnv reads the client-side limits: VENDOR_REQUESTS_PER_SECOND
// and VENDOR_CONCURRENCY (per vendor), VENDOR_CALL_TIMEOUT (per call); unset
// means the defaults.
func HTTPOptionsFromEnv(getenv func(string) string) (HTTPOptions, error) {
	var o HTTPOptions
	if v := strings.TrimSpace(getenv(callTimeoutVar)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second || d > time.Hour {
			return o, fmt.Errorf("%s=%q: use a duration from 10s to 1h, such as 10m (default %s)", callTimeoutVar, v, DefaultCallTimeout)
		}
		o.CallTimeout = d
	}
	if v := strings.TrimSpace(getenv("VENDOR_REQUESTS_PER_SECOND")); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f <= 1000) {
			return o, fmt.Errorf("VENDOR_REQUESTS_PER_SECOND=%q: use a number of requests per second above 0 (default 10)", v)
		}
		o.RequestsPerSecond = f
	}
	if v := strings.TrimSpace(getenv("VENDOR_CONCURRENCY")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			return o, fmt.Errorf("VENDOR_CONCURRENCY=%q: use a number of requests in flight from 1 to 64 (default 4)", v)
		}
		o.Concurrency = n
	}
	return o, nil
}
