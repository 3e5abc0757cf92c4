package transform_test

import (
	"strings"
	"testing"
)

// A bad value quotes at most 100 bytes of itself, and a bad-data message
// stays short whatever the body's values: a vendor's answer reaches an
// error line, a log and the Lambda's answer only as a short excerpt.
func TestBadValuesAreQuotedShort(t *testing.T) {
	long := "X" + strings.Repeat("0123456789", 10_000) // 100 KB
	crdb := func(old, new string) map[string]string {
		return crdbFiles(strings.Replace(crdbInvoice, old, new, 1))
	}
	for _, c := range []struct {
		name     string
		run      func() error
		want     string // the message quotes this much of the value, then "…"
		maxBytes int
	}{
		{"warpstream number", func() error {
			_, _, err := runWarpStream(t, "2026-10", "2026-11-03", wsFiles(wsPast, strings.Replace(wsBreakdowns, `"total": 3.33331`, `"total": "`+long+`"`, 1)))
			return err
		}, `number expected, found the string "` + long[:100] + `…"`, 500},
		{"warpstream date", func() error {
			_, _, err := runWarpStream(t, "2026-10", "2026-11-03", wsFiles(wsPast, strings.Replace(wsBreakdowns, `"date_from": "2026-10-02"`, `"date_from": "`+long+`"`, 1)))
			return err
		}, `"` + long[:100] + `…" is not a date (YYYY-MM-DD)`, 500},
		{"cockroachdb date-time", func() error {
			_, _, err := runCockroach(t, "2026-11-03", crdb(`"period_end": "2026-11-01T00:00:00Z"`, `"period_end": "`+long+`"`))
			return err
		}, `"` + long[:100] + `…" is not a date-time (RFC 3339)`, 500},
		{"cockroachdb number", func() error {
			_, _, err := runCockroach(t, "2026-11-03", crdb(`"amount": 37.2`, `"amount": 1`+strings.Repeat("0", 5000)))
			return err
		}, `1` + strings.Repeat("0", 99) + `… is out of range`, 500},
		// A message naming whole values (here a 100 KB invoice id) is cut.
		{"cockroachdb invoice id", func() error {
			_, _, err := runCockroach(t, "2026-11-03", crdb(`"invoice_id": "inv-10"`, `"invoice_id": "`+long+`"`))
			return err
		}, `the response is invoice "X0123456789`, 700},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %.600v…, want it to contain %q", err, c.want)
			}
			if n := len(err.Error()); n > c.maxBytes {
				t.Errorf("the message is %d bytes, want at most %d: %.300s…", n, c.maxBytes, err)
			}
		})
	}
}
