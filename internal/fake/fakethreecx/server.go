// Package fakethreecx is a faithful fake of a 3CX V20 PBX's Configuration API
// (XAPI) over real HTTP on loopback: the two log-ins, the Recordings
// collection with its OData query options, and Pbx.DownloadRecording, with
// knobs for every fault and every unknown that shared/sources.md lists (its
// 3CX section). It serves tests, benchmarks and `syncd -demo`.
package fakethreecx

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RoleSystemOwner is the API client role that may read recordings. Any
// other role answers 403 on Recordings.
const RoleSystemOwner = "system_owner"

// Client is an API client (Integrations → API).
type Client struct {
	Secret string
	// Role is RoleSystemOwner or a lower role such as "user"; empty means
	// RoleSystemOwner.
	Role string
}

// User is a user that logs in like the web client. Users may read
// recordings.
type User struct {
	Password string
	// MFA users answer 200 with Status "AuthFailed", a null Token and a
	// TwoFactorAuth object ({"Type":"Email"}), whatever SecurityCode they
	// send.
	MFA bool
}

// DefaultVersion is the 3CX version the fake plays unless Options.Version
// says otherwise: the one whose shapes were seen on a live PBX.
const DefaultVersion = "20.0.9"

// WrongPassword is how GetAccessToken refuses a wrong user name or
// password; both answers were seen (sources.md).
type WrongPassword int

const (
	// WrongPassword401 answers 401, as a client tested on 20.0.9 saw.
	WrongPassword401 WrongPassword = iota
	// WrongPasswordAuthFailed answers 200
	// {"Status":"AuthFailed","Token":null,"TwoFactorAuth":null}, as a
	// third-party test double assumes.
	WrongPasswordAuthFailed
)

// BadClient is how /connect/token refuses wrong client credentials.
type BadClient int

const (
	// BadClient401 answers 401 {"error":"unauthorized","error_description":…}.
	BadClient401 BadClient = iota
	// BadClient400 answers 400 {"error":"invalid_client"}, as third-party
	// test doubles assume.
	BadClient400
)

// MissingFile is how Pbx.DownloadRecording answers for a recording whose
// file is gone (Archived) or that does not exist.
type MissingFile int

const (
	// MissingFile404 answers 404.
	MissingFile404 MissingFile = iota
	// MissingFile400 answers 400 with WARNINGS.XAPI.FILE_NOT_FOUND in the
	// message, as a third-party test double assumes.
	MissingFile400
	// MissingFile400NotFound answers 400 with WARNINGS.XAPI.NOT_FOUND, the
	// warning XAPI gives for other missing entities.
	MissingFile400NotFound
)

// Refresh is where POST /connect/token with grant_type=refresh_token
// reads the refresh token a user log-in returned. Which one 3CX uses is
// not documented; third-party clients send it as the RefreshTokenCookie
// cookie (as the web client keeps it) or as the refresh_token form field.
type Refresh int

const (
	// RefreshCookie reads the RefreshTokenCookie cookie only.
	RefreshCookie Refresh = iota
	// RefreshForm reads the refresh_token form field only.
	RefreshForm
	// RefreshEither reads the form field, else the cookie.
	RefreshEither
	// RefreshUnsupported answers 400 unsupported_grant_type.
	RefreshUnsupported
)

