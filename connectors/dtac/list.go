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
// and stops when that brings nothing new.
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
		prev                  time.Time
		latest, oldest        time.Time // the newest and oldest start seen
		fresh                 int       // ids first listed on the current page
		served                int       // the most rows a page with a next page held
	)
	keep := func(d *recordingDTO) {
		r, ok := c.recording(d, phones)
		if !ok {
			noID++
			return
		}
		if at := r.CallAt; !at.IsZero() {
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
		if !r.CallAt.IsZero() && (r.CallAt.Before(from) || !r.CallAt.Before(to)) {
			return
		}
		if _, known := direction(string(d.Direction)); !known {
			assumed = append(assumed, r.ID)
		}
		out = append(out, r)
	}

	u := c.pageURL(start, end, 1)
	for page := 1; ; page++ {
		if page > maxPages {
			return nil, fmt.Errorf("dtac: list recordings at %s: more than %d pages; stopped", c.host, maxPages)
		}
		fetched[u.String()] = true
		fresh, prev = 0, time.Time{}
		info, err := c.fetchPage(ctx, u, page, keep)
		if err != nil {
			return nil, err
		}
		if info.objects == 0 {
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
			if last && fresh == 0 {
				break // asked past the newest seen: nothing new, the end
			}
			var progress bool
			switch {
			case ascending && descending:
				// No order to ask past: a last page is taken at its word.
				if last {
					break
				}
				return nil, fmt.Errorf("dtac: list recordings at %s: the portal's result limit was reached and it does not list recordings in order of start: cannot list the window completely",
					c.host)
			case descending:
				// Newest first: ask again up to the oldest start seen (one
				// second more, for an exclusive end bound).
				if e := oldest.UTC().Truncate(time.Second).Add(time.Second); e.Before(end) {
					end, progress = e, true
				}
			default:
				// Oldest first: ask again from the newest start seen. Rows
				// listed twice are dropped by id.
				if s := latest.UTC().Truncate(time.Second); s.After(start) {
					start, progress = s, true
				}
			}
			if !progress {
				if last {
					break
				}
				// Without progress the listing would be incomplete: fail
				// rather than let the cursor pass recordings never seen.
				return nil, fmt.Errorf("dtac: list recordings at %s: the portal's result limit was reached within one second (%s to %s): cannot list the window completely",
					c.host, start.Format(time.RFC3339), end.Format(time.RFC3339))
			}
			if last {
				c.log.DebugContext(ctx, "dtac: the portal marked its last page limitReached; asking once more past the recordings seen", "from", start, "to", end, "page", page)
			} else {
				c.log.InfoContext(ctx, "dtac: the portal's result limit was reached; listing again past the recordings seen", "from", start, "to", end, "page", page)
			}
			u = c.pageURL(start, end, 1)
			clear(firstIDs)
			clear(fetched)
			continue
		}
		if info.next == "" || (info.pageSize > 0 && info.objects < info.pageSize) {
			break
		}
		next, err := u.Parse(info.next)
		if err != nil || !c.sameOrigin(next) {
			if !warnedHost {
				host := "(unreadable)"
				if err == nil {
					host = next.Host
				}
				c.log.WarnContext(ctx, "dtac: nextPageUri is not on the portal's host; building the next page's URL instead",
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
		c.log.WarnContext(ctx, "dtac: the portal listed recordings without an id; they are skipped", "count", noID, "from", from, "to", to)
	}
	if len(assumed) > 0 {
		c.log.WarnContext(ctx, "dtac: recordings whose direction says nothing usable (UNKN, empty or missing) are sent as inbound",
			"count", len(assumed), "ids", strings.Join(assumed[:min(len(assumed), 10)], ","))
	}
	return out, nil
}

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
		return c.roundTrip(ctx, http.MethodGet, u.String(), token, "application/json", false)
	})
	if err != nil {
		return pageInfo{}, err
	}
	defer discard(resp) // the decoder may stop short of the body's last bytes
	if resp.StatusCode != http.StatusOK {
		return pageInfo{}, fmt.Errorf("%s: %w", what, c.unexpected(resp))
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
		what, contentType(resp), err, excerpt(head.b, c.secrets()...))
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
