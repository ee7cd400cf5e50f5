package syncer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/connectortest"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/state"
)

func addN(e *env, n int, size int64) []string {
	ids := make([]string, 0, n)
	for i := range n {
		id := fmt.Sprintf("r%03d", i)
		e.conn.add(id, e.clock.Now().Add(-time.Hour+time.Duration(i)*time.Minute/2), size, connectortest.Ready)
		ids = append(ids, id)
	}
	return ids
}

func TestPassSyncsEveryRecordingOnce(t *testing.T) {
	e := newEnv(t, Config{Concurrency: 4})
	ids := addN(e, 20, 64<<10)
	res := e.pass()
	if res.Listed != 20 || res.New != 20 || res.Synced != 20 || res.Failed != 0 || res.Quarantined != 0 {
		t.Fatalf("first pass: %+v", res)
	}
	e.checkAllOnce(ids...)

	// The metadata, as CRK got it.
	want := e.conn.recs["r001"].rec
	got, _ := e.crk.Recording("b1", want.DataID)
	if got.CallAt != want.CallAt.In(bangkok).Format(time.RFC3339) || !strings.HasSuffix(got.CallAt, "+07:00") {
		t.Errorf("callAt %q, want %s in +07:00", got.CallAt, want.CallAt)
	}
	if got.Direction != want.Direction || got.CustomerPhone != want.CustomerPhone ||
		got.CallcenterNumber != want.AgentNumber || got.CallcenterName != want.AgentName || got.ContentType != "audio/wav" {
		t.Errorf("metadata at CRK %+v, want %+v with the content type the bytes are (the source said audio/x-wav)", got, want)
	}

	// A second pass sends nothing.
	creates := e.crk.Count(fakecrk.EndpointCreate)
	e.clock.Advance(5 * time.Minute)
	res = e.pass()
	if res.New != 0 || res.Synced != 0 || e.crk.Count(fakecrk.EndpointCreate) != creates {
		t.Fatalf("second pass sent again: %+v, creates %d → %d", res, creates, e.crk.Count(fakecrk.EndpointCreate))
	}
	sum, _ := e.store.Summary(t.Context(), "mem")
	if sum.Done != 20 || sum.Pending != 0 || !sum.Cursor.Equal(e.clock.Now()) {
		t.Fatalf("summary %+v, want 20 done and the cursor at now (settle 0)", sum)
	}
}

func TestWindowSettleBackfillAndLateArrivals(t *testing.T) {
	e := newEnv(t, Config{Backfill: 3 * time.Hour, Lookback: time.Hour, Settle: 2 * time.Minute})
	now := e.clock.Now()
	e.conn.add("old", now.Add(-4*time.Hour), 100, connectortest.Ready)   // before the backfill
	e.conn.add("in", now.Add(-2*time.Hour), 100, connectortest.Ready)    // inside it
	e.conn.add("young", now.Add(-time.Minute), 100, connectortest.Ready) // not settled yet
	res := e.pass()
	if res.Synced != 1 || res.From != now.Add(-2*time.Minute-3*time.Hour) || res.To != now.Add(-2*time.Minute) {
		t.Fatalf("first pass %+v, want only 'in' from [now-settle-backfill, now-settle)", res)
	}
	// Later: the young one has settled, and a late arrival turns up 30
	// minutes behind the cursor: both inside the lookback.
	e.clock.Advance(5 * time.Minute)
	e.conn.add("late", now.Add(-30*time.Minute), 100, connectortest.Ready)
	res = e.pass()
	if res.Synced != 2 {
		t.Fatalf("second pass %+v, want young and late synced", res)
	}
	if _, ok := e.crk.Recording("b1", "mem-old"); ok {
		t.Fatal("a recording before the backfill was sent")
	}
}

