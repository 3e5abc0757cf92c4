//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package load

import (
	"os"
	"time"
)

// Without flock, only a staging file's age tells a dead run's from a live
// one's (see folder_flock.go).
func lockStaged(*os.File) {}

func removeUnlessInUse(path string, age time.Duration) {
	if age >= unlockedGrace {
		os.Remove(path)
	}
}
