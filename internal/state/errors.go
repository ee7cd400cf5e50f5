package state

import (
	"errors"
	"fmt"
	"strings"
	"time"

	berrors "go.etcd.io/bbolt/errors"
)

// Sentinel errors. Open wraps them in an error that names the file and says
// what to do; compare with errors.Is.
var (
	// ErrLocked: another process holds the state file and did not let go
	// within Options.Timeout.
	ErrLocked = errors.New("state file is locked by another process")
	// ErrCorrupt: the file is not a readable bbolt file (garbage, truncated,
	// damaged pages).
	ErrCorrupt = errors.New("state file is corrupt")
	// ErrSchema: the file was written by a syncd this one cannot read.
	ErrSchema = errors.New("state file has an unsupported schema")
	// ErrNoState: a read-only open found no state (missing or empty file):
	// no syncd has written it yet.
	ErrNoState = errors.New("no state file yet")
)

// openError is an error whose text is written for the person running syncd
// and which matches both its kind (a sentinel above) and its cause.
type openError struct {
	kind  error
	cause error
	msg   string
}

func (e *openError) Error() string { return e.msg }

func (e *openError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// corruptError says that the file at path is corrupt, why, and what to do.
func corruptError(path string, cause error) *openError {
	return &openError{
		kind:  ErrCorrupt,
		cause: cause,
		msg: fmt.Sprintf("state file %s is corrupt (%v): move it aside (mv %s %s.corrupt) and start syncd again; "+
			"the first pass then looks back SYNCD_BACKFILL and checks with CRK which of those recordings it already "+
			"processed (this needs a token with view_recording_all), so that none is paid for twice", path, cause, path, path),
	}
}

// lockedError says that another process holds the file at path.
func lockedError(path string, waited time.Duration, cause error) error {
	return &openError{
		kind:  ErrLocked,
		cause: cause,
		msg: fmt.Sprintf("state file %s is in use by another syncd process (is the daemon running?) and stayed locked for %s: "+
			"stop it (systemctl stop syncd, or docker stop) or wait until it has closed the file, then try again; "+
			"while one process has the file open for writing no other can open it, not even read-only for -status",
			path, waited),
	}
}

// isCorruption reports whether err from bbolt's Open means the file is not a
// usable bbolt file.
func isCorruption(err error) bool {
	if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrVersionMismatch) ||
		errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrInvalidMapping) {
		return true
	}
	// bbolt builds these with fmt.Errorf and no sentinel.
	msg := err.Error()
	return strings.Contains(msg, "file size too small") || strings.Contains(msg, "mmap too large")
}

// panicError turns a recovered bbolt panic (bbolt panics on pages it cannot
// make sense of) into an error.
func panicError(p any) error {
	if err, ok := p.(error); ok {
		return fmt.Errorf("bbolt panicked: %w", err)
	}
	return fmt.Errorf("bbolt panicked: %v", p)
}
