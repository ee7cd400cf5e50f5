package threecx

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/fake/fakeclock"
	fake "github.com/crkai/syncd/internal/fake/fakethreecx"
)

func jwt(payload string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload)) + ".c2ln"
}

func TestTokenLifetime(t *testing.T) {
	now := time.Unix(1_780_000_000, 0)
	for _, tc := range []struct {
		name      string
		access    string
		expiresIn float64
		life      time.Duration
	}{
		{"exp−iat beats a minutes expires_in", jwt(`{"iat":1780000000,"exp":1780003600}`), 60, time.Hour},
		{"exp−iat beats a seconds expires_in", jwt(`{"iat":1780000000,"exp":1780000060}`), 60, time.Minute},
		{"exp alone, against the clock", jwt(`{"exp":1780000090}`), 60, 90 * time.Second},
		{"exp with base64 padding", strings.Replace(jwt(`{"exp":1780000090,"sub":"x"}`), ".c2ln", "==.c2ln", 1), 60, 90 * time.Second},
		{"no exp: expires_in as seconds", jwt(`{"iat":1780000000}`), 60, time.Minute},
		{"exp in the past: expires_in as seconds", jwt(`{"exp":1779990000}`), 60, time.Minute},
		{"exp years ahead: expires_in as seconds", jwt(`{"iat":1780000000,"exp":1880000000}`), 30, 30 * time.Second},
		{"exp not a number", jwt(`{"exp":"soon"}`), 45, 45 * time.Second},
		{"not a JWT", "opaque-token", 60, time.Minute},
		{"payload not base64", "a.%%%.c", 60, time.Minute},
		{"no expires_in either", "opaque", 0, time.Minute},
		{"absurd expires_in", "opaque", 1e12, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := newToken(tc.access, tc.expiresIn, now, slog.New(slog.DiscardHandler))
			if got := tok.expires.Sub(now); got != tc.life {
				t.Errorf("lifetime %v, want %v", got, tc.life)
			}
			margin := max(tc.life/10, min(5*time.Second, tc.life/2))
			if got, want := tok.refreshAt.Sub(now), tc.life-margin; got != want {
				t.Errorf("renews after %v, want %v (90%%, at least 5 s before)", got, want)
			}
		})
	}
}

func TestTokenRenewalMargin(t *testing.T) {
	now := time.Unix(1_780_000_000, 0)
	for _, tc := range []struct {
		life, renewAfter time.Duration
	}{
		{time.Hour, 54 * time.Minute},
		{60 * time.Second, 54 * time.Second},
		{20 * time.Second, 15 * time.Second}, // 10% is 2s: at least 5s before
		{6 * time.Second, 3 * time.Second},   // at least half when that is less than 5s
	} {
		tok := newToken(jwt(fmt.Sprintf(`{"iat":%d,"exp":%d}`, now.Unix(), now.Add(tc.life).Unix())), 0, now, slog.New(slog.DiscardHandler))
		if got := tok.refreshAt.Sub(now); got != tc.renewAfter {
			t.Errorf("a %v token renews after %v, want %v", tc.life, got, tc.renewAfter)
		}
	}
}

// TestLoginRefused: every refusal answer seen or assumed is ErrAuth with a
// message saying what to check, and only a TwoFactorAuth object is called
// a second factor.
func TestLoginRefused(t *testing.T) {
	std := fake.Options{}
	other := fake.Options{WrongPassword: fake.WrongPasswordAuthFailed, BadClient: fake.BadClient400}
	for _, tc := range []struct {
		name string
		opts fake.Options
		cfg  Config
		says []string
		not  []string
	}{
		{"wrong client secret, 401", std, Config{ClientID: clientID, ClientSecret: wrongSecret}, []string{"THREECX_CLIENT_ID", "401", "unauthorized"}, nil},
		{"unknown client, 401", std, Config{ClientID: "nobody", ClientSecret: clientSecret}, []string{"THREECX_CLIENT_SECRET"}, nil},
		{"wrong client secret, 400 invalid_client", other, Config{ClientID: clientID, ClientSecret: wrongSecret}, []string{"THREECX_CLIENT_ID", "400", "invalid_client"}, nil},
		{"wrong user password, 401", std, Config{Username: userName, Password: wrongSecret}, []string{"THREECX_PASSWORD", "401"}, nil},
		{"wrong user password, 200 AuthFailed", other, Config{Username: userName, Password: wrongSecret},
			[]string{"THREECX_USERNAME and THREECX_PASSWORD", "wrong username or password", `Status "AuthFailed"`}, []string{"second factor", "API client"}},
		{"user needing MFA", std, Config{Username: mfaUser, Password: userPassword},
			[]string{"second factor", `"Type":"Email"`, "create an API client", "Integrations → API", "THREECX_CLIENT_ID/THREECX_CLIENT_SECRET"}, []string{"wrong username"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFake(t, tc.opts)
			err := connect(t, srv.URL(), tc.cfg, nil).Check(t.Context())
			if !errors.Is(err, connectors.ErrAuth) {
				t.Fatalf("Check = %v, want ErrAuth", err)
			}
			t.Log(err)
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q says %q", err, s)
				}
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains a secret", err)
				}
			}
		})
	}
}

