// Package syncer runs one sync pass of one source: it lists the source's
// window, drops what the state file says is done or quarantined, sends the
// rest to CRK step by step with bounded workers, and advances the source's
// cursor only past recordings that are done or quarantined.
package syncer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/spool"
	"github.com/crkai/syncd/internal/state"
)

// Sink is what a pass needs of CRK; *sink.Client is the one in use.
type Sink interface {
	Create(ctx context.Context, r sink.Recording) (sink.Created, error)
	Upload(ctx context.Context, uploadURL, contentType string, body io.Reader, size int64) error
	Reextract(ctx context.Context, id string) (sink.Reextracted, error)
	Find(ctx context.Context, dataID string) (*sink.Remote, error)
	List(ctx context.Context, q sink.Query) (sink.Page, error)
}

// Config tunes a Syncer. Zero values take the defaults of DESIGN.md.
type Config struct {
	Backfill time.Duration // first pass looks this far back; default 24h
	Lookback time.Duration // every pass looks this far behind the cursor
	Settle   time.Duration // recordings that ended less than this ago wait
	// MaxCall is the longest call expected; default 4h. A recording
	// appears at the source only once its call ends, and sources list by
	// the call's start, so every window reaches this much further back.
	MaxCall     time.Duration
	Concurrency int // recordings in flight; default 4
	// MaxAttempts is how many passes may fail on a recording for reasons
	// that may fix themselves before it is quarantined; default 10.
	MaxAttempts int
	// VerifyAttempts is how many passes may find no proof that a
	// re-extraction whose answer was lost was acted on, before the
	// recording is quarantined for a person to decide; default 24.
	VerifyAttempts int
	// PassTries is how often one pass tries a recording whose failure at
	// the source may fix itself soon (a dropped audio stream); default 3.
	// CRK's own failures are retried by the sink, never again here, and
	// audio that is not ready waits for the next pass.
	PassTries int
	// RetryBase is the first wait between those tries; default 1 s.
	RetryBase time.Duration
	// BreakAfter: once this many recordings in a row fail because CRK is
	// unavailable (5xx, 429, network) after the sink's own retries, the
	// pass starts no more, and the next pass asks CRK before it sends;
	// default 3.
	BreakAfter int
	// MissingPasses is how many passes in a row must not list a pending
	// recording before it is quarantined as gone at the source; default 3.
	MissingPasses int
	// LoginBackoff is the wait after a first refused log-in, doubled on
	// each refusal in a row up to LoginBackoffMax; defaults 5 min and 6 h.
	LoginBackoff, LoginBackoffMax time.Duration
	// Fingerprint names a source's configuration, so that a changed one
	// is tried at once after refused log-ins; nil means "".
	Fingerprint func(source string) string
	// Spool holds audio whose length the source does not say, so that
	// its upload carries a Content-Length; nil means one under the
	// system's temporary directory.
	Spool *spool.Spool
	// UnknownDirection is what a recording whose source does not say its
	// direction is sent as: "in" (the default), "out", or "quarantine".
	UnknownDirection string
	// PruneMargin: done records older than the window's start minus the
	// lookback minus this margin are deleted; default 24h.
	PruneMargin time.Duration
	Location    *time.Location // SYNCD_TIMEZONE; callAt carries its offset
	// Progress, when set, is called whenever a pass moves: a listing
	// returned, a step recorded, audio bytes sent, a recording finished
	// with; and once more when the pass ends. It carries the pass's
	// counts. The daemon's watchdog tells a slow pass from a stuck one by
	// it, and its status page and log show the counts. It must be cheap.
	Progress func(Progress)
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	def(&c.Backfill, 24*time.Hour)
	def(&c.MaxCall, 4*time.Hour)
	def(&c.RetryBase, time.Second)
	def(&c.PruneMargin, 24*time.Hour)
	def(&c.LoginBackoff, 5*time.Minute)
	def(&c.LoginBackoffMax, 6*time.Hour)
	defInt(&c.Concurrency, 4)
	defInt(&c.MaxAttempts, 10)
	defInt(&c.VerifyAttempts, 24)
	defInt(&c.PassTries, 3)
	defInt(&c.BreakAfter, 3)
	defInt(&c.MissingPasses, 3)
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.Progress == nil {
		c.Progress = func(Progress) {}
	}
	if c.UnknownDirection == "" {
		c.UnknownDirection = "in"
	}
	if c.Spool == nil {
		c.Spool = spool.New(filepath.Join(os.TempDir(), "syncd-spool"), 0)
	}
	if c.Fingerprint == nil {
		c.Fingerprint = func(string) string { return "" }
	}
}

