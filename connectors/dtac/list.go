package dtac

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/internal/remote"
	"github.com/crkai/syncd/internal/httpsafe"
)

// dateLayout is the listing's startdate/enddate format, in UTC.
const dateLayout = "20060102_150405"

// maxPages stops a listing that never ends (500 pages of 10,000 rows is
// five million recordings: far beyond any window syncd asks for).
const maxPages = 10_000

// List returns the recordings that started in [from, to), in the portal's
// order (by start), each once.
//
// The portal's bounds are whole UTC seconds and whether its end bound is
// inclusive is unknown, so List asks for one second more on each side and
// cuts [from, to) itself. A recording whose timestamp cannot be read cannot
// be cut: it is returned (CallAt zero, Invalid set) whenever the portal
// lists it, so that the syncer quarantines it once, by its id.
//
// Paging follows nextPageUri when it is on the portal's own host (the
// token is never sent elsewhere; for another host List builds the next
// page's URL itself), and stops on an empty page, a page shorter than the
// pageSize the portal reports, or no nextPageUri. A short page does not end
// the listing when the portal does not report pageSize, since it may cap
// the page size silently. An id listed twice (the offsets shift when a call
// lands while List pages) is returned once.
//
// limitReached has two readings in public clients: "this is the last page"
// and "a server-side cap cut the result short". List honours both. On a
// page that is full, or that has a next page, it is a cap: List asks again
// from the newest start it has seen (the oldest, when the portal lists
// newest first), and fails when that brings no progress rather than return
// a listing it knows is incomplete. On a short page without a next page it
// is most likely the end; List still asks once more past the newest start
// seen, so that a cap that fell on a short page is not taken for the end,
// and stops when that brings nothing new. A short page that brings nothing
// new ends the listing even when it carries a nextPageUri ("follow
// nextPageUri until limitReached", one client's reading, implies the
// flagged page may still have one).
//
// A page after the first that answers 5xx is asked again once, after
// pageRetryWait. A public client reports that OrkTrack answers 500 for a
// page number past the available data, and a portal that does not count
// what is left puts a nextPageUri on a full last page: so when the page
// fails again List does not fail, but confirms the end the way it lists
// past a cap, asking again from the newest start seen (up to the oldest,
// newest first; both ways when the rows seen tell no order, all having
// started within one second). What that brings is listed like any page,
// so nothing the failed page held is skipped; when it brings nothing new
// before a page fails again, the listing is complete. List fails when it
// cannot ask past what it has seen (no readable start, or rows in no order
// of start). A 5xx on the listing's first page, or on the first page of a
// listing asked again, is an error.
//
// A portal that serves a page again (a page starting with the same
// recording as an earlier one and bringing nothing new, or a nextPageUri
// already fetched) makes List fail rather than loop.
func (c *Connector) List(ctx context.Context, from, to time.Time) ([]connectors.Recording, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dtac: list recordings at %s: %w", c.host, err)
	}
	if !from.Before(to) {
		return nil, nil
	}
	start := from.UTC().Truncate(time.Second).Add(-time.Second)
	end := to.UTC().Truncate(time.Second).Add(time.Second)

	var (
		out        []connectors.Recording
		seen       = map[string]bool{} // every id listed, in the window or not
		phones     = phoneMemo{}
		firstIDs   = map[string]int{}
		fetched    = map[string]bool{}
		noID       int
		assumed    []string // ids whose direction says nothing usable
		warnedHost bool
		// The portal's order, as the rows show it: a row that started
		// after (ascending) or before (descending) the one before it on
		// the same page. (Across pages a shift moves rows back.)
		ascending, descending bool
		// The order across pages, for when no page shows one: the first
		// row of a page against the first row of the page before it in the
		// same listing (a shift moves rows back by less than a page).
		laterPages, earlierPages bool
		pageFirst, lastFirst     time.Time // first start on this page and on the one before
		prev                     time.Time
		latest, oldest           time.Time // the newest and oldest start seen
		fresh                    int       // ids first listed on the current page
		served                   int       // the most rows a page with a next page held
		segPage                  int       // pages fetched since the listing last started from page 1
		segFresh                 int       // ids first listed since then
		confirming               bool      // it started again to confirm an end after a 5xx
	)
	keep := func(d *recordingDTO) {
		r, ok := c.recording(d, phones)
		if !ok {
			noID++
			return
		}
		if at := r.CallAt; !at.IsZero() {
			if pageFirst.IsZero() {
				pageFirst = at
			}
			switch {
			case prev.IsZero():
			case at.Before(prev):
				descending = true
			case at.After(prev):
				ascending = true
			}
			prev = at
			if latest.IsZero() || at.After(latest) {
				latest = at
			}
			if oldest.IsZero() || at.Before(oldest) {
				oldest = at
			}
		}
		if seen[r.ID] {
			return // listed again: the portal's pages shifted under a late arrival
		}
		seen[r.ID] = true
		fresh++
		segFresh++
		if !r.CallAt.IsZero() && (r.CallAt.Before(from) || !r.CallAt.Before(to)) {
			return
		}
		if _, known := direction(string(d.Direction)); !known {
			assumed = append(assumed, r.ID)
		}
		out = append(out, r)
	}

	u := c.pageURL(start, end, 1)
	// relist starts the listing again from page 1 of [start, end].
	relist := func(confirm bool) {
		u = c.pageURL(start, end, 1)
		segPage, segFresh, confirming, lastFirst = 0, 0, confirm, time.Time{}
		clear(firstIDs)
		clear(fetched)
	}
	// pending are windows still to list once this one ends: the other side
	// of an end confirmed while nothing told the order.
	var pending [][2]time.Time
	nextWindow := func() bool {
		if len(pending) == 0 {
			return false
		}
		start, end, pending = pending[0][0], pending[0][1], pending[1:]
		c.log.DebugContext(ctx, "listing the other side of the recordings seen", "from", start, "to", end)
		relist(true)
		return true
	}
	for page := 1; ; page++ {
		if page > maxPages {
			return nil, fmt.Errorf("dtac: list recordings at %s: more than %d pages; stopped", c.host, maxPages)
		}
		fetched[u.String()] = true
		segPage++
		fresh, prev, pageFirst = 0, time.Time{}, time.Time{}
		info, err := c.fetchPage(ctx, u, page, keep)
		if err != nil && page > 1 && serverError(err) {
			// A portal under load answers 5xx now and then: ask once more.
			c.log.DebugContext(ctx, "a listing page failed; asking for it again", "page", page, "err", err)
			if err := remote.Sleep(ctx, c.pageRetryWait); err != nil {
				return nil, fmt.Errorf("dtac: list recordings at %s, page %d: waiting to ask again: %w", c.host, page, err)
			}
			fresh, prev, pageFirst = 0, time.Time{}, time.Time{}
			info, err = c.fetchPage(ctx, u, page, keep)
		}
		if err != nil {
			if segPage == 1 || !serverError(err) {
				return nil, err
			}
			if confirming && segFresh == 0 {
				// Listed again past the recordings seen, and nothing new
				// before the page past them: the end.
				c.log.DebugContext(ctx, "listing past the recordings seen brought nothing new; the listing is complete", "page", page, "err", err)
				if nextWindow() {
					continue
				}
				break
			}
			// Most likely a page past the data, which OrkTrack answers
			// with 500: confirm the end by listing again past the
			// recordings seen. Anything the failed page held is listed
			// then, so nothing is skipped whatever the 5xx meant.
			noProgress := fmt.Errorf("%w; asking again past the recordings seen makes no progress (%s to %s): cannot confirm the end of the listing",
				err, start.Format(time.RFC3339), end.Format(time.RFC3339))
			switch order := c.order(ascending, descending, laterPages, earlierPages); {
			case order == 0:
				return nil, fmt.Errorf("%w; the portal does not list recordings in order of start, so the end of the listing cannot be confirmed", err)
			case !(ascending || descending || laterPages || earlierPages):
				// Nothing tells the order (everything seen started within
				// one second): confirm past the newest and, after, before
				// the oldest, so that neither order skips a recording.
				s1, e1, s2, e2 := start, end, start, end
				up, down := c.pastSeen(1, latest, oldest, &s1, &e1), c.pastSeen(-1, latest, oldest, &s2, &e2)
				switch {
				case up && down:
					start, end = s1, e1
					pending = append(pending, [2]time.Time{s2, e2})
				case up:
					start, end = s1, e1
				case down:
					start, end = s2, e2
				default:
					return nil, noProgress
				}
			case !c.pastSeen(order, latest, oldest, &start, &end):
				return nil, noProgress
			}
			c.log.InfoContext(ctx, "a listing page failed twice (OrkTrack answers 500 past its data); listing again past the recordings seen to confirm the end",
				"from", start, "to", end, "page", page, "err", err)
			relist(true)
			continue
		}
		if !pageFirst.IsZero() {
			switch {
			case lastFirst.IsZero():
			case pageFirst.After(lastFirst):
				laterPages = true
			case pageFirst.Before(lastFirst):
				earlierPages = true
			}
			lastFirst = pageFirst
		}
		if info.objects == 0 {
			if nextWindow() {
				continue
			}
			break
		}
		if info.firstID != "" {
			if earlier, dup := firstIDs[info.firstID]; dup && fresh == 0 {
				return nil, fmt.Errorf("dtac: list recordings at %s: page %d starts with recording %s like page %d: the portal repeats pages; stopped",
					c.host, page, showValue(info.firstID), earlier)
			}
			firstIDs[info.firstID] = page
		}
		size := c.pageSize
		switch {
		case info.pageSize > 0:
			size = info.pageSize
		case served > 0:
			size = min(size, served)
		}
		full := info.objects >= size
		if info.next != "" {
			served = max(served, info.objects)
		}
		if info.limitReached {
			// A short page without a next page: the portal's last page (one
			// reading), or a cap that fell on a short page (the other).
			// Anything else is a cap.
			last := info.next == "" && !full
			if !full && fresh == 0 {
				// Asked past the newest seen: nothing new on a short page,
				// the end (whether or not it carries a nextPageUri: "follow
				// nextPageUri until limitReached" reads the flag as the end
				// of a page that may still have one).
				if nextWindow() {
					continue
				}
				break
			}
			var progress bool
			switch order := c.order(ascending, descending, laterPages, earlierPages); {
			case order == 0 && ascending && descending:
				// No order to ask past: a last page is taken at its word.
				if last {
					break
				}
				return nil, fmt.Errorf("dtac: list recordings at %s: the portal's result limit was reached and it does not list recordings in order of start: cannot list the window completely",
					c.host)
			default:
				progress = c.pastSeen(order, latest, oldest, &start, &end)
			}
			if !progress {
				if last {
					if nextWindow() {
						continue
					}
					break
				}
				// Without progress the listing would be incomplete: fail
				// rather than let the cursor pass recordings never seen.
				return nil, fmt.Errorf("dtac: list recordings at %s: the portal's result limit was reached within one second (%s to %s): cannot list the window completely",
					c.host, start.Format(time.RFC3339), end.Format(time.RFC3339))
			}
			if last {
				c.log.DebugContext(ctx, "the portal marked its last page limitReached; asking once more past the recordings seen", "from", start, "to", end, "page", page)
			} else {
				c.log.InfoContext(ctx, "the portal's result limit was reached; listing again past the recordings seen", "from", start, "to", end, "page", page)
			}
			relist(false)
			continue
		}
		if info.next == "" || (info.pageSize > 0 && info.objects < info.pageSize) {
			if nextWindow() {
				continue
			}
			break
		}
		next, err := u.Parse(info.next)
		if err != nil || !c.sameOrigin(next) {
			if !warnedHost {
				host := "(unreadable)"
				if err == nil {
					host = next.Host
				}
				c.log.WarnContext(ctx, "nextPageUri is not on the portal's host; building the next page's URL instead",
					"host", c.host, "next_host", host)
				warnedHost = true
			}
			next = c.pageURL(start, end, page+1)
		}
		if fetched[next.String()] {
			return nil, fmt.Errorf("dtac: list recordings at %s: the nextPageUri of page %d leads to a page already fetched: the portal repeats pages; stopped",
				c.host, page)
		}
		u = next
	}
	if noID > 0 {
		c.log.WarnContext(ctx, "the portal listed recordings without an id; they are skipped", "count", noID, "from", from, "to", to)
	}
	if len(assumed) > 0 {
		c.log.WarnContext(ctx, "recordings whose direction says nothing usable (UNKN, empty or missing): SYNCD_UNKNOWN_DIRECTION decides",
			"count", len(assumed), "ids", strings.Join(assumed[:min(len(assumed), 10)], ","))
	}
	return out, nil
}

