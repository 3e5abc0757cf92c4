package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/billing"
)

// scanChunks feeds body to a scanner for key in the given chunks and
// reports whether it saw the key.
func scanChunks(key string, chunks ...[]byte) bool {
	s := newKeyScanner(Secret(key))
	for _, c := range chunks {
		if _, err := s.Write(c); err != nil {
			if !errors.Is(err, ErrKeyInBody) {
				panic(err)
			}
			return true
		}
	}
	return false
}

// splits calls f with body cut in two at every position, and in pieces of
// every size up to len(body).
func splits(body []byte, f func(how string, chunks ...[]byte)) {
	for i := range len(body) + 1 {
		f(fmt.Sprintf("cut at %d", i), body[:i], body[i:])
	}
	for n := 1; n <= len(body); n++ {
		var chunks [][]byte
		for b := body; len(b) > 0; b = b[min(n, len(b)):] {
			chunks = append(chunks, b[:min(n, len(b))])
		}
		f(fmt.Sprintf("pieces of %d", n), chunks...)
	}
}

// The key is found wherever the reads cut it, as sent or written with JSON
// escapes (which a decoder would read as the key); a body holding only
// part of it, or escapes that stand for something else, passes.
func TestKeyScannerFindsTheKeyWhereverReadsCut(t *testing.T) {
	const key = "sk_live/Zq9+aB3=kT7"
	for _, c := range []struct {
		body  string
		found bool
	}{
		{`{"echo":"` + key + `"}`, true},
		{key, true},
		{`{"echo":"sk_live\/Zq9+aB3=kT7"}`, true},                             // "/" escaped, as PHP writes it
		{`{"echo":"\u0073k_live\/Zq9\u002baB3=kT\u0037"}`, true},              // any character escaped
		{`{"echo":"\u0073K_LIVE"} sk_live/Zq9+aB3=kT`, false},                 // the key less its last byte
		{`{"echo":"sk_live\\/Zq9+aB3=kT7"}`, false},                           // a backslash, then "/"
		{`{"e":"\ud83d\ude00 sk_live\/Zq9+aB3\u003dkT7\n"}`, true},            // after a surrogate pair
		{`{"e":"\ud83d sk_live/Zq9+aB3=kT7 \u00zz \q"}`, true},                // among invalid escapes
		{`{"e":"\ud83d\u0073k_live/Zq9+aB3=kT7"}`, true},                      // a lone high surrogate, then an escape
		{`{"e":"sk_live/Zq9+aB3=kT` + `\` + `u0036"}`, false},                 // a different last character
		{`{"e":"` + strings.Repeat(`\\`, 40) + `sk_live/Zq9+aB3=kT7"}`, true}, // after many escaped backslashes
	} {
		splits([]byte(c.body), func(how string, chunks ...[]byte) {
			if got := scanChunks(key, chunks...); got != c.found {
				t.Errorf("%s, %s: found = %v, want %v", c.body, how, got, c.found)
			}
		})
	}
}

// spool refuses a body holding the key: nothing of it is returned.
func TestSpoolRefusesABodyHoldingTheKey(t *testing.T) {
	body := strings.Repeat(`{"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},`, 10_000) + `"` + testKey + `"`
	b, err := spool(wsCall, strings.NewReader(body), []Secret{testKey})
	if !errors.Is(err, ErrKeyInBody) || b != nil {
		t.Fatalf("spool = %v, %v; want ErrKeyInBody", b, err)
	}
	b, err = spool(wsCall, strings.NewReader(body[:len(body)-20]), []Secret{testKey})
	if err != nil {
		t.Fatal(err)
	}
	if got := readBody(t, b); got != body[:len(body)-20] {
		t.Error("a body without the key differs once spooled")
	}
}

// A 200 that echoes the key fails the call at once (another attempt would
// get the same), with the message the run prints, and never the key.
func TestEchoedKeyIsRefused(t *testing.T) {
	f := newFaultServer(t, `{"date_from":"2026-10-01","api_key":"`+testKey+`","total":1}`)
	_, err := testSource(f.URL, HTTPOptions{}).Fetch(context.Background(), wsCall)
	if !errors.Is(err, ErrKeyInBody) || err.Error() != "warpstream get_past_invoice (POST /api/v1/billing/invoices/get_past_invoice): the response contains this vendor's API key; nothing from it was stored" {
		t.Fatalf("err = %v", err)
	}
	if f.requests() != 1 {
		t.Errorf("%d requests, want 1", f.requests())
	}
}

// A provider may have several secrets (registry.Provider.Endpoint puts
// every secret setting in Endpoint.Secrets): a body echoing any of them is
// refused, and each is masked in what a message quotes.
func TestEveryEndpointSecretIsScannedFor(t *testing.T) {
	const second = "acme_client_secret_0123456789abcdef"
	for _, echo := range []string{testKey, second} {
		f := newFaultServer(t, `{"date_from":"2026-10-01","debug":"`+echo+`"}`)
		src := testSource(f.URL, HTTPOptions{})
		ep := src.endpoints["warpstream"]
		ep.Secrets = append(ep.Secrets, second)
		src.endpoints["warpstream"] = ep
		if _, err := src.Fetch(context.Background(), wsCall); !errors.Is(err, ErrKeyInBody) {
			t.Errorf("a body echoing %.12s…: err = %v, want ErrKeyInBody", echo, err)
		}
	}
	b, err := spool(wsCall, strings.NewReader(`{"at":"`+second[:20]+`"}`), []Secret{testKey, second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := b.Excerpt([]byte(second[:20])); got != billing.Redacted {
		t.Errorf("an excerpt of part of the second secret: %q", got)
	}
}

// The scan's cost, against spooling alone, on a 64 MiB body of breakdown-
// like JSON; "escapes" puts a \u escape in every 4 KB, so that every chunk
// is also decoded.
func BenchmarkSpool(b *testing.B) {
	for _, c := range []struct {
		name string
		keys []Secret
		esc  bool
	}{{"no scan", nil, false}, {"scan", []Secret{testKey}, false}, {"scan, escapes", []Secret{testKey}, true}} {
		body := benchBody(64<<20, c.esc)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				sb, err := spool(wsCall, httpBody{bytes.NewReader(body)}, c.keys)
				if err != nil {
					b.Fatal(err)
				}
				sb.Close()
			}
		})
	}
	// The scan's own CPU time, without the file.
	for _, esc := range []bool{false, true} {
		body := benchBody(64<<20, esc)
		b.Run(fmt.Sprintf("scanner alone, escapes %v", esc), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				io.Copy(newKeyScanner(testKey), httpBody{bytes.NewReader(body)})
			}
		})
	}
}

