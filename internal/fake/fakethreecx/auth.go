package fakethreecx

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// loginHandler counts a log-in request and the log-ins in flight around h,
// and holds it Options.TokenDelay first.
func (s *Server) loginHandler(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.tokenRequests.Add(1)
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for {
			m := s.maxInFlight.Load()
			if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		if sleep(r.Context(), s.opts.TokenDelay) != nil {
			return
		}
		h(w, r)
	}
}

// clientToken serves POST /connect/token: client credentials, with the
// form sent urlencoded or as multipart/form-data as 3CX's own client does,
// or a refresh token (Options.Refresh says where it is read from).
func (s *Server) clientToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := parseForm(r); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	switch gt := r.PostForm.Get("grant_type"); {
	case gt == "refresh_token" && s.opts.Refresh != RefreshUnsupported:
		s.refreshToken(w, r)
		return
	case gt != "client_credentials":
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type", "error_description": "The grant type '" + gt + "' is not supported."})
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	c, ok := s.opts.Clients[id]
	if !ok || secret == "" || !hmac.Equal([]byte(secret), []byte(c.Secret)) {
		if s.opts.BadClient == BadClient400 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_client"})
			return
		}
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "unauthorized", "error_description": "The client credentials are invalid."})
		return
	}
	role := c.Role
	if role == "" {
		role = RoleSystemOwner
	}
	s.logins.Add(1)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":    "Bearer",
		"expires_in":    s.opts.ExpiresIn,
		"access_token":  s.issue("client:"+id, id, role),
		"refresh_token": nil,
	})
}

// refreshCookie is the cookie the web client keeps its refresh token in.
const refreshCookie = "RefreshTokenCookie"

// refreshToken answers a grant_type=refresh_token request: a new access
// token for the refresh token's principal (revoking its previous one),
// and, with Options.RefreshRotates, a new refresh token in place of the
// old. An unknown, revoked or expired refresh token answers 400
// invalid_grant.
func (s *Server) refreshToken(w http.ResponseWriter, r *http.Request) {
	var rt string
	switch s.opts.Refresh {
	case RefreshForm:
		rt = r.PostForm.Get("refresh_token")
	case RefreshCookie:
		if c, err := r.Cookie(refreshCookie); err == nil {
			rt = c.Value
		}
	case RefreshEither:
		rt = r.PostForm.Get("refresh_token")
		if c, err := r.Cookie(refreshCookie); rt == "" && err == nil {
			rt = c.Value
		}
	}
	now := s.opts.Now()
	s.mu.Lock()
	g, ok := s.refresh[rt]
	if ok && !now.Before(g.expires) {
		delete(s.refresh, rt)
		ok = false
	}
	if ok && s.opts.RefreshRotates {
		delete(s.refresh, rt)
	}
	s.mu.Unlock()
	if rt == "" || !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant", "error_description": "The specified refresh token is invalid."})
		return
	}
	var next any // refresh_token in the answer: null unless rotated
	if s.opts.RefreshRotates {
		nt := s.newRefreshToken(g)
		setRefreshCookie(w, nt, g.expires)
		next = nt
	}
	s.refreshes.Add(1)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":    "Bearer",
		"expires_in":    s.opts.ExpiresIn,
		"access_token":  s.issue(g.principal, g.subject, g.role),
		"refresh_token": next,
	})
}

// newRefreshToken makes a refresh token for g's principal, valid until
// Options.RefreshLifetime from now.
func (s *Server) newRefreshToken(g grant) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	rt := base64.RawURLEncoding.EncodeToString(b)
	g.expires = s.opts.Now().Add(s.opts.RefreshLifetime)
	s.mu.Lock()
	s.refresh[rt] = g
	s.mu.Unlock()
	return rt
}

func setRefreshCookie(w http.ResponseWriter, rt string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: refreshCookie, Value: rt, Path: "/connect/token", Expires: expires, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

func parseForm(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return errors.New("the request has no form content type")
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		return r.ParseForm()
	case "multipart/form-data":
		return r.ParseMultipartForm(1 << 20)
	}
	return errors.New("the content type " + mt + " is not a form")
}

