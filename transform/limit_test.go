package transform

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
)

func reader(t *testing.T, text io.Reader) *Reader {
	t.Helper()
	b, err := extract.NewBody(extract.Call{Provider: "p", Endpoint: "call", Capture: "p/x.json"}, text)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return NewReader(b, nil)
}

// dataError is err as a DataError, or the test fails.
func dataError(t *testing.T, err error) *billing.DataError {
	t.Helper()
	var de *billing.DataError
	if !errors.As(err, &de) {
		t.Fatalf("%v: not a DataError", err)
	}
	return de
}

// readAll reads a document whose members hold strings, numbers or arrays
// of numbers, skipping the member named skip.
func readAll(r *Reader, skip string) error {
	return r.Document(func(name []byte) error {
		switch k, err := r.Peek(); {
		case err != nil:
			return err
		case string(name) == skip:
			return r.Skip()
		case k == '"':
			_, err := r.Str()
			return err
		case k == '[':
			return r.Array(func() error { _, err := r.Number(false); return err })
		default:
			_, err := r.Number(false)
			return err
		}
	})
}

// A string or number longer than billing.MaxToken is bad data at its first
// byte, read or skipped; one of exactly MaxToken bytes is a value.
func TestTokensLongerThanMaxTokenAreBadData(t *testing.T) {
	const max = billing.MaxToken
	str := func(n int) string { return `"` + strings.Repeat("x", n-2) + `"` }
	num := func(n int) string { return "1" + strings.Repeat("0", n-1) }
	for _, c := range []struct {
		name, doc, skip, want string
		at                    int64
	}{
		{"string read", `{"id": 1, "name": ` + str(max+1) + `}`, "", "a string of more than 1048576 bytes", 18},
		{"string skipped", `{"id": 1, "name": ` + str(max+1) + `}`, "name", "a string of more than 1048576 bytes", 18},
		{"string with escapes", `{"name": "` + strings.Repeat(`\"`, max/2) + `"}`, "", "a string of more than", 9},
		{"member name", `{` + str(max+1) + `: 1}`, "", "a string of more than", 1},
		{"number", `{"n": [1, ` + num(max+1) + `]}`, "", "a number of more than 1048576 bytes", 10},
		{"number skipped", `{"n": [1, ` + num(max+1) + `]}`, "n", "a number of more than", 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			de := dataError(t, readAll(reader(t, strings.NewReader(c.doc)), c.skip))
			if !strings.Contains(de.Msg, c.want) || de.Offset != c.at {
				t.Errorf("%v, want %q at byte %d", de, c.want, c.at)
			}
			if len(de.Error()) > 1000 {
				t.Errorf("a message of %d bytes", len(de.Error()))
			}
		})
	}
	for name, doc := range map[string]string{
		"string":  `{"name": ` + str(max) + `}`,
		"escapes": `{"name": "` + strings.Repeat(`\\`, max/2-1) + `"}`,
		"number":  `{"n": ` + num(max) + `}`,
	} {
		if err := readAll(reader(t, strings.NewReader(doc)), ""); err != nil && !strings.Contains(err.Error(), "out of range") {
			t.Errorf("%s of %d bytes: %v", name, max, err)
		}
	}
}

// Where a long token's error points: the member holding it.
func TestLongTokenPointer(t *testing.T) {
	doc := `{"tenants": [{"id": "a"}, {"id": "` + strings.Repeat("x", billing.MaxToken) + `"}]}`
	r := reader(t, strings.NewReader(doc))
	err := r.Document(func(name []byte) error {
		return r.Array(func() error {
			return r.Object(func(name []byte) error { _, err := r.Str(); return err })
		})
	})
	if de := dataError(t, err); de.Pointer != "/tenants/1/id" || de.Offset != 33 {
		t.Errorf("%v, want /tenants/1/id at byte 33", de)
	}
}

// White space of any length between tokens is valid JSON: it decodes,
// and the bad data after it is reported at its offset in the body.
func TestLongWhiteSpaceIsNotHeld(t *testing.T) {
	ws := strings.Repeat(" \n\t\r", 3*billing.MaxToken/4+1) // over 3 MiB
	doc := `{"a": [1,` + ws + `2],` + ws + `"b":` + ws + `"x"` + ws + `}` + ws
	if err := readAll(reader(t, strings.NewReader(doc)), ""); err != nil {
		t.Fatal(err)
	}
	// Reader.Errorf names the offset after the value it read.
	bad := `{"a": [1,` + ws + `2],` + ws + `"b":` + ws + `[true]}`
	de := dataError(t, readAll(reader(t, strings.NewReader(bad)), ""))
	if want := int64(strings.Index(bad, "true") + 4); de.Offset != want || de.Pointer != "/b/0" {
		t.Errorf("%v, want byte %d, /b/0", de, want)
	}
	syntax := `{"a": [1,` + ws + `2],` + ws + `"b": 1` + ws + `,,}`
	de = dataError(t, readAll(reader(t, strings.NewReader(syntax)), ""))
	if want := int64(strings.Index(syntax, ",,") + 1); de.Offset != want {
		t.Errorf("%v, want byte %d", de, want)
	}
}

// A deferred value is decoded from the body again: its errors name their
// offset in the body, after white space of any length too.
func TestDeferredValueOffsets(t *testing.T) {
	for _, ws := range []string{"", " ", strings.Repeat(" ", 2*billing.MaxToken+3)} {
		doc := `{"b":` + ws + `[1,` + ws + `{"c": [2, true]}], "a": 1}`
		r := reader(t, strings.NewReader(doc))
		var later Later
		err := r.Document(func(name []byte) error {
			if string(name) == "a" {
				_, err := r.Number(false)
				return err
			}
			return later.Take(r, false, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		err = later.Each(func(r *Reader) error {
			return r.Array(func() error {
				if k, _ := r.Peek(); k == '{' {
					return r.Object(func([]byte) error {
						return r.Array(func() error { _, err := r.Number(false); return err })
					})
				}
				_, err := r.Number(false)
				return err
			})
		})
		de := dataError(t, err)
		if want := int64(strings.Index(doc, "true") + 4); de.Offset != want || de.Pointer != "/b/1/c/1" {
			t.Errorf("white space of %d bytes: %v, want byte %d, /b/1/c/1", len(ws), de, want)
		}
	}
}
