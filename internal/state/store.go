// Package state is syncd's only persistent state: a bbolt file holding, per
// source, each recording's progress through the sync steps, the listing
// cursor, the time of the last successful pass and the quarantine, with
// counts kept current so that a summary costs nothing to read.
package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DefaultTimeout is how long Open waits for another process's lock when
// Options.Timeout is zero.
const DefaultTimeout = time.Second

// brokenCloseWait is how long Close waits for bbolt to let go of a file
// whose damage made a transaction panic: the panic may have left bbolt's
// writer lock held.
const brokenCloseWait = 2 * time.Second

// Options tune Open.
type Options struct {
	// ReadOnly opens the file for reading only (bbolt's shared lock), for
	// `syncd -status`. The file must exist. Note that bbolt takes an
	// exclusive lock for a writer, so a read-only open still waits while a
	// writer has the file open.
	ReadOnly bool
	// Timeout is how long to wait for another process's lock; 0 means
	// DefaultTimeout. Open never waits forever, and never past ctx's
	// deadline.
	Timeout time.Duration
	// Now is the clock stamping Record.FirstSeen and Record.Updated;
	// nil means time.Now.
	Now func() time.Time
}

// Store is an open state file. Its methods are safe for concurrent use.
type Store struct {
	db       *bolt.DB
	path     string
	now      func() time.Time
	readOnly bool
	// broken is the ErrCorrupt error of the first write transaction that
	// met damage bbolt could not cope with (it panicked or faulted). From
	// then on the store refuses every transaction with it: a panic in a
	// write can leave bbolt's own state (its freelist, its writer lock)
	// half-changed, and a later commit would spread the damage. A read
	// that panics changes nothing, and only that read fails.
	broken atomic.Pointer[openError]
	// brokenCh is closed when broken is set.
	brokenCh chan struct{}
	// writing admits one write transaction at a time, before bbolt's own
	// writer lock: a writer that met damage may leave that lock held, and
	// the writers queued behind it must not wait for it for ever.
	writing chan struct{}
}

func newStore(db *bolt.DB, path string, now func() time.Time, readOnly bool) *Store {
	return &Store{db: db, path: path, now: now, readOnly: readOnly,
		brokenCh: make(chan struct{}), writing: make(chan struct{}, 1)}
}

// Open opens the state file at path, creating it (mode 0600, parent
// directories 0700) unless opts.ReadOnly. It refuses, with an error that
// says what to do, a file another process holds (ErrLocked), a damaged file
// (ErrCorrupt), a file of another schema (ErrSchema) and, read-only, a
// missing or empty file (ErrNoState). An empty (0-byte) file opened for
// writing is initialised as a new store.
//
// Before opening a file for writing, Open reads every page of it (about
// 20 ms for 100,000 records) and refuses one whose damage could crash
// bbolt or spread with the next write (see verify). Read-only, it refuses
// only the damage bbolt would not notice as it reads (a loop, a key
// outside its page): the rest is reported by the read that meets it, so
// that -status still shows what it can. Every transaction afterwards turns
// a panic or a memory fault on a damaged page into ErrCorrupt.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < timeout {
			timeout = max(left, time.Millisecond)
		}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}

	info, statErr := os.Stat(path)
	switch {
	case statErr != nil && !errors.Is(statErr, fs.ErrNotExist):
		return nil, fmt.Errorf("open state file %s: %w", path, statErr)
	case statErr != nil && opts.ReadOnly:
		return nil, &openError{kind: ErrNoState, cause: statErr, msg: fmt.Sprintf(
			"state file %s does not exist: no syncd has run with this SYNCD_STATE_PATH yet", path)}
	case statErr == nil && info.IsDir():
		return nil, fmt.Errorf("open state file %s: is a directory, not a file", path)
	case statErr == nil && opts.ReadOnly && info.Size() == 0:
		return nil, &openError{kind: ErrNoState, msg: fmt.Sprintf(
			"state file %s is empty: no syncd has written it yet", path)}
	}

	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create the state file's directory: %w", err)
		}
		if statErr == nil && info.Size() > 0 {
			// Check an existing file read-only first: a read-write open
			// reads the freelist at once, and bbolt panics on a damaged
			// or truncated one after it has mapped and locked the file.
			// openBolt recovers from that, but the mapping leaks.
			db, err := openBolt(path, true, timeout)
			if err != nil {
				return nil, err
			}
			s := newStore(db, path, now, true)
			err = s.view(func(tx *bolt.Tx) error { return s.inspect(tx, true, true) })
			if cerr := db.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("close state file %s after checking it: %w", path, cerr)
			}
			if err != nil {
				return nil, err
			}
		}
	}

	db, err := openBolt(path, opts.ReadOnly, timeout)
	if err != nil {
		return nil, err
	}
	s := newStore(db, path, now, opts.ReadOnly)
	fresh := false
	err = s.view(func(tx *bolt.Tx) error {
		// The file was walked read-only just now, unless it is new.
		if err := s.inspect(tx, opts.ReadOnly, false); err != nil {
			return err
		}
		fresh = tx.Bucket([]byte(bucketMeta)) == nil || tx.Bucket([]byte(bucketSources)) == nil
		return nil
	})
	if err == nil && fresh && !opts.ReadOnly {
		err = s.update(s.initialise) // the only write (and fsync) of Open
	}
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// openBolt opens path with bbolt, turning its errors and panics into ours.
func openBolt(path string, readOnly bool, timeout time.Duration) (db *bolt.DB, err error) {
	var file *os.File
	opts := &bolt.Options{
		Timeout:  timeout,
		ReadOnly: readOnly,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	}
	defer func() {
		if p := recover(); p != nil {
			// bbolt panicked half-way through opening: let go of the
			// file it locked. Its mapping of the file leaks.
			if file != nil {
				unlock(file)
				_ = file.Close()
			}
			db, err = nil, corruptError(path, panicError(p))
		}
	}()
	// A damaged file can make bbolt read past the end of its mapping.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))

	db, err = bolt.Open(path, 0o600, opts)
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, lockedError(path, timeout, err)
	case isCorruption(err):
		return nil, corruptError(path, err)
	default:
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
}

