package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/time/rate"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/alert"
	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/httpsafe"
	"github.com/crkai/syncd/internal/phone"
	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/spool"
	"github.com/crkai/syncd/internal/state"
	"github.com/crkai/syncd/internal/syncer"
)

// phoneKeys are the log attributes that hold a customer's number.
var phoneKeys = map[string]bool{"customerPhone": true, "phone": true, "remoteParty": true}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	mask := cfg.LogPhones != "full"
	opts := &slog.HandlerOptions{Level: cfg.LogLevel, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		switch {
		case mask && phoneKeys[a.Key] && a.Value.Kind() == slog.KindString:
			a.Value = slog.StringValue(phone.Mask(a.Value.String()))
		case a.Value.Kind() == slog.KindDuration:
			// "1.5s", not 1500000000 nanoseconds (JSON) or a Go-only form.
			a.Value = slog.StringValue(readable(a.Value.Duration()).String())
		}
		return a
	}}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// progressTransport reports every answer that arrives (a page of a
// listing, a log-in, a CRK request) to the watchdog, so that a slow paged
// listing or a long reconciliation is told from a stuck pass.
type progressTransport struct {
	base http.RoundTripper
	tick *atomic.Pointer[func()]
}

func (t progressTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if f := t.tick.Load(); f != nil {
		(*f)()
	}
	return resp, err
}

// newHTTPClient is the one client every outgoing request goes through.
// Deadlines are set per request by the sink and the connectors. A request
// carrying credentials never follows a redirect to clear text or to
// another host (httpsafe.CheckRedirect).
func newHTTPClient(concurrency int) *http.Client {
	return &http.Client{CheckRedirect: httpsafe.CheckRedirect, Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          4 * (concurrency + 2),
		MaxIdleConnsPerHost:   concurrency + 2,
		IdleConnTimeout:       90 * time.Second,
	}}
}

// app is everything a pass needs, wired from the configuration.
type app struct {
	cfg     *config.Config
	log     *slog.Logger
	http    *http.Client
	limiter *rate.Limiter
	crk     *sink.Client
	sources []connectors.Connector
	// progress is the watchdog's, once a syncer is built: every answer
	// the HTTP client receives reports to it.
	progress atomic.Pointer[func()]
}

// newApp builds the CRK client and the enabled sources. It does no I/O.
func newApp(cfg *config.Config, log *slog.Logger, reg prometheus.Registerer) (*app, error) {
	a := &app{cfg: cfg, log: log, http: newHTTPClient(cfg.Concurrency), limiter: sink.NewLimiter(cfg.CRK.RateLimit)}
	a.http.Transport = progressTransport{base: a.http.Transport, tick: &a.progress}
	shared := deps.Shared{Logger: log, Now: time.Now, Registerer: reg, HTTP: a.http}.Defaulted()
	var err error
	a.crk, err = sink.New(sink.Config{
		BaseURL: cfg.CRK.APIURL, Token: cfg.CRK.Token.Reveal(), BusinessID: cfg.CRK.BusinessID, UserAgent: userAgent(),
	}, sink.Deps{Shared: shared, Limiter: a.limiter})
	if err != nil {
		return nil, err
	}
	cd := connectors.Deps{Shared: shared, Location: cfg.Location, Region: cfg.PhoneRegion, UserAgent: userAgent()}
	for _, name := range cfg.Sources() {
		src, _ := cfg.Source(name)
		c, err := src.New(cd.WithLogger(log.With("source", name)))
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", name, err)
		}
		a.sources = append(a.sources, c)
		if lc, ok := c.(connectors.LoginCounter); ok {
			shared.Registerer.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "syncd_source_logins_total", Help: "Full sign-ins sent to the source (token refreshes not counted).",
				ConstLabels: prometheus.Labels{"source": name},
			}, func() float64 { return float64(lc.Logins()) }))
		}
	}
	return a, nil
}

