package billing

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// DataError is bad data in a provider's response: it names the body
// (provider, call, capture path) and the position, so the fix can start
// there. Every decoder reports it, so every bad-data message reads alike.
type DataError struct {
	Source  string // e.g. "cockroachdb ListInvoices (cockroachdb/invoices.json)"
	Offset  int64  // byte offset in the body
	Pointer string // JSON pointer of the value, e.g. /invoices/0/period_start
	Msg     string
}

// maxDataErrorPart bounds the pointer and the message of a DataError: they
// name values of the body (member names, ids, excerpts), and whatever their
// size a failure stays a short line.
const maxDataErrorPart = 4 * MaxExcerpt

func (e *DataError) Error() string {
	where := fmt.Sprintf("byte %d", e.Offset)
	if e.Pointer != "" {
		where += ", " + bound(e.Pointer)
	}
	return fmt.Sprintf("%s: bad data at %s: %s", e.Source, where, bound(e.Msg))
}

func bound(s string) string {
	if len(s) <= maxDataErrorPart {
		return s
	}
	return strings.ToValidUTF8(s[:maxDataErrorPart], "") + "…"
}

// Document is a JSON text being decoded: the body it comes from and where
// it lies in that body (a sub-document read on its own has a Base and a
// Prefix; a whole body has neither).
type Document struct {
	Source string // the body, as a DataError names it
	Base   int64  // byte offset of the document in the body
	Prefix string // JSON pointer of the document in the body
	// Mask hides the secrets the body was fetched with (Mask) in text
	// quoted from it; nil when there are none (a replayed capture).
	Mask func(string) string
	at   func(int64) int64 // the text's offset of a decoder's offset (Decoder); nil: the same
}

// Excerpt is a value of the document as a message may quote it: short, and
// masked.
func (d Document) Excerpt(v []byte) string { return Excerpt(v, d.Mask) }

// Errorf is bad data at offset and pointer, both within the document. The
// message and the pointer quote the body, so both are masked.
func (d Document) Errorf(offset int64, pointer, format string, args ...any) *DataError {
	e := &DataError{Source: d.Source, Offset: d.Offset(offset), Pointer: d.Prefix + pointer, Msg: fmt.Sprintf(format, args...)}
	if d.Mask != nil {
		e.Pointer, e.Msg = d.Mask(e.Pointer), d.Mask(e.Msg)
	}
	return e
}

// Error turns an error of go-json-experiment's decoders (jsontext or json)
// into a DataError: a syntax error, a value of the wrong kind, a duplicate
// member, a document that ends too soon. This is the one place where that
// happens, so a listing document and a streamed invoice report bad data in
// the same words. at and pointer are where the decoder stands, for an end
// of input that carries no position. An error that is not about the data
// (reading the body failed) is wrapped as it is.
func (d Document) Error(err error, at int64, pointer string) error {
	var de *DataError
	if errors.As(err, &de) {
		return err
	}
	const truncated = "the body ends in the middle of a value (truncated response or capture)"
	var se *json.SemanticError
	var syn *jsontext.SyntacticError
	var long *TokenTooLong
	switch {
	case errors.As(err, &long):
		return d.Errorf(long.At, pointer, "%s", long.Error())
	case errors.As(err, &syn):
		msg := syn.Err.Error()
		switch {
		case errors.Is(syn.Err, io.ErrUnexpectedEOF) && syn.ByteOffset == 0 && d.Base == 0:
			msg = "the body is empty (an empty response or capture)"
		case errors.Is(syn.Err, io.ErrUnexpectedEOF):
			msg = truncated
		case syn.ByteOffset == 0 && d.Base == 0:
			msg += " (the body is not JSON: an HTML error page?)"
		case errors.Is(syn.Err, jsontext.ErrDuplicateName):
			// The decoder quotes the name whole, whatever its size.
			msg = fmt.Sprintf("duplicate object member name %q", d.Excerpt([]byte(syn.JSONPointer.LastToken())))
		}
		return d.Errorf(syn.ByteOffset, string(syn.JSONPointer), "%s", msg)
	case errors.As(err, &se):
		return d.Errorf(se.ByteOffset, string(se.JSONPointer), "%s", d.semanticMessage(se))
	case errors.Is(err, io.EOF) && d.Base == 0 && pointer == "":
		// Not one value began: a decoder says io.EOF only between values.
		return d.Errorf(at, pointer, "the body is empty (an empty response or capture)")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return d.Errorf(at, pointer, truncated)
	}
	return fmt.Errorf("%s: reading the body: %w", d.Source, err)
}

var timeType = reflect.TypeFor[time.Time]()

// semanticMessage says what a value that does not fit its place should
// have been, in the words of KindName.
func (d Document) semanticMessage(se *json.SemanticError) string {
	found := KindName(se.JSONKind)
	var pe *time.ParseError
	switch {
	case errors.Is(se.Err, json.ErrUnknownName):
		return fmt.Sprintf("unknown member %q", d.Excerpt([]byte(se.JSONPointer.LastToken())))
	case se.GoType == timeType && errors.As(se.Err, &pe):
		return fmt.Sprintf("expected an RFC 3339 date-time, found %q", d.Excerpt([]byte(pe.Value)))
	case se.GoType == timeType:
		return "expected an RFC 3339 date-time, found " + found
	case se.GoType != nil && se.JSONKind != 0:
		want := map[reflect.Kind]jsontext.Kind{reflect.String: '"', reflect.Slice: '[', reflect.Array: '[', reflect.Struct: '{', reflect.Map: '{',
			reflect.Bool: 't', reflect.Int: '0', reflect.Int64: '0', reflect.Float64: '0'}[se.GoType.Kind()]
		if want != 0 && want != se.JSONKind {
			return fmt.Sprintf("expected %s, found %s", KindName(want), found)
		}
	}
	if se.Err != nil {
		return strings.TrimPrefix(se.Err.Error(), "jsontext: ")
	}
	return se.Error()
}

// KindName is how a JSON kind reads in a message ("an object", "null").
func KindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return "nothing"
}

// End checks that nothing but white space follows the top-level value dec
// has read.
func (d Document) End(dec *jsontext.Decoder) error {
	switch v, err := dec.ReadValue(); err {
	case io.EOF:
		return nil
	case nil:
		return d.Errorf(dec.InputOffset()-int64(len(v)), "", "unexpected data after the top-level object")
	default:
		return d.Error(err, dec.InputOffset(), "")
	}
}
