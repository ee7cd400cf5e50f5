package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/crkai/syncd/internal/httpsafe"
)

// TestHTTPClientRedirectPolicy: the daemon's one client refuses to carry a
// token to another host, and follows redirects that carry none.
func TestHTTPClientRedirectPolicy(t *testing.T) {
	var sawAuth atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			sawAuth.Add(1)
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer api.Close()
	c := newHTTPClient(4)
	if c.CheckRedirect == nil {
		t.Fatal("newHTTPClient has no redirect policy")
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, api.URL+"/api/v1/meta/whoami", nil)
	req.Header.Set("Authorization", "Bearer crk_test_0123456789")
	if resp, err := c.Do(req); !errors.Is(err, httpsafe.ErrUnsafeRedirect) {
		if err == nil {
			resp.Body.Close()
		}
		t.Fatalf("a redirect to another host with the token: %v, want it refused", err)
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, api.URL+"/public", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("a redirect without credentials: %v", err)
	}
	resp.Body.Close()
	if n := sawAuth.Load(); n != 0 {
		t.Errorf("the other host saw Authorization %d times", n)
	}
}
