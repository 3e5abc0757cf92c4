package extract

import (
	"errors"
	"fmt"

	"github.com/go-json-experiment/json"

	"github.com/invoice-export/invoice-export/internal/billing"
)

// MaxSmall is the largest body DecodeSmall reads: 8 MiB, hundreds of times
// what a listing document holds (a page of 50 Spectro Cloud invoices is
// about 32 KB, a CockroachDB invoice list of two years about 26 KB), and
// little enough that what a decoder keeps of it stays in the tens of MB.
const MaxSmall = 8 << 20

// DecodeSmall decodes a small response body (a list page, users/info, an
// invoice read while listing) whole into v, with go-json-experiment/json:
// members v does not name are skipped, names match exactly, and invalid
// JSON, a name given twice, invalid UTF-8 and data after the value are
// refused, as the transform's streaming reader refuses them; so are a
// body over MaxSmall and a token over billing.MaxToken. A failure is a
// billing.DataError with the byte offset and JSON pointer of the offending
// value; what says what the body should have been.
func DecodeSmall(b *Body, what string, v any) error {
	doc := b.Document()
	if b.Size() > MaxSmall {
		return doc.Errorf(MaxSmall, "", "%s: the body is %d bytes, more than the %d MiB a listing document may have; nothing of it was read",
			what, b.Size(), MaxSmall>>20)
	}
	dec := doc.Decoder(b.Reader())
	err := json.UnmarshalDecode(dec, v)
	if err == nil {
		err = doc.End(dec)
	}
	if err == nil {
		return nil
	}
	err = doc.Error(err, dec.InputOffset(), string(dec.StackPointer()))
	var de *billing.DataError
	if !errors.As(err, &de) {
		return fmt.Errorf("%s: %w", what, err)
	}
	de.Msg = what + ": " + de.Msg
	return de
}
