package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/fake/fakedtac"
	"github.com/crkai/syncd/internal/fake/fakelog"
	"github.com/crkai/syncd/internal/state"
)

// Stopping: SIGTERM lets the pass in flight drain for the grace period,
// then cancels it, and the daemon exits within the grace period plus a
// few seconds, whoever started the pass (the start or a cron tick) and
// whatever it waits on.

const (
	testGrace = 200 * time.Millisecond
	// slack is what the clock of a loaded machine (or -race) may add.
	slack = time.Second
)

// exhausted is a rate limiter with no token left and the next one an hour
// away, as the CRK limiter is when a pass has used its budget.
func exhausted() *rate.Limiter {
	l := rate.NewLimiter(rate.Every(time.Hour), 1)
	l.Allow()
	return l
}

// stopWithin calls r.Stop(testGrace, wait) and checks that it returned
// after at least min and within max.
func stopWithin(t *testing.T, r *passRunner, wait, min, max time.Duration) bool {
	t.Helper()
	start := time.Now()
	ok := r.Stop(testGrace, wait)
	if took := time.Since(start); took < min || took > max {
		t.Errorf("Stop took %s, want %s to %s", took.Round(time.Millisecond), min, max)
	}
	return ok
}

func TestPassRunnerCancelsAPassBlockedOnTheRateLimiterWhenTheGraceIsOver(t *testing.T) {
	started, result := make(chan struct{}), make(chan error, 1)
	r := newPassRunner(t.Context(), slog.New(slog.NewTextHandler(io.Discard, nil)), func(hard context.Context, _ <-chan struct{}) {
		close(started)
		result <- exhausted().Wait(hard) // deaf to draining, as a request in flight is
	})
	go r.Run()
	<-started
	if !stopWithin(t, r, time.Minute, testGrace, testGrace+slack) {
		t.Fatal("Stop says the pass did not return")
	}
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Fatalf("the pass's wait ended with %v, want context.Canceled", err)
	}
}

func TestPassRunnerWaitsForADrainingPassWithoutCancellingIt(t *testing.T) {
	started, result := make(chan struct{}), make(chan error, 1)
	r := newPassRunner(t.Context(), slog.New(slog.NewTextHandler(io.Discard, nil)), func(hard context.Context, draining <-chan struct{}) {
		close(started)
		select {
		case <-draining:
		case <-hard.Done():
		}
		result <- hard.Err()
	})
	go r.Run()
	<-started
	if !stopWithin(t, r, time.Minute, 0, slack) {
		t.Fatal("Stop says the pass did not return")
	}
	if err := <-result; err != nil {
		t.Fatalf("a pass that drained in time was cancelled: %v", err)
	}
}

func TestPassRunnerAbandonsAPassThatIgnoresCancellation(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	r := newPassRunner(t.Context(), slog.New(slog.NewTextHandler(io.Discard, nil)), func(context.Context, <-chan struct{}) {
		close(started)
		<-release
	})
	go r.Run()
	<-started
	const wait = 300 * time.Millisecond
	if stopWithin(t, r, wait, testGrace+wait, testGrace+wait+slack) {
		t.Fatal("Stop says a pass that never returned did")
	}
	start := time.Now()
	if r.Stop(testGrace, wait) || time.Since(start) > slack {
		t.Fatal("a second Stop did not answer the same at once")
	}
}

func TestPassRunnerStartsNoPassAfterStop(t *testing.T) {
	var mu sync.Mutex
	passes := 0
	first := make(chan struct{})
	r := newPassRunner(t.Context(), slog.New(slog.NewTextHandler(io.Discard, nil)), func(hard context.Context, _ <-chan struct{}) {
		mu.Lock()
		passes++
		n := passes
		mu.Unlock()
		if n == 1 {
			close(first)
			<-hard.Done()
		}
	})
	done := make(chan struct{}, 2)
	go func() { r.Run(); done <- struct{}{} }()
	<-first
	go func() { r.Run(); done <- struct{}{} }() // waits behind the first, or sees the stop
	if !stopWithin(t, r, time.Minute, testGrace, testGrace+slack) {
		t.Fatal("Stop says the pass did not return")
	}
	<-done
	<-done
	r.Run() // after Stop: returns at once
	mu.Lock()
	defer mu.Unlock()
	if passes != 1 {
		t.Fatalf("%d passes ran, want 1", passes)
	}
}

