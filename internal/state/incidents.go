package state

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The alerter's part of the file, beside the schema-1 layout (see Schema).
// The bucket is created by the first write; a syncd that does not alert,
// or an older one, never looks at it, so the schema number is unchanged.
//
//	alerts/incidents/<key>      incident (JSON)
//	alerts/queue/<id>           delivery (JSON); id uint64, big-endian
//	alerts/history/<source>     pass history (JSON), for flap detection
const (
	bucketAlerts    = "alerts"
	bucketIncidents = "incidents"
	bucketQueue     = "queue"
	bucketHistory   = "history"
)

// Incident is what the alerter remembers of one thing that can break: a
// source (keyed by its name) or the CRK token ("crk-token").
type Incident struct {
	Key string
	// Failures is how many passes in a row have failed.
	Failures int
	// Since is when the first of those failures was seen.
	Since time.Time
	// LastFailure is when the latest was seen, LastError what it said (in
	// plain words, scrubbed of secrets by the alerter).
	LastFailure time.Time
	LastError   string
	// AlertID is the queued delivery of the incident's alert; 0 when none
	// is queued.
	AlertID uint64
	// Alerted is when the incident's alert was delivered; zero until then.
	Alerted time.Time
	// Dropped is when the incident's alert was given up undelivered
	// because the gateway refused it for good; zero otherwise. Such an
	// alert is not raised again, and the incident ends without a recovery.
	Dropped time.Time
	// Successes is how many passes in a row have succeeded since the last
	// failure while the alert stands (an alerted incident ends only after
	// a few, so that a source failing and working by turns does not send
	// an alert and a recovery each time); Up is when the first of them
	// was seen.
	Successes int
	Up        time.Time
	// Inherited is, for an incident that took over another's alert (a
	// source's flapping, over its own down alert), when that alert was
	// delivered: the incident's end then sends a recovery even if its own
	// alert was not delivered. Zero otherwise.
	Inherited time.Time
}

// Raised reports whether the incident's alert is queued, delivered or was
// refused for good: it is never raised twice.
func (i *Incident) Raised() bool { return i.AlertID != 0 || !i.Alerted.IsZero() || !i.Dropped.IsZero() }

// PassHistory is the outcomes of a source's latest passes, which the
// alerter keeps to tell a source that fails and works by turns (flapping)
// from one that is down.
type PassHistory struct {
	Key string // the source
	// Failed holds one bit a pass, the newest in bit 0: 1 when it failed.
	Failed uint64
	// Count is how many of Failed's low bits hold a pass (at most 64).
	Count int
}

// Delivery is one message queued for the notification gateway, kept until
// it is delivered so that a restart neither loses nor repeats it.
type Delivery struct {
	ID       uint64 // set by Enqueue; increasing
	Key      string // the incident it is about; "" for none
	Kind     string // what it says, e.g. "source_down", "recovered"
	Severity string
	Title    string
	Body     string
	Queued   time.Time // set by Enqueue when zero
	// Attempts is how many deliveries failed so far; NextTry is the
	// earliest time for the next one (zero: at once); LastError why the
	// last one failed.
	Attempts  int
	NextTry   time.Time
	LastError string
	// Refusals is how many of those failures were the gateway refusing
	// the message itself (as opposed to failing to deliver it for now).
	Refusals int
}

// AlertTx is a transaction on the alerter's part of the file, valid only
// inside the function given to UpdateAlerts or ViewAlerts.
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

