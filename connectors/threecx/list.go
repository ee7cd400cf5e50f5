package threecx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/internal/remote"
)

// List returns the recordings whose StartTime lies in [from, to).
//
// It pages by keyset: ordered by (StartTime, Id), each page asks for the
// rows after the last one of the page before ("StartTime gt X or
// (StartTime eq X and Id gt N)"), so that a recording deleted (or added)
// while the listing runs shifts nothing, and stops on a short page (XAPI
// sends no @odata.nextLink). The first page asks for $count, so that a
// PBX that silently serves fewer than $top is paged on rather than cut
// short. A PBX that does not honour the keyset (a page of repeats, rows out
// of order or without a StartTime) is listed again from the start with
// $skip, and for the next hour List goes to $skip at once.
//
// A 400 about $top lowers the page size (to the limit the message names,
// else by half); the size is probed back up as pages succeed (pageSize).
// The server-side filter is widened to whole seconds and re-applied here,
// with the CallType one, so that the result is exactly the window whatever
// the server makes of the filter.
func (c *Connector) List(ctx context.Context, from, to time.Time) ([]connectors.Recording, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("3cx: listing recordings: %w", err)
	}
	if !from.Before(to) {
		return nil, nil
	}
	l := &listing{
		c: c, from: from, to: to,
		filter:      recordingsFilter(from, to, c.cfg.IncludeInternal),
		m:           mapper{host: c.host, region: c.region, loc: c.loc},
		seen:        map[int64]bool{},
		seenUnnamed: map[string]bool{},
	}
	var err error
	if c.now().Before(c.skipModeUntil()) {
		err = l.bySkip(ctx)
	} else {
		err = l.byKeyset(ctx)
	}
	if err != nil {
		return nil, err
	}
	c.log.Debug("recordings listed", "from", from, "to", to, "recordings", len(l.out))
	return l.out, nil
}

// keysetPause is how long List pages with $skip after a PBX did not honour
// a keyset query.
const keysetPause = time.Hour

// maxRepeatPages is how many pages in a row may repeat earlier recordings
// only (rows shifted by recordings added before the position) before List
// concludes that the PBX ignores $skip.
const maxRepeatPages = 3

func (c *Connector) skipModeUntil() time.Time {
	c.keysetMu.Lock()
	defer c.keysetMu.Unlock()
	return c.keysetOffUntil
}

// listing is one List call's state.
type listing struct {
	c           *Connector
	from, to    time.Time
	filter      string
	m           mapper
	out         []connectors.Recording
	seen        map[int64]bool
	seenUnnamed map[string]bool // by their bytes, to spot repeated pages
}

// keyset is the (StartTime, Id) a keyset page starts after.
type keyset struct {
	start time.Time
	id    int64
}

func (k keyset) before(o keyset) bool {
	if c := k.start.Compare(o.start); c != 0 {
		return c < 0
	}
	return k.id < o.id
}

// fetch gets one page with the query q(top), lowering the page size on a
// 400 about $top until the PBX takes it.
func (l *listing) fetch(ctx context.Context, q func(top int) string) (page, int, error) {
	for {
		top := l.c.pages.next(l.c.now())
		p, err := l.c.page(ctx, "listing recordings", q(top))
		if tl := (*errTopTooLarge)(nil); errors.As(err, &tl) {
			next := l.c.pages.refusedTop(top, tl.msg, l.c.now())
			if next == 0 {
				return page{}, 0, fmt.Errorf("3cx: listing recordings: the PBX refuses even $top=1: %s", tl.msg)
			}
			l.c.log.Info("the PBX refused the page size; lowering it", "top", top, "now", next)
			continue
		}
		if err != nil {
			return page{}, 0, err
		}
		l.c.pages.worked(top)
		return p, top, nil
	}
}

