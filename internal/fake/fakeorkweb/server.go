// Package fakeorkweb is a faithful fake of a self-hosted Oreka's OrkWeb (the
// open-source Tapestry 4.0.2 web UI under /orkweb/app), served over real
// HTTP on loopback: its log-in page, its recordings list with the session's
// stateful paging, Tapestry's "Stale Session", "Stale Link" and "Exception"
// pages, Tomcat's sessions (the JSESSIONID cookie and the ;jsessionid= URL
// rewriting, expiry after 30 minutes idle) and the audio files, in both
// flavours: OrecX's (/audio/…) and the voiceip fork's (/orkweb/stream/…).
//
// The pages follow ../shared/orkweb/*.html element for element; the
// behaviours follow OrkWeb's own code (OrecX/Oreka @ 995fe51, the voiceip/oreka
// fork @ 523705a) and Tapestry 4.0.2's (apache/tapestry4 tag 4.0.2), cited
// where each is served. Tests, benchmarks and `syncd -demo` use it.
package fakeorkweb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Flavour is which OrkWeb the fake serves.
type Flavour int

const (
	// OrecX is the original OrkWeb: the play cell is
	// javascript:play('http://<recorder-host>:8080/audio/…'), the audio is
	// Tomcat's static /audio context (Range, Content-Length, 404 when the
	// file is missing). The default.
	OrecX Flavour = iota
	// VoiceIP is the voiceip/oreka fork: the play cell is
	// <a class="play-button" href="#" data-path="YYYY/MM/DD/HH/….wav">,
	// played from /orkweb/stream/<path> by its TapeStream servlet (no
	// Content-Length, no Range, 500 when the file is missing). Its search
	// matches parties by prefix (LIKE 'x%').
	VoiceIP
)

// String names the flavour.
func (f Flavour) String() string {
	switch f {
	case OrecX:
		return "OrecX"
	case VoiceIP:
		return "voiceip"
	}
	return fmt.Sprintf("Flavour(%d)", int(f))
}

// NoContentType as Options.StreamContentType sends voiceip's audio without
// a Content-Type (Files.probeContentType may find none).
const NoContentType = "\x00none"

// ResultsPerPage is OrkWeb's page size (TableState.DEFAULT_RESULTS_PER_PAGE;
// the UI cannot change it).
const ResultsPerPage = 10

// DefaultSessionTimeout is Tomcat's default session lifetime, idle.
const DefaultSessionTimeout = 30 * time.Minute

// Options are the fake's accounts and knobs. The zero value serves the
// OrecX flavour, the server in Bangkok's zone (ICT, UTC+7), an English
// locale, admin/admin, 30-minute sessions and no latency.
type Options struct {
	// Users maps a log-in string to its password (plaintext, as in
	// orkuser); nil means a fresh install's admin/admin.
	Users map[string]string
	// Flavour is OrecX (the default) or VoiceIP.
	Flavour Flavour
	// Location is the JVM's default time zone: the table's times, the
	// search form's dates and the "Generated:" comment are in it. nil
	// means ICT (UTC+7, no DST).
	Location *time.Location
	// ThaiLocale is a JVM whose default locale is th_TH: the search
	// form's date fields show and parse Buddhist-Era years (2569 for
	// 2026; "2026-…" parses as 1483 CE), while the table stays Gregorian
	// (java.sql.Timestamp.toString). SetThaiLocale changes it later.
	ThaiLocale bool
	// SessionTimeout expires a session idle this long (measured with
	// Now); 0 means Tomcat's 30 minutes.
	SessionTimeout time.Duration
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
	// AudioLinkHost, if set ("host" or "host:port"), is the recorder
	// host named in OrecX's play links, as the recorder reported itself
	// (orkservice.hostname): "oreka-rec01:8080", or a name that does not
	// resolve. By default the links name the fake's own address.
	AudioLinkHost string
	// InsertPerPage adds this many recordings to the session's search
	// window before answering each paging link (first, previous, next,
	// last, slider): calls landing in a window that includes now. They
	// lie on the window's last second, so newest first they come at the
	// top, and the total changes: OrkWeb then resets the offset
	// (TableState.setNumResults). Their tape ids count from 9000001.
	InsertPerPage int
	// InsertPages limits InsertPerPage to the first InsertPages paging
	// links the server answers (0: every one), so that a walk can end.
	InsertPages int
	// ShuffleTies orders recordings with equal timestamps differently on
	// every query, as MySQL may (ORDER BY timestamp alone): such rows can
	// move between pages. By default ties are ordered by tape id, the
	// newest first.
	ShuffleTies bool
	// DatabaseDown is a database OrkWeb cannot reach: every log-in answers
	// "Invalid login or password" (UserServiceHbn swallows the error) and
	// every search "There were no results" (RecSegmentServiceHbn does
	// too). SetDatabaseDown changes it later.
	DatabaseDown bool
	// PageLatency delays every answer of /orkweb/app by this much (a slow
	// server); SetPageLatency changes it later.
	PageLatency time.Duration
	// Sleep is how the fake waits PageLatency; nil means a real timer
	// (cut short when the request is cancelled). A fake clock's Advance
	// makes a slow server cost no real time.
	Sleep func(ctx context.Context, d time.Duration)
	// StreamContentType is the Content-Type of voiceip's audio stream
	// (Files.probeContentType's guess); "" means audio/x-wav,
	// NoContentType none.
	StreamContentType string
}

