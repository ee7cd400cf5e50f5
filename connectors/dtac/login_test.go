package dtac

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/fake/fakeclock"
	"github.com/crkai/syncd/internal/fake/fakedtac"
)

func TestNewValidates(t *testing.T) {
	good := Config{BaseURL: "https://onecallvoicerecord.dtac.co.th/", Username: testUser, Password: testPass}
	const badURL = "dtac: BaseURL is not an absolute http(s) URL without credentials, query or fragment"
	for _, tc := range []struct {
		name string
		cfg  func(c *Config)
		want string // "" for valid
	}{
		{"good", func(c *Config) {}, ""},
		{"path prefix", func(c *Config) { c.BaseURL = "http://127.0.0.1:8080/proxy/" }, ""},
		// What a person configures is checked by internal/config; these
		// are programmer's errors, said briefly.
		{"empty", func(c *Config) { *c = Config{} }, badURL},
		{"relative", func(c *Config) { c.BaseURL = "onecallvoicerecord.dtac.co.th" }, badURL},
		{"ftp", func(c *Config) { c.BaseURL = "ftp://x" }, badURL},
		{"credentials in URL", func(c *Config) { c.BaseURL = "https://u:" + testPass + "@x" }, badURL},
		{"unparsable", func(c *Config) { c.BaseURL = "http://x y\x7f" }, badURL},
		{"query", func(c *Config) { c.BaseURL = "https://x/?a=b" }, badURL},
		{"no user", func(c *Config) { c.Username = " " }, "dtac: Username and Password are required"},
		{"no password", func(c *Config) { c.Password = "" }, "dtac: Username and Password are required"},
		{"negative page size", func(c *Config) { c.PageSize = -1 }, "dtac: PageSize is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.cfg(&cfg)
			c, err := New(cfg, connectors.Deps{})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Fatalf("New: %q, want %q", got, tc.want)
			}
			if err == nil && (c.Name() != "dtac" || c.pageSize != 500) {
				t.Errorf("Name %q, page size %d", c.Name(), c.pageSize)
			}
		})
	}
}

func TestLoginFailures(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := closed.Addr().String()
	closed.Close()

	for _, tc := range []struct {
		name     string
		mode     fakedtac.LoginFailure
		dead     bool
		want     string // with HOST for the portal's host:port
		wantAuth bool
	}{
		{"401", fakedtac.LoginFails401, false,
			"dtac: log in as +66811111111 at HOST: login refused (HTTP 401): wrong username or password", true},
		{"403", fakedtac.LoginFails403, false,
			"dtac: log in as +66811111111 at HOST: login refused (HTTP 403): wrong username or password", true},
		{"HTML page at 200", fakedtac.LoginFailsHTML200, false,
			`dtac: log in as +66811111111 at HOST: unexpected answer: HTTP 200 (text/html) is not the JSON log-in answer: "OrkTrack - Sign in Sign in Invalid username or password Sign in"`, false},
		{"HTML page at 500", fakedtac.LoginFailsHTML500, false,
			`dtac: log in as +66811111111 at HOST: unexpected answer: HTTP 500 (text/html): "HTTP Status 500 – Internal Server Error HTTP Status 500 – Internal Server Error Type Status Report Description The serve…"`, false},
		{"unreachable", 0, true,
			"dtac: log in as +66811111111 at HOST: portal unreachable: dial tcp HOST: connect: connection refused", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := deadAddr
			if !tc.dead {
				host = strings.TrimPrefix(startFake(t, fakedtac.Options{LoginFailure: tc.mode}).URL(), "http://")
			}
			c := newTestConnector(t, "http://"+host, "not-"+testPass, 5)
			for _, call := range []struct {
				name string
				err  error
			}{
				{"Check", c.Check(ctxT(t))},
				{"List", func() error { _, err := c.List(ctxT(t), t0, t0.Add(time.Hour)); return err }()},
			} {
				if call.err == nil {
					t.Fatalf("%s succeeded", call.name)
				}
				if want := strings.ReplaceAll(tc.want, "HOST", host); call.err.Error() != want {
					t.Errorf("%s error:\n got %q\nwant %q", call.name, call.err, want)
				}
				if errors.Is(call.err, connectors.ErrAuth) != tc.wantAuth {
					t.Errorf("%s: errors.Is(err, ErrAuth) = %v, want %v", call.name, !tc.wantAuth, tc.wantAuth)
				}
				if strings.Contains(call.err.Error(), testPass) {
					t.Errorf("%s error contains the password", call.name)
				}
			}
		})
	}
}

