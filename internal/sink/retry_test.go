package sink_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
)

// TestRetryAfterHonoured: a 429 waits the server's Retry-After (the fake
// says 1 s) before the next try.
func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	srv := startFake(t, nil)
	c := newClient(t, srv.URL(), fakecrk.TokFull, func(c *sink.Config, d *sink.Deps) { c.Retry.MaxRetryAfter = 0 }) // the default cap: 2 min
	srv.FailNext(fakecrk.EndpointCreate, http.StatusTooManyRequests, 1)
	start := time.Now()
	if _, err := c.Create(t.Context(), rec("ra-1")); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("retried after %v, before the Retry-After of 1s", took)
	}
	if n := srv.Count(fakecrk.EndpointCreate); n != 2 {
		t.Errorf("%d creates, want 2", n)
	}
}

// TestRetryAfterCapped: Retry.MaxRetryAfter caps the server's Retry-After.
func TestRetryAfterCapped(t *testing.T) {
	t.Parallel()
	srv := startFake(t, nil)
	c := newClient(t, srv.URL(), fakecrk.TokFull, func(c *sink.Config, d *sink.Deps) { c.Retry.MaxRetryAfter = 40 * time.Millisecond })
	srv.FailNext(fakecrk.EndpointWhoami, http.StatusTooManyRequests, 2)
	start := time.Now()
	if _, err := c.WhoAmI(t.Context()); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if took < 80*time.Millisecond || took >= 900*time.Millisecond {
		t.Errorf("two 429s took %v, want 2 × the cap of 40ms (not the server's 1s)", took)
	}
	if n := srv.Count(fakecrk.EndpointWhoami); n != 3 {
		t.Errorf("%d whoami requests, want 3", n)
	}
}

// TestRetryAfterForms: Retry-After as an HTTP date, and one that does not
// parse (then the client backs off by itself).
func TestRetryAfterForms(t *testing.T) {
	t.Run("http date", func(t *testing.T) {
		at := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
		base := stub(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", at)
			w.WriteHeader(http.StatusTooManyRequests)
		})
		c := newClient(t, base, tokHTTPTest, func(c *sink.Config, d *sink.Deps) { c.Retry.Attempts = 1 })
		_, err := c.WhoAmI(t.Context())
		if ra := apiError(t, err).RetryAfter; ra < 59*time.Minute || ra > time.Hour {
			t.Errorf("RetryAfter %v, want about an hour", ra)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		var n atomic.Int32
		base := stub(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				w.Header().Set("Retry-After", "soon")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			_, _ = w.Write([]byte(`{"level":"business","business":{"id":"b"},"scopes":[]}`))
		})
		c := newClient(t, base, tokHTTPTest, nil)
		if _, err := c.WhoAmI(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n.Load() != 2 {
			t.Errorf("%d requests, want 2", n.Load())
		}
	})
}

// TestRetryServerErrors: 5xx answers are retried for the idempotent calls,
// as many times as Retry.Attempts allows in all.
func TestRetryServerErrors(t *testing.T) {
	calls := map[fakecrk.Endpoint]func(t *testing.T, c *client) error{
		fakecrk.EndpointWhoami: func(t *testing.T, c *client) error { return whoami(t, c, nil) },
		fakecrk.EndpointCreate: func(t *testing.T, c *client) error { return create("se-1")(t, c, nil) },
		fakecrk.EndpointList: func(t *testing.T, c *client) error {
			_, err := c.List(t.Context(), sink.Query{})
			return err
		},
	}
	for ep, call := range calls {
		for _, status := range []int{500, 502, 503, 504} {
			t.Run(string(ep)+" "+http.StatusText(status), func(t *testing.T) {
				srv := startFake(t, nil)
				c := newClient(t, srv.URL(), fakecrk.TokFull, func(c *sink.Config, d *sink.Deps) { c.Retry.Attempts = 3 })
				srv.FailNext(ep, status, 2)
				if err := call(t, c); err != nil {
					t.Fatalf("after 2 × %d: %v", status, err)
				}
				if n := srv.Count(ep); n != 3 {
					t.Fatalf("%d requests, want 3", n)
				}
				// More failures than attempts: the last one is returned.
				srv.FailNext(ep, status, 5)
				err := call(t, c)
				if ae := apiError(t, err); ae.Status != status {
					t.Fatalf("after 5 × %d: %v", status, err)
				}
				if n := srv.Count(ep); n != 6 {
					t.Fatalf("%d requests, want 3 more (Retry.Attempts)", n)
				}
			})
		}
	}
}

