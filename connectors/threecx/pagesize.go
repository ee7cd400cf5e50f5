package threecx

import (
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Page-size probing: a $top the PBX (or a proxy before it) refused is
// remembered for refusalMemory; after growAfter pages in a row at the
// current size, a larger one is tried: double, up to the configured size,
// and below a remembered refusal (half-way to it).
const (
	growAfter     = 2
	refusalMemory = 10 * time.Minute
)

// pageSize is the $top a PBX is listed with, shared by every List of one
// connector (one PBX): the cap it learned is kept in memory.
type pageSize struct {
	mu        sync.Mutex
	max       int       // the configured page size
	cur       int       // the size in use: the largest known to work
	ok        int       // pages in a row that worked at cur
	refused   int       // the smallest $top refused recently (0: none)
	refusedAt time.Time // when
}

func newPageSize(max int) *pageSize { return &pageSize{max: max, cur: max} }

// next is the $top to ask for now: cur, or a larger probe when enough
// pages have worked at cur.
func (p *pageSize) next(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refused > 0 && now.Sub(p.refusedAt) >= refusalMemory {
		p.refused = 0
	}
	if p.ok < growAfter || p.cur >= p.max {
		return p.cur
	}
	probe := min(2*p.cur, p.max)
	if p.refused > 0 && probe >= p.refused {
		probe = (p.cur + p.refused) / 2
	}
	return max(probe, p.cur)
}

// worked records a page served at top.
func (p *pageSize) worked(top int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case top > p.cur:
		p.cur, p.ok = top, 0
	case top == p.cur:
		p.ok++
	}
}

// refusedTop records a 400 about top whose message is msg, and returns
// the $top to try instead, or 0 when even 1 was refused. A number in the
// message below top (ASP.NET OData: "The limit of '100' for Top query has
// been exceeded") is taken as the limit; otherwise a refused cur is
// halved, and a refused probe falls back to cur.
func (p *pageSize) refusedTop(top int, msg string, now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if top <= 1 {
		return 0
	}
	p.ok = 0
	if p.refused == 0 || top < p.refused || now.Sub(p.refusedAt) >= refusalMemory {
		p.refused = top
	}
	p.refusedAt = now
	if limit := limitIn(msg, top); limit > 0 {
		p.cur = limit
		p.refused = limit + 1 // the PBX said so: no probing above it
		return p.cur
	}
	if top <= p.cur {
		p.cur = max(top/2, 1)
	}
	return p.cur
}

var number = regexp.MustCompile(`\d+`)

// limitIn is the first number in msg that is below top and at least 1, or
// 0.
func limitIn(msg string, top int) int {
	for _, s := range number.FindAllString(msg, -1) {
		if n, err := strconv.Atoi(s); err == nil && n >= 1 && n < top {
			return n
		}
	}
	return 0
}

// size is the size in use, for tests and logs.
func (p *pageSize) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}
