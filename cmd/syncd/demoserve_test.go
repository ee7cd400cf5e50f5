package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakelog"
	"github.com/crkai/syncd/internal/sources"
)

// TestDemoServe: `syncd -demo -serve` runs the daemon on the fakes: it
// says where its page, metrics and health are, passes at once (CRK's fake
// comes to hold recordings of every source), serves /healthz as ok, and
// stops with exit 0 when signalled.
func TestDemoServe(t *testing.T) {
	addr := freeAddr(t)
	state := t.TempDir() + "/syncd.db"
	env := map[string]string{"SYNCD_LISTEN_ADDR": addr, "SYNCD_STATE_PATH": state, "SYNCD_SCHEDULE": "@every 1h", "SYNCD_LOG_LEVEL": "warn"}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb fakelog.Buffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"-demo", "-serve"}, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &out, &errb)
	}()
	base := "http://" + addr
	waitFor(t, "the URLs and the CRK fake's address on stdout", func() bool {
		return strings.Contains(out.String(), "Stop with Ctrl-C.")
	})
	text := out.String()
	for _, want := range []string{base + "/\n", base + "/metrics\n", base + "/healthz\n", `SYNCD_SCHEDULE "@every 1h"`, "state file " + state + ".\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("stdout lacks %q:\n%s", want, text)
		}
	}
	m := regexp.MustCompile(`CRK \((http://127\.0\.0\.1:\d+/api/v1)\)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no CRK fake address in:\n%s", text)
	}
	// The pass at start: SYNCD_SCHEDULE is an hour, so only it can have
	// sent them.
	perSource := map[string]int{}
	waitFor(t, "CRK's fake to hold recordings of every source", func() bool {
		perSource = crkHolds(t, m[1])
		return len(perSource) == len(sources.All())
	})
	waitFor(t, "/healthz ok", func() bool {
		c, body := get(t, base+"/healthz")
		return c == http.StatusOK && strings.Contains(body, `"status":"ok"`)
	})
	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Fatalf("exit %d after the signal, want 0; stderr:\n%s", c, errb.String())
		}
	case <-time.After(shutdownGrace + 2*stopWait):
		t.Fatal("-demo -serve did not stop when signalled")
	}
	if c, _ := get(t, base+"/healthz"); c != 0 {
		t.Fatalf("the listener still answers after exit: HTTP %d", c)
	}
}

// crkHolds asks the CRK fake at base which recordings it holds, counted by
// source (the dataId's prefix).
func crkHolds(t *testing.T, base string) map[string]int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/recordings?limit=200", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+demoToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var page struct {
		Items []struct {
			DataID string `json:"dataId"`
		} `json:"items"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&page) != nil {
		return nil
	}
	n := map[string]int{}
	for _, r := range page.Items {
		src, _, _ := strings.Cut(r.DataID, "-")
		n[src]++
	}
	return n
}

// TestServeGoesWithDemo: -serve alone is a flag error, and -h shows it.
func TestServeGoesWithDemo(t *testing.T) {
	if o := runWith(t.Context(), nil, "-serve"); o.code != exitConfig || !strings.Contains(o.stderr, "-serve goes with -demo") {
		t.Fatalf("-serve alone: %+v", o)
	}
	if o := runWith(t.Context(), nil, "-h"); !strings.Contains(o.stdout, "-serve") || !strings.Contains(o.stdout, "syncd -demo -serve") {
		t.Fatalf("-h does not show -serve:\n%s", o.stdout)
	}
}
