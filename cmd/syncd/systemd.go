package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"github.com/robfig/cron/v3"
)

// notify sends one sd_notify state to systemd (READY=1, STOPPING=1, …).
// Outside systemd (no NOTIFY_SOCKET) it does nothing.
func notify(log *slog.Logger, state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		log.Warn("telling systemd failed", "state", state, "err", err)
	}
}

// watchdog pings systemd's watchdog (WatchdogSec=) only while the daemon
// is really alive: the scheduler answers, and a pass in flight has moved
// (listed, recorded a step, sent audio bytes) within the watchdog
// interval. A stuck pass therefore stops the pings, and systemd restarts
// the service; a restart resumes every recording at its recorded step.
type watchdog struct {
	interval time.Duration
	now      func() time.Time
	running  atomic.Int32 // passes in flight
	last     atomic.Int64 // unix nanoseconds of the last progress
}

func newWatchdog(interval time.Duration, now func() time.Time) *watchdog {
	w := &watchdog{interval: interval, now: now}
	w.progress()
	return w
}

func (w *watchdog) progress()    { w.last.Store(w.now().UnixNano()) }
func (w *watchdog) passStarted() { w.progress(); w.running.Add(1) }
func (w *watchdog) passEnded()   { w.running.Add(-1) }

// check says why the daemon must not be reported alive, or nil.
func (w *watchdog) check(schedulerAlive func() error) error {
	if err := schedulerAlive(); err != nil {
		return err
	}
	if w.running.Load() > 0 {
		if idle := w.now().Sub(time.Unix(0, w.last.Load())); idle > w.interval {
			return fmt.Errorf("the pass in flight has made no progress for %s (the watchdog allows %s)", readable(idle), readable(w.interval))
		}
	}
	return nil
}

// run pings every third of the interval while check passes, until ctx ends.
func (w *watchdog) run(ctx context.Context, log *slog.Logger, schedulerAlive func() error) {
	t := time.NewTicker(w.interval / 3)
	defer t.Stop()
	withheld := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := w.check(schedulerAlive); err != nil {
			if !withheld {
				log.Error("not pinging the systemd watchdog: systemd will restart syncd", "err", err)
			}
			withheld = true
			continue
		}
		withheld = false
		notify(log, sd.SdNotifyWatchdog)
	}
}

// cronAlive asks the scheduler's loop for its entries: a loop that is
// wedged does not answer.
func cronAlive(c *cron.Cron) func() error {
	return func() error {
		done := make(chan struct{})
		go func() { c.Entries(); close(done) }()
		select {
		case <-done:
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("the scheduler does not answer")
		}
	}
}

// readable rounds d for people without hiding it: whole seconds from a
// minute up, milliseconds below (a sub-second watchdog must not read "0s").
func readable(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
