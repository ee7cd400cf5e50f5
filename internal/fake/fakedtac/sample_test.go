package fakedtac

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/phone"
)

func TestSampleDay(t *testing.T) {
	bkk, err := time.LoadLocation("Asia/Bangkok")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 5, 20, 23, 30, 0, 0, time.UTC) // 21 May in Bangkok
	recs := SampleDay(day, bkk, 200, 42)
	if len(recs) != 200 {
		t.Fatalf("%d recordings, want 200", len(recs))
	}
	if !reflect.DeepEqual(recs, SampleDay(day, bkk, 200, 42)) {
		t.Fatal("SampleDay is not deterministic")
	}
	if reflect.DeepEqual(recs, SampleDay(day, bkk, 200, 43)) {
		t.Fatal("another seed gave the same day")
	}
	ids := map[int64]bool{}
	for _, r := range SampleDay(day.Add(24*time.Hour), bkk, 200, 42) {
		ids[r.ID] = true
	}
	dirs := map[string]int{}
	for i, r := range recs {
		local := r.Timestamp.In(bkk)
		if y, m, d := local.Date(); y != 2026 || m != 5 || d != 21 {
			t.Errorf("recording %d on %s, want 2026-05-21 in Bangkok", r.ID, local)
		}
		if hm := local.Hour()*60 + local.Minute(); hm < 8*60+30 || hm >= 18*60 {
			t.Errorf("recording %d at %s, outside business hours", r.ID, local.Format("15:04"))
		}
		if i > 0 && r.Timestamp.Before(recs[i-1].Timestamp) {
			t.Errorf("recording %d out of order", r.ID)
		}
		if ids[r.ID] {
			t.Errorf("id %d repeats on the next day", r.ID)
		}
		dirs[r.Direction]++
		for _, n := range []string{r.LocalParty, r.RemoteParty} {
			if e := phone.E164(n, "TH"); !strings.HasPrefix(e, "+66") || len(e) < 11 {
				t.Errorf("number %q is not a Thai number (E.164 %q)", n, e)
			}
		}
		if r.FirstName == "" || r.Duration < 15 || r.Audio.Size < 16<<10 || r.Audio.Size > 64<<10 || r.State != Ready {
			t.Errorf("recording %+v", r)
		}
	}
	if dirs["IN"] < 80 || dirs["OUT"] < 40 || dirs["IN"]+dirs["OUT"] != 200 {
		t.Errorf("directions %v, want a mix of IN and OUT", dirs)
	}
}
