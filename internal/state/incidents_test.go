package state

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/crkai/syncd/internal/fake/fakeclock"
)

func mustUpdateAlerts(t *testing.T, s *Store, fn func(*AlertTx) error) {
	t.Helper()
	if err := s.UpdateAlerts(context.Background(), fn); err != nil {
		t.Fatalf("UpdateAlerts: %v", err)
	}
}

// alertState is everything in the alerter's part of s.
func alertState(t *testing.T, s *Store) ([]Incident, []Delivery) {
	t.Helper()
	var (
		incs []Incident
		ds   []Delivery
	)
	err := s.ViewAlerts(context.Background(), func(tx *AlertTx) error {
		var err error
		if incs, err = tx.Incidents(); err != nil {
			return err
		}
		ds, err = tx.Deliveries()
		return err
	})
	if err != nil {
		t.Fatalf("ViewAlerts: %v", err)
	}
	return incs, ds
}

// TestAlertStateSurvivesReopen: incidents and the queue, written and
// changed, read back the same after the file is closed and opened again.
func TestAlertStateSurvivesReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "syncd.db")
	s, err := Open(ctx, path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 20, 8, 0, 0, 0, bangkok)
	dtac := Incident{Key: "dtac", Failures: 3, Since: at, LastFailure: at.Add(10 * time.Minute), LastError: "the portal refused the login"}
	token := Incident{Key: "crk-token", Failures: 1, Since: at, LastFailure: at, LastError: "token_disabled", Alerted: at.Add(time.Minute)}
	down := Delivery{Key: "dtac", Kind: "source_down", Severity: "critical", Title: "dtac is down", Body: "since 08:00"}
	quar := Delivery{Kind: "quarantine", Severity: "warning", Title: "2 quarantined", Body: "dtac-1: gone", Queued: at}
	mustUpdateAlerts(t, s, func(tx *AlertTx) error {
		if err := tx.Enqueue(&down); err != nil {
			return err
		}
		dtac.AlertID = down.ID
		if err := tx.Enqueue(&quar); err != nil {
			return err
		}
		if err := tx.PutIncident(dtac); err != nil {
			return err
		}
		return tx.PutIncident(token)
	})
	if down.ID == 0 || quar.ID <= down.ID {
		t.Fatalf("ids %d, %d: want increasing from 1", down.ID, quar.ID)
	}
	if !down.Queued.Equal(clk.Now()) || !quar.Queued.Equal(at) {
		t.Errorf("queued at %v and %v: Enqueue stamps only a zero time", down.Queued, quar.Queued)
	}
	clk.Advance(time.Hour)
	down.Attempts, down.NextTry, down.LastError = 2, clk.Now().Add(4*time.Minute), "crk notify: the telegram delivery failed: 502"
	mustUpdateAlerts(t, s, func(tx *AlertTx) error { return tx.PutDelivery(down) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	incs, ds := alertState(t, s)
	if want := []Incident{token, dtac}; !equalJSONTimes(incs, want) {
		t.Errorf("incidents\n got %+v\nwant %+v", incs, want)
	}
	if want := []Delivery{down, quar}; !equalJSONTimes(ds, want) {
		t.Errorf("deliveries\n got %+v\nwant %+v", ds, want)
	}
	var got Incident
	var ok bool
	err = s.ViewAlerts(ctx, func(tx *AlertTx) error {
		var err error
		got, ok, err = tx.Incident("dtac")
		return err
	})
	if err != nil || !ok || !got.Raised() || got.Failures != 3 {
		t.Errorf("Incident(dtac) = %+v, %v, %v", got, ok, err)
	}

	// Delivered: the delivery goes, the incident remembers when.
	mustUpdateAlerts(t, s, func(tx *AlertTx) error {
		if err := tx.DeleteDelivery(down.ID); err != nil {
			return err
		}
		dtac.AlertID, dtac.Alerted = 0, clk.Now()
		return tx.PutIncident(dtac)
	})
	// Resolved.
	mustUpdateAlerts(t, s, func(tx *AlertTx) error { return tx.DeleteIncident("crk-token") })
	incs, ds = alertState(t, s)
	if len(incs) != 1 || incs[0].Key != "dtac" || !incs[0].Raised() || incs[0].AlertID != 0 || len(ds) != 1 || ds[0].ID != quar.ID {
		t.Errorf("after delivery and resolution: %+v, %+v", incs, ds)
	}
	// A new delivery never reuses an id.
	again := Delivery{Kind: "recovered", Title: "t", Body: "b"}
	mustUpdateAlerts(t, s, func(tx *AlertTx) error { return tx.Enqueue(&again) })
	if again.ID <= quar.ID {
		t.Errorf("id %d after %d", again.ID, quar.ID)
	}
}

// equalJSONTimes compares values whose times went through JSON (which
// keeps the instant and offset, not the *time.Location).
func equalJSONTimes[T any](got, want []T) bool {
	return fmt.Sprintf("%+v", normalise(got)) == fmt.Sprintf("%+v", normalise(want))
}

func normalise[T any](v []T) []T {
	out := make([]T, len(v))
	for i, x := range v {
		rv := reflect.ValueOf(&x).Elem()
		for f := range rv.NumField() {
			if tm, ok := rv.Field(f).Interface().(time.Time); ok {
				rv.Field(f).Set(reflect.ValueOf(tm.UTC()))
			}
		}
		out[i] = x
	}
	return out
}

// TestQueueOrder: the queue comes back in the order it was filled, past
// the 255th entry (ids are big-endian keys).
func TestQueueOrder(t *testing.T) {
	t.Parallel()
	s := openTemp(t, newClock())
	const n = 300
	mustUpdateAlerts(t, s, func(tx *AlertTx) error {
		for i := range n {
			if err := tx.Enqueue(&Delivery{Kind: "quarantine", Title: fmt.Sprint(i), Body: "b"}); err != nil {
				return err
			}
		}
		return nil
	})
	_, ds := alertState(t, s)
	if len(ds) != n {
		t.Fatalf("%d deliveries", len(ds))
	}
	for i, d := range ds {
		if d.ID != uint64(i+1) || d.Title != fmt.Sprint(i) {
			t.Fatalf("delivery %d: %+v", i, d)
		}
	}
}

// TestUpdateAlertsAtomic: an error from fn keeps nothing of what it wrote.
func TestUpdateAlertsAtomic(t *testing.T) {
	t.Parallel()
	s := openTemp(t, newClock())
	boom := errors.New("boom")
	err := s.UpdateAlerts(context.Background(), func(tx *AlertTx) error {
		if err := tx.PutIncident(Incident{Key: "dtac", Failures: 1}); err != nil {
			return err
		}
		if err := tx.Enqueue(&Delivery{Kind: "source_down", Title: "t", Body: "b"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateAlerts: %v", err)
	}
	if incs, ds := alertState(t, s); len(incs) != 0 || len(ds) != 0 {
		t.Fatalf("kept %+v, %+v", incs, ds)
	}
}

// TestUpdateAlertsWithoutWrites: a transaction that writes nothing (only
// reads, or deletes what is not there) does not commit.
func TestUpdateAlertsWithoutWrites(t *testing.T) {
	t.Parallel()
	s := openTemp(t, newClock())
	mustUpdateAlerts(t, s, func(tx *AlertTx) error { return tx.PutIncident(Incident{Key: "3cx", Failures: 1}) })
	txid := func() int {
		var id int
		_ = s.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil })
		return id
	}
	before := txid()
	mustUpdateAlerts(t, s, func(tx *AlertTx) error {
		if _, err := tx.Incidents(); err != nil {
			return err
		}
		if _, err := tx.Deliveries(); err != nil {
			return err
		}
		if err := tx.DeleteIncident("not-there"); err != nil {
			return err
		}
		return tx.DeleteDelivery(99)
	})
	if after := txid(); after != before {
		t.Errorf("a read-only update committed: tx %d → %d", before, after)
	}
	mustUpdateAlerts(t, s, func(tx *AlertTx) error { return tx.DeleteIncident("3cx") })
	if after := txid(); after != before+1 {
		t.Errorf("a delete did not commit: tx %d → %d", before, after)
	}
}

func TestAlertTxRefuses(t *testing.T) {
	t.Parallel()
	s := openTemp(t, newClock())
	tests := []struct {
		name string
		fn   func(*AlertTx) error
		want string
	}{
		{"empty key", func(tx *AlertTx) error { return tx.PutIncident(Incident{}) }, "put incident: empty source name"},
		{"negative failures", func(tx *AlertTx) error { return tx.PutIncident(Incident{Key: "dtac", Failures: -1}) }, `put incident "dtac": negative failures -1`},
		{"delivery not queued", func(tx *AlertTx) error { return tx.PutDelivery(Delivery{ID: 7}) }, "put delivery 7: not queued"},
	}
	for _, tt := range tests {
		err := s.UpdateAlerts(context.Background(), tt.fn)
		if want := "update alert state: " + tt.want; err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", tt.name, err, want)
		}
	}
	// A read transaction cannot write.
	err := s.ViewAlerts(context.Background(), func(tx *AlertTx) error { return tx.PutIncident(Incident{Key: "dtac"}) })
	if err == nil || err.Error() != "read alert state: a read transaction cannot write" {
		t.Errorf("write in ViewAlerts: %v", err)
	}
	// A context that ended does nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	for _, err := range []error{
		s.UpdateAlerts(ctx, func(*AlertTx) error { called = true; return nil }),
		s.ViewAlerts(ctx, func(*AlertTx) error { called = true; return nil }),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("with a cancelled context: %v", err)
		}
	}
	if called {
		t.Error("fn ran with a cancelled context")
	}
}

