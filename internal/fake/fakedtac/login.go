package fakedtac

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// loginAnswer is the portal's answer to a successful log-in. Only
// accesstoken is known to matter; the rest is a plausible shape.
type loginAnswer struct {
	AccessToken string       `json:"accesstoken"`
	User        loginUser    `json:"user"`
	Permissions []string     `json:"permissions"`
	License     loginLicence `json:"license"`
	Version     string       `json:"version"`
	Programs    []any        `json:"programs"`
}

type loginUser struct {
	Type      string `json:"type"`
	ID        int    `json:"id"`
	Username  string `json:"username"`
	FirstName string `json:"firstname"`
	LastName  string `json:"lastname"`
	Email     any    `json:"email"`
}

type loginLicence struct {
	Product    string   `json:"product"`
	Version    string   `json:"version"`
	Expires    string   `json:"expires"`
	MaxUsers   int      `json:"maxUsers"`
	Features   []string `json:"features"`
	Customer   string   `json:"customer"`
	Evaluation bool     `json:"evaluation"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	want, known := s.users[user]
	if !ok || !known || subtle.ConstantTimeCompare([]byte(pass), []byte(want)) != 1 {
		s.loginFailed(w)
		return
	}
	token := newGUID()
	s.mu.Lock()
	s.logins++
	id := s.logins
	if r := s.opts.RevokeLogins; r != -1 && id > r {
		s.sessions[token] = &session{lastUsed: s.now()}
	}
	s.mu.Unlock()

	var sid [16]byte
	_, _ = rand.Read(sid[:])
	http.SetCookie(w, &http.Cookie{
		Name: "JSESSIONID", Value: strings.ToUpper(hex.EncodeToString(sid[:])),
		Path: "/orktrack", HttpOnly: true,
	})
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(loginAnswer{
		AccessToken: token,
		User: loginUser{
			Type: "userDto", ID: 1000 + id, Username: user,
			FirstName: "Team", LastName: "Lead",
		},
		Permissions: []string{"RECORDINGS_VIEW", "RECORDINGS_DOWNLOAD", "RECORDINGS_PLAY"},
		License: loginLicence{
			Product: "OrkTrack", Version: "4.20", Expires: "2027-12-31",
			MaxUsers: 50, Features: []string{"recording", "tagging"}, Customer: "DTAC",
		},
		Version:  "4.20",
		Programs: []any{},
	})
}

func (s *Server) loginFailed(w http.ResponseWriter) {
	switch s.opts.LoginFailure {
	case LoginFails403:
		tomcatError(w, http.StatusForbidden, "Access to the specified resource has been forbidden.")
	case LoginFailsHTML200:
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		_, _ = w.Write([]byte(signInPage))
	case LoginFailsHTML500:
		tomcatError(w, http.StatusInternalServerError, "The server encountered an unexpected condition that prevented it from fulfilling the request.")
	default:
		w.Header().Set("WWW-Authenticate", `Basic realm="OrkTrack"`)
		tomcatError(w, http.StatusUnauthorized, "This request requires HTTP authentication.")
	}
}

func tomcatError(w http.ResponseWriter, code int, message string) {
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>HTTP Status %[1]d – %[2]s</title>`+
		`<style type="text/css">body {font-family:Tahoma,Arial,sans-serif;}</style></head>`+
		`<body><h1>HTTP Status %[1]d – %[2]s</h1><hr class="line" /><p><b>Type</b> Status Report</p>`+
		`<p><b>Description</b> %[3]s</p><hr class="line" /><h3>Apache Tomcat/8.5.40</h3></body></html>`,
		code, http.StatusText(code), message)
}

const signInPage = `<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>OrkTrack - Sign in</title>
<link rel="stylesheet" href="/orkui/css/app.css">
<script src="/orkui/js/app.js"></script>
</head>
<body class="login">
<form method="post" action="/orkui/login">
<h1>Sign in</h1>
<p class="error">Invalid username or password</p>
<input type="text" name="username" placeholder="Username">
<input type="password" name="password" placeholder="Password">
<button type="submit">Sign in</button>
</form>
</body>
</html>
`

// newGUID returns a random version 4 UUID, the form of OrkTrack's tokens.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
