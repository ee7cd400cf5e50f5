package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/crkai/syncd/internal/syncer"
)

// progressEvery is how often a pass in flight logs its progress and tells
// systemd (STATUS=).
const progressEvery = 30 * time.Second

// passes keeps what the daemon's passes report (syncer.Config.Progress):
// the pass of each source in flight, and the last one that ended. The
// status page shows it; a ticker logs it and tells systemd.
type passes struct {
	now     func() time.Time
	mu      sync.Mutex
	sources map[string]*passView
}

// passView is one source's pass as the page and the log show it.
type passView struct {
	syncer.Progress
	Started time.Time // when the pass began
	// Sending is when the plan was made (Planned): the rate counts from
	// there, not from the listing.
	Sending time.Time
	Ended   time.Time // zero while the pass runs
	// Last is the source's previous pass that ended, if any; nil before.
	Last *passView
}

func newPasses(now func() time.Time) *passes {
	return &passes{now: now, sources: map[string]*passView{}}
}

// report is syncer.Config.Progress.
func (ps *passes) report(p syncer.Progress) {
	if p.Source == "" {
		return
	}
	now := ps.now()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	v := ps.sources[p.Source]
	if v == nil || !v.Ended.IsZero() {
		// A new pass: keep the previous one's end for the page.
		nv := &passView{Started: now}
		if v != nil {
			v.Last = nil
			nv.Last = v
		}
		v = nv
		ps.sources[p.Source] = v
	}
	if p.Planned && !v.Planned {
		v.Sending = now
	}
	v.Progress = p
	if p.Ended {
		v.Ended = now
	}
}

// snapshot is a copy of every source's pass, by source name.
func (ps *passes) snapshot() map[string]passView {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := make(map[string]passView, len(ps.sources))
	for name, v := range ps.sources {
		c := *v
		if v.Last != nil {
			last := *v.Last
			c.Last = &last
		}
		out[name] = c
	}
	return out
}

// running is whether the pass is in flight.
func (v passView) running() bool { return !v.Started.IsZero() && v.Ended.IsZero() }

// maxETA bounds an estimate: a rate of one recording a year is no rate.
const maxETA = 100 * 365 * 24 * time.Hour

// estimate is the rate (recordings handled a second) and the time left at
// that rate, after handled of total in elapsed. ok is false when there is
// nothing to go by yet (nothing handled, no time passed); the ETA is never
// negative, and zero once everything is handled.
func estimate(handled, total int, elapsed time.Duration) (rate float64, eta time.Duration, ok bool) {
	if handled <= 0 || elapsed <= 0 {
		return 0, 0, false
	}
	rate = float64(handled) / elapsed.Seconds()
	left := total - handled
	if left <= 0 {
		return rate, 0, true
	}
	secs := float64(left) / rate
	if secs >= maxETA.Seconds() {
		return rate, maxETA, true
	}
	return rate, time.Duration(secs * float64(time.Second)).Round(time.Second), true
}

// line says how far v's pass is, for the log, STATUS= and the page:
// "dtac: 120/400 sent, 2.1/s, ETA 2m13s".
func (v passView) line(name string, now time.Time) string {
	if !v.Planned {
		return name + ": listing"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d/%d sent", name, v.Done, v.Total)
	if v.Quarantined > 0 {
		fmt.Fprintf(&b, ", %d quarantined", v.Quarantined)
	}
	if v.Failed > 0 {
		fmt.Fprintf(&b, ", %d failed", v.Failed)
	}
	if rate, eta, ok := estimate(v.Handled(), v.Total, now.Sub(v.Sending)); ok {
		fmt.Fprintf(&b, ", %.1f/s, ETA %s", rate, eta)
	}
	return b.String()
}

// tick logs one line for each pass in flight and returns what systemd's
// STATUS= should say: the passes in flight, or that syncd is idle.
func (ps *passes) tick(log *slog.Logger, next func() time.Time) string {
	now := ps.now()
	snap := ps.snapshot()
	var parts []string
	for _, name := range sortedKeys(snap) {
		v := snap[name]
		if !v.running() {
			continue
		}
		parts = append(parts, v.line(name, now))
		attrs := []any{"source", name, "planned", v.Planned, "total", v.Total, "sent", v.Done,
			"quarantined", v.Quarantined, "failed", v.Failed, "bytes", v.Bytes, "running", now.Sub(v.Started)}
		if rate, eta, ok := estimate(v.Handled(), v.Total, now.Sub(v.Sending)); ok && v.Planned {
			attrs = append(attrs, "perSecond", math.Round(rate*100)/100, "eta", eta)
		}
		log.Info("pass in progress", attrs...)
	}
	if len(parts) > 0 {
		return strings.Join(parts, "; ")
	}
	if n := next(); !n.IsZero() {
		return "idle; next pass at " + n.Format("15:04:05 MST")
	}
	return "idle"
}

// run ticks every d until ctx ends, telling systemd each time. Outside
// systemd the STATUS= line goes nowhere; the log lines are written anyway.
func (ps *passes) run(ctx context.Context, d time.Duration, log *slog.Logger, next func() time.Time) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		notify(log, "STATUS="+ps.tick(log, next))
	}
}
