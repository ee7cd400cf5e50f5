package syncer

import (
	"cmp"
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
	"github.com/crkai/syncd/internal/spool"
	"github.com/crkai/syncd/internal/state"
)

// The regression tests of the guarantees issue: each pins one way the
// promise (delivered once, or visibly quarantined) was seen to break.

// Failure 1: a crash during the first pass, after a create and before its
// upload, left a recording CRK held without audio, which the restart's
// reconciliation took as done. New recordings are now written to the state
// file before anything is sent, so the restart resumes them.
func TestFirstPassCrashAfterCreateIsDelivered(t *testing.T) {
	for _, vocab := range [][2]string{{"pending", "queued"}, {"pending", "pending"}, {"", "completed"}} {
		for cut := 2; cut <= 3; cut++ { // the first's upload, or the look at its status
			t.Run(fmt.Sprintf("%s→%s/cut%d", vocab[0], vocab[1], cut), func(t *testing.T) {
				e := newEnv(t, Config{Concurrency: 1})
				e.crk.SetBehaviour(fakecrk.Behaviour{ProcessingBefore: vocab[0], ProcessingAfter: vocab[1]})
				ids := addN(e, 3, 2000)
				ctx, cancel := context.WithCancel(t.Context())
				e.transport.arm(cut, false, cancel)
				if _, err := e.sy.Run(ctx, e.conn, nil); err == nil {
					t.Fatal("the cut pass did not notice")
				}
				e.transport.arm(0, false, nil)
				e.reopen()
				e.clock.Advance(5 * time.Minute)
				if res := e.pass(); res.Failed != 0 || res.Quarantined != 0 {
					t.Fatalf("restart pass %+v", res)
				}
				e.checkAllOnce(ids...)
			})
		}
	}
}

// Failure 2 (the reconciliation side): a first pass on a lost state file
// found recordings with an undocumented status and took them as done.
func TestFirstPassTakesOnlyProofAsDone(t *testing.T) {
	e := newEnv(t, Config{Concurrency: 1, VerifyAttempts: 2})
	e.crk.SetBehaviour(fakecrk.Behaviour{ProcessingBefore: "pending", ProcessingAfter: "pending"})
	ids := addN(e, 2, 100)
	at := e.clock.Now().Add(-time.Hour).In(bangkok).Format(time.RFC3339)
	// CRK holds both with audio, status "pending": one was processed, one
	// was not; nothing tells them apart.
	e.crk.AddRecording("b1", fakecrk.Recording{DataID: "mem-" + ids[0], CallAt: at, HasAudio: true, ProcessingStatus: "pending", Reextracts: 1})
	e.crk.AddRecording("b1", fakecrk.Recording{DataID: "mem-" + ids[1], CallAt: at, HasAudio: true, ProcessingStatus: "pending"})
	res := e.pass()
	if res.Synced != 0 || e.crk.Count(fakecrk.EndpointReextract) != 0 {
		t.Fatalf("first pass %+v, %d reextracts: want nothing sent", res, e.crk.Count(fakecrk.EndpointReextract))
	}
	for range 3 {
		e.clock.Advance(5 * time.Minute)
		e.pass()
	}
	for _, id := range ids {
		r, _, _ := e.store.Get(t.Context(), "mem", id)
		if r.Step == state.Done || !strings.Contains(r.Quarantined, "no proof yet") {
			t.Errorf("%s: %+v, want quarantined for want of proof", id, r)
		}
	}
	if n := e.crk.Count(fakecrk.EndpointReextract); n != 0 {
		t.Fatalf("%d reextracts sent on syncd's own decision", n)
	}
}

