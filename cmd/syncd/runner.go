package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// passRunner runs the daemon's passes one at a time, on a context of its
// own (hard) that outlives the daemon's by a grace period, and stops them:
// Stop tells the pass in flight to drain (start no new recording; syncer
// watches draining), waits for it for the grace period, then cancels hard
// (uploads in flight stop and resume at their recorded step next time),
// and waits a little more. A pass that ignores even that is abandoned:
// Stop returns anyway.
type passRunner struct {
	pass     func(hard context.Context, draining <-chan struct{})
	log      *slog.Logger
	hard     context.Context
	cancel   context.CancelFunc
	draining chan struct{} // closed by Stop
	// busy is held by the pass in flight, and by Stop once no pass is
	// (so that none starts after it).
	busy    chan struct{}
	stopped bool // the result of the first Stop
	once    sync.Once
}

// newPassRunner returns a runner of pass whose hard context carries
// parent's values but not its cancellation.
func newPassRunner(parent context.Context, log *slog.Logger, pass func(hard context.Context, draining <-chan struct{})) *passRunner {
	hard, cancel := context.WithCancel(context.WithoutCancel(parent))
	return &passRunner{pass: pass, log: log, hard: hard, cancel: cancel,
		draining: make(chan struct{}), busy: make(chan struct{}, 1)}
}

// Run runs a pass, after the one in flight if there is one; once Stop is
// called it runs none.
func (r *passRunner) Run() {
	select {
	case <-r.draining:
		return
	case r.busy <- struct{}{}:
	}
	defer func() { <-r.busy }()
	select {
	case <-r.draining:
		return // Stop came while this waited for the previous pass
	default:
	}
	r.pass(r.hard, r.draining)
}

// Stop stops the pass in flight, if any, within grace plus wait (see
// passRunner), and keeps any other from starting. It reports whether the
// pass returned; later calls report the same at once.
func (r *passRunner) Stop(grace, wait time.Duration) bool {
	r.once.Do(func() {
		close(r.draining)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case r.busy <- struct{}{}:
			r.stopped = true
			return
		case <-t.C:
		}
		r.log.Warn("grace period over: cancelling uploads in flight; they resume at the step recorded")
		r.cancel()
		t.Reset(wait)
		select {
		case r.busy <- struct{}{}:
			r.stopped = true
		case <-t.C:
			r.log.Error("the pass in flight did not stop when cancelled: exiting without waiting for it", "waited", grace+wait)
		}
	})
	return r.stopped
}
