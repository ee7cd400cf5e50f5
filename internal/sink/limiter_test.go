package sink_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
)

// TestSharedLimiter: clients sharing one sink.NewLimiter(R) stay within a
// server's limit of R a minute; without it the same load is refused.
func TestSharedLimiter(t *testing.T) {
	t.Parallel()
	const (
		perMinute = 6000 // 100 a second, so that the test is short
		calls     = 120
		workers   = 8
	)
	run := func(t *testing.T, limited bool) (*fakecrk.Server, time.Duration, []error) {
		srv := startFake(t, func(o *fakecrk.Options) { o.RateLimit, o.Burst = perMinute, 20 })
		limiter := sink.NewLimiter(perMinute)
		clients := make([]*client, 2)
		for i := range clients {
			clients[i] = newClient(t, srv.URL(), fakecrk.TokFull, func(c *sink.Config, d *sink.Deps) {
				if limited {
					d.Limiter = limiter
				} else {
					c.Retry.Attempts = 1
				}
			})
		}
		var wg sync.WaitGroup
		errs := make([]error, calls)
		jobs := make(chan int)
		start := time.Now()
		for w := range workers {
			wg.Go(func() {
				c := clients[w%len(clients)]
				for i := range jobs {
					if i%2 == 0 {
						_, errs[i] = c.Create(t.Context(), rec(fmt.Sprintf("lim-%d", i)))
					} else {
						_, errs[i] = c.WhoAmI(t.Context())
					}
				}
			})
		}
		for i := range calls {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		return srv, time.Since(start), errs
	}
	refused := func(srv *fakecrk.Server) int {
		return srv.Requests(fakecrk.EndpointCreate, 429) + srv.Requests(fakecrk.EndpointWhoami, 429)
	}

	t.Run("shared limiter", func(t *testing.T) {
		srv, took, errs := run(t, true)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		if n := refused(srv); n != 0 {
			t.Errorf("%d answers 429, want none", n)
		}
		if n := srv.Count(fakecrk.EndpointCreate) + srv.Count(fakecrk.EndpointWhoami); n != calls {
			t.Errorf("%d requests, want %d", n, calls)
		}
		// 120 calls at 100 a second, evenly spaced: at least 1.19 s.
		if min := time.Duration(calls-1) * time.Minute / perMinute; took < min*9/10 {
			t.Errorf("%d calls took %v: faster than the limit allows (%v)", calls, took, min)
		}
	})
	t.Run("no limiter", func(t *testing.T) {
		srv, _, _ := run(t, false)
		if refused(srv) == 0 {
			t.Errorf("the fake refused nothing without a limiter: the test above proves nothing")
		}
	})
}
