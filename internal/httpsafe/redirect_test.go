package httpsafe_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/crkai/syncd/internal/httpsafe"
)

func request(t *testing.T, method, url string, header ...string) *http.Request {
	t.Helper()
	var body io.Reader
	if method != http.MethodGet {
		body = strings.NewReader("client_secret=s3cr3t")
	}
	r, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

// TestCheckRedirectPolicy drives the policy with the requests net/http
// hands it: next is the redirect's request, via the chain so far.
func TestCheckRedirectPolicy(t *testing.T) {
	const tok = "crk_secret_0123456789"
	for _, tc := range []struct {
		name     string
		first    *http.Request
		next     *http.Request
		wantErr  string // "" to follow
		resentBy bool   // next resends the body (307/308)
	}{
		{"https to http, same host, Authorization", request(t, "GET", "https://crk.example/api/v1/meta/whoami?x=1", "Authorization", "Bearer "+tok),
			request(t, "GET", "http://crk.example/api/v1/meta/whoami?sig=abc"),
			"refusing to follow a redirect from https://crk.example/api/v1/meta/whoami to http://crk.example/api/v1/meta/whoami with credentials: it leaves https for clear text", false},
		{"https to http, same host and explicit port", request(t, "GET", "https://crk.example:8443/a", "Authorization", "raw-dtac-token"),
			request(t, "GET", "http://crk.example:8443/a"), "it leaves https for clear text", false},
		{"another host", request(t, "GET", "https://crk.example/a", "Authorization", "Bearer "+tok),
			request(t, "GET", "https://evil.example/a"), "refusing to follow a redirect from https://crk.example/a to https://evil.example/a with credentials: it goes to another host", false},
		{"another port", request(t, "GET", "http://127.0.0.1:8080/a", "Authorization", "Bearer "+tok),
			request(t, "GET", "http://127.0.0.1:9090/a"), "it goes to another host", false},
		{"a cookie", request(t, "GET", "https://portal.example/a", "Cookie", "JSESSIONID=abc"),
			request(t, "GET", "http://portal.example/a"), "it leaves https", false},
		{"a log-in form resent by a 307", request(t, "POST", "https://pbx.example/connect/token"),
			request(t, "POST", "http://pbx.example/connect/token"), "it leaves https", true},
		{"same origin with credentials", request(t, "GET", "https://crk.example/a", "Authorization", "Bearer "+tok),
			request(t, "GET", "https://CRK.example:443/b"), "", false},
		{"http to https upgrade", request(t, "GET", "http://127.0.0.1:80/a", "Authorization", "Bearer "+tok),
			request(t, "GET", "https://127.0.0.1:80/a"), "", false},
		{"no credentials: anywhere", request(t, "GET", "https://storage.example/put?X-Amz-Signature=1"),
			request(t, "GET", "http://other.example/x"), "", false},
		{"a POST turned into a GET by a 302", request(t, "POST", "https://pbx.example/connect/token"),
			request(t, "GET", "http://pbx.example/"), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.resentBy {
				tc.next.GetBody = tc.first.GetBody
			}
			err := httpsafe.CheckRedirect(tc.next, []*http.Request{tc.first})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr == "":
				return
			case err == nil || !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("CheckRedirect = %v, want an error with %q", err, tc.wantErr)
			case !errors.Is(err, httpsafe.ErrUnsafeRedirect):
				t.Errorf("%v does not match ErrUnsafeRedirect", err)
			}
			for _, leak := range []string{tok, "raw-dtac-token", "?", "sig=", "JSESSIONID", "s3cr3t"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("the error holds %q: %v", leak, err)
				}
			}
		})
	}
}

func TestCheckRedirectStopsAfterTen(t *testing.T) {
	via := make([]*http.Request, 10)
	for i := range via {
		via[i] = request(t, "GET", "https://crk.example/a")
	}
	if err := httpsafe.CheckRedirect(request(t, "GET", "https://crk.example/b"), via); err == nil {
		t.Fatal("an 11th redirect was followed")
	}
}

func TestWithRedirectPolicy(t *testing.T) {
	own := func(*http.Request, []*http.Request) error { return nil }
	withOwn := &http.Client{CheckRedirect: own}
	if httpsafe.WithRedirectPolicy(withOwn) != withOwn {
		t.Error("a client with a policy of its own was replaced")
	}
	tr := &http.Transport{}
	plain := &http.Client{Transport: tr}
	got := httpsafe.WithRedirectPolicy(plain)
	if got == plain || got.Transport != tr || got.CheckRedirect == nil || plain.CheckRedirect != nil {
		t.Errorf("WithRedirectPolicy(plain) = %+v: want a copy sharing the transport, with the policy, the original untouched", got)
	}
	if c := httpsafe.WithRedirectPolicy(nil); c == nil || c.CheckRedirect == nil {
		t.Error("WithRedirectPolicy(nil) has no policy")
	}
}

// TestRedirectOverRealHTTP: an https server that redirects to a plain one
// on loopback; the plain one must never see the Authorization header, and
// a request without credentials still follows.
func TestRedirectOverRealHTTP(t *testing.T) {
	var mu sync.Mutex
	var sawAuth []string
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sawAuth = append(sawAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		_, _ = io.WriteString(w, "plain")
	}))
	defer plain.Close()
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.Path+"?token=leak", http.StatusFound)
	}))
	defer tls.Close()
	client := httpsafe.WithRedirectPolicy(tls.Client())

	req := request(t, "GET", tls.URL+"/api/v1/meta/whoami", "Authorization", "Bearer crk_secret_0123456789")
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("the redirect was followed with credentials")
	}
	if !errors.Is(err, httpsafe.ErrUnsafeRedirect) || !strings.Contains(err.Error(), "refusing to follow a redirect from https://") {
		t.Errorf("error %v", err)
	}
	resp, err = client.Do(request(t, "GET", tls.URL+"/public"))
	if err != nil {
		t.Fatalf("a request without credentials: %v", err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(sawAuth) != 1 || sawAuth[0] != "" {
		t.Errorf("the plain server saw %q, want one request without Authorization", sawAuth)
	}
}