// Failure 4: a call longer than SYNCD_LOOKBACK was never sent, and
// SYNCD_SETTLE counted from the call's start.
func TestLongCallIsSentOnceItEnds(t *testing.T) {
	e := newEnv(t, Config{Lookback: time.Hour, Settle: 2 * time.Minute})
	start := e.clock.Now().Add(-10 * time.Minute)
	e.pass()
	for range 7 { // 3.5 hours of passes while the call goes on
		e.clock.Advance(30 * time.Minute)
		e.pass()
	}
	// The 3-hour call ended a minute ago: it appears at the source now.
	e.clock.Advance(start.Add(3*time.Hour + time.Minute).Sub(e.clock.Now()))
	e.conn.add("long", start, 4000, connectortest.Ready)
	e.conn.set("long", func(m *memRec) { m.rec.Duration = 3 * time.Hour })
	if res := e.pass(); res.Synced != 0 {
		t.Fatalf("pass %+v: a call that ended a minute ago was sent before SYNCD_SETTLE", res)
	}
	e.clock.Advance(5 * time.Minute)
	if res := e.pass(); res.Synced != 1 {
		t.Fatalf("pass %+v: the long call was not sent", res)
	}
	e.checkAllOnce("long")
}

// Failure 5: retrying a recording quarantined days ago pulled the window
// back past the prune horizon, and everything in between was paid for
// again. Raising SYNCD_LOOKBACK did the same.
func TestOldRetryAndLongerLookbackPayNothingTwice(t *testing.T) {
	e := newEnv(t, Config{Lookback: time.Hour, MaxCall: time.Hour, PruneMargin: time.Hour})
	var ids []string
	day0 := e.clock.Now()
	e.conn.add("gone", day0.Add(-30*time.Minute), 100, connectortest.Gone)
	for h := range 72 {
		e.conn.add(fmt.Sprintf("h%02d", h), day0.Add(time.Duration(h)*time.Hour), 100, connectortest.Ready)
		ids = append(ids, fmt.Sprintf("h%02d", h))
	}
	for range 75 {
		e.pass()
		e.clock.Advance(time.Hour)
	}
	if sum, _ := e.store.Summary(t.Context(), "mem"); sum.Done >= 72 || sum.Quarantined != 1 {
		t.Fatalf("summary %+v: want old records pruned and one quarantined", sum)
	}
	e.checkAllOnce(ids...)

	e.conn.set("gone", func(m *memRec) { m.state = connectortest.Ready })
	if n, err := e.store.RetryQuarantined(t.Context(), state.Selection{DataID: "mem-gone"}); err != nil || n != 1 {
		t.Fatalf("retry: %d, %v", n, err)
	}
	if res := e.pass(); res.Synced != 1 {
		t.Fatalf("pass after the retry %+v, want only the retried one sent", res)
	}
	e.checkAllOnce(append(ids, "gone")...)

	// SYNCD_LOOKBACK 1h → 72h: the pruned days are listed again; CRK is
	// asked about them and nothing is paid twice.
	e.cfg.Lookback = 72 * time.Hour
	e.reopen()
	e.clock.Advance(time.Hour)
	if res := e.pass(); res.Synced != 0 {
		t.Fatalf("pass with a longer lookback %+v, want nothing sent again", res)
	}
	e.checkAllOnce(append(ids, "gone")...)
}

// Failure 6: a CRK blip during a first pass's reconciliation sent
// everything again. Now nothing the state file does not know is sent
// until CRK answers.
func TestFirstPassSendsNothingUntilCRKCanBeAsked(t *testing.T) {
	e := newEnv(t, Config{})
	ids := addN(e, 4, 100)
	e.pass()
	e.store.Close()
	if err := os.Remove(e.path); err != nil {
		t.Fatal(err)
	}
	e.open()                                     // a lost state file
	e.crk.FailNext(fakecrk.EndpointList, 503, 6) // every attempt of the sink
	e.clock.Advance(5 * time.Minute)
	if _, err := e.sy.Run(t.Context(), e.conn, nil); err == nil || !strings.Contains(err.Error(), "until CRK says whether it holds them") {
		t.Fatalf("pass with CRK's listing down: %v", err)
	}
	if n := e.crk.Count(fakecrk.EndpointCreate); n != 4 {
		t.Fatalf("%d creates, want none beyond the first pass's 4", n)
	}
	e.clock.Advance(5 * time.Minute)
	e.pass()
	e.checkAllOnce(ids...)
}