// TestRetryDroppedConnection: a connection dropped after the server did the
// work is retried for idempotent calls; create, idempotent by dataId, still
// makes one recording.
func TestRetryDroppedConnection(t *testing.T) {
	srv := startFake(t, nil)
	// Without keep-alive, so that net/http's own replay of a GET whose
	// reused connection broke does not blur the count of attempts.
	c := newClient(t, srv.URL(), fakecrk.TokFull, func(c *sink.Config, d *sink.Deps) {
		d.HTTP = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	})
	srv.DropNext(fakecrk.EndpointCreate, 1)
	cr, err := c.Create(t.Context(), rec("dc-1"))
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Recordings()
	if len(got) != 1 || got[0].ID != cr.ID || got[0].Creates != 2 || srv.Count(fakecrk.EndpointCreate) != 2 {
		t.Fatalf("after a dropped create: %d creates, recordings %+v", srv.Count(fakecrk.EndpointCreate), got)
	}
	srv.DropNext(fakecrk.EndpointWhoami, 1)
	srv.DropNext(fakecrk.EndpointList, 2)
	if _, err := c.WhoAmI(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(t.Context(), sink.Query{}); err != nil {
		t.Fatal(err)
	}
	if w, l := srv.Count(fakecrk.EndpointWhoami), srv.Count(fakecrk.EndpointList); w != 2 || l != 3 {
		t.Fatalf("%d whoami, %d list requests, want 2 and 3", w, l)
	}
	// Dropped every time: a NetError after Retry.Attempts.
	srv.DropNext(fakecrk.EndpointWhoami, 10)
	_, err = c.WhoAmI(t.Context())
	var ne *sink.NetError
	if !errors.As(err, &ne) || !ne.Sent || ne.Timeout() || sink.Permanent(err) {
		t.Fatalf("dropped whoami: %v", err)
	}
	if n := srv.Count(fakecrk.EndpointWhoami); n != 6 {
		t.Fatalf("%d whoami requests, want 2 + 4", n)
	}
}

// TestNoRetryOnClientErrors: a 4xx other than 429 is answered at once.
func TestNoRetryOnClientErrors(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 405, 409, 410, 413, 422} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := startFake(t, nil)
			c := newClient(t, srv.URL(), fakecrk.TokFull, nil)
			srv.FailNext(fakecrk.EndpointCreate, status, 1)
			_, err := c.Create(t.Context(), rec("ce-1"))
			if ae := apiError(t, err); ae.Status != status {
				t.Fatalf("%v", err)
			}
			if n := srv.Count(fakecrk.EndpointCreate); n != 1 {
				t.Fatalf("%d creates, want 1", n)
			}
		})
	}
}

// failFirstDial makes the first dial fail as a refused connection does,
// before anything is sent.
func failFirstDial() func(ctx context.Context, network, addr string) (net.Conn, error) {
	var n atomic.Int32
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if n.Add(1) == 1 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connect: connection refused")}
		}
		return d.DialContext(ctx, network, addr)
	}
}

