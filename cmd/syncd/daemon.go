package main

import (
	"cmp"
	"context"
	"encoding/json"
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

// daemon is plain `syncd`: a pass at start, then one on every tick of
// SYNCD_SCHEDULE, until SIGTERM/SIGINT.
func daemon(ctx context.Context, cfg *config.Config, log *slog.Logger, stderr io.Writer) int {
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
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
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
	defer store.Close()
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

	// Passes run on hard, which outlives ctx by the grace period, so that
	// SIGTERM lets uploads in flight finish.
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	draining := make(chan struct{})
	var passMu sync.Mutex
	pass := cron.FuncJob(func() {
		passMu.Lock()
		defer passMu.Unlock()
		if ctx.Err() != nil {
			return // stopping: no new pass
		}
		wd.passStarted()
		defer wd.passEnded()
		results, errs := passAll(hard, sy, a.sources, draining, log)
		h.record(results, errs)
		if al != nil {
			al.AfterPass(hard, results, errs)
		}
		// Idle until the next tick: hand the pass's garbage back to the OS
		// rather than sit on it (a pass allocates in proportion to its
		// listing; the daemon idles most of the time).
		debug.FreeOSMemory()
	})
	cl := cronLogger{log}
	job := cron.NewChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)).Then(pass)
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

	<-ctx.Done()
	notify(log, sd.SdNotifyStopping)
	log.Info("stopping: letting passes in flight finish", "grace", shutdownGrace)
	close(draining)
	<-sched.Stop().Done()
	h.setRunning(false)
	idle := make(chan struct{})
	go func() { passMu.Lock(); close(idle); passMu.Unlock() }()
	select {
	case <-idle:
	case <-time.After(shutdownGrace):
		log.Warn("grace period over: cancelling uploads in flight; they resume at the step recorded")
		cancelHard()
		<-idle
	}
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}
	log.Info("syncd stopped")
	return exitOK
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
