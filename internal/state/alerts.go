package state

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The alerter's part of the file, beside the schema-1 layout (see Schema):
// records the Store keeps without reading them, grouped in kinds, and a
// queue. The bucket is created by the first write; a syncd that does not
// alert, or an older one, never looks at it, so the schema number is
// unchanged.
//
//	alerts/<kind>/<key>    a record (opaque bytes)
//	alerts/queue/<id>      a queued message (opaque bytes); id uint64, big-endian
const (
	bucketAlerts = "alerts"
	bucketQueue  = "queue"
)

// maxKeyLen bounds the name of a kind and the key of a record (bbolt keys).
const maxKeyLen = 1024

// Entry is a record of the alerter's part of the file.
type Entry struct {
	Key   string
	Value []byte
}

// Queued is a message in the alerter's queue.
type Queued struct {
	ID    uint64 // set by Enqueue; increasing
	Value []byte
}

// AlertTx is a transaction on the alerter's part of the file, valid only
// inside the function given to UpdateAlerts or ViewAlerts. The values it
// returns are copies, valid after the transaction.
type AlertTx struct {
	s     *Store
	tx    *bolt.Tx
	dirty bool
}

// errNothingWritten rolls back an UpdateAlerts that wrote nothing, so that
// it costs no fsync.
var errNothingWritten = errors.New("nothing written")

// UpdateAlerts runs fn in a write transaction: everything fn writes is
// kept, or nothing when fn returns an error (which UpdateAlerts returns). A
// transaction that writes nothing does not touch the file.
func (s *Store) UpdateAlerts(ctx context.Context, fn func(*AlertTx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("update alert state: %w", err)
	}
	err := s.update(func(tx *bolt.Tx) error {
		at := &AlertTx{s: s, tx: tx}
		if err := fn(at); err != nil {
			return err
		}
		if !at.dirty {
			return errNothingWritten
		}
		return nil
	})
	if err != nil && !errors.Is(err, errNothingWritten) {
		return fmt.Errorf("update alert state: %w", err)
	}
	return nil
}

// ViewAlerts runs fn in a read transaction (also on a read-only Store).
// fn must not write.
func (s *Store) ViewAlerts(ctx context.Context, fn func(*AlertTx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("read alert state: %w", err)
	}
	if err := s.view(func(tx *bolt.Tx) error { return fn(&AlertTx{s: s, tx: tx}) }); err != nil {
		return fmt.Errorf("read alert state: %w", err)
	}
	return nil
}

// Corrupt is err (a record the caller cannot decode) as ErrCorrupt,
// naming the file and saying what to do.
func (t *AlertTx) Corrupt(err error) error { return corruptError(t.s.path, err) }

// bucket is alerts/name, created when create is set (in a write
// transaction); nil when it does not exist yet.
func (t *AlertTx) bucket(name string, create bool) (*bolt.Bucket, error) {
	if !create {
		alerts := t.tx.Bucket([]byte(bucketAlerts))
		if alerts == nil {
			return nil, nil
		}
		return alerts.Bucket([]byte(name)), nil
	}
	if !t.tx.Writable() {
		return nil, errors.New("a read transaction cannot write")
	}
	alerts, err := t.tx.CreateBucketIfNotExists([]byte(bucketAlerts))
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", bucketAlerts, err)
	}
	b, err := alerts.CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return nil, fmt.Errorf("create bucket %s/%s: %w", bucketAlerts, name, err)
	}
	t.dirty = true
	return b, nil
}

// checkName refuses what cannot name a kind or a record, and the queue's
// kind, which only the queue's methods touch.
func checkName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty %s", what)
	case len(name) > maxKeyLen:
		return fmt.Errorf("%s is %d bytes, more than %d", what, len(name), maxKeyLen)
	case what == "kind" && name == bucketQueue:
		return fmt.Errorf("kind %q is the queue's", name)
	}
	return nil
}

// Get returns the record key of kind; nil when there is none.
func (t *AlertTx) Get(kind, key string) ([]byte, error) {
	if err := checkName("kind", kind); err != nil {
		return nil, fmt.Errorf("get %s record: %w", kind, err)
	}
	b, err := t.bucket(kind, false)
	if b == nil || err != nil {
		return nil, err
	}
	return bytesCopy(b.Get([]byte(key))), nil
}

