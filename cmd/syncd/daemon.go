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

// runDaemon is daemon with the grace period given after a signal.
func runDaemon(ctx context.Context, cfg *config.Config, log *slog.Logger, stderr io.Writer, grace time.Duration) int {
	reg := newRegistry()
	a, err := newApp(cfg, log, reg)
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitConfig
	}
	h := newHealth(cfg.UnhealthyAfter)
	ps := newPasses(time.Now)
	ep := &endpoints{cfg: cfg, log: log, reg: reg, health: h, passes: ps, now: time.Now}
	var srv *http.Server
	if cfg.ListenAddr != "" {
		if srv, err = listen(cfg, newMux(ep), log); err != nil {
			fmt.Fprintf(stderr, "syncd: SYNCD_LISTEN_ADDR: %v\n", err)
			return exitFailed
		}
	}
	store, err := state.Open(ctx, cfg.StatePath, state.Options{Timeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	storeOpen := true
	defer func() {
		if storeOpen {
			store.Close()
		}
	}()
	// -retry-quarantined while the daemon holds the file (control.go).
	defer serveControl(ctx, store, cfg.StatePath, log)()
	h.setReady()
	wdInterval, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("reading systemd's watchdog settings failed", "err", err)
	}
	// Without a systemd watchdog the pings are off; progress is still kept.
	wd := newWatchdog(cmp.Or(wdInterval, time.Minute), time.Now)
	ep.store.Store(store)
	sy := a.syncer(store, reg, func(p syncer.Progress) { wd.progress(); ps.report(p) })
	al, err := a.alerter(store, reg)
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitConfig
	}

	// A pass that finds the state file damaged stops the daemon: the store
	// refuses everything from then on, and the operator must move the file
	// aside (the error says so).
	corrupt := make(chan error, 1)
	// Passes, the one at start and cron's, run through runner, which
	// stops them on SIGTERM: it lets uploads in flight finish for the
	// grace period, then cancels them.
	runner := newPassRunner(ctx, log, func(hard context.Context, draining <-chan struct{}) {
		wd.passStarted()
		defer wd.passEnded()
		results := passAll(hard, sy, a.sources, draining, log)
		for _, r := range results {
			if errors.Is(r.Err, state.ErrCorrupt) {
				select {
				case corrupt <- r.Err:
				default:
				}
			}
		}
		h.record(afterPasses(hard, store, al, results, log))
		// Idle until the next tick: hand the pass's garbage back to the OS
		// rather than sit on it (a pass allocates in proportion to its
		// listing; the daemon idles most of the time).
		debug.FreeOSMemory()
	})
	defer runner.cancel()
	cl := cronLogger{log}
	job := cron.NewChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)).Then(cron.FuncJob(runner.Run))
	sched := cron.New(cron.WithLocation(cfg.Location), cron.WithParser(config.CronParser()), cron.WithLogger(cl))
	if _, err := sched.AddJob(cfg.Schedule, job); err != nil {
		fmt.Fprintf(stderr, "syncd: SYNCD_SCHEDULE: %v\n", err)
		return exitConfig
	}
	sched.Start()
	ep.sched.Store(sched)
	h.setRunning(true)
	log.Info("syncd started", "version", version, "sources", cfg.Sources(), "schedule", cfg.Schedule, "state", cfg.StatePath)
	notify(log, sd.SdNotifyReady)
	if wdInterval > 0 {
		wctx, stopWD := context.WithCancel(ctx)
		defer stopWD()
		go wd.run(wctx, log, cronAlive(sched))
	}
	// Progress lines and systemd's STATUS= go on while passes drain.
	pctx, stopProgress := context.WithCancel(context.WithoutCancel(ctx))
	defer stopProgress()
	go ps.run(pctx, progressEvery, log, ep.next)
	go job.Run()

	code := exitOK
	select {
	case <-ctx.Done():
	case err := <-corrupt:
		log.Error("stopping: the state file is damaged", "err", err)
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		code = exitFailed
	}
	// From the signal on, the grace period runs, whoever started the pass
	// in flight. cron's Stop is not waited for: it would wait for the pass
	// it started, however long that takes.
	h.setRunning(false)
	notify(log, sd.SdNotifyStopping)
	log.Info("stopping: letting passes in flight finish", "grace", grace)
	sched.Stop()
	stopped := runner.Stop(grace, stopWait)
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), stopWait)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}
	storeOpen = false
	if stopped {
		if err := store.Close(); err != nil {
			log.Warn("closing the state file failed", "err", err)
		}
	} else {
		closeWithin(store, stopWait, log)
	}
	log.Info("syncd stopped")
	return code
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
