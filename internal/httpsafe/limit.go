package httpsafe

import (
	"errors"
	"fmt"
	"io"
)

// Bounds of what syncd reads into memory from one answer, counted after
// decompression (net/http inflates a gzip answer transparently, so a
// 300 KB answer may inflate to 300 MB). Each is far above real answers.
const (
	// MaxListingPage bounds a page of a source's listing: 500 DTAC rows
	// are about 300 KB, 100 3CX recordings about 100 KB.
	MaxListingPage = 32 << 20
	// MaxAnswer bounds a JSON answer of the CRK API: a page of 200
	// recordings is about 100 KB.
	MaxAnswer = 4 << 20
	// MaxLogin bounds a log-in or token answer (a few KB).
	MaxLogin = 1 << 20
	// MaxErrorBody is how much of an error answer is read, to parse its
	// message or quote its start; the rest is never read.
	MaxErrorBody = 64 << 10
	// MaxDrain is how much of an unwanted body is read and thrown away so
	// that its connection can be reused; a longer one is closed instead.
	MaxDrain = 256 << 10
)

// ErrTooLarge is matched (errors.Is) by the error of a reader from Limit
// once its bound is passed.
var ErrTooLarge = errors.New("answer too large")

// TooLargeError is a body longer than a reader's bound.
type TooLargeError struct {
	What  string // "the listing page", "the log-in answer"
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %s", e.What, Size(e.Limit))
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// Limit returns a reader of r that returns at most limit bytes and then,
// if r has more, fails with a *TooLargeError naming what: it never cuts a
// body short silently, so a decoder reports the bound, not a truncated
// document.
func Limit(r io.Reader, limit int64, what string) io.Reader {
	return &limited{r: r, left: limit, limit: limit, what: what}
}

type limited struct {
	r     io.Reader
	left  int64
	limit int64
	what  string
	err   error
}

func (l *limited) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Read one byte past the bound, to tell "exactly limit" from "more".
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		n = int(l.left)
		l.left = 0
		l.err = &TooLargeError{What: l.what, Limit: l.limit}
		return n, l.err
	}
	l.left -= int64(n)
	return n, err
}

// ReadAll reads r whole, up to limit bytes; more is a *TooLargeError
// naming what.
func ReadAll(r io.Reader, limit int64, what string) ([]byte, error) {
	return io.ReadAll(Limit(r, limit, what))
}

// Size renders a byte count for a message: "32 MiB", "64 KiB", "100 bytes".
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
