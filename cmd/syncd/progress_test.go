package main

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/syncer"
)

// TestEstimateNeverDividesByZeroNorGoesNegative: for any counts and any
// elapsed time, the rate is finite and not negative, the ETA is within
// [0, maxETA], zero once all is handled, and ok only when something was
// handled in some time.
func TestEstimateNeverDividesByZeroNorGoesNegative(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	edges := []int{0, 1, -1, 1 << 30, -(1 << 30)}
	durations := []time.Duration{0, 1, -time.Second, time.Nanosecond, time.Hour, 1<<63 - 1, -1 << 63}
	pick := func() int {
		if r.IntN(4) == 0 {
			return edges[r.IntN(len(edges))]
		}
		return r.IntN(10_000) - 100
	}
	for range 100_000 {
		handled, total := pick(), pick()
		elapsed := time.Duration(r.Int64N(int64(24 * time.Hour)))
		if r.IntN(4) == 0 {
			elapsed = durations[r.IntN(len(durations))]
		}
		rate, eta, ok := estimate(handled, total, elapsed)
		if !ok {
			if rate != 0 || eta != 0 {
				t.Fatalf("estimate(%d, %d, %s) = %v, %s without ok", handled, total, elapsed, rate, eta)
			}
			if handled > 0 && elapsed > 0 {
				t.Fatalf("estimate(%d, %d, %s) not ok", handled, total, elapsed)
			}
			continue
		}
		if handled <= 0 || elapsed <= 0 {
			t.Fatalf("estimate(%d, %d, %s) ok with nothing to go by", handled, total, elapsed)
		}
		if !(rate > 0) || rate != rate || rate > 1e300 {
			t.Fatalf("estimate(%d, %d, %s): rate %v", handled, total, elapsed, rate)
		}
		if eta < 0 || eta > maxETA {
			t.Fatalf("estimate(%d, %d, %s): ETA %s", handled, total, elapsed, eta)
		}
		if handled >= total && eta != 0 {
			t.Fatalf("estimate(%d, %d, %s): ETA %s with everything handled", handled, total, elapsed, eta)
		}
	}
	// The arithmetic itself: 120 of 400 in 57 s is 2.1/s, 280 left take 2m13s.
	rate, eta, ok := estimate(120, 400, 57*time.Second)
	if !ok || eta != 133*time.Second || rate < 2.1 || rate > 2.11 {
		t.Fatalf("estimate(120, 400, 57s) = %v, %s, %v", rate, eta, ok)
	}
}

// clock is a settable clock for the tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration)     { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock(t time.Time) *clock        { return &clock{t: t} }
func noNext() time.Time                  { return time.Time{} }
func logTo(b *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// TestPassesLineLogAndStatus follows one pass from its start to its end
// on a fake clock: the line systemd shows, the log line, the page's view.
func TestPassesLineLogAndStatus(t *testing.T) {
	c := newClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	ps := newPasses(c.now)
	var logs bytes.Buffer
	log := logTo(&logs)
	next := func() time.Time { return time.Date(2026, 3, 1, 9, 5, 0, 0, time.UTC) }

	if got := ps.tick(log, next); got != "idle; next pass at 09:05:00 UTC" {
		t.Fatalf("before any pass: %q", got)
	}
	ps.report(syncer.Progress{})               // an HTTP answer: no counts
	ps.report(syncer.Progress{Source: "dtac"}) // the pass starts, listing
	if got := ps.tick(log, next); got != "dtac: listing" {
		t.Fatalf("listing: %q", got)
	}
	c.add(3 * time.Second)
	ps.report(syncer.Progress{Source: "dtac", Planned: true, Total: 400})
	ps.report(syncer.Progress{Source: "3cx", Planned: true, Total: 0})
	c.add(57 * time.Second)
	ps.report(syncer.Progress{Source: "dtac", Planned: true, Total: 400, Done: 118, Quarantined: 2, Bytes: 1 << 20})
	want := "3cx: 0/0 sent; dtac: 118/400 sent, 2 quarantined, 2.1/s, ETA 2m13s"
	if got := ps.tick(log, next); got != want {
		t.Fatalf("STATUS=%q, want %q", got, want)
	}
	if l := logs.String(); !strings.Contains(l, `msg="pass in progress" source=dtac planned=true total=400 sent=118 quarantined=2 failed=0 bytes=1048576 running=1m0s perSecond=2.11 eta=2m13s`) {
		t.Fatalf("log:\n%s", l)
	}
	v := ps.snapshot()["dtac"]
	if !v.running() || v.Last != nil {
		t.Fatalf("in flight: %+v", v)
	}
	c.add(time.Minute)
	ps.report(syncer.Progress{Source: "dtac", Planned: true, Total: 400, Done: 398, Quarantined: 2, Ended: true})
	ps.report(syncer.Progress{Source: "3cx", Planned: true, Ended: true})
	logs.Reset()
	if got := ps.tick(log, next); got != "idle; next pass at 09:05:00 UTC" || logs.Len() != 0 {
		t.Fatalf("after the passes: %q, log %q", got, logs.String())
	}
	// The next pass keeps the last one for the page.
	c.add(time.Minute)
	ps.report(syncer.Progress{Source: "dtac"})
	v = ps.snapshot()["dtac"]
	if !v.running() || v.Last == nil || v.Last.Done != 398 || v.Last.Ended.Sub(v.Last.Started) != 2*time.Minute {
		t.Fatalf("second pass: %+v, last %+v", v, v.Last)
	}
	if got := ps.tick(log, noNext); got != "dtac: listing" {
		t.Fatalf("second pass: %q", got)
	}
}

// TestProgressReachesSystemd: the ticker sends STATUS= through
// NOTIFY_SOCKET, as systemd reads it.
func TestProgressReachesSystemd(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	c := newClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	ps := newPasses(c.now)
	ps.report(syncer.Progress{Source: "dtac", Planned: true, Total: 10})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { ps.run(ctx, time.Millisecond, slog.New(slog.DiscardHandler), noNext) })
	defer wg.Wait()
	defer cancel()
	buf := make([]byte, 256)
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := conn.Read(buf)
	if err != nil || string(buf[:n]) != "STATUS=dtac: 0/10 sent" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
}