// Syncer runs passes. One Syncer serves every source; passes of different
// sources may run at once, two of the same source must not.
type Syncer struct {
	cfg   Config
	store *state.Store
	sink  Sink
	log   *slog.Logger
	m     *metrics
	now   func() time.Time
	vocab vocabulary
	// crkDown is set when a pass stopped early because CRK was
	// unavailable: the next pass asks CRK before it sends anything.
	crkDown atomic.Bool
	passes  passes // the counts of the passes in flight
}

// Deps are what a Syncer is built with. Store and Sink are required. Its
// metrics are those of DESIGN.md, per source (syncd_recordings_*,
// syncd_pass_duration_seconds, syncd_source_up, …).
type Deps struct {
	deps.Shared
	Store *state.Store
	Sink  Sink
}

// New returns a Syncer. It does no I/O.
func New(cfg Config, d Deps) *Syncer {
	cfg.defaults()
	sh := d.Shared.Defaulted()
	return &Syncer{cfg: cfg, store: d.Store, sink: d.Sink, log: sh.Logger, m: newMetrics(sh.Registerer), now: sh.Now}
}

// Plan is what a pass would do: its window, what the source lists there, and
// which of those still need sending.
//
// The cursor is keyed by the end of calls: every recording whose call
// ended before it is done or quarantined. Sources list by the start of
// calls, so the listing reaches back Lookback + MaxCall behind the cursor,
// and a recording is taken once its call ended Settle ago.
type Plan struct {
	Source string
	// From, To is the listing window, by call start. From may reach
	// further back than the cursor asks, to a recording still pending;
	// what is unknown back there is left alone.
	From, To time.Time
	Listed   []connectors.Recording // each recording once
	Todo     []connectors.Recording
	// Check are the ids of Todo that the state file does not know and may
	// have forgotten (a first pass, or older than the prune horizon): CRK
	// is asked about them before anything is sent.
	Check map[string]bool
	// Unsettled counts recordings whose call ended less than Settle ago.
	Unsettled int
	// Missing are records the state file holds as pending, inside the
	// window, that the source did not list this time.
	Missing []state.Record
	// First is true when the source has no cursor yet: a new install, or a
	// state file started afresh.
	First bool
	// inWindow holds the listed ids the cursor answers for.
	inWindow map[string]bool
	normal   time.Time // where the window the cursor asks for begins
	// unchecked: CRK could not be asked about Check. On a first pass the
	// source then keeps no cursor, so that the next pass is a first pass
	// again and asks again.
	unchecked bool
	known     map[string]state.Record
}

// end is when r's call ended, as far as the source says.
func end(r connectors.Recording) time.Time { return r.CallAt.Add(max(r.Duration, 0)) }

// Plan lists the source's window and compares it with the state file. It
// writes nothing anywhere: -dry-run prints it.
func (s *Syncer) Plan(ctx context.Context, c connectors.Connector) (*Plan, error) {
	src := c.Name()
	w, err := s.window(ctx, src)
	if err != nil {
		return nil, err
	}
	p := &Plan{Source: src, From: w.from, To: w.to, First: w.first, Check: map[string]bool{}, inWindow: map[string]bool{}, normal: w.normal}
	if !w.from.Before(w.to) {
		return p, nil
	}
	if err := s.list(ctx, c, p); err != nil {
		return nil, err
	}
	p.sort(w)
	p.findMissing(w.pending)
	return p, nil
}

