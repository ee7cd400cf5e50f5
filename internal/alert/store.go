package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crkai/syncd/internal/state"
)

// What the alerter keeps in the state file, through state's records and
// queue (the JSON below is the file's format: field names stay as they
// are, so that files written by an earlier syncd read the same):
//
//	incidents/<key>   Incident
//	history/<source>  passHistory, for flap detection
//	streaks/<source>  Streak, the one count of failed passes in a row
//	the queue         Delivery, by id
const (
	kindIncidents = "incidents"
	kindHistory   = "history"
	kindStreaks   = "streaks"
)

// Incident is what the alerter remembers of one thing that can break: a
// source (keyed by its name), a source's flapping ("flapping:" and its
// name) or the CRK token (TokenKey).
type Incident struct {
	Key string
	// Failures is how many passes failed while the incident was open (for
	// its messages; whether a source's alert is raised is the Streak's
	// count of failures in a row).
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

// Delivery is one message queued for the notification gateway, kept until
// it is delivered so that a restart neither loses nor repeats it.
type Delivery struct {
	ID       uint64 // set when queued; increasing
	Key      string // the incident it is about; "" for none
	Kind     string // what it says, e.g. KindSourceDown, KindRecovered
	Severity string
	Title    string
	Body     string
	Queued   time.Time
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

// passHistory is the outcomes of a source's latest passes, which the
// alerter keeps to tell a source that fails and works by turns (flapping)
// from one that is down.
type passHistory struct {
	Key string // the source
	// Failed holds one bit a pass, the newest in bit 0: 1 when it failed.
	Failed uint64
	// Count is how many of Failed's low bits hold a pass (at most 64).
	Count int
}

// wireIncident is Incident as stored; the key is the record's.
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

// wireHistory is passHistory as stored; the source is the record's key.
type wireHistory struct {
	Failed uint64 `json:"f,omitempty"`
	Count  int    `json:"n,omitempty"`
}

// wireDelivery is Delivery as stored; the id is the queue's.
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

// wireStreak is Streak as stored; the source is the record's key.
type wireStreak struct {
	Failures    int       `json:"n,omitempty"`
	Since       time.Time `json:"s,omitzero"`
	LastFailure time.Time `json:"l,omitzero"`
	LastError   string    `json:"e,omitempty"`
	LastSuccess time.Time `json:"ok,omitzero"`
}

// alertTx is a transaction on the alerter's part of the state file, in
// the alerter's types.
type alertTx struct{ *state.AlertTx }

// updateAlerts runs fn in a write transaction of store (see
// state.Store.UpdateAlerts).
func updateAlerts(ctx context.Context, store *state.Store, fn func(alertTx) error) error {
	return store.UpdateAlerts(ctx, func(tx *state.AlertTx) error { return fn(alertTx{tx}) })
}

// viewAlerts runs fn in a read transaction of store.
func viewAlerts(ctx context.Context, store *state.Store, fn func(alertTx) error) error {
	return store.ViewAlerts(ctx, func(tx *state.AlertTx) error { return fn(alertTx{tx}) })
}

// getJSON decodes the record key of kind into v; false when there is none.
func (t alertTx) getJSON(kind, key string, v any) (bool, error) {
	b, err := t.Get(kind, key)
	if b == nil || err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, t.Corrupt(fmt.Errorf("%s %q: %w", kind, key, err))
	}
	return true, nil
}

// putJSON stores v, encoded, as the record key of kind.
func (t alertTx) putJSON(kind, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %q: %w", kind, key, err)
	}
	return t.Put(kind, key, b)
}

