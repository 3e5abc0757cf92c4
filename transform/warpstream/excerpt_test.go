package warpstream_test

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
	}{
		{"number", `"total": 3.33331`, `"total": "` + long + `"`, `number expected, found the string "` + long[:100] + `…"`},
		{"date", `"date_from": "2026-10-02"`, `"date_from": "` + long + `"`, `"` + long[:100] + `…" is not a date (YYYY-MM-DD)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(wsBreakdowns, c.old) {
				t.Fatalf("the breakdowns hold no %s", c.old)
			}
			_, _, err := run(t, "2026-10", "2026-11-03", wsFiles(wsPast, strings.Replace(wsBreakdowns, c.old, c.new, 1)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %.600v…, want it to contain %q", err, c.want)
			}
			if n := len(err.Error()); n > 500 {
				t.Errorf("the message is %d bytes, want at most 500: %.300s…", n, err)
			}
		})
	}
}
