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
)

// List returns the recordings whose StartTime lies in [from, to).
//
// It pages with $top/$skip ordered by (StartTime, Id) and stops on a short
// page (XAPI sends no @odata.nextLink); the first page asks for $count, so
// that a PBX that silently serves fewer than $top is paged on rather than
// cut short. A 400 about $top halves the page size, for this call and the
// later ones. The server-side filter is widened to whole seconds and
// re-applied here, with the CallType one, so that the result is exactly
// the window whatever the server makes of the filter.
func (c *Connector) List(ctx context.Context, from, to time.Time) ([]connectors.Recording, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("3cx: listing recordings: %w", err)
	}
	if !from.Before(to) {
		return nil, nil
	}
	filter := recordingsFilter(from, to, c.cfg.IncludeInternal)
	m := mapper{host: c.host, region: c.region, loc: c.loc}
	var out []connectors.Recording
	seen := map[int64]bool{}
	seenUnnamed := map[string]bool{} // by their bytes, to spot repeated pages
	total := int64(-1)
	for skip := 0; ; {
		top := int(c.top.Load())
		p, err := c.page(ctx, "listing recordings", recordingsQuery(filter, top, skip, skip == 0))
		if tl := (*errTopTooLarge)(nil); errors.As(err, &tl) {
			if top <= 1 {
				return nil, fmt.Errorf("3cx: listing recordings: the PBX refuses even $top=1: %s", tl.msg)
			}
			c.top.CompareAndSwap(int64(top), int64(top/2))
			c.log.Info("3cx refused the page size; halving it", "top", top, "now", top/2)
			continue
		}
		if err != nil {
			return nil, err
		}
		if skip == 0 {
			total = p.count
		}
		fresh := 0
		for _, raw := range p.value {
			rec, id, internal, err := m.decode(raw)
			if err != nil {
				if !seenUnnamed[string(raw)] {
					seenUnnamed[string(raw)], fresh = true, fresh+1
					c.log.Warn("3cx listed a record that cannot be named; skipping it", "err", err)
				}
				continue
			}
			if seen[id] {
				continue
			}
			seen[id], fresh = true, fresh+1
			if internal && !c.cfg.IncludeInternal {
				continue
			}
			if !rec.CallAt.IsZero() && (rec.CallAt.Before(from) || !rec.CallAt.Before(to)) {
				continue
			}
			out = append(out, rec)
		}
		n := len(p.value)
		if n == 0 {
			break
		}
		if fresh == 0 {
			return nil, fmt.Errorf("3cx: listing recordings: the page at $skip=%d repeats earlier recordings only; the PBX seems to ignore $skip", skip)
		}
		skip += n
		if n < top {
			if total < 0 || int64(skip) >= total {
				break
			}
			c.log.Debug("3cx served a short page though more match; paging on", "top", top, "served", n, "count", total)
		}
	}
	c.log.Debug("3cx recordings listed", "from", from, "to", to, "recordings", len(out))
	return out, nil
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
	ctx, cancel := context.WithTimeout(ctx, c.requestTimeout)
	defer cancel()
	resp, err := c.do(ctx, c.endpoint("/xapi/v1/Recordings", rawQuery), "application/json")
	if err != nil {
		return page{}, fmt.Errorf("3cx: %s: %w", what, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		p, err := decodePage(resp.Body)
		if err != nil {
			return page{}, fmt.Errorf("3cx: %s: %w", what, err)
		}
		return p, nil
	case http.StatusBadRequest:
		detail, _ := c.errorDetail(resp)
		if topTooLarge(detail) {
			return page{}, &errTopTooLarge{msg: strings.TrimPrefix(detail, ": ")}
		}
		return page{}, fmt.Errorf("3cx: %s: the PBX refused the query (400%s)", what, detail)
	case http.StatusForbidden:
		drain(resp)
		return page{}, fmt.Errorf("3cx: %s: %w", what, c.forbidden())
	case http.StatusNotFound:
		return page{}, fmt.Errorf("3cx: %s: 404%s: is THREECX_BASE_URL a 3CX V20 PBX with the XAPI enabled?", what, errorText(c.errorDetail(resp)))
	case http.StatusGatewayTimeout:
		drain(resp)
		return page{}, fmt.Errorf("3cx: %s: the PBX timed out on the query (504 gateway timeout); it will be retried on a later pass", what)
	}
	return page{}, fmt.Errorf("3cx: %s: unexpected status %d%s", what, resp.StatusCode, errorText(c.errorDetail(resp)))
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

// recordingsQuery is the query string of one page, values %-escaped
// (spaces as %20, not "+").
func recordingsQuery(filter string, top, skip int, count bool) string {
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
	add("$skip", strconv.Itoa(skip))
	if count {
		add("$count", "true")
	}
	add("$select", selectFields)
	return b.String()
}
