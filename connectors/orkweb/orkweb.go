package orkweb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/internal/remote"
	"github.com/crkai/syncd/internal/phone"
)

// Config is the connector's configuration, from the ORKWEB_* variables.
type Config struct {
	// BaseURL is the OrkWeb server's address, e.g. http://oreka.local:8080
	// (OrkWeb under /orkweb/). Pages and audio are asked of its host.
	BaseURL string
	// Username and Password are an OrkWeb log-in.
	Username, Password string
}

// Timeouts: OrkWeb is a small self-hosted server.
const (
	defaultRequestTimeout = 60 * time.Second
	defaultHeaderTimeout  = 120 * time.Second
	// maxPage bounds a page of OrkWeb (ten rows and a form: a few tens of
	// KB).
	maxPage = 4 << 20
	// relogins is how many times a walk is redone on a fresh session when
	// the session dies under it.
	relogins = 2
)

// Connector is a self-hosted Oreka read through OrkWeb. It is safe for
// concurrent use; its page conversations are serialised, since OrkWeb keeps
// one search and one paging state per session.
type Connector struct {
	cfg    Config
	base   *url.URL
	host   string // lower-case host of BaseURL, without port: in every DataID
	portal *remote.Portal
	log    *slog.Logger
	loc    *time.Location
	region string
	now    func() time.Time

	session *remote.Session[*session]
	walkMu  sync.Mutex // one walk (search and paging) at a time: the state is the session's

	requestTimeout time.Duration
	headerTimeout  time.Duration
}

var _ connectors.Connector = (*Connector)(nil)

// session is one OrkWeb (Tomcat) session: its cookie, and the last search
// form it was shown (Tapestry wants its hidden fields back).
type session struct {
	cookie     string // JSESSIONID's value; "" when the server only rewrites URLs
	search     SearchForm
	yearOffset int
	// page is the page the session's table was last shown at, and first
	// that page's "first" link: a search renders at the table's old offset
	// before it resets it for a changed total (whose rows it then lacks),
	// so a walk puts the table back on page 1 before it searches.
	page  int
	first string
}

// note records what a page says of the session.
func (s *session) note(p Page) {
	if p.Search != nil {
		s.search = *p.Search
	}
	switch {
	case p.Pager != nil:
		s.page, s.first = p.Pager.Page, p.Pager.First
	case p.Kind == PageNoResults:
		s.page = 1
	}
}

// New checks cfg and builds a connector. It does no I/O: log-in is lazy.
// Its checks guard against a programmer's mistake: what a person
// configures is checked by internal/config, through Kind, before New is
// called.
func New(cfg Config, deps connectors.Deps) (*Connector, error) {
	deps = deps.Defaulted()
	base, err := remote.BaseURL(cfg.BaseURL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("orkweb: %w", err)
	case cfg.Username == "" || cfg.Password == "":
		return nil, errors.New("orkweb: Username and Password are required")
	}
	c := &Connector{
		cfg:            cfg,
		base:           base,
		host:           strings.ToLower(base.Hostname()),
		portal:         remote.New("OrkWeb server", deps),
		loc:            deps.Location,
		region:         deps.Region,
		now:            deps.Now,
		requestTimeout: defaultRequestTimeout,
		headerTimeout:  defaultHeaderTimeout,
	}
	c.log = c.portal.Log
	c.session = remote.NewSession(remote.Login[*session]{
		Login: func(ctx context.Context, _ *session) (*session, error) { return c.login(ctx) },
		Wrap:  func(err error) error { return fmt.Errorf("orkweb: %w", err) },
		Now:   c.now,
	})
	return c, nil
}

// Name is "orkweb".
func (c *Connector) Name() string { return "orkweb" }

// Logins counts the log-ins this connector has sent.
func (c *Connector) Logins() uint64 { return c.session.Logins() }

// DataID is an OrkWeb recording's id at CRK: "orkweb-<host>-<tape id>",
// host being ORKWEB_BASE_URL's host name in lower case, without a port.
func DataID(host string, tapeID int64) string {
	return fmt.Sprintf("orkweb-%s-%d", strings.ToLower(host), tapeID)
}

// Check logs in (unless a session is live), which proves the address and
// the credentials.
func (c *Connector) Check(ctx context.Context) error {
	_, err := c.session.Token(ctx)
	return err
}

