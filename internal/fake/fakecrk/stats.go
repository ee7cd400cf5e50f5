package fakecrk

import (
	"net/http"
	"sync"
)

// Requests is how many requests to endpoint were answered with code
// (dropped ones, and ones whose client left during injected latency, count
// as code 0). A request is counted before its answer leaves the server.
func (s *Server) Requests(endpoint Endpoint, code int) int {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	return s.stats.codes[statKey{endpoint, code}]
}

// Count is how many requests reached endpoint (with an allowed method).
func (s *Server) Count(endpoint Endpoint) int {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	return s.stats.count[endpoint]
}

type statKey struct {
	ep   Endpoint
	code int
}

// stats counts requests per endpoint and per answer.
type stats struct {
	mu    sync.Mutex
	count map[Endpoint]int
	codes map[statKey]int
}

func (st *stats) begin(ep Endpoint) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.count == nil {
		st.count = map[Endpoint]int{}
		st.codes = map[statKey]int{}
	}
	st.count[ep]++
}

func (st *stats) answered(ep Endpoint, code int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.codes[statKey{ep, code}]++
}

// statusWriter counts a request's answer as its header is written, so the
// count is there before the client can see the answer.
type statusWriter struct {
	http.ResponseWriter
	stats *stats
	ep    Endpoint
	code  int
	done  bool
}

func (w *statusWriter) record(code int) {
	if w.done {
		return
	}
	w.done, w.code = true, code
	w.stats.answered(w.ep, code)
}

func (w *statusWriter) WriteHeader(code int) {
	w.record(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// discardWriter takes the answer of a request whose connection is dropped.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