// Failure 7: the remedy for a recording quarantined as unverifiable (grant
// the scope, retry) re-extracted it without asking CRK; now a retry asks
// first, and a retry can be chosen by dataId.
func TestRetryOfUnverifiableAsksCRKFirst(t *testing.T) {
	e := newEnv(t, Config{PassTries: 1, Concurrency: 1})
	ids := addN(e, 2, 100)
	e.crk.DropNext(fakecrk.EndpointReextract, 1) // CRK acted; the answer is lost
	e.pass()
	e.crk.FailNextError(fakecrk.EndpointList, 403, "insufficient_scope", 1) // the token cannot read recordings
	e.clock.Advance(5 * time.Minute)
	e.pass()
	r, _, _ := e.store.Get(t.Context(), "mem", ids[0])
	if !strings.Contains(r.Quarantined, "view_recording_all") || r.Step != state.ReextractSent {
		t.Fatalf("record %+v, want quarantined at reextract-sent, saying which scope", r)
	}
	// The scope is granted; the person retries this one recording.
	if n, _ := e.store.RetryQuarantined(t.Context(), state.Selection{Source: "mem", Reason: "VIEW_RECORDING_ALL"}); n != 1 {
		t.Fatalf("retry by reason moved %d", n)
	}
	e.clock.Advance(5 * time.Minute)
	e.pass()
	e.checkAllOnce(ids...) // asked CRK, found it processed: one reextract
}

// Failure 13: with CRK down, every recording spent the sink's retries
// inside the syncer's. Now a pass stops after a few recordings, and the
// next asks CRK once before sending.
func TestCRKDownStopsThePassEarly(t *testing.T) {
	e := newEnv(t, Config{Concurrency: 1, BreakAfter: 3})
	e.pass() // not a first pass: no reconciliation
	ids := addN(e, 20, 100)
	e.crk.SetFaults(fakecrk.Faults{P500: 1})
	_, err := e.sy.Run(t.Context(), e.conn, nil)
	if !errors.Is(err, errCRKDown) {
		t.Fatalf("pass with CRK down: %v", err)
	}
	// The one already waiting for a worker when the third failed starts too.
	if n := e.crk.Count(fakecrk.EndpointCreate); n > (3+1)*6 {
		t.Fatalf("%d create requests, want at most 4 recordings × 6 attempts", n)
	}
	before := e.crk.Count(fakecrk.EndpointCreate)
	e.clock.Advance(5 * time.Minute)
	if _, err := e.sy.Run(t.Context(), e.conn, nil); !errors.Is(err, errCRKDown) {
		t.Fatalf("second pass: %v", err)
	}
	if n := e.crk.Count(fakecrk.EndpointCreate); n != before {
		t.Fatalf("the pass after a breaker sent %d creates before CRK answered its probe", n-before)
	}
	e.crk.SetFaults(fakecrk.Faults{})
	e.clock.Advance(5 * time.Minute)
	e.pass()
	e.checkAllOnce(ids...)
}

// Failure 15: a refused log-in was tried again on every pass, which locks
// accounts and gets addresses blocked. Now refusals back off, and a
// changed configuration is tried at once.
func TestRefusedLogInBacksOff(t *testing.T) {
	fp := "cfg-1"
	e := newEnv(t, Config{Fingerprint: func(string) string { return fp }})
	e.conn.failList = fmt.Errorf("dtac: log in: wrong password: %w", connectors.ErrAuth)
	refused := 0
	for range 13 { // an hour at */5
		if _, err := e.sy.Run(t.Context(), e.conn, nil); errors.Is(err, connectors.ErrAuth) {
			refused++
		}
		e.clock.Advance(5 * time.Minute)
	}
	if e.conn.lists != 4 || refused != 13 { // at 0, 5, 15 and 35 minutes
		t.Fatalf("%d log-ins tried in an hour (%d passes failed), want 4", e.conn.lists, refused)
	}
	lb, _ := e.store.LoginBackoff(t.Context(), "mem")
	if lb.Refusals != 4 || !lb.Until.After(e.clock.Now()) {
		t.Fatalf("backoff %+v", lb)
	}
	fp = "cfg-2" // the operator fixed the password
	e.conn.failList = nil
	e.pass()
	if e.conn.lists != 5 {
		t.Fatalf("a changed configuration was not tried at once")
	}
	if lb, _ := e.store.LoginBackoff(t.Context(), "mem"); lb.Refusals != 0 {
		t.Fatalf("backoff %+v after a successful log-in", lb)
	}
}

