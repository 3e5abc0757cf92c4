package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Folder is a Sink writing under a local directory. Objects are written to
// a staging folder beside the tables (never inside them: Athena would read
// stray files there) and renamed into place, so each appears whole.
type Folder struct {
	root string
}

const stagingDir = ".staging"

// stagingGrace is how long a staging file is left alone after its last
// write, whoever holds it. A live run holds a lock on each staging file it
// writes (lockStaged), except for two moments: between creating the file
// and locking it, and between closing it and renaming it into place; both
// follow a write by far less than this.
const stagingGrace = time.Minute

// unlockedGrace replaces the lock where staging files cannot be locked
// (see removeUnlessInUse): a file untouched this long has no live writer.
const unlockedGrace = time.Hour

// NewFolder opens a folder sink at root, and clears staging files that a
// killed run left behind (sweep). The folder is created by the first
// write, so that a run that writes nothing (--dry-run) leaves no trace.
func NewFolder(root string) (*Folder, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(abs); err == nil && !st.IsDir() {
		return nil, errors.New("exists and is not a folder")
	}
	staging := filepath.Join(abs, stagingDir)
	if st, err := os.Stat(staging); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder: the run stages its files there; remove it", staging)
	}
	f := &Folder{root: abs}
	f.sweep()
	return f, nil
}

// checkWritable checks that the nearest folder of the root that exists is
// one we may write into (the root is created by the first write), leaving
// nothing behind.
func (f *Folder) checkWritable() error {
	for dir := f.root; ; {
		st, err := os.Stat(dir)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("%s is not a folder", dir)
			}
			f, err := os.CreateTemp(dir, ".invoice-export-check-*")
			if err != nil {
				return fmt.Errorf("cannot write into %s: %w", dir, errors.Unwrap(err))
			}
			f.Close()
			return os.Remove(f.Name())
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return err
		}
		dir = parent
	}
}

// sweep removes the staging files of runs that died (kill -9, power loss):
// those no live process holds and untouched for stagingGrace. A concurrent
// run's files are held, whatever their age.
func (f *Folder) sweep() {
	dir := filepath.Join(f.root, stagingDir)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || !strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		if age := time.Since(info.ModTime()); age > stagingGrace {
			removeUnlessInUse(filepath.Join(dir, e.Name()), age)
		}
	}
}

func (f *Folder) String() string { return f.root }

func (f *Folder) path(key string) string { return filepath.Join(f.root, filepath.FromSlash(key)) }

func (f *Folder) Create(ctx context.Context, key string) (Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	staging := filepath.Join(f.root, stagingDir)
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(staging, "*.tmp")
	if err != nil {
		return nil, err
	}
	lockStaged(tmp)
	return &folderObject{f: tmp, dst: f.path(key)}, nil
}

type folderObject struct {
	f   *os.File
	dst string
}

func (o *folderObject) Write(p []byte) (int, error) { return o.f.Write(p) }

// Commit makes the file durable, then renames it into place: the rename
// is atomic, so a reader sees the old file or the new one. os.CreateTemp
// makes the file owner-only (0600); output is for others to read (Athena
// or DuckDB run by another user, a web server, a sync to S3), so it is
// made 0644 first, like any file a program writes for others.
func (o *folderObject) Commit() error {
	if err := o.f.Chmod(0o644); err != nil {
		o.Abort()
		return err
	}
	if err := o.f.Sync(); err != nil {
		o.Abort()
		return err
	}
	if err := o.f.Close(); err != nil {
		os.Remove(o.f.Name())
		return err
	}
	dir := filepath.Dir(o.dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		os.Remove(o.f.Name())
		return err
	}
	if err := os.Rename(o.f.Name(), o.dst); err != nil {
		os.Remove(o.f.Name())
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func (o *folderObject) Abort() {
	o.f.Close()
	os.Remove(o.f.Name())
}

func (f *Folder) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return os.Open(f.path(key))
}

func (f *Folder) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	base := f.path(prefix)
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			if d.Name() == stagingDir {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(f.root, p)
		if err != nil {
			return err
		}
		keys = append(keys, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(keys)
	return keys, err
}

func (f *Folder) Delete(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if err := os.Remove(f.path(k)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		// Drop partition folders left empty, up to the table folder.
		for dir := filepath.Dir(f.path(k)); strings.HasPrefix(dir, f.root+string(filepath.Separator)) && strings.Contains(filepath.Base(dir), "="); dir = filepath.Dir(dir) {
			if os.Remove(dir) != nil {
				break
			}
		}
	}
	return nil
}
