package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
)

// childVar marks a test process started by RunChild.
const childVar = "INVOICE_EXPORT_TEST_CHILD"

// InChild reports whether this process is a child RunChild started: the
// test then does the work its parent measures (under a limit it sets on
// itself, say) and fails as usual.
func InChild() bool { return os.Getenv(childVar) != "" }

// RunChild runs the test named run (a -test.run pattern) again in a child
// process of the test binary, with env added, and returns what it printed
// and its peak resident memory in bytes (getrusage's ru_maxrss: the
// process's high-water mark, VmHWM). err is the child's failure: its exit
// status. Linux only (elsewhere the test is skipped): ru_maxrss's unit
// differs between systems.
func RunChild(t testing.TB, run string, env ...string) (out string, peakRSS int64, err error) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("measures the child with Linux's getrusage")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.count=1", "-test.v")
	cmd.Env = append(append(os.Environ(), childVar+"=1"), env...)
	b, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil {
		return string(b), 0, err
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return string(b), 0, fmt.Errorf("no resource usage of the child")
	}
	return string(b), ru.Maxrss << 10, err // KiB on Linux
}
