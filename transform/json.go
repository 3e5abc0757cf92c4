package transform

import (
	"bufio"
	"bytes"
	"io"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
)

// Reader decodes one body as a stream of JSON tokens, so responses of any
// size go through in constant memory: no token may be longer than
// billing.MaxToken, and white space is not held (billing.Document.Decoder).
// Every value is read exactly once; the callbacks given to Object and Array
// must consume the value they are given. Its errors are billing.DataErrors,
// positioned in the body.
type Reader struct {
	dec     *jsontext.Decoder
	doc     billing.Document // the body, and where a deferred sub-document lies in it
	body    io.ReaderAt      // the whole body, which a deferred value is read from again
	scratch []byte
	rounded *int64 // counts quantities rounded at the 24th decimal (nil: not counted)
}

// NewReader reads b; rounded, if not nil, counts the quantities that
// Number(true) rounds.
func NewReader(b *extract.Body, rounded *int64) *Reader {
	body := b.Reader()
	return newReader(b.Document(), body, bufio.NewReaderSize(body, readBuffer), rounded)
}

// readBuffer is how much of a body is read at once. The decoder asks for a
// few KB at a time; read straight from the file, a 100 MB month was 26,000
// system calls and a tenth of the decoding goroutine's time
// (docs/performance.md).
const readBuffer = 64 << 10

// newReader reads the document doc from text, a section of body.
func newReader(doc billing.Document, body io.ReaderAt, text io.Reader, rounded *int64) *Reader {
	r := &Reader{doc: doc, body: body, rounded: rounded}
	r.dec = r.doc.Decoder(text)
	return r
}

// Errorf reports bad data at the decoder's current position.
func (r *Reader) Errorf(format string, args ...any) error {
	return r.doc.Errorf(r.dec.InputOffset(), string(r.dec.StackPointer()), format, args...)
}

// Excerpt is a value of the body as a message may quote it: at most
// billing.MaxExcerpt bytes, with the keys the body was fetched with masked.
func (r *Reader) Excerpt(v []byte) string { return r.doc.Excerpt(v) }

// fail turns a decoder error into a DataError.
func (r *Reader) fail(err error) error {
	return r.doc.Error(err, r.dec.InputOffset(), string(r.dec.StackPointer()))
}

// Peek returns the kind of the next value, or the decoder's error.
func (r *Reader) Peek() (jsontext.Kind, error) {
	if k := r.dec.PeekKind(); k != 0 {
		return k, nil
	}
	_, err := r.dec.ReadToken()
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return 0, r.fail(err)
}

// Document reads the whole body as one object and checks nothing follows it.
func (r *Reader) Document(member func(name []byte) error) error {
	if err := r.Object(member); err != nil {
		return err
	}
	return r.doc.End(r.dec)
}