// order is the portal's order of start as the rows seen show it: 1 oldest
// first, -1 newest first, 0 none (rows out of order within a page, or
// pages that disagree). Within a page is what counts; across pages only
// when no page tells. Nothing seen either way reads as oldest first, the
// order every known client sees (List's confirmation of an end after a
// 5xx asks both ways then).
func (c *Connector) order(ascending, descending, laterPages, earlierPages bool) int {
	switch {
	case ascending && descending:
		return 0
	case ascending:
		return 1
	case descending:
		return -1
	case laterPages && earlierPages:
		return 0
	case earlierPages:
		return -1
	}
	return 1
}

// pastSeen moves the listing's bounds past the recordings seen, in the
// portal's order: oldest first, from the newest start seen (rows listed
// twice are dropped by id); newest first, up to the oldest start seen (one
// second more, for an exclusive end bound). It reports whether that
// narrows the listing at all.
func (c *Connector) pastSeen(order int, latest, oldest time.Time, start, end *time.Time) bool {
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

// serverError reports whether err is the portal answering 5xx.
func serverError(err error) bool {
	var se *statusError
	return errors.As(err, &se) && se.status >= 500 && se.status <= 599
}

// statusError is an answer with an unexpected HTTP status.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// pageURL is the URL of a page of the listing of [start, end].
func (c *Connector) pageURL(start, end time.Time, page int) *url.URL {
	u := c.endpoint("recordings", "")
	u.RawQuery = url.Values{
		"range":           {"custom"},
		"startdate":       {start.UTC().Format(dateLayout)},
		"enddate":         {end.UTC().Format(dateLayout)},
		"page":            {strconv.Itoa(page)},
		"pagesize":        {strconv.Itoa(c.pageSize)},
		"sort":            {""},
		"maxresults":      {"0"},
		"includetags":     {"false"},
		"includemetadata": {"false"},
		"includeprograms": {"false"},
	}.Encode()
	return u
}

// fetchPage gets one page and streams its recordings to each.
func (c *Connector) fetchPage(ctx context.Context, u *url.URL, page int, each func(*recordingDTO)) (pageInfo, error) {
	what := fmt.Sprintf("dtac: list recordings at %s, page %d", c.host, page)
	resp, err := c.authed(ctx, what, func(ctx context.Context, token string) (*http.Response, error) {
		return c.get(ctx, u.String(), token, "application/json")
	})
	if err != nil {
		return pageInfo{}, err
	}
	defer remote.Drain(resp) // the decoder may stop short of the body's last bytes
	if resp.StatusCode != http.StatusOK {
		return pageInfo{}, &statusError{resp.StatusCode, fmt.Errorf("%s: %w", what, remote.Unexpected(resp, c.secrets()...))}
	}
	// The page is decoded as it streams in, but a decoder holds a whole
	// token: the body is bounded (after decompression), and whitespace runs
	// are cut so that a page of spaces costs nothing.
	head := &headBuffer{max: maxQuoted}
	body := &readErr{r: httpsafe.JSON(io.TeeReader(resp.Body, head), httpsafe.MaxListingPage, "the listing page")}
	info, err := decodePage(body, each)
	switch {
	case err == nil:
		return info, nil
	case ctx.Err() != nil:
		return pageInfo{}, fmt.Errorf("%s: %w", what, ctx.Err())
	case body.err != nil:
		return pageInfo{}, fmt.Errorf("%s: reading the page: %w", what, body.err)
	}
	return pageInfo{}, fmt.Errorf("%s: unexpected answer: HTTP 200 (%s): %v: %q",
		what, remote.ContentType(resp), err, excerpt(head.b, c.secrets()...))
}

// headBuffer keeps the first max bytes written to it, for error messages.
type headBuffer struct {
	b   []byte
	max int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := h.max - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// readErr remembers the first error from r other than io.EOF.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}
