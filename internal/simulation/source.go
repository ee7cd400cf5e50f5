package simulation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
)

// sourceName is the simulated source's name in the state file.
const sourceName = "sim"

// call is one phone call at the simulated source, with everything the
// world decided about it up front and what it learnt since.
type call struct {
	id, dataID string
	start      time.Time     // when the call began (the source lists by it)
	dur        time.Duration // how long it lasted
	visible    time.Time     // listed from then on: its end plus a late-arrival delay
	vanish     time.Time     // zero: listed for ever; else deleted at the source then
	ready      time.Time     // its audio opens from then on (≥ visible)
	gone       time.Time     // zero: never; else its audio answers ErrGone from then on
	invalid    string        // "" for a usable row, else what the connector finds wrong
	zeroAt     bool          // invalid because its timestamp cannot be read: CallAt zero
	dup        bool          // every listing returns it twice
	direction  string
	phone      string
	agent      int
	audio      fakeaudio.Audio
	sized      bool // the source declares the audio's size

	sum        [32]byte
	summed     bool
	listed     bool   // some List returned it
	listedGood bool   // a pass that was not cut listed it
	excluded   string // why it is not syncd's responsibility; "" when it is
	delivered  bool   // seen at CRK with its audio and a re-extraction (for good)
	quarSeen   bool   // seen quarantined in the state file since the last retry or loss
	seenDone   bool   // seen done in the state file while CRK lacked it
	sabotaged  bool   // paid for a second time by Options.payTwice
}

func (c *call) end() time.Time { return c.start.Add(c.dur) }

func (c *call) visibleAt(t time.Time) bool {
	return !t.Before(c.visible) && (c.vanish.IsZero() || t.Before(c.vanish))
}

// audioSum is the SHA-256 of the call's audio, computed once.
func (c *call) audioSum() [32]byte {
	if !c.summed {
		c.sum, c.summed = c.audio.Sum(), true
	}
	return c.sum
}

// recording is the call as the connector returns it.
func (c *call) recording() connectors.Recording {
	r := connectors.Recording{
		ID: c.id, DataID: c.dataID, CallAt: c.start.In(bangkok), Duration: c.dur, Direction: c.direction,
		CustomerPhone: c.phone, AgentNumber: fmt.Sprintf("+6620000%04d", c.agent),
		AgentName: fmt.Sprintf("Agent %d", c.agent), ContentType: "audio/wav",
	}
	if c.zeroAt {
		r.CallAt = time.Time{}
	}
	if c.invalid != "" {
		r.Invalid = fmt.Errorf("%w: sim recording %s: %s", connectors.ErrInvalid, c.id, c.invalid)
	}
	return r
}

// genCalls draws the calls that begin in [from, to): a busy day in
// Bangkok office hours, quieter evenings, a trickle at night, perDay on
// average. Every draw comes from rng, in order.
func genCalls(rng *rand.Rand, from, to time.Time, perDay float64, maxCall, maxDelay time.Duration) []*call {
	// Weights of each hour of a Bangkok day; they sum to 24 × mean.
	weights := [24]float64{0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 1, 2.2, 2.6, 2.6, 2.4, 1.8, 2.4, 2.6, 2.4, 2.2, 1.6, 1, 0.7, 0.5, 0.3, 0.2, 0.1}
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	var out []*call
	n := 0
	for t := from; ; {
		rate := perDay * weights[t.In(bangkok).Hour()] / sum // calls per hour
		gap := time.Duration(rng.ExpFloat64() / max(rate, 0.01) * float64(time.Hour))
		// Never step over an hour boundary with the rate of the last one.
		next := t.Truncate(time.Hour).Add(time.Hour)
		if t.Add(gap).After(next) {
			t = next
			if !t.Before(to) {
				break
			}
			continue
		}
		t = t.Add(gap).Truncate(time.Second)
		if !t.Before(to) {
			break
		}
		n++
		c := newCall(rng, n, t, maxCall, maxDelay)
		// Every call's audio is ready (or gone) well before the end of
		// the quiet day that follows to, so that syncd can finish it.
		if latest := to.Add(18 * time.Hour); c.ready.After(latest) && latest.After(c.visible) {
			c.ready = latest
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b *call) int { return a.start.Compare(b.start) })
	return out
}