// decodeAll decodes every record of kind, sorted by key, and converts it
// with conv.
func decodeAll[W, T any](t alertTx, kind string, conv func(key string, w W) (T, error)) ([]T, error) {
	recs, err := t.Records(kind)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(recs))
	for _, r := range recs {
		var w W
		if err := json.Unmarshal(r.Value, &w); err != nil {
			return nil, t.Corrupt(fmt.Errorf("%s %q: %w", kind, r.Key, err))
		}
		v, err := conv(r.Key, w)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Incidents returns every incident, sorted by key.
func (t alertTx) Incidents() ([]Incident, error) {
	return decodeAll(t, kindIncidents, func(key string, w wireIncident) (Incident, error) { return w.incident(key), nil })
}

// Incident returns the incident of key; false when there is none.
func (t alertTx) Incident(key string) (Incident, bool, error) {
	var w wireIncident
	ok, err := t.getJSON(kindIncidents, key, &w)
	if !ok || err != nil {
		return Incident{}, false, err
	}
	return w.incident(key), true, nil
}

func (w wireIncident) incident(key string) Incident {
	return Incident{
		Key: key, Failures: w.Failures, Since: w.Since, LastFailure: w.LastFailure, LastError: w.LastError,
		AlertID: w.AlertID, Alerted: w.Alerted, Dropped: w.Dropped, Successes: w.Successes, Up: w.Up,
		Inherited: w.Inherited,
	}
}

// PutIncident stores inc under inc.Key, replacing any incident of the key.
func (t alertTx) PutIncident(inc Incident) error {
	if inc.Failures < 0 || inc.Successes < 0 {
		return fmt.Errorf("put incident %q: negative count (%d failures, %d successes)", inc.Key, inc.Failures, inc.Successes)
	}
	return t.putJSON(kindIncidents, inc.Key, wireIncident{
		Failures: inc.Failures, Since: inc.Since, LastFailure: inc.LastFailure, LastError: inc.LastError,
		AlertID: inc.AlertID, Alerted: inc.Alerted, Dropped: inc.Dropped, Successes: inc.Successes, Up: inc.Up,
		Inherited: inc.Inherited,
	})
}

// DeleteIncident removes the incident of key, if any.
func (t alertTx) DeleteIncident(key string) error { return t.Delete(kindIncidents, key) }

// Deliveries returns the queue, oldest first.
func (t alertTx) Deliveries() ([]Delivery, error) {
	q, err := t.Queue()
	if err != nil {
		return nil, err
	}
	out := make([]Delivery, 0, len(q))
	for _, e := range q {
		var w wireDelivery
		if err := json.Unmarshal(e.Value, &w); err != nil {
			return nil, t.Corrupt(fmt.Errorf("queued delivery %d: %w", e.ID, err))
		}
		out = append(out, Delivery{
			ID: e.ID, Key: w.Key, Kind: w.Kind, Severity: w.Severity, Title: w.Title, Body: w.Body,
			Queued: w.Queued, Attempts: w.Attempts, NextTry: w.NextTry, LastError: w.LastError, Refusals: w.Refusals,
		})
	}
	return out, nil
}

// Enqueue adds d at the end of the queue, setting d.ID.
func (t alertTx) Enqueue(d *Delivery) error {
	b, err := encodeDelivery(*d)
	if err != nil {
		return err
	}
	if d.ID, err = t.AlertTx.Enqueue(b); err != nil {
		return fmt.Errorf("enqueue %s: %w", d.Kind, err)
	}
	return nil
}

// PutDelivery replaces queued delivery d.ID (its attempts, say). It is an
// error when d is no longer queued.
func (t alertTx) PutDelivery(d Delivery) error {
	b, err := encodeDelivery(d)
	if err != nil {
		return err
	}
	return t.Requeue(d.ID, b)
}

func encodeDelivery(d Delivery) ([]byte, error) {
	b, err := json.Marshal(wireDelivery{
		Key: d.Key, Kind: d.Kind, Severity: d.Severity, Title: d.Title, Body: d.Body, Queued: d.Queued,
		Attempts: d.Attempts, NextTry: d.NextTry, LastError: d.LastError, Refusals: d.Refusals,
	})
	if err != nil {
		return nil, fmt.Errorf("encode delivery %d: %w", d.ID, err)
	}
	return b, nil
}

// DeleteDelivery removes delivery id from the queue, if it is there.
func (t alertTx) DeleteDelivery(id uint64) error { return t.Dequeue(id) }

// PassHistory returns the pass history of source; false when there is
// none.
func (t alertTx) PassHistory(source string) (passHistory, bool, error) {
	var w wireHistory
	ok, err := t.getJSON(kindHistory, source, &w)
	if !ok || err != nil {
		return passHistory{}, false, err
	}
	if w.Count < 0 || w.Count > 64 {
		return passHistory{}, false, t.Corrupt(fmt.Errorf("pass history %q: count %d", source, w.Count))
	}
	return passHistory{Key: source, Failed: w.Failed, Count: w.Count}, true, nil
}

// PutPassHistory stores h under h.Key, replacing the source's history.
func (t alertTx) PutPassHistory(h passHistory) error {
	if h.Count < 0 || h.Count > 64 {
		return fmt.Errorf("put pass history %q: count %d, want 0 to 64", h.Key, h.Count)
	}
	return t.putJSON(kindHistory, h.Key, wireHistory{Failed: h.Failed, Count: h.Count})
}

// Streak returns the streak of source; false when there is none.
func (t alertTx) Streak(source string) (Streak, bool, error) {
	var w wireStreak
	ok, err := t.getJSON(kindStreaks, source, &w)
	if !ok || err != nil {
		return Streak{Source: source}, false, err
	}
	st, err := w.checked(t, source)
	return st, err == nil, err
}

// Streaks returns every source's streak, sorted by source.
func (t alertTx) Streaks() ([]Streak, error) {
	return decodeAll(t, kindStreaks, func(source string, w wireStreak) (Streak, error) { return w.checked(t, source) })
}

// checked is w as source's Streak; a negative count is corrupt.
func (w wireStreak) checked(t alertTx, source string) (Streak, error) {
	if w.Failures < 0 {
		return Streak{Source: source}, t.Corrupt(fmt.Errorf("streak %q: %d failures", source, w.Failures))
	}
	return Streak{Source: source, Failures: w.Failures, Since: w.Since, LastFailure: w.LastFailure, LastError: w.LastError,
		LastSuccess: w.LastSuccess}, nil
}

// PutStreak stores s under s.Source.
func (t alertTx) PutStreak(s Streak) error {
	if s.Failures < 0 {
		return fmt.Errorf("put streak %q: %d failures", s.Source, s.Failures)
	}
	return t.putJSON(kindStreaks, s.Source, wireStreak{Failures: s.Failures, Since: s.Since, LastFailure: s.LastFailure,
		LastError: s.LastError, LastSuccess: s.LastSuccess})
}