// TestSIGTERMDuringAScheduledPass runs the daemon against the fakes. The
// pass at start finds nothing; recordings then arrive, and the pass of the
// next cron tick sends them at the CRK rate limit, one request every 10 s:
// once it has created one, it is in flight, waiting on the limiter. On the
// signal, /healthz at once says the scheduler is not running, and the
// daemon exits once the grace period is over, cancelling the wait (it
// used to wait for cron's pass to end, a minute for these five, before
// the grace period even began).
func TestSIGTERMDuringAScheduledPass(t *testing.T) {
	f := newFakes(t, 0)
	addr := freeAddr(t)
	env := f.with("SYNCD_LISTEN_ADDR", addr, "SYNCD_SCHEDULE", "@every 1s", "CRK_RATE_LIMIT", "6")
	cfg, err := config.Load(t.Context(), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	var logs fakelog.Buffer
	const grace = 2 * time.Second
	ctx, signal := context.WithCancel(t.Context())
	defer signal()
	exited := make(chan int, 1)
	go func() { exited <- runDaemon(ctx, cfg, newLogger(cfg, &logs), io.Discard, grace) }()
	base := "http://" + addr
	const listing = "/orktrack/rest/recordings"

	waitFor(t, "the pass at start", func() bool { return strings.Contains(logs.String(), "pass done") })
	listed := f.dtac.Requests(listing)
	now := time.Now().UTC().Truncate(time.Second)
	for i := range 5 {
		f.dtac.Add(fakedtac.Recording{
			ID: int64(5000 + i), Timestamp: now.Add(-time.Hour + time.Duration(i)*time.Minute), Duration: 30,
			LocalParty: "+66898765432", RemoteParty: "0812345678", Direction: "IN", Audio: fakeaudio.Audio{Seed: uint64(i), Size: 1000},
		})
	}
	waitFor(t, "a scheduled pass listing them", func() bool { return f.dtac.Requests(listing) > listed })
	waitFor(t, "the pass creating one", func() bool { return f.crk.Count(fakecrk.EndpointCreate) > 0 })
	if c, body := get(t, base+"/healthz"); c != 200 || !strings.Contains(body, `"schedulerRunning":true`) {
		t.Fatalf("/healthz during the pass: %d %s", c, body)
	}

	signal()
	sent := time.Now()
	waitFor(t, "/healthz to say the scheduler stopped", func() bool {
		_, body := get(t, base+"/healthz")
		return strings.Contains(body, `"schedulerRunning":false`)
	})
	if seen := time.Since(sent); seen > grace/2 {
		t.Errorf("/healthz said the scheduler stopped %s after the signal, want at once", seen.Round(time.Millisecond))
	}
	select {
	case code := <-exited:
		t.Fatalf("the daemon exited (%d) before the grace period was over:\n%s", code, logs.String())
	default:
	}
	code := <-exited
	took := time.Since(sent)
	if code != exitOK || took < grace || took > grace+slack {
		t.Fatalf("exit %d %s after the signal, want 0 after %s to %s:\n%s", code, took.Round(time.Millisecond), grace, grace+slack, logs.String())
	}
	for _, want := range []string{"grace period over", "syncd stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs.String())
		}
	}
}

// TestDamagedStateFileStopsTheDaemon: the state file is cut short under
// the running daemon. The next pass meets it (bbolt reads past the end of
// the file: SIGBUS, which used to kill the process in bbolt's batch
// goroutine) and the daemon stops with exit 1 and the error that says to
// move the file aside, rather than go on with a store that refuses
// everything.
func TestDamagedStateFileStopsTheDaemon(t *testing.T) {
	f := newFakes(t, 2)
	env := f.with("SYNCD_SCHEDULE", "@every 1s")
	cfg, err := config.Load(t.Context(), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	var logs fakelog.Buffer
	var stderr strings.Builder
	exited := make(chan int, 1)
	go func() { exited <- runDaemon(t.Context(), cfg, newLogger(cfg, &logs), &stderr, 2*time.Second) }()
	waitFor(t, "the pass at start", func() bool { return strings.Contains(logs.String(), "pass done") })
	if err := os.Truncate(cfg.StatePath, 3*int64(os.Getpagesize())); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exited:
		if code != exitFailed {
			t.Fatalf("exit %d, want 1:\n%s", code, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the daemon did not stop:\n%s", logs.String())
	}
	if want := "state file " + cfg.StatePath + " is corrupt ("; !strings.Contains(stderr.String(), want) ||
		!strings.Contains(stderr.String(), "move it aside") {
		t.Fatalf("stderr %q, want it to say %q… move it aside", stderr.String(), want)
	}
}

// A pass drained by a stop before it started its recordings says so, with
// how many are left, instead of "pass done" over counts that do not add
// up.
func TestDrainedPassSaysWhatIsLeft(t *testing.T) {
	f := newFakes(t, 3)
	ctx := t.Context()
	cfg, err := config.Load(ctx, func(k string) (string, bool) { v, ok := f.env[k]; return v, ok }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	var logs fakelog.Buffer
	log := newLogger(cfg, &logs)
	a, err := newApp(cfg, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := state.Open(ctx, cfg.StatePath, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	draining := make(chan struct{})
	close(draining)
	results := passAll(ctx, a.syncer(store, nil, nil), a.sources, draining, log)
	if len(results) != 1 || results[0].Err != nil || results[0].New != 3 || results[0].Synced != 0 {
		t.Fatalf("a drained pass: %+v", results)
	}
	if got := logs.String(); !strings.Contains(got, "pass stopped early: syncd is stopping") || !strings.Contains(got, "left=3") ||
		strings.Contains(got, "pass done") {
		t.Fatalf("the log of a drained pass:\n%s", got)
	}
}
