package warpstream

import (
	"testing"
	"time"
)

// appendDay writes what time.Format does, for every day of years 0-9999
// at a stride, and every day of 2026.
func TestAppendDayIsFormat(t *testing.T) {
	check := func(d time.Time) {
		if got, want := string(appendDay([]byte("x/"), d)), "x/"+d.Format("2006-01-02"); got != want {
			t.Fatalf("appendDay(%v) = %q, want %q", d, got, want)
		}
	}
	for day := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC); day.Year() < 10000; day = day.AddDate(0, 0, 997) {
		check(day)
	}
	for day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); day.Year() == 2026; day = day.AddDate(0, 0, 1) {
		check(day)
	}
	check(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC))
}