// resolve makes a root-relative reference of a page (an action, a link, an
// audio path) absolute on ORKWEB_BASE_URL's scheme and host, whatever the
// page's <base> or the link's own host says.
func (c *Connector) resolve(ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("the page's link %s is not a URL", quoteShort(ref))
	}
	if u.Path == "" && u.RawPath == "" {
		return "", fmt.Errorf("the page's link %s has no path", quoteShort(ref))
	}
	out := url.URL{Scheme: c.base.Scheme, Host: c.base.Host, Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
	if !strings.HasPrefix(out.Path, "/") {
		out.Path = "/orkweb/" + out.Path
		out.RawPath = ""
	}
	return out.String(), nil
}

// errDead is a page that says the session is gone (the log-in page, or
// Tapestry's Stale Session): log in again and redo.
var errDead = errors.New("the OrkWeb session is gone")

// errMisread is a search whose window the server read otherwise than
// meant; it is treated as a dead session (log in again, which detects the
// calendar anew, and redo). errors.Is(errMisread, errDead).
var errMisread = fmt.Errorf("%w, or its calendar changed", errDead)

// page sends one request of a session's conversation and parses the
// answer. A dead session's answer is errDead; Tapestry's error pages, an
// unknown page or a non-200 status are errors.
func (c *Connector) page(ctx context.Context, s *session, method, ref string, form url.Values) (Page, error) {
	u, err := c.resolve(ref)
	if err != nil {
		return Page{}, err
	}
	r := remote.Request{Method: method, URL: u, Accept: "text/html", Timeout: c.requestTimeout}
	if form != nil {
		r.ContentType, r.Body = "application/x-www-form-urlencoded", form.Encode()
	}
	if s != nil && s.cookie != "" {
		r.Cookies = []*http.Cookie{{Name: "JSESSIONID", Value: s.cookie}}
	}
	resp, err := c.portal.Do(ctx, r)
	if err != nil {
		return Page{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Page{}, remote.Unexpected(resp, c.cfg.Password)
	}
	if s != nil {
		for _, ck := range resp.Cookies() {
			if ck.Name == "JSESSIONID" && ck.Value != "" && s.cookie == "" {
				s.cookie = ck.Value
			}
		}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPage+1))
	if err != nil {
		return Page{}, fmt.Errorf("reading the page: %w", err)
	}
	if len(b) > maxPage {
		return Page{}, fmt.Errorf("the page is larger than %d MiB", maxPage>>20)
	}
	p, err := ParsePage(bytes.NewReader(b), c.loc)
	if err != nil {
		return p, err
	}
	switch p.Kind {
	case PageStaleSession:
		return p, fmt.Errorf("%w (Stale Session page)", errDead)
	case PageStaleLink, PageException:
		return p, fmt.Errorf("OrkWeb answered its %q page: %s", p.Title, remote.Excerpt([]byte(p.Message), c.cfg.Password))
	}
	return p, nil
}

// login gets the log-in page fresh (a new session), posts it back with
// every hidden field, and tells the outcome by the answer's title: the
// log-in page answers 200 both ways.
func (c *Connector) login(ctx context.Context) (*session, error) {
	s := &session{}
	home, err := c.page(ctx, s, http.MethodGet, "/orkweb/app", nil)
	if err != nil {
		return nil, fmt.Errorf("log-in page: %w", err)
	}
	if home.Login == nil {
		return nil, fmt.Errorf("log-in page: OrkWeb answered a %s page, not its log-in page", home.Kind)
	}
	p, err := c.page(ctx, s, http.MethodPost, home.Login.Action, home.Login.Values(c.cfg.Username, c.cfg.Password))
	if errors.Is(err, errDead) {
		return nil, fmt.Errorf("log-in: the session created a moment ago is gone (%v); it will be tried again later", err)
	}
	if err != nil {
		return nil, fmt.Errorf("log-in: %w", err)
	}
	switch p.Kind {
	case PageLoginFailed:
		return nil, fmt.Errorf("log-in refused (%q): check ORKWEB_USERNAME and ORKWEB_PASSWORD (OrkWeb says the same when its database is down): %w",
			remote.Excerpt([]byte(p.Message), c.cfg.Password), connectors.ErrAuth)
	case PageRecordings, PageNoResults:
	default:
		return nil, fmt.Errorf("log-in: OrkWeb answered a %s page (%q), not the recordings", p.Kind, p.Title)
	}
	s.note(p)
	// The answer to the log-in shows the default search (the last 24 h):
	// its years tell the calendar the form speaks.
	if s.yearOffset, err = p.Search.YearOffset(c.now(), c.loc); err != nil {
		return nil, fmt.Errorf("log-in: %w", err)
	}
	if err := p.Search.CheckZone(c.loc, s.yearOffset); err != nil {
		// Every call time would be off by the difference: refuse rather
		// than send them.
		return nil, fmt.Errorf("log-in: %w: set SYNCD_TIMEZONE to the Oreka server's zone", err)
	}
	return s, nil
}