func TestLoginAnswerNeverEchoesSecrets(t *testing.T) {
	const token = "5f0c7c1e-1d2b-4c55-9e51-2b6a2d4b6f11"
	for _, tc := range []struct {
		name string
		code int
		body string
		want string
	}{
		{"password in an error page", 500, "<html><body><p>Bad request for user +66811111111 with password " + testPass + "</p></body></html>",
			`unexpected answer: HTTP 500 (text/html): "Bad request for user +66811111111 with password [redacted]"`},
		{"token in a non-JSON 200", 200, "accesstoken=" + token + " password=" + testPass,
			`unexpected answer: HTTP 200 (text/html) is not the JSON log-in answer: "accesstoken=` + token + ` password=[redacted]"`},
		{"no token", 200, `{"user":{}}`, "unexpected answer: HTTP 200 (text/html) without a usable accesstoken"},
		{"token with a newline", 200, `{"accesstoken":"a\nb"}`, "unexpected answer: HTTP 200 (text/html) without a usable accesstoken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newSpy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tc.code)
				_, _ = w.Write([]byte(tc.body))
			}))
			c := newTestConnector(t, srv.URL, testPass, 5)
			err := c.Check(ctxT(t))
			if err == nil || !strings.HasSuffix(err.Error(), tc.want) {
				t.Fatalf("Check: %v\nwant …%s", err, tc.want)
			}
			if strings.Contains(err.Error(), testPass) {
				t.Fatal("the error contains the password")
			}
		})
	}
}

// TestRequestShape checks what the connector sends, through a spying proxy
// in front of the fake.
func TestRequestShape(t *testing.T) {
	fake := startFake(t, fakedtac.Options{})
	ids := addRecordings(fake, 3, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) })
	target, _ := url.Parse(fake.URL())
	proxy := newSpy(t, httputil.NewSingleHostReverseProxy(target))
	c := newTestConnector(t, proxy.URL, testPass, 2)

	recs, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
	if err != nil || len(recs) != 3 {
		t.Fatalf("List: %d recordings, %v", len(recs), err)
	}
	a, err := c.Open(ctxT(t), recs[0])
	if err != nil {
		t.Fatal(err)
	}
	a.Body.Close()

	seen := proxy.requests()
	if len(seen) != 4 {
		t.Fatalf("%d requests, want login, 2 pages, audio", len(seen))
	}
	login := seen[0]
	wantBasic := "Basic " + base64.StdEncoding.EncodeToString([]byte(testUser+":"+testPass))
	if login.Method != "POST" || login.Path != "/orktrack/rest/user/login" ||
		login.RawQuery != "version=orktrack&accesspolicy=all&licenseinfo=true" ||
		login.Header.Get("Authorization") != wantBasic || login.Header.Get("Accept") != "application/json" ||
		login.ContentLength != 0 || login.Header.Get("Content-Length") != "0" {
		t.Errorf("login request %+v", login)
	}
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	for i, r := range seen {
		if r.Header.Get("User-Agent") != testUserAgent {
			t.Errorf("request %d: User-Agent %q", i, r.Header.Get("User-Agent"))
		}
		if i > 0 && !guid.MatchString(r.Header.Get("Authorization")) {
			t.Errorf("request %d: Authorization %q, want the raw token", i, r.Header.Get("Authorization"))
		}
	}
	q, _ := url.ParseQuery(seen[1].RawQuery)
	want := url.Values{
		"range": {"custom"}, "startdate": {"20260520_005959"}, "enddate": {"20260520_020001"},
		"page": {"1"}, "pagesize": {"2"}, "sort": {""}, "maxresults": {"0"},
		"includetags": {"false"}, "includemetadata": {"false"}, "includeprograms": {"false"},
	}
	if seen[1].Path != "/orktrack/rest/recordings" || q.Encode() != want.Encode() {
		t.Errorf("first page: %s?%s, want ?%s", seen[1].Path, seen[1].RawQuery, want.Encode())
	}
	if seen[3].Path != "/orktrack/rest/mediastream/"+ids[0] {
		t.Errorf("audio request %s", seen[3].Path)
	}
}

