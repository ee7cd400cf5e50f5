package fakeorkweb

import (
	"cmp"
	"crypto/subtle"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Form ids Tapestry allocates, in render order; a form posted with other
// ones is a stale link (FormSupportImpl.getElementId).
const (
	homeFormIDs   = "TextField,TextField_0,Submit"
	searchFormIDs = "If_0,TextField,If_1,TextField_0,If_2,TextField_1,If_3,TextField_2,DatePicker,DatePicker_0,direction"
)

// serveApp is Tapestry's ApplicationServlet at /orkweb/app.
func (s *Server) serveApp(w http.ResponseWriter, r *http.Request, pathID string) {
	s.app.Lock()
	defer s.app.Unlock()
	rp := &reply{w: w, r: r}
	rp.ses, rp.fromCookie = s.sessionFor(r, pathID)
	if err := r.ParseForm(); err != nil {
		s.renderException(rp, "org.apache.hivemind.ApplicationRuntimeException", err.Error())
		return
	}
	q := r.Form
	switch svc := q.Get("service"); svc {
	case "restart":
		// Engine.restart: invalidate the session, redirect to the servlet.
		s.invalidate(rp.ses)
		http.Redirect(w, r, "/orkweb/app", http.StatusFound)
	case "asset":
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write([]byte("// " + q.Get("path") + "\n"))
	case "", "home":
		s.showHome(rp)
	case "page":
		switch pg := q.Get("page"); pg {
		case "Home":
			s.showHome(rp)
		case "RecSegments", "Account":
			s.showProtected(rp, pg)
		default:
			s.renderException(rp, "org.apache.hivemind.ApplicationRuntimeException",
				fmt.Sprintf("Page '%s' not found in application namespace.", pg))
		}
	case "direct":
		s.direct(rp, q)
	default:
		s.renderException(rp, "org.apache.hivemind.ApplicationRuntimeException",
			fmt.Sprintf("No engine service named '%s' is available.", svc))
	}
}

// showHome renders Home, which sends a logged-in session on to
// RecSegments (HomePage.pageBeginRender).
func (s *Server) showHome(rp *reply) {
	if rp.ses != nil && rp.ses.user != "" {
		s.showRecSegments(rp)
		return
	}
	s.ensureSession(rp)
	s.renderHome(rp, rp.ses.errorMessage, "", "")
}

// showProtected renders a page behind ProtectedPage.pageValidate: without
// a logged-in session, the log-in page (200, no redirect, and a new
// session when the old one is gone).
func (s *Server) showProtected(rp *reply, page string) {
	if rp.ses == nil || rp.ses.user == "" {
		s.showHome(rp)
		return
	}
	if page == "Account" {
		s.renderAccount(rp)
		return
	}
	s.showRecSegments(rp)
}

// direct is Tapestry's direct service: activate the page (which validates
// it), check for a stale session, trigger the component, render.
func (s *Server) direct(rp *reply, q map[string][]string) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	_, activeSession := q["session"]
	page, component := get("page"), get("component")
	switch page {
	case "Home":
		if activeSession && (rp.ses == nil || rp.created) {
			s.renderStaleSession(rp)
			return
		}
		if component != "$Form" {
			s.noComponent(rp, page, component)
			return
		}
		s.loginSubmit(rp, q, get)
	case "RecSegments":
		if rp.ses == nil || rp.ses.user == "" {
			s.showHome(rp) // pageValidate runs before the stale-session check
			return
		}
		switch {
		case component == "$Form":
			s.searchSubmit(rp, q, get)
		case strings.HasPrefix(component, "mytablepaging.") || strings.HasPrefix(component, "mytablepaging2."):
			_, link, _ := strings.Cut(component, ".")
			s.pagingLink(rp, page, component, link, get("sp"))
		case component == "mytableheader.$DirectLink":
			s.sortLink(rp, get("sp"))
		default:
			s.noComponent(rp, page, component)
		}
	default:
		s.renderException(rp, "org.apache.hivemind.ApplicationRuntimeException",
			fmt.Sprintf("Page '%s' not found in application namespace.", page))
	}
}

func (s *Server) noComponent(rp *reply, page, component string) {
	s.renderException(rp, "org.apache.hivemind.ApplicationRuntimeException",
		fmt.Sprintf("Component %s does not contain a component %s.", page, component))
}

