package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	invoiceexport "github.com/invoice-export/invoice-export"
)

// progress shows a run's steps on stderr: on a terminal, one status line
// redrawn in place (periods done of periods planned, per provider);
// elsewhere (CI, a log file), one plain line per step.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	order []string
	done  map[string]int
	total map[string]int
	drawn bool
}

func newProgress(w io.Writer, tty bool) *progress {
	return &progress{w: w, tty: tty, done: map[string]int{}, total: map[string]int{}}
}

// isTerminal reports whether f is a terminal (a character device), without
// a dependency.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) event(e invoiceexport.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.Provider = invoiceexport.UnitLabel(e.Provider, e.Account) // each account counts its own periods
	if _, ok := p.total[e.Provider]; !ok {
		p.order = append(p.order, e.Provider)
	}
	switch e.Stage {
	case invoiceexport.Planned:
		p.total[e.Provider] = e.Periods
	case invoiceexport.Written, invoiceexport.Failed:
		p.done[e.Provider]++
	}
	if p.tty {
		p.draw()
		return
	}
	switch e.Stage {
	case invoiceexport.Planned:
		fmt.Fprintf(p.w, "%s: %d period(s) to export\n", e.Provider, e.Periods)
	case invoiceexport.Written:
		fmt.Fprintf(p.w, "%s %s: %d rows written (%d/%d)\n", e.Provider, e.Period, e.Rows, p.done[e.Provider], p.total[e.Provider])
	}
	// Failures are not echoed here: each gets its own FAILED line at the end.
}

// draw redraws the status line: a bar over every provider's periods, then
// each provider's count.
func (p *progress) draw() {
	var done, total int
	parts := make([]string, 0, len(p.order))
	for _, name := range p.order {
		done, total = done+p.done[name], total+p.total[name]
		parts = append(parts, fmt.Sprintf("%s %d/%d", name, p.done[name], p.total[name]))
	}
	const width = 20
	filled := 0
	if total > 0 {
		filled = min(width, width*done/total)
	}
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), strings.Join(parts, " · "))
	p.drawn = true
}

// finish clears the status line before the summary.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.drawn = false
}

// clear blanks the status line, if one is drawn, for other output.
func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
