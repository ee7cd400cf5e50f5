package simulation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // Asia/Bangkok wherever it runs

	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/fake/fakeclock"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/state"
	"github.com/crkai/syncd/internal/syncer"
)

var bangkok = func() *time.Location {
	l, err := time.LoadLocation("Asia/Bangkok")
	if err != nil {
		panic(err)
	}
	return l
}()

const business = "b1"

// Options choose one simulated run.
type Options struct {
	// Seed decides everything: the calls, the faults, the crashes, the
	// configuration.
	Seed uint64
	// Days of operation with faults, before one quiet day; default 30.
	Days int
	// Concurrency, when positive, replaces the seed's choice of
	// syncer.Config.Concurrency.
	Concurrency int
	// Dir is where the state file is written; "" means a fresh directory
	// under /dev/shm when it exists (fsync is free there), else under the
	// system's temporary directory. It is removed at the end.
	Dir string
	// Logf, when set, receives a line now and then on the run's progress.
	Logf func(format string, args ...any)

	// dump, when set, receives every line the digest hashes.
	dump io.Writer

	// hide, when set, keeps the calls it names out of syncd's listings
	// while the world still expects them; payTwice, when set, asks CRK
	// once more to process the delivered calls it names, behind syncd's
	// back: tests of the checks.
	hide, payTwice func(id string) bool
}

// Report is what a run found.
type Report struct {
	Seed        uint64
	Days        int
	Profile     string // the seed's choices, one line
	Violations  []Violation
	Stats       Stats
	Digest      string // hash of everything observable, equal across replays of a seed at Concurrency 1
	Concurrency int
}

// Stats count what a run did.
type Stats struct {
	Calls, Responsible, Passes, Crashes, Restarts, Losses, Retries, Released int
	Delivered, Quarantined, Requests, Reextracts, Violations                 int
	Took                                                                     time.Duration
	// ByInvariant counts the violations of each invariant (one per
	// recording), beyond those the report keeps.
	ByInvariant map[string]int
	// ByKind counts them by "invariant: kind".
	ByKind map[string]int
}

// profile is what a seed chose for the whole run.
type profile struct {
	concurrency                  int
	interval                     time.Duration
	lookback0                    time.Duration // the smallest lookback in use
	backfills, settles           []time.Duration
	maxAttempts                  int
	pruneMargin                  time.Duration
	vocab                        string
	behaviour                    fakecrk.Behaviour
	perDay                       float64
	maxCall, maxDelay            time.Duration
	storm                        float64 // how much faults there are, 0–1.5
	pCrash, pListFail            float64
	pLossPerDay, pRetryPerDay    float64
	pJumpFwd, pJumpBack, pConfig float64
}

func (p *profile) String() string {
	return fmt.Sprintf("concurrency=%d interval=%s lookback≥%s backfill∈%v settle∈%v maxAttempts=%d pruneMargin=%s vocabulary=%s calls/day=%.0f maxCall=%s maxDelay=%s storm=%.2f crash=%.2f listFail=%.2f loss/day=%.2f retry/day=%.2f",
		p.concurrency, p.interval, p.lookback0, p.backfills, p.settles, p.maxAttempts, p.pruneMargin, p.vocab,
		p.perDay, p.maxCall, p.maxDelay, p.storm, p.pCrash, p.pListFail, p.pLossPerDay, p.pRetryPerDay)
}

func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