// staleFormIDs is FormSupportImpl's check of the posted formids against
// the ids the form allocates, as the message it fails with.
func staleFormIDs(form, posted, want string) string {
	if posted == want {
		return ""
	}
	got, exp := strings.Split(posted, ","), strings.Split(want, ",")
	if posted == "" {
		got = nil
	}
	for i, id := range exp {
		if i >= len(got) {
			return fmt.Sprintf("Rewind of form %s expected only %d form elements, but an additional id was requested by component %s/%s.",
				form, len(got), strings.SplitN(form, "/", 2)[0], id)
		}
		if got[i] != id {
			return fmt.Sprintf("Rewind of form %s expected allocated id #%d to be '%s', but was '%s' (requested by component %s/%s).",
				form, i+1, got[i], id, strings.SplitN(form, "/", 2)[0], id)
		}
	}
	return fmt.Sprintf("Rewind of form %s expected %d more form elements, starting with id '%s'.",
		form, len(got)-len(exp), got[len(exp)])
}

// loginSubmit rewinds Home's form and runs the Submit button's listener
// (HomePage.formSubmit) when the button is in the request.
func (s *Server) loginSubmit(rp *reply, q map[string][]string, get func(string) string) {
	if msg := staleFormIDs("Home/$Form", get("formids"), homeFormIDs); msg != "" {
		s.renderStaleLink(rp, msg)
		return
	}
	user, pass := get("TextField"), get("TextField_0")
	if _, pressed := q["Submit"]; !pressed {
		s.ensureSession(rp)
		s.renderHome(rp, rp.ses.errorMessage, user, pass)
		return
	}
	s.mu.Lock()
	want, known := s.users[user]
	ok := known && !s.dbDown && subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1
	if ok {
		s.stats.Logins++
	} else {
		s.stats.LoginsFailed++
	}
	s.mu.Unlock()
	s.ensureSession(rp)
	if !ok {
		rp.ses.errorMessage = "Invalid login or password"
		s.renderHome(rp, rp.ses.errorMessage, user, pass)
		return
	}
	rp.ses.user = user
	s.showRecSegments(rp) // cycle.activate("RecSegments"): the body of the POST, no redirect
}

// searchSubmit rewinds RecSegments' form into the filter and persists it
// (RecSegmentsPage.formSubmit).
func (s *Server) searchSubmit(rp *reply, q map[string][]string, get func(string) string) {
	if msg := staleFormIDs("RecSegments/$Form", get("formids"), searchFormIDs); msg != "" {
		s.renderStaleLink(rp, msg)
		return
	}
	for i := range 4 {
		name := "If_" + strconv.Itoa(i)
		if v, ok := q[name]; !ok || (v[0] != "T" && v[0] != "F") {
			s.renderException(rp, "org.apache.hivemind.ApplicationRuntimeException",
				fmt.Sprintf("Parameter %s must be T or F to rewind component RecSegments/If_%d.", name, i))
			return
		}
	}
	s.mu.Lock()
	thai := s.thai
	s.stats.Searches++
	s.mu.Unlock()
	f := s.currentFilter(rp.ses).clone()
	f.setMin(get("TextField"))
	f.setMax(get("TextField_0"))
	f.local, f.localErr = partyValue(get("TextField_1"))
	f.remote, f.remoteErr = partyValue(get("TextField_2"))
	f.start, f.startText = parseDateField(get("DatePicker"), f.start, s.loc, thai)
	f.end, f.endText = parseDateField(get("DatePicker_0"), f.end, s.loc, thai)
	switch get("direction") {
	case "0", "1", "2":
		f.direction, _ = strconv.Atoi(get("direction"))
	}
	rp.ses.filter = f
	s.showRecSegments(rp)
}

// pagingLink runs one of TablePaging's listeners on the session's table
// state and persists it.
func (s *Server) pagingLink(rp *reply, page, component, link, sp string) {
	ts := rp.ses.table
	if ts == nil {
		ts = &tableState{} // a fresh initial value: NumResults 0
	}
	s.mu.Lock()
	s.insertAt++
	insert := s.opts.InsertPerPage > 0 && (s.opts.InsertPages == 0 || s.insertAt <= s.opts.InsertPages)
	s.mu.Unlock()
	if insert {
		s.insertInWindow(s.currentFilter(rp.ses), s.opts.InsertPerPage)
	}
	switch link {
	case "$DirectLink": // firstPageAction
		ts.setNumResults(0)
	case "$DirectLink_0": // previousPageAction
		if ts.offset-ResultsPerPage >= 0 {
			ts.offset -= ResultsPerPage
		}
	case "$DirectLink_1": // nextPageAction: on the last page, nothing moves
		if ts.offset+ResultsPerPage < ts.numResults {
			ts.offset += ResultsPerPage
		}
	case "$DirectLink_2": // lastPageAction
		ts.offset = 0
		if pages := ts.numPages(); pages >= 1 {
			ts.offset = (pages - 1) * ResultsPerPage
		}
	case "$DirectLink_3": // sliderClickAction
		pos, err := strconv.Atoi(sp)
		if err != nil {
			s.renderException(rp, "java.lang.ClassCastException", "sliderClickAction: parameter "+strconv.Quote(sp)+" is not an Integer")
			return
		}
		ts.slider = pos
		positions := min(ts.numPages(), 20)
		ts.offset = javaIntOfDouble(float64(ts.numResults) / float64(positions) * float64(pos))
	default:
		s.noComponent(rp, page, component)
		return
	}
	rp.ses.table = ts
	s.mu.Lock()
	s.stats.PagingLinks++
	s.mu.Unlock()
	s.showRecSegments(rp)
}

