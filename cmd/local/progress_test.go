package main

import (
	"regexp"
	"strings"
	"testing"

	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/internal/billing"
)

func TestProgressDisplay(t *testing.T) {
	oct, _ := billing.ParsePeriod("2026-10")
	events := []invoiceexport.Event{
		{Provider: "warpstream", Stage: invoiceexport.Planned, Periods: 2},
		{Provider: "cockroachdb", Stage: invoiceexport.Planned, Periods: 1},
		{Provider: "warpstream", Stage: invoiceexport.Written, Period: oct, Rows: 368},
		{Provider: "cockroachdb", Stage: invoiceexport.Failed, Period: oct},
	}
	var plain strings.Builder
	p := newProgress(&plain, false)
	for _, e := range events {
		p.event(e)
	}
	p.finish()
	want := "warpstream: 2 period(s) to export\n" +
		"cockroachdb: 1 period(s) to export\n" +
		"warpstream 2026-10: 368 rows written (1/2)\n"
	if plain.String() != want {
		t.Errorf("plain progress:\n%q\nwant\n%q", plain.String(), want)
	}
	var tty strings.Builder
	p = newProgress(&tty, true)
	for _, e := range events {
		p.event(e)
	}
	p.finish()
	lines := strings.Split(tty.String(), "\r\033[K")
	if last := lines[len(lines)-2]; last != "[#############.......] warpstream 1/2 · cockroachdb 1/1" {
		t.Errorf("last status line %q", last)
	}
	if !strings.HasSuffix(tty.String(), "\r\033[K") || strings.Contains(tty.String(), "\n") {
		t.Errorf("the TTY display must redraw one line and clear it at the end: %q", tty.String())
	}
}

// On a terminal, a log line never lands inside the status line: it is
// cleared first and drawn again after. Error records are left to the
// summary unless -v.
func TestLogAndProgress(t *testing.T) {
	var out strings.Builder
	p := newProgress(&out, true)
	log := newLogger(&out, p, false)
	p.event(invoiceexport.Event{Provider: "warpstream", Stage: invoiceexport.Planned, Periods: 2})
	log.Warn("retrying", "attempt", 1)
	log.Error("export failed")
	p.finish()
	want := "\r\033[K[....................] warpstream 0/2" + // drawn
		"\r\033[K" + "level=WARN msg=retrying attempt=1\n" + // cleared, logged
		"\r\033[K[....................] warpstream 0/2" + // drawn again
		"\r\033[K" // cleared at the end
	got := regexp.MustCompile(`time=\S+ `).ReplaceAllString(out.String(), "")
	if got != want {
		t.Errorf("terminal output\n%q\nwant\n%q", got, want)
	}
	out.Reset()
	newLogger(&out, newProgress(&out, false), true).Error("export failed")
	if !strings.Contains(out.String(), "level=ERROR msg=\"export failed\"") {
		t.Errorf("-v must show errors: %q", out.String())
	}
}