// Server is a running fake OrkWeb. It is safe for concurrent use.
type Server struct {
	opts    Options
	users   map[string]string
	now     func() time.Time
	loc     *time.Location
	timeout time.Duration
	url     string
	host    string // host:port of the listener

	ln  net.Listener
	srv *http.Server

	// app serialises the application's request handling (not the latency
	// wait), so that a session's state is never touched by two at once.
	app sync.Mutex

	mu       sync.Mutex
	thai     bool
	dbDown   bool
	latency  time.Duration
	recs     []*Recording // sorted newest first (time desc, tape id desc) unless dirty
	dirty    bool
	byTape   map[int64]*Recording
	byFile   map[string]*Recording
	sessions map[string]*session
	requests map[string]int
	stats    Stats
	inserted int64
	insertAt int    // paging links answered, for InsertPages
	queries  uint64 // searches run, for ShuffleTies
}

// Stats are the fake's counters since Start.
type Stats struct {
	// SessionsCreated counts the sessions Tomcat created.
	SessionsCreated int
	// Logins counts successful log-ins; LoginsFailed the log-in forms
	// answered "Invalid login or password".
	Logins, LoginsFailed int
	// LoginPages counts answers that were the log-in page (Home): fresh,
	// failed, or a dead session's.
	LoginPages int
	// StaleSessions, StaleLinks and Exceptions count Tapestry's error
	// pages served.
	StaleSessions, StaleLinks, Exceptions int
	// Searches counts search form submissions; PagingLinks the paging
	// links followed (first, previous, next, last, slider).
	Searches, PagingLinks int
	// ResultPages counts recordings pages with a table; NoResultPages
	// those saying "There were no results".
	ResultPages, NoResultPages int
	// RowsServed counts the rows of every table served (a row served
	// twice counts twice).
	RowsServed int
	// OffsetResets counts renders where the total had changed since the
	// session's last one, so OrkWeb put the offset back to 0.
	OffsetResets int
	// AudioServed counts audio answers with a body; AudioMissing those
	// refused because the file is missing.
	AudioServed, AudioMissing int
	// Inserted counts the recordings InsertPerPage added.
	Inserted int
}

// Start serves a fake OrkWeb on 127.0.0.1 at a free port until Close.
func Start(opts Options) (*Server, error) {
	if opts.Flavour != OrecX && opts.Flavour != VoiceIP {
		return nil, errors.New("fakeorkweb: unknown Flavour")
	}
	if opts.SessionTimeout < 0 || opts.InsertPerPage < 0 || opts.InsertPages < 0 || opts.PageLatency < 0 {
		return nil, errors.New("fakeorkweb: SessionTimeout, InsertPerPage, InsertPages and PageLatency must not be negative")
	}
	s := &Server{
		opts:     opts,
		users:    maps.Clone(opts.Users),
		now:      opts.Now,
		loc:      opts.Location,
		timeout:  opts.SessionTimeout,
		thai:     opts.ThaiLocale,
		dbDown:   opts.DatabaseDown,
		latency:  opts.PageLatency,
		byTape:   map[int64]*Recording{},
		byFile:   map[string]*Recording{},
		sessions: map[string]*session{},
		requests: map[string]int{},
	}
	if s.users == nil {
		s.users = map[string]string{"admin": "admin"}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		s.loc = ICT
	}
	if s.timeout == 0 {
		s.timeout = DefaultSessionTimeout
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakeorkweb: listen on loopback: %w", err)
	}
	s.ln = ln
	s.host = ln.Addr().String()
	s.url = "http://" + s.host
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serve),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// ICT is Indochina Time, UTC+7 without DST, the zone of a server in
// Thailand and the fake's default.
var ICT = time.FixedZone("ICT", 7*60*60)