// TestReextractRetries: reextract costs the business money, so it is tried
// again only when CRK surely did not act: a 429 or a refused dial. A 5xx, a
// dropped connection or a timeout may have gone through.
func TestReextractRetries(t *testing.T) {
	tests := []struct {
		name       string
		inject     func(srv *fakecrk.Server)
		edit       func(*sink.Config, *sink.Deps)
		ok         bool
		requests   int // reextract requests at the fake
		reextracts int // the ones the fake acted on
	}{
		{"500", func(s *fakecrk.Server) { s.FailNext(fakecrk.EndpointReextract, 500, 1) }, nil, false, 1, 0},
		{"503", func(s *fakecrk.Server) { s.FailNext(fakecrk.EndpointReextract, 503, 1) }, nil, false, 1, 0},
		{"dropped after the work", func(s *fakecrk.Server) { s.DropNext(fakecrk.EndpointReextract, 1) }, nil, false, 1, 1},
		{"timeout", func(s *fakecrk.Server) { s.SetFaults(fakecrk.Faults{Latency: time.Second}) },
			func(c *sink.Config, d *sink.Deps) { c.Timeout = 50 * time.Millisecond }, false, 1, 0},
		{"429", func(s *fakecrk.Server) { s.FailNext(fakecrk.EndpointReextract, 429, 2) }, nil, true, 3, 1},
		{"refused dial", func(*fakecrk.Server) {}, func(c *sink.Config, d *sink.Deps) {
			d.HTTP = &http.Client{Transport: &http.Transport{DialContext: failFirstDial()}}
		}, true, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t, nil)
			cr := mustUpload(t, newClient(t, srv.URL(), fakecrk.TokFull, nil), "rx-1", 1000)
			c := newClient(t, srv.URL(), fakecrk.TokFull, tt.edit)
			tt.inject(srv)
			_, err := c.Reextract(t.Context(), cr.ID)
			if (err == nil) != tt.ok {
				t.Fatalf("reextract: %v, want ok=%v", err, tt.ok)
			}
			got, _ := srv.Recording(fakecrk.BizA, "rx-1")
			if n := srv.Count(fakecrk.EndpointReextract); n != tt.requests || got.Reextracts != tt.reextracts {
				t.Fatalf("%d requests, %d acted on; want %d and %d", n, got.Reextracts, tt.requests, tt.reextracts)
			}
		})
	}
}

// TestTimeout: an API request is bounded by Config.Timeout.
func TestTimeout(t *testing.T) {
	srv := startFake(t, nil)
	c := newClient(t, srv.URL(), fakecrk.TokFull, func(c *sink.Config, d *sink.Deps) { c.Timeout = 50 * time.Millisecond; c.Retry.Attempts = 2 })
	srv.SetFaults(fakecrk.Faults{Latency: 5 * time.Second})
	start := time.Now()
	_, err := c.WhoAmI(t.Context())
	took := time.Since(start)
	var ne *sink.NetError
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("whoami: %v, want a timeout", err)
	}
	if took >= 2*time.Second {
		t.Errorf("took %v", took)
	}
	if n := srv.Count(fakecrk.EndpointWhoami); n != 2 {
		t.Errorf("%d whoami requests, want 2 (whoami is retried)", n)
	}
}

// TestContextEndsRetryWait: a caller's context ends the wait for a retry.
func TestContextEndsRetryWait(t *testing.T) {
	srv := startFake(t, nil)
	c := newClient(t, srv.URL(), fakecrk.TokFull, func(c *sink.Config, d *sink.Deps) { c.Retry.MaxRetryAfter = time.Minute })
	srv.FailNext(fakecrk.EndpointCreate, http.StatusTooManyRequests, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Create(ctx, rec("cw-1"))
	if ae := apiError(t, err); ae.Status != 429 || !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), "gave up waiting to retry") {
		t.Fatalf("create: %v", err)
	}
	if took := time.Since(start); took >= 900*time.Millisecond {
		t.Errorf("took %v: the wait did not end with the context", took)
	}
	if n := srv.Count(fakecrk.EndpointCreate); n != 1 {
		t.Errorf("%d creates, want 1", n)
	}
}

// TestLimiterWaitEndsWithContext: a caller does not wait for the limiter
// past its context.
func TestLimiterWaitEndsWithContext(t *testing.T) {
	srv := startFake(t, nil)
	c := newClient(t, srv.URL(), fakecrk.TokFull, func(c *sink.Config, d *sink.Deps) { d.Limiter = sink.NewLimiter(1) })
	if _, err := c.WhoAmI(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.WhoAmI(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "crk whoami: waiting for the rate limiter: ") {
		t.Fatalf("whoami: %v", err)
	}
	if took := time.Since(start); took >= time.Second {
		t.Errorf("took %v", took)
	}
	if n := srv.Count(fakecrk.EndpointWhoami); n != 1 {
		t.Errorf("%d whoami requests, want 1", n)
	}
}
