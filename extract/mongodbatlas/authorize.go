package mongodbatlas

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/mongodb-forks/digest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/invoice-export/invoice-export/extract"
)

// Atlas authenticates in one of two ways (the specification's
// securitySchemes): a service account exchanges its client id and secret
// for a bearer token (OAuth 2.0 client credentials, valid one hour), or a
// programmatic API key answers an HTTP Digest challenge, which costs every
// call two requests (the challenge, then the answer). Both use the
// libraries MongoDB's own Go SDK uses: golang.org/x/oauth2/clientcredentials
// and github.com/mongodb-forks/digest.

// mediaType is the version of the resources the calls read: Atlas
// versions them through Accept, and the invoice operations exist in
// version 2023-01-01.
const mediaType = "application/vnd.atlas.2023-01-01+json"

// tokenPath is the token endpoint, relative to ATLAS_API_URL, as the SDK
// derives it from its base URL.
const tokenPath = "/api/oauth/token"

// RequestsPerSecond paces Atlas's calls. Atlas limits each set of
// endpoints with a token bucket per organization; the invoice calls' set
// holds 500 requests and refills 100 a minute (docs/vendors.md). With an
// API key every call is two requests (the challenge, then the answer),
// so 0.8 calls a second, 96 requests a minute at most, stays under the
// refill even when a run outlasts the bucket; a run makes about one call
// a month, so the pace costs seconds. A 429 holds every call for its
// Retry-After.
const RequestsPerSecond = 0.8

// Authorize asks for the versioned media type and authenticates with the
// credential c holds. Token requests go through next with redirects
// refused, as the API's own requests do.
func Authorize(c extract.Config, next http.RoundTripper) http.RoundTripper {
	var auth http.RoundTripper
	switch {
	case c.Secret("CLIENT_SECRET").IsSet():
		auth = &bearer{next: next, tokens: &tokens{
			client: &http.Client{Transport: next, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
			cfg: clientcredentials.Config{
				ClientID:     c.Value("CLIENT_ID"),
				ClientSecret: c.Secret("CLIENT_SECRET").Reveal(),
				TokenURL:     c.Value("API_URL") + tokenPath,
				AuthStyle:    oauth2.AuthStyleInHeader,
			},
		}}
	case c.Secret("PRIVATE_KEY").IsSet():
		auth = digest.NewTransportWithHTTPRoundTripper(c.Value("PUBLIC_KEY"), c.Secret("PRIVATE_KEY").Reveal(), next)
	default:
		auth = next // no credential: the HTTP source refuses the call first
	}
	return versioned{auth}
}

// versioned asks for the media type the operations answer in; a request
// with a body is sent in it too.
type versioned struct{ next http.RoundTripper }

func (t versioned) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context()) // a RoundTripper must not change its caller's request
	r.Header.Set("Accept", mediaType)
	if r.Body != nil && r.Body != http.NoBody {
		r.Header.Set("Content-Type", mediaType)
	}
	return t.next.RoundTrip(r)
}

// bearer sends the service account's token. A 401 with a token still
// valid by its expiry (revoked, or the server's clock ahead of ours)
// drops the token and tries once more with a fresh one.
type bearer struct {
	next   http.RoundTripper
	tokens *tokens
}

func (t *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		tok, err := t.tokens.get(req.Context())
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			return refusal(req, re), nil
		}
		if err != nil {
			return nil, err // no answer from the token endpoint: retried
		}
		r := req.Clone(req.Context())
		if attempt > 1 && req.GetBody != nil {
			if r.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		r.Header.Set("Authorization", "Bearer "+tok)
		resp, err := t.next.RoundTrip(r)
		if err != nil || resp.StatusCode != http.StatusUnauthorized || attempt > 1 || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
			return resp, err
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		t.tokens.drop(tok)
	}
}

// refusal answers a call whose token request the token endpoint refused,
// so that the HTTP source treats it as any answer: a 429 (after its
// Retry-After) or a 5xx is tried again; a refused client id or secret
// (400 invalid_client or invalid_grant, 401, 403) fails at once as a 401,
// naming the credential's variables.
func refusal(req *http.Request, re *oauth2.RetrieveError) *http.Response {
	code := re.Response.StatusCode
	what := strings.TrimSpace(re.ErrorCode + " " + re.ErrorDescription)
	if what == "" {
		what = string(re.Body)
	}
	status := code
	if code == http.StatusBadRequest || code == http.StatusForbidden {
		status = http.StatusUnauthorized
	}
	// Short: messages quote the first hundred bytes of an answer.
	msg := fmt.Sprintf("the token request (POST %s) got HTTP %d: %s", tokenPath, code, what)
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode: status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        re.Response.Header.Clone(), // Retry-After
		Body:          io.NopCloser(bytes.NewReader([]byte(msg))),
		ContentLength: int64(len(msg)),
		Request:       req,
	}
}

// tokens caches the service account's token until it expires (less
// oauth2's ten-second margin), so a run asks for one token an hour, not one
// per call; concurrent calls wait for the one request in flight. It is
// written here rather than taken from oauth2.ReuseTokenSource because
// that one takes no context per call (a token request would outlive the
// run's deadline) and cannot be told that a token was refused.
type tokens struct {
	cfg    clientcredentials.Config
	client *http.Client
	mu     sync.Mutex
	tok    *oauth2.Token
}

func (t *tokens) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok.Valid() {
		return t.tok.AccessToken, nil
	}
	tok, err := t.cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, t.client))
	if err != nil {
		return "", err
	}
	t.tok = tok
	return tok.AccessToken, nil
}

// drop forgets tok unless another call already replaced it.
func (t *tokens) drop(tok string) {
	t.mu.Lock()
	if t.tok != nil && t.tok.AccessToken == tok {
		t.tok = nil
	}
	t.mu.Unlock()
}
