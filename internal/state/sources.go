package state

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Summary is what -status and the metrics show of one source.
type Summary struct {
	Source      string
	Cursor      time.Time // zero before the first pass
	LastSuccess time.Time // zero before the first successful pass
	Done        int
	Pending     int // neither done nor quarantined
	Quarantined int
}

// Sources is the names of the sources the store knows, sorted.
func (s *Store) Sources(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	var names []string
	err := s.view(func(tx *bolt.Tx) error {
		sources := tx.Bucket([]byte(bucketSources))
		if sources == nil {
			return nil
		}
		return sources.ForEachBucket(func(k []byte) error {
			names = append(names, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return names, nil // bbolt keeps keys sorted
}

// Summary is source's cursor, last success and counts, read without
// scanning its records. A source the store does not know has a zero
// Summary.
func (s *Store) Summary(ctx context.Context, source string) (Summary, error) {
	sum := Summary{Source: source}
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("summary of %s: %w", source, err)
	}
	err := s.view(func(tx *bolt.Tx) error {
		b, err := s.sourceBucket(tx, source, false)
		if b == nil || err != nil {
			return err
		}
		if sum.Cursor, _, err = s.getTime(b, source, keyCursor); err != nil {
			return err
		}
		if sum.LastSuccess, _, err = s.getTime(b, source, keyLastOK); err != nil {
			return err
		}
		sum.Done = count(b, classDone)
		sum.Pending = count(b, classPending)
		sum.Quarantined = count(b, classQuarantined)
		return nil
	})
	if err != nil {
		return Summary{Source: source}, fmt.Errorf("summary of %s: %w", source, err)
	}
	return sum, nil
}

// Cursor is how far source's listing has got; false before SetCursor.
func (s *Store) Cursor(ctx context.Context, source string) (time.Time, bool, error) {
	t, ok, err := s.readTime(ctx, source, keyCursor)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read cursor of %s: %w", source, err)
	}
	return t, ok, nil
}

// SetCursor records how far source's listing has got.
func (s *Store) SetCursor(ctx context.Context, source string, t time.Time) error {
	if err := s.writeTime(ctx, source, keyCursor, t); err != nil {
		return fmt.Errorf("set cursor of %s: %w", source, err)
	}
	return nil
}

// SetLastSuccess records when source's last successful pass ended.
func (s *Store) SetLastSuccess(ctx context.Context, source string, t time.Time) error {
	if err := s.writeTime(ctx, source, keyLastOK, t); err != nil {
		return fmt.Errorf("set last success of %s: %w", source, err)
	}
	return nil
}

func (s *Store) readTime(ctx context.Context, source, key string) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	var (
		t  time.Time
		ok bool
	)
	err := s.view(func(tx *bolt.Tx) error {
		b, err := s.sourceBucket(tx, source, false)
		if b == nil || err != nil {
			return err
		}
		t, ok, err = s.getTime(b, source, key)
		return err
	})
	return t, ok, err
}

func (s *Store) writeTime(ctx context.Context, source, key string, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkSource(source); err != nil {
		return err
	}
	v, err := t.MarshalBinary()
	if err != nil {
		return fmt.Errorf("encode %v: %w", t, err)
	}
	return s.update(func(tx *bolt.Tx) error {
		b, err := s.sourceBucket(tx, source, true)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), v)
	})
}

// getTime decodes key of source bucket b, inside the transaction.
func (s *Store) getTime(b *bolt.Bucket, source, key string) (time.Time, bool, error) {
	v := b.Get([]byte(key))
	if v == nil {
		return time.Time{}, false, nil
	}
	var t time.Time
	if err := t.UnmarshalBinary(v); err != nil {
		return time.Time{}, false, corruptError(s.path, fmt.Errorf("%s of source %q: %w", key, source, err))
	}
	return t, true, nil
}
