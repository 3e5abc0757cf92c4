package extract

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// DataError is bad data in a vendor's response: it names the body (vendor,
// endpoint, capture path) and the position, so the fix can start there.
// transform's streaming decoders report the same type (transform.DataError
// is this one), so every bad-data message reads alike.
type DataError struct {
	Source  string // e.g. "cockroachdb ListInvoices (cockroachdb/invoices.json)"
	Offset  int64  // byte offset in the body
	Pointer string // JSON pointer of the value, e.g. /invoices/0/period_start
	Msg     string
}

// maxDataErrorPart bounds the pointer and the message of a DataError: they
// name values of the body (member names, ids, excerpts), and whatever their
// size a failure stays a short line.
const maxDataErrorPart = 4 * maxExcerpt

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

// decodeSmall decodes a small response body (a list page, users/info, an
// invoice read while listing) whole into v, a pointer to a struct whose
// json tags name the fields listing needs (strings, time.Time, structs and
// slices of them); other members are skipped, null leaves a field unset.
// It reads with jsontext, the tokenizer transform's decoders use, so the
// same inputs are refused (invalid JSON, duplicate names, invalid UTF-8,
// data after the value), and a failure is a DataError with the byte offset
// and JSON pointer of the offending value; what says what the body should
// have been.
func decodeSmall(b *Body, what string, v any) error {
	data, err := io.ReadAll(b.Reader())
	if err != nil {
		return fmt.Errorf("%s: reading the body: %w", b.Call, err)
	}
	d := &smallDecoder{data: data, dec: jsontext.NewDecoder(bytes.NewReader(data)), body: b}
	if len(bytes.TrimSpace(data)) == 0 {
		err = &DataError{Msg: "the body is empty (an empty response or capture)"}
	} else if err = d.value(reflect.ValueOf(v).Elem(), ""); err == nil {
		if d.dec.PeekKind() != 0 {
			err = d.errorf("", "unexpected data after the top-level object")
		} else if _, err = d.dec.ReadToken(); err == io.EOF {
			return nil
		}
	}
	var de *DataError
	var se *jsontext.SyntacticError
	switch {
	case errors.As(err, &de):
	case errors.As(err, &se):
		de = &DataError{Offset: se.ByteOffset, Pointer: string(se.JSONPointer), Msg: se.Err.Error()}
		switch {
		case errors.Is(se.Err, io.ErrUnexpectedEOF):
			de.Msg = "the body ends in the middle of a value (truncated response or capture)"
		case se.ByteOffset == 0:
			de.Msg += " (the body is not JSON: an HTML error page?)"
		}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		de = &DataError{Offset: int64(len(data)), Msg: "the body ends in the middle of a value (truncated response or capture)"}
	default:
		return fmt.Errorf("%s: %s: %w", b.Call, what, err)
	}
	de.Source, de.Msg = b.Call.String(), what+": "+de.Msg
	return de
}

// smallDecoder fills Go values from a jsontext stream, keeping the JSON
// pointer of the value at hand for messages.
type smallDecoder struct {
	data []byte
	dec  *jsontext.Decoder
	body *Body
}

var timeType = reflect.TypeFor[time.Time]()

// errorf is bad data in the value that starts next (at ptr).
func (d *smallDecoder) errorf(ptr, format string, args ...any) error {
	off := d.dec.InputOffset()
	for off < int64(len(d.data)) && strings.IndexByte(" \t\r\n:,", d.data[off]) >= 0 {
		off++ // to the value's first byte
	}
	return &DataError{Offset: off, Pointer: ptr, Msg: fmt.Sprintf(format, args...)}
}

func (d *smallDecoder) value(v reflect.Value, ptr string) error {
	k := d.dec.PeekKind()
	if k == 0 {
		_, err := d.dec.ReadToken()
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	want := byte('{')
	switch {
	case v.Type() == timeType || v.Kind() == reflect.String:
		want = '"'
	case v.Kind() == reflect.Slice:
		want = '['
	case v.Kind() != reflect.Struct:
		return fmt.Errorf("decodeSmall: cannot decode into %s", v.Type())
	}
	if k == 'n' {
		_, err := d.dec.ReadToken()
		return err // null: unset
	}
	if byte(k) != want {
		return d.errorf(ptr, "expected %s, found %s", KindName(jsontext.Kind(want)), KindName(k))
	}
	start := d.errorf(ptr, "") // the value's position, should it not parse
	tok, err := d.dec.ReadToken()
	if err != nil {
		return err
	}
	switch {
	case v.Type() == timeType:
		t, err := time.Parse(time.RFC3339Nano, tok.String())
		if err != nil {
			start.(*DataError).Msg = fmt.Sprintf("expected an RFC 3339 date-time, found %q", d.body.Excerpt([]byte(tok.String())))
			return start
		}
		v.Set(reflect.ValueOf(t))
	case v.Kind() == reflect.String:
		v.SetString(tok.String())
	case v.Kind() == reflect.Slice:
		for i := 0; d.dec.PeekKind() != ']'; i++ {
			if d.dec.PeekKind() == 0 {
				return d.value(v, ptr) // reports the error
			}
			e := reflect.New(v.Type().Elem()).Elem()
			if err := d.value(e, ptr+"/"+strconv.Itoa(i)); err != nil {
				return err
			}
			v.Set(reflect.Append(v, e))
		}
		_, err = d.dec.ReadToken()
		return err
	default: // struct
		for d.dec.PeekKind() != '}' {
			if d.dec.PeekKind() == 0 {
				return d.value(v, ptr)
			}
			name, err := d.dec.ReadToken()
			if err != nil {
				return err
			}
			f, ok := fieldByTag(v, name.String())
			if !ok {
				if err := d.dec.SkipValue(); err != nil {
					return err
				}
				continue
			}
			if err := d.value(f, ptr+"/"+jsonPointerToken(name.String())); err != nil {
				return err
			}
		}
		_, err = d.dec.ReadToken()
		return err
	}
	return nil
}

// fieldByTag finds the field of struct v whose json tag names name.
func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag == name && t.Field(i).IsExported() {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// jsonPointerToken escapes a member name for a JSON pointer (RFC 6901).
func jsonPointerToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// KindName is how a JSON kind reads in a message ("an object", "null"):
// transform's decoders word their errors the same way.
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
