package fakedtac

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRevokeLogins(t *testing.T) {
	keepalive := func(s *Server, tok string) int {
		return do(t, http.MethodGet, s.URL()+"/orktrack/rest/keepalive", map[string]string{"Authorization": tok}).code
	}
	s := start(t, Options{RevokeLogins: 2})
	for i, want := range []int{401, 401, 200} {
		if got := keepalive(s, login(t, s)); got != want {
			t.Errorf("log-in %d: keepalive answered %d, want %d", i+1, got, want)
		}
	}
	every := start(t, Options{RevokeLogins: -1})
	for i := range 3 {
		if got := keepalive(every, login(t, every)); got != 401 {
			t.Errorf("every log-in revoked: log-in %d's token answered %d", i+1, got)
		}
	}
	if every.Logins() != 3 {
		t.Errorf("%d log-ins counted, want 3", every.Logins())
	}
	if _, err := Start(Options{RevokeLogins: -2}); err == nil {
		t.Error("RevokeLogins -2 accepted")
	}
}

// TestRejectToken: every answer to a dead token, on the listing, the audio
// and keepalive, with the 200 answers' Content-Type as set.
func TestRejectToken(t *testing.T) {
	for _, tc := range []struct {
		reject TokenRejection
		ctype  string
		code   int
		want   string // Content-Type
		body   string
	}{
		{Reject401, "", 401, "application/json", `{"error":"not authenticated"}`},
		{Reject403, "", 403, "application/json", `{"error":"access denied"}`},
		{Reject403, "audio/x-wav", 403, "application/json", `{"error":"access denied"}`},
		{Reject200InvalidAccessToken, "", 200, "application/json", `{"error":"invalid access token"}`},
		{Reject200SessionExpired, "", 200, "application/json", `{"error":"session expired"}`},
		{Reject200InvalidTokenMessage, "", 200, "application/json", `{"message":"Invalid token"}`},
		{Reject200InvalidAccessToken, "audio/x-wav", 200, "audio/x-wav", `{"error":"invalid access token"}`},
		{Reject200InvalidAccessToken, NoContentType, 200, "", `{"error":"invalid access token"}`},
	} {
		s := start(t, Options{RejectToken: tc.reject, RejectTokenContentType: tc.ctype})
		addN(s, 1, func(int) time.Time { return t0 })
		tok := login(t, s)
		s.ExpireSessions()
		for _, u := range []string{listURL(s, t0, t0.Add(time.Hour), 1, 5), s.URL() + "/orktrack/rest/mediastream/1000", s.URL() + "/orktrack/rest/keepalive"} {
			a := do(t, "GET", u, map[string]string{"Authorization": tok})
			if a.code != tc.code || a.header.Get("Content-Type") != tc.want || strings.TrimSpace(a.body) != tc.body {
				t.Errorf("RejectToken %d, content type %q: %s: HTTP %d %q %q, want %d %q %q",
					tc.reject, tc.ctype, u, a.code, a.header.Get("Content-Type"), a.body, tc.code, tc.want, tc.body)
			}
		}
		if got := getPage(t, listURL(s, t0, t0.Add(time.Hour), 1, 5), login(t, s)); len(got.Objects) != 1 {
			t.Errorf("a fresh token lists %d recordings", len(got.Objects))
		}
	}
	if _, err := Start(Options{RejectToken: 99}); err == nil {
		t.Error("an unknown RejectToken was accepted")
	}
}
