package fakecrk

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Faults are injected at random, per request.
type Faults struct {
	// P500, P503, P429 and PDrop are probabilities per request: 500
	// internal_error, 503 (internal_error; storage: SlowDown) and 429
	// rate_limited answer before doing the work; PDrop does the work, then
	// closes the connection without a response. P429 applies to API
	// endpoints only; P500, P503 and PDrop also to the storage PUT.
	P500, P503, P429, PDrop float64
	// P500After is a probability per request of doing the work, then
	// answering 500 internal_error (storage: InternalError): CRK acted, the
	// client is told it failed. On reextract this is the dangerous case: the
	// business was charged and the client cannot tell.
	P500After float64
	// Latency is added, in real time, before answering each request; 0
	// (the default) never sleeps nor starts a timer.
	Latency time.Duration
	// Seed seeds the random draws: given a seed, the sequence of draws is
	// deterministic.
	Seed int64
	// URLExpiry is the lifetime of presigned upload URLs; 0 means 15
	// minutes. It is announced in whole seconds, at least one.
	URLExpiry time.Duration
}

// codeURLExpired marks an injected storage failure that answers exactly as
// an expired presigned URL does.
const codeURLExpired = "url_expired"

// ExpireNextUploads makes the next n PUTs to storage answer as if their
// presigned URL had expired (403 AccessDenied "Request has expired"),
// whatever the URL's real expiry.
func (s *Server) ExpireNextUploads(n int) {
	s.FailNextError(EndpointUpload, http.StatusForbidden, codeURLExpired, n)
}

// SetFaults replaces the random faults and restarts their draws from
// f.Seed. It is safe at any time, concurrently with requests.
func (s *Server) SetFaults(f Faults) { s.faults.set(f) }

// FailNext makes the next n requests to endpoint answer status, before
// doing any work, in the endpoint's real error shape (API: JSON with the
// documented code for status, 429 with Retry-After; storage: S3 XML).
// Injections queue, and are consumed before the random faults.
func (s *Server) FailNext(endpoint Endpoint, status int, n int) {
	s.FailNextError(endpoint, status, apiCodeFor(status), n)
}

// FailNextError is FailNext with the API error code chosen by the caller
// (storage answers ignore code).
func (s *Server) FailNextError(endpoint Endpoint, status int, code string, n int) {
	if n <= 0 {
		return
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.fail[endpoint] = append(s.faults.fail[endpoint], injection{status: status, code: code, left: n})
}

// FailNextAfter makes the next n requests to endpoint do their work, then
// answer status in the endpoint's error shape, as FailNext does: CRK acted,
// the client is told it failed. These queue apart from FailNext's, and are
// consumed after them and before the random faults.
func (s *Server) FailNextAfter(endpoint Endpoint, status int, n int) {
	if n <= 0 {
		return
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.failAfter[endpoint] = append(s.faults.failAfter[endpoint], injection{status: status, code: apiCodeFor(status), left: n})
}

// DropNext makes the next n requests to endpoint do their work, then have
// their connection closed without a response.
func (s *Server) DropNext(endpoint Endpoint, n int) {
	if n <= 0 {
		return
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.drop[endpoint] += n
}

// ClearInjections drops every injection still queued by FailNext,
// FailNextError, FailNextAfter, DropNext and ExpireNextUploads; the random
// faults stay as set.
func (s *Server) ClearInjections() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	clear(s.faults.fail)
	clear(s.faults.failAfter)
	clear(s.faults.drop)
}

type injection struct {
	status int
	code   string
	left   int
}

// faultState holds the faults to inject and the random source they draw on.
type faultState struct {
	mu        sync.Mutex
	f         Faults
	rng       *rand.Rand
	fail      map[Endpoint][]injection
	failAfter map[Endpoint][]injection
	drop      map[Endpoint]int
}

// decision is what the faults make of one request.
type decision struct {
	latency time.Duration
	status  int // answer this error before doing the work; 0 = none
	code    string
	drop    bool // do the work, then hang up
	// after is an error to answer once the work is done; 0 = none.
	after     int
	afterCode string
}

func (fs *faultState) set(f Faults) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f = f
	fs.rng = rand.New(rand.NewPCG(uint64(f.Seed), 0x6372_6b66_616b_65))
	if fs.fail == nil {
		fs.fail = map[Endpoint][]injection{}
		fs.failAfter = map[Endpoint][]injection{}
		fs.drop = map[Endpoint]int{}
	}
}

func (fs *faultState) urlExpiry() time.Duration {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.f.URLExpiry <= 0 {
		return defaultURLExpiry
	}
	return fs.f.URLExpiry
}

// decide consumes the injections due for one request to ep: queued
// failures first, then queued failures after the work, then the random
// failures, then queued drops, then the random drop, then the random
// failure after the work. A probability of 0 draws nothing, so that a seed
// gives the same faults as before a knob existed.
func (fs *faultState) decide(ep Endpoint, api bool) decision {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d := decision{latency: fs.f.Latency}
	if q := fs.fail[ep]; len(q) > 0 {
		d.status, d.code = q[0].status, q[0].code
		if q[0].left--; q[0].left == 0 {
			fs.fail[ep] = q[1:]
		}
		return d
	}
	if q := fs.failAfter[ep]; len(q) > 0 {
		d.after, d.afterCode = q[0].status, q[0].code
		if q[0].left--; q[0].left == 0 {
			fs.failAfter[ep] = q[1:]
		}
		return d
	}
	if fs.f.P500 > 0 && fs.rng.Float64() < fs.f.P500 {
		d.status, d.code = http.StatusInternalServerError, "internal_error"
		return d
	}
	if fs.f.P503 > 0 && fs.rng.Float64() < fs.f.P503 {
		d.status, d.code = http.StatusServiceUnavailable, "internal_error"
		return d
	}
	if api && fs.f.P429 > 0 && fs.rng.Float64() < fs.f.P429 {
		d.status, d.code = http.StatusTooManyRequests, "rate_limited"
		return d
	}
	if fs.drop[ep] > 0 {
		fs.drop[ep]--
		d.drop = true
		return d
	}
	if fs.f.PDrop > 0 && fs.rng.Float64() < fs.f.PDrop {
		d.drop = true
		return d
	}
	if fs.f.P500After > 0 && fs.rng.Float64() < fs.f.P500After {
		d.after, d.afterCode = http.StatusInternalServerError, "internal_error"
	}
	return d
}