func TestStaleTokenIsNotRefreshedTwice(t *testing.T) {
	fake := startFake(t, fakedtac.Options{})
	c := newTestConnector(t, fake.URL(), testPass, 5)
	first, err := c.token(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.relogin(ctxT(t), first)
	if err != nil || second == first {
		t.Fatalf("relogin(first) = %q, %v: want a new token", second, err)
	}
	// A worker refused with the first token finds a newer one current: it
	// uses it without logging in.
	again, err := c.relogin(ctxT(t), first)
	if err != nil || again != second || fake.Logins() != 2 {
		t.Fatalf("relogin(stale) = %q, %v, %d log-ins: want %q and no log-in", again, err, fake.Logins(), second)
	}
}

func TestLoginWaitHonoursContext(t *testing.T) {
	fake := startFake(t, fakedtac.Options{})
	target, _ := url.Parse(fake.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	defer close(release)
	front := newSpy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/orktrack/rest/user/login" {
			arrived <- struct{}{}
			<-release
		}
		proxy.ServeHTTP(w, r)
	}))
	c := newTestConnector(t, front.URL, testPass, 5)
	go func() { _ = c.Check(ctxT(t)) }() // a log-in in progress that does not end until the test does
	<-arrived
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan error)
	go func() { done <- c.Check(ctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Check while a log-in hangs, cancelled: %v", err)
	}
	if fake.Logins() != 0 {
		t.Fatal("logged in while another log-in was in progress")
	}
}

func TestTokenExpiry(t *testing.T) {
	t.Run("after N requests", func(t *testing.T) {
		fake := startFake(t, fakedtac.Options{TokenMaxRequests: 2})
		want := addRecordings(fake, 12, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
		c := newTestConnector(t, fake.URL(), testPass, 3)
		if got := listIDs(t, c, t0, t0.Add(time.Hour)); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("listed %v, want %v", got, want)
		}
		// 4 pages at 2 requests a token: log in, p1, p2, 401, log in, p3, p4.
		if got := fake.Logins(); got != 2 {
			t.Errorf("%d log-ins, want 2", got)
		}
	})
	t.Run("after idle time", func(t *testing.T) {
		clk := fakeclock.New(t0)
		fake := startFake(t, fakedtac.Options{TokenTTL: 30 * time.Minute, Now: clk.Now})
		addRecordings(fake, 2, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
		c := newTestConnector(t, fake.URL(), testPass, 5)
		listIDs(t, c, t0, t0.Add(time.Hour))
		clk.Advance(29 * time.Minute)
		listIDs(t, c, t0, t0.Add(time.Hour))
		if got := fake.Logins(); got != 1 {
			t.Fatalf("%d log-ins within the idle time, want 1", got)
		}
		clk.Advance(31 * time.Minute)
		if got := listIDs(t, c, t0, t0.Add(time.Hour)); len(got) != 2 {
			t.Fatalf("listed %v after expiry", got)
		}
		if got := fake.Logins(); got != 2 {
			t.Fatalf("%d log-ins after the token expired, want 2", got)
		}
	})
}

// TestRefusedAfterFreshLoginsIsAnError: a portal that refuses every token
// it grants gets three fresh log-ins per request, after growing waits,
// and then an error of that request alone: neither ErrAuth (the log-in
// itself succeeded) nor ErrForbidden.
func TestRefusedAfterFreshLoginsIsAnError(t *testing.T) {
	for _, code := range []int{401, 403} {
		srv := newSpy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/orktrack/rest/user/login" {
				_, _ = w.Write([]byte(`{"accesstoken":"11111111-2222-4333-8444-555555555555"}`))
				return
			}
			w.WriteHeader(code)
		}))
		c := newTestConnector(t, srv.URL, testPass, 5)
		waits := noWaits(c)
		_, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
		if err == nil || errors.Is(err, connectors.ErrAuth) || errors.Is(err, connectors.ErrForbidden) ||
			!strings.Contains(err.Error(), fmt.Sprintf("HTTP %d even with a fresh token, 3 times", code)) ||
			strings.Contains(err.Error(), "11111111-2222") {
			t.Errorf("HTTP %d every time: %v, want a plain error without the token", code, err)
		}
		// log-in, page, then 3 × (log-in, page)
		if n := len(srv.requests()); n != 8 {
			t.Errorf("HTTP %d every time: %d requests, want 8", code, n)
		}
		if got := fmt.Sprint(*waits); got != "[200ms 400ms]" {
			t.Errorf("HTTP %d every time: waited %s before the 2nd and 3rd fresh log-ins, want [200ms 400ms]", code, got)
		}
	}
}

