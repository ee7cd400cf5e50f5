package dtac

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/httpsafe"
)

// TestRedirectNeverCarriesTheToken: a portal that redirects the log-in or
// the listing to clear text or to another host gets an error saying so;
// the other server never sees the Basic credentials or the token. The
// connector applies the policy itself to a client that has none.
func TestRedirectNeverCarriesTheToken(t *testing.T) {
	const token = "11111111-2222-4333-8444-555555555555"
	for _, tc := range []struct {
		name     string
		tls      bool
		path     string // redirected
		wantFrom string
		reason   string
	}{
		{"https to http: log-in", true, "/orktrack/rest/user/login", "https://", "it leaves https for clear text"},
		{"https to http: listing", true, "/orktrack/rest/recordings", "https://", "it leaves https for clear text"},
		{"another host: listing", false, "/orktrack/rest/recordings", "http://", "it goes to another host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := newSpy(t, nil)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tc.path {
					http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
					return
				}
				_, _ = w.Write([]byte(`{"accesstoken":"` + token + `"}`))
			})
			var portal *httptest.Server
			if tc.tls {
				portal = httptest.NewTLSServer(h)
			} else {
				portal = httptest.NewServer(h)
			}
			t.Cleanup(portal.Close)
			deps := testDeps(t, token)
			deps.HTTP = portal.Client() // trusts the portal's certificate; no redirect policy of its own
			c, err := New(Config{BaseURL: portal.URL, Username: testUser, Password: testPass}, deps)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.List(ctxT(t), t0, t0.Add(time.Hour))
			want := "refusing to follow a redirect from " + tc.wantFrom + strings.TrimPrefix(strings.TrimPrefix(portal.URL, "https://"), "http://") +
				tc.path + " to " + other.URL + tc.path + " with credentials: " + tc.reason
			if !errors.Is(err, httpsafe.ErrUnsafeRedirect) || !strings.Contains(err.Error(), want) {
				t.Fatalf("List: %v\nwant an error with %q", err, want)
			}
			if strings.Contains(err.Error(), "?") || strings.Contains(err.Error(), token) {
				t.Errorf("the error holds a query or the token: %v", err)
			}
			for _, r := range other.requests() {
				if r.Header.Get("Authorization") != "" {
					t.Errorf("the other server saw Authorization on %s %s", r.Method, r.Path)
				}
			}
		})
	}
}
