package billing

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Bad data is a DataError at its byte and JSON pointer, in the words the
// transforms' streaming Reader uses too (its tests, in transform/<provider>,
// check the same messages).
func TestDocumentErrorIsOneMapping(t *testing.T) {
	doc := Document{Source: "p call (p/x.json)"}
	type page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	for _, c := range []struct{ name, body, want string }{
		{"empty", "", "p call (p/x.json): bad data at byte 0: the body is empty (an empty response or capture)"},
		{"blank", "  \n", "bad data at byte 0: the body is empty"},
		{"html", "<html>", "bad data at byte 0: invalid character '<' at start of value (the body is not JSON: an HTML error page?)"},
		{"truncated", `{"items": [{"id": "a"`, "bad data at byte 21, /items/0: the body ends in the middle of a value (truncated response or capture)"},
		{"duplicate", `{"items": [], "items": []}`, "bad data at byte 14, /items: duplicate object member name"},
		{"trailing", `{"items": []} {}`, "bad data at byte 14: unexpected data after the top-level object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Through a decoder, as extract.DecodeSmall reads a body.
			dec := jsontext.NewDecoder(strings.NewReader(c.body))
			var v page
			err := json.UnmarshalDecode(dec, &v)
			if err == nil {
				err = doc.End(dec)
			}
			if err != nil {
				err = doc.Error(err, dec.InputOffset(), string(dec.StackPointer()))
			}
			var de *DataError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("json: %v, want %q", err, c.want)
			}
		})
	}
}

// A value of the wrong kind names what was expected, in KindName's words.
func TestSemanticErrors(t *testing.T) {
	doc := Document{Source: "s"}
	for body, want := range map[string]string{
		`{"items": {"id": "a"}}`:    "bad data at byte 10, /items: expected an array, found an object",
		`{"items": [{"id": 7}]}`:    "bad data at byte 18, /items/0/id: expected a string, found a number",
		`{"at": "October"}`:         `bad data at byte 7, /at: expected an RFC 3339 date-time, found "October"`,
		`{"at": 5}`:                 "bad data at byte 7, /at: expected an RFC 3339 date-time, found a number",
		`{"items": [], "other": 1}`: "",
		``:                          "bad data at byte 0: the body is empty (an empty response or capture)",
	} {
		var v struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			At time.Time `json:"at"`
		}
		err := json.Unmarshal([]byte(body), &v)
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v (unknown members are skipped)", body, err)
			}
			continue
		}
		if got := doc.Error(err, 0, ""); got == nil || !strings.Contains(got.Error(), want) {
			t.Errorf("%s: %v, want %q", body, got, want)
		}
	}
}