// TestUserLoginAnswers decodes GetAccessToken answers of every shape.
func TestUserLoginAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		ok, auth   bool
		says       string
	}{
		{"success with TwoFactorAuth null", `{"Status":"AuthSuccess","Token":{"token_type":"Bearer","expires_in":60,"access_token":"a.b.c","refresh_token":"r"},"TwoFactorAuth":null}`, 200, true, false, ""},
		{"success without TwoFactorAuth", `{"Status":"AuthSuccess","Token":{"access_token":"a.b.c","expires_in":3600}}`, 200, true, false, ""},
		{"AuthFailed, nulls", `{"Status":"AuthFailed","Token":null,"TwoFactorAuth":null}`, 200, false, true, "wrong username or password"},
		{"AuthFailed, nothing else", `{"Status":"AuthFailed"}`, 200, false, true, "wrong username or password"},
		{"another status", `{"Status":"UserLocked","Token":null}`, 200, false, true, `Status "UserLocked"`},
		{"second factor", `{"Status":"AuthFailed","Token":null,"TwoFactorAuth":{"Type":"Email"}}`, 200, false, true, "second factor"},
		{"AuthSuccess without a token", `{"Status":"AuthSuccess","Token":null}`, 200, false, false, "without an access token"},
		{"401 with a body", `{"Status":"AuthFailed"}`, 401, false, true, "401"},
		{"HTML", `<html>maintenance</html>`, 200, false, false, "reading the answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pbx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer pbx.Close()
			cfg := userConfig()
			cfg.BaseURL = pbx.URL
			c, _ := New(cfg, connectDeps())
			tok, err := c.userLogin(t.Context())
			switch {
			case tc.ok && (err != nil || tok.value != "a.b.c"):
				t.Fatalf("userLogin = %v, %v", tok, err)
			case !tc.ok && (err == nil || errors.Is(err, connectors.ErrAuth) != tc.auth || !strings.Contains(err.Error(), tc.says)):
				t.Fatalf("userLogin = %v; want an error saying %q, ErrAuth %v", err, tc.says, tc.auth)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		says []string // empty: valid
	}{
		{"API client", Config{BaseURL: "https://acme.3cx.co.th", ClientID: "a", ClientSecret: "b"}, nil},
		{"user", Config{BaseURL: "https://acme.3cx.co.th/", Username: "u", Password: "p"}, nil},
		// What a person configures is checked by internal/config (with
		// its variables' names); these are programmer's errors.
		{"both kinds", Config{BaseURL: "https://a", ClientID: "a", ClientSecret: "b", Username: "u", Password: "p"}, []string{"3cx: exactly one log-in"}},
		{"neither kind", Config{BaseURL: "https://a"}, []string{"3cx: exactly one log-in"}},
		{"secret without id", Config{BaseURL: "https://a", ClientSecret: "b"}, []string{"3cx: exactly one log-in"}},
		{"user without password", Config{BaseURL: "https://a", Username: "u"}, []string{"3cx: exactly one log-in"}},
		{"no base URL", Config{ClientID: "a", ClientSecret: "b"}, []string{"3cx: BaseURL is not"}},
		{"bad base URL", Config{BaseURL: "acme.3cx.co.th", ClientID: "a", ClientSecret: "b"}, []string{"3cx: BaseURL is not"}},
		{"negative page size", Config{BaseURL: "https://a", ClientID: "a", ClientSecret: "b", PageSize: -1}, []string{"3cx: PageSize is negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.cfg, connectors.Deps{})
			if len(tc.says) == 0 {
				if err != nil || c.Name() != "3cx" {
					t.Fatalf("New = %v, %v", c, err)
				}
				return
			}
			if err == nil {
				t.Fatal("New accepted it")
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "\"p\"") || strings.Contains(err.Error(), "\"b\"") {
				t.Errorf("error %q quotes a secret", err)
			}
		})
	}
}

// TestTokenRenewedBeforeExpiry runs with a fake clock shared by the PBX and
// the connector: in both units of expires_in, normal work never meets a
// 401, and the token is renewed once 90% of its real life has passed.
func TestTokenRenewedBeforeExpiry(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts fake.Options
		life time.Duration // what the connector believes
	}{
		{"minutes (before 20.0.9), exp claim", fake.Options{ExpiresUnit: time.Minute}, time.Hour},
		{"seconds (from 20.0.9), exp claim", fake.Options{ExpiresUnit: time.Second}, time.Minute},
		{"minutes, no exp claim: read as seconds", fake.Options{ExpiresUnit: time.Minute, NoExpClaim: true}, time.Minute},
		{"seconds, no exp claim", fake.Options{ExpiresUnit: time.Second, NoExpClaim: true}, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := fakeclock.New(base)
			tc.opts.Now = clock.Now
			srv := startFake(t, tc.opts)
			addRange(srv, 1, 3, base, fake.InboundExternal)
			c := connect(t, srv.URL(), clientConfig(), clock.Now)
			list := func() {
				t.Helper()
				if got, err := c.List(t.Context(), base, base.Add(time.Minute)); err != nil || len(got) != 3 {
					t.Fatalf("List at %v = %d recordings, %v", clock.Now().Sub(base), len(got), err)
				}
			}
			list()
			clock.Advance(tc.life * 89 / 100)
			list()
			if n := srv.TokenRequests(); n != 1 {
				t.Fatalf("%d log-ins before 90%% of the token's life, want 1", n)
			}
			clock.Advance(tc.life * 2 / 100)
			list()
			if n := srv.TokenRequests(); n != 2 {
				t.Fatalf("%d log-ins after 90%% of the token's life, want 2", n)
			}
			if n := srv.Unauthorized(); n != 0 {
				t.Errorf("%d requests met a 401 in normal work", n)
			}
		})
	}
}

