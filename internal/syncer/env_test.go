package syncer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/connectortest"
	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakeclock"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/state"
)

// memConn is an in-test connector: recordings in memory, audio generated.
// The syncer is tested through it against the real CRK fake.
type memConn struct {
	mu   sync.Mutex
	recs map[string]*memRec
	// failList, when set, is what List answers.
	failList error
	lists    int // List calls so far
}

type memRec struct {
	rec   connectors.Recording
	audio fakeaudio.Audio
	state connectortest.AudioState
	// openErr, when set, is what Open answers.
	openErr error
	// unknownSize: Open does not say the audio's length.
	unknownSize bool
	// body, when set, is served instead of the audio (as "audio/wav").
	body []byte
}

func newMemConn() *memConn { return &memConn{recs: map[string]*memRec{}} }

func (m *memConn) Name() string                    { return "mem" }
func (m *memConn) Check(ctx context.Context) error { return ctx.Err() }

func (m *memConn) add(id string, at time.Time, size int64, st connectortest.AudioState) connectors.Recording {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := connectors.Recording{
		ID: id, DataID: "mem-" + id, CallAt: at, Duration: 95 * time.Second,
		Direction: []string{"in", "out"}[len(m.recs)%2], CustomerPhone: "+66812345678",
		AgentNumber: "+66898765432", AgentName: "Somchai " + id, ContentType: "audio/wav",
	}
	m.recs[id] = &memRec{rec: r, audio: fakeaudio.Audio{Seed: uint64(len(m.recs) + 1), Size: size}, state: st}
	return r
}

func (m *memConn) set(id string, f func(*memRec)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m.recs[id])
}

func (m *memConn) List(ctx context.Context, from, to time.Time) ([]connectors.Recording, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lists++
	if m.failList != nil {
		return nil, m.failList
	}
	var out []connectors.Recording
	for _, r := range m.recs {
		// A row without a time is in whatever page the source serves.
		if r.rec.CallAt.IsZero() || !r.rec.CallAt.Before(from) && r.rec.CallAt.Before(to) {
			out = append(out, r.rec)
		}
	}
	slices.SortFunc(out, func(a, b connectors.Recording) int { return a.CallAt.Compare(b.CallAt) })
	return out, nil
}

func (m *memConn) Open(ctx context.Context, r connectors.Recording) (*connectors.Audio, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	mr, ok := m.recs[r.ID]
	m.mu.Unlock()
	switch {
	case !ok:
		return nil, fmt.Errorf("recording %s: %w", r.ID, connectors.ErrGone)
	case mr.openErr != nil:
		return nil, mr.openErr
	case mr.state == connectortest.Gone:
		return nil, fmt.Errorf("recording %s: 404: %w", r.ID, connectors.ErrGone)
	case mr.state == connectortest.NotReady:
		return nil, fmt.Errorf("recording %s: empty body: %w", r.ID, connectors.ErrNotReady)
	}
	if mr.body != nil {
		return &connectors.Audio{Body: io.NopCloser(bytes.NewReader(mr.body)), Size: int64(len(mr.body)), ContentType: "audio/wav"}, nil
	}
	size := mr.audio.Size
	if mr.unknownSize {
		size = -1
	}
	return &connectors.Audio{Body: io.NopCloser(mr.audio.Reader()), Size: size, ContentType: "audio/x-wav"}, nil
}

var bangkok = must(time.LoadLocation("Asia/Bangkok"))

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

const testToken = "crk_test_business_key"

// env is a CRK fake, a sink client, a state file, a memConn and a syncer.
type env struct {
	t     testing.TB
	crk   *fakecrk.Server
	sink  *sink.Client
	conn  *memConn
	clock *fakeclock.Clock
	path  string
	store *state.Store
	sy    *Syncer
	cfg   Config
	// transport lets a test stop a pass at a chosen request.
	transport *cutTransport
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	return newEnvWith(t, cfg, envOptions{})
}

// envOptions adjust an env before it starts (benchmarks).
type envOptions struct {
	crk       func(*fakecrk.Options)         // the fake's options
	sink      func(*sink.Config, *sink.Deps) // the client's configuration
	transport func(*http.Transport)          // the HTTP transport under cutTransport
}

