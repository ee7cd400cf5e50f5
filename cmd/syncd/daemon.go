package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"github.com/robfig/cron/v3"

	"github.com/crkai/syncd/internal/alert"
	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/state"
	"github.com/crkai/syncd/internal/syncer"
)

// shutdownGrace is how long in-flight uploads may go on after SIGTERM.
const shutdownGrace = 25 * time.Second

// stopWait bounds each step of stopping after the grace period: waiting
// for a cancelled pass to return, the listener's shutdown, closing the
// state file. Stopping never takes much longer than shutdownGrace plus
// these (systemd's TimeoutStopSec=45s; Docker's stop_grace_period: 40s).
const stopWait = 3 * time.Second

// daemon is plain `syncd`: a pass at start, then one on every tick of
// SYNCD_SCHEDULE, until SIGTERM/SIGINT.
func daemon(ctx context.Context, cfg *config.Config, log *slog.Logger, stderr io.Writer) int {
	return runDaemon(ctx, cfg, log, stderr, shutdownGrace)
}

// runDaemon is daemon with the grace period given after a signal. It
// reads as the daemon's life: open what it needs, schedule the passes,
// wait for a signal (or a damaged state file), stop.
func runDaemon(ctx context.Context, cfg *config.Config, log *slog.Logger, stderr io.Writer, grace time.Duration) int {
	d := &daemonRun{cfg: cfg, log: log, corrupt: make(chan error, 1)}
	defer d.release()
	if err := d.open(ctx); err != nil {
		return d.fail(stderr, err)
	}
	if err := d.schedule(ctx); err != nil {
		return d.fail(stderr, err)
	}
	code := d.wait(ctx, stderr)
	d.stop(grace)
	return code
}

// daemonRun is one run of the daemon: what it opened, and what undoes it.
type daemonRun struct {
	cfg *config.Config
	log *slog.Logger

	app    *app
	health *health
	passes *passes
	ep     *endpoints
	srv    *http.Server // nil without SYNCD_LISTEN_ADDR
	store  *state.Store
	closed bool // stop closed the store
	wd     *watchdog
	wdOn   bool // systemd asked for watchdog pings
	sy     *syncer.Syncer
	al     *alert.Alerter
	runner *passRunner
	sched  *cron.Cron
	// corrupt carries the error of a pass that found the state file
	// damaged: the store refuses everything from then on, and the operator
	// must move the file aside (the error says so).
	corrupt chan error
	// undo are run by release, last first.
	undo []func()
}

// exitError is a step's failure and the exit code it means.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func (d *daemonRun) fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "syncd: %v\n", err)
	if e := (*exitError)(nil); errors.As(err, &e) {
		return e.code
	}
	return exitFailed
}

// open builds the app, starts the listener, opens the state file and its
// control socket, and builds the syncer and the alerter.
func (d *daemonRun) open(ctx context.Context) error {
	reg := newRegistry()
	a, err := newApp(d.cfg, d.log, reg)
	if err != nil {
		return &exitError{exitConfig, err}
	}
	d.app = a
	d.health = newHealth(d.cfg.UnhealthyAfter)
	d.passes = newPasses(time.Now)
	d.ep = &endpoints{cfg: d.cfg, log: d.log, reg: reg, health: d.health, passes: d.passes, now: time.Now}
	if d.cfg.ListenAddr != "" {
		if d.srv, err = listen(d.cfg, newMux(d.ep), d.log); err != nil {
			return &exitError{exitFailed, fmt.Errorf("SYNCD_LISTEN_ADDR: %w", err)}
		}
	}
	store, err := state.Open(ctx, d.cfg.StatePath, state.Options{Timeout: 5 * time.Second})
	if err != nil {
		return &exitError{exitFailed, err}
	}
	d.store = store
	d.undo = append(d.undo, func() {
		if !d.closed {
			d.store.Close()
		}
	})
	// -retry-quarantined while the daemon holds the file (control.go).
	d.undo = append(d.undo, serveControl(ctx, store, d.cfg.StatePath, d.log))
	d.health.setReady()
	wdInterval, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		d.log.Warn("reading systemd's watchdog settings failed", "err", err)
	}
	// Without a systemd watchdog the pings are off; progress is still kept.
	d.wd, d.wdOn = newWatchdog(cmp.Or(wdInterval, time.Minute), time.Now), wdInterval > 0
	d.ep.store.Store(store)
	d.sy = a.syncer(store, reg, func(p syncer.Progress) { d.wd.progress(); d.passes.report(p) })
	if d.al, err = a.alerter(store, reg); err != nil {
		return &exitError{exitConfig, err}
	}
	return nil
}