// sortLink runs TableHeader.columnClickAction: a new column sorts
// ascending, the same one toggles.
func (s *Server) sortLink(rp *reply, sp string) {
	ts := rp.ses.table
	if ts == nil {
		ts = &tableState{}
	}
	col := strings.TrimPrefix(sp, "S")
	if col != ts.orderBy {
		ts.orderBy, ts.ascending = col, true
	} else {
		ts.ascending = !ts.ascending
	}
	rp.ses.table = ts
	s.showRecSegments(rp)
}

// javaIntOfDouble is Java's (int) cast of a double: NaN is 0, the rest
// saturates.
func javaIntOfDouble(f float64) int {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int(f)
}

// currentFilter is the session's persisted filter or a fresh default one.
func (s *Server) currentFilter(ses *session) *filter {
	if ses.filter != nil {
		return ses.filter
	}
	return defaultFilter(s.now())
}

// showRecSegments renders RecSegments as RecSegmentsPage.pageBeginRender
// does: query with the table state's offset, then setNumResults with the
// total, which puts the offset back to 0 when the total changed. The rows
// already fetched stay those of the old offset, while the pager shows the
// reset one.
func (s *Server) showRecSegments(rp *reply) {
	ses := rp.ses
	f := s.currentFilter(ses)
	ts := ses.table
	if ts == nil {
		ts = &tableState{}
	}
	s.mu.Lock()
	down := s.dbDown
	s.mu.Unlock()
	var rows []Recording
	total := 0
	if !down {
		rows, total = s.query(f, orderBy{key: ts.orderBy, ascending: ts.ascending}, ts.offset, ResultsPerPage)
	}
	hadOffset := ts.offset != 0
	reset := ts.setNumResults(total)
	s.mu.Lock()
	if reset && hadOffset {
		s.stats.OffsetResets++
	}
	s.stats.RowsServed += len(rows)
	if len(rows) > 0 {
		s.stats.ResultPages++
	} else {
		s.stats.NoResultPages++
	}
	s.mu.Unlock()
	s.renderRecSegments(rp, f, ts, rows)
}

// tableState is OrkWeb's TableState.
type tableState struct {
	numResults, offset, slider int
	orderBy                    string
	ascending                  bool
}

// setNumResults is TableState.setNumResults: a different total puts the
// offset back to 0. It reports whether the total changed.
func (t *tableState) setNumResults(n int) bool {
	if t.numResults == n {
		return false
	}
	t.numResults, t.offset = n, 0
	return true
}

func (t *tableState) numPages() int {
	return (t.numResults + ResultsPerPage - 1) / ResultsPerPage
}

func (t *tableState) currentPage() int { return t.offset/ResultsPerPage + 1 }

// orderBy is the table's sort: a column key ("" is seg.timestamp) and
// its direction (descending by default).
type orderBy struct {
	key       string
	ascending bool
}

func (o orderBy) sort(recs []*Recording, shuffleTies bool, query uint64) {
	tie := func(a, b *Recording) int { return cmp.Compare(b.TapeID, a.TapeID) }
	if shuffleTies {
		tie = func(a, b *Recording) int { return cmp.Compare(tieKey(a.TapeID, query), tieKey(b.TapeID, query)) }
	}
	key := func(a, b *Recording) int {
		switch o.key {
		case "seg.duration":
			return cmp.Compare(a.Duration, b.Duration)
		case "seg.localParty":
			return cmp.Compare(a.LocalParty, b.LocalParty)
		case "seg.remoteParty":
			return cmp.Compare(a.RemoteParty, b.RemoteParty)
		case "seg.direction":
			return cmp.Compare(dirOrdinal(a.Direction), dirOrdinal(b.Direction))
		}
		return cmp.Compare(a.second(), b.second())
	}
	slices.SortStableFunc(recs, func(a, b *Recording) int {
		c := key(a, b)
		if !o.ascending {
			c = -c
		}
		return cmp.Or(c, tie(a, b))
	})
}

// dirOrdinal is the enum's ordinal (IN, OUT, ALL, UNKN), Hibernate's
// column value.
func dirOrdinal(d Direction) int {
	switch d {
	case In:
		return 0
	case Out:
		return 1
	}
	return 3
}

