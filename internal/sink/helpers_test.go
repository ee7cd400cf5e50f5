package sink_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/fake/fakelog"
	"github.com/crkai/syncd/internal/sink"
)

// tokHTTPTest is the key of the clients of httptest servers.
const tokHTTPTest = "crk_httptest_7f7e7d7c7b7a"

// secrets are every token a test uses: none may appear in an error or a log.
var secrets = append(fakecrk.FixtureTokens[:len(fakecrk.FixtureTokens):len(fakecrk.FixtureTokens)], tokHTTPTest)

var bangkok = mustLoc("Asia/Bangkok")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// startFake runs the CRK fake holding fakecrk.Fixture; edit adjusts the
// options first. The clock is the real one unless edit sets Now.
func startFake(t *testing.T, edit func(*fakecrk.Options)) *fakecrk.Server {
	t.Helper()
	s, err := fakecrk.StartFixture(edit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// client is a sink.Client whose every error is checked for secrets as it is
// returned; its methods shadow the Client's.
type client struct {
	*sink.Client
	t    *testing.T
	logs *fakelog.Buffer
}

// newClient returns a client of baseURL with token. Retries are fast by
// default (1 ms backoff, Retry-After capped at 20 ms); edit adjusts the
// configuration. Its debug log is checked for secrets at the end of the test.
func newClient(t *testing.T, baseURL, token string, edit func(*sink.Config, *sink.Deps)) *client {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	logs := &fakelog.Buffer{}
	cfg := sink.Config{
		BaseURL:   baseURL,
		Token:     token,
		UserAgent: "syncd/1.2.3 (test)",
		Retry:     sink.Retry{Attempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond},
	}
	d := sink.Deps{Shared: deps.Shared{
		HTTP:   &http.Client{Transport: tr},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}}
	if edit != nil {
		edit(&cfg, &d)
	}
	c, err := sink.New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { noSecret(t, "the client's log", logs.String()) })
	return &client{Client: c, t: t, logs: logs}
}

func (c *client) check(err error, extra ...string) error {
	c.t.Helper()
	if err != nil {
		noSecret(c.t, "error", err.Error(), extra...)
	}
	return err
}

func (c *client) WhoAmI(ctx context.Context) (*sink.Identity, error) {
	c.t.Helper()
	id, err := c.Client.WhoAmI(ctx)
	return id, c.check(err)
}

func (c *client) Create(ctx context.Context, r sink.Recording) (sink.Created, error) {
	c.t.Helper()
	cr, err := c.Client.Create(ctx, r)
	return cr, c.check(err)
}

// Upload also checks that neither the URL nor its signature is in the error.
func (c *client) Upload(ctx context.Context, uploadURL, contentType string, body io.Reader, size int64) error {
	c.t.Helper()
	err := c.Client.Upload(ctx, uploadURL, contentType, body, size)
	extra := []string{uploadURL}
	if u, perr := url.Parse(uploadURL); perr == nil {
		if sig := u.Query().Get("X-Amz-Signature"); sig != "" {
			extra = append(extra, sig)
		}
	}
	return c.check(err, extra...)
}

func (c *client) Reextract(ctx context.Context, id string) (sink.Reextracted, error) {
	c.t.Helper()
	out, err := c.Client.Reextract(ctx, id)
	return out, c.check(err)
}

func (c *client) List(ctx context.Context, q sink.Query) (sink.Page, error) {
	c.t.Helper()
	p, err := c.Client.List(ctx, q)
	return p, c.check(err)
}

func (c *client) Find(ctx context.Context, dataID string) (*sink.Remote, error) {
	c.t.Helper()
	r, err := c.Client.Find(ctx, dataID)
	return r, c.check(err)
}

// noSecret fails the test when s holds a token or one of extra.
func noSecret(t *testing.T, what, s string, extra ...string) {
	t.Helper()
	for _, sec := range append(secrets[:len(secrets):len(secrets)], extra...) {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("%s holds a secret (%.8s…): %s", what, sec, s)
		}
	}
	if strings.Contains(s, "Bearer") || strings.Contains(s, "X-Amz-Signature") {
		t.Errorf("%s holds credentials: %s", what, s)
	}
}

