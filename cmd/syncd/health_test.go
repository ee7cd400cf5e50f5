package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crkai/syncd/internal/alert"
	"github.com/crkai/syncd/internal/phone"
	"github.com/crkai/syncd/internal/state"
	"github.com/crkai/syncd/internal/syncer"
)

// TestHealthzFailsAfterRepeatedSourceFailures: without alerting, /healthz
// turns unhealthy at the SYNCD_UNHEALTHY_AFTER-th failed pass of a source
// in a row, from the count kept in the state file: a restarted daemon goes
// on counting, a pass stopped by syncd stopping counts for nothing, and a
// success heals it.
func TestHealthzFailsAfterRepeatedSourceFailures(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "syncd.db")
	log := slog.New(slog.DiscardHandler)
	store, err := state.Open(ctx, path, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	h := newHealth(3)
	h.setRunning(true)
	type source struct {
		ConsecutiveFailures int
		LastError           string
		LastSuccess         string
	}
	healthz := func() (int, string, map[string]source) {
		t.Helper()
		w := httptest.NewRecorder()
		h.serveHealthz(w, nil)
		var body struct {
			Status           string            `json:"status"`
			Reason           string            `json:"reason"`
			SchedulerRunning *bool             `json:"schedulerRunning"`
			Sources          map[string]source `json:"sources"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.SchedulerRunning == nil || body.Status == "" {
			t.Fatalf("/healthz: %v: %s", err, w.Body)
		}
		return w.Code, body.Reason, body.Sources
	}
	round := func(errs ...error) {
		t.Helper()
		results := []syncer.Result{{Source: "dtac", Err: errs[0]}, {Source: "3cx", Err: errs[1]}}
		h.record(afterPasses(ctx, store, nil, results, log))
	}
	fail := fmt.Errorf("listing dtac: login refused")
	for i := 1; i <= 2; i++ {
		round(fail, nil)
		if code, _, srcs := healthz(); code != 200 || srcs["dtac"].ConsecutiveFailures != i || srcs["dtac"].LastError != fail.Error() {
			t.Fatalf("after %d failures: %d %+v", i, code, srcs)
		}
	}

	// A restart: the count is the state file's.
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if store, err = state.Open(ctx, path, state.Options{}); err != nil {
		t.Fatal(err)
	}
	h = newHealth(3)
	h.setRunning(true)
	if code, _, srcs := healthz(); code != 200 || len(srcs) != 0 {
		t.Fatalf("before the first pass after a restart: %d %+v", code, srcs)
	}
	round(fail, nil)
	code, reason, srcs := healthz()
	if code != 503 || reason != "source dtac failed 3 passes in a row: listing dtac: login refused" {
		t.Fatalf("after 3 failures, one after a restart: %d %q", code, reason)
	}
	if srcs["3cx"].ConsecutiveFailures != 0 || srcs["3cx"].LastSuccess == "" || srcs["3cx"].LastError != "" {
		t.Errorf("a working source: %+v", srcs["3cx"])
	}

	round(fmt.Errorf("pass of dtac stopped: %w", context.Canceled), nil)
	if code, _, srcs := healthz(); code != 503 || srcs["dtac"].ConsecutiveFailures != 3 {
		t.Fatalf("a stopped pass changed the count: %d %+v", code, srcs)
	}
	round(nil, nil)
	code, reason, srcs = healthz()
	if code != 200 || reason != "" || srcs["dtac"].ConsecutiveFailures != 0 || srcs["dtac"].LastSuccess == "" || strings.Contains(srcs["dtac"].LastError, "refused") {
		t.Fatalf("a success did not heal /healthz: %d %q %+v", code, reason, srcs)
	}
}

// /healthz masks phone numbers in a source's error, as the page and
// /status do: the listener may face a network.
func TestHealthzMasksPhoneNumbers(t *testing.T) {
	h := newHealth(1)
	h.setRunning(true)
	h.record([]alert.Streak{{Source: "dtac", Failures: 1, LastError: "dtac: log in as +66812345678: refused"}})
	rec := httptest.NewRecorder()
	h.serveHealthz(rec, httptest.NewRequest("GET", "/healthz", nil))
	body := rec.Body.String()
	if strings.Contains(body, "+66812345678") || !strings.Contains(body, phone.Mask("+66812345678")) {
		t.Fatalf("/healthz = %s", body)
	}
}