// search is one walk: the search of [start, end] (OrkWeb's window, whole
// seconds, both ends inclusive) and every page of it. It returns every
// row seen once (by tape id, the first sighting kept).
func (c *Connector) search(ctx context.Context, start, end time.Time) ([]Row, int, error) {
	c.walkMu.Lock()
	defer c.walkMu.Unlock()
	seen := map[int64]bool{}
	var rows []Row
	var pages int
	tok, err := c.session.Token(ctx)
	for attempt := 0; ; attempt++ {
		if err != nil {
			return nil, pages, err
		}
		var n int
		rows, n, err = c.walk(ctx, tok, start, end, seen, rows)
		pages += n
		if !errors.Is(err, errDead) {
			break
		}
		if attempt >= relogins {
			return nil, pages, fmt.Errorf("orkweb: %w even on a fresh session, %d times: is someone logging in with the same account?", err, attempt+1)
		}
		c.log.DebugContext(ctx, "OrkWeb session gone, logging in again and redoing the search", "answer", err.Error())
		tok, err = c.session.Renew(ctx, tok)
	}
	if err != nil {
		return nil, pages, fmt.Errorf("orkweb: searching %s to %s: %w", FormatDate(start, c.loc, 0), FormatDate(end, c.loc, 0), err)
	}
	return rows, pages, nil
}

// walk posts the search and follows "next" until "Page X/Y" says the last
// (never until a page repeats: the first "next" after a search shows page
// 1 again, and "next" on the last page shows it again). An offset reset (a
// changed total) puts it back on page 1: it walks on, deduping by tape id.
// When it has seen fewer distinct rows than the total, it searches again
// (rows may have moved between pages).
func (c *Connector) walk(ctx context.Context, s *session, start, end time.Time, seen map[int64]bool, rows []Row) ([]Row, int, error) {
	w := &walker{c: c, s: s, seen: seen, rows: rows}
	for pass := 0; ; pass++ {
		done, total, err := w.pass(ctx, start, end)
		if err != nil || done {
			return w.rows, w.pages, err
		}
		if pass >= 2 {
			return w.rows, w.pages, fmt.Errorf("walked %d distinct recordings of %d, three times: rows keep moving between pages", w.distinct, total)
		}
		c.log.DebugContext(ctx, "OrkWeb walk saw fewer recordings than its total; searching again", "seen", w.distinct, "total", total)
	}
}

// walker is a walk's state: the rows kept (each tape once, whichever pass
// saw it), the pages fetched, and the distinct rows of the pass under way.
type walker struct {
	c        *Connector
	s        *session
	seen     map[int64]bool
	rows     []Row
	pages    int
	passSeen map[int64]bool
	distinct int
}

// pass searches once and follows the pages to the last. It reports
// whether the walk is complete: no results, or as many distinct rows as
// the total the pages show (returned).
func (w *walker) pass(ctx context.Context, start, end time.Time) (done bool, total int, err error) {
	w.passSeen, w.distinct = map[int64]bool{}, 0
	if w.s.page > 1 && w.s.first != "" {
		// Back to page 1 first: a new search with the same total keeps
		// the old offset.
		p, err := w.next(ctx, w.s.first)
		if err != nil {
			return false, 0, err
		}
		w.s.note(p)
	}
	p, err := w.get(ctx, http.MethodPost, w.s.search.Action, w.s.search.Values(start, end, w.c.loc, w.s.yearOffset))
	if err != nil {
		return false, 0, err
	}
	if p.Search != nil && !p.Search.Start.Calendar.IsZero() && !p.Search.Start.Calendar.Truncate(time.Second).Equal(start) {
		// The server read the window's start as another instant: its
		// locale (the Buddhist-Era years) or its zone changed since the
		// log-in detected them. A fresh log-in detects them again.
		return false, 0, fmt.Errorf("%w: the server read the window's start %q as %s",
			errMisread, FormatDate(start, w.c.loc, w.s.yearOffset), p.Search.Start.Calendar.In(w.c.loc).Format(time.RFC3339))
	}
	switch p.Kind {
	case PageLogin, PageLoginFailed:
		return false, 0, fmt.Errorf("%w (the log-in page)", errDead)
	case PageNoResults:
		w.s.note(p)
		return true, 0, nil
	case PageRecordings:
	default:
		return false, 0, fmt.Errorf("the search answered a %s page", p.Kind)
	}
	w.add(ctx, p)
	if p.Pager.Page != 1 && p.Pager.First != "" {
		// A new search with the same total keeps the old offset.
		if p, err = w.next(ctx, p.Pager.First); err != nil {
			return false, 0, err
		}
		w.add(ctx, p)
	}
	limit := 3*(p.Pager.Results/ResultsPerPage+1) + 10
	for steps := 0; !p.Pager.LastPage(); steps++ {
		if steps >= limit {
			return false, 0, fmt.Errorf("the pages did not end after %d \"next\" (at Page %d/%d)", steps, p.Pager.Page, p.Pager.Pages)
		}
		if p, err = w.next(ctx, p.Pager.Next); err != nil {
			return false, 0, err
		}
		w.add(ctx, p)
	}
	return w.distinct >= p.Pager.Results, p.Pager.Results, nil
}

