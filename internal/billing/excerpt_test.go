package billing

import (
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
)

const testKey = "aks_feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface"

// keyRun returns the first run of MinKeyRun bytes of key found in s.
func keyRun(s, key string) string {
	for i := 0; i+MinKeyRun <= len(key); i++ {
		if strings.Contains(s, key[i:i+MinKeyRun]) {
			return key[i : i+MinKeyRun]
		}
	}
	return ""
}

func maskKey(s string) string { return Mask(s, testKey) }

// An excerpt is at most 100 bytes of valid UTF-8, and shows no run of the
// key long enough to matter, wherever the excerpt's end cuts it.
func TestExcerptIsShortAndMasksTheKey(t *testing.T) {
	for at := 0; at <= 120; at++ {
		v := []byte(strings.Repeat("é", at/2) + strings.Repeat("x", at%2) + testKey + strings.Repeat(" more", 30))
		got := Excerpt(v, maskKey)
		if r := keyRun(got, testKey); r != "" {
			t.Fatalf("key at byte %d: the excerpt %q shows %q", at, got, r)
		}
		if len(got) > MaxExcerpt+len(Redacted)+len("…") || !strings.HasSuffix(got, "…") || strings.ContainsRune(got, '\uFFFD') {
			t.Errorf("key at byte %d: excerpt %q (%d bytes)", at, got, len(got))
		}
	}
	if got := Excerpt([]byte("2026-13-01"), maskKey); got != "2026-13-01" {
		t.Errorf("a short value: %q", got)
	}
	if got := Excerpt([]byte("mixed \xff bytes"), nil); got != "mixed \uFFFD bytes" {
		t.Errorf("invalid UTF-8: %q", got)
	}
}

// go-json-experiment's errors quote values whole (a bad date-time, a
// member named twice): what Document.Error makes of them quotes at most an
// excerpt, masked, and a DataError's message and pointer stay bounded
// whatever they name.
func TestDocumentErrorQuotesShortAndMasked(t *testing.T) {
	doc := Document{Source: "p call (p/x.json)", Mask: maskKey}
	long := "X" + strings.Repeat("0123456789", 10_000) // 100 KB
	for _, c := range []struct {
		name, body, want string
	}{
		{"long date-time", `{"at": "` + long + `"}`, `bad data at byte 7, /at: expected an RFC 3339 date-time, found "` + long[:100] + `…"`},
		{"echoed key as a date-time", `{"at": "` + testKey[:40] + `"}`, `/at: expected an RFC 3339 date-time, found "[redacted]"`},
		{"long name twice", `{"` + long + `": 1, "` + long + `": 2}`, `: duplicate object member name "` + long[:100] + `…"`},
		{"key as a name twice", `{"` + testKey[5:30] + `": 1, "` + testKey[5:30] + `": 2}`, `/[redacted]: duplicate object member name "[redacted]"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var v struct {
				At time.Time `json:"at"`
			}
			err := json.Unmarshal([]byte(c.body), &v)
			if err == nil {
				t.Fatal("no error")
			}
			got := doc.Error(err, 0, "").Error()
			if !strings.Contains(got, c.want) {
				t.Errorf("got %.400s…\nwant it to contain %.300q", got, c.want)
			}
			if r := keyRun(got, testKey); r != "" {
				t.Errorf("the message shows %q of the key: %s", r, got)
			}
			if len(got) > len(doc.Source)+2*maxDataErrorPart+100 {
				t.Errorf("the message is %d bytes", len(got))
			}
		})
	}
}

// A DataError naming whole values (a 100 KB id, a 100 KB pointer) stays a
// short line.
func TestDataErrorIsBounded(t *testing.T) {
	long := strings.Repeat("é", 50_000)
	e := &DataError{Source: "s", Offset: 3, Pointer: "/" + long, Msg: "id " + long}
	got := e.Error()
	if len(got) > 2*maxDataErrorPart+40 || !strings.HasPrefix(got, "s: bad data at byte 3, /éé") || !strings.HasSuffix(got, "é…") {
		t.Errorf("%d bytes: %.100s…%s", len(got), got, got[max(0, len(got)-20):])
	}
	if !strings.Contains(got, "…: bad data") && !strings.Contains(got, "…: id ") {
		t.Errorf("the pointer is not cut: %.500s", got)
	}
}
