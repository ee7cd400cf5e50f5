package threecx

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/httpsafe"
	"github.com/crkai/syncd/internal/httpsafe/httpsafetest"
)

const accessToken = "eyJhbGciOi.eyJzdWIiOiJzeW5jZCJ9.c2lnbmF0dXJl"

// tokenAnswerJSON is a client-credentials answer with accessToken.
const tokenAnswerJSON = `{"token_type":"Bearer","expires_in":60,"access_token":"` + accessToken + `","refresh_token":null}`

// TestGzipBombs: a listing page or a token answer that inflates far past
// its bound is an error saying so, and is never held: what the process
// allocates stays well below the inflated size.
func TestGzipBombs(t *testing.T) {
	const bombSize = 100 << 20
	for _, tc := range []struct {
		name string
		path string
		body [2]string
		want string
	}{
		{"listing page", "/xapi/v1/Recordings", [2]string{`{"@odata.count":1,"value":[`, `]}`}, "reading the page: the listing page is larger than 32 MiB"},
		{"token answer", "/connect/token", [2]string{`{"token_type":"Bearer","access_token":"` + accessToken + `","x":`, `1}`}, "the log-in answer is larger than 1 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bomb := httpsafetest.GzipBomb(http.StatusOK, "application/json", tc.body[0], bombSize, tc.body[1])
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tc.path {
					bomb.ServeHTTP(w, r)
					return
				}
				_, _ = io.WriteString(w, tokenAnswerJSON)
			}))
			t.Cleanup(srv.Close)
			c := connect(t, srv.URL, clientConfig(), nil)
			var err error
			alloc := httpsafetest.Allocated(func() { _, err = c.List(t.Context(), base, base.Add(time.Hour)) })
			if !errors.Is(err, httpsafe.ErrTooLarge) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("List: %v, want an error with %q", err, tc.want)
			}
			if alloc > 64<<20 {
				t.Errorf("allocated %s reading a bomb of %s", httpsafetest.MB(alloc), httpsafetest.MB(bombSize))
			}
		})
	}
}

// TestRedirectNeverCarriesCredentials: a PBX that redirects the token
// request (a 307 sends the form with the client secret again) or a
// listing (with the Bearer token) from https to http gets an error saying
// so; the clear-text server never sees the token or the secret. The
// connector applies the policy itself to a client that has none.
func TestRedirectNeverCarriesCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		code       int
	}{
		{"token request, 307", "/connect/token", http.StatusTemporaryRedirect},
		{"listing, 302", "/xapi/v1/Recordings", http.StatusFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var leaked []string
			plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				if a := r.Header.Get("Authorization"); a != "" {
					leaked = append(leaked, a)
				}
				if strings.Contains(string(b), clientSecret) {
					leaked = append(leaked, "the client secret")
				}
				mu.Unlock()
			}))
			t.Cleanup(plain.Close)
			pbx := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tc.path {
					http.Redirect(w, r, plain.URL+r.URL.Path+"?leak=1", tc.code)
					return
				}
				_, _ = io.WriteString(w, tokenAnswerJSON)
			}))
			t.Cleanup(pbx.Close)
			cfg := clientConfig()
			cfg.BaseURL = pbx.URL
			deps := connectDeps()
			deps.HTTP = pbx.Client() // trusts the PBX's certificate; no redirect policy of its own
			c, err := New(cfg, deps)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.List(t.Context(), base, base.Add(time.Hour))
			want := "refusing to follow a redirect from " + pbx.URL + tc.path + " to " + plain.URL + tc.path + " with credentials"
			if !errors.Is(err, httpsafe.ErrUnsafeRedirect) || !strings.Contains(err.Error(), want) {
				t.Fatalf("List: %v\nwant an error with %q", err, want)
			}
			if strings.Contains(err.Error(), accessToken) || strings.Contains(err.Error(), clientSecret) || strings.Contains(err.Error(), "?") {
				t.Errorf("the error holds a credential or a query: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(leaked) > 0 {
				t.Errorf("the clear-text server saw %q", leaked)
			}
		})
	}
}

// TestErrorDetailsAreScrubbed: an error page that echoes the request holds
// the token; the error quoting it does not, nor any Bearer credential or
// CRK key.
func TestErrorDetailsAreScrubbed(t *testing.T) {
	const crkKey = "crk_live_Zx9-Qw_81"
	for _, body := range []string{
		`{"error":{"code":"","message":"WARNINGS.XAPI.PROXY upstream refused: Authorization: Bearer ` + accessToken + ` X-Other: ` + crkKey + `"}}`,
		`upstream said: authorization=Bearer ` + accessToken + ` for client_secret=` + clientSecret,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/connect/token" {
				_, _ = io.WriteString(w, tokenAnswerJSON)
				return
			}
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, body)
		}))
		_, err := connect(t, srv.URL, clientConfig(), nil).List(t.Context(), base, base.Add(time.Hour))
		srv.Close()
		if err == nil {
			t.Fatal("List succeeded")
		}
		for _, secret := range []string{accessToken, crkKey, clientSecret, "Bearer e"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error holds %q: %v", secret, err)
			}
		}
		if !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("the error does not show where the echo was: %v", err)
		}
	}
}
