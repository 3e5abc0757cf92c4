package extract

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
)

// Secret is an API key. Every way of printing it prints "[redacted]", so a
// key cannot reach a log line, an error or a file by accident; only the HTTP
// source reads the real value, to set a request header.
type Secret string

const redacted = "[redacted]"

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) Format(f fmt.State, _ rune)   { io.WriteString(f, redacted) }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (s Secret) IsSet() bool                { return s != "" }
func (s Secret) reveal() string             { return string(s) }

// Config is every vendor setting, read from the environment (DESIGN §4).
type Config struct {
	WarpStream   WarpStreamConfig
	CockroachDB  CockroachDBConfig
	SpectroCloud SpectroCloudConfig
}

type WarpStreamConfig struct {
	Key    Secret
	URL    string
	Method string // POST unless WARPSTREAM_HTTP_METHOD says otherwise
	// AccountID names the billing account: WarpStream's responses name none.
	AccountID string
}

type CockroachDBConfig struct {
	Key Secret
	URL string
}

type SpectroCloudConfig struct {
	Key         Secret
	URL         string
	TenantUID   string   // skips GET /v1/users/info when set
	InvoiceUIDs []string // used where the invoice list route answers 404
}

// Default vendor API addresses (DESIGN §4).
const (
	DefaultWarpStreamURL   = "https://api.warpstream.com"
	DefaultCockroachDBURL  = "https://cockroachlabs.cloud"
	DefaultSpectroCloudURL = "https://api.spectrocloud.com"
)

// ReadConfig reads the configuration through getenv (os.Getenv) and
// validates it (see Config.Validate): the commands call it once at start,
// so a typo is one clear line naming the variable rather than a run of
// retries against an address that cannot work.
func ReadConfig(getenv func(string) string) (Config, error) {
	c := ConfigFromEnv(getenv)
	return c, c.Validate()
}

// ConfigFromEnv reads the configuration through getenv without validating
// it; the commands use ReadConfig.
func ConfigFromEnv(getenv func(string) string) Config {
	or := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	// A uid listed twice is one invoice: it is exported once (the transform
	// refuses an invoice that appears twice in a period).
	var uids []string
	for _, u := range strings.Split(getenv("SPECTROCLOUD_INVOICE_UIDS"), ",") {
		if u = strings.TrimSpace(u); u != "" && !slices.Contains(uids, u) {
			uids = append(uids, u)
		}
	}
	// GET and POST in any case; anything else is kept as written, for
	// Validate to name it.
	method := or("WARPSTREAM_HTTP_METHOD", "POST")
	if m := strings.ToUpper(method); m == "GET" || m == "POST" {
		method = m
	}
	return Config{
		WarpStream: WarpStreamConfig{
			Key:       Secret(strings.TrimSpace(getenv("WARPSTREAM_API_KEY"))),
			URL:       baseURL(or("WARPSTREAM_API_URL", DefaultWarpStreamURL)),
			Method:    method,
			AccountID: or("WARPSTREAM_ACCOUNT_ID", "default"),
		},
		CockroachDB: CockroachDBConfig{
			Key: Secret(strings.TrimSpace(getenv("COCKROACH_API_KEY"))),
			URL: baseURL(or("COCKROACH_API_URL", DefaultCockroachDBURL)),
		},
		SpectroCloud: SpectroCloudConfig{
			Key:         Secret(strings.TrimSpace(getenv("SPECTROCLOUD_API_KEY"))),
			URL:         baseURL(or("SPECTROCLOUD_API_URL", DefaultSpectroCloudURL)),
			TenantUID:   strings.TrimSpace(getenv("SPECTROCLOUD_TENANT_UID")),
			InvoiceUIDs: uids,
		},
	}
}

// baseURL drops trailing slashes (paths are appended to it), but leaves a
// value that would lose its "//" as written, for Validate to show.
func baseURL(v string) string {
	if t := strings.TrimRight(v, "/"); !strings.HasSuffix(t, ":") {
		return t
	}
	return v
}

// Validate checks what can be checked before any request: every
// *_API_URL is an absolute http(s) URL with a host (and no query, fragment
// or credentials), WARPSTREAM_HTTP_METHOD is GET or POST, and the invoice
// uids are safe file names. The error is one line naming each variable at
// fault; keys are never part of it.
func (c Config) Validate() error {
	var problems []string
	for _, u := range []struct{ provider, url, def string }{
		{WarpStream, c.WarpStream.URL, DefaultWarpStreamURL},
		{CockroachDB, c.CockroachDB.URL, DefaultCockroachDBURL},
		{SpectroCloud, c.SpectroCloud.URL, DefaultSpectroCloudURL},
	} {
		if err := checkURL(u.url, u.def); err != nil {
			problems = append(problems, urlVar(u.provider)+err.Error())
		}
	}
	if m := c.WarpStream.Method; m != "GET" && m != "POST" {
		problems = append(problems, fmt.Sprintf("WARPSTREAM_HTTP_METHOD=%q: use GET or POST (default POST)", m))
	}
	for _, uid := range c.SpectroCloud.InvoiceUIDs {
		if err := checkID(SpectroCloud, "invoice uid in SPECTROCLOUD_INVOICE_UIDS", uid); err != nil {
			problems = append(problems, err.Error())
			break
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// checkURL says what is wrong with a vendor's base URL, as the rest of a
// message that starts with the variable's name.
func checkURL(raw, example string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("=%q is not a URL: use an absolute URL such as %s", raw, example)
	}
	if u.User != nil {
		// The value is not printed: it carries a user or password.
		return fmt.Errorf(" carries a user name or password: give only the scheme, host and path, such as %s (keys go in *_API_KEY)", example)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		hint := ""
		if !strings.Contains(raw, "://") {
			hint = fmt.Sprintf(" (did you mean https://%s?)", raw)
		}
		return fmt.Errorf("=%q is not an absolute http(s) URL%s: use an absolute URL such as %s", raw, hint, example)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("=%q has no host: use an absolute URL such as %s", raw, example)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("=%q has a query or fragment: give only the scheme, host and path, such as %s", raw, example)
	}
	return nil
}

// Key returns provider's API key (empty when not configured).
func (c Config) Key(provider string) Secret {
	switch provider {
	case WarpStream:
		return c.WarpStream.Key
	case CockroachDB:
		return c.CockroachDB.Key
	case SpectroCloud:
		return c.SpectroCloud.Key
	}
	return ""
}

// Vendor returns the extractor for provider.
func (c Config) Vendor(provider string) (Vendor, error) {
	switch provider {
	case WarpStream:
		return warpStream{c.WarpStream}, nil
	case CockroachDB:
		return cockroachDB{c.CockroachDB}, nil
	case SpectroCloud:
		return spectroCloud{c.SpectroCloud}, nil
	}
	return nil, fmt.Errorf("unknown provider %q (known: %s)", provider, strings.Join(Providers, ", "))
}
