package fakeorkweb

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// session is a Tomcat session with what OrkWeb keeps in it.
type session struct {
	id         string
	lastAccess time.Time
	// user is the SessionStateObject's user: "" until a log-in succeeds.
	user string
	// errorMessage is HomePage's @Persist errorMessage: once a log-in
	// failed, the log-in page shows it until the session ends.
	errorMessage string
	// filter and table are RecSegments' persistent properties, nil until
	// a listener sets them (the search form, a paging or sorting link):
	// until then every render starts from a fresh initial value, as
	// Tapestry re-evaluates the initial-value expression on every page
	// detach (SpecifiedPropertyWorker.addInitialValue).
	filter *filter
	table  *tableState
}

// expired reports whether ses has been idle for the session timeout.
func (s *Server) expired(ses *session, now time.Time) bool {
	return !now.Before(ses.lastAccess.Add(s.timeout))
}

// sessionFor finds the live session a request names, in its JSESSIONID
// cookie (which wins, as in Tomcat) or its ;jsessionid= path parameter,
// and marks it accessed. fromCookie reports a JSESSIONID cookie in the
// request, live or not: Tomcat then does not rewrite URLs.
func (s *Server) sessionFor(r *http.Request, pathID string) (ses *session, fromCookie bool) {
	var cookieID string
	for _, c := range r.Cookies() {
		if c.Name == "JSESSIONID" {
			cookieID, fromCookie = c.Value, true
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, id := range []string{cookieID, pathID} {
		if id == "" {
			continue
		}
		ses := s.sessions[id]
		if ses == nil {
			continue
		}
		if s.expired(ses, now) {
			delete(s.sessions, id)
			continue
		}
		ses.lastAccess = now
		return ses, fromCookie
	}
	return nil, fromCookie
}

// ensureSession gives the reply a session, creating one (and its cookie)
// if the request had none: what reading OrkWeb's session state object
// does.
func (s *Server) ensureSession(rp *reply) {
	if rp.ses != nil {
		return
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	ses := &session{id: strings.ToUpper(hex.EncodeToString(b[:]))}
	s.mu.Lock()
	ses.lastAccess = s.now()
	s.sessions[ses.id] = ses
	s.stats.SessionsCreated++
	s.mu.Unlock()
	rp.ses, rp.created = ses, true
	http.SetCookie(rp.w, &http.Cookie{Name: "JSESSIONID", Value: ses.id, Path: "/orkweb", HttpOnly: true})
}

// invalidate ends a session (service=restart).
func (s *Server) invalidate(ses *session) {
	if ses == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, ses.id)
}