// Incidents returns every incident, sorted by key.
func (t *AlertTx) Incidents() ([]Incident, error) {
	b, err := t.bucket(bucketIncidents, false)
	if b == nil || err != nil {
		return nil, err
	}
	var out []Incident
	err = b.ForEach(func(k, v []byte) error {
		inc, err := t.decodeIncident(k, v)
		out = append(out, inc)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Incident returns the incident of key; false when there is none.
func (t *AlertTx) Incident(key string) (Incident, bool, error) {
	b, err := t.bucket(bucketIncidents, false)
	if b == nil || err != nil {
		return Incident{}, false, err
	}
	v := b.Get([]byte(key))
	if v == nil {
		return Incident{}, false, nil
	}
	inc, err := t.decodeIncident([]byte(key), v)
	return inc, err == nil, err
}

// PutIncident stores inc under inc.Key, replacing any incident of the key.
func (t *AlertTx) PutIncident(inc Incident) error {
	if err := checkSource(inc.Key); err != nil {
		return fmt.Errorf("put incident: %w", err)
	}
	if inc.Failures < 0 {
		return fmt.Errorf("put incident %q: negative failures %d", inc.Key, inc.Failures)
	}
	if inc.Successes < 0 {
		return fmt.Errorf("put incident %q: negative successes %d", inc.Key, inc.Successes)
	}
	v, err := json.Marshal(wireIncident{
		Failures: inc.Failures, Since: inc.Since, LastFailure: inc.LastFailure, LastError: inc.LastError,
		AlertID: inc.AlertID, Alerted: inc.Alerted, Dropped: inc.Dropped, Successes: inc.Successes, Up: inc.Up,
		Inherited: inc.Inherited,
	})
	if err != nil {
		return fmt.Errorf("encode incident %q: %w", inc.Key, err)
	}
	b, err := t.bucket(bucketIncidents, true)
	if err != nil {
		return err
	}
	if err := b.Put([]byte(inc.Key), v); err != nil {
		return fmt.Errorf("put incident %q: %w", inc.Key, err)
	}
	return nil
}

// DeleteIncident removes the incident of key, if any.
func (t *AlertTx) DeleteIncident(key string) error {
	b, err := t.bucket(bucketIncidents, false)
	if b == nil || err != nil || b.Get([]byte(key)) == nil {
		return err
	}
	t.dirty = true
	if err := b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("delete incident %q: %w", key, err)
	}
	return nil
}

// Deliveries returns the queue, oldest first.
func (t *AlertTx) Deliveries() ([]Delivery, error) {
	b, err := t.bucket(bucketQueue, false)
	if b == nil || err != nil {
		return nil, err
	}
	var out []Delivery
	err = b.ForEach(func(k, v []byte) error {
		d, err := t.decodeDelivery(k, v)
		out = append(out, d)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Enqueue adds d at the end of the queue, setting d.ID (and d.Queued, when
// zero, to the Store's clock).
func (t *AlertTx) Enqueue(d *Delivery) error {
	b, err := t.bucket(bucketQueue, true)
	if err != nil {
		return err
	}
	id, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", d.Kind, err)
	}
	d.ID = id
	if d.Queued.IsZero() {
		d.Queued = t.s.now()
	}
	return t.putDelivery(b, *d)
}

// PutDelivery replaces queued delivery d.ID (its attempts, say). It is an
// error when d is no longer queued.
func (t *AlertTx) PutDelivery(d Delivery) error {
	b, err := t.bucket(bucketQueue, false)
	if err != nil {
		return err
	}
	if b == nil || b.Get(deliveryKey(d.ID)) == nil {
		return fmt.Errorf("put delivery %d: not queued", d.ID)
	}
	t.dirty = true
	return t.putDelivery(b, d)
}

func (t *AlertTx) putDelivery(b *bolt.Bucket, d Delivery) error {
	v, err := json.Marshal(wireDelivery{
		Key: d.Key, Kind: d.Kind, Severity: d.Severity, Title: d.Title, Body: d.Body, Queued: d.Queued,
		Attempts: d.Attempts, NextTry: d.NextTry, LastError: d.LastError, Refusals: d.Refusals,
	})
	if err != nil {
		return fmt.Errorf("encode delivery %d: %w", d.ID, err)
	}
	if err := b.Put(deliveryKey(d.ID), v); err != nil {
		return fmt.Errorf("put delivery %d: %w", d.ID, err)
	}
	return nil
}

// DeleteDelivery removes delivery id from the queue, if it is there.
func (t *AlertTx) DeleteDelivery(id uint64) error {
	b, err := t.bucket(bucketQueue, false)
	if b == nil || err != nil || b.Get(deliveryKey(id)) == nil {
		return err
	}
	t.dirty = true
	if err := b.Delete(deliveryKey(id)); err != nil {
		return fmt.Errorf("delete delivery %d: %w", id, err)
	}
	return nil
}

func deliveryKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

// PassHistory returns the pass history of source; false when there is
// none.
func (t *AlertTx) PassHistory(source string) (PassHistory, bool, error) {
	b, err := t.bucket(bucketHistory, false)
	if b == nil || err != nil {
		return PassHistory{}, false, err
	}
	v := b.Get([]byte(source))
	if v == nil {
		return PassHistory{}, false, nil
	}
	var w wireHistory
	if err := json.Unmarshal(v, &w); err != nil {
		return PassHistory{}, false, corruptError(t.s.path, fmt.Errorf("pass history %q: %w", source, err))
	}
	if w.Count < 0 || w.Count > 64 {
		return PassHistory{}, false, corruptError(t.s.path, fmt.Errorf("pass history %q: count %d", source, w.Count))
	}
	return PassHistory{Key: source, Failed: w.Failed, Count: w.Count}, true, nil
}

// PutPassHistory stores h under h.Key, replacing the source's history.
func (t *AlertTx) PutPassHistory(h PassHistory) error {
	if err := checkSource(h.Key); err != nil {
		return fmt.Errorf("put pass history: %w", err)
	}
	if h.Count < 0 || h.Count > 64 {
		return fmt.Errorf("put pass history %q: count %d, want 0 to 64", h.Key, h.Count)
	}
	v, err := json.Marshal(wireHistory{Failed: h.Failed, Count: h.Count})
	if err != nil {
		return fmt.Errorf("encode pass history %q: %w", h.Key, err)
	}
	b, err := t.bucket(bucketHistory, true)
	if err != nil {
		return err
	}
	if err := b.Put([]byte(h.Key), v); err != nil {
		return fmt.Errorf("put pass history %q: %w", h.Key, err)
	}
	return nil
}

// wireIncident is Incident as stored; the key is the bbolt key.
type wireIncident struct {
	Failures    int       `json:"n,omitempty"`
	Since       time.Time `json:"s,omitzero"`
	LastFailure time.Time `json:"l,omitzero"`
	LastError   string    `json:"e,omitempty"`
	AlertID     uint64    `json:"q,omitempty"`
	Alerted     time.Time `json:"a,omitzero"`
	Dropped     time.Time `json:"d,omitzero"`
	Successes   int       `json:"ok,omitempty"`
	Up          time.Time `json:"u,omitzero"`
	Inherited   time.Time `json:"i,omitzero"`
}

// wireHistory is PassHistory as stored; the source is the bbolt key.
type wireHistory struct {
	Failed uint64 `json:"f,omitempty"`
	Count  int    `json:"n,omitempty"`
}

// wireDelivery is Delivery as stored; the id is the bbolt key.
type wireDelivery struct {
	Key       string    `json:"k,omitempty"`
	Kind      string    `json:"kind"`
	Severity  string    `json:"sev,omitempty"`
	Title     string    `json:"t"`
	Body      string    `json:"b"`
	Queued    time.Time `json:"q,omitzero"`
	Attempts  int       `json:"n,omitempty"`
	NextTry   time.Time `json:"next,omitzero"`
	LastError string    `json:"e,omitempty"`
	Refusals  int       `json:"r,omitempty"`
}

// decodeIncident decodes bbolt's memory k, v, copying what it keeps.
func (t *AlertTx) decodeIncident(k, v []byte) (Incident, error) {
	var w wireIncident
	if err := json.Unmarshal(v, &w); err != nil {
		return Incident{}, corruptError(t.s.path, fmt.Errorf("incident %q: %w", k, err))
	}
	return Incident{
		Key: string(k), Failures: w.Failures, Since: w.Since, LastFailure: w.LastFailure, LastError: w.LastError,
		AlertID: w.AlertID, Alerted: w.Alerted, Dropped: w.Dropped, Successes: w.Successes, Up: w.Up,
		Inherited: w.Inherited,
	}, nil
}

func (t *AlertTx) decodeDelivery(k, v []byte) (Delivery, error) {
	var w wireDelivery
	if len(k) != 8 {
		return Delivery{}, corruptError(t.s.path, fmt.Errorf("queued delivery with a key of %d bytes", len(k)))
	}
	if err := json.Unmarshal(v, &w); err != nil {
		return Delivery{}, corruptError(t.s.path, fmt.Errorf("queued delivery %x: %w", k, err))
	}
	return Delivery{
		ID: binary.BigEndian.Uint64(k), Key: w.Key, Kind: w.Kind, Severity: w.Severity, Title: w.Title, Body: w.Body,
		Queued: w.Queued, Attempts: w.Attempts, NextTry: w.NextTry, LastError: w.LastError, Refusals: w.Refusals,
	}, nil
}