// newCall draws one call starting at start.
func newCall(rng *rand.Rand, n int, start time.Time, maxCall, maxDelay time.Duration) *call {
	c := &call{start: start, direction: []string{"in", "out"}[rng.IntN(2)], agent: 1 + rng.IntN(40),
		phone: fmt.Sprintf("+6681%07d", rng.IntN(10_000_000))}
	switch p := rng.Float64(); {
	case p < 0.004:
		c.id = fmt.Sprintf("โทร-%06d", n) // Thai
	case p < 0.008:
		c.id = fmt.Sprintf("odd id %06d/\"q\"%%", n)
	case p < 0.010:
		c.id = fmt.Sprintf("%06d-", n) + strings.Repeat("long", 45)
	case p < 0.011:
		c.id = fmt.Sprintf("%06d-", n) + strings.Repeat("long", 65) // too long for a dataId
	default:
		c.id = fmt.Sprintf("c%06d", n)
	}
	c.dataID = "sim-" + c.id
	// Durations: mostly 30 s – 10 min, some up to an hour, a few long.
	switch p := rng.Float64(); {
	case p < 0.85:
		c.dur = 30*time.Second + time.Duration(rng.Int64N(int64(9*time.Minute+30*time.Second)))
	case p < 0.97:
		c.dur = 10*time.Minute + time.Duration(rng.Int64N(int64(50*time.Minute)))
	default:
		c.dur = time.Hour + time.Duration(rng.Int64N(int64(4*time.Hour)))
	}
	c.dur = min(c.dur, maxCall).Truncate(time.Second)
	// Late arrivals: mostly within minutes, some up to the bound.
	var delay time.Duration
	switch p := rng.Float64(); {
	case p < 0.80:
		delay = time.Duration(rng.Int64N(int64(2 * time.Minute)))
	case p < 0.95:
		delay = 2*time.Minute + time.Duration(rng.Int64N(int64(18*time.Minute)))
	default:
		delay = time.Duration(rng.Int64N(int64(maxDelay) + 1))
	}
	delay = min(delay, maxDelay)
	c.visible = c.end().Add(delay)
	c.ready = c.visible
	switch p := rng.Float64(); {
	case p < 0.12: // audio still being written
		c.ready = c.visible.Add(time.Minute + time.Duration(rng.Int64N(int64(90*time.Minute))))
	case p < 0.13: // audio not ready for hours: the syncer gives up on it
		c.ready = c.visible.Add(3*time.Hour + time.Duration(rng.Int64N(int64(20*time.Hour))))
	case p < 0.15: // audio gone for good
		c.gone = c.visible
	case p < 0.17: // audio deleted at the source later (retention)
		c.gone = c.visible.Add(10*time.Minute + time.Duration(rng.Int64N(int64(12*time.Hour))))
	}
	switch p := rng.Float64(); {
	case p < 0.005:
		c.invalid, c.direction = `direction "UNKN" is neither IN nor OUT`, ""
	case p < 0.010:
		c.invalid, c.zeroAt = `timestamp "2026-13-45 25:61:00" cannot be read`, true
	case p < 0.012:
		c.invalid = "the listing row is not a JSON object"
	}
	if len(c.dataID) > 255 {
		c.invalid = "the id is longer than CRK's 255-character dataId"
	}
	c.dup = rng.Float64() < 0.03
	if rng.Float64() < 0.005 {
		c.vanish = c.visible.Add(30*time.Minute + time.Duration(rng.Int64N(int64(72*time.Hour))))
	}
	c.audio = fakeaudio.Audio{Seed: rng.Uint64(), Size: 2<<10 + rng.Int64N(14<<10)}
	c.sized = rng.Float64() < 0.9
	return c
}

