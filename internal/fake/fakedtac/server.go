// Package fakedtac is a faithful fake of the DTAC One Call voice record portal
// (OrecX OrkTrack, its JSON REST API under /orktrack/rest/), served over real
// HTTP on loopback, with a knob for every behaviour sources.md calls unknown.
// Tests, benchmarks and `syncd -demo` use it.
package fakedtac

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"sync"
	"time"
)

// LoginFailure is how the fake answers a log-in with wrong credentials; the
// real portal's answer is unknown.
type LoginFailure int

const (
	// LoginFails401 answers 401 with a Tomcat-style error page (the default).
	LoginFails401 LoginFailure = iota
	// LoginFails403 answers 403 with a Tomcat-style error page.
	LoginFails403
	// LoginFailsHTML200 answers 200 with the HTML sign-in page of the web UI.
	LoginFailsHTML200
	// LoginFailsHTML500 answers 500 with an HTML error page.
	LoginFailsHTML500
)

// TokenRejection is how the fake answers a request whose token is not, or
// no longer, valid. Public clients know a 401 or 403; a portal that
// answers 200 with a JSON error instead is plausible.
type TokenRejection int

const (
	// Reject401 answers 401 {"error":"not authenticated"} (the default).
	Reject401 TokenRejection = iota
	// Reject403 answers 403 {"error":"access denied"}.
	Reject403
	// Reject200InvalidAccessToken answers 200 {"error":"invalid access token"}.
	Reject200InvalidAccessToken
	// Reject200SessionExpired answers 200 {"error":"session expired"}.
	Reject200SessionExpired
	// Reject200InvalidTokenMessage answers 200 {"message":"Invalid token"}.
	Reject200InvalidTokenMessage
)

// NextPage is when a listing page carries a nextPageUri; the real portal's
// rule is unknown.
type NextPage int

const (
	// NextPageWhenMore sends nextPageUri only when rows are left past the
	// page (the default).
	NextPageWhenMore NextPage = iota
	// NextPageWhenFull sends it on every full page, the last one included
	// when it is full: a portal that does not count what is left
	// (resultCount is -1), so a listing whose total is a multiple of the
	// page size leads to a page past the data.
	NextPageWhenFull
	// NextPageAlways sends it on every page, however short (a public client
	// checks both a full page and nextPageUri before asking for more).
	NextPageAlways
)