func TestFailuresQuarantineAndHoldTheCursor(t *testing.T) {
	e := newEnv(t, Config{MaxAttempts: 3})
	now := e.clock.Now()
	e.conn.add("gone", now.Add(-50*time.Minute), 100, connectortest.Gone)
	e.conn.add("notready", now.Add(-40*time.Minute), 100, connectortest.NotReady)
	bad := e.conn.add("bad", now.Add(-30*time.Minute), 100, connectortest.Ready)
	e.conn.set("bad", func(m *memRec) { m.rec.Invalid = fmt.Errorf("direction UNKN: %w", connectors.ErrInvalid) })
	e.conn.add("rejected", now.Add(-20*time.Minute), 100, connectortest.Ready)
	e.conn.set("rejected", func(m *memRec) { m.rec.Direction = "sideways" }) // CRK answers 422
	e.conn.add("ok", now.Add(-10*time.Minute), 100, connectortest.Ready)

	res := e.pass()
	if res.Synced != 1 || res.Quarantined != 3 || res.Failed != 1 {
		t.Fatalf("pass %+v, want 1 synced, 3 quarantined (gone, invalid, 422), 1 failed (not ready)", res)
	}
	sum, _ := e.store.Summary(t.Context(), "mem")
	if want := now.Add(-40*time.Minute + 95*time.Second); !sum.Cursor.Equal(want) {
		t.Fatalf("cursor %s, want it held at the end of the call not ready yet (%s)", sum.Cursor, want)
	}
	q, _ := e.store.Quarantined(t.Context(), "mem")
	reasons := map[string]string{}
	for _, r := range q {
		reasons[r.ID] = r.Quarantined
	}
	for id, want := range map[string]string{"gone": "audio gone", "bad": "direction UNKN", "rejected": "validation_failed"} {
		if !strings.Contains(reasons[id], want) {
			t.Errorf("quarantine reason of %s = %q, want it to say %q", id, reasons[id], want)
		}
	}
	if _, ok := e.crk.Recording("b1", bad.DataID); ok {
		t.Error("an invalid recording reached CRK")
	}
	// Not ready twice more: the cap quarantines it, and the cursor moves on.
	for range 2 {
		e.clock.Advance(5 * time.Minute)
		e.pass()
	}
	r, _, _ := e.store.Get(t.Context(), "mem", "notready")
	if r.Quarantined == "" || r.Attempts != 3 || !strings.Contains(r.Quarantined, "gave up after 3") {
		t.Fatalf("after 3 passes not ready: %+v, want quarantined after 3 attempts", r)
	}
	sum, _ = e.store.Summary(t.Context(), "mem")
	if !sum.Cursor.Equal(e.clock.Now()) || sum.Quarantined != 4 {
		t.Fatalf("summary %+v, want 4 quarantined and the cursor at now", sum)
	}
	// Retried by hand, once the audio is there, it syncs.
	e.conn.set("notready", func(m *memRec) { m.state = connectortest.Ready })
	if n, err := e.store.RetryQuarantined(t.Context(), state.Selection{Source: "mem"}); err != nil || n != 4 {
		t.Fatalf("retry: %d, %v", n, err)
	}
	e.clock.Advance(5 * time.Minute)
	res = e.pass()
	if _, ok := e.crk.Recording("b1", "mem-notready"); !ok || res.Synced != 1 {
		t.Fatalf("after retry: %+v; want notready synced", res)
	}
}

func TestSourceFailureStopsThePass(t *testing.T) {
	e := newEnv(t, Config{})
	e.conn.failList = fmt.Errorf("portal said 401: %w", connectors.ErrAuth)
	_, err := e.sy.Run(t.Context(), e.conn, nil)
	if !errors.Is(err, connectors.ErrAuth) {
		t.Fatalf("Run = %v, want the source's ErrAuth", err)
	}
	if _, ok, _ := e.store.Cursor(t.Context(), "mem"); ok {
		t.Fatal("a failed listing moved the cursor")
	}
}