// window is what the state file says of a source's next listing.
type window struct {
	from, to time.Time // the listing's window, by call start
	normal   time.Time // where the window the cursor asks for begins
	first    bool      // the source has no cursor yet
	// forgot: before it the state file may have forgotten recordings it
	// finished (anything, on a first pass); hasForgot is false when
	// nothing was pruned yet.
	forgot    time.Time
	hasForgot bool
	pending   []state.Record // the source's pending records, oldest call first
}

// window reads the cursor, the floor, the pending records and the prune
// horizon of src, and says where its next listing begins and ends.
func (s *Syncer) window(ctx context.Context, src string) (window, error) {
	w := window{to: s.now().Add(-s.cfg.Settle)}
	cursor, ok, err := s.store.Cursor(ctx, src)
	if err != nil {
		return w, fmt.Errorf("reading the cursor of %s: %w", src, err)
	}
	w.first = !ok
	// The floor is where the source's history began: its first attempt's
	// now − SYNCD_BACKFILL, kept even when that attempt failed.
	floor, fok, err := s.store.Floor(ctx, src)
	if err != nil {
		return w, fmt.Errorf("reading the floor of %s: %w", src, err)
	}
	w.normal = w.to.Add(-s.cfg.Backfill)
	switch {
	case ok:
		w.normal = cursor.Add(-s.cfg.Lookback - s.cfg.MaxCall)
		if fok && w.normal.Before(floor) {
			w.normal = floor // never before where the history began
		}
	case fok:
		w.normal = floor // a first pass that failed before: from where it began
	}
	// A recording still pending in the state file (one moved back from
	// quarantine, say) pulls the listing back to it, wherever the cursor
	// is; only the pending ones are taken from back there.
	if w.pending, err = s.store.Pending(ctx, src); err != nil {
		return w, fmt.Errorf("reading the pending recordings of %s: %w", src, err)
	}
	w.from = w.normal
	for _, r := range w.pending { // oldest call first; a zero time says nothing
		if !r.CallAt.IsZero() {
			if r.CallAt.Before(w.from) {
				w.from = r.CallAt
			}
			break
		}
	}
	// Before the horizon the state file may have forgotten recordings it
	// finished; on a first pass it may have forgotten everything.
	if w.forgot, w.hasForgot, err = s.store.Horizon(ctx, src); err != nil {
		return w, fmt.Errorf("reading the prune horizon of %s: %w", src, err)
	}
	if w.first {
		w.forgot, w.hasForgot = time.Unix(1<<62, 0), true
	}
	return w, nil
}

// list lists the source's window into p.Listed, each recording once, and
// reads what the state file knows of them.
func (s *Syncer) list(ctx context.Context, c connectors.Connector, p *Plan) error {
	listed, err := c.List(ctx, p.From, p.To)
	if err != nil {
		return fmt.Errorf("listing %s from %s to %s: %w", p.Source, p.From.Format(time.RFC3339), p.To.Format(time.RFC3339), err)
	}
	s.moved(p.Source)
	seen := make(map[string]bool, len(listed))
	ids := make([]string, 0, len(listed))
	for _, r := range listed {
		if seen[r.ID] {
			continue // a source that lists a recording twice
		}
		seen[r.ID] = true
		p.Listed = append(p.Listed, r)
		ids = append(ids, r.ID)
	}
	if p.known, err = s.store.GetMany(ctx, p.Source, ids); err != nil {
		return fmt.Errorf("reading the state of %s: %w", p.Source, err)
	}
	return nil
}

