package alert

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/state"
)

// TestStoreRoundTrip: every field of an incident, a queued delivery, a
// pass history and a streak reads back the same after the state file is
// closed and opened again, and an incident is stored in the file's JSON
// format (the one earlier syncds wrote and read).
func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "syncd.db")
	store, err := state.Open(ctx, path, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 20, 8, 0, 0, 0, time.UTC)
	inc := Incident{Key: "dtac", Failures: 4, Since: at, LastFailure: at.Add(time.Minute), LastError: "refused", AlertID: 1,
		Alerted: at.Add(2 * time.Minute), Dropped: at.Add(3 * time.Minute), Successes: 1, Up: at.Add(4 * time.Minute),
		Inherited: at.Add(5 * time.Minute)}
	d := Delivery{Key: "dtac", Kind: KindSourceDown, Severity: severityCritical, Title: "t", Body: "b", Queued: at,
		Attempts: 2, NextTry: at.Add(time.Hour), LastError: "502", Refusals: 1}
	h := passHistory{Key: "dtac", Failed: 0b1011, Count: 4}
	st := Streak{Source: "dtac", Failures: 3, Since: at, LastFailure: at.Add(time.Minute), LastError: "refused", LastSuccess: at.Add(-time.Hour)}
	err = updateAlerts(ctx, store, func(tx alertTx) error {
		if err := tx.Enqueue(&d); err != nil {
			return err
		}
		if err := tx.PutIncident(inc); err != nil {
			return err
		}
		if err := tx.PutPassHistory(h); err != nil {
			return err
		}
		return tx.PutStreak(st)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if store, err = state.Open(ctx, path, state.Options{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	err = viewAlerts(ctx, store, func(tx alertTx) error {
		incs, err := tx.Incidents()
		if err != nil || !reflect.DeepEqual(incs, []Incident{inc}) {
			t.Errorf("incidents %+v, %v\nwant %+v", incs, err, inc)
		}
		ds, err := tx.Deliveries()
		if err != nil || !reflect.DeepEqual(ds, []Delivery{d}) {
			t.Errorf("deliveries %+v, %v\nwant %+v", ds, err, d)
		}
		if got, ok, err := tx.PassHistory("dtac"); !ok || err != nil || got != h {
			t.Errorf("history %+v, %v, %v", got, ok, err)
		}
		if got, ok, err := tx.Streak("dtac"); !ok || err != nil || got != st {
			t.Errorf("streak %+v, %v, %v", got, ok, err)
		}
		raw, err := tx.Get(kindIncidents, "dtac")
		want := `{"n":4,"s":"2026-05-20T08:00:00Z","l":"2026-05-20T08:01:00Z","e":"refused","q":1,"a":"2026-05-20T08:02:00Z",` +
			`"d":"2026-05-20T08:03:00Z","ok":1,"u":"2026-05-20T08:04:00Z","i":"2026-05-20T08:05:00Z"}`
		if err != nil || string(raw) != want {
			t.Errorf("stored incident %s, %v\nwant %s", raw, err, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
