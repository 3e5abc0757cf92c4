package invoiceexport

import (
	"fmt"
	"strings"
)

// What an error answer or a log line may carry is bounded, whatever a run
// met: the Lambda's answer goes through the Runtime API, which refused a
// 100 KB one (HTTP 431), and a log line is read by people.
const (
	// MaxListed is how many lines a list of failures (or of one failure's
	// causes) shows; the rest are counted.
	MaxListed = 10
	// MaxLine bounds one line of it; a longer one is cut ("…").
	MaxLine = 600
)

// Lines are the failure's causes (a period's calls fail side by side, and
// each says what went wrong), one line each, naming provider and period:
// at most MaxListed, each at most MaxLine bytes, then one counting the rest.
func (f Failure) Lines() []string {
	lines := f.lines()
	if more := len(lines) - MaxListed; more > 0 {
		lines = append(lines[:MaxListed:MaxListed], fmt.Sprintf("%s: and %d more cause(s)", f.where(), more))
	}
	return lines
}

// lines are every cause of the failure, each at most MaxLine bytes.
func (f Failure) lines() []string {
	where := f.where()
	lines, _ := causes(f.Err, -1)
	for i, l := range lines {
		lines[i] = cut(where + ": " + strings.TrimPrefix(l, where+": "))
	}
	return lines
}

func (f Failure) where() string {
	if f.Period.IsZero() {
		return UnitLabel(f.Provider, f.Account)
	}
	return UnitLabel(f.Provider, f.Account) + " " + f.Period.String()
}

// Bounded is err's text as one log line may carry it: at most MaxListed of
// its causes, each at most MaxLine bytes, then how many more there were.
func Bounded(err error) string {
	lines, more := causes(err, MaxListed)
	for i, l := range lines {
		lines[i] = cut(l)
	}
	if more > 0 {
		lines = append(lines, fmt.Sprintf("and %d more cause(s)", more))
	}
	return strings.Join(lines, "\n")
}

// causes are the first n lines of err's causes (an errors.Join's, or its
// own; n < 0: all), and how many more there are.
func causes(err error, n int) (lines []string, more int) {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		for _, l := range strings.Split(e.Error(), "\n") {
			if l = strings.TrimSpace(l); l == "" {
				continue
			}
			if n < 0 || len(lines) < n {
				lines = append(lines, l)
			} else {
				more++
			}
		}
	}
	return lines, more
}

// cut shortens a line to MaxLine bytes of valid UTF-8.
func cut(s string) string {
	if len(s) <= MaxLine {
		return s
	}
	return strings.ToValidUTF8(s[:MaxLine], "") + "…"
}

// failures is Report.Err: a bounded text over every failure's error.
type failures struct {
	text string
	errs []error
}

func (f *failures) Error() string   { return f.text }
func (f *failures) Unwrap() []error { return f.errs }

// boundedErr is errs (every failure, the stop first if any) with lines,
// one per cause, as the text: at most MaxListed, then how many more causes
// there were of the n failed provider/periods.
func boundedErr(errs []error, lines []string, n int) error {
	if more := len(lines) - MaxListed; more > 0 {
		lines = append(lines[:MaxListed:MaxListed], fmt.Sprintf("and %d more cause(s), of %d failed provider/period(s) in all: each is logged (\"export failed\")", more, n))
	}
	return &failures{text: strings.Join(lines, "\n"), errs: errs}
}

// Unwrap is the failure's cause, for errors.Is and errors.As on a run's
// error.
func (f Failure) Unwrap() error { return f.Err }