// Records returns every record of kind, sorted by key.
func (t *AlertTx) Records(kind string) ([]Entry, error) {
	if err := checkName("kind", kind); err != nil {
		return nil, fmt.Errorf("list %s records: %w", kind, err)
	}
	b, err := t.bucket(kind, false)
	if b == nil || err != nil {
		return nil, err
	}
	var out []Entry
	err = b.ForEach(func(k, v []byte) error {
		if v == nil {
			return corruptError(t.s.path, fmt.Errorf("%s/%s/%q is a bucket", bucketAlerts, kind, k))
		}
		out = append(out, Entry{Key: string(k), Value: bytesCopy(v)})
		return nil
	})
	return out, err
}

// Put stores v as the record key of kind, replacing any.
func (t *AlertTx) Put(kind, key string, v []byte) error {
	if err := checkName("kind", kind); err != nil {
		return fmt.Errorf("put %s record: %w", kind, err)
	}
	if err := checkName("key", key); err != nil {
		return fmt.Errorf("put %s record: %w", kind, err)
	}
	b, err := t.bucket(kind, true)
	if err != nil {
		return err
	}
	if err := b.Put([]byte(key), v); err != nil {
		return fmt.Errorf("put %s record %q: %w", kind, key, err)
	}
	return nil
}

// Delete removes the record key of kind, if any.
func (t *AlertTx) Delete(kind, key string) error {
	if err := checkName("kind", kind); err != nil {
		return fmt.Errorf("delete %s record: %w", kind, err)
	}
	b, err := t.bucket(kind, false)
	if b == nil || err != nil || b.Get([]byte(key)) == nil {
		return err
	}
	t.dirty = true
	if err := b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("delete %s record %q: %w", kind, key, err)
	}
	return nil
}

// Queue returns the queued messages, oldest first.
func (t *AlertTx) Queue() ([]Queued, error) {
	b, err := t.bucket(bucketQueue, false)
	if b == nil || err != nil {
		return nil, err
	}
	var out []Queued
	err = b.ForEach(func(k, v []byte) error {
		if len(k) != 8 || v == nil {
			return corruptError(t.s.path, fmt.Errorf("queued message with a key of %d bytes", len(k)))
		}
		out = append(out, Queued{ID: binary.BigEndian.Uint64(k), Value: bytesCopy(v)})
		return nil
	})
	return out, err
}

// Enqueue adds v at the end of the queue and returns its id.
func (t *AlertTx) Enqueue(v []byte) (uint64, error) {
	b, err := t.bucket(bucketQueue, true)
	if err != nil {
		return 0, err
	}
	id, err := b.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("enqueue: %w", err)
	}
	if err := b.Put(queueKey(id), v); err != nil {
		return 0, fmt.Errorf("enqueue %d: %w", id, err)
	}
	return id, nil
}

// Requeue replaces queued message id with v. It is an error when id is no
// longer queued.
func (t *AlertTx) Requeue(id uint64, v []byte) error {
	b, err := t.bucket(bucketQueue, false)
	if err != nil {
		return err
	}
	if b == nil || b.Get(queueKey(id)) == nil {
		return fmt.Errorf("requeue %d: not queued", id)
	}
	t.dirty = true
	if err := b.Put(queueKey(id), v); err != nil {
		return fmt.Errorf("requeue %d: %w", id, err)
	}
	return nil
}

// Dequeue removes message id from the queue, if it is there.
func (t *AlertTx) Dequeue(id uint64) error {
	b, err := t.bucket(bucketQueue, false)
	if b == nil || err != nil || b.Get(queueKey(id)) == nil {
		return err
	}
	t.dirty = true
	if err := b.Delete(queueKey(id)); err != nil {
		return fmt.Errorf("dequeue %d: %w", id, err)
	}
	return nil
}

func queueKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

// bytesCopy copies b out of bbolt's memory; nil stays nil.
func bytesCopy(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
