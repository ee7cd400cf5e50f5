// Package threecx is a faithful fake of a 3CX V20 PBX's Configuration API
// (XAPI) over real HTTP on loopback: the two log-ins, the Recordings
// collection with its OData query options, and Pbx.DownloadRecording, with
// knobs for every fault and every unknown that shared/sources.md lists (its
// 3CX section). It serves tests, benchmarks and `syncd -demo`.
package threecx

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
	// MFA users answer 200 with Status "TwoFactorRequired" and no token,
	// whatever SecurityCode they send.
	MFA bool
}

// Options configure a fake PBX. The zero value serves nothing useful: add
// at least one Client or User.
type Options struct {
	Clients map[string]Client // by client_id
	Users   map[string]User   // by username
	// ExpiresIn is the number sent in expires_in (default 60).
	ExpiresIn int
	// ExpiresUnit is what the PBX really means by it: time.Minute before
	// 20.0.9 (the default), time.Second from 20.0.9. Tokens really expire
	// ExpiresIn×ExpiresUnit after they are issued, by Now.
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
	// NumericDnType serves FromDnType/ToDnType as integers (0 Extension,
	// 1 ExternalLine, …) as the published OpenAPI description types them,
	// instead of enum names.
	NumericDnType bool
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
	requests map[string]int    // by URL path
	jti      int64

	cacheMu sync.Mutex
	cache   []cacheEntry // recent queries' matches, oldest first

	tokenRequests atomic.Int64
	inFlight      atomic.Int64
	maxInFlight   atomic.Int64
	unauthorized  atomic.Int64
}

// grant is what an access token stands for.
type grant struct {
	principal string // "client:<id>" or "user:<name>"
	role      string
	expires   time.Time
}

// Start listens on 127.0.0.1 on a free port and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.ExpiresIn == 0 {
		opts.ExpiresIn = 60
	}
	if opts.ExpiresUnit == 0 {
		opts.ExpiresUnit = time.Minute
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
		url:      "http://" + ln.Addr().String(),
		key:      make([]byte, 32),
		served:   make(chan struct{}),
		byID:     map[int32]*Recording{},
		grants:   map[string]grant{},
		current:  map[string]string{},
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
			writeError(w, http.StatusNotFound, "404", "No HTTP resource was found that matches the request URI.")
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

// RevokeTokens forgets every access token issued so far, as when tokens
// expire or the PBX restarts.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.grants)
	clear(s.current)
}

// TokenRequests counts the requests to either log-in endpoint.
func (s *Server) TokenRequests() int { return int(s.tokenRequests.Load()) }

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

// writeError answers XAPI's error body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]any{"code": code, "message": msg, "details": []any{}},
	})
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