// get fetches a page, counting it whatever the outcome.
func (w *walker) get(ctx context.Context, method, ref string, form url.Values) (Page, error) {
	w.pages++
	return w.c.page(ctx, w.s, method, ref, form)
}

// next follows a paging link, which must lead to a page of recordings.
func (w *walker) next(ctx context.Context, ref string) (Page, error) {
	p, err := w.get(ctx, http.MethodGet, ref, nil)
	if err == nil && p.Kind != PageRecordings {
		err = w.c.lost(p)
	}
	return p, err
}

// add takes a page's rows: each tape once in the walk, counted once in
// the pass.
func (w *walker) add(ctx context.Context, p Page) {
	w.s.note(p)
	for _, r := range p.Rows {
		if r.TapeID == 0 {
			if r.Invalid != nil {
				w.c.log.WarnContext(ctx, "OrkWeb row without a tape id skipped", "problem", r.Invalid.Error())
			}
			continue
		}
		if !w.passSeen[r.TapeID] {
			w.passSeen[r.TapeID] = true
			w.distinct++
		}
		if !w.seen[r.TapeID] {
			w.seen[r.TapeID] = true
			w.rows = append(w.rows, r)
		}
	}
}

// lost is the error of a paging answer that is not a recordings page.
func (c *Connector) lost(p Page) error {
	if p.Kind == PageLogin || p.Kind == PageLoginFailed {
		return fmt.Errorf("%w (the log-in page)", errDead)
	}
	return fmt.Errorf("a paging link answered a %s page", p.Kind)
}

// ResultsPerPage is OrkWeb's page size (the UI cannot change it).
const ResultsPerPage = 10

// List returns the recordings that start in [from, to). OrkWeb's window
// is whole seconds and inclusive at both ends: the search covers every
// second [from, to) touches, and the rows are then kept by their time.
// Call it for closed windows in the past: a window that includes now sees
// calls land during the walk (the offset resets; the walk survives it, at
// the cost of more pages).
func (c *Connector) List(ctx context.Context, from, to time.Time) ([]connectors.Recording, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !from.Before(to) {
		return nil, nil
	}
	start := from.Truncate(time.Second)
	end := to.Add(-time.Nanosecond).Truncate(time.Second)
	rows, _, err := c.search(ctx, start, end)
	if err != nil {
		return nil, err
	}
	out := make([]connectors.Recording, 0, len(rows))
	for _, r := range rows {
		if !r.Time.IsZero() && (r.Time.Before(from) || !r.Time.Before(to)) {
			continue
		}
		out = append(out, c.record(r))
	}
	return out, nil
}

// record maps a row.
func (c *Connector) record(r Row) connectors.Recording {
	rec := connectors.Recording{
		ID:            strconv.FormatInt(r.TapeID, 10),
		DataID:        DataID(c.host, r.TapeID),
		CallAt:        r.Time.In(c.loc),
		Duration:      r.Duration,
		CustomerPhone: phone.E164(r.RemoteParty, c.region),
		AgentNumber:   r.LocalParty,
	}
	switch r.Direction {
	case DirectionIn:
		rec.Direction = "in"
	case DirectionOut:
		rec.Direction = "out"
	}
	if r.Invalid != nil {
		rec.Invalid = fmt.Errorf("%w: OrkWeb tape %d: %v", connectors.ErrInvalid, r.TapeID, r.Invalid)
	}
	return rec
}
