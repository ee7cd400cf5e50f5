package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakedtac"
	"github.com/crkai/syncd/internal/state"
	"github.com/crkai/syncd/internal/syncer"
)

// TestStatusPage runs the daemon on the fakes, with one recording the
// source describes badly (a phone number where its time belongs), and asks
// its listener for every path it serves and some it does not.
func TestStatusPage(t *testing.T) {
	f := newFakes(t, 3)
	f.dtac.Add(fakedtac.Recording{
		ID: 2000, Timestamp: time.Now().Add(-time.Hour), RawTimestamp: "+66812345678", Duration: 60,
		LocalParty: "+66898765432", RemoteParty: "0812345678", Direction: "IN", Audio: fakeaudio.Audio{Seed: 9, Size: 1000},
	})
	addr := freeAddr(t)
	env := f.with("SYNCD_LISTEN_ADDR", addr, "SYNCD_SCHEDULE", "@every 1h")
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { runWith(ctx, env) })
	base := "http://" + addr
	waitFor(t, "the pass at start", func() bool {
		_, body := get(t, base+"/status")
		return strings.Contains(body, "done 3, pending 0, quarantined 1")
	})
	waitFor(t, "the page to show the pass ended", func() bool {
		_, body := get(t, base+"/")
		return strings.Contains(body, "ended ")
	})

	for _, tc := range []struct {
		name, method, path, accept string
		code                       int
		ctype                      string
		want, notWant              []string
	}{
		{name: "page", method: "GET", path: "/", code: 200, ctype: "text/html; charset=utf-8",
			want: []string{`<title>syncd status</title>`, `id="source-dtac"`, `<span class="state">ok</span>`,
				`<b>1</b>quarantined`, `<b>0</b>pending`, "3 done, 0 pending, 1 quarantined",
				`href="/metrics"`, `href="/healthz"`, `href="/readyz"`, `href="/status"`,
				"dtac-2000", "<th>step reached</th>", "<td>nothing sent</td>", `timestamp &#34;&#43;66812***678&#34; is not a time`, "ended ", "3 sent, 1 quarantined, 0 failed of 4",
				"next pass", "(in 59m"},
			notWant: []string{"66812345678", "<script", "http://", "https://"}},
		{name: "page as HEAD", method: "HEAD", path: "/", code: 200, ctype: "text/html; charset=utf-8"},
		{name: "page asked as text", method: "GET", path: "/", accept: "text/plain", code: 200, ctype: "text/plain; charset=utf-8",
			want: []string{"source dtac", "dtac-2000", `"+66812***678"`}, notWant: []string{"<html", "+66812345678"}},
		{name: "page as a browser asks", method: "GET", path: "/", accept: "text/html,application/xhtml+xml,*/*;q=0.8", code: 200, ctype: "text/html; charset=utf-8"},
		{name: "status", method: "GET", path: "/status", code: 200, ctype: "text/plain; charset=utf-8",
			want: []string{"done 3, pending 0, quarantined 1", "dtac-2000", `"+66812***678"`}, notWant: []string{"+66812345678"}},
		{name: "healthz", method: "GET", path: "/healthz", code: 200, ctype: "application/json", want: []string{`"status":"ok"`}},
		{name: "readyz", method: "GET", path: "/readyz", code: 200, ctype: "application/json"},
		{name: "metrics", method: "GET", path: "/metrics", code: 200, want: []string{"syncd_build_info"}},
		{name: "unknown path", method: "GET", path: "/index.html", code: 404},
		{name: "unknown path below", method: "GET", path: "/status/x", code: 404},
		{name: "POST to the page", method: "POST", path: "/", code: 405},
		{name: "DELETE status", method: "DELETE", path: "/status", code: 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, base+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body := string(b)
			if resp.StatusCode != tc.code {
				t.Fatalf("%s %s: %d, want %d\n%s", tc.method, tc.path, resp.StatusCode, tc.code, body)
			}
			if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tc.ctype)
			}
			if tc.method == "HEAD" && body != "" {
				t.Errorf("HEAD has a body: %q", body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(body, w) {
					t.Errorf("has %q:\n%s", w, body)
				}
			}
		})
	}
}

func TestWantsPlainText(t *testing.T) {
	for accept, want := range map[string]bool{
		"": false, "*/*": false, "text/plain": true, "text/plain;q=0.9": true,
		"text/html": false, "text/plain, text/html": false, "application/json": false,
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": false,
	} {
		if got := wantsPlainText(accept); got != want {
			t.Errorf("wantsPlainText(%q) = %v", accept, got)
		}
	}
}