func TestTokenRenewedOnceOn401(t *testing.T) {
	srv := startFake(t, fake.Options{})
	addRange(srv, 1, 2, base, fake.InboundExternal)
	c := connect(t, srv.URL(), clientConfig(), nil)
	if _, err := c.List(t.Context(), base, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	srv.RevokeTokens()
	got, err := c.List(t.Context(), base, base.Add(time.Minute))
	if err != nil || len(got) != 2 {
		t.Fatalf("List after the PBX revoked the token = %v, %v", got, err)
	}
	if n, u := srv.TokenRequests(), srv.Unauthorized(); n != 2 || u != 1 {
		t.Errorf("%d log-ins and %d 401s, want 2 and 1", n, u)
	}
}

// TestOneLoginAtATime has 16 callers find no token, then a revoked one,
// then an expired one: each time exactly one token granted (a user's
// revoked refresh token fails first, then it signs in; its expired access
// token is refreshed), never two requests at once.
func TestOneLoginAtATime(t *testing.T) {
	for _, cfg := range []Config{clientConfig(), userConfig()} {
		clock := fakeclock.New(base)
		srv := startFake(t, fake.Options{TokenDelay: 20 * time.Millisecond, ExpiresUnit: time.Second, Now: clock.Now})
		addRange(srv, 1, 2, base, fake.InboundExternal)
		c := connect(t, srv.URL(), cfg, clock.Now)
		burst := func(stage string, wantLogins int) {
			t.Helper()
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for range 16 {
				wg.Go(func() {
					_, err := c.List(t.Context(), base, base.Add(time.Minute))
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("%s: %v", stage, err)
				}
			}
			if n := srv.Grants(); n != wantLogins {
				t.Errorf("%s: %d tokens granted in all, want %d", stage, n, wantLogins)
			}
		}
		burst("no token yet", 1)
		srv.RevokeTokens()
		burst("token revoked", 2)
		clock.Advance(59 * time.Second)
		burst("token due", 3)
		if m := srv.ConcurrentTokenRequestsMax(); m != 1 {
			t.Errorf("%d log-ins were in flight at once, want 1", m)
		}
	}
}