// tieKey orders tied rows for one query: a mix of the tape id and the
// query's number (splitmix64's finaliser).
func tieKey(id int64, query uint64) uint64 {
	x := uint64(id)*0x9e3779b97f4a7c15 ^ query*0xbf58476d1ce4e5b9
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// filter is OrkWeb's RecSegmentFilter.
type filter struct {
	minDur, maxDur, local, remote       string
	minErr, maxErr, localErr, remoteErr string
	start, end                          *time.Time
	startText, endText                  string // unparsable input, shown back
	direction                           int    // 0 OUT, 1 IN, 2 ALL (radio values)
}

// defaultFilter is a new RecSegmentFilter: the last 24 hours, both
// directions.
func defaultFilter(now time.Time) *filter {
	end := now
	start := now.Add(-24 * time.Hour)
	return &filter{start: &start, end: &end, direction: 2}
}

func (f *filter) clone() *filter {
	c := *f
	return &c
}

var nonDigit = regexp.MustCompile(`[^0-9]`)

func (f *filter) setMin(v string) {
	f.minDur, f.minErr = v, ""
	if nonDigit.MatchString(v) {
		f.minErr = "Enter a number"
	}
}

func (f *filter) setMax(v string) {
	f.maxDur, f.maxErr = v, ""
	if nonDigit.MatchString(v) {
		f.maxErr = "Enter a number"
	}
}

var invalidParty = regexp.MustCompile(`[^A-Za-z0-9#*@]`)

func partyValue(v string) (string, string) {
	if invalidParty.MatchString(v) {
		return v, "Unallowed character"
	}
	return v, ""
}

// matches is RecSegmentServiceHbn's where clause.
func (f *filter) matches(r *Recording, flavour Flavour) bool {
	t := r.Time.Truncate(time.Second)
	switch {
	case f.start != nil && f.end != nil: // between: both ends inclusive
		if t.Before(*f.start) || t.After(*f.end) {
			return false
		}
	case f.start != nil:
		if !t.After(*f.start) {
			return false
		}
	case f.end != nil:
		if !t.Before(*f.end) {
			return false
		}
	}
	party := func(have, want string) bool {
		if want == "" {
			return true
		}
		if flavour == VoiceIP {
			return strings.HasPrefix(have, want) // LIKE 'x%'
		}
		return have == want
	}
	if !party(r.LocalParty, f.local) || !party(r.RemoteParty, f.remote) {
		return false
	}
	if f.minDur != "" && !(r.Duration > mysqlInt(f.minDur)) {
		return false
	}
	if f.maxDur != "" && !(r.Duration < mysqlInt(f.maxDur)) {
		return false
	}
	switch f.direction {
	case 0:
		return r.Direction == Out
	case 1:
		return r.Direction == In
	}
	return true
}

// mysqlInt is MySQL's cast of a string to a number: its leading digits.
func mysqlInt(s string) int {
	n := 0
	for _, c := range strings.TrimSpace(s) {
		if c < '0' || c > '9' || n > math.MaxInt32 {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// buddhistOffset is how far the Buddhist Era's years run ahead.
const buddhistOffset = 543

// dateText is a date field's value: unparsable input shown back, else
// the date in yyyy-MM-dd HH:mm:ss in the server's zone, its year in the
// Buddhist Era on a Thai JVM, or "" when open.
func (f *filter) dateText(t *time.Time, bad string, loc *time.Location, thai bool) string {
	if bad != "" {
		return bad
	}
	if t == nil {
		return ""
	}
	lt := t.In(loc)
	year := lt.Year()
	if thai {
		year += buddhistOffset
	}
	return fmt.Sprintf("%04d", year) + lt.Format("-01-02 15:04:05")
}

var javaDate = regexp.MustCompile(`^\s*(-?\d+)-(-?\d+)-(-?\d+) (-?\d+):(-?\d+):(-?\d+)`)

// parseDateField is the DatePicker's translator: SimpleDateFormat
// "yyyy-MM-dd HH:mm:ss", lenient (overflowing fields roll over), trailing
// text ignored, in the JVM's zone and calendar (Buddhist on a Thai JVM).
// An empty field is an open end; input that does not parse leaves the
// old value and is shown back.
func parseDateField(v string, old *time.Time, loc *time.Location, thai bool) (*time.Time, string) {
	if strings.TrimSpace(v) == "" {
		return nil, ""
	}
	m := javaDate.FindStringSubmatch(v)
	if m == nil {
		return old, v
	}
	var n [6]int
	for i := range n {
		x, err := strconv.Atoi(m[i+1])
		if err != nil || x > 1_000_000 || x < -1_000_000 {
			return old, v
		}
		n[i] = x
	}
	if thai {
		n[0] -= buddhistOffset
	}
	t := time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], 0, loc)
	return &t, ""
}
