package dtac

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
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
	l := c.newLister(from, to)
	for l.page = 1; ; l.page++ {
		if l.page > maxPages {
			return nil, fmt.Errorf("dtac: list recordings at %s: more than %d pages; stopped", c.host, maxPages)
		}
		info, err := l.fetch(ctx)
		more := false
		if err != nil {
			more, err = l.afterFailure(ctx, err)
		} else {
			more, err = l.afterPage(ctx, info)
		}
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
	}
	l.report(ctx)
	return l.out, nil
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
