package fakethreecx

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// query is a parsed set of OData query options for Recordings.
type query struct {
	filter   pred       // nil: every recording
	lo, hi   *time.Time // StartTime range the filter implies (a superset)
	order    []orderKey // nil: storage order
	inOrder  bool       // the requested order is the storage order
	top      int        // -1: no $top
	skip     int
	count    bool
	sel      []bool // by index into fields; nil: every field
	selNames string // "(Id,StartTime)" for @odata.context; "" without $select
	key      string // what the matches depend on: $filter and $orderby
}

// cacheEntry is the matches of one query while the recordings are as they
// were at generation gen.
type cacheEntry struct {
	gen  uint64
	key  string
	recs []*Recording
}

type orderKey struct {
	f    *field
	desc bool
}

// recordings serves GET /xapi/v1/Recordings.
func (s *Server) recordings(w http.ResponseWriter, r *http.Request) {
	if f := s.opts.BeforeListing; f != nil {
		f(int(s.listings.Add(1)))
	} else {
		s.listings.Add(1)
	}
	g, ok := s.authorize(w, r)
	if !ok || !s.mayReadRecordings(w, g) {
		return
	}
	q, qerr := s.parseQuery(r.URL.Query())
	if qerr != nil {
		s.writeError(w, qerr.status, qerr.msg)
		return
	}
	var body []byte
	var tooLarge bool
	s.view(func(recs []*Recording) { body, tooLarge = s.page(recs, q) })
	if tooLarge {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusGatewayTimeout)
		_, _ = w.Write([]byte("<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center></body></html>\n"))
		return
	}
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8")
	w.Header().Set("OData-Version", "4.0")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func (s *Server) parseQuery(v url.Values) (*query, *queryError) {
	q := &query{top: -1, inOrder: true, key: v.Get("$filter") + "\x00" + v.Get("$orderby")}
	for k, vs := range v {
		if !strings.HasPrefix(k, "$") {
			continue
		}
		switch k {
		case "$filter", "$orderby", "$top", "$skip", "$count", "$select":
		default:
			return nil, syntaxErr("The query parameter '%s' is not supported.", k)
		}
		if len(vs) > 1 {
			return nil, syntaxErr("Query option '%s' was specified more than once, but it must be specified at most once.", k)
		}
	}
	if f := v.Get("$filter"); v.Has("$filter") && !s.opts.IgnoreFilter {
		n, err := parseFilterAt(f, s.update)
		if err != nil {
			return nil, err.(*queryError)
		}
		q.filter = compile(n)
		q.lo, q.hi = startBounds(n)
	}
	if v.Has("$orderby") {
		if err := q.parseOrderBy(v.Get("$orderby"), s.update); err != nil {
			return nil, err
		}
	}
	if v.Has("$top") {
		n, err := strconv.Atoi(v.Get("$top"))
		if err != nil || n < 0 {
			return nil, syntaxErr("Invalid value '%s' for $top query option found. The $top query option requires a non-negative integer value.", v.Get("$top"))
		}
		if limit := s.opts.TopCap; limit >= 0 && n > limit {
			if !s.opts.TopClamp {
				return nil, syntaxErr("The query specified in the URI is not valid. The limit of '%d' for Top query has been exceeded. The value from the incoming request is '%d'.", limit, n)
			}
			n = limit
		}
		q.top = n
	}
	if v.Has("$skip") {
		n, err := strconv.Atoi(v.Get("$skip"))
		if err != nil || n < 0 {
			return nil, syntaxErr("Invalid value '%s' for $skip query option found. The $skip query option requires a non-negative integer value.", v.Get("$skip"))
		}
		q.skip = n
	}
	if v.Has("$count") {
		switch v.Get("$count") {
		case "true":
			q.count = true
		case "false":
		default:
			return nil, syntaxErr("'%s' is not a valid count option.", v.Get("$count"))
		}
	}
	if v.Has("$select") {
		if err := q.parseSelect(v.Get("$select"), s.update); err != nil {
			return nil, err
		}
	}
	return q, nil
}

func (q *query) parseOrderBy(s string, update int) *queryError {
	for item := range strings.SplitSeq(s, ",") {
		words := strings.Fields(item)
		if len(words) == 0 || len(words) > 2 {
			return syntaxErr("Syntax error at '%s' in $orderby '%s'.", item, s)
		}
		f, ok := fieldAt(words[0], update)
		if !ok {
			return syntaxErr("Could not find a property named '%s' on type 'Pbx.Recording'.", words[0])
		}
		k := orderKey{f: f}
		if len(words) == 2 {
			switch words[1] {
			case "asc":
			case "desc":
				k.desc = true
			default:
				return syntaxErr("Syntax error at '%s' in $orderby '%s'.", words[1], s)
			}
		}
		q.order = append(q.order, k)
	}
	// Storage order is (StartTime asc, Id asc): the same order as
	// "StartTime asc" with ties broken by Id, and as any list of keys that
	// starts with both.
	q.inOrder = q.order[0].f.name == "StartTime" && !q.order[0].desc &&
		(len(q.order) == 1 || q.order[1].f.name == "Id" && !q.order[1].desc)
	return nil
}

