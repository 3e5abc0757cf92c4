package billing

import (
	"bytes"
	"fmt"
	"io"
	"sort"

	"github.com/go-json-experiment/json/jsontext"
)

// MaxToken bounds one JSON token of any body: a string (a member name
// included) or a number. A larger one is bad data. Vendors' values are
// ids, names, dates and amounts of a few dozen bytes; a token of a
// megabyte is no value anyone bills.
//
// A jsontext.Decoder holds a whole token in its buffer, which it doubles
// until the token fits, and it holds the white space before a token the
// same way; it has no limit of its own (jsontext's WithByteLimit is
// declared but not implemented, go.dev/issue/56733). So every decoder of a
// body reads through a limiter (Document.Decoder) that refuses a longer
// token and drops white space past MaxToken in a row: a body of any size
// and shape costs a decoder a few MaxToken of buffer.
const MaxToken = 1 << 20

// Decoder returns a decoder of the document's JSON text read from r,
// bounded by MaxToken: a longer string or number ends the decoding with a
// DataError (through Error) at the token's first byte, and a run of white
// space longer than MaxToken is passed on cut to MaxToken bytes. d's
// errors (Errorf, Error) then name offsets in r, where the white space
// dropped still counts. d must be the document r reads, from its start.
func (d *Document) Decoder(r io.Reader) *jsontext.Decoder {
	l := &limiter{r: r}
	d.at = l.offset
	return jsontext.NewDecoder(l)
}

// Sub is the document of a value of d that is decoded on its own: it
// starts at offset (as d's decoder counts) and has the JSON pointer
// pointer in d.
func (d Document) Sub(offset int64, pointer string) Document {
	return Document{Source: d.Source, Base: d.Offset(offset), Prefix: d.Prefix + pointer, Mask: d.Mask}
}

// Offset is the body offset of an offset as the document's decoder counts
// it (white space it did not see included).
func (d Document) Offset(o int64) int64 {
	if d.at != nil {
		o = d.at(o)
	}
	return d.Base + o
}

// TokenTooLong is what a limiter's Read returns once it has passed on
// MaxToken bytes of a longer token; Document.Error makes it a DataError.
type TokenTooLong struct {
	At   int64 // the token's first byte, in the decoder's count
	Kind string
}

func (e *TokenTooLong) Error() string {
	return fmt.Sprintf("%s of more than %d bytes (a value this long is no billing data)", e.Kind, MaxToken)
}

// limiter passes a JSON text on, token by token, as the decoder would
// split it: it follows only strings (with their escapes), numbers and
// white space, which is all a limit needs. Invalid JSON goes through as it
// is, for the decoder to refuse.
type limiter struct {
	r       io.Reader
	state   uint8
	n       int64  // bytes of the current token, or of the current run of white space
	start   int64  // where the current token began, in the output
	out     int64  // bytes passed on
	dropped int64  // bytes of white space dropped
	drops   []drop // where white space was dropped, in order
	err     error  // to return once the bytes before it are read
}

// drop: from output offset out on, total bytes of white space were dropped.
type drop struct{ out, total int64 }

const (
	between uint8 = iota // between tokens, or in a run of white space
	inString
	inEscape // after a backslash in a string
	inNumber
)

func (l *limiter) Read(p []byte) (int, error) {
	for {
		if l.err != nil {
			return 0, l.err
		}
		n, err := l.r.Read(p)
		kept := l.filter(p[:n])
		if err != nil && l.err == nil {
			l.err = err
		}
		if kept > 0 {
			return kept, nil
		}
	}
}

// filter keeps what the decoder may see of p, in place, and returns its
// length; a token that grows past MaxToken sets l.err after the bytes of it
// that are allowed.
func (l *limiter) filter(p []byte) int {
	w, i := 0, 0
	nextQuote, backslash := -1, -1 // the next ones in p, once looked for
	keep := func(k int) {
		if w != i {
			copy(p[w:], p[i:i+k])
		}
		w, i = w+k, i+k
	}
	tooLong := func(kind string) int {
		l.err = &TokenTooLong{At: l.start, Kind: kind}
		l.out += int64(w)
		return w
	}
	for i < len(p) {
		switch l.state {
		case inString:
			// Where the next quote and backslash are is kept from one
			// search to the next: either may be far, and many strings may
			// end before it.
			if nextQuote < i {
				nextQuote = next(p, i, '"')
			}
			if backslash < i {
				backslash = next(p, i, '\\')
			}
			span := min(nextQuote, backslash) - i
			end := span < len(p)-i
			if end {
				span++ // the quote or backslash
			}
			if l.n+int64(span) > MaxToken {
				keep(int(MaxToken - l.n))
				return tooLong("a string")
			}
			l.n += int64(span)
			keep(span)
			if end {
				if p[w-1] == '\\' {
					l.state = inEscape
				} else {
					l.state = between
					l.n = 0
				}
			}
		case inEscape:
			if l.n+1 > MaxToken {
				return tooLong("a string")
			}
			l.n++
			keep(1)
			l.state = inString
		case inNumber:
			span := 0
			for i+span < len(p) && class[p[i+span]] >= numberStart {
				span++
			}
			if l.n+int64(span) > MaxToken {
				keep(int(MaxToken - l.n))
				return tooLong("a number")
			}
			l.n += int64(span)
			keep(span)
			if i < len(p) {
				l.state = between
				l.n = 0
			}
		default:
			span := 1
			switch class[p[i]] {
			case space:
				for i+span < len(p) && class[p[i+span]] == space {
					span++
				}
				k := int(min(int64(span), max(MaxToken-l.n, 0)))
				l.n += int64(span)
				keep(k)
				if d := span - k; d > 0 {
					l.drop(l.out+int64(w), int64(d))
					i += d
				}
				continue
			case quote:
				l.state, l.start = inString, l.out+int64(w)
			case numberStart:
				l.state, l.start = inNumber, l.out+int64(w)
			default: // punctuation and literals, passed on as they are
				for i+span < len(p) && class[p[i+span]] == other {
					span++
				}
				l.n = 0
				keep(span)
				continue
			}
			l.n = 1 // the token's first byte
			keep(1)
		}
	}
	l.out += int64(w)
	return w
}

func (l *limiter) drop(at, n int64) {
	l.dropped += n
	if k := len(l.drops); k > 0 && l.drops[k-1].out == at {
		l.drops[k-1].total = l.dropped
		return
	}
	l.drops = append(l.drops, drop{at, l.dropped})
}

// offset is where the output's byte o came from in the input.
func (l *limiter) offset(o int64) int64 {
	i := sort.Search(len(l.drops), func(i int) bool { return l.drops[i].out > o })
	if i == 0 {
		return o
	}
	return o + l.drops[i-1].total
}

// next is the index of the first c in p at or after i, or len(p).
func next(p []byte, i int, c byte) int {
	if k := bytes.IndexByte(p[i:], c); k >= 0 {
		return i + k
	}
	return len(p)
}

// The classes of bytes between tokens.
const (
	other       uint8 = iota // punctuation, literals, invalid bytes
	space                    // white space
	quote                    // a string's start
	numberStart              // a number's start (and, with numberByte, its bytes)
	numberByte               // a number's other bytes: + . e E
)

var class = func() (c [256]uint8) {
	for _, b := range []byte(" \t\n\r") {
		c[b] = space
	}
	c['"'] = quote
	for _, b := range []byte("-0123456789") {
		c[b] = numberStart
	}
	for _, b := range []byte("+.eE") {
		c[b] = numberByte
	}
	return c
}()