// take keeps a page's recordings that lie in the window, each once, and
// returns how many rows were new and the rows' keys in the order served
// (ok false when a row has no usable StartTime).
func (l *listing) take(p page) (fresh int, keys []keyset, ok bool) {
	ok = true
	for _, raw := range p.value {
		r, err := l.m.decodeRow(raw)
		if err != nil {
			ok = false
			if !l.seenUnnamed[string(raw)] {
				l.seenUnnamed[string(raw)], fresh = true, fresh+1
				l.c.log.Warn("the PBX listed a record that cannot be named; skipping it", "err", err)
			}
			continue
		}
		if r.start.IsZero() {
			ok = false
		}
		keys = append(keys, keyset{start: r.start, id: r.id})
		if l.seen[r.id] {
			continue
		}
		l.seen[r.id], fresh = true, fresh+1
		rec := r.rec
		if r.internal && !l.c.cfg.IncludeInternal {
			continue
		}
		if !rec.CallAt.IsZero() && (rec.CallAt.Before(l.from) || !rec.CallAt.Before(l.to)) {
			continue
		}
		l.out = append(l.out, rec)
	}
	return fresh, keys, ok
}

// byKeyset pages by (StartTime, Id), falling back to bySkip when the PBX
// does not honour the keyset.
func (l *listing) byKeyset(ctx context.Context) error {
	var after *keyset
	total, served := int64(-1), int64(0)
	for first := true; ; first = false {
		p, top, err := l.fetch(ctx, func(top int) string { return keysetQuery(l.filter, after, top, first) })
		if err != nil {
			return err
		}
		if first {
			total = p.count
		}
		n := len(p.value)
		if n == 0 {
			return nil
		}
		fresh, keys, ok := l.take(p)
		served += int64(n)
		ordered := ok && (after == nil || after.before(keys[0]))
		for i := 1; ordered && i < len(keys); i++ {
			ordered = keys[i-1].before(keys[i])
		}
		if !ordered || fresh == 0 {
			why := "rows out of (StartTime, Id) order or without a StartTime"
			if fresh == 0 {
				why = "a page repeats earlier recordings only"
			}
			l.c.keysetMu.Lock()
			l.c.keysetOffUntil = l.c.now().Add(keysetPause)
			l.c.keysetMu.Unlock()
			l.c.log.Warn("the PBX does not honour keyset paging; listing again with $skip", "why", why, "for", keysetPause)
			return l.bySkip(ctx)
		}
		last := keys[len(keys)-1]
		after = &last
		if n < top {
			if total < 0 || served >= total {
				return nil
			}
			l.c.log.Debug("the PBX served a short page though more match; paging on", "top", top, "served", n, "count", total)
		}
	}
}

// bySkip pages with $top/$skip from the start: for a PBX that does not
// honour keyset queries. Recordings already taken are not taken twice; a
// page that repeats earlier recordings only (rows shifted by a recording
// added before the position) is passed, and only maxRepeatPages of them
// in a row make List fail (the PBX ignores $skip).
func (l *listing) bySkip(ctx context.Context) error {
	total := int64(-1)
	repeats := 0
	for skip := 0; ; {
		p, top, err := l.fetch(ctx, func(top int) string { return recordingsQuery(l.filter, top, skip, skip == 0) })
		if err != nil {
			return err
		}
		if skip == 0 {
			total = p.count
		}
		n := len(p.value)
		if n == 0 {
			return nil
		}
		fresh, _, _ := l.take(p)
		if fresh == 0 {
			if repeats++; repeats >= maxRepeatPages {
				return fmt.Errorf("3cx: listing recordings: %d pages in a row up to $skip=%d repeat earlier recordings only; the PBX seems to ignore $skip", repeats, skip)
			}
		} else {
			repeats = 0
		}
		skip += n
		if n < top {
			if total < 0 || int64(skip) >= total {
				return nil
			}
			l.c.log.Debug("the PBX served a short page though more match; paging on", "top", top, "served", n, "count", total)
		}
	}
}

// errTopTooLarge is a 400 saying that $top exceeds the PBX's maximum.
type errTopTooLarge struct{ msg string }

