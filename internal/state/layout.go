package state

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Names inside a source's bucket (see Schema).
const (
	bucketRecs = "recs"
	keyCursor  = "cursor"
	keyLastOK  = "lastSuccess"
)

// errStop ends a bbolt ForEach early.
var errStop = errors.New("stop")

// fillPercent is how full bbolt packs the pages of records and indexes.
// Their keys mostly grow (sources number recordings upwards; indexes are by
// call time), so pages are rarely split by an insert in the middle, and
// bbolt's default of half-full pages would double the file.
const fillPercent = 0.9

// maxSourceLen bounds a source name (a bucket name, so a bbolt key).
const maxSourceLen = 1024

func checkSource(source string) error {
	switch {
	case source == "":
		return errors.New("empty source name")
	case len(source) > maxSourceLen:
		return fmt.Errorf("source name is %d bytes, more than %d", len(source), maxSourceLen)
	}
	return nil
}

// indexBucket is the name of the index of records of class c.
func indexBucket(c class) []byte {
	switch c {
	case classDone:
		return []byte("idx.done")
	case classQuarantined:
		return []byte("idx.quar")
	default:
		return []byte("idx.pending")
	}
}

// countKey is the key of the count of records of class c.
func countKey(c class) []byte {
	switch c {
	case classDone:
		return []byte("count.done")
	case classQuarantined:
		return []byte("count.quarantined")
	default:
		return []byte("count.pending")
	}
}

// sourceBucket is source's bucket; nil when it has none and create is false.
func (s *Store) sourceBucket(tx *bolt.Tx, source string, create bool) (*bolt.Bucket, error) {
	sources := tx.Bucket([]byte(bucketSources))
	if sources == nil {
		if !create {
			return nil, nil // a new file opened read-only
		}
		return nil, corruptError(s.path, fmt.Errorf("no %q bucket", bucketSources))
	}
	b := sources.Bucket([]byte(source))
	if b != nil || !create {
		return b, nil
	}
	b, err := sources.CreateBucket([]byte(source))
	if err != nil {
		return nil, fmt.Errorf("state file %s: create bucket for source %q: %w", s.path, source, err)
	}
	names := [][]byte{[]byte(bucketRecs)}
	for c := classPending; c <= classDone; c++ {
		names = append(names, indexBucket(c))
	}
	for _, name := range names {
		if _, err := b.CreateBucket(name); err != nil {
			return nil, fmt.Errorf("state file %s: create bucket %s of source %q: %w", s.path, name, source, err)
		}
	}
	return b, nil
}

// sub is the bucket name inside source bucket b, which must exist.
func (s *Store) sub(b *bolt.Bucket, source string, name []byte) (*bolt.Bucket, error) {
	if sb := b.Bucket(name); sb != nil {
		if b.Writable() {
			sb.FillPercent = fillPercent
		}
		return sb, nil
	}
	return nil, corruptError(s.path, fmt.Errorf("source %q has no %q bucket", source, name))
}

func count(b *bolt.Bucket, c class) int {
	v := b.Get(countKey(c))
	if len(v) != 8 {
		return 0
	}
	return int(binary.BigEndian.Uint64(v))
}

func addCount(b *bolt.Bucket, c class, delta int) error {
	n := max(count(b, c)+delta, 0)
	v := binary.BigEndian.AppendUint64(nil, uint64(n))
	if err := b.Put(countKey(c), v); err != nil {
		return fmt.Errorf("write %s: %w", countKey(c), err)
	}
	return nil
}

// index files r under its class and counts it.
func (s *Store) index(b *bolt.Bucket, source string, r *Record) error {
	c := r.class()
	idx, err := s.sub(b, source, indexBucket(c))
	if err != nil {
		return err
	}
	if err := idx.Put(indexKey(r.CallAt, r.ID), nil); err != nil {
		return fmt.Errorf("index record %q: %w", r.ID, err)
	}
	return addCount(b, c, 1)
}

// unindex undoes index.
func (s *Store) unindex(b *bolt.Bucket, source string, r *Record) error {
	c := r.class()
	idx, err := s.sub(b, source, indexBucket(c))
	if err != nil {
		return err
	}
	if err := idx.Delete(indexKey(r.CallAt, r.ID)); err != nil {
		return fmt.Errorf("unindex record %q: %w", r.ID, err)
	}
	return addCount(b, c, -1)
}
