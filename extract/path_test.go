package extract

import (
	"net/url"
	"testing"
)

// Every id stays one segment of the path the request is sent to: none adds
// a segment, a query or a fragment, and the server decodes it back.
func TestPathEscapesEverySegment(t *testing.T) {
	for id, want := range map[string]string{
		"inv-10":       "/v1/invoices/inv-10",
		"inv%2Fx":      "/v1/invoices/inv%252Fx",
		"a?x=1#frag":   "/v1/invoices/a%3Fx=1%23frag",
		"a b":          "/v1/invoices/a%20b",
		"a/b":          "/v1/invoices/a%2Fb",
		"ü;x":          "/v1/invoices/%C3%BC%3Bx",
		"x&api_key=1+": "/v1/invoices/x&api_key=1+",
	} {
		got := Path("v1", "invoices", id)
		if got != want {
			t.Errorf("Path(%q) = %q, want %q", id, got, want)
		}
		u, err := url.Parse("https://api.example.com/base" + got)
		if err != nil {
			t.Fatal(err)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.Path != "/base/v1/invoices/"+id || u.EscapedPath() != "/base"+want {
			t.Errorf("%q: sent as path %q (escaped %q), query %q, fragment %q", id, u.Path, u.EscapedPath(), u.RawQuery, u.Fragment)
		}
	}
}
