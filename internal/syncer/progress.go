package syncer

import (
	"sync"
	"sync/atomic"
)

// Progress is how far the pass of one source has come, as Config.Progress
// receives it whenever the pass moves.
type Progress struct {
	Source string
	// Planned is true once the listing is compared with the state file:
	// from then on Total is known.
	Planned bool
	// Total is how many recordings the pass means to send.
	Total int
	// Done (sent), Quarantined and Failed count the recordings of Total
	// handled so far.
	Done, Quarantined, Failed int
	// Bytes is the audio of the recordings handled so far.
	Bytes int64
	// Ended is true on the pass's last report.
	Ended bool
}

// Handled is how many of Total the pass has finished with, either way.
func (p Progress) Handled() int { return p.Done + p.Quarantined + p.Failed }

// passCounter is the live counts of one source's pass in flight. Its
// fields are atomics: the hook is called on every read of audio.
type passCounter struct {
	planned                   atomic.Bool
	total, done, quar, failed atomic.Int64
	bytes                     atomic.Int64
}

func (c *passCounter) snapshot(src string) Progress {
	return Progress{Source: src, Planned: c.planned.Load(), Total: int(c.total.Load()),
		Done: int(c.done.Load()), Quarantined: int(c.quar.Load()), Failed: int(c.failed.Load()), Bytes: c.bytes.Load()}
}

// passes holds the counter of each source whose pass is in flight; the
// zero value is ready.
type passes struct{ m sync.Map } // source → *passCounter

// beginPass starts counting src's pass.
func (s *Syncer) beginPass(src string) {
	s.passes.m.Store(src, &passCounter{})
	s.moved(src)
}

// endPass reports src's pass ended, with its final counts.
func (s *Syncer) endPass(src string) {
	v, ok := s.passes.m.LoadAndDelete(src)
	if !ok {
		return
	}
	p := v.(*passCounter).snapshot(src)
	p.Ended = true
	s.cfg.Progress(p)
}

// moved reports that src's pass moved (a listing returned, a step
// recorded, audio bytes read). Outside a pass (Plan alone, for -dry-run)
// it reports the source with no counts.
func (s *Syncer) moved(src string) {
	if v, ok := s.passes.m.Load(src); ok {
		s.cfg.Progress(v.(*passCounter).snapshot(src))
		return
	}
	s.cfg.Progress(Progress{Source: src})
}

// planned records the total of src's pass once its plan is final.
func (s *Syncer) planned(src string, total int) {
	if v, ok := s.passes.m.Load(src); ok {
		c := v.(*passCounter)
		c.total.Store(int64(total))
		c.planned.Store(true)
	}
	s.moved(src)
}

// handled counts one recording of src's plan finished with.
func (s *Syncer) handled(src string, it Item) {
	if v, ok := s.passes.m.Load(src); ok {
		v.(*passCounter).add(it)
	}
	s.moved(src)
}

func (c *passCounter) add(it Item) {
	switch {
	case it.Quarantined != "":
		c.quar.Add(1)
	case it.Err != nil:
		c.failed.Add(1)
	default:
		c.done.Add(1)
	}
	c.bytes.Add(it.Bytes)
}
