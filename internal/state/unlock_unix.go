//go:build unix

package state

import (
	"os"
	"syscall"
)

// unlock drops the flock(2) lock bbolt took on f. Closing f is not enough
// when bbolt has mapped it: the mapping keeps the open file, and so the
// lock, alive.
func unlock(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
