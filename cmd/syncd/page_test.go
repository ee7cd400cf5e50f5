package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakedtac"
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
				"dtac-2000", `timestamp &#34;&#43;66812***678&#34; is not a time`, "ended ", "3 sent, 1 quarantined, 0 failed of 4",
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

func TestMaskPhones(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`timestamp "+66812345678" is not a time`, `timestamp "+66812***678" is not a time`},
		{"called 0812345678 twice", "called 08123***678 twice"},
		{"dtac-1700000000.123 and 3cx-pbx-123456789 and orkweb-host-00012", "dtac-1700000000.123 and 3cx-pbx-123456789 and orkweb-host-00012"},
		{"extension 101", "extension 101"},
		{"", ""},
	} {
		if got := maskPhones(tc.in); got != tc.want {
			t.Errorf("maskPhones(%q) = %q, want %q", tc.in, got, tc.want)
		}
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
