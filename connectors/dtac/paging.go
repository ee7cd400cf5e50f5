package dtac

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/deps"
)

// lister is the paging state of one List: the window asked for, the
// bounds of the listing under way (moved past the recordings seen after a
// cap or a failed page), what the pages brought, and what they showed of
// the portal's order. Its steps are fetch, then afterPage or afterFailure,
// which say whether another page is to be fetched; they are documented on
// List.
type lister struct {
	c        *Connector
	from, to time.Time // the window asked for
	// start, end are the bounds asked of the portal; pending are windows
	// still to list once this one ends (the other side of an end
	// confirmed while nothing told the order).
	start, end time.Time
	pending    [][2]time.Time
	u          *url.URL // the page to fetch
	page       int      // pages fetched, this one included

	out        []connectors.Recording
	seen       map[string]bool // every id listed, in the window or not
	phones     phoneMemo
	firstIDs   map[string]int  // the page each first id started, in this listing
	fetched    map[string]bool // the URLs fetched, in this listing
	noID       int
	assumed    []string // ids whose direction says nothing usable
	warnedHost bool

	order          portalOrder
	pageFirst      time.Time // the first start on this page
	lastFirst      time.Time // and on the page before it
	prev           time.Time // the start of the row before, on this page
	latest, oldest time.Time // the newest and oldest start seen
	fresh          int       // ids first listed on this page
	served         int       // the most rows a page with a next page held
	segPage        int       // pages fetched since the listing last started from page 1
	segFresh       int       // ids first listed since then
	confirming     bool      // it started again to confirm an end after a 5xx
}

// portalOrder is the portal's order of start as the rows show it.
type portalOrder struct {
	// ascending, descending: a row started after (before) the one before
	// it on the same page. (Across pages a shift moves rows back.)
	ascending, descending bool
	// laterPages, earlierPages: the first row of a page started after
	// (before) the first row of the page before it in the same listing
	// (a shift moves rows back by less than a page); for when no page
	// shows an order.
	laterPages, earlierPages bool
}

// known reports whether any row or page told an order.
func (o portalOrder) known() bool {
	return o.ascending || o.descending || o.laterPages || o.earlierPages
}

// of is the order as the rows seen show it: 1 oldest first, -1 newest
// first, 0 none (rows out of order within a page, or pages that
// disagree). Within a page is what counts; across pages only when no
// page tells. Nothing seen either way reads as oldest first, the order
// every known client sees (the confirmation of an end after a 5xx asks
// both ways then).
func (o portalOrder) of() int {
	switch {
	case o.ascending && o.descending:
		return 0
	case o.ascending:
		return 1
	case o.descending:
		return -1
	case o.laterPages && o.earlierPages:
		return 0
	case o.earlierPages:
		return -1
	}
	return 1
}

// newLister starts a listing of [from, to): the portal's bounds are whole
// UTC seconds, so it asks for one second more on each side.
func (c *Connector) newLister(from, to time.Time) *lister {
	l := &lister{
		c: c, from: from, to: to,
		start:    from.UTC().Truncate(time.Second).Add(-time.Second),
		end:      to.UTC().Truncate(time.Second).Add(time.Second),
		seen:     map[string]bool{},
		phones:   phoneMemo{},
		firstIDs: map[string]int{},
		fetched:  map[string]bool{},
	}
	l.u = c.pageURL(l.start, l.end, 1)
	return l
}

// fetch fetches the current page, once more after pageRetryWait when a
// page after the first answers 5xx (a portal under load does now and then).
func (l *lister) fetch(ctx context.Context) (pageInfo, error) {
	l.fetched[l.u.String()] = true
	l.segPage++
	l.fresh, l.prev, l.pageFirst = 0, time.Time{}, time.Time{}
	info, err := l.c.fetchPage(ctx, l.u, l.page, l.keep)
	if err == nil || l.page == 1 || !serverError(err) {
		return info, err
	}
	l.c.log.DebugContext(ctx, "a listing page failed; asking for it again", "page", l.page, "err", err)
	if err := deps.Sleep(ctx, l.c.pageRetryWait); err != nil {
		return pageInfo{}, fmt.Errorf("dtac: list recordings at %s, page %d: waiting to ask again: %w", l.c.host, l.page, err)
	}
	l.fresh, l.prev, l.pageFirst = 0, time.Time{}, time.Time{}
	return l.c.fetchPage(ctx, l.u, l.page, l.keep)
}

// keep takes one row of a page: it notes its start for the order and the
// bounds seen, and keeps it once, if it started within [from, to).
func (l *lister) keep(d *recordingDTO) {
	r, ok := l.c.recording(d, l.phones)
	if !ok {
		l.noID++
		return
	}
	if at := r.CallAt; !at.IsZero() {
		l.noteStart(at)
	}
	if l.seen[r.ID] {
		return // listed again: the portal's pages shifted under a late arrival
	}
	l.seen[r.ID] = true
	l.fresh++
	l.segFresh++
	if !r.CallAt.IsZero() && (r.CallAt.Before(l.from) || !r.CallAt.Before(l.to)) {
		return
	}
	if _, known := direction(string(d.Direction)); !known {
		l.assumed = append(l.assumed, r.ID)
	}
	l.out = append(l.out, r)
}

