package invoiceexport

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/load"
)

// A run's error lists at most MaxListed lines of at most MaxLine bytes,
// then counts the rest; it still wraps every failure. One failure's causes
// are bounded the same way, for cmd/local's lines and the log.
func TestFailuresAreListedBounded(t *testing.T) {
	period := func(i int) billing.Period { return billing.PeriodOf(Earliest.Start().AddDate(0, i, 0)) }
	calls := func(n int) error {
		var errs []error
		for i := range n {
			errs = append(errs, fmt.Errorf("warpstream call %d: HTTP 401 %s", i, strings.Repeat("é", 1000)))
		}
		return errors.Join(errs...)
	}
	sentinel := errors.New("the one to find")
	rep := &Report{}
	for i := range 36 {
		rep.Failures = append(rep.Failures, Failure{Provider: "warpstream", Period: period(i), Err: calls(3)})
	}
	rep.Failures = append(rep.Failures, Failure{Provider: "cockroachdb", Err: fmt.Errorf("listing: %w", sentinel)})
	err := rep.Err()
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxListed+1 || lines[MaxListed] != `and 99 more cause(s), of 37 failed provider/period(s) in all: each is logged ("export failed")` {
		t.Errorf("%d lines, the last %q", len(lines), lines[len(lines)-1])
	}
	for _, l := range lines {
		if len(l) > MaxLine+len("…") || !strings.HasPrefix(l, "warpstream 2000-0") && !strings.HasPrefix(l, "and ") {
			t.Errorf("line of %d bytes: %.80q", len(l), l)
		}
	}
	if !errors.Is(err, sentinel) {
		t.Error("the error does not wrap every failure")
	}

	f := Failure{Provider: "warpstream", Period: period(0), Err: calls(25)}
	got := f.Lines()
	if len(got) != MaxListed+1 || got[MaxListed] != "warpstream 2000-01: and 15 more cause(s)" || !strings.HasPrefix(got[0], "warpstream 2000-01: warpstream call 0: HTTP 401 éé") {
		t.Errorf("%d lines: %.100q … %q", len(got), got[0], got[len(got)-1])
	}
	if b := Bounded(calls(25)); strings.Count(b, "\n") != MaxListed || len(b) > (MaxListed+1)*(MaxLine+10) || !strings.HasSuffix(b, "and 15 more cause(s)") {
		t.Errorf("Bounded: %d bytes, %d lines", len(b), strings.Count(b, "\n")+1)
	}
}

// The periods a stop left unwritten are one line, the first, naming at
// most MaxListed of them.
func TestStopErrorIsBounded(t *testing.T) {
	stop := fmt.Errorf("%w: PutObject made no progress", load.ErrStorageUnresponsive)
	rep := &Report{Stopped: stop}
	for i := range 30 {
		rep.Failures = append(rep.Failures, Failure{Provider: "warpstream", Period: billing.PeriodOf(Earliest.Start().AddDate(0, i, 0)), Err: stop})
	}
	msg := rep.Err().Error()
	if strings.Contains(msg, "\n") || !strings.HasSuffix(msg, "warpstream 2000-10, and 20 more)") {
		t.Errorf("%s", msg)
	}
}
