package dtac

import (
	"context"
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/fake/fakedtac"
)

// TestFreshTokenInvalidated: the portal invalidates the token of the first
// log-ins as soon as it grants them (someone logs in to the portal with
// the same account). That is not a refused log-in: the connector logs in
// again, waiting a little more each time, and recovers.
func TestFreshTokenInvalidated(t *testing.T) {
	fake := startFake(t, fakedtac.Options{RevokeLogins: 2})
	want := addRecordings(fake, 3, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
	c := newTestConnector(t, fake.URL(), testPass, 5)
	waits := noWaits(c)
	if got := listIDs(t, c, t0, t0.Add(time.Hour)); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("listed %v, want %v", got, want)
	}
	if fake.Logins() != 3 {
		t.Errorf("%d log-ins, want 3 (two invalidated, one good)", fake.Logins())
	}
	if got := len(*waits); got != 1 || (*waits)[0] != 200*time.Millisecond {
		t.Errorf("waits before log-ins %v, want [200ms] (none before the first fresh log-in)", *waits)
	}
}

// TestFreshTokenAlwaysInvalidated: when every fresh token is refused, the
// request fails on its own after three fresh log-ins, with an error that
// neither stops the pass (ErrAuth, ErrForbidden) nor quarantines the
// recording (Permanent): the listing and the audio are tried again later.
func TestFreshTokenAlwaysInvalidated(t *testing.T) {
	fake := startFake(t, fakedtac.Options{RevokeLogins: -1})
	ids := addRecordings(fake, 1, func(int) time.Time { return t0 })
	c := newTestConnector(t, fake.URL(), testPass, 5)
	noWaits(c)

	_, listErr := c.List(ctxT(t), t0, t0.Add(time.Hour))
	if fake.Logins() != 4 {
		t.Errorf("List: %d log-ins, want 4 (the first and three fresh ones)", fake.Logins())
	}
	_, openErr := c.Open(ctxT(t), connectors.Recording{ID: ids[0], DataID: DataID(ids[0])})
	if fake.Logins() != 7 {
		t.Errorf("Open: %d log-ins in all, want 7 (three more)", fake.Logins())
	}
	for name, err := range map[string]error{"List": listErr, "Open": openErr} {
		switch {
		case err == nil:
			t.Errorf("%s succeeded", name)
		case errors.Is(err, connectors.ErrAuth), errors.Is(err, connectors.ErrForbidden):
			t.Errorf("%s: %v: must not wrap ErrAuth or ErrForbidden (it would stop the pass)", name, err)
		case connectors.Permanent(err), errors.Is(err, connectors.ErrNotReady):
			t.Errorf("%s: %v: must be a plain error, tried again later", name, err)
		case !strings.Contains(err.Error(), "HTTP 401 even with a fresh token, 3 times"):
			t.Errorf("%s: %v", name, err)
		}
	}
	if !strings.Contains(listErr.Error(), "list recordings") || !strings.Contains(openErr.Error(), "open the audio of recording "+ids[0]) {
		t.Errorf("the errors do not say what failed: %v / %v", listErr, openErr)
	}
}

// TestWrongPasswordIsStillErrAuth: only the log-in request answering bad
// credentials is a credentials error, and it is not retried.
func TestWrongPasswordIsStillErrAuth(t *testing.T) {
	fake := startFake(t, fakedtac.Options{})
	c := newTestConnector(t, fake.URL(), "wrong-password", 5)
	waits := noWaits(c)
	_, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
	if !errors.Is(err, connectors.ErrAuth) {
		t.Fatalf("List with a wrong password: %v, want ErrAuth", err)
	}
	if n := fake.Requests("/orktrack/rest/user/login"); n != 1 || len(*waits) != 0 {
		t.Errorf("%d log-in requests and %d waits, want one log-in and no retry", n, len(*waits))
	}
}

// TestReloginWaitHonoursContext: the wait before a fresh log-in ends with
// the caller's context.
func TestReloginWaitHonoursContext(t *testing.T) {
	fake := startFake(t, fakedtac.Options{RevokeLogins: -1})
	c := newTestConnector(t, fake.URL(), testPass, 5)
	entered := make(chan struct{}, 4)
	c.reloginWait = func(int) time.Duration { entered <- struct{}{}; return time.Hour }
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan error, 1)
	go func() { _, err := c.List(ctx, t0, t0.Add(time.Hour)); done <- err }()
	<-entered
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("List cancelled while waiting to log in again: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("List did not end with its context")
	}
}

// TestFreshTokensOneLoginAtATime: four workers whose tokens the portal
// invalidates still log in one at a time, and share each fresh token.
func TestFreshTokensOneLoginAtATime(t *testing.T) {
	fake := startFake(t, fakedtac.Options{RevokeLogins: 3})
	addRecordings(fake, 4, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
	target, _ := url.Parse(fake.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var inLogin, overlapped atomic.Int32
	front := newSpy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/orktrack/rest/user/login" {
			if inLogin.Add(1) > 1 {
				overlapped.Add(1)
			}
			defer inLogin.Add(-1)
			time.Sleep(5 * time.Millisecond) // widen the window for an overlap
		}
		proxy.ServeHTTP(w, r)
	}))
	c := newTestConnector(t, front.URL, testPass, 5)
	noWaits(c)
	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			_, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("worker: %v", err)
		}
	}
	if n := overlapped.Load(); n > 0 {
		t.Errorf("%d log-ins overlapped another", n)
	}
	if n := fake.Logins(); n < 4 || n > 4+workers*maxRelogins {
		t.Errorf("%d log-ins", n)
	}
}