// httpBody reads like a response body: in chunks of io.Copy's buffer, not
// in one Write (as bytes.Reader's WriteTo would).
type httpBody struct{ io.Reader }

func benchBody(size int, escapes bool) []byte {
	var buf bytes.Buffer
	day := `{"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 1343.727466603741, "total": 3.33331},`
	for i := 0; buf.Len() < size; i++ {
		buf.WriteString(day)
		if escapes && i%40 == 0 {
			buf.WriteString(`"Z\u00fcrich \/ prod",`)
		}
	}
	return buf.Bytes()[:size]
}

// However the reads cut a body, the scanner sees what it sees in one piece,
// and it always sees the key as sent.
func FuzzKeyScannerSplits(f *testing.F) {
	const key = "sk_live/Zq9+aB3=kT7"
	f.Add([]byte(`{"echo":"sk_live\/Zq9\u002baB3=kT7"}`), uint8(7), uint8(3))
	f.Add([]byte(`\ud83d\ude00sk_live/Zq9+aB3=kT7`), uint8(1), uint8(13))
	f.Add([]byte(`"\\\\\u0073k_live/Zq9+aB3=kT7"`), uint8(5), uint8(2))
	f.Fuzz(func(t *testing.T, body []byte, a, b uint8) {
		whole := scanChunks(key, body)
		if bytes.Contains(body, []byte(key)) && !whole {
			t.Fatalf("%q holds the key, the scan missed it", body)
		}
		// Pieces of sizes a+1, b+1, a+1, ... (at most 256 bytes each).
		var chunks [][]byte
		for i, rest := 0, body; len(rest) > 0; i++ {
			n := int(a) + 1
			if i%2 == 1 {
				n = int(b) + 1
			}
			n = min(n, len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		if got := scanChunks(key, chunks...); got != whole {
			t.Fatalf("%q in pieces of %d and %d: found = %v, in one piece %v", body, int(a)+1, int(b)+1, got, whole)
		}
	})
}