// object reads an object, calling member with each name (valid only until
// member reads the value, which it must do).
func (r *Reader) Object(member func(name []byte) error) error {
	k, err := r.Peek()
	if err != nil {
		return err
	}
	if k != '{' {
		return r.Errorf("expected an object, found %s", billing.KindName(k))
	}
	if _, err := r.dec.ReadToken(); err != nil {
		return r.fail(err)
	}
	for {
		k, err := r.Peek()
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
func (r *Reader) Array(elem func() error) error {
	k, err := r.Peek()
	if err != nil {
		return err
	}
	if k == 'n' {
		return r.Skip() // a null list is an empty one
	}
	if k != '[' {
		return r.Errorf("expected an array, found %s", billing.KindName(k))
	}
	if _, err := r.dec.ReadToken(); err != nil {
		return r.fail(err)
	}
	for {
		k, err := r.Peek()
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

func (r *Reader) failIf(err error) error {
	if err != nil {
		return r.fail(err)
	}
	return nil
}

func (r *Reader) Skip() error { return r.failIf(r.dec.SkipValue()) }

// unquote returns the content of a raw JSON string without allocating
// unless it holds escapes.
func (r *Reader) unquote(raw jsontext.Value) ([]byte, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return nil, r.Errorf("expected a string, found %s", billing.KindName(raw.Kind()))
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], nil
	}
	var err error
	r.scratch, err = jsontext.AppendUnquote(r.scratch[:0], raw)
	if err != nil {
		return nil, r.Errorf("bad string: %v", err)
	}
	return r.scratch, nil
}

// bytes reads a string (or null, as nil); valid until the next read.
func (r *Reader) Bytes() ([]byte, error) {
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
func (r *Reader) Str() (string, error) {
	b, err := r.Bytes()
	return string(b), err
}

// strs reads an array of strings.
func (r *Reader) Strs() ([]string, error) {
	var out []string
	err := r.Array(func() error {
		s, err := r.Str()
		out = append(out, s)
		return err
	})
	return out, err
}

// Number reads a JSON number exactly. null reads as not Valid. round allows
// rounding half to even at the 24th decimal (quantities only; money must be
// exact); each value so rounded is counted, for the run's notes.
func (r *Reader) Number(round bool) (NullDecimal, error) {
	raw, err := r.numberText()
	if err != nil || raw == nil {
		return NullDecimal{}, err
	}
	d, rounded, err := parseDecimal(raw, round)
	if err != nil {
		return NullDecimal{}, r.Errorf("%s %v", r.Excerpt(raw), err)
	}
	if rounded && r.rounded != nil {
		*r.rounded++
	}
	return Some(d), nil
}

// numberText reads a JSON number's text; null reads as nil.
func (r *Reader) numberText() (jsontext.Value, error) {
	raw, err := r.dec.ReadValue()
	if err != nil {
		return nil, r.fail(err)
	}
	switch raw.Kind() {
	case 'n':
		return nil, nil
	case '0':
		return raw, nil
	case '"':
		s, err := r.unquote(raw)
		if err != nil {
			return nil, err
		}
		return nil, r.Errorf("number expected, found the string %q", r.Excerpt(s))
	}
	return nil, r.Errorf("number expected, found %s", billing.KindName(raw.Kind()))
}

// Float reads a number of a field the vendor documents or types as a
// float64, at the 15 significant digits a float64 holds (ParseFloat64).
// null reads as not Valid.
func (r *Reader) Float() (NullDecimal, error) {
	raw, err := r.numberText()
	if err != nil || raw == nil {
		return NullDecimal{}, err
	}
	d, err := ParseFloat64(raw)
	if err != nil {
		return NullDecimal{}, r.Errorf("%s %v", r.Excerpt(raw), err)
	}
	return Some(d), nil
}

// date reads "YYYY-MM-DD" as midnight UTC.
func (r *Reader) Date() (time.Time, error) {
	b, err := r.Bytes()
	if err != nil {
		return time.Time{}, err
	}
	if b == nil {
		return time.Time{}, nil
	}
	t, ok := parseDay(b)
	if !ok {
		return time.Time{}, r.Errorf("%q is not a date (YYYY-MM-DD)", r.Excerpt(b))
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

// Deferred skips the next value and returns a reader over it, for the
// rare object whose identifying fields come after its children: the
// children are decoded once the identifiers are known. The value is read
// again from the body (a file), so deferring costs no memory whatever its
// size.
func (r *Reader) Deferred() (*Reader, error) {
	ptr := string(r.dec.StackPointer())
	start, err := r.skip()
	if err != nil {
		return nil, err
	}
	doc := r.doc.Sub(start, ptr)
	end := r.doc.Offset(r.dec.InputOffset())
	return newReader(doc, r.body, io.NewSectionReader(r.body, doc.Base, end-doc.Base), r.rounded), nil
}

// skip reads past the next value, token by token, and returns the offset
// of its first byte.
func (r *Reader) skip() (int64, error) {
	k, err := r.Peek()
	if err != nil {
		return 0, err
	}
	if k != '[' && k != '{' {
		raw, err := r.dec.ReadValue()
		if err != nil {
			return 0, r.fail(err)
		}
		return r.dec.InputOffset() - int64(len(raw)), nil
	}
	if _, err := r.dec.ReadToken(); err != nil {
		return 0, r.fail(err)
	}
	start := r.dec.InputOffset() - 1
	for {
		k, err := r.Peek()
		if err != nil {
			return 0, err
		}
		if k == ']' || k == '}' {
			_, err := r.dec.ReadToken()
			return start, r.failIf(err)
		}
		if err := r.Skip(); err != nil { // a member's name, then its value
			return 0, err
		}
	}
}

// Later holds the members of an object that cannot be decoded until
// fields that may come after them are known (WarpStream sends a cluster's
// charges before or after its id and name): each is read whole, then
// decoded by Each once the object is done.
type Later []*Reader

// Take decodes the next value with decode now when ready, else reads it
// whole for Each.
func (l *Later) Take(r *Reader, ready bool, decode func(*Reader) error) error {
	if ready {
		return decode(r)
	}
	sub, err := r.Deferred()
	*l = append(*l, sub)
	return err
}

// Each decodes the deferred members, in order.
func (l Later) Each(decode func(*Reader) error) error {
	for _, sub := range l {
		if err := decode(sub); err != nil {
			return err
		}
	}
	return nil
}

// Instant reads an RFC 3339 date-time in UTC. null, and the zero time that
// Go servers print for an unset time (0001-01-01T00:00:00Z), read as the
// zero time: unset.
func (r *Reader) Instant() (time.Time, error) {
	b, err := r.Bytes()
	if err != nil || b == nil {
		return time.Time{}, err
	}
	t, perr := time.Parse(time.RFC3339Nano, string(b))
	if perr != nil {
		return time.Time{}, r.Errorf("%q is not a date-time (RFC 3339)", r.Excerpt(b))
	}
	return t.UTC(), nil
}