func drawProfile(rng *rand.Rand, opts Options) profile {
	p := profile{
		concurrency:  1,
		interval:     time.Duration(5+rng.IntN(11)) * time.Minute,
		lookback0:    pick(rng, time.Hour, 2*time.Hour, 4*time.Hour),
		maxAttempts:  pick(rng, 0, 5, 20),
		pruneMargin:  pick(rng, 0, 6*time.Hour, 2*time.Hour),
		perDay:       pick(rng, 24.0, 48, 72),
		storm:        pick(rng, 0.2, 1, 1, 1.5),
		pCrash:       pick(rng, 0.01, 0.05, 0.15),
		pListFail:    pick(rng, 0, 0.02, 0.08),
		pLossPerDay:  pick(rng, 0, 0.02, 0.05),
		pRetryPerDay: pick(rng, 0.1, 0.3, 1),
		pJumpFwd:     0.001,
		pJumpBack:    0.002,
		pConfig:      0.003,
	}
	if rng.IntN(6) == 0 {
		p.concurrency = 4
	}
	if opts.Concurrency > 0 {
		p.concurrency = opts.Concurrency
	}
	p.backfills = []time.Duration{pick(rng, 6*time.Hour, 24*time.Hour, 48*time.Hour), pick(rng, 6*time.Hour, 24*time.Hour, 48*time.Hour)}
	p.settles = []time.Duration{pick(rng, 0, 2*time.Minute, 5*time.Minute), pick(rng, 0, time.Minute, 5*time.Minute)}
	switch rng.IntN(10) {
	case 0, 1, 2, 3: // the documented vocabulary: no status, then completed
		p.vocab = `(a) ""→"completed"`
	case 4, 5, 6: // pending, then queued, completed later
		d := time.Duration(5+rng.IntN(175)) * time.Minute
		p.vocab = fmt.Sprintf(`(b) "pending"→"queued"→"completed" after %s`, d)
		p.behaviour = fakecrk.Behaviour{ProcessingBefore: "pending", ProcessingAfter: "queued", ProcessingDoneAfter: d}
	default: // pending before and after: ambiguous
		d := time.Duration(5+rng.IntN(175)) * time.Minute
		p.vocab = fmt.Sprintf(`(c) "pending"→"pending"→"completed" after %s`, d)
		p.behaviour = fakecrk.Behaviour{ProcessingBefore: "pending", ProcessingAfter: "pending", ProcessingDoneAfter: d}
	}
	p.behaviour.NoUploadURLOnRepeat = rng.IntN(3) == 0
	p.behaviour.ReextractStatus = pick(rng, 0, 0, 200, 204)
	p.behaviour.CreateStatus = pick(rng, 0, 200)
	p.maxCall = 5 * time.Hour
	p.maxDelay = p.lookback0
	return p
}

// World is one simulated deployment: a source, CRK, a state file, and the
// syncd process of the moment, on simulated clocks.
type World struct {
	opts    Options
	prof    profile
	rng     *rand.Rand // the world's decisions, in order
	clk     *fakeclock.Clock
	trueClk *fakeclock.Clock // the world's time; clk is what syncd's host believes
	skew    time.Duration    // clk − trueClk
	unskew  int              // passes until the host's clock is corrected
	t0      time.Time

	crk         *fakecrk.Server
	src         *source
	token       string
	dir         string
	path        string
	ownDir      bool
	logs        *logSink
	log         *slog.Logger
	cfg         syncer.Config
	store       *state.Store
	sink        *sink.Client
	sy          *syncer.Syncer
	tr          *crashTransport
	httpT       *http.Transport
	maxLook     time.Duration // the largest lookback used so far
	hiNow       time.Time     // the latest time syncd's clock has shown
	lastFrom    time.Time     // where the last pass that ran to its end began listing
	passNo      int
	weather     time.Time // when the faults change next
	restartNext bool      // the last pass was cut: start a new process first
	crashAt     int       // the request of a coming pass that kills the process; 0: none
	crashAfter  bool      // …once its answer arrived
	// sinceRetry: no pass has run to its end since the last operator
	// retry, at retryAt; lossAt: when the state file was last lost.
	sinceRetry      bool
	retryAt, lossAt time.Time
	respFrom        time.Time
	aborted         bool

	mu         sync.Mutex
	traces     map[string][]string
	events     []event
	dataByCRK  map[string]string
	touched    []string // dataIds re-extracted during this pass
	checkLater []string // …during a pass that was cut
	digest     io.Writer
	hash       hash.Hash
	requests   int

	releases  map[string]int // operator retries that released each dataId
	unsettled []*call        // responsible calls not yet seen delivered, by end
	flagged   map[string]bool
	byInv     map[string]int
	byKind    map[string]int
	viol      []Violation
	stats     Stats
	passes    []passInfo
}

