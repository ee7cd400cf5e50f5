package dtac

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestErrorTextsAreScrubbed: a proxy or error page that echoes the request
// puts credentials in its body; the errors quoting it hold none of them.
func TestErrorTextsAreScrubbed(t *testing.T) {
	const (
		token  = "11111111-2222-4333-8444-555555555555"
		crkKey = "crk_live_Zx9-Qw_81"
	)
	basic := base64.StdEncoding.EncodeToString([]byte(testUser + ":" + testPass))
	echo := func(r *http.Request) string {
		return "<html><body><h1>502 Bad Gateway</h1><pre>" + r.Method + " " + r.URL.Path +
			"\nAuthorization: " + r.Header.Get("Authorization") +
			"\nX-Upstream-Auth: Bearer " + crkKey + "</pre><p>password=" + testPass + "</p></body></html>"
	}
	for _, tc := range []struct {
		name   string
		failOn string
		status int
		ctype  string
	}{
		{"log-in answers 502", "/orktrack/rest/user/login", 502, "text/html"},
		{"log-in answers 200 with HTML", "/orktrack/rest/user/login", 200, "text/html"},
		{"listing answers 502", "/orktrack/rest/recordings", 502, "text/html"},
		{"listing answers 200 with HTML", "/orktrack/rest/recordings", 200, "text/html"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newSpy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tc.failOn {
					w.Header().Set("Content-Type", tc.ctype)
					w.WriteHeader(tc.status)
					_, _ = w.Write([]byte(echo(r)))
					return
				}
				_, _ = w.Write([]byte(`{"accesstoken":"` + token + `"}`))
			}))
			c := newTestConnector(t, srv.URL, testPass, 5)
			_, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
			if err == nil {
				t.Fatal("List succeeded")
			}
			for _, secret := range []string{token, crkKey, basic, testPass} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error holds %q: %v", secret, err)
				}
			}
			if !strings.Contains(err.Error(), "[redacted]") {
				t.Errorf("the error does not show where the echo was: %v", err)
			}
		})
	}
}
