// Package spool gives an audio stream of unknown length a length, so that
// its upload can carry a Content-Length (S3-style storage refuses a chunked
// PUT): it keeps up to a small number of bytes in memory, and writes the
// rest to a temporary file in its own directory, which is removed when the
// upload is over and, for what a crash left behind, when syncd starts.
package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// prefix names the spool's files, so that Clean removes only its own.
const prefix = "syncd-spool-"

// DefaultMemory is how many bytes a spool keeps in memory before it writes
// to a file.
const DefaultMemory = 1 << 20

// Spool holds streams of unknown length, in memory or under Dir.
type Spool struct {
	dir string
	mem int64
}

// New returns a Spool writing under dir (created 0700 when first needed)
// and keeping up to mem bytes in memory; mem ≤ 0 means DefaultMemory.
func New(dir string, mem int64) *Spool {
	if mem <= 0 {
		mem = DefaultMemory
	}
	return &Spool{dir: dir, mem: mem}
}

// Dir is where the spool writes its files.
func (s *Spool) Dir() string { return s.dir }

// Clean removes the files a previous run left behind (a crash mid-upload).
// A missing directory is no error.
func (s *Spool) Clean() (int, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("spool: reading %s: %w", s.dir, err)
	}
	n := 0
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) {
			if err := os.Remove(filepath.Join(s.dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return n, fmt.Errorf("spool: removing %s: %w", e.Name(), err)
			}
			n++
		}
	}
	return n, nil
}

// Body is a spooled stream: read it once from the start; Close removes
// its file, if it has one.
type Body struct {
	io.Reader
	Size int64
	file *os.File
}

// Close releases the body; it is safe to call more than once.
func (b *Body) Close() error {
	if b.file == nil {
		return nil
	}
	name := b.file.Name()
	cerr := b.file.Close()
	rerr := os.Remove(name)
	b.file = nil
	if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		return fmt.Errorf("spool: removing %s: %w", name, rerr)
	}
	return cerr
}

// Take reads r to its end and returns it as a Body of known size. A read
// error of r is returned as it is (wrapped), so that a source's "not
// ready" or "gone" keeps its meaning.
func (s *Spool) Take(ctx context.Context, r io.Reader) (*Body, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(s.mem, 64<<10)))
	n, err := io.Copy(buf, io.LimitReader(ctxReader{ctx, r}, s.mem+1))
	if err != nil {
		return nil, err
	}
	if n <= s.mem {
		return &Body{Reader: bytes.NewReader(buf.Bytes()), Size: n}, nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: creating %s: %w", s.dir, err)
	}
	f, err := os.CreateTemp(s.dir, prefix+"*")
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	b := &Body{file: f}
	if _, err := f.Write(buf.Bytes()); err != nil {
		b.Close()
		return nil, fmt.Errorf("spool: writing %s: %w", f.Name(), err)
	}
	buf = nil
	rest, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		b.Close()
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("spool: writing %s: %w", f.Name(), err)
		}
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		b.Close()
		return nil, fmt.Errorf("spool: rewinding %s: %w", f.Name(), err)
	}
	b.Reader, b.Size = f, n+rest
	return b, nil
}

// ctxReader stops reading once ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