// Options are the fake portal's accounts and knobs. The zero value serves
// the most pessimistic plausible portal: inclusive end bound, a 1000-row page
// cap, tokens that never expire on their own.
type Options struct {
	// Users maps a username (a phone number, "+66…") to its password.
	Users map[string]string
	// PageCap is the server-side cap on pagesize; 0 means 1000.
	PageCap int
	// TokenTTL expires a token that has not been used for this long
	// (measured with Now; keepalive uses it); 0 means never by time.
	TokenTTL time.Duration
	// TokenMaxRequests expires a token after that many authorised requests;
	// 0 means never.
	TokenMaxRequests int
	// RejectToken is how the listing, the audio and keepalive answer a
	// token that is not valid (expired, revoked, never issued).
	RejectToken TokenRejection
	// RejectTokenContentType, if set, is the Content-Type of RejectToken's
	// 200 answers instead of application/json (NoContentType sends none):
	// an audio stream may declare its type before it checks the token.
	RejectTokenContentType string
	// LoginFailure is how a failed log-in answers.
	LoginFailure LoginFailure
	// RevokeLogins invalidates the token of each of the first RevokeLogins
	// successful log-ins as soon as it is granted, as the portal does when
	// someone logs in to it with the same account: the first request with
	// it answers 401. -1 invalidates every one.
	RevokeLogins int
	// EndExclusive makes the enddate bound exclusive. By default it is
	// inclusive: OrkTrack's rule is unknown, and a connector must cope with
	// either.
	EndExclusive bool
	// RepeatPages makes a broken server that serves page 1 again for every
	// page, always with a nextPageUri.
	RepeatPages bool
	// NextPageHost, if set ("host:port" or "http://host:port"), makes
	// nextPageUri and prevPageUri point at this other host.
	NextPageHost string
	// RecordingURLHost, if set ("host:port" or "http://host:port"), makes
	// recordingURL and waveformURL point at this other host.
	RecordingURLHost string
	// StringIDs renders recording ids as JSON strings ("100659220") instead
	// of numbers.
	StringIDs bool
	// OmitPageSize leaves pageSize out of the listing's answer.
	OmitPageSize bool
	// ResultLimit caps every listing at this many results, whatever
	// maxresults asks; 0 means no cap of its own. Every page of a capped
	// listing answers limitReached: true (unless LimitReachedOnLastPage).
	ResultLimit int
	// LimitReachedOnLastPage answers limitReached: true on the last page of
	// every listing (the page without a nextPageUri, however short) and
	// false on the others, as one public client reads the flag: "this is
	// the last page". With ResultLimit, the last page is the one the cap
	// ends on, which may be short.
	LimitReachedOnLastPage bool
	// NextPage says when a page carries a nextPageUri.
	NextPage NextPage
	// ServerErrorPastLastPage answers HTTP 500 (a Tomcat error page) to a
	// page after the first that lies past the available data, as a public
	// client reports OrkTrack does ("always 500s for page numbers beyond the
	// available data"). By default such a page is an empty one: 200 with
	// "objects": [].
	ServerErrorPastLastPage bool
	// NewestFirst lists the newest recording first. By default the oldest
	// comes first: the REST API's order is not documented.
	NewestFirst bool
	// InsertPerPage adds this many new recordings at the head of the
	// listing's order before answering each page after the first, as calls
	// landing while a client pages shift every offset: the last rows of a
	// page come again at the top of the next. They lie on the window's first
	// second (oldest first) or its last (NewestFirst), with ids from
	// 8000000001.
	InsertPerPage int
	// ContentType, if set, is the Content-Type every audio answer is
	// served with, instead of its format's own (audio/x-wav, audio/mpeg):
	// "application/octet-stream", say. NoContentType sends none. A
	// recording's own ContentType wins over it.
	ContentType string
	// Now is the clock for token lifetimes; nil means time.Now.
	Now func() time.Time
}

// Server is a running fake portal. It is safe for concurrent use.
type Server struct {
	opts     Options
	users    map[string]string
	now      func() time.Time
	pageCap  int
	url      string
	nextBase string
	mediaURL string

	ln  net.Listener
	srv *http.Server

	mu           sync.Mutex
	recs         []*Recording // sorted by (second, ID) unless dirty
	dirty        bool
	byID         map[int64]*Recording
	sessions     map[string]*session
	logins       int
	requests     map[string]int
	inserted     int64 // recordings InsertPerPage added
	failPages    int   // listing requests FailPages still fails
	failFromPage int   // the first page number FailPages fails

	rowsServed int
}

type session struct {
	lastUsed time.Time
	used     int
}

