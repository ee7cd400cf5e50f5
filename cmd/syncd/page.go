package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/crkai/syncd/internal/phone"
	"github.com/crkai/syncd/internal/state"
)

//go:embed page.html
var pageHTML string

// pageTemplate is the status page: one server-rendered page, its CSS
// inline, no script and nothing fetched from elsewhere.
var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

// pageRefresh is how often the page reloads itself (meta refresh), in
// seconds.
const pageRefresh = 15

// pageQuarantineRows bounds the quarantine list of one source on the page;
// /status lists them all.
const pageQuarantineRows = 100

type pageData struct {
	Version, Now, StatePath, Schedule, Next string
	Refresh                                 int
	Sources                                 []pageSource
	Pending, Quarantined                    int
}

type pageSource struct {
	Name string
	// State is ok, running, failing, backed off, not run yet or not
	// configured; Class its CSS class.
	State, Class string
	Detail       string // the error, or the backoff
	Progress     string // the pass in flight: "120/400 sent, 2.1/s, ETA 2m13s"
	Percent      int    // of the pass in flight, for its bar
	LastPass     string
	LastSuccess  string
	Done         int
	Pending      int
	Quarantined  int
	Quarantine   []pageRecord
	More         int // quarantined recordings not listed on the page
}

type pageRecord struct{ DataID, CallAt, Step, Reason string }

// servePage is the status page at /. A client that asks for plain text
// and not for HTML (Accept: text/plain) gets /status instead.
func (e *endpoints) servePage(w http.ResponseWriter, r *http.Request) {
	if wantsPlainText(r.Header.Get("Accept")) {
		e.serveStatus(w, r)
		return
	}
	store := e.openStore(w)
	if store == nil {
		return
	}
	states, err := readState(r.Context(), store)
	if err != nil {
		e.log.Warn("serving the status page failed", "err", err)
		http.Error(w, "reading the state file failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	d := e.pageData(states)
	d.StatePath = store.Path()
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		e.log.Warn("rendering the status page failed", "err", err)
		http.Error(w, "rendering the status page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = w.Write(buf.Bytes())
}

// wantsPlainText is true when accept names text/plain and neither HTML
// nor anything (*/*), as `curl -H 'Accept: text/plain'` does.
func wantsPlainText(accept string) bool {
	plain := false
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case "text/html", "application/xhtml+xml", "*/*", "text/*":
			return false
		case "text/plain":
			plain = true
		}
	}
	return plain
}

// pageData puts together the state file's view, the passes this process
// ran and /healthz's view.
func (e *endpoints) pageData(states []sourceState) pageData {
	now := e.now()
	loc := e.cfg.Location
	clock := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.In(loc).Format("2006-01-02 15:04:05 MST")
	}
	d := pageData{Version: buildVersion(), Now: clock(now), Schedule: e.cfg.Schedule, Refresh: pageRefresh, Next: "not scheduled yet"}
	if n := e.next(); !n.IsZero() {
		d.Next = clock(n) + " (in " + readable(n.Sub(now)).Round(time.Second).String() + ")"
	}
	byName := map[string]sourceState{}
	for _, s := range states {
		byName[s.Source] = s
	}
	names := e.cfg.Sources()
	configured := map[string]bool{}
	for _, n := range names {
		configured[n] = true
	}
	for _, s := range states {
		if !configured[s.Source] {
			names = append(names, s.Source)
		}
	}
	passes := e.passes.snapshot()
	health := e.health.snapshot()
	for _, name := range names {
		st := byName[name]
		ps := pageSource{Name: name, Done: st.Done, Pending: st.Pending, Quarantined: st.Summary.Quarantined,
			LastSuccess: clock(st.LastSuccess), LastPass: "none since syncd started"}
		d.Pending += st.Pending
		d.Quarantined += st.Summary.Quarantined
		v, seen := passes[name]
		last := &v
		if seen && v.running() {
			ps.Progress = strings.TrimPrefix(v.line(name, now), name+": ")
			if v.Planned && v.Total > 0 {
				ps.Percent = min(100, 100*v.Handled()/v.Total)
			}
			last = v.Last
		}
		if seen && last != nil {
			ps.LastPass = fmt.Sprintf("ended %s, took %s: %d sent, %d quarantined, %d failed of %d", clock(last.Ended),
				readable(last.Ended.Sub(last.Started)), last.Done, last.Quarantined, last.Failed, last.Total)
		}
		h := health[name]
		switch {
		case !configured[name]:
			ps.State, ps.Class = "not configured", "idle"
			ps.Detail = "the state file knows this source, but it is not enabled"
		case st.Backoff.Refusals > 0 && st.Backoff.Until.After(now):
			ps.State, ps.Class = "logging in backed off", "bad"
			ps.Detail = fmt.Sprintf("log-in refused %d times in a row; next try after %s (a changed configuration is tried at once). Last refusal: %s",
				st.Backoff.Refusals, clock(st.Backoff.Until), st.Backoff.LastError)
		case h.ConsecutiveFailures > 0:
			ps.State, ps.Class = fmt.Sprintf("failing (%s)", passesInARow(h.ConsecutiveFailures)), "bad"
			ps.Detail = phone.MaskText(oneLine(h.LastError))
		case seen && v.running():
			ps.State, ps.Class = "running", "run"
		case seen:
			ps.State, ps.Class = "ok", "ok"
		default:
			ps.State, ps.Class = "not run yet", "idle"
		}
		if ps.Progress != "" && ps.Class != "bad" {
			ps.State, ps.Class = "running", "run"
		}
		for i, r := range st.Quarantined {
			if i == pageQuarantineRows {
				ps.More = len(st.Quarantined) - i
				break
			}
			ps.Quarantine = append(ps.Quarantine, pageRecord{DataID: r.DataID, CallAt: clock(r.CallAt), Step: stepReached(r.Step), Reason: r.Quarantined})
		}
		d.Sources = append(d.Sources, ps)
	}
	return d
}

// snapshot is each source's health as /healthz reports it.
func (h *health) snapshot() map[string]sourceHealth {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]sourceHealth, len(h.sources))
	for name, s := range h.sources {
		out[name] = *s
	}
	return out
}

// sortedKeys is m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// passesInARow is "1 failed pass", "3 passes in a row".
func passesInARow(n int) string {
	if n == 1 {
		return "1 failed pass"
	}
	return fmt.Sprintf("%d passes in a row", n)
}

// stepReached names the last step done at CRK for a quarantined record:
// "nothing sent" rather than the zero step's name, "pending", which beside
// the quarantine would read as a second state.
func stepReached(s state.Step) string {
	if s == state.Pending {
		return "nothing sent"
	}
	return s.String()
}
