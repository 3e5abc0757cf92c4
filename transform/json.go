package transform

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/invoice-export/invoice-export/extract"
)

// DataError is bad data in a vendor's response: it names the body (vendor,
// endpoint, capture path), the byte offset and the JSON pointer, so the fix
// can start there. It is extract's type, so that the bodies extract decodes
// while listing report bad data exactly as these decoders do.
type DataError = extract.DataError

// reader decodes one body as a stream of JSON tokens, so responses of any
// size go through in constant memory. Every value is read exactly once; the
// callbacks given to object and array must consume the value they are given.
type reader struct {
	dec     *jsontext.Decoder
	source  string
	prefix  string // JSON pointer of a deferred sub-document within the body
	base    int64  // byte offset of the same
	scratch []byte
	rounded *int64              // counts quantities rounded at the 24th decimal (nil: not counted)
	excerpt func([]byte) string // a value, as messages may quote it (extract.Body.Excerpt)
}

// newReader reads b; rounded, if not nil, counts the quantities that
// number(true) rounds.
func newReader(b *extract.Body, rounded *int64) *reader {
	return &reader{dec: jsontext.NewDecoder(b.Reader()), source: b.Call.String(), rounded: rounded, excerpt: b.Excerpt}
}

// errorf reports bad data at the decoder's current position.
func (r *reader) errorf(format string, args ...any) error {
	return &DataError{
		Source:  r.source,
		Offset:  r.base + r.dec.InputOffset(),
		Pointer: r.prefix + string(r.dec.StackPointer()),
		Msg:     fmt.Sprintf(format, args...),
	}
}

// fail turns a decoder error into a DataError.
func (r *reader) fail(err error) error {
	var de *DataError
	if errors.As(err, &de) {
		return err
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		msg := se.Err.Error()
		if se.ByteOffset == 0 && r.base == 0 {
			msg += " (the body is not JSON: an HTML error page, or an empty response?)"
		}
		if errors.Is(se.Err, io.ErrUnexpectedEOF) {
			msg = "the body ends in the middle of a value (truncated response or capture)"
		}
		return &DataError{Source: r.source, Offset: r.base + se.ByteOffset, Pointer: r.prefix + string(se.JSONPointer), Msg: msg}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &DataError{Source: r.source, Offset: r.base + r.dec.InputOffset(), Pointer: r.prefix + string(r.dec.StackPointer()),
			Msg: "the body ends in the middle of a value (truncated response or capture)"}
	}
	return fmt.Errorf("%s: reading the body: %w", r.source, err)
}

// peek returns the kind of the next value, or the decoder's error.
func (r *reader) peek() (jsontext.Kind, error) {
	if k := r.dec.PeekKind(); k != 0 {
		return k, nil
	}
	_, err := r.dec.ReadToken()
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return 0, r.fail(err)
}

// document reads the whole body as one object and checks nothing follows it.
func (r *reader) document(member func(name []byte) error) error {
	if err := r.object(member); err != nil {
		return err
	}
	if _, err := r.dec.ReadToken(); err != io.EOF {
		if err == nil {
			return r.errorf("unexpected data after the top-level object")
		}
		return r.fail(err)
	}
	return nil
}

// object reads an object, calling member with each name (valid only until
// member reads the value, which it must do).
func (r *reader) object(member func(name []byte) error) error {
	k, err := r.peek()
	if err != nil {
		return err
	}
	if k != '{' {
		return r.errorf("expected an object, found %s", extract.KindName(k))
	}
	if _, err := r.dec.ReadToken(); err != nil {
		return r.fail(err)
	}
	for {
		k, err := r.peek()
		if err != nil {
			return err
		}
		if k == '}' {
			_, err := r.dec.ReadToken()
			return r.failIf(err)
		}
		raw, err := r.dec.ReadValue()
		if err != nil {
			return r.fail(err)
		}
		name, err := r.unquote(raw)
		if err != nil {
			return err
		}
		if err := member(name); err != nil {
			return err
		}
	}
}

// array reads an array, calling elem once per element (elem reads it).
func (r *reader) array(elem func() error) error {
	k, err := r.peek()
	if err != nil {
		return err
	}
	if k == 'n' {
		return r.skip() // a null list is an empty one
	}
	if k != '[' {
		return r.errorf("expected an array, found %s", extract.KindName(k))
	}
	if _, err := r.dec.ReadToken(); err != nil {
		return r.fail(err)
	}
	for {
		k, err := r.peek()
		if err != nil {
			return err
		}
		if k == ']' {
			_, err := r.dec.ReadToken()
			return r.failIf(err)
		}
		if err := elem(); err != nil {
			return err
		}
	}
}

