package threecx

import (
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeclock"
	fake "github.com/crkai/syncd/internal/fake/fakethreecx"
)

// signInStats is an hour of work against a PBX whose access tokens live
// 60 s: full sign-ins, refreshes and every request to the token endpoint.
type signInStats struct {
	logins, refreshes, tokenRequests, unauthorized, listings int
	counted                                                  uint64 // the connector's own Logins()
}

// signInsInAnHour lists once every step for an hour of a fake clock
// against a 20.0.8-like PBX (60 s access tokens; a user log-in also
// returns a 60-day refresh token) and counts the sign-ins.
func signInsInAnHour(tb testing.TB, cfg Config, opts fake.Options, step time.Duration) signInStats {
	tb.Helper()
	clock := fakeclock.New(base)
	opts.Now = clock.Now
	opts.ExpiresIn, opts.ExpiresUnit = 60, time.Second
	srv := startFake(tb, opts)
	addRange(srv, 1, 1, base, fake.InboundExternal)
	c := connect(tb, srv.URL(), cfg, clock.Now)
	for elapsed := time.Duration(0); elapsed < time.Hour; elapsed += step {
		if _, err := c.List(tb.Context(), base, base.Add(time.Minute)); err != nil {
			tb.Fatalf("at %v: %v", elapsed, err)
		}
		clock.Advance(step)
	}
	return signInStats{
		logins: srv.Logins(), refreshes: srv.Refreshes(), tokenRequests: srv.TokenRequests(),
		unauthorized: srv.Unauthorized(), listings: srv.Listings(), counted: c.Logins(),
	}
}

// TestSignInsPerHour: with 60-second tokens, a user signs in once an hour
// (then refreshes), whether syncd lists every 5 minutes or every second;
// an API client (no refresh token) signs in once per pass, no more.
func TestSignInsPerHour(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cfg        Config
		opts       fake.Options
		step       time.Duration
		maxLogins  int
		maxTokenRq int
	}{
		{"user, a pass every 5 min", userConfig(), fake.Options{}, 5 * time.Minute, 1, 13},
		{"user, a request every second", userConfig(), fake.Options{}, time.Second, 1, 67},
		{"user, form refresh rotating, a request every second", userConfig(), fake.Options{Refresh: fake.RefreshForm, RefreshRotates: true}, time.Second, 1, 67},
		{"user, refresh token only as a cookie, a pass every 5 min", userConfig(), fake.Options{RefreshCookieOnly: true}, 5 * time.Minute, 1, 13},
		{"user, refresh unsupported, a pass every 5 min", userConfig(), fake.Options{Refresh: fake.RefreshUnsupported}, 5 * time.Minute, 12, 13},
		{"API client, a pass every 5 min", clientConfig(), fake.Options{}, 5 * time.Minute, 12, 12},
		{"API client, a request every second", clientConfig(), fake.Options{}, time.Second, 67, 67},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := signInsInAnHour(t, tc.cfg, tc.opts, tc.step)
			t.Logf("1 h, %d listings: %d sign-ins (connector counted %d), %d refreshes, %d token requests, %d 401s",
				st.listings, st.logins, st.counted, st.refreshes, st.tokenRequests, st.unauthorized)
			if st.logins > tc.maxLogins || st.tokenRequests > tc.maxTokenRq || st.unauthorized != 0 {
				t.Errorf("%d sign-ins, %d token requests, %d 401s; want at most %d, %d and none", st.logins, st.tokenRequests, st.unauthorized, tc.maxLogins, tc.maxTokenRq)
			}
			if st.counted != uint64(st.logins) {
				t.Errorf("the connector counted %d sign-ins, the PBX granted %d", st.counted, st.logins)
			}
		})
	}
}
