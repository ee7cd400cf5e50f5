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
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/state"
)

// Sink is what a pass needs of CRK; *sink.Client is the one in use.
type Sink interface {
	Create(ctx context.Context, r sink.Recording) (sink.Created, error)
	Upload(ctx context.Context, uploadURL, contentType string, body io.Reader, size int64) error
	Reextract(ctx context.Context, id string) error
	Find(ctx context.Context, dataID string) (*sink.Remote, error)
	List(ctx context.Context, q sink.Query) (sink.Page, error)
}

// Config tunes a Syncer. Zero values take the defaults of DESIGN.md.
type Config struct {
	Backfill    time.Duration // first pass looks this far back; default 24h
	Lookback    time.Duration // every pass looks this far behind the cursor
	Settle      time.Duration // recordings younger than this wait
	Concurrency int           // recordings in flight; default 4
	// MaxAttempts is how many passes may fail on a recording for reasons
	// that may fix themselves before it is quarantined; default 10.
	MaxAttempts int
	// PassTries is how often one pass tries a recording whose failure may
	// fix itself soon (a dropped connection, a 5xx); default 3. Audio that
	// is not ready waits for the next pass instead.
	PassTries int
	// RetryBase is the first wait between those tries; default 1 s.
	RetryBase time.Duration
	// PruneMargin: done records older than the window's start minus the
	// lookback minus this margin are deleted; default 24h.
	PruneMargin time.Duration
	Location    *time.Location // SYNCD_TIMEZONE; callAt carries its offset
	// Progress, when set, is called whenever a pass moves: a listing
	// returned, a step recorded, audio bytes sent. The daemon's watchdog
	// tells a slow pass from a stuck one by it. It must be cheap.
	Progress func()
}