// TestAlertStateReadOnly: a read-only open of a file without the alerts
// bucket (written by a syncd that never alerted) reads nothing and cannot
// write; with the bucket, it reads it.
func TestAlertStateReadOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "syncd.db")
	w, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if incs, ds := alertState(t, r); incs != nil || ds != nil {
		t.Errorf("a new file holds %+v, %+v", incs, ds)
	}
	err = r.ViewAlerts(ctx, func(tx *AlertTx) error {
		_, ok, err := tx.Incident("dtac")
		if ok {
			return errors.New("found an incident in a new file")
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
	if err := r.UpdateAlerts(ctx, func(tx *AlertTx) error { return tx.PutIncident(Incident{Key: "dtac"}) }); !errors.Is(err, berrors.ErrDatabaseReadOnly) {
		t.Errorf("write to a read-only store: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	w, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustUpdateAlerts(t, w, func(tx *AlertTx) error { return tx.PutIncident(Incident{Key: "dtac", Failures: 2}) })
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err = Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if incs, _ := alertState(t, r); len(incs) != 1 || incs[0].Failures != 2 {
		t.Errorf("read-only: %+v", incs)
	}
}

// TestAlertStateCorrupt: an undecodable entry is ErrCorrupt, naming it.
func TestAlertStateCorrupt(t *testing.T) {
	t.Parallel()
	s := openTemp(t, newClock())
	mustUpdateAlerts(t, s, func(tx *AlertTx) error { return tx.PutIncident(Incident{Key: "dtac"}) })
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketAlerts)).Bucket([]byte(bucketIncidents)).Put([]byte("dtac"), []byte("{"))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.ViewAlerts(context.Background(), func(tx *AlertTx) error {
		_, err := tx.Incidents()
		return err
	})
	wantErrIs(t, err, ErrCorrupt)
}

// TestPassHistory: a source's pass history and the incident fields added
// for flap detection and bounded delivery survive a reopen; a bad history
// is refused, a damaged one is ErrCorrupt, and a file without histories
// reads none.
func TestPassHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "syncd.db")
	s, err := Open(ctx, path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	err = s.ViewAlerts(ctx, func(tx *AlertTx) error {
		if h, ok, err := tx.PassHistory("dtac"); ok || err != nil || h != (PassHistory{}) {
			return fmt.Errorf("a new file: %+v, %v, %v", h, ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 20, 8, 0, 0, 0, bangkok)
	h := PassHistory{Key: "dtac", Failed: 0b1011011, Count: 21}
	inc := Incident{Key: "flapping:dtac", Failures: 4, Since: at, Dropped: at.Add(time.Hour), Successes: 1, Up: at.Add(2 * time.Hour),
		Inherited: at.Add(-time.Hour)}
	d := Delivery{Kind: "flapping", Title: "t", Body: "b", Attempts: 3, Refusals: 2}
	mustUpdateAlerts(t, s, func(tx *AlertTx) error {
		if err := tx.PutPassHistory(h); err != nil {
			return err
		}
		if err := tx.PutPassHistory(PassHistory{Key: "3cx"}); err != nil {
			return err
		}
		if err := tx.Enqueue(&d); err != nil {
			return err
		}
		return tx.PutIncident(inc)
	})
	if !inc.Raised() {
		t.Errorf("an incident whose alert was refused for good is not raised: %+v", inc)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, Options{Now: clk.Now, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	err = s.ViewAlerts(ctx, func(tx *AlertTx) error {
		got, ok, err := tx.PassHistory("dtac")
		if err != nil || !ok || got != h {
			return fmt.Errorf("PassHistory(dtac) = %+v, %v, %v; want %+v", got, ok, err, h)
		}
		if got, ok, err := tx.PassHistory("3cx"); err != nil || !ok || got != (PassHistory{Key: "3cx"}) {
			return fmt.Errorf("PassHistory(3cx) = %+v, %v, %v", got, ok, err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	incs, ds := alertState(t, s)
	if !equalJSONTimes(incs, []Incident{inc}) || !equalJSONTimes(ds, []Delivery{d}) {
		t.Errorf("after reopen: %+v, %+v", incs, ds)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTempAt(t, path, clk)
	for _, tt := range []struct {
		h    PassHistory
		want string
	}{
		{PassHistory{}, "put pass history: empty source name"},
		{PassHistory{Key: "dtac", Count: 65}, `put pass history "dtac": count 65, want 0 to 64`},
		{PassHistory{Key: "dtac", Count: -1}, `put pass history "dtac": count -1, want 0 to 64`},
	} {
		err := s.UpdateAlerts(ctx, func(tx *AlertTx) error { return tx.PutPassHistory(tt.h) })
		if want := "update alert state: " + tt.want; err == nil || err.Error() != want {
			t.Errorf("PutPassHistory(%+v): %v, want %q", tt.h, err, want)
		}
	}
	err = s.UpdateAlerts(ctx, func(tx *AlertTx) error { return tx.PutIncident(Incident{Key: "dtac", Successes: -1}) })
	if err == nil || err.Error() != `update alert state: put incident "dtac": negative successes -1` {
		t.Errorf("negative successes: %v", err)
	}
	for _, bad := range []string{"{", `{"n":99}`} {
		err = s.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte(bucketAlerts)).Bucket([]byte(bucketHistory)).Put([]byte("dtac"), []byte(bad))
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.ViewAlerts(ctx, func(tx *AlertTx) error {
			_, _, err := tx.PassHistory("dtac")
			return err
		})
		wantErrIs(t, err, ErrCorrupt)
	}
}

// openTempAt opens the store at path for writing, closed at the end.
func openTempAt(t *testing.T, path string, clk *fakeclock.Clock) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
