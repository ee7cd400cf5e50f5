package sink_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/httpsafe"
	"github.com/crkai/syncd/internal/httpsafe/httpsafetest"
	"github.com/crkai/syncd/internal/sink"
)

// hostileToken is the token of the tests against hostile servers.
const hostileToken = "crk_live_9f8e7d6c5b4a_Zz-1"

// hostileClient is a sink.Client of baseURL through hc (a plain client
// when nil), with fast retries.
func hostileClient(t *testing.T, baseURL string, hc *http.Client) *sink.Client {
	t.Helper()
	if hc == nil {
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		hc = &http.Client{Transport: tr}
	}
	c, err := sink.New(sink.Config{
		BaseURL: baseURL, Token: hostileToken,
		Retry: sink.Retry{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond},
	}, sink.Deps{Shared: deps.Shared{HTTP: hc}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// noToken fails the test when err's text holds the token or a Bearer
// credential.
func noToken(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	s := err.Error()
	if strings.Contains(s, hostileToken) || strings.Contains(s, "9f8e7d6c5b4a") {
		t.Errorf("%s: the error holds the token: %s", what, s)
	}
	if strings.Contains(strings.ReplaceAll(s, "Bearer [redacted]", ""), "Bearer") {
		t.Errorf("%s: the error holds a Bearer credential: %s", what, s)
	}
}

// TestTokenScrubbedFromErrors: a proxy page or an error message that
// echoes the request holds the token; no error text built from a body
// does, nor any Bearer credential or crk_ key.
func TestTokenScrubbedFromErrors(t *testing.T) {
	echo := func(r *http.Request) string {
		return "<html><body><h1>500 Internal Server Error</h1><pre>" + r.Method + " " + r.URL.Path +
			"\nAuthorization: " + r.Header.Get("Authorization") + "\nX-Forwarded-Auth: " + r.Header.Get("Authorization") +
			"\nX-Key: " + hostileToken + "</pre></body></html>"
	}
	jsonEcho := func(r *http.Request) string {
		return `{"error":{"code":"internal_error","message":"upstream refused the request with headers {Authorization: ` +
			r.Header.Get("Authorization") + `} and key ` + hostileToken + `"}}`
	}
	for _, tc := range []struct {
		name   string
		status int
		ctype  string
		body   func(*http.Request) string
	}{
		{"HTML proxy page", http.StatusInternalServerError, "text/html", echo},
		{"JSON error message", http.StatusInternalServerError, "application/json", jsonEcho},
		{"401 with the JSON shape", http.StatusUnauthorized, "application/json", func(r *http.Request) string {
			return `{"error":{"code":"invalid_token","message":"unknown token ` + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + `"}}`
		}},
		{"plain text", http.StatusBadGateway, "text/plain", func(r *http.Request) string {
			return "bad gateway for bearer " + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body(r))
			}))
			t.Cleanup(srv.Close)
			c := hostileClient(t, srv.URL+"/api/v1", nil)
			_, err := c.WhoAmI(t.Context())
			noToken(t, "whoami", err)
			var ae *sink.APIError
			if !errors.As(err, &ae) || ae.Status != tc.status || !strings.Contains(ae.Message, "[redacted]") {
				t.Errorf("whoami: %v, want an *APIError %d whose message shows where the echo was", err, tc.status)
			}
			_, err = c.Create(t.Context(), sink.Recording{DataID: "dtac-1", CallAt: time.Now(), Direction: "in"})
			noToken(t, "create", err)
		})
	}

	t.Run("notification gateway", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"ok":false,"error":"telegram said: request with `+r.Header.Get("Authorization")+` refused"}`)
		}))
		t.Cleanup(srv.Close)
		err := hostileClient(t, srv.URL+"/api/v1", nil).Notify(t.Context(), sink.Notification{Channel: sink.ChannelInApp, Title: "t", Body: "b"})
		noToken(t, "notify", err)
		if !errors.Is(err, sink.ErrDeliveryFailed) {
			t.Errorf("notify: %v, want a delivery failure", err)
		}
	})

	t.Run("storage", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `<Error><Code>AccessDenied</Code><Message>signature of `+hostileToken+` refused</Message></Error>`)
		}))
		t.Cleanup(srv.Close)
		err := hostileClient(t, srv.URL+"/api/v1", nil).Upload(t.Context(), srv.URL+"/bucket/x?X-Amz-Signature=s", "audio/wav", strings.NewReader("RIFF"), 4)
		noToken(t, "upload", err)
	})
}

// TestRedirectNeverCarriesTheToken: an API that redirects from https to
// http, or to another host, gets an error saying so (not retried); the
// other server never sees the Authorization header. A redirect within
// the API's origin is still followed. sink.New applies the policy to a
// client that has none, without changing the caller's client.
func TestRedirectNeverCarriesTheToken(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tls    bool
		reason string
	}{
		{"https to http", true, "it leaves https for clear text"},
		{"another host", false, "it goes to another host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var sawAuth []string
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				sawAuth = append(sawAuth, r.Header.Get("Authorization"))
				mu.Unlock()
				_, _ = io.WriteString(w, `{"level":"business","business":{"id":"b"},"scopes":[]}`)
			}))
			t.Cleanup(other.Close)
			var hits atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				http.Redirect(w, r, other.URL+r.URL.Path+"?sig=abc", http.StatusFound)
			})
			var api *httptest.Server
			if tc.tls {
				api = httptest.NewTLSServer(h)
			} else {
				api = httptest.NewServer(h)
			}
			t.Cleanup(api.Close)
			hc := api.Client() // trusts the API's certificate; no redirect policy of its own
			_, err := hostileClient(t, api.URL+"/api/v1", hc).WhoAmI(t.Context())
			want := "refusing to follow a redirect from " + api.URL + "/api/v1/meta/whoami to " + other.URL + "/api/v1/meta/whoami with credentials: " + tc.reason
			if !errors.Is(err, httpsafe.ErrUnsafeRedirect) || !strings.Contains(err.Error(), want) {
				t.Fatalf("whoami: %v\nwant an error with %q", err, want)
			}
			noToken(t, "whoami", err)
			if strings.Contains(err.Error(), "sig=") {
				t.Errorf("the error holds the redirect's query: %v", err)
			}
			if n := hits.Load(); n != 1 {
				t.Errorf("the refused redirect was tried %d times, want once", n)
			}
			if hc.CheckRedirect != nil {
				t.Error("sink.New changed the caller's client")
			}
			mu.Lock()
			defer mu.Unlock()
			for _, a := range sawAuth {
				if a != "" {
					t.Errorf("the other server saw Authorization %q", a)
				}
			}
		})
	}

	t.Run("same origin is followed", func(t *testing.T) {
		var auth atomic.Value
		api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v1/meta/whoami" {
				http.Redirect(w, r, "/v2/meta/whoami", http.StatusPermanentRedirect)
				return
			}
			auth.Store(r.Header.Get("Authorization"))
			_, _ = io.WriteString(w, `{"level":"business","business":{"id":"b"},"scopes":[]}`)
		}))
		t.Cleanup(api.Close)
		if _, err := hostileClient(t, api.URL+"/api/v1", api.Client()).WhoAmI(t.Context()); err != nil {
			t.Fatalf("whoami through a same-origin redirect: %v", err)
		}
		if got, _ := auth.Load().(string); got != "Bearer "+hostileToken {
			t.Errorf("the redirect's target saw Authorization %q", got)
		}
	})
}

// TestGzipBombAnswers: a JSON answer that inflates far past its bound is
// an error saying so, not retried, and never held: what the process
// allocates stays well below the inflated size. Error bodies are read
// only as far as their quoted start.
func TestGzipBombAnswers(t *testing.T) {
	const bombSize = 100 << 20
	for _, tc := range []struct {
		name   string
		status int
		call   func(context.Context, *sink.Client) error
		check  func(t *testing.T, err error)
	}{
		{"whoami answer", http.StatusOK, func(ctx context.Context, c *sink.Client) error { _, err := c.WhoAmI(ctx); return err },
			func(t *testing.T, err error) {
				if !errors.Is(err, httpsafe.ErrTooLarge) || !strings.Contains(err.Error(), "the whoami answer is larger than 4 MiB") {
					t.Errorf("whoami: %v", err)
				}
			}},
		{"list answer", http.StatusOK, func(ctx context.Context, c *sink.Client) error { _, err := c.List(ctx, sink.Query{}); return err },
			func(t *testing.T, err error) {
				if !errors.Is(err, httpsafe.ErrTooLarge) || !strings.Contains(err.Error(), "the list answer is larger than 4 MiB") {
					t.Errorf("list: %v", err)
				}
			}},
		{"error body", http.StatusInternalServerError, func(ctx context.Context, c *sink.Client) error { _, err := c.WhoAmI(ctx); return err },
			func(t *testing.T, err error) {
				var ae *sink.APIError
				if !errors.As(err, &ae) || ae.Status != 500 {
					t.Errorf("whoami: %v, want an *APIError 500", err)
				}
			}},
		{"notification gateway answer", http.StatusOK, func(ctx context.Context, c *sink.Client) error {
			return c.Notify(ctx, sink.Notification{Channel: sink.ChannelInApp, Title: "t", Body: "b"})
		}, func(t *testing.T, err error) {
			if err != nil { // a 2xx is a delivery; its unreadable answer is only logged
				t.Errorf("notify: %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			bomb := httpsafetest.GzipBomb(tc.status, "application/json", `{"items":[`, bombSize, `],"total":0}`)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				bomb.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			c := hostileClient(t, srv.URL+"/api/v1", nil)
			var err error
			alloc := httpsafetest.Allocated(func() { err = tc.call(t.Context(), c) })
			tc.check(t, err)
			if alloc > 64<<20 {
				t.Errorf("allocated %s reading a bomb of %s", httpsafetest.MB(alloc), httpsafetest.MB(bombSize))
			}
			if n := hits.Load(); tc.status == http.StatusOK && n != 1 {
				t.Errorf("%d requests: a too large answer must not be asked again", n)
			}
		})
	}
}
