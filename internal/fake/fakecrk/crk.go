// Package crk is a faithful fake of the CRK Call Recording AI API, served
// over real HTTP on loopback: the /api/v1 endpoints syncd uses (whoami,
// create, reextract, list, and the notification gateway's send,
// destinations and Telegram chats) with their auth, scope, business and
// rate-limit rules and error shapes, plus an S3-like object store behind the
// presigned upload URLs. Knobs serve every answer the API's documentation leaves
// unknown, and faults (errors, latency, dropped connections) can be injected
// at random or one request at a time. It is used by tests, benchmarks and
// `syncd -demo`.
//
// Choices where the documentation is silent:
//   - a body of POST /recordings that is not a JSON object is 422
//     validation_failed (the documented code for an invalid payload);
//   - a business key's X-Business-Id header is ignored;
//   - a PUT to storage that carries an Authorization header is refused with
//     400 InvalidArgument, as S3 does: the token must never reach storage;
//   - the ETag of an upload is the first 16 bytes of its SHA-256, quoted;
//   - dataId's limit of 255 counts characters, not bytes;
//   - GET /recordings sorts newest callAt first by default, echoes callAt as
//     posted, answers tag, score, customerPhone and audioUrl as null when
//     unset, and transcriptUrl and summaryUrl as null until processed (URLs
//     the fake does not serve); a date-only callDateFrom/callDateTo is a UTC
//     day, the whole of it included;
//   - view_recording_self (without view_recording_all) sees the recordings
//     whose UserID is the key's Token.UserID;
//   - the notification endpoints are data endpoints (account keys name a
//     business); a send body that is not a JSON object, or whose title or
//     body is empty, whose link is not an absolute http(s) URL or whose
//     severity is not info, warning or critical, is 422 validation_failed;
//     chatId and webhookId may be strings or numbers; a send answers 200
//     {"ok":true,"id":"msg-N"}; GET /telegram/chats answers
//     {"items":[{"id","chatId","title","isActive"}]}; the shape of GET
//     /notifications/destinations and the scope it needs are knobs
//     (GatewayBehaviour).
package fakecrk

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server.
type Options struct {
	Businesses []Business
	// Tokens are keyed by the raw token ("crk_..."). Account keys reach the
	// businesses listed in Members[UserID].
	Tokens map[string]Token
	// Members maps a user id to the ids of the businesses the user belongs to.
	Members map[string][]string
	// RateLimit is requests per minute per token on /api/v1 endpoints;
	// 0 means unlimited.
	RateLimit int
	// Burst is the token-bucket capacity; 0 means max(1, RateLimit/60).
	Burst int
	// Now is the clock for URL expiry, the rate limit and the time AI
	// processing takes (Behaviour.ProcessingDoneAfter); nil means time.Now.
	// The fake reads no other clock, and sleeps only for Faults.Latency, so
	// a test driving Now runs as fast as the requests go.
	Now func() time.Time
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// TelegramChats and DiscordWebhooks seed the notification gateway's
	// destinations (see also AddTelegramChat, AddDiscordWebhook).
	TelegramChats   []TelegramChat
	DiscordWebhooks []DiscordWebhook
}

// Server is a running fake. Every method is safe for concurrent use.
type Server struct {
	now    func() time.Time
	log    *slog.Logger
	secret []byte

	businesses map[string]Business
	tokens     map[string]Token
	members    map[string][]string

	behaviour atomic.Pointer[Behaviour]
	faults    faultState
	stats     stats
	limiter   *limiter
	store     store
	gw        gateway
	requestID atomic.Uint64

	conns atomic.Int64 // client connections open

	base    string
	srv     *http.Server
	served  chan struct{}
	serveMu sync.Mutex
	closed  bool
	err     error
}

// Start validates opts and serves the fake on 127.0.0.1 on a free port
// until Close.
func Start(opts Options) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("crk fake: listen on loopback: %w", err)
	}
	s.base = "http://" + ln.Addr().String()
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnState:         s.connState,
	}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.serveMu.Lock()
			s.err = fmt.Errorf("crk fake: serve: %w", err)
			s.serveMu.Unlock()
		}
	}()
	return s, nil
}

