package state

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRetryQuarantinedSelection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t, newClock())
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	mustPut(t, s, "dtac", Record{ID: "a", DataID: "dtac-a", CallAt: at, Quarantined: "audio gone at the source"})
	mustPut(t, s, "dtac", Record{ID: "b", DataID: "dtac-b", CallAt: at, Step: ReextractSent, Quarantined: "grant the token view_recording_all"})
	mustPut(t, s, "3cx", Record{ID: "c", DataID: "3cx-pbx-c", CallAt: at, Quarantined: "audio gone at the source"})
	for _, tc := range []struct {
		sel  Selection
		want int
	}{
		{Selection{DataID: "dtac-nope"}, 0},
		{Selection{Source: "3cx", DataID: "dtac-a"}, 0},
		{Selection{Reason: "VIEW_RECORDING"}, 1},
		{Selection{DataID: "3cx-pbx-c"}, 1},
		{Selection{Source: "dtac", Reason: "gone"}, 1},
	} {
		n, err := s.RetryQuarantined(ctx, tc.sel)
		if err != nil || n != tc.want {
			t.Errorf("RetryQuarantined(%+v) = %d, %v; want %d", tc.sel, n, err, tc.want)
		}
	}
	// A source the file never held is a mistyped -source, not "nothing to
	// retry".
	var unknown *UnknownSourceError
	if n, err := s.RetryQuarantined(ctx, Selection{Source: "threecx"}); !errors.As(err, &unknown) || n != 0 ||
		err.Error() != `retry quarantined records: no source "threecx" in the state file: the state file holds 3cx, dtac` {
		t.Errorf("RetryQuarantined of an unknown source = %d, %v", n, err)
	}
	b, _, _ := s.Get(ctx, "dtac", "b")
	if !b.Retried || b.Step != ReextractSent || b.Quarantined != "" {
		t.Errorf("b after retry = %+v; want Retried at its step", b)
	}
}

func TestPruneRaisesTheHorizon(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t, newClock())
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if _, ok, err := s.Horizon(ctx, "dtac"); ok || err != nil {
		t.Fatalf("horizon before any prune: %v, %v", ok, err)
	}
	mustPut(t, s, "dtac", Record{ID: "old", CallAt: at, Step: Done})
	if n, _ := s.Prune(ctx, "dtac", at.Add(-time.Hour)); n != 0 {
		t.Fatal("pruned too much")
	}
	if _, ok, _ := s.Horizon(ctx, "dtac"); ok {
		t.Fatal("a prune that forgot nothing moved the horizon")
	}
	if n, _ := s.Prune(ctx, "dtac", at.Add(time.Hour)); n != 1 {
		t.Fatal("pruned nothing")
	}
	if h, ok, _ := s.Horizon(ctx, "dtac"); !ok || !h.Equal(at.Add(time.Hour)) {
		t.Fatalf("horizon %v, %v", h, ok)
	}
}

func TestLoginBackoffAndVocabularyRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := t.TempDir() + "/syncd.db"
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	until := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	lb := LoginBackoff{Refusals: 2, Until: until, Fingerprint: "ab12cd34", LastError: "login refused"}
	if err := s.SetLoginBackoff(ctx, "dtac", lb); err != nil {
		t.Fatal(err)
	}
	v := Vocabulary{Before: []string{"pending"}, After: []string{"queued"}, Probed: until}
	if err := s.SetVocabulary(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.LoginBackoff(ctx, "dtac"); err != nil || !got.Until.Equal(until) || got.Refusals != 2 || got.Fingerprint != "ab12cd34" {
		t.Fatalf("backoff %+v, %v", got, err)
	}
	if got, err := s.Vocabulary(ctx); err != nil || len(got.Before) != 1 || got.After[0] != "queued" || !got.Probed.Equal(until) {
		t.Fatalf("vocabulary %+v, %v", got, err)
	}
	if err := s.SetLoginBackoff(ctx, "dtac", LoginBackoff{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LoginBackoff(ctx, "dtac"); got.Refusals != 0 {
		t.Fatalf("cleared backoff reads %+v", got)
	}
}
