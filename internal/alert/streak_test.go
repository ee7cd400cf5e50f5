package alert_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/crkai/syncd/internal/alert"
	"github.com/crkai/syncd/internal/syncer"
)

// TestStreaks: a failed pass adds one to its source's streak (Since is the
// first failure's time), a success ends it, a stopped pass counts for
// nothing; Record returns the round's streaks in its order and All every
// source's, sorted, also after a reopen.
func TestStreaks(t *testing.T) {
	e := newEnv(t, telegram, tokAlerts, nil)
	ctx := context.Background()
	st := alert.Streaks{Store: e.store, Now: e.clk.Now}
	t0 := e.clk.Now()
	refused := loginRefused("dtac")
	stopped := fmt.Errorf("pass of dtac stopped: %w", context.Canceled)
	long := errors.New(strings.Repeat("é", 1500))
	rounds := []struct {
		dtac, threecx error
		want          []alert.Streak // dtac, 3cx
	}{
		{refused, nil, []alert.Streak{
			{Source: "dtac", Failures: 1, Since: t0, LastFailure: t0, LastError: refused.Error()},
			{Source: "3cx", LastSuccess: t0}}},
		{stopped, long, []alert.Streak{
			{Source: "dtac", Failures: 1, Since: t0, LastFailure: t0, LastError: refused.Error()},
			{Source: "3cx", Failures: 1, Since: t0.Add(time.Minute), LastFailure: t0.Add(time.Minute), LastError: strings.Repeat("é", 999) + "…", LastSuccess: t0}}},
		{refused, nil, []alert.Streak{
			{Source: "dtac", Failures: 2, Since: t0, LastFailure: t0.Add(2 * time.Minute), LastError: refused.Error()},
			{Source: "3cx", LastSuccess: t0.Add(2 * time.Minute)}}},
		{nil, nil, []alert.Streak{
			{Source: "dtac", LastSuccess: t0.Add(3 * time.Minute)},
			{Source: "3cx", LastSuccess: t0.Add(3 * time.Minute)}}},
	}
	for i, r := range rounds {
		got, err := st.Record(ctx, []syncer.Result{{Source: "dtac", Err: r.dtac}, {Source: "3cx", Err: r.threecx}})
		if err != nil {
			t.Fatal(err)
		}
		if !sameStreaks(got, r.want) {
			t.Fatalf("round %d:\n got %+v\nwant %+v", i+1, got, r.want)
		}
		e.clk.Advance(time.Minute)
	}
	if _, err := st.Record(ctx, []syncer.Result{{Source: "dtac", Err: refused}}); err != nil {
		t.Fatal(err)
	}
	e.restart()
	all, err := alert.Streaks{Store: e.store}.All(ctx)
	want := []alert.Streak{rounds[3].want[1], {Source: "dtac", Failures: 1, Since: t0.Add(4 * time.Minute),
		LastFailure: t0.Add(4 * time.Minute), LastError: refused.Error(), LastSuccess: t0.Add(3 * time.Minute)}}
	if err != nil || !sameStreaks(all, want) {
		t.Fatalf("All after a reopen: %+v, %v\nwant %+v", all, err, want)
	}
}

// sameStreaks compares streaks whose times went through JSON.
func sameStreaks(got, want []alert.Streak) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Source != w.Source || g.Failures != w.Failures || g.LastError != w.LastError ||
			!g.Since.Equal(w.Since) || !g.LastFailure.Equal(w.LastFailure) || !g.LastSuccess.Equal(w.LastSuccess) {
			return false
		}
	}
	return true
}

// TestOldStateFile: a state file written before the streaks existed (an
// open incident that counted its own failures, a queued alert, a pass
// history, in that syncd's layout) keeps working: the queued alert is
// delivered, and the incident's count goes on in the source's streak, so
// that the next failure raises its alert.
func TestOldStateFile(t *testing.T) {
	e := newEnv(t, telegram, tokAlerts, nil)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(e.path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		alerts, err := tx.CreateBucket([]byte("alerts"))
		if err != nil {
			return err
		}
		for _, kv := range []struct{ bucket, key, value string }{
			{"incidents", "dtac", `{"n":2,"s":"2026-05-20T07:50:00+07:00","l":"2026-05-20T07:55:00+07:00","e":"the phone system refused syncd's login"}`},
			{"history", "dtac", `{"f":3,"n":2}`},
			{"queue", "\x00\x00\x00\x00\x00\x00\x00\x01", `{"kind":"quarantine","sev":"warning","t":"syncd: 1 recording quarantined","b":"dtac-1: gone","q":"2026-05-20T07:55:00+07:00"}`},
		} {
			b, err := alerts.CreateBucketIfNotExists([]byte(kv.bucket))
			if err != nil {
				return err
			}
			if err := b.Put([]byte(kv.key), []byte(kv.value)); err != nil {
				return err
			}
		}
		return alerts.Bucket([]byte("queue")).SetSequence(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	e.open()

	e.pass(failed("dtac", loginRefused("dtac")))
	msgs := e.delivered()
	if len(msgs) != 2 || msgs[0].Title != "syncd: 1 recording quarantined" ||
		!strings.Contains(msgs[1].Body, "3 passes in a row, since 2026-05-20 07:50 +07:00") {
		t.Fatalf("delivered %+v", msgs)
	}
	all, err := alert.Streaks{Store: e.store}.All(context.Background())
	if err != nil || len(all) != 1 || all[0].Failures != 3 || !all[0].Since.Equal(time.Date(2026, 5, 20, 0, 50, 0, 0, time.UTC)) {
		t.Fatalf("streaks %+v, %v", all, err)
	}
}