// syncer builds the Syncer of a pass; its metrics go to reg (nil: none
// scraped); progress may be nil.
func (a *app) syncer(store *state.Store, reg prometheus.Registerer, progress func(syncer.Progress)) *syncer.Syncer {
	if progress != nil {
		// Every answer the HTTP client receives is progress too, with no
		// counts (no Source).
		tick := func() { progress(syncer.Progress{}) }
		a.progress.Store(&tick)
	}
	sp := spool.New(filepath.Join(filepath.Dir(a.cfg.StatePath), "spool"), 0)
	if n, err := sp.Clean(); err != nil {
		a.log.Warn("cleaning the audio spool failed", "dir", sp.Dir(), "err", err)
	} else if n > 0 {
		a.log.Info("removed audio spooled by a run that did not finish", "dir", sp.Dir(), "files", n)
	}
	return syncer.New(syncer.Config{
		Spool:    sp,
		Backfill: a.cfg.Backfill, Lookback: a.cfg.Lookback, Settle: a.cfg.Settle, MaxCall: a.cfg.MaxCall,
		Fingerprint: a.cfg.SourceFingerprint, UnknownDirection: a.cfg.UnknownDirection,
		Concurrency: a.cfg.Concurrency, Location: a.cfg.Location, Progress: progress,
	}, syncer.Deps{Shared: deps.Shared{Logger: a.log, Now: time.Now, Registerer: reg, HTTP: a.http}, Store: store, Sink: a.crk})
}

// alerter builds the alerter when SYNCD_ALERT_CHANNEL is set, else nil.
// store may be nil for -test-connection, which only checks and sends tests.
func (a *app) alerter(store *state.Store, reg prometheus.Registerer) (*alert.Alerter, error) {
	if !a.cfg.Alert.Enabled() {
		return nil, nil
	}
	c := a.cfg.Alert
	return alert.New(alert.Config{Channel: c.Channel, ChatID: c.ChatID, WebhookID: c.WebhookID, After: c.After, Link: c.Link},
		alert.Deps{
			Shared:  deps.Shared{Logger: a.log, Now: time.Now, Registerer: reg, HTTP: a.http},
			Gateway: a.crk, Store: store, Location: a.cfg.Location, Secrets: a.cfg.Secrets(),
		})
}

// passAll runs one pass of every source at once and logs one line each.
// Each result carries its pass's error, if the pass failed as a whole.
func passAll(ctx context.Context, sy *syncer.Syncer, sources []connectors.Connector, draining <-chan struct{}, log *slog.Logger) []syncer.Result {
	results := make([]syncer.Result, len(sources))
	var wg sync.WaitGroup
	for i, c := range sources {
		wg.Go(func() {
			r, err := sy.Run(ctx, c, draining)
			r.Err = err
			results[i] = r
			attrs := []any{"source", r.Source, "listed", r.Listed, "new", r.New, "synced", r.Synced,
				"failed", r.Failed, "quarantined", r.Quarantined, "took", r.Took.Round(time.Millisecond)}
			switch {
			case err == nil && r.Left > 0:
				log.Info("pass stopped early: syncd is stopping; the recordings not started are left for the next pass", append(attrs, "left", r.Left)...)
			case err == nil:
				log.Info("pass done", attrs...)
			case ctx.Err() != nil && errors.Is(err, context.Canceled):
				// An orderly stop, not a failure.
				log.Info("pass stopped: syncd is stopping; recordings resume at their last recorded step", attrs...)
			default:
				log.Error("pass failed", append(attrs, "err", err)...)
			}
		})
	}
	wg.Wait()
	return results
}

// newRegistry is the daemon's own registry: build info, Go and process
// collectors. Never the global one.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	bi := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "syncd_build_info", Help: "Always 1; the labels say which syncd runs.",
	}, []string{"version", "commit", "goversion"})
	bi.WithLabelValues(buildVersion(), buildCommit(), goVersion()).Set(1)
	reg.MustRegister(bi)
	return reg
}