// Close closes the file, waiting for transactions in progress. Closing a
// closed Store does nothing. After a transaction met damage (ErrCorrupt)
// Close waits at most a couple of seconds: a panic in bbolt may have left
// its lock held, and then the file is let go only when the process exits.
func (s *Store) Close() error {
	if s.broken.Load() == nil {
		if err := s.db.Close(); err != nil {
			return fmt.Errorf("close state file %s: %w", s.path, err)
		}
		return nil
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- panicError(p)
			}
		}()
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		done <- s.db.Close()
	}()
	t := time.NewTimer(brokenCloseWait)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("close damaged state file %s: %w", s.path, err)
		}
		return nil
	case <-t.C:
		return fmt.Errorf("close state file %s: a transaction that met its damage did not let go of it within %s: %w",
			s.path, brokenCloseWait, ErrCorrupt)
	}
}

// Path is the file's path, as given to Open.
func (s *Store) Path() string { return s.path }

// Every transaction runs through view or update, on the caller's
// goroutine (bbolt runs fn there, and commits there), with
// debug.SetPanicOnFault set so that a read past the end of the file or of
// bbolt's mapping panics rather than kills the process, and with a
// recover that turns bbolt's panic on a damaged page into ErrCorrupt.
// Never db.Batch: it runs fn and the commit on a goroutine of bbolt's,
// where neither applies.

// view runs fn in a read transaction.
func (s *Store) view(fn func(*bolt.Tx) error) (err error) {
	if b := s.broken.Load(); b != nil {
		return b
	}
	defer s.recoverCorrupt(&err, false)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return s.db.View(fn)
}

// update runs fn in a write transaction of its own, and commits it.
func (s *Store) update(fn func(*bolt.Tx) error) (err error) {
	if s.readOnly {
		return fmt.Errorf("state file %s: %w", s.path, berrors.ErrDatabaseReadOnly)
	}
	select {
	case s.writing <- struct{}{}:
		defer func() { <-s.writing }() // after recoverCorrupt has marked the store broken
	case <-s.brokenCh:
	}
	if b := s.broken.Load(); b != nil {
		return b
	}
	defer s.recoverCorrupt(&err, true)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return s.db.Update(fn)
}

// recoverCorrupt, deferred, turns a panic into ErrCorrupt; in a write
// transaction it also marks the store broken.
func (s *Store) recoverCorrupt(err *error, write bool) {
	p := recover()
	if p == nil {
		return
	}
	e := corruptError(s.path, panicError(p))
	if write {
		if s.broken.CompareAndSwap(nil, e) {
			close(s.brokenCh)
		} else {
			e = s.broken.Load()
		}
	}
	*err = e
}
