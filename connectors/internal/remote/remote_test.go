package remote_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/internal/remote"
	"github.com/crkai/syncd/internal/deps"
)

// portal is a crafted portal: /login answers login(n) for the n-th log-in
// (from 1), anything else resource(token).
type portal struct {
	*httptest.Server
	logins atomic.Int32
}

func newPortal(t *testing.T, login func(n int32, w http.ResponseWriter), resource func(token string, w http.ResponseWriter)) *portal {
	p := &portal{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			login(p.logins.Add(1), w)
			return
		}
		resource(r.Header.Get("Authorization"), w)
	}))
	t.Cleanup(p.Close)
	return p
}

// session logs in to p's /login through r: a 200 answer's body is the
// token, a 401 is connectors.ErrAuth.
func session(p *portal, r *remote.Portal, relogins int, wait func(int) time.Duration) *remote.Session[string] {
	return remote.NewSession(remote.Login[string]{
		Login: func(ctx context.Context, _ string) (string, error) {
			resp, err := r.Do(ctx, remote.Request{Method: http.MethodPost, URL: p.URL + "/login", Timeout: 10 * time.Second})
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				remote.Drain(resp)
				return "", fmt.Errorf("%w (HTTP 401)", connectors.ErrAuth)
			}
			b, err := io.ReadAll(resp.Body)
			return string(b), err
		},
		Wrap:     func(err error) error { return fmt.Errorf("test: log in: %w", err) },
		Relogins: relogins,
		Wait:     wait,
	})
}

func get(p *portal, r *remote.Portal) func(ctx context.Context, token string) (*http.Response, error) {
	return func(ctx context.Context, token string) (*http.Response, error) {
		return r.Do(ctx, remote.Request{URL: p.URL + "/data", Authorization: token, Timeout: 10 * time.Second})
	}
}

// TestRefusedLoginIsOneRequest: however many callers need a token at once,
// wrong credentials cost one log-in request, and every caller gets its
// error, wrapping ErrAuth.
func TestRefusedLoginIsOneRequest(t *testing.T) {
	p := newPortal(t, func(_ int32, w http.ResponseWriter) {
		time.Sleep(20 * time.Millisecond) // a portal that takes its time to refuse
		w.WriteHeader(http.StatusUnauthorized)
	}, func(string, http.ResponseWriter) { t.Error("a request was sent without a token") })
	r := remote.New("portal", connectors.Deps{Shared: deps.Shared{HTTP: p.Client()}})
	s := session(p, r, 3, nil)
	const callers = 8
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := s.Do(t.Context(), r, "test: get", get(p, r))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, connectors.ErrAuth) || err.Error() != "test: log in: login refused (HTTP 401)" {
			t.Errorf("caller: %v, want the refused log-in", err)
		}
	}
	if n := p.logins.Load(); n != 1 {
		t.Errorf("%d log-in requests from %d callers, want 1", n, callers)
	}
	// A caller that comes moments later takes the refusal too.
	if _, err := s.Token(t.Context()); !errors.Is(err, connectors.ErrAuth) || p.logins.Load() != 1 {
		t.Errorf("a later caller: %v, %d log-ins", err, p.logins.Load())
	}
}