func TestRevokedTokenStopsThePass(t *testing.T) {
	e := newEnv(t, Config{Concurrency: 1})
	addN(e, 5, 100)
	e.crk.FailNextError(fakecrk.EndpointCreate, 401, "token_disabled", 1)
	_, err := e.sy.Run(t.Context(), e.conn, nil)
	if err == nil || !strings.Contains(err.Error(), "token_disabled") {
		t.Fatalf("Run = %v, want the pass stopped on token_disabled", err)
	}
	if n := e.crk.Count(fakecrk.EndpointCreate); n != 1 {
		t.Fatalf("%d creates after the token failed, want the pass to stop at the first", n)
	}
}

// TestChaos: with 20% 500s, 10% 429 and 5% dropped connections after the
// work, every recording arrives once, and reextract is sent once.
func TestChaos(t *testing.T) {
	e := newEnv(t, Config{Concurrency: 4, MaxAttempts: 50})
	ids := addN(e, 40, 8<<10)
	e.crk.SetFaults(fakecrk.Faults{P500: 0.2, P429: 0.1, PDrop: 0.05, Seed: 7})
	passes := 0
	for ; passes < 20; passes++ {
		e.clock.Advance(5 * time.Minute)
		// CRK failing several recordings in a row stops a pass early.
		if _, err := e.sy.Run(t.Context(), e.conn, nil); err != nil && !errors.Is(err, errCRKDown) {
			t.Fatal(err)
		}
		if sum, _ := e.store.Summary(t.Context(), "mem"); sum.Done == len(ids) {
			break
		}
	}
	twice := 0
	for _, r := range e.crk.Recordings() {
		if r.Reextracts > 1 {
			twice++
		}
	}
	t.Logf("chaos: %d passes; %d creates, %d uploads, %d reextracts, %d lists for %d recordings; reextract sent twice for %d",
		passes+1, e.crk.Count(fakecrk.EndpointCreate), e.crk.Count(fakecrk.EndpointUpload), e.crk.Count(fakecrk.EndpointReextract),
		e.crk.Count(fakecrk.EndpointList), len(ids), twice)
	e.checkAllOnce(ids...)
}

// TestCrashAtEveryStep stops a pass at every request, before it is sent
// and after its answer arrived, reopens the state file and runs again:
// every recording ends at CRK exactly once, with exactly one reextract.
func TestCrashAtEveryStep(t *testing.T) {
	const n = 3
	// Requests of a clean first pass: create, upload, reextract per
	// recording, and one look at CRK's status words before the first
	// reextract.
	for cut := 1; cut <= 3*n+1; cut++ {
		for _, after := range []bool{false, true} {
			t.Run(fmt.Sprintf("request%d/after=%v", cut, after), func(t *testing.T) {
				e := newEnv(t, Config{Concurrency: 1})
				ids := addN(e, n, 5000)
				ctx, cancel := context.WithCancel(t.Context())
				e.transport.arm(cut, after, cancel)
				if _, err := e.sy.Run(ctx, e.conn, nil); err == nil {
					t.Fatal("the cut pass did not notice")
				}
				e.transport.arm(0, false, nil)
				e.reopen()
				// A reextract cut before it was sent is sent again once
				// syncd has learned CRK's words: at most two passes.
				var res Result
				for range 2 {
					e.clock.Advance(5 * time.Minute)
					res = e.pass()
				}
				if sum, _ := e.store.Summary(t.Context(), "mem"); sum.Done != n {
					t.Fatalf("after the restart: %+v, summary %+v", res, sum)
				}
				e.checkAllOnce(ids...)
			})
		}
	}
}

