package syncer

import (
	"fmt"
	"sync"
	"testing"

	"github.com/crkai/syncd/connectors"
)

// TestProgressCarriesThePassCounts: the hook hears the pass start, its
// plan, every recording handled, and its end with the final counts; the
// counts only grow.
func TestProgressCarriesThePassCounts(t *testing.T) {
	var mu sync.Mutex
	var got []Progress
	e := newEnv(t, Config{Concurrency: 3, Progress: func(p Progress) {
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}})
	ids := addN(e, 10, 4<<10)
	e.conn.set(ids[4], func(m *memRec) {
		m.openErr = fmt.Errorf("refused: %w", connectors.ErrForbidden)
	})
	res := e.pass()
	if res.Synced != 9 || res.Quarantined != 1 {
		t.Fatalf("pass: %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) < 12 {
		t.Fatalf("only %d reports", len(got))
	}
	if first := got[0]; first != (Progress{Source: "mem"}) {
		t.Fatalf("first report %+v, want the pass's start with no counts", first)
	}
	last := got[len(got)-1]
	if want := (Progress{Source: "mem", Planned: true, Total: 10, Done: 9, Quarantined: 1, Bytes: 9 * 4 << 10, Ended: true}); last != want {
		t.Fatalf("last report %+v, want %+v", last, want)
	}
	var prev Progress
	for i, p := range got {
		if p.Source != "mem" || (prev.Planned && !p.Planned) || p.Handled() < prev.Handled() || p.Bytes < prev.Bytes ||
			(p.Planned && p.Handled() > p.Total) || (p.Ended && i != len(got)-1) {
			t.Fatalf("report %d %+v after %+v", i, p, prev)
		}
		prev = p
	}

	// A second pass with nothing to send: planned, total 0, ended.
	got = got[:0]
	mu.Unlock()
	e.pass()
	mu.Lock()
	if last := got[len(got)-1]; last != (Progress{Source: "mem", Planned: true, Ended: true}) {
		t.Fatalf("second pass ended with %+v", last)
	}
}
