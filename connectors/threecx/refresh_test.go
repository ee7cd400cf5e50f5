package threecx

import (
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
	"github.com/crkai/syncd/internal/fake/fakelog"
	fake "github.com/crkai/syncd/internal/fake/fakethreecx"
)

// TestRefreshEveryShape: a user's expired access token is renewed with the
// refresh token, not a sign-in, wherever the PBX reads it from (cookie,
// form field, either), whether it rotates it, and when the log-in sent it
// only as a cookie; several renewals in a row keep working.
func TestRefreshEveryShape(t *testing.T) {
	for _, mode := range []struct {
		name string
		r    fake.Refresh
	}{{"cookie", fake.RefreshCookie}, {"form", fake.RefreshForm}, {"either", fake.RefreshEither}} {
		for _, rotates := range []bool{false, true} {
			for _, cookieOnly := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/rotates=%v/cookieOnly=%v", mode.name, rotates, cookieOnly), func(t *testing.T) {
					clock := fakeclock.New(base)
					srv := startFake(t, fake.Options{Now: clock.Now, ExpiresUnit: time.Second, Refresh: mode.r, RefreshRotates: rotates, RefreshCookieOnly: cookieOnly})
					addRange(srv, 1, 2, base, fake.InboundExternal)
					c := connect(t, srv.URL(), userConfig(), clock.Now)
					for i := range 4 {
						if got, err := c.List(t.Context(), base, base.Add(time.Minute)); err != nil || len(got) != 2 {
							t.Fatalf("List %d: %d recordings, %v", i, len(got), err)
						}
						clock.Advance(time.Minute) // the 60 s token has expired
					}
					if srv.Logins() != 1 || srv.Refreshes() != 3 || srv.TokenRequests() != 4 || srv.Unauthorized() != 0 {
						t.Errorf("PBX: %d sign-ins, %d refreshes, %d token requests, %d 401s; want 1, 3, 4, 0",
							srv.Logins(), srv.Refreshes(), srv.TokenRequests(), srv.Unauthorized())
					}
					if c.Logins() != 1 || c.Refreshes() != 3 {
						t.Errorf("connector counted %d sign-ins, %d refreshes; want 1, 3", c.Logins(), c.Refreshes())
					}
				})
			}
		}
	}
}

// TestRefreshAfter401: an access token the PBX refuses (expired early) is
// renewed with the refresh token, and a revoked refresh token falls back
// to one sign-in.
func TestRefreshAfter401(t *testing.T) {
	srv := startFake(t, fake.Options{})
	addRange(srv, 1, 1, base, fake.InboundExternal)
	c := connect(t, srv.URL(), userConfig(), nil)
	list := func() {
		t.Helper()
		if got, err := c.List(t.Context(), base, base.Add(time.Minute)); err != nil || len(got) != 1 {
			t.Fatalf("List: %d, %v", len(got), err)
		}
	}
	list()
	srv.ExpireAccessTokens()
	list()
	if srv.Logins() != 1 || srv.Refreshes() != 1 {
		t.Errorf("after a 401: %d sign-ins, %d refreshes; want 1, 1", srv.Logins(), srv.Refreshes())
	}
	srv.RevokeTokens() // refresh tokens too
	list()
	if srv.Logins() != 2 || srv.Refreshes() != 1 || srv.TokenRequests() != 4 {
		t.Errorf("after a revocation: %d sign-ins, %d refreshes, %d token requests; want 2, 1, 4 (a refused refresh, then a sign-in)",
			srv.Logins(), srv.Refreshes(), srv.TokenRequests())
	}
}