// TestReextractAnswerLost: the reextract's answer is lost (connection
// dropped after CRK acted, or a 500 before it did). syncd checks CRK before
// asking again and never pays twice on its own. A recording is done only
// on proof: "completed", or the word CRK answered to a successful
// reextract when it differs from the word CRK shows before. It is asked
// again only when CRK shows its "before" word and that differs from every
// "after" word. Otherwise it waits for proof, then a person decides.
func TestReextractAnswerLost(t *testing.T) {
	for _, tc := range []struct {
		before, after  string
		dropAfterWork  bool // false: fail before CRK acted (500)
		wantReextract  int
		wantQuarantine bool
	}{
		{"", "completed", true, 1, false},
		{"", "processing", true, 1, false},
		{"", "queued", true, 1, false},
		{"", "pending", true, 1, false},
		{"", "something_new", true, 1, false},
		{"", "completed", false, 1, false},
		{"uploaded", "completed", false, 1, false},
		{"pending", "queued", false, 1, false},
		{"pending", "queued", true, 1, false},
		// "pending" before and after: no proof either way.
		{"pending", "pending", true, 1, true},
		{"pending", "pending", false, 0, true},
	} {
		t.Run(fmt.Sprintf("%q→%q/drop=%v", tc.before, tc.after, tc.dropAfterWork), func(t *testing.T) {
			e := newEnv(t, Config{PassTries: 1, VerifyAttempts: 3, Concurrency: 1})
			e.crk.SetBehaviour(fakecrk.Behaviour{ProcessingBefore: tc.before, ProcessingAfter: tc.after})
			ids := addN(e, 2, 100) // the second teaches syncd CRK's "after" word
			if tc.dropAfterWork {
				e.crk.DropNext(fakecrk.EndpointReextract, 1)
			} else {
				e.crk.FailNext(fakecrk.EndpointReextract, 500, 1)
			}
			res := e.pass()
			if res.Failed != 1 || res.Synced != 1 {
				t.Fatalf("first pass %+v, want the reextract failure counted", res)
			}
			r, _, _ := e.store.Get(t.Context(), "mem", ids[0])
			if r.Step != state.ReextractSent {
				t.Fatalf("step %s after a lost reextract answer, want reextract-sent", r.Step)
			}
			for range 2 {
				e.clock.Advance(5 * time.Minute)
				e.pass()
			}
			got, _ := e.crk.Recording("b1", "mem-"+ids[0])
			if got.Reextracts != tc.wantReextract {
				t.Fatalf("%d reextracts, want %d", got.Reextracts, tc.wantReextract)
			}
			r, _, _ = e.store.Get(t.Context(), "mem", ids[0])
			if !tc.wantQuarantine {
				if r.Step != state.Done || r.Quarantined != "" {
					t.Fatalf("record %+v, want done", r)
				}
				return
			}
			if !strings.Contains(r.Quarantined, "no proof yet that AI processing was asked for") || r.Step != state.ReextractSent ||
				!strings.Contains(r.Quarantined, "-retry-quarantined -data-id mem-"+ids[0]) {
				t.Fatalf("record %+v, want quarantined for want of proof, at reextract-sent, saying how to retry", r)
			}
			// A person who checked decides to ask again.
			if n, err := e.store.RetryQuarantined(t.Context(), state.Selection{DataID: "mem-" + ids[0]}); err != nil || n != 1 {
				t.Fatalf("retry: %d, %v", n, err)
			}
			e.clock.Advance(5 * time.Minute)
			e.pass()
			if got, _ := e.crk.Recording("b1", "mem-"+ids[0]); got.Reextracts != tc.wantReextract+1 {
				t.Fatalf("after the retry: %d reextracts, want %d", got.Reextracts, tc.wantReextract+1)
			}
			if r, _, _ := e.store.Get(t.Context(), "mem", ids[0]); r.Step != state.Done || r.Retried {
				t.Fatalf("after the retry: %+v, want done", r)
			}
		})
	}
}