func newEnvWith(t testing.TB, cfg Config, o envOptions) *env {
	t.Helper()
	opts := fakecrk.Options{
		Businesses: []fakecrk.Business{{ID: "b1", Name: "Acme Sales", Slug: "acme-sales"}},
		Tokens: map[string]fakecrk.Token{testToken: {Level: fakecrk.LevelBusiness, BusinessID: "b1",
			Scopes: []string{fakecrk.ScopeManageCall, fakecrk.ScopeViewAll}}},
	}
	if o.crk != nil {
		o.crk(&opts)
	}
	srv, err := fakecrk.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := &env{t: t, crk: srv, conn: newMemConn(), clock: fakeclock.New(time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)),
		path: t.TempDir() + "/syncd.db", transport: &cutTransport{base: http.DefaultTransport.(*http.Transport).Clone()}}
	if o.transport != nil {
		o.transport(e.transport.base)
	}
	t.Cleanup(e.transport.base.CloseIdleConnections)
	sc := sink.Config{BaseURL: srv.URL(), Token: testToken,
		Retry: sink.Retry{Attempts: 6, Base: time.Millisecond, Max: 5 * time.Millisecond}, UserAgent: "syncd/test"}
	sd := sink.Deps{Shared: deps.Shared{HTTP: &http.Client{Transport: e.transport}}}
	if o.sink != nil {
		o.sink(&sc, &sd)
	}
	e.sink, err = sink.New(sc, sd)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Location == nil {
		cfg.Location = bangkok
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = time.Millisecond
	}
	if cfg.Lookback == 0 {
		cfg.Lookback = 2 * time.Hour
	}
	e.cfg = cfg
	e.open()
	t.Cleanup(func() { e.store.Close() })
	return e
}

func (e *env) open() {
	e.t.Helper()
	var err error
	e.store, err = state.Open(context.Background(), e.path, state.Options{Timeout: time.Second, Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	e.sy = New(e.cfg, Deps{Shared: deps.Shared{Now: e.clock.Now}, Store: e.store, Sink: e.sink})
}

// reopen closes the state file and opens it again, as a restart does.
func (e *env) reopen() {
	e.t.Helper()
	if err := e.store.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

func (e *env) pass() Result {
	e.t.Helper()
	res, err := e.sy.Run(e.t.Context(), e.conn, nil)
	if err != nil {
		e.t.Fatalf("pass: %v", err)
	}
	return res
}

// cutTransport cancels a pass at the n-th request: before it is sent, or
// after its answer arrived but before the client saw it, like a crash.
type cutTransport struct {
	base   *http.Transport
	mu     sync.Mutex
	n      int
	cutAt  int  // 0: never
	after  bool // cut after the answer instead of before sending
	cancel context.CancelFunc
}

func (c *cutTransport) arm(at int, after bool, cancel context.CancelFunc) {
	c.mu.Lock()
	c.n, c.cutAt, c.after, c.cancel = 0, at, after, cancel
	c.mu.Unlock()
}

func (c *cutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	cut := c.cutAt != 0 && c.n == c.cutAt
	after, cancel := c.after, c.cancel
	c.mu.Unlock()
	if cut && !after {
		cancel()
		return nil, context.Canceled
	}
	resp, err := c.base.RoundTrip(req)
	if cut {
		if resp != nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		cancel()
		return nil, context.Canceled
	}
	return resp, err
}

// checkAllOnce asserts that every recording of conn that is ready is at
// CRK exactly once, with its metadata, byte-exact audio, and one reextract.
func (e *env) checkAllOnce(ids ...string) {
	e.t.Helper()
	for _, id := range ids {
		e.conn.mu.Lock()
		mr := e.conn.recs[id]
		e.conn.mu.Unlock()
		got, ok := e.crk.Recording("b1", mr.rec.DataID)
		if !ok {
			e.t.Errorf("%s: not at CRK", mr.rec.DataID)
			continue
		}
		if !got.HasAudio || got.AudioSHA256 != mr.audio.Sum() || got.AudioSize != mr.audio.Size {
			e.t.Errorf("%s: audio at CRK %d bytes (has %v), want %d byte-exact", mr.rec.DataID, got.AudioSize, got.HasAudio, mr.audio.Size)
		}
		if got.Reextracts != 1 {
			e.t.Errorf("%s: %d reextracts, want 1", mr.rec.DataID, got.Reextracts)
		}
	}
	if n := len(e.crk.Recordings()); n != len(ids) {
		e.t.Errorf("CRK holds %d recordings, want %d", n, len(ids))
	}
}