// TestRefreshUnsupported: a PBX answering unsupported_grant_type is not
// asked again for a day; each renewal is one sign-in.
func TestRefreshUnsupported(t *testing.T) {
	clock := fakeclock.New(base)
	srv := startFake(t, fake.Options{Now: clock.Now, ExpiresUnit: time.Second, Refresh: fake.RefreshUnsupported})
	addRange(srv, 1, 1, base, fake.InboundExternal)
	c := connect(t, srv.URL(), userConfig(), clock.Now)
	for range 5 {
		if _, err := c.List(t.Context(), base, base.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
	}
	if srv.Logins() != 5 || srv.TokenRequests() != 6 || c.Refreshes() != 1 {
		t.Errorf("%d sign-ins, %d token requests, %d refreshes tried; want 5, 6, 1", srv.Logins(), srv.TokenRequests(), c.Refreshes())
	}
	clock.Advance(25 * time.Hour)
	if _, err := c.List(t.Context(), base, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if c.Refreshes() != 2 {
		t.Errorf("a day later: %d refreshes tried, want 2 (tried again)", c.Refreshes())
	}
}

// TestRefreshFailingPauses: refresh tokens refused 3 times in a row are
// not tried for 6 hours (a failed refresh may count against 3CX's
// anti-hacking limit); a wrong password after a refused refresh is still
// ErrAuth.
func TestRefreshFailingPauses(t *testing.T) {
	clock := fakeclock.New(base)
	srv := startFake(t, fake.Options{Now: clock.Now, ExpiresUnit: time.Second})
	addRange(srv, 1, 1, base, fake.InboundExternal)
	c := connect(t, srv.URL(), userConfig(), clock.Now)
	for range 5 {
		srv.RevokeTokens()
		if _, err := c.List(t.Context(), base, base.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// Sign-in; then 3 × (refused refresh + sign-in); then sign-ins alone.
	if srv.Logins() != 5 || c.Refreshes() != 3 || srv.TokenRequests() != 8 {
		t.Errorf("%d sign-ins, %d refreshes tried, %d token requests; want 5, 3, 8", srv.Logins(), c.Refreshes(), srv.TokenRequests())
	}
	clock.Advance(7 * time.Hour)
	if _, err := c.List(t.Context(), base, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if c.Refreshes() != 4 || srv.Refreshes() != 1 {
		t.Errorf("6 h later: %d refreshes tried, %d granted; want 4, 1", c.Refreshes(), srv.Refreshes())
	}

	wrong := connect(t, srv.URL(), Config{Username: userName, Password: userPassword}, clock.Now)
	if _, err := wrong.List(t.Context(), base, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	srv.RevokeTokens()
	wrong.cfg.Password = wrongSecret // as if the password changed at the PBX
	if _, err := wrong.List(t.Context(), base, base.Add(time.Minute)); !errors.Is(err, connectors.ErrAuth) {
		t.Errorf("refused refresh, then a refused sign-in: %v, want ErrAuth", err)
	}
}

// TestRefreshRequest: what goes on the wire for a refresh, and that
// neither the refresh token nor the access token shows in an error or a
// log line when the PBX echoes them.
func TestRefreshRequest(t *testing.T) {
	const refresh = "rt-5ecret-2b8d41"
	var mu sync.Mutex
	var seen []string
	pbx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/webclient/api/Login/GetAccessToken":
			http.SetCookie(w, &http.Cookie{Name: "RefreshTokenCookie", Value: refresh, Path: "/connect/token"})
			io.WriteString(w, `{"Status":"AuthSuccess","Token":{"token_type":"Bearer","expires_in":60,"access_token":"`+accessToken+`","refresh_token":"`+refresh+`"},"TwoFactorAuth":null}`)
		case "/connect/token":
			r.ParseForm()
			ck, _ := r.Cookie("RefreshTokenCookie")
			seen = append(seen, fmt.Sprintf("%s|%s|%s|%v", r.PostForm.Get("client_id"), r.PostForm.Get("grant_type"), r.PostForm.Get("refresh_token"), ck != nil && ck.Value == refresh))
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"token `+refresh+` is not valid"}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer pbx.Close()
	logs := &fakelog.Buffer{}
	deps := connectDeps()
	deps.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := userConfig()
	cfg.BaseURL = pbx.URL
	c, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.List(t.Context(), base, base.Add(time.Minute))
	if err == nil {
		t.Fatal("a PBX refusing every token gave no error")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 || seen[0] != "Webclient|refresh_token|"+refresh+"|true" {
		t.Errorf("refresh requests %q, want client_id Webclient, grant_type refresh_token, the token in the form and the RefreshTokenCookie", seen)
	}
	for _, text := range []string{err.Error(), logs.String()} {
		if strings.Contains(text, refresh) || strings.Contains(text, accessToken) || strings.Contains(text, userPassword) {
			t.Errorf("a secret leaked: %s", text)
		}
	}
	if !strings.Contains(logs.String(), "invalid_grant") {
		t.Errorf("the refused refresh was not logged: %s", logs.String())
	}
}
