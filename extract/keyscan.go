package extract

import (
	"bytes"
	"errors"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrKeyInBody is the failure of a call whose response contains the
// vendor's API key (a vendor echoing the request, say): the body is dropped
// before anything keeps it, so the key reaches no raw capture, no column and
// no message.
var ErrKeyInBody = errors.New("the response contains this vendor's API key; nothing from it was stored")

// minScannedKey is the shortest key a body is scanned for. A real key is
// far longer; a shorter one (a placeholder) would turn up in ordinary
// bodies by chance and fail good periods. Messages still have such keys
// replaced whole (HTTP.redact).
const minScannedKey = 8

// keyScanner is an io.Writer that watches a stream for a key: for its bytes
// as sent, and for the bytes the stream's JSON escapes stand for (an encoder
// may write "/" as "\/", or any character as \u00XX; a decoder would read
// the key out of such a body all the same). Both are found across Write
// boundaries: each view keeps its last len(key)-1 bytes. Write fails with
// ErrKeyInBody at the first sight of the key, which stops an io.Copy.
//
// The cost is one bytes.Index per chunk (vectorized) plus, for chunks
// holding a backslash, a decoded copy of the chunk; see BenchmarkSpool.
type keyScanner struct {
	key      []byte
	raw, dec tail
	esc      []byte // an escape sequence cut by the end of the last Write
	decoded  []byte // scratch
}

func newKeyScanner(key Secret) *keyScanner {
	if len(key) < minScannedKey {
		return nil
	}
	return &keyScanner{key: []byte(key.Reveal())}
}

// newKeyScanners watches for any of keys (a provider may have several
// secrets); nil when none is long enough to scan for.
func newKeyScanners(keys []Secret) io.Writer {
	var ws []io.Writer
	for _, k := range keys {
		if s := newKeyScanner(k); s != nil {
			ws = append(ws, s)
		}
	}
	switch len(ws) {
	case 0:
		return nil
	case 1:
		return ws[0]
	}
	return io.MultiWriter(ws...)
}

func (s *keyScanner) Write(p []byte) (int, error) {
	if s.raw.find(s.key, p, true) {
		return 0, ErrKeyInBody
	}
	if len(s.esc) == 0 && bytes.IndexByte(p, '\\') < 0 {
		// No escape: the decoded view is p itself, already searched whole;
		// only its seam with the previous chunk is new.
		if s.dec.find(s.key, p, false) {
			return 0, ErrKeyInBody
		}
		return len(p), nil
	}
	if s.dec.find(s.key, s.unescape(p), true) {
		return 0, ErrKeyInBody
	}
	return len(p), nil
}

// tail is the end of a stream seen so far, to find a key across a seam.
type tail struct{ b, seam []byte }

// find reports whether key is in the stream once p is added to it; whole
// says whether p itself is searched or only its seam with what came before.
func (t *tail) find(key, p []byte, whole bool) bool {
	keep := len(key) - 1
	if len(t.b) > 0 {
		t.seam = append(append(t.seam[:0], t.b...), p[:min(len(p), keep)]...)
		if bytes.Contains(t.seam, key) {
			return true
		}
	}
	if whole && bytes.Contains(p, key) {
		return true
	}
	if len(p) >= keep {
		t.b = append(t.b[:0], p[len(p)-keep:]...)
	} else {
		t.b = append(t.b, p...)
		t.b = t.b[len(t.b)-min(len(t.b), keep):]
	}
	return false
}

// unescape returns what p (after any escape cut short before it) reads as
// once its JSON escapes are decoded; an escape cut by p's end is kept for
// the next call. Invalid escapes are left as they are (the transform
// refuses such bodies anyway).
func (s *keyScanner) unescape(p []byte) []byte {
	in := p
	if len(s.esc) > 0 {
		in = append(s.esc, p...)
		s.esc = nil
	}
	out := s.decoded[:0]
	for {
		i := bytes.IndexByte(in, '\\')
		if i < 0 {
			out = append(out, in...)
			break
		}
		out = append(out, in[:i]...)
		in = in[i:]
		n, r := escape(in)
		if n == 0 { // cut short: wait for the rest
			s.esc = append([]byte(nil), in...)
			break
		}
		out = utf8.AppendRune(out, r)
		in = in[n:]
	}
	s.decoded = out
	return out
}

// escape decodes the escape sequence at the start of b ("\n", "\u00e9",
// "\ud83d\ude00"): its length and the rune it stands for. The length is 0
// when b ends before the sequence does; an invalid sequence stands for its
// backslash alone.
func escape(b []byte) (int, rune) {
	if len(b) < 2 {
		return 0, 0
	}
	switch b[1] {
	case '"', '\\', '/':
		return 2, rune(b[1])
	case 'b':
		return 2, '\b'
	case 'f':
		return 2, '\f'
	case 'n':
		return 2, '\n'
	case 'r':
		return 2, '\r'
	case 't':
		return 2, '\t'
	case 'u':
		if len(b) < 6 {
			return 0, 0
		}
		r, ok := hex4(b[2:6])
		if !ok {
			return 1, '\\'
		}
		if utf16.IsSurrogate(r) {
			rest := b[6:]
			if len(rest) < 6 && bytes.HasPrefix([]byte(`\u`), rest[:min(len(rest), 2)]) {
				return 0, 0 // the pair's second half may follow
			}
			if len(rest) >= 6 && rest[0] == '\\' && rest[1] == 'u' {
				if r2, ok := hex4(rest[2:6]); ok {
					if c := utf16.DecodeRune(r, r2); c != utf8.RuneError {
						return 12, c
					}
				}
			}
			return 6, utf8.RuneError
		}
		return 6, r
	}
	return 1, '\\'
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
