package fakedtac

import (
	"testing"
	"time"
)

// TestAddCallAddsACallThatJustEnded: each call follows the sample's
// highest id, ends when asked, and is listed by the server.
func TestAddCallAddsACallThatJustEnded(t *testing.T) {
	srv, err := Start(Options{Users: map[string]string{"+66811111111": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	loc := time.FixedZone("ICT", 7*60*60)
	day := time.Date(2026, 5, 21, 12, 0, 0, 0, loc)
	sample := SampleDay(day, loc, 5, 1)
	for _, r := range sample {
		srv.Add(r)
	}
	end := time.Date(2026, 5, 22, 9, 0, 0, 500, loc)
	a, b := srv.AddCall(end, 7), srv.AddCall(end.Add(time.Minute), 7)
	if a.ID != sample[4].ID+1 || b.ID != a.ID+1 {
		t.Fatalf("ids %d, %d after the sample's last %d", a.ID, b.ID, sample[4].ID)
	}
	if got := a.Timestamp.Add(time.Duration(a.Duration) * time.Second); !got.Equal(end.Truncate(time.Second)) {
		t.Fatalf("call ends at %s, want %s", got, end.Truncate(time.Second))
	}
	if a.LocalParty == "" || a.RemoteParty == "" || a.Audio.Size == 0 {
		t.Fatalf("call not filled in as the sample's: %+v", a)
	}
	for _, r := range []Recording{a, b} {
		if got, ok := srv.recording(r.ID); !ok || !got.Timestamp.Equal(r.Timestamp) {
			t.Fatalf("server holds %+v, %v for %d", got, ok, r.ID)
		}
	}
}