// sort sorts the listed recordings: done or quarantined (nothing to do),
// to do, to ask CRK about first, unsettled, or behind the window.
func (p *Plan) sort(w window) {
	for _, r := range p.Listed {
		k, known := p.known[r.ID]
		switch {
		case known && (k.Step == state.Done || k.Quarantined != ""):
			p.inWindow[r.ID] = true
		case known:
			// A pending record behind the window (moved back from
			// quarantine after the cursor passed it) is kept by the
			// pending index, not by the cursor.
			p.inWindow[r.ID] = r.CallAt.IsZero() || !r.CallAt.Before(w.normal)
			p.Todo = append(p.Todo, r)
		case !r.CallAt.IsZero() && r.CallAt.Before(w.normal):
			// Unknown, and behind the window the cursor asks for: listed
			// only because a pending recording pulled the listing back.
		case r.Invalid == nil && end(r).After(w.to):
			p.inWindow[r.ID] = true
			p.Unsettled++ // still being written, or only just ended
		default:
			p.inWindow[r.ID] = true
			p.Todo = append(p.Todo, r)
			if r.Invalid == nil && w.hasForgot && r.CallAt.Before(w.forgot) {
				p.Check[r.ID] = true
			}
		}
	}
}

// findMissing notes the pending records inside the window that the source
// did not list.
func (p *Plan) findMissing(pending []state.Record) {
	listed := make(map[string]bool, len(p.Listed))
	for _, r := range p.Listed {
		listed[r.ID] = true
	}
	for _, r := range pending {
		// A record without a call time (a row the source described badly,
		// moved back from quarantine) belongs to no window: every listing
		// that does not show it counts.
		inside := !r.CallAt.Before(p.From) && r.CallAt.Before(p.To)
		if !listed[r.ID] && (r.CallAt.IsZero() || inside) {
			p.Missing = append(p.Missing, r)
		}
	}
}

// Item is one recording a pass handled, for summaries.
type Item struct {
	Recording connectors.Recording
	Bytes     int64
	Err       error // nil when synced
	// Quarantined is the reason, when the pass quarantined it.
	Quarantined string
}

// Result is what one pass did.
type Result struct {
	Source                                   string
	From, To                                 time.Time
	Listed, New, Synced, Failed, Quarantined int
	Took                                     time.Duration
	Items                                    []Item
	// Err is the pass's failure as a whole (log-in, listing, CRK
	// unavailable); nil when the pass ran. Single recordings' failures are
	// counted in Failed, not here.
	Err error
	// Left are the recordings a stop (draining) kept the pass from
	// starting: the next pass finds them as they are.
	Left int
}

// Run runs one pass of c. It returns an error when the source or CRK failed
// as a whole (log-in, listing, the token, CRK unavailable); failures of
// single recordings are counted in the Result. Once draining is closed no
// more recordings are started; those in flight finish unless ctx ends
// first. State is written after every step even when ctx ends, so a pass
// can stop anywhere.
func (s *Syncer) Run(ctx context.Context, c connectors.Connector, draining <-chan struct{}) (res Result, err error) {
	start := time.Now()
	src := c.Name()
	res.Source = src
	s.beginPass(src)
	defer s.endPass(src)
	defer func() {
		res.Took = time.Since(start)
		s.m.duration.WithLabelValues(src).Observe(res.Took.Seconds())
	}()
	p, err := s.begin(ctx, c)
	if err != nil {
		return res, err
	}
	res.From, res.To, res.Listed, res.New = p.From, p.To, len(p.Listed), len(p.Todo)
	s.m.listed.WithLabelValues(src).Add(float64(len(p.Listed)))
	passErr, err := s.check(ctx, p, &res)
	if err != nil {
		return res, err
	}
	if err := s.missing(ctx, p, &res); err != nil {
		return res, err
	}
	s.planned(src, len(p.Todo))
	if err := s.remember(ctx, p); err != nil {
		return res, err
	}
	checked := len(p.Check) > 0 && !p.unchecked
	finished, fatal := s.work(ctx, c, p, draining, &res)
	if err := s.commit(ctx, p, finished); err != nil {
		return res, err
	}
	if fatal == nil && passErr == nil && ctx.Err() == nil {
		if passErr, err = s.succeeded(ctx, src, res.Synced > 0 || checked); err != nil {
			return res, err
		}
	}
	slices.SortFunc(res.Items, func(a, b Item) int { return a.Recording.CallAt.Compare(b.Recording.CallAt) })
	return res, s.outcome(ctx, src, fatal, passErr)
}

