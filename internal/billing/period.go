// Package billing is the vocabulary every stage shares: the billing
// period, and how bad data in a provider's response is reported.
package billing

import (
	"fmt"
	"time"
)

// Period is a calendar-month billing period, [Start, End) in UTC.
type Period struct{ start time.Time }

// PeriodOf returns the period that contains t.
func PeriodOf(t time.Time) Period {
	t = t.UTC()
	return Period{time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)}
}

// ParsePeriod parses "YYYY-MM". "0001-01" is refused: it is the zero
// Period, which means "unset" (a range's open end).
func ParsePeriod(s string) (Period, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || t.IsZero() {
		return Period{}, fmt.Errorf("%q is not a month: use YYYY-MM, e.g. 2026-01", Excerpt([]byte(s), nil))
	}
	return Period{t}, nil
}

func (p Period) Start() time.Time     { return p.start }
func (p Period) End() time.Time       { return p.start.AddDate(0, 1, 0) }
func (p Period) Next() Period         { return Period{p.End()} }
func (p Period) Prev() Period         { return Period{p.start.AddDate(0, -1, 0)} }
func (p Period) IsZero() bool         { return p.start.IsZero() }
func (p Period) Before(q Period) bool { return p.start.Before(q.start) }
func (p Period) String() string       { return p.start.Format("2006-01") }

// Contains reports whether t falls in [Start, End).
func (p Period) Contains(t time.Time) bool {
	return !t.Before(p.start) && t.Before(p.End())
}

// Compare orders periods by their start.
func (p Period) Compare(q Period) int { return p.start.Compare(q.start) }
