package state

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Get is the record id of source; false when the store has none.
func (s *Store) Get(ctx context.Context, source, id string) (Record, bool, error) {
	var (
		r     Record
		found bool
	)
	if err := ctx.Err(); err != nil {
		return r, false, fmt.Errorf("get record %s/%s: %w", source, id, err)
	}
	err := s.view(func(tx *bolt.Tx) error {
		recs, err := s.recsBucket(tx, source)
		if recs == nil || err != nil {
			return err
		}
		r, found, err = s.getRecord(recs, id)
		return err
	})
	if err != nil {
		return Record{}, false, fmt.Errorf("get record %s/%s: %w", source, id, err)
	}
	return r, found, nil
}

// GetMany is the records of source among ids, by id, read in one
// transaction; ids the store does not have are absent from the map.
func (s *Store) GetMany(ctx context.Context, source string, ids []string) (map[string]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get records of %s: %w", source, err)
	}
	out := make(map[string]Record)
	err := s.view(func(tx *bolt.Tx) error {
		recs, err := s.recsBucket(tx, source)
		if recs == nil || err != nil {
			return err
		}
		for _, id := range ids {
			r, found, err := s.getRecord(recs, id)
			if err != nil {
				return err
			}
			if found {
				out[id] = r
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get records of %s: %w", source, err)
	}
	return out, nil
}

// Put stores r under source, replacing what the store had for r.ID, and
// keeps the counts and indexes current in the same transaction. It sets
// r.Updated, and r.FirstSeen when zero (to the stored one, or now). The
// record is on disk when Put returns: each Put is its own transaction and
// fsync, run on the caller's goroutine, so that a damaged file is an
// error there, never a crash. A Done record cannot be quarantined.
func (s *Store) Put(ctx context.Context, source string, r Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put record %s/%s: %w", source, r.ID, err)
	}
	if err := checkSource(source); err != nil {
		return fmt.Errorf("put record: %w", err)
	}
	if err := r.validate(); err != nil {
		return fmt.Errorf("put record of %s: %w", source, err)
	}
	now := s.now()
	r.Updated = now
	err := s.update(func(tx *bolt.Tx) error {
		return s.putTx(tx, source, r, now)
	})
	if err != nil {
		return fmt.Errorf("put record %s/%s: %w", source, r.ID, err)
	}
	return nil
}

// PutMany stores rs under source in one transaction, as Put does each:
// for bulk loads, where one fsync for all is what matters.
func (s *Store) PutMany(ctx context.Context, source string, rs []Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %d records of %s: %w", len(rs), source, err)
	}
	if err := checkSource(source); err != nil {
		return fmt.Errorf("put records: %w", err)
	}
	for i := range rs {
		if err := rs[i].validate(); err != nil {
			return fmt.Errorf("put record of %s: %w", source, err)
		}
	}
	now := s.now()
	err := s.update(func(tx *bolt.Tx) error {
		for _, r := range rs {
			r.Updated = now
			if err := s.putTx(tx, source, r, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %d records of %s: %w", len(rs), source, err)
	}
	return nil
}

// putTx is Put inside transaction tx.
func (s *Store) putTx(tx *bolt.Tx, source string, rec Record, now time.Time) error {
	b, err := s.sourceBucket(tx, source, true)
	if err != nil {
		return err
	}
	recs, err := s.sub(b, source, []byte(bucketRecs))
	if err != nil {
		return err
	}
	old, had, err := s.getRecord(recs, rec.ID)
	if err != nil {
		return err
	}
	if rec.FirstSeen.IsZero() {
		rec.FirstSeen = now
		if had && !old.FirstSeen.IsZero() {
			rec.FirstSeen = old.FirstSeen
		}
	}
	v, err := encodeRecord(&rec)
	if err != nil {
		return err
	}
	if err := recs.Put([]byte(rec.ID), v); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if had {
		if err := s.unindex(b, source, &old); err != nil {
			return err
		}
	}
	return s.index(b, source, &rec)
}

// Pending is source's records that are neither done nor quarantined,
// oldest call first.
func (s *Store) Pending(ctx context.Context, source string) ([]Record, error) {
	recs, err := s.list(ctx, source, classPending)
	if err != nil {
		return nil, fmt.Errorf("list pending records of %s: %w", source, err)
	}
	return recs, nil
}

// Quarantined is source's quarantined records, oldest call first.
func (s *Store) Quarantined(ctx context.Context, source string) ([]Record, error) {
	recs, err := s.list(ctx, source, classQuarantined)
	if err != nil {
		return nil, fmt.Errorf("list quarantined records of %s: %w", source, err)
	}
	return recs, nil
}

// list reads the records of class c through its index, without touching
// the others.
func (s *Store) list(ctx context.Context, source string, c class) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Record
	err := s.view(func(tx *bolt.Tx) error {
		b, err := s.sourceBucket(tx, source, false)
		if b == nil || err != nil {
			return err
		}
		recs, err := s.sub(b, source, []byte(bucketRecs))
		if err != nil {
			return err
		}
		idx, err := s.sub(b, source, indexBucket(c))
		if err != nil {
			return err
		}
		out = make([]Record, 0, count(b, c))
		return idx.ForEach(func(k, _ []byte) error {
			id := indexKeyID(k)
			r, found, err := s.getRecord(recs, id)
			if err != nil {
				return err
			}
			if !found {
				return corruptError(s.path, fmt.Errorf("index %s of source %q names record %q, which is missing", indexBucket(c), source, id))
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// Selection chooses quarantined records. Zero fields match everything.
type Selection struct {
	Source string // exactly this source
	DataID string // exactly this dataId
	Reason string // the reason contains this text (case-insensitive)
}

func (sel Selection) match(r *Record) bool {
	return (sel.DataID == "" || r.DataID == sel.DataID) &&
		(sel.Reason == "" || strings.Contains(strings.ToLower(r.Quarantined), strings.ToLower(sel.Reason)))
}

// RetryQuarantined moves the quarantined records sel chooses back to
// pending: it clears Quarantined, Attempts and Missing, keeps Step, so that
// the retry resumes where the record stopped, and sets Retried: a person
// asked for it. It returns how many it moved.
func (s *Store) RetryQuarantined(ctx context.Context, sel Selection) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("retry quarantined records: %w", err)
	}
	now := s.now()
	total := 0
	err := s.update(func(tx *bolt.Tx) error {
		total = 0
		if err := knownSource(tx, sel.Source); err != nil {
			return err
		}
		return s.eachSource(tx, sel.Source, func(name string, b *bolt.Bucket) error {
			recs, err := s.sub(b, name, []byte(bucketRecs))
			if err != nil {
				return err
			}
			quar, err := s.sub(b, name, indexBucket(classQuarantined))
			if err != nil {
				return err
			}
			var ids []string
			if err := quar.ForEach(func(k, _ []byte) error {
				ids = append(ids, indexKeyID(k))
				return nil
			}); err != nil {
				return err
			}
			for _, id := range ids {
				r, found, err := s.getRecord(recs, id)
				if err != nil {
					return err
				}
				if !found {
					return corruptError(s.path, fmt.Errorf("quarantine index of source %q names record %q, which is missing", name, id))
				}
				if !sel.match(&r) {
					continue
				}
				if err := s.unindex(b, name, &r); err != nil {
					return err
				}
				r.Quarantined, r.Attempts, r.Missing, r.Retried, r.Updated = "", 0, 0, true, now
				v, err := encodeRecord(&r)
				if err != nil {
					return err
				}
				if err := recs.Put([]byte(id), v); err != nil {
					return fmt.Errorf("write record %q: %w", id, err)
				}
				if err := s.index(b, name, &r); err != nil {
					return err
				}
				total++
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("retry quarantined records: %w", err)
	}
	return total, nil
}

// Prune deletes source's Done records (every source's when source is "")
// whose call started before before, and returns how many it deleted.
// Pending and quarantined records are kept whatever their age. It moves
// the source's Horizon up to before, so that a later pass knows the store
// may have forgotten what started earlier.
func (s *Store) Prune(ctx context.Context, source string, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("prune done records: %w", err)
	}
	if s.readOnly {
		return 0, fmt.Errorf("prune done records: state file %s: %w", s.path, berrors.ErrDatabaseReadOnly)
	}
	bound := indexKey(before, "")
	// Most passes have nothing to prune: find that out in a read
	// transaction rather than commit (and fsync) an empty write.
	due := false
	err := s.view(func(tx *bolt.Tx) error {
		return s.eachSource(tx, source, func(name string, b *bolt.Bucket) error {
			done, err := s.sub(b, name, indexBucket(classDone))
			if err != nil {
				return err
			}
			if k, _ := done.Cursor().First(); k != nil && bytes.Compare(k[:timeKeyLen], bound) < 0 {
				due = true
			}
			return nil
		})
	})
	if err != nil || !due {
		if err != nil {
			err = fmt.Errorf("prune done records: %w", err)
		}
		return 0, err
	}
	total := 0
	err = s.update(func(tx *bolt.Tx) error {
		total = 0
		return s.eachSource(tx, source, func(name string, b *bolt.Bucket) error {
			recs, err := s.sub(b, name, []byte(bucketRecs))
			if err != nil {
				return err
			}
			done, err := s.sub(b, name, indexBucket(classDone))
			if err != nil {
				return err
			}
			var keys [][]byte
			c := done.Cursor()
			for k, _ := c.First(); k != nil && bytes.Compare(k[:timeKeyLen], bound) < 0; k, _ = c.Next() {
				keys = append(keys, bytes.Clone(k))
			}
			for _, k := range keys {
				if err := recs.Delete(k[timeKeyLen:]); err != nil {
					return fmt.Errorf("delete record %q: %w", k[timeKeyLen:], err)
				}
				if err := done.Delete(k); err != nil {
					return fmt.Errorf("unindex record %q: %w", k[timeKeyLen:], err)
				}
			}
			total += len(keys)
			if len(keys) > 0 {
				if err := s.raiseHorizon(b, name, before); err != nil {
					return err
				}
			}
			return addCount(b, classDone, -len(keys))
		})
	})
	if err != nil {
		return 0, fmt.Errorf("prune done records: %w", err)
	}
	return total, nil
}

// recsBucket is source's records bucket, nil if source has none.
func (s *Store) recsBucket(tx *bolt.Tx, source string) (*bolt.Bucket, error) {
	b, err := s.sourceBucket(tx, source, false)
	if b == nil || err != nil {
		return nil, err
	}
	return s.sub(b, source, []byte(bucketRecs))
}

// getRecord reads and decodes id from recs, inside the transaction.
func (s *Store) getRecord(recs *bolt.Bucket, id string) (Record, bool, error) {
	if id == "" || len(id) > maxIDLen {
		return Record{}, false, nil
	}
	v := recs.Get([]byte(id))
	if v == nil {
		return Record{}, false, nil
	}
	r, err := decodeRecord(id, v)
	if err != nil {
		return Record{}, false, corruptError(s.path, err)
	}
	return r, true, nil
}

// eachSource calls fn with the bucket of source, or of every source when
// source is "". A source the store has never seen is skipped.
func (s *Store) eachSource(tx *bolt.Tx, source string, fn func(name string, b *bolt.Bucket) error) error {
	if source != "" {
		b, err := s.sourceBucket(tx, source, false)
		if b == nil || err != nil {
			return err
		}
		return fn(source, b)
	}
	sources := tx.Bucket([]byte(bucketSources))
	if sources == nil {
		return nil
	}
	var names []string
	if err := sources.ForEachBucket(func(k []byte) error {
		names = append(names, string(k))
		return nil
	}); err != nil {
		return err
	}
	for _, name := range names {
		if err := fn(name, sources.Bucket([]byte(name))); err != nil {
			return err
		}
	}
	return nil
}

// raiseHorizon moves source bucket b's horizon up to t, inside the
// transaction; it never moves it down.
func (s *Store) raiseHorizon(b *bolt.Bucket, source string, t time.Time) error {
	old, ok, err := s.getTime(b, source, keyHorizon)
	if err != nil {
		return err
	}
	if ok && !old.Before(t) {
		return nil
	}
	v, err := t.MarshalBinary()
	if err != nil {
		return fmt.Errorf("encode horizon %v: %w", t, err)
	}
	return b.Put([]byte(keyHorizon), v)
}

// knownSource refuses a selection of a source the file has never held: a
// mistyped -source would otherwise move nothing and look like success.
func knownSource(tx *bolt.Tx, source string) error {
	if source == "" {
		return nil
	}
	sources := tx.Bucket([]byte(bucketSources))
	if sources != nil && sources.Bucket([]byte(source)) != nil {
		return nil
	}
	var names []string
	if sources != nil {
		_ = sources.ForEachBucket(func(k []byte) error { names = append(names, string(k)); return nil })
	}
	if len(names) == 0 {
		return fmt.Errorf("%w: the state file holds no source yet", &UnknownSourceError{Source: source})
	}
	return fmt.Errorf("%w: the state file holds %s", &UnknownSourceError{Source: source}, strings.Join(names, ", "))
}

// UnknownSourceError is a selection naming a source the state file does
// not hold.
type UnknownSourceError struct{ Source string }

func (e *UnknownSourceError) Error() string {
	return fmt.Sprintf("no source %q in the state file", e.Source)
}
