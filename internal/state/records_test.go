package state

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bangkok = time.FixedZone("ICT", 7*60*60)

func TestStepString(t *testing.T) {
	t.Parallel()
	for step, want := range map[Step]string{
		Pending: "pending", Created: "created", Uploaded: "uploaded",
		ReextractSent: "reextract-sent", Done: "done", Step(9): "step(9)",
	} {
		if got := step.String(); got != want {
			t.Errorf("Step(%d).String() = %q, want %q", step, got, want)
		}
	}
}

func TestPutGetRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	s := openTemp(t, clk)
	first := clk.Now()

	in := Record{
		ID:        "20260301-0001",
		DataID:    "dtac-20260301-0001",
		CRKID:     "rec_abc",
		Step:      Uploaded,
		CallAt:    time.Date(2026, 3, 1, 14, 5, 6, 789_000_000, bangkok),
		Attempts:  2,
		LastError: "reextract: 503",
	}
	mustPut(t, s, "dtac", in)

	got, ok, err := s.Get(ctx, "dtac", in.ID)
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v, want found", ok, err)
	}
	want := in
	want.FirstSeen, want.Updated = first, first
	assertRecord(t, got, want)
	if _, off := got.CallAt.Zone(); off != 7*60*60 {
		t.Errorf("CallAt offset = %d, want +7h kept", off)
	}

	// A later Put keeps FirstSeen (given as zero) and moves Updated.
	clk.Advance(time.Minute)
	in.Step, in.Attempts, in.LastError = Done, 0, ""
	mustPut(t, s, "dtac", in)
	got, _, _ = s.Get(ctx, "dtac", in.ID)
	want = in
	want.FirstSeen, want.Updated = first, first.Add(time.Minute)
	assertRecord(t, got, want)

	// A FirstSeen given is kept as given.
	given := first.Add(-time.Hour)
	in.FirstSeen = given
	mustPut(t, s, "dtac", in)
	got, _, _ = s.Get(ctx, "dtac", in.ID)
	if !got.FirstSeen.Equal(given) {
		t.Errorf("FirstSeen = %v, want %v as given", got.FirstSeen, given)
	}
}

// assertRecord compares records, times by instant.
func assertRecord(t *testing.T, got, want Record) {
	t.Helper()
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{
		{"CallAt", got.CallAt, want.CallAt},
		{"FirstSeen", got.FirstSeen, want.FirstSeen},
		{"Updated", got.Updated, want.Updated},
	} {
		if !tm.got.Equal(tm.want) {
			t.Errorf("%s = %v, want %v", tm.name, tm.got, tm.want)
		}
	}
	got.CallAt, got.FirstSeen, got.Updated = time.Time{}, time.Time{}, time.Time{}
	want.CallAt, want.FirstSeen, want.Updated = time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record = %+v, want %+v", got, want)
	}
}

func TestGetMissing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t, newClock())
	mustPut(t, s, "dtac", Record{ID: "a"})
	for _, tc := range []struct{ source, id string }{
		{"dtac", "b"}, {"3cx", "a"}, {"dtac", ""},
	} {
		r, ok, err := s.Get(ctx, tc.source, tc.id)
		if err != nil || ok || r != (Record{}) {
			t.Errorf("Get(%q, %q) = %+v, %v, %v; want zero, false, nil", tc.source, tc.id, r, ok, err)
		}
	}
}

func TestGetMany(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t, newClock())
	for _, id := range []string{"a", "b", "c"} {
		mustPut(t, s, "dtac", Record{ID: id, DataID: "dtac-" + id})
	}
	mustPut(t, s, "3cx", Record{ID: "d"})

	got, err := s.GetMany(ctx, "dtac", []string{"a", "c", "d", "zz", ""})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["a"].DataID != "dtac-a" || got["c"].DataID != "dtac-c" {
		t.Errorf("GetMany = %+v, want a and c only", got)
	}
	got, err = s.GetMany(ctx, "nobody", []string{"a"})
	if err != nil || len(got) != 0 {
		t.Errorf("GetMany of an unknown source = %v, %v; want empty", got, err)
	}
}