type event struct {
	at    time.Time // syncd's clock
	major bool
	text  string
}

type passInfo struct {
	n            int
	at, from, to time.Time
	cursor       time.Time
	err          bool
}

// Run plays one seed: Days of operation with faults, crashes, clock jumps
// and operator actions, then a quiet day, checking the invariants after
// every pass and at the end. An error means the world itself could not
// run; what it found is in the Report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Days <= 0 {
		opts.Days = 30
	}
	began := time.Now()
	w, err := newWorld(opts)
	if err != nil {
		return nil, err
	}
	defer w.close()
	if err := w.loop(ctx); err != nil {
		return nil, err
	}
	w.stats.Took = time.Since(began)
	return w.report(), nil
}

func newWorld(opts Options) (*World, error) {
	rng := rand.New(rand.NewPCG(opts.Seed, 0x73696d2d776f726c))
	w := &World{
		opts: opts, rng: rng, traces: map[string][]string{}, dataByCRK: map[string]string{},
		hash: sha256.New(), releases: map[string]int{}, flagged: map[string]bool{}, byInv: map[string]int{}, byKind: map[string]int{},
	}
	w.digest = w.hash
	if opts.dump != nil {
		w.digest = io.MultiWriter(w.hash, opts.dump)
	}
	w.prof = drawProfile(rng, opts)
	w.t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(7*24*60)) * time.Minute)
	w.clk, w.trueClk = fakeclock.New(w.t0), fakeclock.New(w.t0)
	w.hiNow = w.t0
	w.token = fmt.Sprintf("crk_sim_%016x", rng.Uint64())
	password := fmt.Sprintf("pw-%016x", rng.Uint64())

	// The calls, on a stream of their own, from well before the first
	// backfill to the quiet day.
	callRng := rand.New(rand.NewPCG(opts.Seed, 0x73696d2d63616c6c))
	from := w.t0.Add(-slices.Max(w.prof.backfills) - 12*time.Hour)
	calls := genCalls(callRng, from, w.t0.Add(time.Duration(opts.Days)*24*time.Hour), w.prof.perDay, w.prof.maxCall, w.prof.maxDelay)
	w.src = &source{w: w, calls: calls, byID: make(map[string]*call, len(calls)), password: password}
	for _, c := range calls {
		w.src.byID[c.id] = c
	}
	w.stats.Calls = len(calls)

	var err error
	w.crk, err = fakecrk.Start(fakecrk.Options{
		Businesses: []fakecrk.Business{{ID: business, Name: "Sim Co", Slug: "sim-co"}},
		Tokens:     map[string]fakecrk.Token{w.token: {Level: fakecrk.LevelBusiness, BusinessID: business, Scopes: []string{fakecrk.ScopeManageCall, fakecrk.ScopeViewAll}}},
		Now:        w.trueClk.Now, // CRK's own clock is right
	})
	if err != nil {
		return nil, err
	}
	w.crk.SetBehaviour(w.prof.behaviour)

	if w.dir = opts.Dir; w.dir == "" {
		base := ""
		if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
			base = "/dev/shm"
		}
		if w.dir, err = os.MkdirTemp(base, "syncd-sim-"); err != nil {
			w.crk.Close()
			return nil, err
		}
		w.ownDir = true
	}
	w.path = filepath.Join(w.dir, fmt.Sprintf("syncd-%d.db", opts.Seed))
	_ = os.Remove(w.path)

	w.logs = &logSink{w: w, secrets: []string{w.token, strings.TrimPrefix(w.token, "crk_sim_"), password}}
	w.log = slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: dropTime}))
	w.cfg = w.drawConfig(true)
	w.respFrom = w.t0.Add(-w.cfg.Backfill)
	for _, c := range sortByEnd(calls) {
		if c.start.Before(w.respFrom) {
			c.excluded = fmt.Sprintf("started %s, before the first pass's backfill (%s)", ts(c.start), ts(w.respFrom))
			continue
		}
		w.unsettled = append(w.unsettled, c)
	}
	if err := w.open(); err != nil {
		w.close()
		return nil, err
	}
	w.event("start: %s; %d calls", &w.prof, len(calls))
	return w, nil
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

