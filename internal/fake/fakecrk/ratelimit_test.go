package fakecrk

import (
	"net/http"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	tests := []struct {
		name        string
		perMin      int
		burst       int
		free        int    // requests allowed at once
		retryAfter  string // on the first refusal
		advance     time.Duration
		stillRefuse bool // after advancing by less than Retry-After
	}{
		{name: "documented 600/min, default burst", perMin: 600, free: 10, retryAfter: "1"},
		{name: "60/min burst 2", perMin: 60, burst: 2, free: 2, retryAfter: "1"},
		{name: "6/min: ten seconds a token", perMin: 6, free: 1, retryAfter: "10", stillRefuse: true},
		{name: "7/min rounds up", perMin: 7, free: 1, retryAfter: "9", stillRefuse: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := start(t, func(o *Options) { o.RateLimit, o.Burst = tc.perMin, tc.burst })
			c := client(t, true)
			whoami := func(tok string) answer {
				return do(t, s, c, call{method: "GET", path: "/meta/whoami", token: tok})
			}
			for i := range tc.free {
				if a := whoami(TokFull); a.status != 200 {
					t.Fatalf("request %d of the burst: %d %s", i+1, a.status, a.body)
				}
			}
			a := whoami(TokFull)
			if a.status != http.StatusTooManyRequests || a.apiError(t).Code != "rate_limited" {
				t.Fatalf("over the burst: %d %s", a.status, a.body)
			}
			if got := a.header.Get("Retry-After"); got != tc.retryAfter {
				t.Fatalf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			// Other keys have buckets of their own; storage is not limited.
			if a := whoami(TokView); a.status != 200 {
				t.Fatalf("another key: %d", a.status)
			}
			// Refusals do not spend tokens: waiting as told is enough.
			whoami(TokFull)
			if tc.stillRefuse {
				clk.Advance(time.Second)
				if a := whoami(TokFull); a.status != 429 {
					t.Fatalf("a second later: %d", a.status)
				}
				clk.Advance(-time.Second)
			}
			secs, _ := time.ParseDuration(tc.retryAfter + "s")
			clk.Advance(secs)
			if a := whoami(TokFull); a.status != 200 {
				t.Fatalf("after Retry-After: %d %s", a.status, a.body)
			}
			if got := s.Requests(EndpointWhoami, 429); got < 2 {
				t.Errorf("Requests(whoami, 429) = %d", got)
			}
		})
	}
}

func TestRateLimitCoversEveryAPIEndpointNotStorage(t *testing.T) {
	s, clk := start(t, func(o *Options) { o.RateLimit, o.Burst = 60, 3 })
	c := client(t, true)
	cr := mustCreate(t, s, c, TokFull, "", "rl-1", "")                     // 1
	do(t, s, c, call{method: "GET", path: "/recordings", token: TokFull})  // 2
	do(t, s, c, call{method: "GET", path: "/meta/whoami", token: TokFull}) // 3
	for range 5 {
		if a := put(t, c, cr.UploadURL, "audio/wav", []byte("x"), false); a.status != 200 {
			t.Fatalf("storage limited: %d", a.status)
		}
	}
	for _, k := range []call{
		{method: "POST", path: "/recordings", token: TokFull, body: createBody("rl-2", "")},
		{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokFull},
		{method: "GET", path: "/recordings", token: TokFull},
	} {
		if a := do(t, s, c, k); a.status != 429 {
			t.Fatalf("%s %s: %d", k.method, k.path, a.status)
		}
	}
	if _, ok := s.Recording(BizA, "rl-2"); ok {
		t.Fatal("a refused create did its work")
	}
	clk.Advance(time.Second)
	if a := do(t, s, c, call{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokFull}); a.status != 202 {
		t.Fatalf("after a second: %d", a.status)
	}
}

func TestUnlimited(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	for i := range 200 {
		if a := do(t, s, c, call{method: "GET", path: "/meta/whoami", token: TokFull}); a.status != 200 {
			t.Fatalf("request %d: %d", i, a.status)
		}
	}
}