// URL is the server's base URL, "http://127.0.0.1:<port>" without a
// trailing slash; OrkWeb is under URL()+"/orkweb/".
func (s *Server) URL() string { return s.url }

// Close stops the server and drops its connections.
func (s *Server) Close() error { return s.srv.Close() }

// Location is the server's time zone.
func (s *Server) Location() *time.Location { return s.loc }

// Flavour is the flavour the fake serves.
func (s *Server) Flavour() Flavour { return s.opts.Flavour }

// ExpireSessions ends every session, as Tomcat does when they time out or
// restarts: the next request with an old id finds none.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// SetDatabaseDown makes the database unreachable (true) or back (false).
func (s *Server) SetDatabaseDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dbDown = down
}

// SetThaiLocale switches the JVM's default locale to th_TH (true) or back.
func (s *Server) SetThaiLocale(thai bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.thai = thai
}

// SetPageLatency sets the delay of every later /orkweb/app answer.
func (s *Server) SetPageLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = max(d, 0)
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Requests counts the requests received for path, a URL path without
// ";jsessionid=…" ("/orkweb/app", "/audio/2024/03/01/14/x.wav").
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// Sessions counts the live sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	n := 0
	for _, ses := range s.sessions {
		if !s.expired(ses, now) {
			n++
		}
	}
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path, pathSession := splitSessionParam(r.URL.Path)
	s.mu.Lock()
	s.requests[path]++
	s.mu.Unlock()
	switch {
	case path == "/orkweb":
		http.Redirect(w, r, "/orkweb/", http.StatusFound)
	case path == "/orkweb/":
		// Tapestry's RedirectFilter sends the context root to the servlet.
		http.Redirect(w, r, "/orkweb/app", http.StatusFound)
	case path == "/orkweb/app":
		s.wait(r.Context())
		s.serveApp(w, r, pathSession)
	case s.opts.Flavour == OrecX && strings.HasPrefix(path, audioPrefix):
		s.serveStatic(w, r, strings.TrimPrefix(path, audioPrefix))
	case s.opts.Flavour == VoiceIP && strings.HasPrefix(path, streamPrefix):
		s.serveStream(w, r, strings.TrimPrefix(path, streamPrefix))
	default:
		tomcatError(w, http.StatusNotFound, "The requested resource ["+path+"] is not available")
	}
}

// wait delays an answer by the page latency.
func (s *Server) wait(ctx context.Context) {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	if d <= 0 {
		return
	}
	if s.opts.Sleep != nil {
		s.opts.Sleep(ctx, d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// splitSessionParam cuts Tomcat's ";jsessionid=…" path parameter off a
// URL path: "/orkweb/app;jsessionid=AB" → "/orkweb/app", "AB".
func splitSessionParam(p string) (path, id string) {
	i := strings.Index(p, ";")
	if i < 0 {
		return p, ""
	}
	path, params := p[:i], p[i+1:]
	for _, kv := range strings.Split(params, ";") {
		if v, ok := strings.CutPrefix(kv, "jsessionid="); ok {
			id = v
		}
	}
	return path, id
}

func tomcatError(w http.ResponseWriter, code int, message string) {
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>HTTP Status %[1]d – %[2]s</title>`+
		`<style type="text/css">body {font-family:Tahoma,Arial,sans-serif;}</style></head>`+
		`<body><h1>HTTP Status %[1]d – %[2]s</h1><hr class="line" /><p><b>Type</b> Status Report</p>`+
		`<p><b>Description</b> %[3]s</p><hr class="line" /><h3>Apache Tomcat/8.5.40</h3></body></html>`,
		code, http.StatusText(code), htmlEscape(message))
}
