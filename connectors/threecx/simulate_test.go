package threecx

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeclock"
	fake "github.com/crkai/syncd/internal/fake/fakethreecx"
)

// runStats is what a simulated run of the connector against the fake cost.
type runStats struct {
	requests, logins, maxConcurrentLogins, unauthorized int
}

// simulate runs callers concurrent List calls at every step of a fake clock
// across span, against a PBX whose expires_in is 60 in unit, and counts the
// log-ins.
func simulate(tb testing.TB, unit time.Duration, noExp bool, span, step time.Duration, callers int) runStats {
	tb.Helper()
	clock := fakeclock.New(base)
	srv := startFake(tb, fake.Options{ExpiresIn: 60, ExpiresUnit: unit, NoExpClaim: noExp, Now: clock.Now})
	addRange(srv, 1, 1, base, fake.InboundExternal)
	c := connect(tb, srv.URL(), clientConfig(), clock.Now)
	errs := make(chan error, callers)
	for elapsed := time.Duration(0); elapsed < span; elapsed += step {
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				_, err := c.List(tb.Context(), base, base.Add(time.Minute))
				if err != nil {
					errs <- fmt.Errorf("at %v: %w", elapsed, err)
				}
			})
		}
		wg.Wait()
		select {
		case err := <-errs:
			tb.Fatal(err)
		default:
		}
		clock.Advance(step)
	}
	return runStats{
		requests:            srv.Requests(recordingsPath),
		logins:              srv.TokenRequests(),
		maxConcurrentLogins: srv.ConcurrentTokenRequestsMax(),
		unauthorized:        srv.Unauthorized(),
	}
}

// tokenScenarios are the 2-hour runs: expires_in=60 meaning minutes or
// seconds, with and without the JWT's exp claim, and the log-ins expected
// with a renewal at 90% of the lifetime the connector believes, lazily (at
// the first request after it).
var tokenScenarios = []struct {
	name   string
	unit   time.Duration
	noExp  bool
	logins int // over 2h
}{
	{"minutes/exp", time.Minute, false, 3},   // 60 min tokens renewed after 54 min
	{"seconds/exp", time.Second, false, 75},  // 60 s tokens renewed after 54 s: every other 48 s step
	{"minutes/noexp", time.Minute, true, 75}, // 60 read as seconds: 50× more than needed, never a 401
	{"seconds/noexp", time.Second, true, 75},
}

// TestTokenRequests2h simulates two hours of two concurrent callers with a
// request every 48 s each (kept coarse to stay fast under -race; the
// benchmark runs every second).
func TestTokenRequests2h(t *testing.T) {
	for _, sc := range tokenScenarios {
		t.Run(sc.name, func(t *testing.T) {
			st := simulate(t, sc.unit, sc.noExp, 2*time.Hour, 48*time.Second, 2)
			t.Logf("2h, %d requests: %d log-ins, %d at once at most, %d 401s", st.requests, st.logins, st.maxConcurrentLogins, st.unauthorized)
			if st.logins != sc.logins || st.maxConcurrentLogins != 1 || st.unauthorized != 0 {
				t.Errorf("got %d log-ins (%d at once), %d 401s; want %d, 1, 0", st.logins, st.maxConcurrentLogins, st.unauthorized, sc.logins)
			}
		})
	}
}

// BenchmarkTokenRequests2h is the same run with four callers each making a
// request every two simulated seconds.
func BenchmarkTokenRequests2h(b *testing.B) {
	for _, sc := range tokenScenarios {
		b.Run(sc.name, func(b *testing.B) {
			var st runStats
			for b.Loop() {
				st = simulate(b, sc.unit, sc.noExp, 2*time.Hour, 2*time.Second, 4)
			}
			b.ReportMetric(float64(st.logins), "logins/2h")
			b.ReportMetric(float64(st.maxConcurrentLogins), "max-concurrent-logins")
			b.ReportMetric(float64(st.unauthorized), "401s")
			b.ReportMetric(float64(st.requests), "requests/2h")
		})
	}
}
