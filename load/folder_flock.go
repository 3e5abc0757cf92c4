//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package load

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// lockStaged marks a staging file as held by this process: the lock goes
// with the process, so a killed run's files are free at once. Best effort:
// where the file system refuses locks, removeUnlessInUse falls back to age.
func lockStaged(f *os.File) {
	syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// removeUnlessInUse removes a staging file untouched for age unless a live
// process holds its lock; it takes the lock itself first, so that the file
// is removed only while nobody else can hold it.
func removeUnlessInUse(path string, age time.Duration) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case errors.Is(err, syscall.EWOULDBLOCK): // a live run's
	case err != nil && age < unlockedGrace: // no locks here: only age tells
	default:
		os.Remove(path)
	}
}