// Options configure a fake PBX. The zero value serves nothing useful: add
// at least one Client or User.
type Options struct {
	Clients map[string]Client // by client_id
	Users   map[string]User   // by username
	// Version is the 3CX version played, "20.0.4" … "20.0.10" (default
	// DefaultVersion). Pbx.Recording has IsTranscribed and
	// TranscriptionResult from 20.0.7 and CanBeTranscribed from 20.0.8;
	// before, they are neither served nor accepted in a query. Unless
	// ExpiresUnit is set, expires_in means minutes before 20.0.9 and
	// seconds from it.
	Version string
	// SendNulls serves null properties as JSON null. A real 20.0.9 leaves
	// them out (the default); what older versions do is unknown.
	SendNulls bool
	// DnTypeNames serves FromDnType/ToDnType as enum names ("Extension")
	// instead of the int32 every swagger version declares: seen in no
	// version, for tolerance tests.
	DnTypeNames bool
	// NumericErrorCodes fills an error body's "code" with the status
	// ("400"); real XAPI bodies send "" and put WARNINGS.XAPI.<NAME> in
	// the message.
	NumericErrorCodes bool
	// WrongPassword, BadClient and MissingFile choose among the answers
	// seen for those refusals.
	WrongPassword WrongPassword
	BadClient     BadClient
	MissingFile   MissingFile
	// Refresh is how a refresh token is read; RefreshRotates makes a
	// refresh issue a new refresh token (the old one stops working)
	// instead of answering refresh_token null; RefreshCookieOnly leaves
	// refresh_token null in the log-in's body, the token coming only as a
	// Set-Cookie. Every user log-in sets the RefreshTokenCookie cookie.
	Refresh           Refresh
	RefreshRotates    bool
	RefreshCookieOnly bool
	// RefreshLifetime is how long a refresh token lives (default 60 days,
	// as seen on 20.0.8).
	RefreshLifetime time.Duration
	// ExpiresIn is the number sent in expires_in (default 60).
	ExpiresIn int
	// ExpiresUnit is what the PBX really means by it: time.Minute before
	// 20.0.9, time.Second from 20.0.9 (default: by Version). Tokens really
	// expire ExpiresIn×ExpiresUnit after they are issued, by Now.
	ExpiresUnit time.Duration
	// NoExpClaim leaves exp out of the JWT's payload.
	NoExpClaim bool
	// TopCap is the largest $top accepted (default 100; negative: no cap).
	TopCap int
	// TopClamp silently serves TopCap records for a larger $top instead of
	// answering 400, as an OData server with a page-size setting does.
	TopClamp bool
	// MaxQueryMatches answers 504 when a query matches more recordings than
	// this, as 3CX's gateway does on very large queries (0: no limit).
	MaxQueryMatches int
	// IgnoreFilter serves every recording whatever $filter says (a server
	// that ignores part or all of the filter).
	IgnoreFilter bool
	// BeforeListing, when set, is called before each GET of the
	// Recordings collection is answered (n counts them from 1), outside
	// any lock: a test changes the recordings from it, between two pages.
	BeforeListing func(n int)
	// DownloadContentType is the Content-Type of audio (default
	// "audio/x-wav"; the specification claims application/json).
	DownloadContentType string
	// TokenDelay holds every log-in this long before it answers, to widen
	// the window in which parallel log-ins would overlap.
	TokenDelay time.Duration
	// SlowDelay is how long a Slow download waits before its headers
	// (default 2s).
	SlowDelay time.Duration
	// Now is the clock tokens expire by (default time.Now).
	Now func() time.Time
	// Host is the PBX's public host name ("acme.3cx.co.th"), the issuer of
	// its tokens; default the listener's address.
	Host string
}

// Server is a running fake PBX. Its methods are safe for concurrent use.
type Server struct {
	opts   Options
	update int // the 20.0.<update> played
	url    string
	srv    *http.Server
	key    []byte // signs JWTs
	served chan struct{}

	mu       sync.RWMutex
	recs     []*Recording // sorted by (StartTime, Id) when !dirty
	byID     map[int32]*Recording
	dirty    bool
	gen      uint64            // counts changes to the recordings, for the cache
	grants   map[string]grant  // access token → grant
	current  map[string]string // principal → its one valid access token
	refresh  map[string]grant  // refresh token → grant (expires: the refresh token's)
	requests map[string]int    // by URL path
	jti      int64

	cacheMu sync.Mutex
	cache   []cacheEntry // recent queries' matches, oldest first

	tokenRequests atomic.Int64
	logins        atomic.Int64 // full sign-ins granted
	refreshes     atomic.Int64 // refreshes granted
	listings      atomic.Int64
	inFlight      atomic.Int64
	maxInFlight   atomic.Int64
	unauthorized  atomic.Int64
}

// grant is what an access token stands for.
type grant struct {
	principal string // "client:<id>" or "user:<name>"
	subject   string
	role      string
	expires   time.Time
}

// Start listens on 127.0.0.1 on a free port and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.Version == "" {
		opts.Version = DefaultVersion
	}
	update, err := parseVersion(opts.Version)
	if err != nil {
		return nil, err
	}
	if opts.ExpiresIn == 0 {
		opts.ExpiresIn = 60
	}
	if opts.ExpiresUnit == 0 {
		opts.ExpiresUnit = time.Second
		if update < 9 {
			opts.ExpiresUnit = time.Minute
		}
	}
	if opts.RefreshLifetime == 0 {
		opts.RefreshLifetime = 60 * 24 * time.Hour
	}
	if opts.TopCap == 0 {
		opts.TopCap = 100
	}
	if opts.DownloadContentType == "" {
		opts.DownloadContentType = "audio/x-wav"
	}
	if opts.SlowDelay == 0 {
		opts.SlowDelay = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake 3cx: listening on loopback: %w", err)
	}
	s := &Server{
		opts:     opts,
		update:   update,
		url:      "http://" + ln.Addr().String(),
		key:      make([]byte, 32),
		served:   make(chan struct{}),
		byID:     map[int32]*Recording{},
		grants:   map[string]grant{},
		current:  map[string]string{},
		refresh:  map[string]grant{},
		requests: map[string]int{},
	}
	_, _ = rand.Read(s.key) // never fails (crypto/rand)
	if s.opts.Host == "" {
		s.opts.Host = ln.Addr().String()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /connect/token", s.loginHandler(s.clientToken))
	mux.HandleFunc("POST /webclient/api/Login/GetAccessToken", s.loginHandler(s.userToken))
	mux.HandleFunc("GET /xapi/v1/Recordings", s.recordings)
	mux.HandleFunc("GET /xapi/v1/Recordings/{function}", s.download)
	mux.HandleFunc("/xapi/v1/", func(w http.ResponseWriter, r *http.Request) {
		// Recordings(<id>) and everything else the fake does not serve.
		if _, ok := s.authorize(w, r); ok {
			s.writeError(w, http.StatusNotFound, "No HTTP resource was found that matches the request URI.")
		}
	})
	s.srv = &http.Server{
		Handler:           s.count(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	return s, nil
}

// URL is the PBX's base URL, e.g. http://127.0.0.1:40123.
func (s *Server) URL() string { return s.url }

// Close stops the server and cuts every connection.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.served
	if err != nil {
		return fmt.Errorf("fake 3cx: closing: %w", err)
	}
	return nil
}

// Add puts r into the PBX, replacing any recording with the same ID.
func (s *Server) Add(r Recording) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addLocked(r)
}

