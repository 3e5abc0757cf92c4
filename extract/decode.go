package extract

import (
	"errors"
	"fmt"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/invoice-export/invoice-export/internal/billing"
)

// DecodeSmall decodes a small response body (a list page, users/info, an
// invoice read while listing) whole into v, with go-json-experiment/json:
// members v does not name are skipped, names match exactly, and invalid
// JSON, a name given twice, invalid UTF-8 and data after the value are
// refused, as the transform's streaming reader refuses them. A failure is a
// billing.DataError with the byte offset and JSON pointer of the offending
// value; what says what the body should have been.
func DecodeSmall(b *Body, what string, v any) error {
	doc := b.Document()
	dec := jsontext.NewDecoder(b.Reader())
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