// seen is one request as it reached the fake through a recorder.
type seen struct {
	Method, Path     string
	Query            url.Values
	Header           http.Header
	ContentLength    int64
	TransferEncoding []string
	Body             []byte // of API requests only; uploads stream through untouched
}

// recorder serves a handler (the fake's) on a loopback server of its own,
// noting each request on the way.
type recorder struct {
	h    http.Handler
	mu   sync.Mutex
	reqs []seen
	// rewrite, when set, may change a request before it reaches h.
	rewrite func(*http.Request)
}

// record serves srv's handler behind a recorder and returns the API base
// URL to use instead of srv.URL(). Upload URLs the fake hands out then point
// at the recorder too.
func record(t *testing.T, srv *fakecrk.Server) (string, *recorder) {
	t.Helper()
	rec := &recorder{h: srv.Handler()}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close)
	return ts.URL + "/api/v1", rec
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(),
		ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding}
	if strings.HasPrefix(r.URL.Path, "/api/") && r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.Body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, s)
	rewrite := rc.rewrite
	rc.mu.Unlock()
	if rewrite != nil {
		rewrite(r)
	}
	rc.h.ServeHTTP(w, r)
}

// requests returns the requests seen so far whose method and path match
// (path "" matches any; a path ending in "/" matches as a prefix).
func (rc *recorder) requests(method, path string) []seen {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []seen
	for _, s := range rc.reqs {
		if s.Method != method && method != "" {
			continue
		}
		if path != "" && s.Path != path && !(strings.HasSuffix(path, "/") && strings.HasPrefix(s.Path, path)) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// all returns every request seen so far.
func (rc *recorder) all() []seen { return rc.requests("", "") }

// stub serves h on loopback: for answers the fake cannot give.
func stub(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL + "/api/v1"
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// rec is a recording to create, dataId aside.
func rec(dataID string) sink.Recording {
	return sink.Recording{
		DataID: dataID, CallAt: time.Date(2026, 5, 20, 8, 14, 0, 0, bangkok), Direction: "in",
		CustomerPhone: "+66812345678", CallcenterNumber: "1001", CallcenterName: "Somchai", ContentType: "audio/wav",
	}
}

// audio is generated WAV bytes of size, with its reader.
func audio(seed uint64, size int64) fakeaudio.Audio { return fakeaudio.Audio{Seed: seed, Size: size} }

// mustCreate creates dataID and fails the test on error.
func mustCreate(t *testing.T, c *client, dataID string) sink.Created {
	t.Helper()
	cr, err := c.Create(t.Context(), rec(dataID))
	if err != nil {
		t.Fatalf("create %s: %v", dataID, err)
	}
	if cr.ID == "" || cr.UploadURL == "" {
		t.Fatalf("create %s: %+v, want an id and an upload URL", dataID, cr)
	}
	return cr
}

// mustUpload creates dataID and uploads size bytes of audio to it.
func mustUpload(t *testing.T, c *client, dataID string, size int64) sink.Created {
	t.Helper()
	cr := mustCreate(t, c, dataID)
	a := audio(7, size)
	if err := c.Upload(t.Context(), cr.UploadURL, "audio/wav", a.Reader(), size); err != nil {
		t.Fatalf("upload %s: %v", dataID, err)
	}
	return cr
}

// apiError returns err's *sink.APIError, failing the test when it has none.
func apiError(t *testing.T, err error) *sink.APIError {
	t.Helper()
	var ae *sink.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *sink.APIError", err, err)
	}
	return ae
}

// allSentinels are the sentinels of the API's error codes.
var allSentinels = []error{
	sink.ErrBusinessRequired, sink.ErrMissingToken, sink.ErrInvalidToken, sink.ErrTokenDisabled,
	sink.ErrInsufficientScope, sink.ErrForbiddenBusiness, sink.ErrNotFound, sink.ErrValidation,
	sink.ErrRateLimited, sink.ErrInternal,
}

// matchesOnly checks that err matches want (nil: none) and no other sentinel.
func matchesOnly(t *testing.T, err, want error) {
	t.Helper()
	for _, s := range allSentinels {
		if got := errors.Is(err, s); got != (s == want) {
			t.Errorf("errors.Is(%v, %v) = %v, want %v", err, s, got, !got)
		}
	}
}