// Audio of unknown length (a source streaming without Content-Length) is
// spooled, so that storage, which refuses a chunked PUT, gets a length;
// nothing is left in the spool afterwards.
func TestUnknownLengthAudioIsSpooled(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, Config{Spool: spool.New(dir, 4096)})
	e.crk.SetBehaviour(fakecrk.Behaviour{})
	ids := addN(e, 3, 10_000)
	for _, id := range ids[:2] {
		e.conn.set(id, func(m *memRec) { m.unknownSize = true })
	}
	e.conn.set(ids[0], func(m *memRec) { m.audio.Size = 1000 }) // kept in memory
	if res := e.pass(); res.Synced != 3 {
		t.Fatalf("pass %+v", res)
	}
	e.checkAllOnce(ids...)
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Fatalf("%d files left in the spool", len(files))
	}
}

// A source answering 200 with a document that is not audio (a log-in page,
// a JSON or XML error) is never uploaded nor paid for: the recording waits
// as not ready, and is quarantined with the reason past the attempts.
func TestNotAudioIsNeverPaidFor(t *testing.T) {
	e := newEnv(t, Config{MaxAttempts: 2})
	ids := addN(e, 2, 3000)
	e.conn.set(ids[1], func(m *memRec) {
		m.openErr = nil
		m.body = []byte("<!DOCTYPE html><html><head><title>OrkTrack - Login</title></head>")
	})
	if res := e.pass(); res.Synced != 1 || res.Failed != 1 {
		t.Fatalf("pass %+v", res)
	}
	e.clock.Advance(5 * time.Minute)
	e.pass()
	r, _, _ := e.store.Get(t.Context(), "mem", ids[1])
	if !strings.Contains(r.Quarantined, "an HTML page") {
		t.Fatalf("record %+v, want quarantined saying what the source sent", r)
	}
	if got, ok := e.crk.Recording("b1", "mem-"+ids[1]); ok {
		t.Fatalf("a document reached CRK: %+v", got)
	}
	e.checkAllOnce(ids[0])
}

// A call whose source does not say its direction is sent as
// SYNCD_UNKNOWN_DIRECTION says, or held for a person.
func TestUnknownDirection(t *testing.T) {
	for _, setting := range []string{"", "in", "out", "quarantine"} {
		t.Run(setting, func(t *testing.T) {
			e := newEnv(t, Config{UnknownDirection: setting})
			ids := addN(e, 1, 500)
			e.conn.set(ids[0], func(m *memRec) { m.rec.Direction = "" })
			res := e.pass()
			got, ok := e.crk.Recording("b1", "mem-"+ids[0])
			switch setting {
			case "quarantine":
				if ok || res.Quarantined != 1 || !strings.Contains(res.Items[0].Quarantined, "direction") {
					t.Fatalf("pass %+v, at CRK %v", res, ok)
				}
			default:
				want := cmp.Or(setting, "in")
				if !ok || got.Direction != want {
					t.Fatalf("direction at CRK %q (%v), want %q", got.Direction, ok, want)
				}
			}
		})
	}
}

// Found by the simulation (seed 11): a retried record without a call time
// hid the other retried records from the window, and itself stayed
// pending for ever once the source stopped listing it.
func TestRetriedRecordWithoutACallTime(t *testing.T) {
	e := newEnv(t, Config{Lookback: time.Hour, MaxCall: time.Hour, MissingPasses: 2})
	now := e.clock.Now()
	e.conn.add("gone", now.Add(-30*time.Minute), 100, connectortest.Gone)
	e.conn.add("bad", now.Add(-20*time.Minute), 100, connectortest.Ready)
	e.conn.set("bad", func(m *memRec) {
		m.rec.CallAt = time.Time{}
		m.rec.Invalid = fmt.Errorf("timestamp %q: %w", "0000-00-00", connectors.ErrInvalid)
	})
	if res := e.pass(); res.Quarantined != 2 {
		t.Fatalf("first pass %+v", res)
	}
	for range 8 { // four hours: the cursor is far past both
		e.clock.Advance(30 * time.Minute)
		e.pass()
	}
	e.conn.set("gone", func(m *memRec) { m.state = connectortest.Ready })
	e.conn.mu.Lock()
	delete(e.conn.recs, "bad") // the source no longer lists the bad row
	e.conn.mu.Unlock()
	if n, _ := e.store.RetryQuarantined(t.Context(), state.Selection{}); n != 2 {
		t.Fatalf("retried %d", n)
	}
	for range 2 {
		e.clock.Advance(5 * time.Minute)
		e.pass()
	}
	e.checkAllOnce("gone")
	if r, _, _ := e.store.Get(t.Context(), "mem", "bad"); !strings.Contains(r.Quarantined, "has not listed") {
		t.Fatalf("the bad row: %+v, want quarantined again, visibly", r)
	}
}