// noteStart notes a row's start: the order within the page, the newest
// and oldest seen.
func (l *lister) noteStart(at time.Time) {
	if l.pageFirst.IsZero() {
		l.pageFirst = at
	}
	switch {
	case l.prev.IsZero():
	case at.Before(l.prev):
		l.order.descending = true
	case at.After(l.prev):
		l.order.ascending = true
	}
	l.prev = at
	if l.latest.IsZero() || at.After(l.latest) {
		l.latest = at
	}
	if l.oldest.IsZero() || at.Before(l.oldest) {
		l.oldest = at
	}
}

// relist starts the listing again from page 1 of [start, end].
func (l *lister) relist(confirm bool) {
	l.u = l.c.pageURL(l.start, l.end, 1)
	l.segPage, l.segFresh, l.confirming, l.lastFirst = 0, 0, confirm, time.Time{}
	clear(l.firstIDs)
	clear(l.fetched)
}

// ended is the end of the listing under way: it reports whether a pending
// window is to be listed next.
func (l *lister) ended(ctx context.Context) bool {
	if len(l.pending) == 0 {
		return false
	}
	l.start, l.end, l.pending = l.pending[0][0], l.pending[0][1], l.pending[1:]
	l.c.log.DebugContext(ctx, "listing the other side of the recordings seen", "from", l.start, "to", l.end)
	l.relist(true)
	return true
}

// pastSeen moves the listing's bounds past the recordings seen, in order o
// (List's pastSeen).
func (l *lister) pastSeen(o int) bool {
	return pastSeen(o, l.latest, l.oldest, &l.start, &l.end)
}

// afterFailure handles a page that failed even when asked again. A 5xx
// after the listing's first page is most likely a page past the data,
// which OrkTrack answers with 500: the end is confirmed by listing again
// past the recordings seen, so that nothing the failed page held is
// skipped, whatever the 5xx meant.
func (l *lister) afterFailure(ctx context.Context, err error) (bool, error) {
	if l.segPage == 1 || !serverError(err) {
		return false, err
	}
	if l.confirming && l.segFresh == 0 {
		// Listed again past the recordings seen, and nothing new before
		// the page past them: the end.
		l.c.log.DebugContext(ctx, "listing past the recordings seen brought nothing new; the listing is complete", "page", l.page, "err", err)
		return l.ended(ctx), nil
	}
	noProgress := fmt.Errorf("%w; asking again past the recordings seen makes no progress (%s to %s): cannot confirm the end of the listing",
		err, l.start.Format(time.RFC3339), l.end.Format(time.RFC3339))
	switch order := l.order.of(); {
	case order == 0:
		return false, fmt.Errorf("%w; the portal does not list recordings in order of start, so the end of the listing cannot be confirmed", err)
	case !l.order.known():
		// Nothing tells the order (everything seen started within one
		// second): confirm past the newest and, after, before the oldest,
		// so that neither order skips a recording.
		s1, e1, s2, e2 := l.start, l.end, l.start, l.end
		up, down := pastSeen(1, l.latest, l.oldest, &s1, &e1), pastSeen(-1, l.latest, l.oldest, &s2, &e2)
		switch {
		case up && down:
			l.start, l.end = s1, e1
			l.pending = append(l.pending, [2]time.Time{s2, e2})
		case up:
			l.start, l.end = s1, e1
		case down:
			l.start, l.end = s2, e2
		default:
			return false, noProgress
		}
	case !l.pastSeen(order):
		return false, noProgress
	}
	l.c.log.InfoContext(ctx, "a listing page failed twice (OrkTrack answers 500 past its data); listing again past the recordings seen to confirm the end",
		"from", l.start, "to", l.end, "page", l.page, "err", err)
	l.relist(true)
	return true, nil
}

// afterPage decides what follows a page: the end, the listing again past
// a cap, or the next page.
func (l *lister) afterPage(ctx context.Context, info pageInfo) (bool, error) {
	l.notePageOrder()
	if info.objects == 0 {
		return l.ended(ctx), nil
	}
	if info.firstID != "" {
		if earlier, dup := l.firstIDs[info.firstID]; dup && l.fresh == 0 {
			return false, fmt.Errorf("dtac: list recordings at %s: page %d starts with recording %s like page %d: the portal repeats pages; stopped",
				l.c.host, l.page, showValue(info.firstID), earlier)
		}
		l.firstIDs[info.firstID] = l.page
	}
	full := info.objects >= l.pageSize(info)
	if info.next != "" {
		l.served = max(l.served, info.objects)
	}
	if info.limitReached {
		return l.afterLimit(ctx, info, full)
	}
	if info.next == "" || (info.pageSize > 0 && info.objects < info.pageSize) {
		return l.ended(ctx), nil
	}
	return true, l.follow(ctx, info.next)
}