func TestReextractUnverifiableIsQuarantined(t *testing.T) {
	e := newEnv(t, Config{PassTries: 1})
	ids := addN(e, 1, 100)
	e.crk.DropNext(fakecrk.EndpointReextract, 1)
	e.pass()
	e.crk.FailNextError(fakecrk.EndpointList, 403, "insufficient_scope", 1)
	e.clock.Advance(5 * time.Minute)
	res := e.pass()
	r, _, _ := e.store.Get(t.Context(), "mem", ids[0])
	if res.Quarantined != 1 || !strings.Contains(r.Quarantined, "cannot tell whether AI processing was already asked for") {
		t.Fatalf("pass %+v, record %+v: want it quarantined as unverifiable", res, r)
	}
}

func TestExpiredUploadURLIsHealed(t *testing.T) {
	e := newEnv(t, Config{})
	ids := addN(e, 1, 1000)
	e.crk.ExpireNextUploads(1)
	res := e.pass()
	if res.Synced != 1 {
		t.Fatalf("pass %+v", res)
	}
	e.checkAllOnce(ids...)
	if n := e.crk.Count(fakecrk.EndpointCreate); n != 2 {
		t.Fatalf("%d creates, want 2 (the second for a fresh URL)", n)
	}
}

func TestNoUploadURLOnRepeat(t *testing.T) {
	// A crash after the upload but before it was recorded: the next create
	// answers without uploadUrl, because CRK holds the audio already.
	e := newEnv(t, Config{Concurrency: 1})
	e.crk.SetBehaviour(fakecrk.Behaviour{NoUploadURLOnRepeat: true})
	ids := addN(e, 1, 1000)
	ctx, cancel := context.WithCancel(t.Context())
	e.transport.arm(2, true, cancel) // after the upload's answer
	e.sy.Run(ctx, e.conn, nil)
	e.transport.arm(0, false, nil)
	e.reopen()
	e.pass()
	e.checkAllOnce(ids...)
}

func TestDrainingStopsStartingRecordings(t *testing.T) {
	e := newEnv(t, Config{Concurrency: 1})
	addN(e, 5, 100)
	draining := make(chan struct{})
	close(draining)
	res, err := e.sy.Run(t.Context(), e.conn, draining)
	if err != nil || res.Synced != 0 {
		t.Fatalf("draining pass: %+v, %v; want nothing started", res, err)
	}
}

// TestRetryLongAfterTheCursorMoved: a recording quarantined hours ago and
// moved back to pending by hand is sent by the next pass, although the
// cursor is far past it; one the source no longer lists is quarantined
// again with that reason instead of holding the window back for ever.
func TestRetryLongAfterTheCursorMoved(t *testing.T) {
	e := newEnv(t, Config{Lookback: time.Hour, MaxCall: time.Hour, MissingPasses: 1})
	now := e.clock.Now()
	e.conn.add("old", now.Add(-30*time.Minute), 100, connectortest.Gone)
	e.conn.add("deleted", now.Add(-20*time.Minute), 100, connectortest.Gone)
	if res := e.pass(); res.Quarantined != 2 {
		t.Fatalf("first pass %+v, want both quarantined", res)
	}
	for range 6 { // three hours of passes: the cursor is far past them
		e.clock.Advance(30 * time.Minute)
		e.pass()
	}
	e.conn.set("old", func(m *memRec) { m.state = connectortest.Ready })
	e.conn.mu.Lock()
	delete(e.conn.recs, "deleted")
	e.conn.mu.Unlock()
	if n, err := e.store.RetryQuarantined(t.Context(), state.Selection{Source: "mem"}); err != nil || n != 2 {
		t.Fatalf("retry: %d, %v", n, err)
	}
	e.clock.Advance(5 * time.Minute)
	res := e.pass()
	if _, ok := e.crk.Recording("b1", "mem-old"); !ok || res.Synced != 1 {
		t.Fatalf("pass after the retry %+v: the retried recording was not sent", res)
	}
	r, _, _ := e.store.Get(t.Context(), "mem", "deleted")
	if !strings.Contains(r.Quarantined, "has not listed this recording") || res.Quarantined != 1 {
		t.Fatalf("the recording gone from the source: %+v (pass %+v)", r, res)
	}
	// The window is back to normal: the next pass starts at cursor −
	// lookback − the longest call.
	e.clock.Advance(5 * time.Minute)
	if res := e.pass(); !res.From.Equal(e.clock.Now().Add(-5*time.Minute - 2*time.Hour)) {
		t.Fatalf("window from %s after the retries, want cursor − lookback − max call", res.From)
	}
}