// Found by the simulation (seed 2): a person's retry allows one request
// for processing; when that request's answer is lost too, syncd must not
// take the retry as leave to ask again.
func TestRetryAllowsOneRequest(t *testing.T) {
	e := newEnv(t, Config{PassTries: 1, Concurrency: 1, VerifyAttempts: 2})
	e.crk.SetBehaviour(fakecrk.Behaviour{ProcessingBefore: "pending", ProcessingAfter: "pending"})
	ids := addN(e, 2, 100)
	e.conn.set(ids[0], func(m *memRec) { m.state = connectortest.Gone })
	e.pass() // ids[0] quarantined as gone; ids[1] teaches the vocabulary
	e.conn.set(ids[0], func(m *memRec) { m.state = connectortest.Ready })
	if n, _ := e.store.RetryQuarantined(t.Context(), state.Selection{DataID: "mem-" + ids[0]}); n != 1 {
		t.Fatal("nothing retried")
	}
	e.crk.FailNextAfter(fakecrk.EndpointReextract, 500, 1) // CRK acts, then answers 500
	for range 4 {
		e.clock.Advance(5 * time.Minute)
		e.pass()
	}
	if got, _ := e.crk.Recording("b1", "mem-"+ids[0]); got.Reextracts != 1 {
		t.Fatalf("%d reextracts after one retry, want 1", got.Reextracts)
	}
	if r, _, _ := e.store.Get(t.Context(), "mem", ids[0]); !strings.Contains(r.Quarantined, "no proof yet") {
		t.Fatalf("record %+v, want quarantined for want of proof", r)
	}
}

// The last success means "listed the source and reached CRK": a pass with
// nothing to send still asks CRK once, and a refused token is no success.
func TestLastSuccessNeedsCRK(t *testing.T) {
	e := newEnv(t, Config{})
	e.pass() // nothing to send
	first, _ := e.store.Summary(t.Context(), "mem")
	if first.LastSuccess.IsZero() {
		t.Fatal("no last success after a clean empty pass")
	}
	e.clock.Advance(5 * time.Minute)
	e.crk.FailNextError(fakecrk.EndpointList, 401, "invalid_token", 1)
	if _, err := e.sy.Run(t.Context(), e.conn, nil); err == nil || !strings.Contains(err.Error(), "CRK did not answer") {
		t.Fatalf("pass with a refused token: %v", err)
	}
	if sum, _ := e.store.Summary(t.Context(), "mem"); !sum.LastSuccess.Equal(first.LastSuccess) {
		t.Fatalf("last success moved to %s with a refused token", sum.LastSuccess)
	}
}

// Found by the simulation (seed 1191): a first pass whose listing failed
// kept no floor, so the next attempt's backfill began later, and a call
// in between was never sent.
func TestFailedFirstPassKeepsWhereHistoryBegins(t *testing.T) {
	e := newEnv(t, Config{Backfill: 3 * time.Hour})
	start := e.clock.Now()
	e.conn.add("early", start.Add(-3*time.Hour+10*time.Minute), 300, connectortest.Ready)
	e.conn.failList = errors.New("portal answered 502 Bad Gateway")
	if _, err := e.sy.Run(t.Context(), e.conn, nil); err == nil {
		t.Fatal("the failing listing was not noticed")
	}
	e.conn.failList = nil
	e.clock.Advance(30 * time.Minute) // the backfill from now would miss "early"
	e.pass()
	e.checkAllOnce("early")
}