// notePageOrder compares the page's first start with the page before.
func (l *lister) notePageOrder() {
	if l.pageFirst.IsZero() {
		return
	}
	switch {
	case l.lastFirst.IsZero():
	case l.pageFirst.After(l.lastFirst):
		l.order.laterPages = true
	case l.pageFirst.Before(l.lastFirst):
		l.order.earlierPages = true
	}
	l.lastFirst = l.pageFirst
}

// pageSize is the size of a full page: what the portal reports, else the
// one asked for, capped by the most rows a page with a next page held
// (the portal may cap the page size silently).
func (l *lister) pageSize(info pageInfo) int {
	switch {
	case info.pageSize > 0:
		return info.pageSize
	case l.served > 0:
		return min(l.c.pageSize, l.served)
	}
	return l.c.pageSize
}

// afterLimit handles a page marked limitReached: a short page without a
// next page is the portal's last page (one reading) or a cap that fell on
// a short page (the other); anything else is a cap. Either way the
// listing is asked again past the recordings seen, and ends when that
// brings nothing new.
func (l *lister) afterLimit(ctx context.Context, info pageInfo, full bool) (bool, error) {
	last := info.next == "" && !full
	if !full && l.fresh == 0 {
		// Asked past the newest seen: nothing new on a short page, the end
		// (whether or not it carries a nextPageUri: "follow nextPageUri
		// until limitReached" reads the flag as the end of a page that
		// may still have one).
		return l.ended(ctx), nil
	}
	var progress bool
	switch order := l.order.of(); {
	case order == 0 && l.order.ascending && l.order.descending:
		// No order to ask past: a last page is taken at its word.
		if !last {
			return false, fmt.Errorf("dtac: list recordings at %s: the portal's result limit was reached and it does not list recordings in order of start: cannot list the window completely",
				l.c.host)
		}
	default:
		progress = l.pastSeen(order)
	}
	if !progress {
		if last {
			return l.ended(ctx), nil
		}
		// Without progress the listing would be incomplete: fail rather
		// than let the cursor pass recordings never seen.
		return false, fmt.Errorf("dtac: list recordings at %s: the portal's result limit was reached within one second (%s to %s): cannot list the window completely",
			l.c.host, l.start.Format(time.RFC3339), l.end.Format(time.RFC3339))
	}
	if last {
		l.c.log.DebugContext(ctx, "the portal marked its last page limitReached; asking once more past the recordings seen", "from", l.start, "to", l.end, "page", l.page)
	} else {
		l.c.log.InfoContext(ctx, "the portal's result limit was reached; listing again past the recordings seen", "from", l.start, "to", l.end, "page", l.page)
	}
	l.relist(false)
	return true, nil
}

// follow makes nextPageUri the page to fetch when it is on the portal's
// own host (the token is never sent elsewhere), else the next page's URL
// built here. A page already fetched fails the listing rather than loop.
func (l *lister) follow(ctx context.Context, nextURI string) error {
	next, err := l.u.Parse(nextURI)
	if err != nil || !l.c.sameOrigin(next) {
		if !l.warnedHost {
			host := "(unreadable)"
			if err == nil {
				host = next.Host
			}
			l.c.log.WarnContext(ctx, "nextPageUri is not on the portal's host; building the next page's URL instead",
				"host", l.c.host, "next_host", host)
			l.warnedHost = true
		}
		next = l.c.pageURL(l.start, l.end, l.page+1)
	}
	if l.fetched[next.String()] {
		return fmt.Errorf("dtac: list recordings at %s: the nextPageUri of page %d leads to a page already fetched: the portal repeats pages; stopped",
			l.c.host, l.page)
	}
	l.u = next
	return nil
}

// report logs what the listing skipped or could not read.
func (l *lister) report(ctx context.Context) {
	if l.noID > 0 {
		l.c.log.WarnContext(ctx, "the portal listed recordings without an id; they are skipped", "count", l.noID, "from", l.from, "to", l.to)
	}
	if len(l.assumed) > 0 {
		l.c.log.WarnContext(ctx, "recordings whose direction says nothing usable (UNKN, empty or missing): SYNCD_UNKNOWN_DIRECTION decides",
			"count", len(l.assumed), "ids", strings.Join(l.assumed[:min(len(l.assumed), 10)], ","))
	}
}

// pastSeen moves the listing's bounds past the recordings seen, in the
// portal's order: oldest first, from the newest start seen (rows listed
// twice are dropped by id); newest first, up to the oldest start seen (one
// second more, for an exclusive end bound). It reports whether that
// narrows the listing at all.
func pastSeen(order int, latest, oldest time.Time, start, end *time.Time) bool {
	if order < 0 {
		if e := oldest.UTC().Truncate(time.Second).Add(time.Second); !oldest.IsZero() && e.Before(*end) {
			*end = e
			return true
		}
		return false
	}
	if s := latest.UTC().Truncate(time.Second); !latest.IsZero() && s.After(*start) {
		*start = s
		return true
	}
	return false
}