// pass is one pass of every source, as the runner runs it.
func (d *daemonRun) pass(hard context.Context, draining <-chan struct{}) {
	d.wd.passStarted()
	defer d.wd.passEnded()
	results := passAll(hard, d.sy, d.app.sources, draining, d.log)
	for _, r := range results {
		if errors.Is(r.Err, state.ErrCorrupt) {
			select {
			case d.corrupt <- r.Err:
			default:
			}
		}
	}
	d.health.record(afterPasses(hard, d.store, d.al, results, d.log))
	// Idle until the next tick: hand the pass's garbage back to the OS
	// rather than sit on it (a pass allocates in proportion to its
	// listing; the daemon idles most of the time).
	debug.FreeOSMemory()
}

// schedule starts the passes: one now, then one on every tick of
// SYNCD_SCHEDULE, all through the runner, which stops them on SIGTERM (it
// lets uploads in flight finish for the grace period, then cancels them).
// It also starts the watchdog's pings and the progress lines.
func (d *daemonRun) schedule(ctx context.Context) error {
	d.runner = newPassRunner(ctx, d.log, d.pass)
	d.undo = append(d.undo, d.runner.cancel)
	cl := cronLogger{d.log}
	job := cron.NewChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)).Then(cron.FuncJob(d.runner.Run))
	d.sched = cron.New(cron.WithLocation(d.cfg.Location), cron.WithParser(config.CronParser()), cron.WithLogger(cl))
	if _, err := d.sched.AddJob(d.cfg.Schedule, job); err != nil {
		return &exitError{exitConfig, fmt.Errorf("SYNCD_SCHEDULE: %w", err)}
	}
	d.sched.Start()
	d.ep.sched.Store(d.sched)
	d.health.setRunning(true)
	d.log.Info("syncd started", "version", buildVersion(), "sources", d.cfg.Sources(), "schedule", d.cfg.Schedule, "state", d.cfg.StatePath)
	notify(d.log, sd.SdNotifyReady)
	if d.wdOn {
		wctx, stopWD := context.WithCancel(ctx)
		d.undo = append(d.undo, stopWD)
		go d.wd.run(wctx, d.log, cronAlive(d.sched))
	}
	// Progress lines and systemd's STATUS= go on while passes drain.
	pctx, stopProgress := context.WithCancel(context.WithoutCancel(ctx))
	d.undo = append(d.undo, stopProgress)
	go d.passes.run(pctx, progressEvery, d.log, d.ep.next)
	go job.Run()
	return nil
}

// wait waits for the signal, or for a pass to find the state file
// damaged, and returns the exit code that means.
func (d *daemonRun) wait(ctx context.Context, stderr io.Writer) int {
	select {
	case <-ctx.Done():
		return exitOK
	case err := <-d.corrupt:
		d.log.Error("stopping: the state file is damaged", "err", err)
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
}

// stop stops the daemon within grace plus a few stopWaits. From the signal
// on, the grace period runs, whoever started the pass in flight. cron's
// Stop is not waited for: it would wait for the pass it started, however
// long that takes.
func (d *daemonRun) stop(grace time.Duration) {
	d.health.setRunning(false)
	notify(d.log, sd.SdNotifyStopping)
	d.log.Info("stopping: letting passes in flight finish", "grace", grace)
	d.sched.Stop()
	stopped := d.runner.Stop(grace, stopWait)
	if d.srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), stopWait)
		defer cancel()
		_ = d.srv.Shutdown(sctx)
	}
	d.closed = true
	if stopped {
		if err := d.store.Close(); err != nil {
			d.log.Warn("closing the state file failed", "err", err)
		}
	} else {
		closeWithin(d.store, stopWait, d.log)
	}
	d.log.Info("syncd stopped")
}

// release undoes what open and schedule did, last first.
func (d *daemonRun) release() {
	for i := len(d.undo) - 1; i >= 0; i-- {
		d.undo[i]()
	}
}

// closeWithin closes the state file, but waits at most d for it: a pass
// that did not stop may hold a transaction open. Everything committed is
// on disk already, and the file's lock ends with the process.
func closeWithin(store *state.Store, d time.Duration, log *slog.Logger) {
	done := make(chan error, 1)
	go func() { done <- store.Close() }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			log.Warn("closing the state file failed", "err", err)
		}
	case <-t.C:
		log.Warn("the state file is still in use by the pass that did not stop: exiting without closing it (every step recorded is on disk)")
	}
}

// cronLogger lets robfig/cron log through slog: its chatter at debug, a
// skipped tick at warn, a recovered panic at error.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" {
		c.l.Warn("the previous pass is still running: this tick is skipped")
		return
	}
	c.l.Debug("cron: "+msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}

// listenerIdle is how long the listener keeps an idle keep-alive
// connection.
const listenerIdle = 2 * time.Minute

// newHTTPServer is the listener's server. A client that sends one request
// and then idles, or sends its request slowly, must not hold a connection
// and its file descriptor for ever: the listener may face a whole network
// (a container listening on all interfaces).
func newHTTPServer(h http.Handler, idle time.Duration) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: idle, MaxHeaderBytes: 64 << 10}
}
