package fakeorkweb

import (
	"testing"
	"time"
)

// TestAddCallAddsACallThatJustEnded: tape ids follow the sample's
// highest, each call ends when asked and its audio is served.
func TestAddCallAddsACallThatJustEnded(t *testing.T) {
	srv, err := Start(Options{Users: map[string]string{"u": "p"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	day := time.Date(2026, 5, 21, 12, 0, 0, 0, ICT)
	sample := SampleDay(day, ICT, 4, 2)
	srv.Add(sample...)
	top := sample[0].TapeID
	for _, r := range sample {
		top = max(top, r.TapeID)
	}
	end := time.Date(2026, 5, 22, 9, 0, 0, 900, ICT)
	a, b := srv.AddCall(end, 9), srv.AddCall(end, 9)
	if a.TapeID != top+1 || b.TapeID != top+2 {
		t.Fatalf("tape ids %d, %d after the sample's highest %d", a.TapeID, b.TapeID, top)
	}
	if got := a.Time.Add(time.Duration(a.Duration) * time.Second); !got.Equal(end.Truncate(time.Second)) {
		t.Fatalf("call ends at %s, want %s", got, end.Truncate(time.Second))
	}
	if body, ok := srv.AudioBytes(a.TapeID); !ok || len(body) == 0 {
		t.Fatalf("no audio served for the produced call %d", a.TapeID)
	}
}