func newServer(opts Options) (*Server, error) {
	s := &Server{
		now:        opts.Now,
		log:        opts.Logger,
		businesses: make(map[string]Business, len(opts.Businesses)),
		tokens:     make(map[string]Token, len(opts.Tokens)),
		members:    make(map[string][]string, len(opts.Members)),
		store:      newStore(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, b := range opts.Businesses {
		if b.ID == "" {
			return nil, errors.New("crk fake: a business has an empty id")
		}
		if _, dup := s.businesses[b.ID]; dup {
			return nil, fmt.Errorf("crk fake: business %q listed twice", b.ID)
		}
		s.businesses[b.ID] = b
	}
	i := 0
	for raw, t := range opts.Tokens {
		i++
		switch t.Level {
		case "", LevelBusiness:
			t.Level = LevelBusiness
			if t.BusinessID == "" {
				// The raw token is a secret: name the key by position only.
				return nil, fmt.Errorf("crk fake: a business key (one of %d) has no BusinessID", len(opts.Tokens))
			}
		case LevelAccount:
			if t.UserID == "" {
				return nil, fmt.Errorf("crk fake: an account key (one of %d) has no UserID", len(opts.Tokens))
			}
			if len(t.Scopes) == 0 {
				t.Scopes = []string{ScopeManageAll}
			}
		default:
			return nil, fmt.Errorf("crk fake: a key has unknown level %q", t.Level)
		}
		t.Scopes = append([]string(nil), t.Scopes...)
		s.tokens[raw] = t
	}
	for u, bs := range opts.Members {
		s.members[u] = append([]string(nil), bs...)
	}
	if opts.RateLimit < 0 || opts.Burst < 0 {
		return nil, errors.New("crk fake: RateLimit and Burst must not be negative")
	}
	s.limiter = newLimiter(opts.RateLimit, opts.Burst)
	s.secret = make([]byte, 32)
	if _, err := rand.Read(s.secret); err != nil {
		return nil, fmt.Errorf("crk fake: make signing secret: %w", err)
	}
	s.gw.chats = append([]TelegramChat(nil), opts.TelegramChats...)
	s.gw.webhooks = append([]DiscordWebhook(nil), opts.DiscordWebhooks...)
	s.behaviour.Store(&Behaviour{})
	s.faults.set(Faults{})
	return s, nil
}

func (s *Server) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		s.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		s.conns.Add(-1)
	}
}