// begin checks what must hold before the source is asked (the vocabulary
// of CRK's statuses read, the source's log-in not held back, CRK
// answering after a pass it stopped, the start of the history marked),
// then plans the pass.
func (s *Syncer) begin(ctx context.Context, c connectors.Connector) (*Plan, error) {
	src := c.Name()
	if err := s.vocab.load(ctx, s.store); err != nil {
		return nil, &stateError{err}
	}
	if err := s.loginGate(ctx, src); err != nil {
		s.sourceUp(src, false)
		return nil, err
	}
	if err := s.probeCRK(ctx); err != nil {
		return nil, err
	}
	if err := s.markFloor(ctx, src); err != nil {
		return nil, err
	}
	p, err := s.Plan(ctx, c)
	if lerr := s.loginResult(context.WithoutCancel(ctx), src, err); lerr != nil {
		return nil, lerr
	}
	if err != nil {
		s.sourceUp(src, false)
		return nil, err
	}
	s.sourceUp(src, true)
	return p, nil
}

// check asks CRK about the recordings the state file may have forgotten
// (Plan.Check) and drops those it holds from the work. When CRK cannot be
// asked, none of them is sent, since that might pay twice: they wait for
// the next pass, and passErr says why. err is a failure of the state file.
func (s *Syncer) check(ctx context.Context, p *Plan, res *Result) (passErr, err error) {
	if len(p.Check) == 0 {
		return nil, nil
	}
	if err := s.reconcile(ctx, p); err != nil {
		var se *stateError
		if errors.As(err, &se) {
			return nil, err
		}
		passErr = fmt.Errorf("not sending %d recordings the state file does not know until CRK says whether it holds them: %w", len(p.Check), err)
		s.log.Warn("could not ask CRK which recordings it already holds", "source", p.Source, "count", len(p.Check), "err", err)
		p.Todo = slices.DeleteFunc(p.Todo, func(r connectors.Recording) bool { return p.Check[r.ID] })
		p.unchecked = true
	}
	res.New = len(p.Todo)
	return passErr, nil
}

// succeeded records the pass's success: the source listed and CRK
// reached. A pass that sent nothing (reached false) has not shown that CRK
// takes the token: one cheap question first, whose failure is passErr. err
// is a failure of the state file.
func (s *Syncer) succeeded(ctx context.Context, src string, reached bool) (passErr, err error) {
	if !reached {
		if _, err := s.sink.List(ctx, sink.Query{Limit: 1}); err != nil && !errors.Is(err, sink.ErrInsufficientScope) {
			return fmt.Errorf("the source was listed, but CRK did not answer: %w", err), nil
		}
	}
	if err := s.store.SetLastSuccess(context.WithoutCancel(ctx), src, s.now()); err != nil {
		return nil, fmt.Errorf("saving the last success of %s: %w", src, err)
	}
	s.m.lastSuccess.WithLabelValues(src).Set(float64(s.now().Unix()))
	return nil, nil
}

// outcome is the error Run returns once the work is committed: what
// stopped the pass, or what it could not do.
func (s *Syncer) outcome(ctx context.Context, src string, fatal, passErr error) error {
	switch {
	case fatal != nil:
		if errors.Is(fatal, connectors.ErrAuth) || errors.Is(fatal, connectors.ErrForbidden) {
			s.sourceUp(src, false)
		}
		return fmt.Errorf("pass of %s stopped: %w", src, fatal)
	case ctx.Err() != nil:
		return fmt.Errorf("pass of %s stopped: %w", src, ctx.Err())
	case passErr != nil:
		return fmt.Errorf("pass of %s: %w", src, passErr)
	}
	return nil
}