// TestReadsOutliveTransactions checks that what the store returns does not
// point into bbolt's memory, which is remapped as the file grows.
func TestReadsOutliveTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t, newClock())
	mustPut(t, s, "dtac", Record{ID: "keep", DataID: "dtac-keep", LastError: strings.Repeat("x", 100)})
	before, err := s.GetMany(ctx, "dtac", []string{"keep"})
	if err != nil {
		t.Fatal(err)
	}
	names, _ := s.Sources(ctx)
	fill(t, s, "dtac", 3000, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) // grows and remaps the file
	if r := before["keep"]; r.DataID != "dtac-keep" || r.LastError != strings.Repeat("x", 100) || r.ID != "keep" {
		t.Errorf("record read earlier changed to %+v", r)
	}
	if !reflect.DeepEqual(names, []string{"dtac"}) {
		t.Errorf("sources read earlier changed to %q", names)
	}
}

func TestCountsAcrossTransitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t, newClock())
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, bangkok)

	steps := []struct {
		name string
		rec  Record
		want counts
	}{
		{"seen", Record{ID: "a", CallAt: at}, counts{Pending: 1}},
		{"created", Record{ID: "a", CallAt: at, Step: Created, CRKID: "r1"}, counts{Pending: 1}},
		{"second seen", Record{ID: "b", CallAt: at}, counts{Pending: 2}},
		{"uploaded", Record{ID: "a", CallAt: at, Step: Uploaded, CRKID: "r1"}, counts{Pending: 2}},
		{"reextract sent", Record{ID: "a", CallAt: at, Step: ReextractSent, CRKID: "r1"}, counts{Pending: 2}},
		{"done", Record{ID: "a", CallAt: at, Step: Done, CRKID: "r1"}, counts{Done: 1, Pending: 1}},
		{"failed once", Record{ID: "b", CallAt: at, Attempts: 1, LastError: "429"}, counts{Done: 1, Pending: 1}},
		{"quarantined", Record{ID: "b", CallAt: at, Attempts: 5, Quarantined: "audio gone"}, counts{Done: 1, Quarantined: 1}},
		{"quarantined again", Record{ID: "b", CallAt: at, Attempts: 5, Quarantined: "still gone"}, counts{Done: 1, Quarantined: 1}},
		{"released by hand", Record{ID: "b", CallAt: at}, counts{Done: 1, Pending: 1}},
		{"call time corrected", Record{ID: "b", CallAt: at.Add(time.Hour)}, counts{Done: 1, Pending: 1}},
		{"done after all", Record{ID: "b", CallAt: at.Add(time.Hour), Step: Done}, counts{Done: 2}},
		{"done again", Record{ID: "b", CallAt: at.Add(time.Hour), Step: Done}, counts{Done: 2}},
	}
	for _, st := range steps {
		mustPut(t, s, "dtac", st.rec)
		if got := countsOf(mustSummary(t, s, "dtac")); got != st.want {
			t.Fatalf("after %s: counts = %+v, want %+v", st.name, got, st.want)
		}
		assertListsMatchCounts(t, s, "dtac")
	}
	if got := countsOf(mustSummary(t, s, "3cx")); got != (counts{}) {
		t.Errorf("other source counts = %+v, want zero", got)
	}
	if _, err := s.Summary(ctx, "dtac"); err != nil {
		t.Fatal(err)
	}
}

// assertListsMatchCounts checks the counts against the indexes and the
// indexes against the records.
func assertListsMatchCounts(t *testing.T, s *Store, source string) {
	t.Helper()
	ctx := context.Background()
	sum := mustSummary(t, s, source)
	pending, err := s.Pending(ctx, source)
	if err != nil {
		t.Fatal(err)
	}
	quar, err := s.Quarantined(ctx, source)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != sum.Pending || len(quar) != sum.Quarantined {
		t.Fatalf("Pending() has %d, Quarantined() %d; summary says %+v", len(pending), len(quar), sum)
	}
	for _, r := range pending {
		if r.Step == Done || r.Quarantined != "" {
			t.Errorf("Pending() holds %+v", r)
		}
	}
	for _, r := range quar {
		if r.Quarantined == "" {
			t.Errorf("Quarantined() holds %+v", r)
		}
	}
}

func TestListsOldestFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t, newClock())
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	// Ids in the opposite order to call times; one call before 1970 and
	// one with no time at all.
	for i, off := range []time.Duration{3 * time.Hour, time.Hour, 2 * time.Hour} {
		mustPut(t, s, "dtac", Record{ID: fmt.Sprintf("p%d", i), CallAt: at.Add(off)})
		mustPut(t, s, "dtac", Record{ID: fmt.Sprintf("q%d", i), CallAt: at.Add(off), Quarantined: "x"})
	}
	mustPut(t, s, "dtac", Record{ID: "old", CallAt: time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC)})
	mustPut(t, s, "dtac", Record{ID: "zero"})

	ids := func(rs []Record, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	if got, want := ids(s.Pending(ctx, "dtac")), []string{"zero", "old", "p1", "p2", "p0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Pending = %q, want %q", got, want)
	}
	if got, want := ids(s.Quarantined(ctx, "dtac")), []string{"q1", "q2", "q0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Quarantined = %q, want %q", got, want)
	}
	if got := ids(s.Pending(ctx, "nobody")); len(got) != 0 {
		t.Errorf("Pending of an unknown source = %q", got)
	}
}

func TestPutRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t, newClock())
	for _, tc := range []struct {
		name   string
		source string
		rec    Record
		want   string
	}{
		{"no source", "", Record{ID: "a"}, "put record: empty source name"},
		{"no id", "dtac", Record{}, "put record of dtac: record has no ID"},
		{"huge id", "dtac", Record{ID: strings.Repeat("a", 5000)}, "put record of dtac: record ID is 5000 bytes, more than 4096"},
		{"unknown step", "dtac", Record{ID: "a", Step: 7}, `put record of dtac: record "a": unknown step 7`},
		{"done and quarantined", "dtac", Record{ID: "a", Step: Done, Quarantined: "x"}, `put record of dtac: record "a": done and quarantined at once`},
		{"negative attempts", "dtac", Record{ID: "a", Attempts: -1}, `put record of dtac: record "a": negative attempts -1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Put(ctx, tc.source, tc.rec)
			if err == nil || err.Error() != tc.want {
				t.Errorf("Put = %v, want %q", err, tc.want)
			}
		})
	}
	if sources, _ := s.Sources(ctx); len(sources) != 0 {
		t.Errorf("refused Puts left sources %q", sources)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	s := openTemp(t, newClock())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]error{
		"Put":    s.Put(ctx, "dtac", Record{ID: "a"}),
		"SetCur": s.SetCursor(ctx, "dtac", time.Now()),
	}
	_, _, calls["Get"] = s.Get(ctx, "dtac", "a")
	_, calls["Summary"] = s.Summary(ctx, "dtac")
	_, calls["Prune"] = s.Prune(ctx, "dtac", time.Now())
	_, calls["Retry"] = s.RetryQuarantined(ctx, Selection{})
	for name, err := range calls {
		wantErrIs(t, err, context.Canceled)
		_ = name
	}
	if _, ok, _ := s.Get(context.Background(), "dtac", "a"); ok {
		t.Error("Put with a cancelled context wrote")
	}
}

func TestRetryQuarantined(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	s := openTemp(t, clk)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	mustPut(t, s, "dtac", Record{ID: "q1", CallAt: at, Step: Uploaded, CRKID: "r1", Attempts: 5, LastError: "503", Quarantined: "reextract kept failing"})
	mustPut(t, s, "dtac", Record{ID: "q2", CallAt: at, Attempts: 5, Quarantined: "audio gone"})
	mustPut(t, s, "dtac", Record{ID: "p", CallAt: at, Attempts: 1})
	mustPut(t, s, "dtac", Record{ID: "d", CallAt: at, Step: Done})
	mustPut(t, s, "3cx", Record{ID: "q3", CallAt: at, Attempts: 5, Quarantined: "422"})

	clk.Advance(time.Hour)
	n, err := s.RetryQuarantined(ctx, Selection{Source: "dtac"})
	if err != nil || n != 2 {
		t.Fatalf("RetryQuarantined(dtac) = %d, %v; want 2", n, err)
	}
	if got, want := countsOf(mustSummary(t, s, "dtac")), (counts{Done: 1, Pending: 3}); got != want {
		t.Errorf("dtac counts = %+v, want %+v", got, want)
	}
	if got, want := countsOf(mustSummary(t, s, "3cx")), (counts{Quarantined: 1}); got != want {
		t.Errorf("3cx counts = %+v, want %+v (untouched)", got, want)
	}
	q1, _, _ := s.Get(ctx, "dtac", "q1")
	if q1.Step != Uploaded || q1.CRKID != "r1" || q1.Attempts != 0 || q1.Quarantined != "" || q1.LastError != "503" || !q1.Updated.Equal(clk.Now()) {
		t.Errorf("q1 after retry = %+v; want step and CRK id kept, attempts and quarantine cleared, updated now", q1)
	}
	assertListsMatchCounts(t, s, "dtac")

	mustPut(t, s, "dtac", Record{ID: "q2", CallAt: at, Attempts: 5, Quarantined: "audio gone"})
	n, err = s.RetryQuarantined(ctx, Selection{})
	if err != nil || n != 2 {
		t.Fatalf("RetryQuarantined(all) = %d, %v; want 2", n, err)
	}
	for _, src := range []string{"dtac", "3cx"} {
		if q := mustSummary(t, s, src).Quarantined; q != 0 {
			t.Errorf("%s still has %d quarantined", src, q)
		}
		assertListsMatchCounts(t, s, src)
	}
	// A source the file never held is refused, not "moved 0".
	var unknown *UnknownSourceError
	if n, err := s.RetryQuarantined(ctx, Selection{Source: "nobody"}); n != 0 || !errors.As(err, &unknown) || unknown.Source != "nobody" {
		t.Errorf("RetryQuarantined(unknown) = %d, %v", n, err)
	}
}

func TestPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t, newClock())
	cut := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	old, recent := cut.Add(-time.Nanosecond), cut
	for _, r := range []Record{
		{ID: "old-done-1", CallAt: old, Step: Done},
		{ID: "old-done-2", CallAt: old.Add(-24 * time.Hour), Step: Done},
		{ID: "old-pending", CallAt: old, Step: ReextractSent},
		{ID: "old-quarantined", CallAt: old, Quarantined: "gone"},
		{ID: "recent-done", CallAt: recent, Step: Done},
		{ID: "recent-pending", CallAt: recent},
	} {
		mustPut(t, s, "dtac", r)
	}
	mustPut(t, s, "3cx", Record{ID: "other-old-done", CallAt: old, Step: Done})

	n, err := s.Prune(ctx, "dtac", cut)
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2", n, err)
	}
	if got, want := countsOf(mustSummary(t, s, "dtac")), (counts{Done: 1, Pending: 2, Quarantined: 1}); got != want {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
	left, _ := s.GetMany(ctx, "dtac", []string{"old-done-1", "old-done-2", "old-pending", "old-quarantined", "recent-done", "recent-pending"})
	for _, id := range []string{"old-pending", "old-quarantined", "recent-done", "recent-pending"} {
		if _, ok := left[id]; !ok {
			t.Errorf("Prune deleted %s", id)
		}
	}
	if len(left) != 4 {
		t.Errorf("after Prune: %d records, want 4", len(left))
	}
	if mustSummary(t, s, "3cx").Done != 1 {
		t.Error("Prune of dtac touched 3cx")
	}
	if n, err := s.Prune(ctx, "dtac", cut); n != 0 || err != nil {
		t.Errorf("second Prune = %d, %v; want 0", n, err)
	}
	if n, err := s.Prune(ctx, "", cut); n != 1 || err != nil {
		t.Errorf("Prune of every source = %d, %v; want 1 (3cx's)", n, err)
	}
	// A pruned recording seen again is new again.
	mustPut(t, s, "dtac", Record{ID: "old-done-1", CallAt: old})
	if got, want := countsOf(mustSummary(t, s, "dtac")), (counts{Done: 1, Pending: 3, Quarantined: 1}); got != want {
		t.Errorf("counts after re-adding = %+v, want %+v", got, want)
	}
}

func TestPruneMany(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t, newClock())
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fill(t, s, "dtac", 5000, base)
	n, err := s.Prune(ctx, "dtac", base.Add(1000*time.Minute)) // records 0..999
	if err != nil {
		t.Fatal(err)
	}
	want := fillCounts(5000)
	if pruned := fillCounts(1000).Done; n != pruned {
		t.Errorf("Prune = %d, want %d", n, pruned)
	}
	want.Done -= n
	if got := countsOf(mustSummary(t, s, "dtac")); got != want {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
	assertListsMatchCounts(t, s, "dtac")
}

func TestConcurrentPuts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t, newClock())
	const workers, perWorker = 8, 25
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			source := []string{"dtac", "3cx"}[w%2]
			for i := range perWorker {
				r := Record{ID: fmt.Sprintf("w%d-%d", w, i), CallAt: at.Add(time.Duration(i) * time.Second)}
				for _, step := range []Step{Pending, Created, Uploaded, ReextractSent, Done} {
					r.Step = step
					if i%5 == 0 && step == Uploaded {
						r.Quarantined = "audio gone"
						break
					}
					if err := s.Put(ctx, source, r); err != nil {
						errs <- err
						return
					}
				}
				if r.Quarantined != "" {
					if err := s.Put(ctx, source, r); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	per := workers / 2 * perWorker
	want := counts{Done: per * 4 / 5, Quarantined: per / 5}
	for _, src := range []string{"dtac", "3cx"} {
		if got := countsOf(mustSummary(t, s, src)); got != want {
			t.Errorf("%s counts = %+v, want %+v", src, got, want)
		}
		assertListsMatchCounts(t, s, src)
	}
}

func TestCursorAndLastSuccess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t, newClock())
	if c, ok, err := s.Cursor(ctx, "dtac"); ok || err != nil || !c.IsZero() {
		t.Fatalf("Cursor before any = %v, %v, %v", c, ok, err)
	}
	cur := time.Date(2026, 3, 1, 11, 58, 0, 123, bangkok)
	ok1 := time.Date(2026, 3, 1, 5, 0, 0, 0, time.UTC)
	if err := s.SetCursor(ctx, "dtac", cur); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLastSuccess(ctx, "dtac", ok1); err != nil {
		t.Fatal(err)
	}
	c, ok, err := s.Cursor(ctx, "dtac")
	if !ok || err != nil || !c.Equal(cur) {
		t.Fatalf("Cursor = %v, %v, %v; want %v", c, ok, err, cur)
	}
	if _, off := c.Zone(); off != 7*60*60 {
		t.Errorf("cursor offset = %d, want +7h kept", off)
	}
	sum := mustSummary(t, s, "dtac")
	if !sum.Cursor.Equal(cur) || !sum.LastSuccess.Equal(ok1) || sum.Source != "dtac" {
		t.Errorf("Summary = %+v", sum)
	}
	if err := s.SetCursor(ctx, "", cur); err == nil {
		t.Error("SetCursor with no source succeeded")
	}
	if _, ok, _ := s.Cursor(ctx, "3cx"); ok {
		t.Error("3cx has dtac's cursor")
	}
}

func TestSourcesAndSummaryOfUnknown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t, newClock())
	if got, err := s.Sources(ctx); len(got) != 0 || err != nil {
		t.Fatalf("Sources of a new store = %q, %v", got, err)
	}
	mustPut(t, s, "threecx-acme", Record{ID: "1"})
	if err := s.SetCursor(ctx, "dtac", time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, want := must(s.Sources(ctx)), []string{"dtac", "threecx-acme"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Sources = %q, want %q", got, want)
	}
	if got := mustSummary(t, s, "nobody"); got != (Summary{Source: "nobody"}) {
		t.Errorf("Summary of unknown source = %+v", got)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestPutMany(t *testing.T) {
	s := openTemp(t, newClock())
	base := time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)
	rs := make([]Record, 0, 300)
	for i := range 300 {
		rs = append(rs, fillRecord(i, base))
	}
	if err := s.PutMany(t.Context(), "dtac", rs); err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(mustSummary(t, s, "dtac")), fillCounts(300); got != want {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
	r, ok, err := s.Get(t.Context(), "dtac", rs[7].ID)
	if err != nil || !ok || r.DataID != rs[7].DataID || r.Updated.IsZero() {
		t.Fatalf("Get after PutMany: %+v, %v, %v", r, ok, err)
	}
	bad := []Record{fillRecord(1, base), {ID: ""}}
	if err := s.PutMany(t.Context(), "dtac", bad); err == nil {
		t.Fatal("PutMany took a record without an id")
	}
}

// TestPruneWithNothingDueWritesNothing: a pass with nothing to prune must
// not commit an empty write transaction (an fsync) every time.
func TestPruneWithNothingDueWritesNothing(t *testing.T) {
	s := openTemp(t, newClock())
	base := time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)
	fill(t, s, "dtac", 10, base)
	txid := func() (id int) {
		_ = s.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil })
		return id
	}
	before := txid()
	if n, err := s.Prune(t.Context(), "dtac", base.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("Prune = %d, %v", n, err)
	}
	if got := txid(); got != before {
		t.Fatalf("Prune with nothing due committed %d transactions", got-before)
	}
	if n, err := s.Prune(t.Context(), "dtac", base.Add(24*time.Hour)); err != nil || n == 0 || txid() == before {
		t.Fatalf("Prune with records due = %d, %v", n, err)
	}
}
