package billing

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// chunks reads s at most n bytes at a time (at least 1).
type chunks struct {
	s string
	n int
}

func (c *chunks) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), max(c.n, 1))], c.s)
	c.s = c.s[k:]
	return k, nil
}

// tokens lists what dec reads, with the offsets d names for them, and
// the error that ends it as d reports it.
func tokens(d *Document, dec *jsontext.Decoder) []string {
	var out []string
	for {
		tok, err := dec.ReadToken()
		if err == io.EOF {
			return out
		}
		if err != nil {
			return append(out, d.Error(err, dec.InputOffset(), string(dec.StackPointer())).Error())
		}
		out = append(out, fmt.Sprintf("%s %s @%d", tok.Kind(), tok.String(), d.Offset(dec.InputOffset())))
	}
}

// Below the limits a limiter passes the text on as it is: the same tokens
// at the same offsets, the same errors, however reads cut it (as they cut
// it, for an error message may quote what a read brought).
func FuzzLimiterIsTransparent(f *testing.F) {
	for _, s := range []string{
		`{"a": [1, -2.5e3, "x\"y\\z\u00e9", true, null], "b": {}}`,
		`{"a": "unterminated`, `[1 2]`, `{"a":1,"a":2}`, "  \n\t", `"\`, `-`, `{"a":"b"}x`,
	} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		plain := Document{Source: "s"}
		want := tokens(&plain, jsontext.NewDecoder(&chunks{s, n % 64}))
		d := Document{Source: "s"}
		if got := tokens(&d, d.Decoder(&chunks{s, n % 64})); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("through the limiter:\n%q\nwant\n%q", got, want)
		}
	})
}

// Past the limits: white space is cut and every offset still names the
// body's byte; a long token is an error at its first byte; however reads
// cut the body.
func TestLimiterPastTheLimits(t *testing.T) {
	ws := strings.Repeat(" \n", MaxToken/2+3)
	for _, c := range []struct {
		doc  string
		want []string
	}{
		{`[1,` + ws + `"a",` + ws + ws + `2]` + ws,
			[]string{"[ [ @1", "number 1 @2", "string a @" + fmt.Sprint(6+len(ws)), "number 2 @" + fmt.Sprint(8+3*len(ws)), "] ] @" + fmt.Sprint(9+3*len(ws))}},
		{`[1,` + ws + `{"a": x}]`,
			[]string{"[ [ @1", "number 1 @2", "{ { @" + fmt.Sprint(4+len(ws)), "string a @" + fmt.Sprint(7+len(ws)),
				fmt.Sprintf("s: bad data at byte %d, /1/a: invalid character 'x' at start of value", 9+len(ws))}},
		{`[` + ws + `"` + strings.Repeat("x", MaxToken) + `"]`,
			[]string{"[ [ @1", fmt.Sprintf("s: bad data at byte %d: a string of more than 1048576 bytes (a value this long is no billing data)", 1+len(ws))}},
		{`{"n": -` + strings.Repeat("1", MaxToken) + `}`,
			[]string{"{ { @1", "string n @4", "s: bad data at byte 6, /n: a number of more than 1048576 bytes (a value this long is no billing data)"}},
	} {
		for _, n := range []int{1 << 20, 4093, 7, 1} {
			d := Document{Source: "s"}
			got := tokens(&d, d.Decoder(&chunks{c.doc, n}))
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("reads of %d bytes: %q\nwant %q", n, got, c.want)
			}
		}
	}
}

// A reader's own error comes through as it is, after the bytes before it.
func TestLimiterPassesReadErrors(t *testing.T) {
	boom := errors.New("boom")
	d := Document{Source: "s"}
	dec := d.Decoder(io.MultiReader(strings.NewReader(`[1, 2`), &failing{boom}))
	got := tokens(&d, dec)
	if len(got) != 3 || !strings.Contains(got[2], "boom") {
		t.Errorf("%q", got)
	}
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }

// BenchmarkLimiter is the limiter's own cost on a body of WarpStream's
// shape (pretty-printed: white space, short strings and numbers).
func BenchmarkLimiter(b *testing.B) {
	unit := `{"date_from": "2026-10-01", "date_to": "2026-10-02", "quantity": 829.0839424058795, "total": 16.58168},` + "\n      "
	text := strings.Repeat(unit, (16<<20)/len(unit))
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		l := &limiter{r: strings.NewReader(text)}
		for {
			if _, err := l.Read(buf); err != nil {
				break
			}
		}
	}
}