// markFloor records, at a source's very first attempt, where its history
// begins, so that a first pass that fails (a listing error, CRK down) does
// not move the start of the history on with the clock.
func (s *Syncer) markFloor(ctx context.Context, src string) error {
	if _, ok, err := s.store.Cursor(ctx, src); err != nil || ok {
		return err
	}
	if _, ok, err := s.store.Floor(ctx, src); err != nil || ok {
		return err
	}
	at := s.now().Add(-s.cfg.Settle - s.cfg.Backfill)
	if err := s.store.SetFloor(context.WithoutCancel(ctx), src, at); err != nil {
		return &stateError{fmt.Errorf("saving where %s's history begins: %w", src, err)}
	}
	return nil
}

// errCRKDown stops a pass early: CRK failed several recordings in a row.
var errCRKDown = errors.New("CRK is unavailable")

// probeCRK asks CRK one cheap question when the last pass found it down,
// so that a pass does not spend its rate budget on doomed requests.
func (s *Syncer) probeCRK(ctx context.Context) error {
	if !s.crkDown.Load() {
		return nil
	}
	_, err := s.sink.List(ctx, sink.Query{Limit: 1})
	if err != nil && crkUnavailable(err) {
		return fmt.Errorf("%w: still failing when asked before sending (%w); the next pass asks again", errCRKDown, err)
	}
	s.crkDown.Store(false)
	s.log.Info("CRK answers again: sending resumes")
	return nil
}

// missing handles the pending records the source did not list: one
// listing is no proof that a recording is gone (a deletion can shift a
// paged listing), so only MissingPasses in a row quarantine it.
func (s *Syncer) missing(ctx context.Context, p *Plan, res *Result) error {
	for _, r := range p.Missing {
		r.Missing++
		if r.Missing < s.cfg.MissingPasses {
			if err := s.put(ctx, p.Source, &r); err != nil {
				return err
			}
			continue
		}
		why := fmt.Sprintf("the source has not listed this recording in %d passes in a row (deleted there?)", r.Missing)
		if err := s.quarantine(ctx, p.Source, &r, why); err != nil {
			return err
		}
		res.Quarantined++
		res.Items = append(res.Items, Item{Recording: connectors.Recording{ID: r.ID, DataID: r.DataID, CallAt: r.CallAt}, Quarantined: why})
	}
	return nil
}

// remember writes every recording of p.Todo the state file does not know
// yet, as pending, in one transaction, before anything is sent: a crash
// after a create then leaves a record that resumes at the create, not an
// unknown recording that CRK holds without audio.
func (s *Syncer) remember(ctx context.Context, p *Plan) error {
	var recs []state.Record
	for _, r := range p.Todo {
		if _, ok := p.known[r.ID]; !ok && r.Invalid == nil {
			rec := state.Record{ID: r.ID, DataID: r.DataID, CallAt: r.CallAt, Step: state.Pending}
			recs = append(recs, rec)
		}
	}
	if len(recs) == 0 {
		return nil
	}
	if err := s.store.PutMany(context.WithoutCancel(ctx), p.Source, recs); err != nil {
		return &stateError{fmt.Errorf("recording the new recordings of %s: %w", p.Source, err)}
	}
	for _, r := range recs {
		p.known[r.ID] = r
	}
	return nil
}