// TestWaitersShareALogin: callers waiting for a log-in in progress take
// its token, or its failure, instead of logging in themselves.
func TestWaitersShareALogin(t *testing.T) {
	for _, ok := range []bool{true, false} {
		t.Run(fmt.Sprintf("succeeds=%v", ok), func(t *testing.T) {
			release := make(chan struct{})
			p := newPortal(t, func(_ int32, w http.ResponseWriter) {
				<-release
				if !ok {
					http.Error(w, "down", http.StatusBadGateway)
					return
				}
				io.WriteString(w, "tok")
			}, func(string, http.ResponseWriter) {})
			r := remote.New("portal", connectors.Deps{Shared: deps.Shared{HTTP: p.Client()}})
			s := remote.NewSession(remote.Login[string]{Login: func(ctx context.Context, _ string) (string, error) {
				resp, err := r.Do(ctx, remote.Request{URL: p.URL + "/login", Timeout: 10 * time.Second})
				if err != nil {
					return "", err
				}
				if resp.StatusCode != http.StatusOK {
					return "", remote.Unexpected(resp)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				return string(b), err
			}})
			const callers = 8
			errs := make(chan error, callers)
			for range callers {
				go func() { _, err := s.Token(t.Context()); errs <- err }()
			}
			for s.Waiting() < callers-1 {
				time.Sleep(time.Millisecond)
			}
			close(release)
			for range callers {
				if err := <-errs; (err == nil) != ok {
					t.Errorf("caller: %v", err)
				}
			}
			if n := p.logins.Load(); n != 1 {
				t.Errorf("%d log-in requests, want 1", n)
			}
		})
	}
}

// TestRefusedTokenLogsInAfresh: a 401 makes a fresh log-in and the request
// goes again with the new token.
func TestRefusedTokenLogsInAfresh(t *testing.T) {
	p := newPortal(t, func(n int32, w http.ResponseWriter) { fmt.Fprintf(w, "t%d", n) }, func(token string, w http.ResponseWriter) {
		if token == "t1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "data for "+token)
	})
	r := remote.New("portal", connectors.Deps{Shared: deps.Shared{HTTP: p.Client()}})
	s := session(p, r, 3, nil)
	resp, err := s.Do(t.Context(), r, "test: get", get(p, r))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "data for t2" || p.logins.Load() != 2 || s.Logins() != 2 || s.Current() != "t2" {
		t.Errorf("answer %q after %d log-ins, token %q", b, p.logins.Load(), s.Current())
	}
}

// TestRefusedTokenIsBounded: a token refused after every fresh log-in
// fails the request alone (not ErrAuth) after Relogins fresh log-ins,
// waiting as Wait says before each after the first.
func TestRefusedTokenIsBounded(t *testing.T) {
	p := newPortal(t, func(n int32, w http.ResponseWriter) { fmt.Fprintf(w, "t%d", n) }, func(_ string, w http.ResponseWriter) {
		w.WriteHeader(http.StatusForbidden)
	})
	r := remote.New("portal", connectors.Deps{Shared: deps.Shared{HTTP: p.Client()}})
	var waits []int
	s := session(p, r, 3, func(n int) time.Duration { waits = append(waits, n); return time.Millisecond })
	_, err := s.Do(t.Context(), r, "test: get", get(p, r))
	want := "test: get: HTTP 403 even with a fresh token, 3 times: the portal keeps invalidating the session"
	if err == nil || !strings.HasPrefix(err.Error(), want) || errors.Is(err, connectors.ErrAuth) || errors.Is(err, connectors.ErrForbidden) {
		t.Fatalf("Do: %v, want %q…, neither ErrAuth nor ErrForbidden", err, want)
	}
	if p.logins.Load() != 4 || fmt.Sprint(waits) != "[1 2]" {
		t.Errorf("%d log-ins, waits %v; want 4 (one and three fresh), waits [1 2]", p.logins.Load(), waits)
	}
}

// TestLoginWaitHonoursContext: a caller whose context ends while another
// log-in is in progress returns at once, without logging in.
func TestLoginWaitHonoursContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	p := newPortal(t, func(_ int32, w http.ResponseWriter) { <-release; io.WriteString(w, "t") }, func(string, http.ResponseWriter) {})
	r := remote.New("portal", connectors.Deps{Shared: deps.Shared{HTTP: p.Client()}})
	s := session(p, r, 3, nil)
	go func() { _, _ = s.Token(context.Background()) }()
	for p.logins.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Renew(ctx, "")
	if !errors.Is(err, context.Canceled) || p.logins.Load() != 1 {
		t.Fatalf("Renew with a cancelled context: %v after %d log-ins", err, p.logins.Load())
	}
}

// stream serves one audio answer written by serve.
func stream(t *testing.T, serve http.HandlerFunc, limits remote.StreamLimits) (*http.Response, error) {
	srv := httptest.NewServer(serve)
	t.Cleanup(srv.Close)
	r := remote.New("PBX", connectors.Deps{Shared: deps.Shared{HTTP: srv.Client()}})
	return r.Stream(t.Context(), remote.Request{URL: srv.URL}, limits, "test: audio 7")
}

func TestStreamHeaderDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	_, err := stream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, remote.StreamLimits{Header: 30 * time.Millisecond, Stall: time.Minute})
	if err == nil || err.Error() != "PBX unreachable: no answer within 30ms: context deadline exceeded" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stream: %v", err)
	}
}

// TestStreamStallGuard: a body that stops mid-way fails after Stall, and
// a stall is not "not ready".
func TestStreamStallGuard(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	resp, err := stream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "RIFF0123")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, remote.StreamLimits{Header: time.Minute, Stall: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if n != 8 || err == nil || !strings.HasPrefix(err.Error(), "test: audio 7: the audio stalled after 8 bytes: nothing for 50ms") ||
		errors.Is(err, connectors.ErrNotReady) {
		t.Fatalf("read %d bytes, %v", n, err)
	}
}

