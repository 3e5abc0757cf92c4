package invoiceexport_test

import (
	"strings"
	"testing"

	invoiceexport "github.com/invoice-export/invoice-export"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestReadConfigDefaults(t *testing.T) {
	c, err := invoiceexport.ReadConfigs(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c["warpstream"].Value("API_URL") != "https://api.warpstream.com" || c["cockroachdb"].Value("API_URL") != "https://cockroachlabs.cloud" ||
		c["spectrocloud"].Value("API_URL") != "https://api.spectrocloud.com" || c["warpstream"].Value("HTTP_METHOD") != "POST" {
		t.Errorf("defaults: %+v", c)
	}
	c, err = invoiceexport.ReadConfigs(envOf(map[string]string{
		"WARPSTREAM_API_URL": "http://127.0.0.1:8080/", "WARPSTREAM_HTTP_METHOD": " get ",
		"COCKROACH_API_URL": "HTTPS://cockroachlabs.cloud", "SPECTROCLOUD_API_URL": "https://proxy.example.com/spectro/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c["warpstream"].Value("API_URL") != "http://127.0.0.1:8080" || c["warpstream"].Value("HTTP_METHOD") != "GET" || c["spectrocloud"].Value("API_URL") != "https://proxy.example.com/spectro" {
		t.Errorf("read: %+v", c)
	}
}

// A value that cannot work is one line naming the variable, before any
// request (not six attempts over 13 s of "unsupported protocol scheme").
func TestReadConfigRefusesWhatCannotWork(t *testing.T) {
	for env, want := range map[string]string{
		"WARPSTREAM_API_URL=api.warpstream.com":          `WARPSTREAM_API_URL="api.warpstream.com" is not an absolute http(s) URL (did you mean https://api.warpstream.com?): use an absolute URL such as https://api.warpstream.com`,
		"WARPSTREAM_API_URL=api.warpstream.com:443":      `WARPSTREAM_API_URL="api.warpstream.com:443" is not an absolute http(s) URL (did you mean https://api.warpstream.com:443?)`,
		"COCKROACH_API_URL=ftp://cockroachlabs.cloud":    `COCKROACH_API_URL="ftp://cockroachlabs.cloud" is not an absolute http(s) URL: use an absolute URL such as https://cockroachlabs.cloud`,
		"SPECTROCLOUD_API_URL=https://":                  `SPECTROCLOUD_API_URL="https://" has no host: use an absolute URL such as https://api.spectrocloud.com`,
		"SPECTROCLOUD_API_URL=https://:443":              `SPECTROCLOUD_API_URL="https://:443" has no host`,
		"SPECTROCLOUD_API_URL=/v1":                       `SPECTROCLOUD_API_URL="/v1" is not an absolute http(s) URL`,
		"COCKROACH_API_URL=https://host/api?x=1":         `COCKROACH_API_URL="https://host/api?x=1" has a query or fragment`,
		"COCKROACH_API_URL=https://bad host":             `COCKROACH_API_URL="https://bad host" is not a URL`,
		"WARPSTREAM_API_URL=https://user:pw@host":        `WARPSTREAM_API_URL carries a user name or password`,
		"WARPSTREAM_HTTP_METHOD=gett":                    `WARPSTREAM_HTTP_METHOD="gett": use GET or POST (default POST)`,
		"WARPSTREAM_HTTP_METHOD=PUT":                     `WARPSTREAM_HTTP_METHOD="PUT": use GET or POST`,
		"SPECTROCLOUD_INVOICE_UIDS=inv-1,../etc/passwd":  `invoice uid in SPECTROCLOUD_INVOICE_UIDS "../etc/passwd" is not a safe identifier`,
		"WARPSTREAM_API_URL=api.warpstream.com\x00extra": `WARPSTREAM_API_URL=`,
	} {
		k, v, _ := strings.Cut(env, "=")
		_, err := invoiceexport.ReadConfigs(envOf(map[string]string{k: v}))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", env, err, want)
			continue
		}
		if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "pw@") {
			t.Errorf("%s: not one line without credentials: %q", env, err)
		}
	}
	// Every problem is named, still on one line.
	_, err := invoiceexport.ReadConfigs(envOf(map[string]string{"WARPSTREAM_API_URL": "x", "COCKROACH_API_URL": "y", "WARPSTREAM_HTTP_METHOD": "gett"}))
	if err == nil || strings.Count(err.Error(), "; ") != 2 || strings.Contains(err.Error(), "\n") {
		t.Errorf("three problems: %v", err)
	}
}

// The error never carries a key, whatever is wrong.
func TestConfigErrorNeverShowsAKey(t *testing.T) {
	const testKey = "aks_feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface"
	_, err := invoiceexport.ReadConfigs(envOf(map[string]string{"WARPSTREAM_API_KEY": testKey, "WARPSTREAM_API_URL": "nope", "WARPSTREAM_HTTP_METHOD": "gett"}))
	if err == nil || strings.Contains(err.Error(), testKey) {
		t.Errorf("error %v", err)
	}
}
