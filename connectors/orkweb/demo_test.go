package orkweb

import (
	"io"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeorkweb"
)

// The demo's day is clean: every sample call lists valid and opens.
func TestDemoDayIsClean(t *testing.T) {
	day := time.Date(2026, 11, 29, 0, 0, 0, 0, ict)
	for _, seed := range []uint64{1, 2, 3, 42} {
		srv, err := fakeorkweb.Start(fakeorkweb.Options{Users: map[string]string{user: pass}, Location: ict})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		srv.Add(fakeorkweb.SampleDay(day, ict, 40, seed)...)
		c := connect(t, srv.URL(), pass, nil)
		recs, err := c.List(t.Context(), day, day.Add(24*time.Hour))
		if err != nil || len(recs) != 40 {
			t.Fatalf("seed %d: %d recordings, %v", seed, len(recs), err)
		}
		for _, r := range recs {
			if r.Invalid != nil {
				t.Fatalf("seed %d: %s invalid: %v", seed, r.ID, r.Invalid)
			}
			a, err := c.Open(t.Context(), r)
			if err != nil {
				t.Fatalf("seed %d: %s at %s: %v", seed, r.ID, r.CallAt, err)
			}
			_, err = io.Copy(io.Discard, a.Body)
			a.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}
