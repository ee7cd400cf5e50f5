package dtac

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakedtac"
	"github.com/crkai/syncd/internal/fake/fakelog"
)

const (
	testUser      = "+66811111111"
	testPass      = "correct-horse-battery-staple"
	testUserAgent = "syncd-test/1.0"
)

var t0 = time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC)

func bangkok(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Bangkok")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// testDeps returns the daemon's dependencies for a test, with debug logs
// that are checked for secrets when the test ends.
func testDeps(t testing.TB, secrets ...string) connectors.Deps {
	t.Helper()
	logs := &fakelog.Buffer{}
	t.Cleanup(func() {
		for _, s := range append(secrets, testPass) {
			if strings.Contains(logs.String(), s) {
				t.Errorf("a log line contains the secret %q:\n%s", s, logs)
			}
		}
	})
	return connectors.Deps{
		Shared: deps.Shared{
			HTTP:   &http.Client{Transport: &http.Transport{}},
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Now:    time.Now,
		},
		Location:  bangkok(t),
		Region:    "TH",
		UserAgent: testUserAgent,
	}
}

func startFake(t testing.TB, opts fakedtac.Options) *fakedtac.Server {
	t.Helper()
	if opts.Users == nil {
		opts.Users = map[string]string{testUser: testPass}
	}
	s, err := fakedtac.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newTestConnector(t testing.TB, baseURL, password string, pageSize int) *Connector {
	t.Helper()
	c, err := New(Config{BaseURL: baseURL, Username: testUser, Password: password, PageSize: pageSize}, testDeps(t, password))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// addRecordings puts n recordings into s, the i-th at at(i), with ids from
// 100659220.
func addRecordings(s *fakedtac.Server, n int, at func(i int) time.Time) []string {
	ids := make([]string, n)
	for i := range n {
		id := int64(100659220 + i)
		dir := "IN"
		if i%3 == 2 {
			dir = "OUT"
		}
		s.Add(fakedtac.Recording{
			ID: id, Timestamp: at(i), Duration: 30 + i,
			LocalParty: "+66812345678", RemoteParty: "021234567", Direction: dir,
			FirstName: "Somchai", LastName: "Jaidee",
			Audio: fakeaudio.Audio{Seed: uint64(id), Size: 2000},
		})
		ids[i] = strconv.FormatInt(id, 10)
	}
	return ids
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func listIDs(t *testing.T, c *Connector, from, to time.Time) []string {
	t.Helper()
	recs, err := c.List(ctxT(t), from, to)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return ids
}

// seenRequest is what a spy server saw of one request.
type seenRequest struct {
	Method, Path, RawPath, RawQuery string
	Header                          http.Header
	ContentLength                   int64
}

// spy is a loopback server that records the requests it gets and answers
// with handler (404 when nil).
type spy struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

func newSpy(t testing.TB, handler http.Handler) *spy {
	t.Helper()
	s := &spy{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, seenRequest{r.Method, r.URL.Path, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), r.ContentLength})
		s.mu.Unlock()
		if handler == nil {
			http.NotFound(w, r)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *spy) requests() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.seen...)
}

// noWaits makes c log in again at once where it would wait, and returns
// the waits it would have made.
func noWaits(c *Connector) *[]time.Duration {
	var mu sync.Mutex
	waits := &[]time.Duration{}
	wait := c.reloginWait
	c.reloginWait = func(n int) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		*waits = append(*waits, wait(n))
		return 0
	}
	return waits
}
