package state

import (
	"fmt"
	"os"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// Schema is the layout version this syncd writes and reads. A file of a
// newer schema is refused (upgrade syncd); there is no older one yet, so
// any other number is refused too.
//
// Layout of schema 1:
//
//	meta/schema                        "1"
//	sources/<source>/cursor            time (MarshalBinary)
//	sources/<source>/lastSuccess       time (MarshalBinary)
//	sources/<source>/count.done        uint64, big-endian
//	sources/<source>/count.pending     uint64, big-endian
//	sources/<source>/count.quarantined uint64, big-endian
//	sources/<source>/recs/<id>         record (JSON)
//	sources/<source>/idx.done/<at><id>     empty: Done records by CallAt
//	sources/<source>/idx.pending/<at><id>  empty: pending records by CallAt
//	sources/<source>/idx.quar/<at><id>     empty: quarantined records by CallAt
const Schema = 1

const (
	bucketMeta    = "meta"
	bucketSources = "sources"
	keySchema     = "schema"
)

// check verifies that the file is whole and of a schema this syncd reads.
// A file with no buckets at all is a new, empty store.
func (s *Store) check(tx *bolt.Tx) error {
	info, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("stat state file %s: %w", s.path, err)
	}
	if want := tx.Size(); info.Size() < want {
		return corruptError(s.path, fmt.Errorf("truncated: the file is %d bytes but its meta page says %d", info.Size(), want))
	}

	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		var found []byte
		_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			found = append([]byte(nil), name...)
			return errStop
		})
		if found != nil {
			return &openError{kind: ErrSchema, msg: fmt.Sprintf(
				"state file %s is a bbolt file but not syncd's (it has a %q bucket and no %q): check SYNCD_STATE_PATH",
				s.path, found, bucketMeta)}
		}
		return nil
	}
	raw := meta.Get([]byte(keySchema))
	v, err := strconv.Atoi(string(raw))
	switch {
	case err != nil:
		return &openError{kind: ErrSchema, msg: fmt.Sprintf(
			"state file %s has an unreadable schema version %q: move it aside (mv %s %s.old) and start syncd again",
			s.path, raw, s.path, s.path)}
	case v > Schema:
		return &openError{kind: ErrSchema, msg: fmt.Sprintf(
			"state file %s has schema %d, newer than this syncd understands (%d): upgrade syncd to the version that wrote it",
			s.path, v, Schema)}
	case v < Schema:
		return &openError{kind: ErrSchema, msg: fmt.Sprintf(
			"state file %s has schema %d, which this syncd cannot migrate (it reads %d): move it aside (mv %s %s.old) and start syncd again",
			s.path, v, Schema, s.path, s.path)}
	}
	return nil
}

// initialise checks the file and, if it is new, writes the schema.
func (s *Store) initialise(tx *bolt.Tx) error {
	if err := s.check(tx); err != nil {
		return err
	}
	if tx.Bucket([]byte(bucketMeta)) != nil {
		if _, err := tx.CreateBucketIfNotExists([]byte(bucketSources)); err != nil {
			return fmt.Errorf("state file %s: create bucket %s: %w", s.path, bucketSources, err)
		}
		return nil
	}
	meta, err := tx.CreateBucket([]byte(bucketMeta))
	if err != nil {
		return fmt.Errorf("state file %s: create bucket %s: %w", s.path, bucketMeta, err)
	}
	if err := meta.Put([]byte(keySchema), []byte(strconv.Itoa(Schema))); err != nil {
		return fmt.Errorf("state file %s: write schema: %w", s.path, err)
	}
	if _, err := tx.CreateBucket([]byte(bucketSources)); err != nil {
		return fmt.Errorf("state file %s: create bucket %s: %w", s.path, bucketSources, err)
	}
	return nil
}
