package main

import (
	"context"
	"io"
	"log/slog"
)

// newLogger is the command's log: warnings (retries, as they happen) on
// stderr; with -v every step too. Errors are left to the summary and the
// FAILED lines, which say the same once and in order; the Lambda, which has
// no summary, logs them.
func newLogger(w io.Writer, p *progress, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	var h slog.Handler = slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
	if !verbose {
		h = belowError{h}
	}
	return slog.New(progressLog{h, p})
}

// belowError drops error records.
type belowError struct{ slog.Handler }

func (h belowError) Enabled(ctx context.Context, l slog.Level) bool {
	return l < slog.LevelError && h.Handler.Enabled(ctx, l)
}
func (h belowError) WithAttrs(as []slog.Attr) slog.Handler {
	return belowError{h.Handler.WithAttrs(as)}
}
func (h belowError) WithGroup(g string) slog.Handler { return belowError{h.Handler.WithGroup(g)} }

// progressLog keeps log lines and the terminal's status line apart: the
// status line is cleared before a record is written and drawn again after.
type progressLog struct {
	slog.Handler
	p *progress
}

func (h progressLog) Handle(ctx context.Context, r slog.Record) error {
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	h.p.clear()
	err := h.Handler.Handle(ctx, r)
	if h.p.drawn {
		h.p.draw()
	}
	return err
}
func (h progressLog) WithAttrs(as []slog.Attr) slog.Handler {
	return progressLog{h.Handler.WithAttrs(as), h.p}
}
func (h progressLog) WithGroup(g string) slog.Handler {
	return progressLog{h.Handler.WithGroup(g), h.p}
}