// work sends p.Todo with bounded workers. It returns the ids it finished
// (done or quarantined) and the error that stopped the pass, if any.
func (s *Syncer) work(ctx context.Context, c connectors.Connector, p *Plan, draining <-chan struct{}, res *Result) (map[string]bool, error) {
	var mu sync.Mutex
	finished := map[string]bool{}
	downRun := 0 // recordings in a row that failed because CRK is down
	broke := false
	started := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.Concurrency)
	for _, r := range p.Todo {
		mu.Lock()
		stop := broke
		mu.Unlock()
		if stopped(draining) {
			res.Left = len(p.Todo) - started
			break
		}
		if stop || gctx.Err() != nil {
			break
		}
		started++
		known, ok := p.known[r.ID]
		g.Go(func() error {
			it, fin, err := s.recording(gctx, c, r, known, ok)
			mu.Lock()
			defer mu.Unlock()
			res.Items = append(res.Items, it)
			s.handled(p.Source, it)
			switch {
			case it.Quarantined != "":
				res.Quarantined++
			case it.Err != nil:
				res.Failed++
			default:
				res.Synced++
			}
			if fin {
				finished[r.ID] = true
			}
			switch {
			case it.Err != nil && crkUnavailable(it.Err):
				if downRun++; downRun >= s.cfg.BreakAfter && !broke {
					broke = true
					s.crkDown.Store(true)
					s.log.Warn("CRK failed recordings in a row: starting no more in this pass", "source", p.Source, "failures", downRun, "err", it.Err)
				}
			case it.Err == nil:
				downRun = 0
			}
			return err
		})
	}
	fatal := g.Wait()
	if fatal == nil && broke {
		fatal = fmt.Errorf("%w: %d recordings in a row failed; the next pass asks CRK before it sends", errCRKDown, downRun)
	}
	return finished, fatal
}

// commit moves the cursor, prunes and refreshes the gauges. It runs even
// when ctx ended: all of it is always safe.
func (s *Syncer) commit(ctx context.Context, p *Plan, finished map[string]bool) error {
	wctx := context.WithoutCancel(ctx)
	src := p.Source
	if !p.From.Before(p.To) {
		// Nothing listed. A cursor after the window's end (the clock went
		// back) comes back to it, so it never stands after now.
		if cur, ok, err := s.store.Cursor(wctx, src); err == nil && ok && cur.After(p.To) {
			if err := s.store.SetCursor(wctx, src, p.To); err != nil {
				return fmt.Errorf("saving the cursor of %s: %w", src, err)
			}
		}
		return nil
	}
	if p.First && p.unchecked {
		s.gauges(wctx, src)
		return nil
	}
	if p.First {
		if err := s.store.SetFloor(wctx, src, p.normal); err != nil {
			return fmt.Errorf("saving where %s's history begins: %w", src, err)
		}
	}
	cursor := p.To
	for _, r := range p.Listed {
		if !p.inWindow[r.ID] {
			continue
		}
		k, ok := p.known[r.ID]
		done := finished[r.ID] || (ok && (k.Step == state.Done || k.Quarantined != ""))
		if !done && !r.CallAt.IsZero() && end(r).Before(cursor) {
			cursor = end(r)
		}
	}
	if err := s.store.SetCursor(wctx, src, cursor); err != nil {
		return fmt.Errorf("saving the cursor of %s: %w", src, err)
	}
	if n, err := s.store.Prune(wctx, src, p.From.Add(-s.cfg.Lookback-s.cfg.PruneMargin)); err != nil {
		s.log.Warn("pruning old records failed", "source", src, "err", err)
	} else if n > 0 {
		s.log.Debug("pruned done records", "source", src, "count", n)
	}
	s.gauges(wctx, src)
	return nil
}

func (s *Syncer) sourceUp(src string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	s.m.up.WithLabelValues(src).Set(v)
}

// gauges refreshes the quarantine and pending gauges from the state file.
func (s *Syncer) gauges(ctx context.Context, src string) {
	sum, err := s.store.Summary(ctx, src)
	if err != nil {
		s.log.Warn("reading the state summary failed", "source", src, "err", err)
		return
	}
	s.m.quarantined.WithLabelValues(src).Set(float64(sum.Quarantined))
	s.m.pending.WithLabelValues(src).Set(float64(sum.Pending))
}

func stopped(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
