package fakethreecx

import (
	"testing"
	"time"
)

// TestAddCallAddsCallsThatJustEnded: Ids follow the highest held, each
// call ends when asked, its audio is capped, internal calls are among
// them and counted by Internal.
func TestAddCallAddsCallsThatJustEnded(t *testing.T) {
	srv, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	day := time.Date(2026, 5, 21, 12, 0, 0, 0, time.UTC)
	for _, r := range SampleDay(day, 10, 3) {
		srv.Add(r)
	}
	end := time.Date(2026, 5, 22, 9, 0, 0, 700, time.UTC)
	types := map[string]int{}
	for i := range 60 {
		r := srv.AddCall(end.Add(time.Duration(i)*time.Minute), 5, 4096)
		if r.ID != int32(11+i) {
			t.Fatalf("call %d has Id %d, want %d", i, r.ID, 11+i)
		}
		if want := end.Truncate(time.Second).Add(time.Duration(i) * time.Minute); !r.EndTime.Equal(want) || !r.StartTime.Before(want) {
			t.Fatalf("call %d from %s to %s, want it to end at %s", i, r.StartTime, r.EndTime, want)
		}
		if r.Audio.Size > 4096 {
			t.Fatalf("audio of %d bytes above the cap", r.Audio.Size)
		}
		types[*r.CallType]++
	}
	if types[Local] == 0 || types[InboundExternal] == 0 || types[OutboundExternal] == 0 {
		t.Fatalf("call types %v: want every kind", types)
	}
	sampleLocal := 0
	for _, r := range SampleDay(day, 10, 3) {
		if *r.CallType == Local {
			sampleLocal++
		}
	}
	if in, all := srv.Internal(); in != sampleLocal+types[Local] || all != 70 {
		t.Fatalf("Internal() = %d, %d; want %d, 70", in, all, sampleLocal+types[Local])
	}
}
