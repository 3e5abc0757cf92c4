package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Dir is a Source that answers calls from a folder in the capture layout
// (what --record and the Lambda's raw/ prefix write).
type Dir string

// Fetch opens the capture file of c.
func (d Dir) Fetch(ctx context.Context, c Call) (*Body, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path := filepath.Join(string(d), filepath.FromSlash(c.Capture))
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no capture %s: %w (record it with --live --record, or choose periods the captures hold with --from/--to and --as-of)", c.Provider, path, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: capture %s is not a regular file", c.Provider, path)
	}
	return &Body{Call: c, f: f, size: st.Size()}, nil
}

// Has reports whether the folder holds captures of provider at all.
func (d Dir) Has(provider string) bool {
	st, err := os.Stat(filepath.Join(string(d), provider))
	return err == nil && st.IsDir()
}

// SaveFunc stores one response body under its capture path.
type SaveFunc func(ctx context.Context, capture string, r io.Reader) error

// Record returns a Source that passes every body src returns to save as
// well, so a live run can be replayed later from what it saved.
func Record(src Source, save SaveFunc) Source { return recorder{src, save} }

type recorder struct {
	src  Source
	save SaveFunc
}

func (r recorder) Fetch(ctx context.Context, c Call) (*Body, error) {
	b, err := r.src.Fetch(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := r.save(ctx, c.Capture, b.Reader()); err != nil {
		b.Close()
		return nil, fmt.Errorf("%s: saving the raw response %s: %w", c.Provider, c.Capture, err)
	}
	return b, nil
}

// SaveToDir is a SaveFunc writing into a capture folder; each file appears
// whole (written aside, then renamed), so an interrupted run leaves no
// partial capture behind.
func SaveToDir(dir string) SaveFunc {
	return func(ctx context.Context, capture string, r io.Reader) error {
		path := filepath.Join(dir, filepath.FromSlash(capture))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		tmp, err := os.CreateTemp(filepath.Dir(path), ".capture-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		if _, err := io.Copy(tmp, r); err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		// CreateTemp makes files only their owner may read; a capture is
		// for whoever replays it, as the output files are.
		if err := os.Chmod(tmp.Name(), 0o644); err != nil {
			return err
		}
		return os.Rename(tmp.Name(), path)
	}
}

// DefaultAccount is the account whose captures sit at the root of the
// capture layout: the one account of a configuration without an accounts
// document, and every capture taken before accounts existed.
const DefaultAccount = "default"

// AccountPrefix is where an account's captures sit in the capture layout:
// at the root for DefaultAccount (so older captures replay as it), under
// account=<id>/ for any other.
func AccountPrefix(account string) string {
	if account == "" || account == DefaultAccount {
		return ""
	}
	return "account=" + account + "/"
}

// ForAccount returns a Source that makes src's calls for account: each
// call names the account and its capture sits under AccountPrefix.
func ForAccount(src Source, account string) Source { return accountSource{src, account} }

type accountSource struct {
	src     Source
	account string
}

func (a accountSource) Fetch(ctx context.Context, c Call) (*Body, error) {
	c.Account = a.account
	c.Capture = AccountPrefix(a.account) + c.Capture
	return a.src.Fetch(ctx, c)
}

// HasAccount reports whether the folder holds captures of provider's
// account.
func (d Dir) HasAccount(provider, account string) bool {
	st, err := os.Stat(filepath.Join(string(d), filepath.FromSlash(AccountPrefix(account)), provider))
	return err == nil && st.IsDir()
}

// Accounts lists the accounts the folder holds captures of, for provider:
// DefaultAccount first when its captures are at the root, then every
// account=<id>/ folder with captures of provider, by id.
func (d Dir) Accounts(provider string) []string {
	var out []string
	if d.HasAccount(provider, DefaultAccount) {
		out = append(out, DefaultAccount)
	}
	entries, _ := os.ReadDir(string(d))
	for _, e := range entries {
		if id, ok := strings.CutPrefix(e.Name(), "account="); ok && e.IsDir() && id != "" && id != DefaultAccount && d.HasAccount(provider, id) {
			out = append(out, id)
		}
	}
	return out
}
