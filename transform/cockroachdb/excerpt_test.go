package cockroachdb_test

import (
	"strings"
	"testing"
)

// A bad value quotes at most 100 bytes of itself, and a bad-data message
// stays short whatever the body's values: a vendor's answer reaches an
// error line, a log and the Lambda's answer only as a short excerpt.
func TestBadValuesAreQuotedShort(t *testing.T) {
	long := "X" + strings.Repeat("0123456789", 10_000) // 100 KB
	for _, c := range []struct {
		name     string
		old, new string
		want     string // the message quotes this much of the value, then "…"
		maxBytes int
	}{
		{"date-time", `"period_end": "2026-11-01T00:00:00Z"`, `"period_end": "` + long + `"`, `"` + long[:100] + `…" is not a date-time (RFC 3339)`, 500},
		{"number", `"amount": 37.2`, `"amount": 1` + strings.Repeat("0", 5000), `1` + strings.Repeat("0", 99) + `… is out of range`, 500},
		// A message naming whole values (here a 100 KB invoice id) is cut.
		{"invoice id", `"invoice_id": "inv-10"`, `"invoice_id": "` + long + `"`, `the response is invoice "X0123456789`, 700},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(crdbInvoice, c.old) {
				t.Fatalf("the invoice holds no %s", c.old)
			}
			_, _, err := runCockroach(t, "2026-11-03", crdbFiles(strings.Replace(crdbInvoice, c.old, c.new, 1)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %.600v…, want it to contain %q", err, c.want)
			}
			if n := len(err.Error()); n > c.maxBytes {
				t.Errorf("the message is %d bytes, want at most %d: %.300s…", n, c.maxBytes, err)
			}
		})
	}
}