// TestTokenThatSeesOnlyItsOwnRecordings: with view_recording_self the
// check after a lost reextract answer finds nothing. syncd must not take
// that as "gone" and create and pay again: it quarantines, to be re-created
// by a person's retry.
func TestTokenThatSeesOnlyItsOwnRecordings(t *testing.T) {
	e := newEnvWith(t, Config{PassTries: 1}, envOptions{crk: func(o *fakecrk.Options) {
		o.Tokens[testToken] = fakecrk.Token{Level: fakecrk.LevelBusiness, BusinessID: "b1", UserID: "u1",
			Scopes: []string{fakecrk.ScopeManageCall, fakecrk.ScopeViewSelf}}
	}})
	ids := addN(e, 1, 100)
	e.crk.DropNext(fakecrk.EndpointReextract, 1)
	e.pass()
	e.clock.Advance(5 * time.Minute)
	e.pass()
	got, _ := e.crk.Recording("b1", "mem-"+ids[0])
	r, _, _ := e.store.Get(t.Context(), "mem", ids[0])
	if got.Reextracts != 1 || got.Creates != 1 || !strings.Contains(r.Quarantined, "CRK does not list") || r.Step != state.ReextractSent {
		t.Fatalf("CRK %+v, record %+v: want one create, one reextract, and the recording quarantined", got, r)
	}
}

// TestLostStateFileDoesNotPayTwice: the state file is lost after a pass
// (moved aside as corrupt). The next, first pass of a fresh file asks CRK
// which recordings of its window it already processed and sends only the
// rest; with a token that cannot list, it still syncs (creates are
// idempotent) and says why it may ask again.
func TestLostStateFileDoesNotPayTwice(t *testing.T) {
	e := newEnv(t, Config{})
	ids := addN(e, 5, 100)
	e.pass()
	e.store.Close()
	if err := os.Rename(e.path, e.path+".corrupt"); err != nil {
		t.Fatal(err)
	}
	e.open()
	e.conn.add("new", e.clock.Now().Add(-10*time.Minute), 100, connectortest.Ready)
	e.clock.Advance(5 * time.Minute)
	res := e.pass()
	if res.New != 1 || res.Synced != 1 {
		t.Fatalf("first pass on a fresh state file: %+v, want only the new recording sent", res)
	}
	e.checkAllOnce(append(ids, "new")...)
	if sum, _ := e.store.Summary(t.Context(), "mem"); sum.Done != 6 {
		t.Fatalf("summary %+v, want the 5 reconciled and the new one done", sum)
	}
}

// TestAudioRefusedQuarantinesOnlyThatRecording: logged in, the source
// refuses one file (403 after a fresh log-in): that recording is
// quarantined and the pass goes on.
func TestAudioRefusedQuarantinesOnlyThatRecording(t *testing.T) {
	e := newEnv(t, Config{})
	ids := addN(e, 3, 100)
	e.conn.set(ids[1], func(m *memRec) {
		m.openErr = fmt.Errorf("dtac: open the audio: HTTP 403 even with a fresh token: %w", connectors.ErrForbidden)
	})
	res := e.pass()
	r, _, _ := e.store.Get(t.Context(), "mem", ids[1])
	if res.Synced != 2 || res.Quarantined != 1 || !strings.Contains(r.Quarantined, "refuses the audio") {
		t.Fatalf("pass %+v, record %+v: want the other two synced and this one quarantined", res, r)
	}
}
