package state

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Keys of a source's bucket and of the meta bucket beyond schema 1's first
// layout. New keys are optional: a file without them reads as zero values,
// so no schema change is needed.
const (
	keyHorizon    = "horizon"       // sources/<source>/horizon: time (MarshalBinary)
	keyFloor      = "floor"         // sources/<source>/floor: time (MarshalBinary)
	keyLoginBlock = "loginBackoff"  // sources/<source>/loginBackoff: JSON LoginBackoff
	keyVocabulary = "crkVocabulary" // meta/crkVocabulary: JSON Vocabulary
)

// Horizon is the time before which the store may have forgotten source's
// finished recordings: the latest bound Prune used. A listed recording that
// started before it and is unknown to the store may have been delivered
// long ago, so it is never sent without asking CRK first. False before
// the first prune.
func (s *Store) Horizon(ctx context.Context, source string) (time.Time, bool, error) {
	t, ok, err := s.readTime(ctx, source, keyHorizon)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read horizon of %s: %w", source, err)
	}
	return t, ok, nil
}

// Floor is where source's first pass began (now − SYNCD_BACKFILL then):
// no later pass lists unknown recordings before it. False when unset.
func (s *Store) Floor(ctx context.Context, source string) (time.Time, bool, error) {
	t, ok, err := s.readTime(ctx, source, keyFloor)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read floor of %s: %w", source, err)
	}
	return t, ok, nil
}

// SetFloor records where source's first pass began.
func (s *Store) SetFloor(ctx context.Context, source string, t time.Time) error {
	if err := s.writeTime(ctx, source, keyFloor, t); err != nil {
		return fmt.Errorf("set floor of %s: %w", source, err)
	}
	return nil
}

// LoginBackoff is what a source's refused log-ins left behind: how many in
// a row, and when the next may be tried. Fingerprint names the
// configuration they were refused with; a new configuration starts afresh.
type LoginBackoff struct {
	Refusals    int       `json:"n"`
	Until       time.Time `json:"until"`
	Fingerprint string    `json:"fp,omitempty"`
	LastError   string    `json:"err,omitempty"`
}

// LoginBackoff reads source's log-in backoff; the zero value when none.
func (s *Store) LoginBackoff(ctx context.Context, source string) (LoginBackoff, error) {
	var lb LoginBackoff
	err := s.readJSON(ctx, func(tx *bolt.Tx) (*bolt.Bucket, error) { return s.sourceBucket(tx, source, false) }, keyLoginBlock, &lb)
	if err != nil {
		return LoginBackoff{}, fmt.Errorf("read log-in backoff of %s: %w", source, err)
	}
	return lb, nil
}

// SetLoginBackoff records source's log-in backoff; a zero value clears it.
func (s *Store) SetLoginBackoff(ctx context.Context, source string, lb LoginBackoff) error {
	if err := checkSource(source); err != nil {
		return err
	}
	var v any = lb
	if lb == (LoginBackoff{}) {
		v = nil
	}
	err := s.writeJSON(ctx, func(tx *bolt.Tx) (*bolt.Bucket, error) { return s.sourceBucket(tx, source, true) }, keyLoginBlock, v)
	if err != nil {
		return fmt.Errorf("save log-in backoff of %s: %w", source, err)
	}
	return nil
}

// Vocabulary is what syncd has learned of CRK's undocumented
// processingStatus words: After holds the statuses CRK answered to
// reextracts that succeeded, Before the statuses it showed for recordings
// syncd had not yet asked to process. Probed is when Before was last
// observed.
type Vocabulary struct {
	Before []string  `json:"before,omitempty"`
	After  []string  `json:"after,omitempty"`
	Probed time.Time `json:"probed,omitzero"`
}

// Vocabulary reads what syncd learned of CRK's processingStatus words.
func (s *Store) Vocabulary(ctx context.Context) (Vocabulary, error) {
	var v Vocabulary
	if err := s.readJSON(ctx, metaBucket, keyVocabulary, &v); err != nil {
		return Vocabulary{}, fmt.Errorf("read CRK status vocabulary: %w", err)
	}
	return v, nil
}

// SetVocabulary saves what syncd learned of CRK's processingStatus words.
func (s *Store) SetVocabulary(ctx context.Context, v Vocabulary) error {
	if err := s.writeJSON(ctx, metaBucket, keyVocabulary, v); err != nil {
		return fmt.Errorf("save CRK status vocabulary: %w", err)
	}
	return nil
}

func metaBucket(tx *bolt.Tx) (*bolt.Bucket, error) {
	if !tx.Writable() {
		return tx.Bucket([]byte(bucketMeta)), nil
	}
	b, err := tx.CreateBucketIfNotExists([]byte(bucketMeta))
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", bucketMeta, err)
	}
	return b, nil
}

func (s *Store) readJSON(ctx context.Context, bucket func(*bolt.Tx) (*bolt.Bucket, error), key string, out any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.view(func(tx *bolt.Tx) error {
		b, err := bucket(tx)
		if b == nil || err != nil {
			return err
		}
		raw := b.Get([]byte(key))
		if raw == nil {
			return nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return corruptError(s.path, fmt.Errorf("%s: %w", key, err))
		}
		return nil
	})
}

// writeJSON stores v as JSON under key; nil deletes the key.
func (s *Store) writeJSON(ctx context.Context, bucket func(*bolt.Tx) (*bolt.Bucket, error), key string, v any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var raw []byte
	if v != nil {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return fmt.Errorf("encode %s: %w", key, err)
		}
	}
	return s.update(func(tx *bolt.Tx) error {
		b, err := bucket(tx)
		if err != nil {
			return err
		}
		if raw == nil {
			return b.Delete([]byte(key))
		}
		return b.Put([]byte(key), raw)
	})
}