// userToken serves POST /webclient/api/Login/GetAccessToken. A wrong
// password answers as Options.WrongPassword says; a user needing a second
// factor answers 200 with Status "AuthFailed", a null Token and a
// TwoFactorAuth object. A success carries a refresh token (in the body
// unless Options.RefreshCookieOnly, and always as the RefreshTokenCookie
// cookie) and "TwoFactorAuth":null.
func (s *Server) userToken(w http.ResponseWriter, r *http.Request) {
	var body struct{ Username, Password, SecurityCode string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		http.Error(w, "The request body is not valid JSON.", http.StatusBadRequest)
		return
	}
	u, ok := s.opts.Users[body.Username]
	if !ok || body.Password == "" || !hmac.Equal([]byte(body.Password), []byte(u.Password)) {
		if s.opts.WrongPassword == WrongPasswordAuthFailed {
			writeJSON(w, http.StatusOK, map[string]any{"Status": "AuthFailed", "Token": nil, "TwoFactorAuth": nil})
			return
		}
		http.Error(w, "Invalid username or password.", http.StatusUnauthorized)
		return
	}
	if u.MFA {
		writeJSON(w, http.StatusOK, map[string]any{"Status": "AuthFailed", "Token": nil, "TwoFactorAuth": map[string]any{"Type": "Email"}})
		return
	}
	g := grant{principal: "user:" + body.Username, subject: body.Username, role: RoleSystemOwner}
	rt := s.newRefreshToken(g)
	setRefreshCookie(w, rt, s.opts.Now().Add(s.opts.RefreshLifetime))
	var inBody any = rt
	if s.opts.RefreshCookieOnly {
		inBody = nil
	}
	s.logins.Add(1)
	writeJSON(w, http.StatusOK, map[string]any{
		"Status": "AuthSuccess",
		"Token": map[string]any{
			"token_type":    "Bearer",
			"expires_in":    s.opts.ExpiresIn,
			"access_token":  s.issue(g.principal, g.subject, g.role),
			"refresh_token": inBody,
		},
		"TwoFactorAuth": nil,
	})
}

// issue makes principal's one valid access token: a JWT whose exp is its
// true expiry (unless Options.NoExpClaim). The principal's previous token
// stops working.
func (s *Server) issue(principal, subject, role string) string {
	now := s.opts.Now()
	expires := now.Add(time.Duration(s.opts.ExpiresIn) * s.opts.ExpiresUnit)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jti++
	claims := struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Iat int64  `json:"iat"`
		Nbf int64  `json:"nbf"`
		Exp *int64 `json:"exp,omitempty"`
		Jti string `json:"jti"`
	}{Iss: "https://" + s.opts.Host, Sub: subject, Iat: now.Unix(), Nbf: now.Unix(), Jti: strconv.FormatInt(s.jti, 10)}
	if !s.opts.NoExpClaim {
		claims.Exp = new(expires.Unix())
	}
	payload, _ := json.Marshal(claims) // plain fields always marshal
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(signed))
	tok := signed + "." + enc.EncodeToString(mac.Sum(nil))

	if old, ok := s.current[principal]; ok {
		delete(s.grants, old)
	}
	s.grants[tok] = grant{principal: principal, subject: subject, role: role, expires: expires}
	s.current[principal] = tok
	return tok
}

// authorize checks the Bearer token and answers 401 when it is missing,
// unknown, revoked or expired.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (grant, bool) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.mu.RLock()
	g, ok := s.grants[tok]
	s.mu.RUnlock()
	if !strings.EqualFold(scheme, "Bearer") || !ok || !s.opts.Now().Before(g.expires) {
		s.unauthorized.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		s.writeError(w, http.StatusUnauthorized, "Unauthorized: the access token is missing, invalid or expired.")
		return grant{}, false
	}
	return g, true
}

// mayReadRecordings answers 403 unless g's role is System Owner.
func (s *Server) mayReadRecordings(w http.ResponseWriter, g grant) bool {
	if g.role != RoleSystemOwner {
		s.writeError(w, http.StatusForbidden, "Forbidden: the role of this client does not allow reading recordings.")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
