package main

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/robfig/cron/v3"

	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/state"
)

// endpoints is what the daemon's listener serves from. The listener starts
// before the state file is open and the scheduler runs (so that /readyz
// can say "not yet"): store and sched are set once they are.
type endpoints struct {
	cfg    *config.Config
	log    *slog.Logger
	reg    *prometheus.Registry
	health *health
	passes *passes
	now    func() time.Time
	store  atomic.Pointer[state.Store]
	sched  atomic.Pointer[cron.Cron]
}

// newMux routes the listener: the status page at /, /metrics, /healthz,
// /readyz and /status. Every other path is 404; every other method than
// GET and HEAD is 405.
func newMux(e *endpoints) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", e.servePage)
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{Registry: e.reg}))
	mux.HandleFunc("GET /healthz", e.health.serveHealthz)
	mux.HandleFunc("GET /readyz", e.health.serveReadyz)
	mux.HandleFunc("GET /status", e.serveStatus)
	return mux
}

// openStore is the state file, or nil (and a 503 written) while the
// daemon is still opening it.
func (e *endpoints) openStore(w http.ResponseWriter) *state.Store {
	s := e.store.Load()
	if s == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("syncd is starting: the state file is not open yet\n"))
	}
	return s
}

// serveStatus is /status: what `syncd -status` prints.
func (e *endpoints) serveStatus(w http.ResponseWriter, r *http.Request) {
	store := e.openStore(w)
	if store == nil {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := printStatus(r.Context(), store, e.cfg.Location, w); err != nil {
		e.log.Warn("serving /status failed", "err", err)
	}
}

// next is when the scheduler runs the next pass; zero before it starts.
func (e *endpoints) next() time.Time {
	c := e.sched.Load()
	if c == nil {
		return time.Time{}
	}
	var next time.Time
	for _, en := range c.Entries() {
		if !en.Next.IsZero() && (next.IsZero() || en.Next.Before(next)) {
			next = en.Next
		}
	}
	return next
}

// listen starts serving h on cfg.ListenAddr, with the TLS and basic auth
// of SYNCD_WEB_CONFIG_FILE (exporter-toolkit's web.Serve, which reads the
// file again for every connection, so a renewed certificate or a changed
// password needs no restart). The listener is open when it returns.
func listen(cfg *config.Config, h http.Handler, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, err
	}
	srv := newHTTPServer(h, listenerIdle)
	webConfig := cfg.WebConfigFile
	flags := &web.FlagConfig{WebConfigFile: &webConfig}
	go func() {
		if err := web.Serve(ln, srv, flags, log.With("component", "listener")); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP listener stopped", "err", err)
		}
	}()
	attrs := []any{"addr", ln.Addr().String()}
	if webConfig != "" {
		attrs = append(attrs, "webConfig", webConfig) // the toolkit logs whether TLS is on
	}
	log.Info("serving the status page, /metrics, /healthz, /readyz, /status", attrs...)
	return srv, nil
}