// TestPageSourceStates: what the page says of a source, from the state
// file, the passes this process ran, and /healthz's count of failures, on
// a fake clock.
func TestPageSourceStates(t *testing.T) {
	f := newFakes(t, 0)
	cfg, err := config.Load(t.Context(), func(k string) (string, bool) { v, ok := f.env[k]; return v, ok }, config.ReadSecretFile)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c := newClock(now)
	ps := newPasses(c.now)
	h := newHealth(3)
	e := &endpoints{cfg: cfg, log: slog.New(slog.DiscardHandler), health: h, passes: ps, now: c.now}
	dtac := func(mod func(*sourceState)) []sourceState {
		s := sourceState{Summary: state.Summary{Source: "dtac", Done: 5, Pending: 2, Quarantined: 1, LastSuccess: now.Add(-time.Hour)},
			Quarantined: []state.Record{{ID: "7", DataID: "dtac-7", Quarantined: "the source refuses the audio"}}}
		if mod != nil {
			mod(&s)
		}
		return []sourceState{s, {Summary: state.Summary{Source: "oldpbx", Done: 9}}}
	}
	for _, tc := range []struct {
		name   string
		setup  func()
		states []sourceState
		state  string
		class  string
		detail string
		prog   string
		pct    int
	}{
		{name: "no pass yet", states: dtac(nil), state: "not run yet", class: "idle"},
		{name: "listing", setup: func() { ps.report(syncer.Progress{Source: "dtac"}) }, states: dtac(nil),
			state: "running", class: "run", prog: "listing"},
		{name: "sending", setup: func() {
			ps.report(syncer.Progress{Source: "dtac", Planned: true, Total: 400})
			c.add(57 * time.Second)
			ps.report(syncer.Progress{Source: "dtac", Planned: true, Total: 400, Done: 120})
		}, states: dtac(nil), state: "running", class: "run", prog: "120/400 sent, 2.1/s, ETA 2m13s", pct: 30},
		{name: "ended", setup: func() {
			c.add(time.Minute)
			ps.report(syncer.Progress{Source: "dtac", Planned: true, Total: 400, Done: 399, Failed: 1, Ended: true})
		}, states: dtac(nil), state: "ok", class: "ok"},
		{name: "failing", setup: func() {
			h.mu.Lock()
			h.sources["dtac"] = &sourceHealth{ConsecutiveFailures: 2, LastError: "listing dtac: HTTP 500 for\n0812345678"}
			h.mu.Unlock()
		}, states: dtac(nil), state: "failing (2 passes in a row)", class: "bad", detail: "listing dtac: HTTP 500 for 08123***678"},
		{name: "backed off", states: dtac(func(s *sourceState) {
			s.Backoff = state.LoginBackoff{Refusals: 3, Until: now.Add(time.Hour), LastError: "HTTP 401"}
		}), state: "logging in backed off", class: "bad",
			detail: "log-in refused 3 times in a row; next try after 2026-03-01 17:00:00 +07 (a changed configuration is tried at once). Last refusal: HTTP 401"},
		{name: "backoff over", states: dtac(func(s *sourceState) {
			s.Backoff = state.LoginBackoff{Refusals: 3, Until: now.Add(time.Minute), LastError: "HTTP 401"}
		}), state: "failing (2 passes in a row)", class: "bad", detail: "listing dtac: HTTP 500 for 08123***678"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			d := e.pageData(tc.states)
			if len(d.Sources) != 2 || d.Pending != 2 || d.Quarantined != 1 {
				t.Fatalf("page %+v", d)
			}
			s := d.Sources[0]
			if s.Name != "dtac" || s.State != tc.state || s.Class != tc.class || s.Detail != tc.detail || s.Progress != tc.prog || s.Percent != tc.pct {
				t.Fatalf("dtac: %+v\nwant state %q class %q detail %q progress %q percent %d", s, tc.state, tc.class, tc.detail, tc.prog, tc.pct)
			}
			if len(s.Quarantine) != 1 || s.Quarantine[0].DataID != "dtac-7" || s.LastSuccess != "2026-03-01 15:00:00 +07" {
				t.Fatalf("dtac: %+v", s)
			}
			if o := d.Sources[1]; o.Name != "oldpbx" || o.State != "not configured" {
				t.Fatalf("a source the state file knows but the configuration does not: %+v", o)
			}
		})
	}
	// The last pass stays on the page while the next one runs.
	ps.report(syncer.Progress{Source: "dtac"})
	if s := e.pageData(dtac(nil)).Sources[0]; s.LastPass != "ended 2026-03-01 16:01:57 +07, took 1m57s: 399 sent, 0 quarantined, 1 failed of 400" {
		t.Fatalf("last pass %q", s.LastPass)
	}
}