// WaitIdle waits until no client connection is open: every request that
// reached the fake has been served (its work done, whatever became of its
// answer) and its connection closed. A test that kills a client mid-request
// calls it, after closing that client's idle connections, so that a request
// still on the wire lands before anyone asks what became of it.
func (s *Server) WaitIdle(ctx context.Context) error {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for s.conns.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("crk fake: %d connections still open: %w", s.conns.Load(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// URL is the API's base URL, e.g. http://127.0.0.1:40123/api/v1.
func (s *Server) URL() string { return s.base + apiPathPrefix }

// Close stops the server at once, closing every connection.
func (s *Server) Close() error {
	s.serveMu.Lock()
	if s.closed {
		s.serveMu.Unlock()
		return nil
	}
	s.closed = true
	s.serveMu.Unlock()
	if err := s.srv.Close(); err != nil {
		return fmt.Errorf("crk fake: close: %w", err)
	}
	<-s.served
	s.serveMu.Lock()
	defer s.serveMu.Unlock()
	return s.err
}

// Handler is the fake as an http.Handler. Upload URLs it hands out point at
// the host the request was addressed to.
func (s *Server) Handler() http.Handler { return s }

// route is one endpoint of the fake, found from a request's path.
type route struct {
	ep    Endpoint
	api   bool   // an /api/v1 endpoint (JSON errors, auth), else storage
	allow string // the methods the path answers
	serve func(w http.ResponseWriter, r *http.Request, p *principal)
	scope []string // any of these satisfies the endpoint; nil = none needed
	data  bool     // a data endpoint: account keys must name a business
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.route(r)
	if !ok {
		if strings.HasPrefix(r.URL.Path, storagePathPrefix) {
			writeS3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", s.nextRequestID())
			return
		}
		writeAPIError(w, http.StatusNotFound, "not_found", "no such endpoint")
		return
	}
	if !methodAllowed(rt.allow, r.Method) {
		w.Header().Set("Allow", rt.allow)
		if rt.api {
			writeAPIError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method "+r.Method+" not allowed")
		} else {
			writeS3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.", s.nextRequestID())
		}
		return
	}
	s.serve(w, r, rt)
}

func methodAllowed(allow, method string) bool {
	for m := range strings.SplitSeq(allow, ", ") {
		if m == method {
			return true
		}
	}
	return false
}

func (s *Server) route(r *http.Request) (route, bool) {
	p := r.URL.Path
	switch {
	case p == whoamiPath:
		return route{ep: EndpointWhoami, api: true, allow: http.MethodGet, serve: s.whoami}, true
	case p == recordingsPath:
		rt := route{api: true, allow: "GET, POST", data: true}
		if r.Method == http.MethodPost {
			rt.ep, rt.serve, rt.scope = EndpointCreate, s.create, []string{ScopeManageCall}
		} else {
			rt.ep, rt.serve, rt.scope = EndpointList, s.list, []string{ScopeViewAll, ScopeViewSelf}
		}
		return rt, true
	case strings.HasPrefix(p, recordingsPath+"/"):
		id, tail, ok := strings.Cut(strings.TrimPrefix(p, recordingsPath+"/"), "/")
		if !ok || id == "" || tail != reextractPathSuffix {
			return route{}, false
		}
		return route{ep: EndpointReextract, api: true, allow: http.MethodPost, serve: s.reextract,
			scope: []string{ScopeManageCall}, data: true}, true
	case strings.HasPrefix(p, storagePathPrefix):
		return route{ep: EndpointUpload, allow: http.MethodPut, serve: s.upload}, true
	case p == notifySendPath:
		return route{ep: EndpointNotify, api: true, allow: http.MethodPost, serve: s.notify,
			scope: []string{ScopeManageNotifications}, data: true}, true
	case p == destinationsPath:
		return route{ep: EndpointDestinations, api: true, allow: http.MethodGet, serve: s.destinations,
			scope: s.readScopes(), data: true}, true
	case p == telegramChatsPath:
		return route{ep: EndpointTelegramChats, api: true, allow: http.MethodGet, serve: s.telegramChats,
			scope: s.readScopes(), data: true}, true
	}
	return route{}, false
}

// serve runs the pipeline every routed request goes through: counting,
// injected latency and faults, auth, rate limit, the endpoint's work, and a
// dropped connection when one is due.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt route) {
	s.stats.begin(rt.ep)
	sw := &statusWriter{ResponseWriter: w, stats: &s.stats, ep: rt.ep}
	defer func() {
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "crk fake request",
			slog.String("endpoint", string(rt.ep)), slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Int("status", sw.code))
	}()

	d := s.faults.decide(rt.ep, rt.api)
	if d.latency > 0 && !sleep(r.Context(), d.latency) {
		sw.record(0)
		return
	}
	if d.status != 0 {
		if rt.api {
			if d.status == http.StatusTooManyRequests {
				sw.Header().Set("Retry-After", "1")
			}
			writeAPIError(sw, d.status, d.code, "injected fault")
		} else {
			code, msg := s3ErrorFor(d.status)
			if d.code == codeURLExpired {
				code, msg = "AccessDenied", "Request has expired"
			}
			writeS3Error(sw, d.status, code, msg, s.nextRequestID())
		}
		return
	}

	var out http.ResponseWriter = sw
	if d.drop || d.after != 0 {
		out = &discardWriter{h: http.Header{}}
	}
	var p *principal
	if rt.api {
		var e *apiErr
		if p, e = s.authorize(r, rt); e != nil {
			if e.retryAfter != "" {
				out.Header().Set("Retry-After", e.retryAfter)
			}
			writeAPIError(out, e.status, e.code, e.message)
		}
	}
	if p != nil || !rt.api {
		rt.serve(out, r, p)
	}
	if d.after != 0 {
		// The work is done; the answer says it failed.
		if rt.api {
			writeAPIError(sw, d.after, d.afterCode, "injected fault after the work")
		} else {
			code, msg := s3ErrorFor(d.after)
			writeS3Error(sw, d.after, code, msg, s.nextRequestID())
		}
		return
	}
	if !d.drop && !sw.done {
		sw.WriteHeader(http.StatusOK)
	}
	if d.drop {
		sw.record(0)
		hangUp(w)
	}
}

// sleep waits d or until ctx is done, reporting whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// hangUp closes the request's connection without a response.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server closes the connection itself
	}
	_ = conn.Close()
}

func (s *Server) nextRequestID() string {
	return fmt.Sprintf("%016X", s.requestID.Add(1))
}