func TestBaseURLWithPathPrefix(t *testing.T) {
	fake := startFake(t, fakedtac.Options{})
	ids := addRecordings(fake, 3, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) })
	target, _ := url.Parse(fake.URL())
	proxy := newSpy(t, http.StripPrefix("/dtac", httputil.NewSingleHostReverseProxy(target)))
	c := newTestConnector(t, proxy.URL+"/dtac/", testPass, 2)
	recs, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
	if err != nil || len(recs) != len(ids) {
		t.Fatalf("List through /dtac/: %d recordings, %v", len(recs), err)
	}
	a, err := c.Open(ctxT(t), recs[0])
	if err != nil {
		t.Fatalf("Open through /dtac/: %v", err)
	}
	a.Body.Close()
	for _, r := range proxy.requests() {
		if !strings.HasPrefix(r.Path, "/dtac/orktrack/rest/") {
			t.Errorf("request to %s", r.Path)
		}
	}
}

// TestConcurrentLoginsShareOne: workers that need a token while a log-in is
// in progress wait for it and share its outcome, success or failure.
func TestConcurrentLoginsShareOne(t *testing.T) {
	for _, ok := range []bool{true, false} {
		t.Run(fmt.Sprintf("login succeeds=%v", ok), func(t *testing.T) {
			arrived, release := make(chan struct{}, 16), make(chan struct{})
			p := newSpy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/orktrack/rest/user/login" {
					_, _ = w.Write([]byte(`{"objects":[],"nextPageUri":null}`))
					return
				}
				arrived <- struct{}{}
				<-release
				if !ok {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				_, _ = w.Write([]byte(`{"accesstoken":"11111111-2222-4333-8444-555555555555"}`))
			}))
			c := newTestConnector(t, p.URL, testPass, 5)
			const workers = 8
			errs := make(chan error, workers)
			go func() { _, err := c.List(ctxT(t), t0, t0.Add(time.Hour)); errs <- err }()
			<-arrived // the first worker's log-in is in progress
			for range workers - 1 {
				go func() { _, err := c.List(ctxT(t), t0, t0.Add(time.Hour)); errs <- err }()
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				n := c.auth.Waiting()
				if n == workers-1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d workers waiting, want %d", n, workers-1)
				}
				runtime.Gosched()
			}
			close(release)
			for range workers {
				if err := <-errs; (err == nil) != ok || (!ok && !errors.Is(err, connectors.ErrAuth)) {
					t.Errorf("worker: %v", err)
				}
			}
			logins := 0
			for _, r := range p.requests() {
				if r.Path == "/orktrack/rest/user/login" {
					logins++
				}
			}
			if logins != 1 {
				t.Errorf("%d log-in requests from %d workers, want 1", logins, workers)
			}
		})
	}
}