// source is the simulated phone system: a connectors.Connector over the
// world's calls, on the world's true clock.
type source struct {
	w        *World
	calls    []*call // by start
	byID     map[string]*call
	password string

	mu       sync.Mutex
	failList bool      // the next listings fail
	lastList time.Time // true time of the last listing that answered
	thisPass []*call   // listed since the pass began
}

var errPortal = errors.New("sim portal answered 502 Bad Gateway")

func (s *source) Name() string { return sourceName }

func (s *source) Check(ctx context.Context) error { return ctx.Err() }

// List returns the visible calls that began in [from, to), by start, a
// duplicate row after the row it repeats, and invalid rows as connectors
// return them.
func (s *source) List(ctx context.Context, from, to time.Time) ([]connectors.Recording, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := s.w.trueNow()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failList {
		s.w.event("source listing from %s to %s fails", ts(from), ts(to))
		return nil, fmt.Errorf("sim: list recordings: %w", errPortal)
	}
	i, _ := slices.BinarySearchFunc(s.calls, from, func(c *call, t time.Time) int { return c.start.Compare(t) })
	var out []connectors.Recording
	for ; i < len(s.calls) && s.calls[i].start.Before(to); i++ {
		c := s.calls[i]
		if !c.visibleAt(now) || (s.w.opts.hide != nil && s.w.opts.hide(c.id)) {
			continue
		}
		out = append(out, c.recording())
		if c.dup {
			out = append(out, c.recording())
		}
		if !c.listed {
			c.listed = true
			s.w.trace(c.dataID, "first listed (window %s – %s)", ts(from), ts(to))
		}
		s.thisPass = append(s.thisPass, c)
	}
	s.lastList = now
	return out, nil
}

// Open streams the call's audio, or says it is not ready or gone.
func (s *source) Open(ctx context.Context, r connectors.Recording) (*connectors.Audio, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := s.w.trueNow()
	c, ok := s.byID[r.ID]
	switch {
	case !ok || !c.visibleAt(now):
		s.w.trace(r.DataID, "open: not at the source: gone")
		return nil, fmt.Errorf("sim: recording %s: 404: %w", r.ID, connectors.ErrGone)
	case !c.gone.IsZero() && !now.Before(c.gone):
		s.w.trace(c.dataID, "open: gone")
		return nil, fmt.Errorf("sim: recording %s: 404: %w", r.ID, connectors.ErrGone)
	case now.Before(c.ready):
		s.w.trace(c.dataID, "open: not ready")
		return nil, fmt.Errorf("sim: recording %s: empty body: %w", r.ID, connectors.ErrNotReady)
	}
	size := c.audio.Size
	if !c.sized {
		size = -1
	}
	s.w.trace(c.dataID, "open: %d bytes", c.audio.Size)
	return &connectors.Audio{Body: io.NopCloser(c.audio.Reader()), Size: size, ContentType: "audio/wav"}, nil
}

// beginPass forgets what the last pass listed.
func (s *source) beginPass(failList bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failList = failList
	s.thisPass = s.thisPass[:0]
}

// endPass marks what a pass that ran to its end listed.
func (s *source) endPass() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.thisPass {
		c.listedGood = true
	}
}

func (s *source) lastListed() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastList
}

// startedSince is how many calls began at or after t.
func (s *source) startedSince(t time.Time) int {
	i, _ := slices.BinarySearchFunc(s.calls, t, func(c *call, t time.Time) int { return c.start.Compare(t) })
	return len(s.calls) - i
}

// sortByEnd returns the calls ordered by their end, then id.
func sortByEnd(calls []*call) []*call {
	out := slices.Clone(calls)
	slices.SortFunc(out, func(a, b *call) int { return cmp.Or(a.end().Compare(b.end()), cmp.Compare(a.id, b.id)) })
	return out
}