func (e *errTopTooLarge) Error() string { return "3cx: $top too large: " + e.msg }

// topTooLarge tells whether a 400's message is about $top being too large,
// in the wording of ASP.NET OData ("The limit of '100' for Top query has
// been exceeded") or any plausible other.
func topTooLarge(msg string) bool {
	m := strings.ToLower(msg)
	if !strings.Contains(m, "top") {
		return false
	}
	for _, w := range []string{"exceed", "maximum", "limit", "too large", "too big", "greater than", "max"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// page GETs one page of /xapi/v1/Recordings with rawQuery; what says what
// for in errors.
func (c *Connector) page(ctx context.Context, what, rawQuery string) (page, error) {
	what = "3cx: " + what
	resp, err := c.get(ctx, what, c.endpoint("/xapi/v1/Recordings", rawQuery))
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		p, err := decodePage(resp.Body)
		if err != nil {
			return page{}, fmt.Errorf("%s: %w", what, err)
		}
		return p, nil
	case http.StatusBadRequest:
		detail, _ := c.errorDetail(resp)
		if topTooLarge(detail) {
			return page{}, &errTopTooLarge{msg: strings.TrimPrefix(detail, ": ")}
		}
		return page{}, fmt.Errorf("%s: the PBX refused the query (400%s)", what, detail)
	case http.StatusForbidden:
		remote.Drain(resp)
		return page{}, fmt.Errorf("%s: %w", what, c.forbidden())
	case http.StatusNotFound:
		return page{}, fmt.Errorf("%s: 404%s: is THREECX_BASE_URL a 3CX V20 PBX with the XAPI enabled?", what, errorText(c.errorDetail(resp)))
	case http.StatusGatewayTimeout:
		remote.Drain(resp)
		return page{}, fmt.Errorf("%s: the PBX timed out on the query (504 gateway timeout); it will be retried on a later pass", what)
	}
	return page{}, fmt.Errorf("%s: unexpected status %d%s", what, resp.StatusCode, errorText(c.errorDetail(resp)))
}

// odataTime writes t as an Edm.DateTimeOffset literal, in UTC, to the
// second: 2026-05-20T01:00:00Z (unquoted, as OData wants).
func odataTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// recordingsFilter is the $filter for [from, to), widened to whole seconds
// (the literals carry no fraction); List trims the result exactly.
func recordingsFilter(from, to time.Time, includeInternal bool) string {
	lo := from.Truncate(time.Second)
	hi := to.Truncate(time.Second)
	if hi.Before(to) {
		hi = hi.Add(time.Second)
	}
	f := "StartTime ge " + odataTime(lo) + " and StartTime lt " + odataTime(hi)
	if !includeInternal {
		f += " and CallType ne 'Local'"
	}
	return f
}

// recordingsQuery is the query string of one $skip page, values
// %-escaped (spaces as %20, not "+").
func recordingsQuery(filter string, top, skip int, count bool) string {
	return query(filter, top, skip, count)
}

// keysetQuery is the query string of one keyset page: the rows of filter
// after key (all from the start when nil), ordered by (StartTime, Id).
// StartTime is written to the tick as served (7 fractional digits at
// most), in UTC, so that "eq" matches the row it was read from.
func keysetQuery(filter string, after *keyset, top int, count bool) string {
	if after != nil {
		at := after.start.UTC().Format(time.RFC3339Nano)
		filter += " and (StartTime gt " + at + " or (StartTime eq " + at + " and Id gt " + strconv.FormatInt(after.id, 10) + "))"
	}
	return query(filter, top, -1, count)
}

// query builds a page's query string; skip < 0 leaves $skip out.
func query(filter string, top, skip int, count bool) string {
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
	}
	add("$filter", filter)
	add("$orderby", "StartTime asc,Id asc")
	add("$top", strconv.Itoa(top))
	if skip >= 0 {
		add("$skip", strconv.Itoa(skip))
	}
	if count {
		add("$count", "true")
	}
	add("$select", selectFields)
	return b.String()
}