// Start serves a fake portal on 127.0.0.1 at a free port until Close.
func Start(opts Options) (*Server, error) {
	if opts.PageCap < 0 || opts.TokenMaxRequests < 0 || opts.TokenTTL < 0 {
		return nil, errors.New("fake dtac: PageCap, TokenMaxRequests and TokenTTL must not be negative")
	}
	if opts.RejectToken < Reject401 || opts.RejectToken > Reject200InvalidTokenMessage {
		return nil, errors.New("fake dtac: unknown RejectToken")
	}
	if opts.NextPage < NextPageWhenMore || opts.NextPage > NextPageAlways {
		return nil, errors.New("fake dtac: unknown NextPage")
	}
	if opts.InsertPerPage < 0 || opts.ResultLimit < 0 {
		return nil, errors.New("fake dtac: InsertPerPage and ResultLimit must not be negative")
	}
	if opts.RevokeLogins < -1 {
		return nil, errors.New("fake dtac: RevokeLogins must be -1 (every log-in) or more")
	}
	s := &Server{
		opts:     opts,
		users:    maps.Clone(opts.Users),
		now:      opts.Now,
		pageCap:  opts.PageCap,
		byID:     map[int64]*Recording{},
		sessions: map[string]*session{},
		requests: map[string]int{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.pageCap == 0 {
		s.pageCap = 1000
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake dtac: listen on loopback: %w", err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.nextBase, s.mediaURL = s.url, s.url
	if opts.NextPageHost != "" {
		s.nextBase = baseOf(opts.NextPageHost)
	}
	if opts.RecordingURLHost != "" {
		s.mediaURL = baseOf(opts.RecordingURLHost)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /orktrack/rest/user/login", s.handleLogin)
	mux.HandleFunc("GET /orktrack/rest/recordings", s.handleRecordings)
	mux.HandleFunc("GET /orktrack/rest/mediastream/{id}", s.handleMedia)
	mux.HandleFunc("GET /orktrack/rest/keepalive", s.handleKeepalive)
	s.srv = &http.Server{
		Handler:           s.count(mux),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func baseOf(host string) string {
	for _, p := range []string{"http://", "https://"} {
		if len(host) > len(p) && host[:len(p)] == p {
			return host
		}
	}
	return "http://" + host
}

// URL is the portal's base URL, "http://127.0.0.1:<port>", without a
// trailing slash.
func (s *Server) URL() string { return s.url }

// Close stops the server and drops its connections.
func (s *Server) Close() error { return s.srv.Close() }

// ExpireSessions forgets every token the fake issued, as the portal does
// when sessions time out.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// FailPages makes the next n listing requests for a page numbered minPage
// or more answer HTTP 500, whatever the data: the transient errors a
// public client reports OrkTrack answers under load.
func (s *Server) FailPages(n, minPage int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failPages, s.failFromPage = n, minPage
}

// failPage reports whether FailPages fails this request for page.
func (s *Server) failPage(page int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failPages > 0 && page >= s.failFromPage {
		s.failPages--
		return true
	}
	return false
}

// Logins counts the successful log-ins (tokens granted).
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// RowsServed counts the recordings served in listing pages, a recording
// served twice counting twice.
func (s *Server) RowsServed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rowsServed
}

// Requests counts the requests the fake received for path (a URL path such
// as "/orktrack/rest/recordings"), answered or refused.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

func (s *Server) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// authorise reports whether token is a live session, and counts the
// request against it.
func (s *Server) authorise(token string) bool {
	if token == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ses, ok := s.sessions[token]
	if !ok {
		return false
	}
	now := s.now()
	if (s.opts.TokenTTL > 0 && now.Sub(ses.lastUsed) >= s.opts.TokenTTL) ||
		(s.opts.TokenMaxRequests > 0 && ses.used >= s.opts.TokenMaxRequests) {
		delete(s.sessions, token)
		return false
	}
	ses.used++
	ses.lastUsed = now
	return true
}

func (s *Server) handleKeepalive(w http.ResponseWriter, r *http.Request) {
	if !s.authorise(r.Header.Get("Authorization")) {
		s.unauthorised(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"alive":true}` + "\n"))
}

// unauthorised answers a request whose token is not valid, as RejectToken
// says.
func (s *Server) unauthorised(w http.ResponseWriter) {
	code, body := http.StatusUnauthorized, `{"error":"not authenticated"}`
	switch s.opts.RejectToken {
	case Reject403:
		code, body = http.StatusForbidden, `{"error":"access denied"}`
	case Reject200InvalidAccessToken:
		code, body = http.StatusOK, `{"error":"invalid access token"}`
	case Reject200SessionExpired:
		code, body = http.StatusOK, `{"error":"session expired"}`
	case Reject200InvalidTokenMessage:
		code, body = http.StatusOK, `{"message":"Invalid token"}`
	}
	switch ctype := s.opts.RejectTokenContentType; {
	case code != http.StatusOK || ctype == "":
		w.Header().Set("Content-Type", "application/json")
	case ctype == NoContentType:
		w.Header()["Content-Type"] = nil
	default:
		w.Header().Set("Content-Type", ctype)
	}
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body + "\n"))
}
