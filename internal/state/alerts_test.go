package state

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

func mustUpdateAlerts(t *testing.T, s *Store, fn func(*AlertTx) error) {
	t.Helper()
	if err := s.UpdateAlerts(context.Background(), fn); err != nil {
		t.Fatalf("UpdateAlerts: %v", err)
	}
}

// alertState is the records of kind and the queue in s.
func alertState(t *testing.T, s *Store, kind string) ([]Entry, []Queued) {
	t.Helper()
	var (
		recs []Entry
		q    []Queued
	)
	err := s.ViewAlerts(context.Background(), func(tx *AlertTx) error {
		var err error
		if recs, err = tx.Records(kind); err != nil {
			return err
		}
		q, err = tx.Queue()
		return err
	})
	if err != nil {
		t.Fatalf("ViewAlerts: %v", err)
	}
	return recs, q
}

// TestAlertRecordsSurviveReopen: records of two kinds and the queue,
// written and changed, read back the same after the file is closed and
// opened again, at the layout's places (alerts/<kind>/<key>,
// alerts/queue/<id>), which files written by earlier syncds have.
func TestAlertRecordsSurviveReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "syncd.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var first, second uint64
	mustUpdateAlerts(t, s, func(tx *AlertTx) error {
		var err error
		if first, err = tx.Enqueue([]byte(`{"kind":"source_down"}`)); err != nil {
			return err
		}
		if second, err = tx.Enqueue([]byte(`{"kind":"quarantine"}`)); err != nil {
			return err
		}
		for _, kv := range [][2]string{{"dtac", `{"n":3}`}, {"crk-token", `{"n":1}`}, {"3cx", `{"n":9}`}} {
			if err := tx.Put("incidents", kv[0], []byte(kv[1])); err != nil {
				return err
			}
		}
		return tx.Put("history", "dtac", []byte(`{"f":5,"n":3}`))
	})
	if first != 1 || second != 2 {
		t.Fatalf("ids %d, %d: want increasing from 1", first, second)
	}
	mustUpdateAlerts(t, s, func(tx *AlertTx) error {
		if err := tx.Requeue(first, []byte(`{"kind":"source_down","n":2}`)); err != nil {
			return err
		}
		return tx.Delete("incidents", "3cx")
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs, q := alertState(t, s, "incidents")
	wantRecs := []Entry{{"crk-token", []byte(`{"n":1}`)}, {"dtac", []byte(`{"n":3}`)}}
	wantQ := []Queued{{1, []byte(`{"kind":"source_down","n":2}`)}, {2, []byte(`{"kind":"quarantine"}`)}}
	if !reflect.DeepEqual(recs, wantRecs) || !reflect.DeepEqual(q, wantQ) {
		t.Errorf("after reopen: %q, %+v", recs, q)
	}
	err = s.ViewAlerts(ctx, func(tx *AlertTx) error {
		if v, err := tx.Get("history", "dtac"); err != nil || string(v) != `{"f":5,"n":3}` {
			return fmt.Errorf("Get(history, dtac) = %q, %v", v, err)
		}
		if v, err := tx.Get("history", "3cx"); v != nil || err != nil {
			return fmt.Errorf("Get(history, 3cx) = %q, %v", v, err)
		}
		if v, err := tx.Get("streaks", "dtac"); v != nil || err != nil {
			return fmt.Errorf("Get of a kind never written = %q, %v", v, err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		alerts := tx.Bucket([]byte("alerts"))
		if v := alerts.Bucket([]byte("incidents")).Get([]byte("dtac")); string(v) != `{"n":3}` {
			return fmt.Errorf("alerts/incidents/dtac = %q", v)
		}
		if v := alerts.Bucket([]byte("queue")).Get([]byte{0, 0, 0, 0, 0, 0, 0, 2}); string(v) != `{"kind":"quarantine"}` {
			return fmt.Errorf("alerts/queue/2 = %q", v)
		}
		return nil
	})
	if err != nil {
		t.Errorf("layout: %v", err)
	}
}

// TestQueueOrder: the queue comes back in the order it was filled, past
// the 255th entry (ids are big-endian keys), and a new message never
// reuses the id of one dequeued.
func TestQueueOrder(t *testing.T) {
	t.Parallel()
	s := openTemp(t, newClock())
	const n = 300
	mustUpdateAlerts(t, s, func(tx *AlertTx) error {
		for i := range n {
			if _, err := tx.Enqueue(fmt.Append(nil, i)); err != nil {
				return err
			}
		}
		return tx.Dequeue(n)
	})
	_, q := alertState(t, s, "incidents")
	if len(q) != n-1 {
		t.Fatalf("%d queued", len(q))
	}
	for i, e := range q {
		if e.ID != uint64(i+1) || string(e.Value) != fmt.Sprint(i) {
			t.Fatalf("message %d: %+v", i, e)
		}
	}
	var id uint64
	mustUpdateAlerts(t, s, func(tx *AlertTx) error {
		var err error
		id, err = tx.Enqueue([]byte("again"))
		return err
	})
	if id != n+1 {
		t.Errorf("id %d after %d was dequeued", id, n)
	}
}

// TestUpdateAlertsAtomic: an error from fn keeps nothing of what it wrote.
func TestUpdateAlertsAtomic(t *testing.T) {
	t.Parallel()
	s := openTemp(t, newClock())
	boom := errors.New("boom")
	err := s.UpdateAlerts(context.Background(), func(tx *AlertTx) error {
		if err := tx.Put("incidents", "dtac", []byte("{}")); err != nil {
			return err
		}
		if _, err := tx.Enqueue([]byte("{}")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateAlerts: %v", err)
	}
	if recs, q := alertState(t, s, "incidents"); len(recs) != 0 || len(q) != 0 {
		t.Fatalf("kept %q, %+v", recs, q)
	}
}

// TestUpdateAlertsWithoutWrites: a transaction that writes nothing (only
// reads, or deletes what is not there) does not commit.
func TestUpdateAlertsWithoutWrites(t *testing.T) {
	t.Parallel()
	s := openTemp(t, newClock())
	mustUpdateAlerts(t, s, func(tx *AlertTx) error { return tx.Put("incidents", "3cx", []byte("{}")) })
	txid := func() int {
		var id int
		_ = s.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil })
		return id
	}
	before := txid()
	mustUpdateAlerts(t, s, func(tx *AlertTx) error {
		if _, err := tx.Records("incidents"); err != nil {
			return err
		}
		if _, err := tx.Get("incidents", "3cx"); err != nil {
			return err
		}
		if _, err := tx.Queue(); err != nil {
			return err
		}
		if err := tx.Delete("incidents", "not-there"); err != nil {
			return err
		}
		return tx.Dequeue(99)
	})
	if after := txid(); after != before {
		t.Errorf("a read-only update committed: tx %d → %d", before, after)
	}
	mustUpdateAlerts(t, s, func(tx *AlertTx) error { return tx.Delete("incidents", "3cx") })
	if after := txid(); after != before+1 {
		t.Errorf("a delete did not commit: tx %d → %d", before, after)
	}
}

func TestAlertTxRefuses(t *testing.T) {
	t.Parallel()
	s := openTemp(t, newClock())
	long := strings.Repeat("k", maxKeyLen+1)
	tests := []struct {
		name string
		fn   func(*AlertTx) error
		want string
	}{
		{"empty key", func(tx *AlertTx) error { return tx.Put("incidents", "", nil) }, "put incidents record: empty key"},
		{"long key", func(tx *AlertTx) error { return tx.Put("incidents", long, nil) }, "put incidents record: key is 1025 bytes, more than 1024"},
		{"empty kind", func(tx *AlertTx) error { return tx.Put("", "dtac", nil) }, "put  record: empty kind"},
		{"the queue's kind", func(tx *AlertTx) error { return tx.Put("queue", "dtac", nil) }, `put queue record: kind "queue" is the queue's`},
		{"get the queue's kind", func(tx *AlertTx) error { _, err := tx.Get("queue", "x"); return err }, `get queue record: kind "queue" is the queue's`},
		{"not queued", func(tx *AlertTx) error { return tx.Requeue(7, nil) }, "requeue 7: not queued"},
	}
	for _, tt := range tests {
		err := s.UpdateAlerts(context.Background(), tt.fn)
		if want := "update alert state: " + tt.want; err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", tt.name, err, want)
		}
	}
	// A read transaction cannot write.
	err := s.ViewAlerts(context.Background(), func(tx *AlertTx) error { return tx.Put("incidents", "dtac", nil) })
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
// write.
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
	defer r.Close()
	if recs, q := alertState(t, r, "incidents"); recs != nil || q != nil {
		t.Errorf("a new file holds %q, %+v", recs, q)
	}
	if err := r.UpdateAlerts(ctx, func(tx *AlertTx) error { return tx.Put("incidents", "dtac", nil) }); !errors.Is(err, berrors.ErrDatabaseReadOnly) {
		t.Errorf("write to a read-only store: %v", err)
	}
}

// TestAlertStateCorrupt: what the layout cannot hold (a bucket where a
// record belongs, a queue key that is no id) is ErrCorrupt, as is what
// the caller reports undecodable through Corrupt; each names the file.
func TestAlertStateCorrupt(t *testing.T) {
	t.Parallel()
	s := openTemp(t, newClock())
	mustUpdateAlerts(t, s, func(tx *AlertTx) error {
		if err := tx.Put("incidents", "dtac", []byte("{")); err != nil {
			return err
		}
		_, err := tx.Enqueue([]byte("{}"))
		return err
	})
	err := s.db.Update(func(tx *bolt.Tx) error {
		alerts := tx.Bucket([]byte(bucketAlerts))
		if _, err := alerts.Bucket([]byte("incidents")).CreateBucket([]byte("nested")); err != nil {
			return err
		}
		return alerts.Bucket([]byte(bucketQueue)).Put([]byte("short"), []byte("{}"))
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, fn := range map[string]func(*AlertTx) error{
		"a bucket among records": func(tx *AlertTx) error { _, err := tx.Records("incidents"); return err },
		"a key that is no id":    func(tx *AlertTx) error { _, err := tx.Queue(); return err },
		"undecodable": func(tx *AlertTx) error {
			return tx.Corrupt(errors.New(`incident "dtac": unexpected end of JSON input`))
		},
	} {
		err := s.ViewAlerts(context.Background(), fn)
		wantErrIs(t, err, ErrCorrupt)
		if err == nil || !strings.Contains(err.Error(), s.path) {
			t.Errorf("%s: %v does not name the file", name, err)
		}
	}
}