func (r *reader) failIf(err error) error {
	if err != nil {
		return r.fail(err)
	}
	return nil
}

func (r *reader) skip() error { return r.failIf(r.dec.SkipValue()) }

// unquote returns the content of a raw JSON string without allocating
// unless it holds escapes.
func (r *reader) unquote(raw jsontext.Value) ([]byte, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return nil, r.errorf("expected a string, found %s", extract.KindName(raw.Kind()))
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], nil
	}
	var err error
	r.scratch, err = jsontext.AppendUnquote(r.scratch[:0], raw)
	if err != nil {
		return nil, r.errorf("bad string: %v", err)
	}
	return r.scratch, nil
}

// bytes reads a string (or null, as nil); valid until the next read.
func (r *reader) bytes() ([]byte, error) {
	raw, err := r.dec.ReadValue()
	if err != nil {
		return nil, r.fail(err)
	}
	if raw.Kind() == 'n' {
		return nil, nil
	}
	return r.unquote(raw)
}

// str reads a string; null reads as "" (NULL).
func (r *reader) str() (string, error) {
	b, err := r.bytes()
	return string(b), err
}

// strs reads an array of strings.
func (r *reader) strs() ([]string, error) {
	var out []string
	err := r.array(func() error {
		s, err := r.str()
		out = append(out, s)
		return err
	})
	return out, err
}

// number reads a JSON number exactly. null reads as not Valid. round allows
// rounding half to even at the 24th decimal (quantities only; money must be
// exact); each value so rounded is counted, for the run's notes.
func (r *reader) number(round bool) (NullDecimal, error) {
	raw, err := r.dec.ReadValue()
	if err != nil {
		return NullDecimal{}, r.fail(err)
	}
	switch raw.Kind() {
	case 'n':
		return NullDecimal{}, nil
	case '0':
	case '"':
		s, err := r.unquote(raw)
		if err != nil {
			return NullDecimal{}, err
		}
		return NullDecimal{}, r.errorf("number expected, found the string %q", r.excerpt(s))
	default:
		return NullDecimal{}, r.errorf("number expected, found %s", extract.KindName(raw.Kind()))
	}
	d, rounded, err := parseDecimal(raw, round)
	if err != nil {
		return NullDecimal{}, r.errorf("%s %v", r.excerpt(raw), err)
	}
	if rounded && r.rounded != nil {
		*r.rounded++
	}
	return Some(d), nil
}

// date reads "YYYY-MM-DD" as midnight UTC.
func (r *reader) date() (time.Time, error) {
	b, err := r.bytes()
	if err != nil {
		return time.Time{}, err
	}
	if b == nil {
		return time.Time{}, nil
	}
	t, ok := parseDay(b)
	if !ok {
		return time.Time{}, r.errorf("%q is not a date (YYYY-MM-DD)", r.excerpt(b))
	}
	return t, nil
}

// parseDay parses YYYY-MM-DD without allocating (it runs once per line).
func parseDay(b []byte) (time.Time, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false
	}
	n := func(s []byte) (int, bool) {
		v := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := n(b[0:4])
	m, ok2 := n(b[5:7])
	d, ok3 := n(b[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false // 2026-02-30
	}
	return t, true
}

// deferred reads the next value whole and returns a reader over it, for
// the rare object whose identifying fields come after its children: the
// children are decoded once the identifiers are known. Memory is bounded by
// that one value.
func (r *reader) deferred() (*reader, error) {
	ptr := r.prefix + string(r.dec.StackPointer())
	start := r.base + r.dec.InputOffset()
	raw, err := r.dec.ReadValue()
	if err != nil {
		return nil, r.fail(err)
	}
	raw = raw.Clone()
	// InputOffset was before any whitespace; the value starts at its first byte.
	return &reader{
		dec:     jsontext.NewDecoder(bytes.NewReader(raw)),
		source:  r.source,
		prefix:  ptr,
		base:    start,
		rounded: r.rounded,
		excerpt: r.excerpt,
	}, nil
}
