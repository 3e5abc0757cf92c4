package main

import (
	"strings"
	"testing"

	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/extract"
)

func TestProgressDisplay(t *testing.T) {
	oct, _ := extract.ParsePeriod("2026-10")
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