func (w *World) close() {
	if w.store != nil {
		_ = w.store.Close()
	}
	if w.httpT != nil {
		w.httpT.CloseIdleConnections()
	}
	if w.crk != nil {
		_ = w.crk.Close()
	}
	if w.ownDir {
		_ = os.RemoveAll(w.dir)
	}
}

func (w *World) trueNow() time.Time { return w.trueClk.Now() }

// drawConfig is the syncer's configuration for a new process: the first,
// or one an operator changed.
func (w *World) drawConfig(first bool) syncer.Config {
	p := &w.prof
	cfg := syncer.Config{
		Backfill: p.backfills[0], Lookback: p.lookback0, Settle: p.settles[0],
		Concurrency: p.concurrency, MaxAttempts: p.maxAttempts, RetryBase: time.Millisecond,
		PruneMargin: p.pruneMargin, Location: bangkok,
	}
	if !first {
		cfg.Backfill = pick(w.rng, p.backfills...)
		cfg.Lookback = pick(w.rng, p.lookback0, 2*p.lookback0)
		cfg.Settle = pick(w.rng, p.settles...)
	}
	cfg.MaxCall = p.maxCall
	w.maxLook = max(w.maxLook, cfg.Lookback)
	return cfg
}

// open starts a syncd process on the state file: a new store, sink client
// and syncer, nothing remembered but the file.
func (w *World) open() error {
	st, err := state.Open(context.Background(), w.path, state.Options{Timeout: time.Second, Now: w.clk.Now})
	if err != nil {
		w.violate(I0, "state file does not open", "", fmt.Sprintf("the state file does not open after a restart: %v", err))
		return errAbort
	}
	w.store = st
	w.httpT = &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true}
	w.tr = &crashTransport{base: w.httpT, w: w}
	w.sink, err = sink.New(sink.Config{
		BaseURL: w.crk.URL(), Token: w.token, UserAgent: "syncd/sim",
		Retry: sink.Retry{Base: time.Millisecond, Max: 5 * time.Millisecond, MaxRetryAfter: time.Millisecond},
	}, sink.Deps{Shared: deps.Shared{HTTP: &http.Client{Transport: w.tr}, Logger: w.log.With("component", "sink")}})
	if err != nil {
		return err
	}
	w.sy = syncer.New(w.cfg, syncer.Deps{
		Shared: deps.Shared{Logger: w.log.With("component", "syncer"), Now: w.clk.Now},
		Store:  w.store, Sink: w.sink,
	})
	return nil
}

// errAbort stops a run that cannot go on (the state file will not open).
var errAbort = errors.New("simulation aborted")