// TestStreamEarlyEndIsNotReady: a body that ends before its Content-Length,
// or before its first bytes, is a file still being written.
func TestStreamEarlyEndIsNotReady(t *testing.T) {
	limits := remote.StreamLimits{Header: time.Minute, Stall: time.Minute}
	cut := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "RIFF0123")
	}
	resp, err := stream(t, cut, limits)
	if err != nil {
		t.Fatal(err)
	}
	head, err := remote.Head(resp, 4)
	if err != nil || string(head) != "RIFF" {
		t.Fatalf("Head: %q, %v", head, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "RIFF0123" || !errors.Is(err, connectors.ErrNotReady) ||
		!strings.HasPrefix(err.Error(), "test: audio 7: the audio ended after 8 bytes of 1000 (still being written?)") {
		t.Errorf("a body cut short: %q, %v", b, err)
	}

	for name, serve := range map[string]http.HandlerFunc{
		"empty, chunked":    func(w http.ResponseWriter, r *http.Request) { w.(http.Flusher).Flush() },
		"Content-Length 0":  func(w http.ResponseWriter, r *http.Request) { w.Header().Set("Content-Length", "0") },
		"cut before a byte": func(w http.ResponseWriter, r *http.Request) { w.Header().Set("Content-Length", "10") },
	} {
		resp, err := stream(t, serve, limits)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := remote.Head(resp, 4); !errors.Is(err, connectors.ErrNotReady) || err.Error() != "empty body: audio not ready yet" {
			t.Errorf("%s: Head: %v", name, err)
		}
	}
	resp, err = stream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "RI") }, limits)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(resp, 4); !errors.Is(err, connectors.ErrNotReady) {
		t.Errorf("two bytes: Head: %v", err)
	}
}

func TestDoErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	url := srv.URL
	srv.Close()
	r := remote.New("portal", connectors.Deps{Shared: deps.Shared{HTTP: &http.Client{}}})
	_, err := r.Do(t.Context(), remote.Request{URL: url + "/a?token=secret", Timeout: time.Second})
	if err == nil || !strings.HasPrefix(err.Error(), "portal unreachable: dial tcp ") || strings.Contains(err.Error(), "secret") {
		t.Errorf("Do to a closed port: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.Do(ctx, remote.Request{URL: url, Timeout: time.Second}); err != context.Canceled {
		t.Errorf("Do with a cancelled context: %v", err)
	}
}

func TestUnexpectedIsExcerptedAndRedacted(t *testing.T) {
	resp := &http.Response{StatusCode: 500, Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}},
		Body: io.NopCloser(strings.NewReader("<html><script>x()</script><h1>Error</h1> for password pw-123 &amp; Authorization: Bearer abc.def" + strings.Repeat(" x", 500)))}
	err := remote.Unexpected(resp, "pw-123")
	want := `unexpected answer: HTTP 500 (text/html): "Error for password [redacted] & Authorization: [redacted] x x x`
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), `…"`) {
		t.Errorf("Unexpected = %v", err)
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct {
		json  string
		want  remote.Text
		isErr error
	}{
		{`"Ext.101"`, remote.Text{S: "Ext.101", Valid: true}, nil},
		{`"\u0e2a\u0e21"`, remote.Text{S: "สม", Valid: true}, nil},
		{`42`, remote.Text{S: "42", Valid: true}, nil},
		{`-1.5e3`, remote.Text{S: "-1.5e3", Valid: true}, nil},
		{`false`, remote.Text{S: "false", Valid: true}, nil},
		{`null`, remote.Text{}, nil},
		{`{"a":1}`, remote.Text{}, remote.ErrNotScalar},
		{`[1]`, remote.Text{}, remote.ErrNotScalar},
	} {
		var v struct{ X remote.Text }
		err := json.Unmarshal([]byte(`{"X":`+tc.json+`}`), &v)
		if v.X != tc.want || !errors.Is(err, tc.isErr) {
			t.Errorf("%s: %+v, %v; want %+v, %v", tc.json, v.X, err, tc.want, tc.isErr)
		}
	}
	var v struct{ X remote.Text }
	if err := json.Unmarshal([]byte(`{}`), &v); err != nil || v.X.Valid {
		t.Errorf("absent: %+v, %v", v.X, err)
	}
}
