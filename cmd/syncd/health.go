package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/crkai/syncd/internal/syncer"
)

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
