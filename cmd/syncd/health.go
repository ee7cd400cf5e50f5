package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/crkai/syncd/internal/alert"
	"github.com/crkai/syncd/internal/phone"
	"github.com/crkai/syncd/internal/state"
	"github.com/crkai/syncd/internal/syncer"
)

// afterPasses is what follows every round of passes: the sources' streaks
// (the one count of failed passes in a row, in the state file) are
// counted, then the alerter, if alerting is on, acts on the round, reading
// them. It returns the round's streaks, for /healthz.
func afterPasses(ctx context.Context, store *state.Store, al *alert.Alerter, results []syncer.Result, log *slog.Logger) []alert.Streak {
	streaks, err := alert.Streaks{Store: store}.Record(ctx, results)
	if err != nil {
		log.Error("counting the failed passes failed: /healthz and alerts go on from the previous count", "err", err)
	}
	if al != nil {
		al.AfterPass(ctx, results)
	}
	return streaks
}

// health is what /healthz and /readyz report. The sources' failures come
// from their streaks, the count the alerter reads too.
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

// record takes the streaks of a round's sources.
func (h *health) record(streaks []alert.Streak) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range streaks {
		// Phone numbers in errors (a log-in named by the account's
		// number) are masked, as on the page: the listener may face a
		// network.
		h.sources[s.Source] = &sourceHealth{ConsecutiveFailures: s.Failures, LastError: phone.MaskText(s.LastError), LastSuccess: s.LastSuccess}
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