func (c *Config) defaults() {
	if c.Backfill <= 0 {
		c.Backfill = 24 * time.Hour
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.PassTries <= 0 {
		c.PassTries = 3
	}
	if c.RetryBase <= 0 {
		c.RetryBase = time.Second
	}
	if c.PruneMargin <= 0 {
		c.PruneMargin = 24 * time.Hour
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.Progress == nil {
		c.Progress = func() {}
	}
}

// Syncer runs passes. One Syncer serves every source; passes of different
// sources may run at once, two of the same source must not.
type Syncer struct {
	cfg   Config
	store *state.Store
	sink  Sink
	log   *slog.Logger
	m     *Metrics
	now   func() time.Time
}

// New returns a Syncer. m may be nil; now nil means time.Now.
func New(cfg Config, store *state.Store, sk Sink, log *slog.Logger, m *Metrics, now func() time.Time) *Syncer {
	cfg.defaults()
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Syncer{cfg: cfg, store: store, sink: sk, log: log, m: m, now: now}
}

// Plan is what a pass would do: its window, what the source lists there, and
// which of those still need sending.
type Plan struct {
	Source   string
	From, To time.Time
	Listed   []connectors.Recording
	Todo     []connectors.Recording
	// Vanished are records the state file holds as pending, inside the
	// window, that the source no longer lists: a pass quarantines them.
	Vanished []state.Record
	// First is true when the source has no cursor yet: a new install, or a
	// state file started afresh.
	First bool
	known map[string]state.Record
}

// Plan lists the source's window and compares it with the state file. It
// writes nothing anywhere: -dry-run prints it.
func (s *Syncer) Plan(ctx context.Context, c connectors.Connector) (*Plan, error) {
	src := c.Name()
	now := s.now()
	to := now.Add(-s.cfg.Settle)
	cursor, ok, err := s.store.Cursor(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("reading the cursor of %s: %w", src, err)
	}
	from := to.Add(-s.cfg.Backfill)
	if ok {
		from = cursor.Add(-s.cfg.Lookback)
	}
	// A recording still pending in the state file (one moved back from
	// quarantine, say) pulls the window back to it, wherever the cursor is.
	pending, err := s.store.Pending(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("reading the pending recordings of %s: %w", src, err)
	}
	if len(pending) > 0 && !pending[0].CallAt.IsZero() && pending[0].CallAt.Before(from) {
		from = pending[0].CallAt
	}
	p := &Plan{Source: src, From: from, To: to, First: !ok}
	if !from.Before(to) {
		return p, nil
	}
	if p.Listed, err = c.List(ctx, from, to); err != nil {
		return nil, fmt.Errorf("listing %s from %s to %s: %w", src, from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	ids := make([]string, 0, len(p.Listed))
	for _, r := range p.Listed {
		ids = append(ids, r.ID)
	}
	if p.known, err = s.store.GetMany(ctx, src, ids); err != nil {
		return nil, fmt.Errorf("reading the state of %s: %w", src, err)
	}
	seen := make(map[string]bool, len(p.Listed))
	for _, r := range p.Listed {
		if seen[r.ID] {
			continue // a source that lists a recording twice
		}
		seen[r.ID] = true
		if k, ok := p.known[r.ID]; ok && (k.Step == state.Done || k.Quarantined != "") {
			continue
		}
		p.Todo = append(p.Todo, r)
	}
	for _, r := range pending {
		if !seen[r.ID] && !r.CallAt.IsZero() && !r.CallAt.Before(from) && r.CallAt.Before(to) {
			p.Vanished = append(p.Vanished, r)
		}
	}
	return p, nil
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
}

// Run runs one pass of c. It returns an error when the source or CRK failed
// as a whole (log-in, listing, the token); failures of single recordings are
// counted in the Result. Once draining is closed no more recordings are
// started; those in flight finish unless ctx ends first. State is written
// after every step even when ctx ends, so a pass can stop anywhere.
func (s *Syncer) Run(ctx context.Context, c connectors.Connector, draining <-chan struct{}) (res Result, err error) {
	start := time.Now()
	src := c.Name()
	res.Source = src
	defer func() {
		res.Took = time.Since(start)
		if s.m != nil {
			s.m.duration.WithLabelValues(src).Observe(res.Took.Seconds())
		}
	}()
	p, err := s.Plan(ctx, c)
	if err != nil {
		s.sourceUp(src, false)
		return res, err
	}
	s.cfg.Progress()
	s.sourceUp(src, true)
	res.From, res.To, res.Listed, res.New = p.From, p.To, len(p.Listed), len(p.Todo)
	if !p.From.Before(p.To) {
		return res, nil // the window is empty: the clock went back, or settle > schedule
	}
	if s.m != nil {
		s.m.listed.WithLabelValues(src).Add(float64(len(p.Listed)))
	}

	if p.First && len(p.Todo) > 0 {
		var se *stateError
		if err := s.reconcile(ctx, p); errors.As(err, &se) {
			return res, err
		} else if err != nil {
			s.log.Warn("could not ask CRK which recordings of the first window it already holds; sending them all (CRK's create is idempotent, but AI processing may be asked again for ones it processed before)",
				"source", src, "err", err)
		}
		res.New = len(p.Todo)
	}
	for _, r := range p.Vanished {
		why := "the source no longer lists this recording (deleted there?)"
		if err := s.quarantine(ctx, src, &r, why); err != nil {
			return res, err
		}
		res.Quarantined++
		res.Items = append(res.Items, Item{Recording: connectors.Recording{ID: r.ID, DataID: r.DataID, CallAt: r.CallAt}, Quarantined: why})
	}

	var mu sync.Mutex
	finished := map[string]bool{} // done or quarantined by this pass
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.Concurrency)
	for _, r := range p.Todo {
		if stopped(draining) || gctx.Err() != nil {
			break
		}
		known, ok := p.known[r.ID]
		g.Go(func() error {
			it, fin, err := s.recording(gctx, c, r, known, ok)
			mu.Lock()
			defer mu.Unlock()
			res.Items = append(res.Items, it)
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
			return err
		})
	}
	fatal := g.Wait()

	// The cursor: the earliest recording of the window still to do, or the
	// window's end. Written even when ctx ended: it is always safe.
	wctx := context.WithoutCancel(ctx)
	cursor := p.To
	for _, r := range p.Listed {
		k, ok := p.known[r.ID]
		done := finished[r.ID] || (ok && (k.Step == state.Done || k.Quarantined != ""))
		if !done && !r.CallAt.IsZero() && r.CallAt.Before(cursor) {
			cursor = r.CallAt
		}
	}
	if err := s.store.SetCursor(wctx, src, cursor); err != nil {
		return res, fmt.Errorf("saving the cursor of %s: %w", src, err)
	}
	if n, err := s.store.Prune(wctx, src, p.From.Add(-s.cfg.Lookback-s.cfg.PruneMargin)); err != nil {
		s.log.Warn("pruning old records failed", "source", src, "err", err)
	} else if n > 0 {
		s.log.Debug("pruned done records", "source", src, "count", n)
	}
	s.gauges(wctx, src)
	if fatal == nil && ctx.Err() == nil {
		if err := s.store.SetLastSuccess(wctx, src, s.now()); err != nil {
			return res, fmt.Errorf("saving the last success of %s: %w", src, err)
		}
		if s.m != nil {
			s.m.lastSuccess.WithLabelValues(src).Set(float64(s.now().Unix()))
		}
	}
	slices.SortFunc(res.Items, func(a, b Item) int { return a.Recording.CallAt.Compare(b.Recording.CallAt) })
	if fatal != nil {
		if errors.Is(fatal, connectors.ErrAuth) || errors.Is(fatal, connectors.ErrForbidden) {
			s.sourceUp(src, false)
		}
		return res, fmt.Errorf("pass of %s stopped: %w", src, fatal)
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("pass of %s stopped: %w", src, err)
	}
	return res, nil
}

func (s *Syncer) sourceUp(src string, up bool) {
	if s.m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	s.m.up.WithLabelValues(src).Set(v)
}

// gauges refreshes the quarantine and pending gauges from the state file.
func (s *Syncer) gauges(ctx context.Context, src string) {
	if s.m == nil {
		return
	}
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