// restart ends the process (if a crash has not) and starts another: with a
// new configuration, after losing the state file, or just again.
func (w *World) restart(why string, newConfig, lose bool) error {
	w.sy, w.sink = nil, nil
	if w.store != nil {
		_ = w.store.Close()
		w.store = nil
	}
	w.httpT.CloseIdleConnections()
	w.stats.Restarts++
	if newConfig {
		w.cfg = w.drawConfig(false)
	}
	if lose {
		w.stats.Losses++
		if err := os.Remove(w.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		w.lost()
		w.forgetQuarantine()
		w.lossAt = w.clk.Now()
	}
	w.event("restart (%s): backfill %s, lookback %s, settle %s", why, w.cfg.Backfill, w.cfg.Lookback, w.cfg.Settle)
	w.digestf("restart %s %v %v", why, newConfig, lose)
	return w.open()
}

// lost takes out of syncd's responsibility the calls a state file lost
// now cannot be expected to bring back: those that began before the new
// first pass's backfill and were not delivered yet.
func (w *World) lost() {
	at := w.clk.Now()
	bound := at.Add(-w.cfg.Backfill)
	n := 0
	for _, c := range w.src.calls {
		if !c.start.Before(bound) {
			break
		}
		if c.excluded != "" || w.delivered(c) {
			continue
		}
		c.excluded = fmt.Sprintf("started %s, undelivered when the state file was lost at %s with a backfill of %s", ts(c.start), ts(at), w.cfg.Backfill)
		w.trace(c.dataID, "out of syncd's hands: the state file was lost")
		n++
	}
	w.event("the state file is lost (deleted); %d undelivered calls before %s leave syncd's responsibility", n, ts(bound))
}

// forgetQuarantine drops what the checks remember of the state file's
// quarantine, after it changed behind the syncer's back.
func (w *World) forgetQuarantine() {
	for _, c := range w.src.calls {
		c.quarSeen = false
	}
}

// advance moves both clocks.
func (w *World) advance(d time.Duration) {
	w.clk.Advance(d)
	w.trueClk.Advance(d)
}

// loop runs the passes, the chaos between them, the quiet day and the
// final checks.
func (w *World) loop(ctx context.Context) error {
	end := w.t0.Add(time.Duration(w.opts.Days) * 24 * time.Hour)
	quietEnd := end.Add(24 * time.Hour)
	quiet := false
	day := 0
	for w.trueNow().Before(quietEnd) && !w.aborted {
		if err := ctx.Err(); err != nil {
			return err
		}
		if d := int(w.trueNow().Sub(w.t0) / (24 * time.Hour)); d > day {
			day = d
			if w.opts.Logf != nil && d%10 == 0 {
				w.opts.Logf("seed %d: day %d, %d passes, %d crashes, %d violations", w.opts.Seed, d, w.stats.Passes, w.stats.Crashes, len(w.viol))
			}
		}
		if !quiet && !w.trueNow().Before(end) {
			quiet = true
			w.calm()
		}
		plan := passPlan{}
		if !quiet {
			var err error
			if plan, err = w.chaos(); err != nil {
				return w.abortOn(err)
			}
		} else if w.restartNext {
			if err := w.restart("after the crash", false, false); err != nil {
				return w.abortOn(err)
			}
			w.restartNext = false
		}
		if w.aborted {
			break
		}
		cut, err := w.pass(ctx, plan)
		if err != nil {
			return w.abortOn(err)
		}
		if cut {
			w.restartNext = true
			w.advance(time.Duration(5+w.rng.IntN(115)) * time.Second) // systemd restarts it
			continue
		}
		w.advance(w.prof.interval)
	}
	if w.aborted {
		return nil
	}
	if w.restartNext {
		if err := w.restart("after the crash", false, false); err != nil {
			return w.abortOn(err)
		}
	}
	w.final()
	return nil
}

func (w *World) abortOn(err error) error {
	if errors.Is(err, errAbort) {
		w.aborted = true
		return nil
	}
	return err
}

// passPlan is what chaos decided for the next pass.
type passPlan struct {
	failList bool
	crashAt  int
	after    bool
}

// chaos draws what happens before the next pass: faults changing, clock
// jumps, restarts, state-file loss, operator actions, and where the pass
// will be cut. The draws are made in a fixed order.
func (w *World) chaos() (passPlan, error) {
	p := &w.prof
	rng := w.rng
	var plan passPlan
	now := w.trueNow()
	if !now.Before(w.weather) {
		w.drawWeather()
	}
	if rng.Float64() < 0.03 {
		n := 1 + rng.IntN(2)
		w.crk.ExpireNextUploads(n)
		w.event("CRK: the next %d upload URLs expire", n)
	}
	if rng.Float64() < 0.02*p.storm {
		w.crk.FailNext(fakecrk.EndpointReextract, 500, 1)
		w.event("CRK: the next reextract fails with 500 before acting")
	}
	if rng.Float64() < 0.02*p.storm {
		w.crk.FailNextAfter(fakecrk.EndpointReextract, 500, 1)
		w.event("CRK: the next reextract acts, then answers 500")
	}
	if rng.Float64() < 0.01*p.storm {
		w.crk.DropNext(fakecrk.EndpointReextract, 1)
		w.event("CRK: the next reextract acts, then drops the connection")
	}
	plan.failList = rng.Float64() < p.pListFail
	// The host's clock.
	if w.unskew > 0 {
		if w.unskew--; w.unskew == 0 {
			w.event("host clock corrected: forward %s", -w.skew)
			w.clk.Advance(-w.skew)
			w.skew = 0
		}
	}
	if rng.Float64() < p.pJumpFwd {
		d := time.Duration(60+rng.IntN(7*60)) * time.Minute
		w.advance(d)
		w.event("the host slept for %s: no passes", d)
	}
	if w.skew == 0 && rng.Float64() < p.pJumpBack {
		d := time.Duration(1+rng.IntN(20)) * time.Minute
		w.clk.Advance(-d)
		w.skew, w.unskew = -d, 3+rng.IntN(8)
		w.event("host clock stepped back %s", d)
	}
	// A new process: after a crash, or for a new configuration, maybe
	// without its state file.
	perPass := float64(p.interval) / float64(24*time.Hour)
	newConfig := rng.Float64() < p.pConfig
	lose := rng.Float64() < p.pLossPerDay*perPass
	if w.restartNext || newConfig || lose {
		why := "after the crash"
		if !w.restartNext {
			why = "operator"
		}
		if err := w.restart(why, newConfig, lose); err != nil {
			return plan, err
		}
		w.restartNext = false
	}
	if rng.Float64() < p.pRetryPerDay*perPass {
		if err := w.operatorRetry(); err != nil {
			return plan, err
		}
	}
	// A crash, once drawn, waits for a pass that makes that many requests.
	if w.crashAt == 0 && rng.Float64() < p.pCrash {
		w.crashAt = 1 + rng.IntN(1+rng.IntN(30))
		w.crashAfter = rng.IntN(2) == 1
	}
	plan.crashAt, plan.after = w.crashAt, w.crashAfter
	return plan, nil
}

// drawWeather sets CRK's random faults for the next few hours: calm,
// unsettled, or an outage.
func (w *World) drawWeather() {
	rng, k := w.rng, w.prof.storm
	f := fakecrk.Faults{Seed: rng.Int64()}
	var d time.Duration
	switch x := rng.Float64(); {
	case x < 0.04*k: // CRK down
		f.P503, f.P500 = 0.9, 0.1
		d = time.Duration(30+rng.IntN(90)) * time.Minute
		w.event("CRK outage for %s (503s and 500s)", d)
	case x < 0.5:
		d = time.Duration(1+rng.IntN(12)) * time.Hour
	default:
		f.P500 = rng.Float64() * 0.05 * k
		f.P500After = rng.Float64() * 0.03 * k
		f.P429 = rng.Float64() * 0.05 * k
		f.PDrop = rng.Float64() * 0.03 * k
		d = time.Duration(1+rng.IntN(12)) * time.Hour
	}
	w.crk.SetFaults(f)
	w.weather = w.trueNow().Add(d)
	w.event("CRK faults: 500 %.3f, 500-after %.3f, 503 %.2f, 429 %.3f, drop %.3f for %s", f.P500, f.P500After, f.P503, f.P429, f.PDrop, d)
}

// calm begins the quiet day: no faults, no crashes, no clock jumps.
func (w *World) calm() {
	w.crk.SetFaults(fakecrk.Faults{})
	w.crk.ClearInjections()
	if w.skew != 0 {
		w.clk.Advance(-w.skew)
		w.skew, w.unskew = 0, 0
	}
	w.event("the quiet day begins: no more faults")
}

// operatorRetry is a person running -retry-quarantined: each recording it
// releases may be re-extracted once more (I2).
func (w *World) operatorRetry() error {
	ctx := context.Background()
	before, err := w.store.Quarantined(ctx, sourceName)
	if err != nil {
		return err
	}
	// Before the source's first pass (or after the file was lost) the file
	// holds no source: the command says so and moves nothing.
	var unknown *state.UnknownSourceError
	if _, err := w.store.RetryQuarantined(ctx, state.Selection{Source: sourceName}); errors.As(err, &unknown) {
		return nil
	} else if err != nil {
		return err
	}
	after, err := w.store.Quarantined(ctx, sourceName)
	if err != nil {
		return err
	}
	still := map[string]bool{}
	for _, r := range after {
		still[r.ID] = true
	}
	n := 0
	for _, r := range before {
		if still[r.ID] {
			continue
		}
		n++
		w.releases[r.DataID]++
		w.trace(r.DataID, "operator: -retry-quarantined releases it (step %s, reason %q)", r.Step, r.Quarantined)
	}
	w.stats.Retries++
	w.stats.Released += n
	w.sinceRetry, w.retryAt = true, w.clk.Now()
	w.forgetQuarantine()
	w.event("operator: -retry-quarantined released %d recordings", n)
	w.digestf("retry %d", n)
	return nil
}

// pass runs one pass, cut where plan says, and checks the invariants
// after it. It reports whether the pass was cut (the process died).
func (w *World) pass(ctx context.Context, plan passPlan) (bool, error) {
	now := w.beginPass(plan)
	res, hung, err := w.runPass(ctx, plan)
	if hung {
		w.aborted = true
		return false, nil
	}
	w.tr.arm(0, false, nil)
	cut := w.tr.killed()
	w.checkErrors(err, res)
	info := passInfo{n: w.passNo, at: now, from: res.From, to: res.To, err: err != nil}
	w.digestf("pass %d listed %d new %d synced %d failed %d quarantined %d err %v cut %v",
		w.passNo, res.Listed, res.New, res.Synced, res.Failed, res.Quarantined, err != nil, cut != "")
	if cut != "" {
		return true, w.crashed(ctx, info, cut)
	}
	w.sabotage()
	w.checkReextracts(w.takeTouched())
	w.src.endPass()
	if err != nil {
		w.event("pass %d: %v", w.passNo, err)
		w.passes = append(w.passes, info)
		return false, nil
	}
	return false, w.passed(res, info)
}

// beginPass counts the pass, checks what a crash left unchecked, and
// readies the source; it returns the pass's simulated time.
func (w *World) beginPass(plan passPlan) time.Time {
	w.passNo++
	w.stats.Passes++
	now := w.clk.Now()
	if now.After(w.hiNow) {
		w.hiNow = now
	}
	if len(w.checkLater) > 0 {
		w.checkReextracts(w.checkLater)
		w.checkLater = nil
	}
	w.src.beginPass(plan.failList)
	w.mu.Lock()
	w.touched = w.touched[:0]
	w.mu.Unlock()
	return now
}

// runPass runs the syncer's pass, armed to be killed where plan says, and
// reports a pass stuck for 2 minutes of real time (a violation) as hung;
// err is the pass's own.
func (w *World) runPass(ctx context.Context, plan passPlan) (res syncer.Result, hung bool, err error) {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := w.store
	w.tr.arm(plan.crashAt, plan.after, func() {
		cancel()
		_ = st.Close()
	})
	var stuckFlag atomic.Bool
	n := w.passNo
	stuck := time.AfterFunc(2*time.Minute, func() {
		stuckFlag.Store(true)
		w.violate(I0, "pass stuck", "", fmt.Sprintf("pass %d has run for 2 minutes of real time: stuck", n))
		cancel()
	})
	res, err = w.sy.Run(pctx, w.src, nil)
	stuck.Stop()
	return res, stuckFlag.Load(), err
}

// crashed is a pass killed at cut: requests the dead process had on the
// wire reach CRK before anyone restarts (a restart takes longer than a
// request), and what it touched is checked once the state file is open
// again.
func (w *World) crashed(ctx context.Context, info passInfo, cut string) error {
	w.httpT.CloseIdleConnections()
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	err := w.crk.WaitIdle(wctx)
	wcancel()
	if err != nil {
		return err
	}
	w.crashAt = 0
	w.stats.Crashes++
	w.event("pass %d: the process is killed at %s", w.passNo, cut)
	w.passes = append(w.passes, info)
	w.checkLater = w.takeTouched()
	return nil
}

// passed checks the cursor a pass that ran left behind.
func (w *World) passed(res syncer.Result, info passInfo) error {
	w.sinceRetry = false
	cursor, ok, err := w.store.Cursor(context.Background(), sourceName)
	if err != nil {
		return err
	}
	info.cursor = cursor
	w.passes = append(w.passes, info)
	w.digestf("cursor %s", cursor.UTC().Format(time.RFC3339Nano))
	if res.Synced+res.Failed+res.Quarantined > 0 {
		w.eventMinor("pass %d: window %s – %s: listed %d, new %d, synced %d, failed %d, quarantined %d; cursor %s",
			w.passNo, ts(res.From), ts(res.To), res.Listed, res.New, res.Synced, res.Failed, res.Quarantined, ts(cursor))
	}
	if ok {
		w.checkCursor(cursor)
	}
	w.checkBounded(cursor, ok, res.From)
	w.lastFrom = res.From
	return nil
}

// sabotage pays a second time for the delivered calls opts.payTwice
// names, with a request of its own through the process's transport.
func (w *World) sabotage() {
	if w.opts.payTwice == nil {
		return
	}
	for _, c := range w.src.calls {
		if c.sabotaged || !w.delivered(c) || !w.opts.payTwice(c.id) {
			continue
		}
		c.sabotaged = true
		got, _ := w.crk.Recording(business, c.dataID)
		req, err := http.NewRequest(http.MethodPost, w.crk.URL()+"/recordings/"+got.ID+"/reextract", nil)
		if err != nil {
			continue
		}
		req.Header.Set("Authorization", "Bearer "+w.token)
		if resp, err := w.tr.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
	}
}

func (w *World) takeTouched() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := slices.Clone(w.touched)
	slices.Sort(out)
	return slices.Compact(out)
}

// final runs the checks at the end of the quiet day.
func (w *World) final() {
	w.checkReextracts(w.checkLater)
	w.checkAll()
	w.checkAllReextracts()
	w.checkStateSecrets()
	cursor, ok, _ := w.store.Cursor(context.Background(), sourceName)
	w.checkBounded(cursor, ok, w.lastFrom)
}

func (w *World) report() *Report {
	w.mu.Lock()
	w.stats.Requests = w.requests
	w.mu.Unlock()
	for _, r := range w.crk.Recordings() {
		w.stats.Reextracts += r.Reextracts
	}
	w.stats.ByInvariant = maps.Clone(w.byInv)
	w.stats.ByKind = maps.Clone(w.byKind)
	for _, c := range w.src.calls {
		if c.excluded == "" {
			w.stats.Responsible++
		}
	}
	return &Report{
		Seed: w.opts.Seed, Days: w.opts.Days, Profile: w.prof.String(), Violations: w.viol, Stats: w.stats,
		Digest: hex.EncodeToString(w.hash.Sum(nil)), Concurrency: w.prof.concurrency,
	}
}
