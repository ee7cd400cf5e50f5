package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
	var srv *http.Server
	var mux *http.ServeMux
	if cfg.ListenAddr != "" {
		ln, err := net.Listen("tcp", cfg.ListenAddr)
		if err != nil {
			fmt.Fprintf(stderr, "syncd: SYNCD_LISTEN_ADDR: %v\n", err)
			return exitFailed
		}
		mux = http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		mux.HandleFunc("GET /healthz", h.serveHealthz)
		mux.HandleFunc("GET /readyz", h.serveReadyz)
		srv = newHTTPServer(mux, listenerIdle)
		go func() {
			if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
				log.Error("HTTP listener stopped", "err", err)
			}
		}()
		log.Info("serving /metrics, /healthz, /readyz", "addr", ln.Addr().String())
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
	h.setReady()
	wdInterval, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("reading systemd's watchdog settings failed", "err", err)
	}
	// Without a systemd watchdog the pings are off; progress is still kept.
	wd := newWatchdog(cmp.Or(wdInterval, time.Minute), time.Now)
	if mux != nil {
		mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			if err := printStatus(r.Context(), store, cfg.Location, w); err != nil {
				log.Warn("serving /status failed", "err", err)
			}
		})
	}
	sy := a.syncer(store, syncer.NewMetrics(reg), wd.progress)
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
		results, errs := passAll(hard, sy, a.sources, draining, log)
		for _, err := range errs {
			if errors.Is(err, state.ErrCorrupt) {
				select {
				case corrupt <- err:
				default:
				}
			}
		}
		h.record(results, errs)
		if al != nil {
			al.AfterPass(hard, results, errs)
		}
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
	h.setRunning(true)
	log.Info("syncd started", "version", version, "sources", cfg.Sources(), "schedule", cfg.Schedule, "state", cfg.StatePath)
	notify(log, sd.SdNotifyReady)
	if wdInterval > 0 {
		wctx, stopWD := context.WithCancel(ctx)
		defer stopWD()
		go wd.run(wctx, log, cronAlive(sched))
	}
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

// health is what /healthz and /readyz report.
type health struct {
	mu      sync.Mutex
	after   int
	ready   bool
	running bool
	sources map[string]*sourceHealth
}

type sourceHealth struct {
	ConsecutiveFailures int       `json:"consecutiveFailures"`
	LastError           string    `json:"lastError,omitempty"`
	LastSuccess         time.Time `json:"lastSuccess,omitzero"`
}

func newHealth(after int) *health {
	return &health{after: after, sources: map[string]*sourceHealth{}}
}

func (h *health) setReady()          { h.mu.Lock(); h.ready = true; h.mu.Unlock() }
func (h *health) setRunning(on bool) { h.mu.Lock(); h.running = on; h.mu.Unlock() }

func (h *health) record(results []syncer.Result, errs []error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, r := range results {
		s := h.sources[r.Source]
		if s == nil {
			s = &sourceHealth{}
			h.sources[r.Source] = s
		}
		if errs[i] != nil {
			s.ConsecutiveFailures++
			s.LastError = errs[i].Error()
		} else {
			s.ConsecutiveFailures, s.LastError, s.LastSuccess = 0, "", time.Now()
		}
	}
}

func (h *health) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	body := struct {
		Status    string                  `json:"status"`
		Reason    string                  `json:"reason,omitempty"`
		Scheduler bool                    `json:"schedulerRunning"`
		Sources   map[string]sourceHealth `json:"sources"`
	}{Status: "ok", Scheduler: h.running, Sources: map[string]sourceHealth{}}
	if !h.running {
		body.Status, body.Reason = "unhealthy", "the scheduler is not running"
	}
	for name, s := range h.sources {
		body.Sources[name] = *s
		if s.ConsecutiveFailures >= h.after {
			body.Status = "unhealthy"
			body.Reason = fmt.Sprintf("source %s failed %d passes in a row: %s", name, s.ConsecutiveFailures, s.LastError)
		}
	}
	h.mu.Unlock()
	code := http.StatusOK
	if body.Status != "ok" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, body)
}

func (h *health) serveReadyz(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	ready := h.ready
	h.mu.Unlock()
	if !ready {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "reason": "the state file is not open yet"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ready": true})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
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