func (q *query) parseSelect(s string, update int) *queryError {
	q.sel = make([]bool, len(fields))
	var names []string
	for item := range strings.SplitSeq(s, ",") {
		name := strings.TrimSpace(item)
		if name == "*" {
			q.sel, q.selNames = nil, ""
			return nil
		}
		idx := slices.IndexFunc(fields, func(f field) bool { return f.name == name && f.since <= update })
		if idx < 0 {
			return syntaxErr("Could not find a property named '%s' on type 'Pbx.Recording'.", name)
		}
		q.sel[idx] = true
		names = append(names, name)
	}
	q.selNames = "(" + strings.Join(names, ",") + ")"
	return nil
}

// page answers q over recs (in storage order): the JSON body, or tooLarge
// when the query matches more than Options.MaxQueryMatches.
func (s *Server) page(recs []*Recording, q *query) (body []byte, tooLarge bool) {
	var all []*Recording
	if q.inOrder && !q.count && q.top >= 0 && s.opts.MaxQueryMatches == 0 {
		// Nothing needs every match: scan for the page's alone (a keyset
		// page costs its own rows, not the rest of the window).
		all = s.firstMatches(recs, q, q.skip+q.top)
	} else {
		all = s.matches(recs, q)
	}
	total := len(all)
	if s.opts.MaxQueryMatches > 0 && total > s.opts.MaxQueryMatches {
		return nil, true
	}
	start, end := min(q.skip, total), total
	if q.top >= 0 && q.top < end-start {
		end = start + q.top
	}
	out := all[start:end]

	b := make([]byte, 0, 256+len(out)*700)
	b = append(b, `{"@odata.context":"`...)
	b = append(b, s.url...)
	b = append(b, "/xapi/v1/$metadata#Recordings"...)
	b = append(b, q.selNames...)
	b = append(b, '"')
	if q.count {
		b = append(b, `,"@odata.count":`...)
		b = strconv.AppendInt(b, int64(total), 10)
	}
	b = append(b, `,"value":[`...)
	for i, r := range out {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRecord(b, r, q.sel, shape{update: s.update, sendNulls: s.opts.SendNulls, dnTypeNames: s.opts.DnTypeNames})
	}
	return append(b, "]}"...), false
}

// matches returns every recording q's $filter matches, in q's order. A
// client pages through one query with $skip, so the last few answers are
// kept until the recordings change: paging through n matches costs one
// scan, not one per page.
func (s *Server) matches(recs []*Recording, q *query) []*Recording {
	s.cacheMu.Lock()
	for _, e := range s.cache {
		if e.gen == s.gen && e.key == q.key {
			s.cacheMu.Unlock()
			return e.recs
		}
	}
	s.cacheMu.Unlock()

	recs = q.bounded(recs)
	var all []*Recording
	for _, r := range recs {
		if q.filter == nil || q.filter(r) {
			all = append(all, r)
		}
	}
	if !q.inOrder {
		slices.SortStableFunc(all, q.compare)
	}

	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if len(s.cache) >= 4 {
		s.cache = s.cache[1:]
	}
	s.cache = append(s.cache, cacheEntry{gen: s.gen, key: q.key, recs: all})
	return all
}

// firstMatches returns the first n recordings q's $filter matches, in
// storage order.
func (s *Server) firstMatches(recs []*Recording, q *query, n int) []*Recording {
	recs = q.bounded(recs)
	var out []*Recording
	for _, r := range recs {
		if len(out) >= n {
			break
		}
		if q.filter == nil || q.filter(r) {
			out = append(out, r)
		}
	}
	return out
}

// bounded narrows recs (in storage order) to the StartTime range q's
// filter implies.
func (q *query) bounded(recs []*Recording) []*Recording {
	if q.lo != nil {
		lo := *q.lo
		recs = recs[sort.Search(len(recs), func(i int) bool {
			st := recs[i].StartTime
			return st != nil && !st.Before(lo)
		}):]
	}
	if q.hi != nil {
		hi := *q.hi
		recs = recs[:sort.Search(len(recs), func(i int) bool {
			st := recs[i].StartTime
			return st != nil && st.After(hi)
		})]
	}
	return recs
}

// compare orders two recordings by $orderby, nulls first ascending.
func (q *query) compare(a, b *Recording) int {
	for _, k := range q.order {
		va, vb := k.f.get(a), k.f.get(b)
		var c int
		switch {
		case va.kind == kindNull && vb.kind == kindNull:
		case va.kind == kindNull:
			c = -1
		case vb.kind == kindNull:
			c = 1
		default:
			c = compareValues(va, vb)
		}
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}
