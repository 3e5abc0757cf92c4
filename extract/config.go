package extract

import (
	"fmt"
	"io"
	"log/slog"
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

// ConfigFromEnv reads the configuration through getenv (os.Getenv).
func ConfigFromEnv(getenv func(string) string) Config {
	or := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var uids []string
	for _, u := range strings.Split(getenv("SPECTROCLOUD_INVOICE_UIDS"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			uids = append(uids, u)
		}
	}
	return Config{
		WarpStream: WarpStreamConfig{
			Key:       Secret(strings.TrimSpace(getenv("WARPSTREAM_API_KEY"))),
			URL:       strings.TrimRight(or("WARPSTREAM_API_URL", "https://api.warpstream.com"), "/"),
			Method:    strings.ToUpper(or("WARPSTREAM_HTTP_METHOD", "POST")),
			AccountID: or("WARPSTREAM_ACCOUNT_ID", "default"),
		},
		CockroachDB: CockroachDBConfig{
			Key: Secret(strings.TrimSpace(getenv("COCKROACH_API_KEY"))),
			URL: strings.TrimRight(or("COCKROACH_API_URL", "https://cockroachlabs.cloud"), "/"),
		},
		SpectroCloud: SpectroCloudConfig{
			Key:         Secret(strings.TrimSpace(getenv("SPECTROCLOUD_API_KEY"))),
			URL:         strings.TrimRight(or("SPECTROCLOUD_API_URL", "https://api.spectrocloud.com"), "/"),
			TenantUID:   strings.TrimSpace(getenv("SPECTROCLOUD_TENANT_UID")),
			InvoiceUIDs: uids,
		},
	}
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