func (s *Server) addLocked(r Recording) {
	if old, ok := s.byID[r.ID]; ok {
		*old = r
	} else {
		p := &r
		s.recs = append(s.recs, p)
		s.byID[r.ID] = p
	}
	s.dirty = true
	s.gen++
}

// SetReady makes recording id's audio complete (Ready).
func (s *Server) SetReady(id int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.byID[id]; ok {
		r.State = Ready
	}
}

// Delete removes recording id, as the PBX's auto-delete or an
// administrator does; it reports whether there was one.
func (s *Server) Delete(id int32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok {
		return false
	}
	delete(s.byID, id)
	s.recs = slices.DeleteFunc(s.recs, func(x *Recording) bool { return x == r })
	s.gen++
	return true
}

// RevokeTokens forgets every access and refresh token issued so far, as
// when the PBX restarts.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.grants)
	clear(s.current)
	clear(s.refresh)
}

// ExpireAccessTokens forgets every access token issued so far but keeps
// the refresh tokens, as when access tokens expire.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.grants)
	clear(s.current)
}

// TokenRequests counts the requests to either log-in endpoint, refreshes
// and refused ones included.
func (s *Server) TokenRequests() int { return int(s.tokenRequests.Load()) }

// Logins counts the full sign-ins granted (a client's or a user's
// credentials accepted), not refreshes.
func (s *Server) Logins() int { return int(s.logins.Load()) }

// Refreshes counts the access tokens granted for a refresh token.
func (s *Server) Refreshes() int { return int(s.refreshes.Load()) }

// Grants counts every access token granted: Logins plus Refreshes.
func (s *Server) Grants() int { return s.Logins() + s.Refreshes() }

// Listings counts the GETs of the Recordings collection.
func (s *Server) Listings() int { return int(s.listings.Load()) }

// ConcurrentTokenRequestsMax is the most log-in requests ever in flight at
// once.
func (s *Server) ConcurrentTokenRequestsMax() int { return int(s.maxInFlight.Load()) }

// Unauthorized counts the XAPI requests refused with 401 (no, a wrong, a
// revoked or an expired token).
func (s *Server) Unauthorized() int { return int(s.unauthorized.Load()) }

// Requests counts the requests whose URL path is path, e.g.
// "/xapi/v1/Recordings".
func (s *Server) Requests(path string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.requests[path]
}

func (s *Server) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// view runs f over the recordings ordered by (StartTime, Id), null
// StartTimes first, holding s.mu so that f sees them unchanged. f must not
// keep the slice.
func (s *Server) view(f func(recs []*Recording)) {
	s.mu.RLock()
	if !s.dirty {
		defer s.mu.RUnlock()
		f(s.recs)
		return
	}
	s.mu.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty {
		slices.SortFunc(s.recs, storageOrder)
		s.dirty = false
	}
	f(s.recs)
}

func storageOrder(a, b *Recording) int {
	switch {
	case a.StartTime == nil && b.StartTime != nil:
		return -1
	case a.StartTime != nil && b.StartTime == nil:
		return 1
	case a.StartTime != nil:
		if c := a.StartTime.Compare(*b.StartTime); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.ID, b.ID)
}

// writeError answers XAPI's error body: code "" (or the status with
// Options.NumericErrorCodes) and msg; a msg that is a WARNINGS.XAPI.<NAME>
// is repeated in details, as real bodies do.
func (s *Server) writeError(w http.ResponseWriter, status int, msg string) {
	code := ""
	if s.opts.NumericErrorCodes {
		code = strconv.Itoa(status)
	}
	details := []any{}
	if strings.HasPrefix(msg, "WARNINGS.XAPI.") {
		details = append(details, map[string]any{"code": code, "message": msg})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]any{"code": code, "message": msg, "details": details},
	})
}

// parseVersion reads "20.0.<update>".
func parseVersion(v string) (int, error) {
	rest, ok := strings.CutPrefix(v, "20.0.")
	n, err := strconv.Atoi(rest)
	if !ok || err != nil || n < 0 {
		return 0, fmt.Errorf("fake 3cx: version %q is not 20.0.<update>", v)
	}
	return n, nil
}

// sleep waits d or until ctx ends, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
