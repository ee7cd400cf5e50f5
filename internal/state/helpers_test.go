package state

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/crkai/syncd/internal/fake/fakeclock"
)

// newClock returns a fake clock standing at the tests' start time.
func newClock() *fakeclock.Clock {
	return fakeclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
}

// openTemp opens a new store in a temporary directory.
func openTemp(t testing.TB, clk *fakeclock.Clock) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "syncd.db"), Options{Now: clk.Now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mustPut(t testing.TB, s *Store, source string, r Record) {
	t.Helper()
	if err := s.Put(context.Background(), source, r); err != nil {
		t.Fatalf("Put(%s, %+v): %v", source, r, err)
	}
}

func mustSummary(t testing.TB, s *Store, source string) Summary {
	t.Helper()
	sum, err := s.Summary(context.Background(), source)
	if err != nil {
		t.Fatalf("Summary(%s): %v", source, err)
	}
	return sum
}

// counts is the part of a Summary that Put, Prune and RetryQuarantined keep.
type counts struct{ Done, Pending, Quarantined int }

func countsOf(sum Summary) counts { return counts{sum.Done, sum.Pending, sum.Quarantined} }

// fill writes n records to source in large transactions, as n Puts would:
// every fifth is pending, one in fifty quarantined, the rest done, with
// CallAt one minute apart from base.
func fill(t testing.TB, s *Store, source string, n int, base time.Time) {
	t.Helper()
	const perTx = 10_000
	for start := 0; start < n; start += perTx {
		err := s.update(func(tx *bolt.Tx) error {
			for i := start; i < min(start+perTx, n); i++ {
				if err := s.putTx(tx, source, fillRecord(i, base), s.now()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
}

func fillRecord(i int, base time.Time) Record {
	r := Record{
		ID:       fmt.Sprintf("rec-%07d", i),
		DataID:   fmt.Sprintf("dtac-rec-%07d", i),
		CRKID:    fmt.Sprintf("crk_%07d", i),
		Step:     Done,
		CallAt:   base.Add(time.Duration(i) * time.Minute),
		Attempts: 0,
	}
	switch {
	case i%50 == 0:
		r.Step, r.Quarantined, r.Attempts, r.LastError = Uploaded, "reextract: 422 invalid payload", 5, "422"
	case i%5 == 0:
		r.Step = Created
	}
	return r
}

func fillCounts(n int) counts {
	var c counts
	for i := range n {
		switch {
		case i%50 == 0:
			c.Quarantined++
		case i%5 == 0:
			c.Pending++
		default:
			c.Done++
		}
	}
	return c
}

func wantErrIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want one wrapping %v", err, target)
	}
}
