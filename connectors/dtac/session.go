package dtac

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/httpsafe"
)

// auth holds the session token and serialises log-ins: one log-in at a
// time, and callers that waited for it use its outcome instead of logging
// in again.
type auth struct {
	sem chan struct{} // held by the log-in in progress

	mu       sync.Mutex
	token    string
	attempts uint64 // log-ins tried so far
	lastErr  error  // of the last log-in, if it failed for a reason others share
	waiting  int    // callers waiting for the log-in in progress
}

func (a *auth) current() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.token
}

// token returns the session token, logging in if there is none yet.
func (c *Connector) token(ctx context.Context) (string, error) {
	if t := c.auth.current(); t != "" {
		return t, nil
	}
	return c.relogin(ctx, "")
}

// relogin returns a token other than stale, the token a request was just
// refused with: the one a concurrent log-in got while this caller waited,
// or a fresh one. If a concurrent log-in failed while this caller waited,
// relogin returns its error rather than trying again.
func (c *Connector) relogin(ctx context.Context, stale string) (string, error) {
	a := &c.auth
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("dtac: log in as %s at %s: %w", c.user, c.host, err)
	}
	a.mu.Lock()
	seen := a.attempts
	a.waiting++
	a.mu.Unlock()
	var err error
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		err = fmt.Errorf("dtac: log in as %s at %s: waiting for a log-in in progress: %w", c.user, c.host, ctx.Err())
	}
	a.mu.Lock()
	a.waiting--
	a.mu.Unlock()
	if err != nil {
		return "", err
	}
	defer func() { <-a.sem }()

	a.mu.Lock()
	tok, attempts, lastErr := a.token, a.attempts, a.lastErr
	a.mu.Unlock()
	if tok != "" && tok != stale {
		return tok, nil
	}
	if attempts != seen && lastErr != nil {
		return "", lastErr
	}

	tok, err = c.login(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.attempts++
	a.lastErr = nil
	switch {
	case err == nil:
		a.token = tok
	case ctx.Err() == nil: // not this caller's own cancellation: others share it
		a.lastErr = err
	}
	return tok, err
}

// login asks the portal for a token with Basic auth.
func (c *Connector) login(ctx context.Context) (string, error) {
	u := c.endpoint("user/login", "")
	u.RawQuery = "version=orktrack&accesspolicy=all&licenseinfo=true"
	resp, err := c.roundTrip(ctx, http.MethodPost, u.String(), "Basic "+c.basic(), "application/json", false)
	if err != nil {
		return "", fmt.Errorf("dtac: log in as %s at %s: %w", c.user, c.host, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		discard(resp)
		return "", fmt.Errorf("dtac: log in as %s at %s: %w (HTTP %d): wrong username or password",
			c.user, c.host, connectors.ErrAuth, resp.StatusCode)
	default:
		return "", fmt.Errorf("dtac: log in as %s at %s: %w", c.user, c.host, c.unexpected(resp))
	}
	ctype := contentType(resp)
	body, err := httpsafe.ReadAll(resp.Body, httpsafe.MaxLogin, "the log-in answer")
	if err != nil {
		return "", fmt.Errorf("dtac: log in as %s at %s: reading the answer: %w", c.user, c.host, c.readError(ctx, err))
	}
	var ans struct {
		AccessToken string `json:"accesstoken"`
	}
	if json.Unmarshal(body, &ans) != nil {
		return "", fmt.Errorf("dtac: log in as %s at %s: unexpected answer: HTTP 200 (%s) is not the JSON log-in answer: %q",
			c.user, c.host, ctype, excerpt(body, c.secrets()...))
	}
	if !validToken(ans.AccessToken) {
		return "", fmt.Errorf("dtac: log in as %s at %s: unexpected answer: HTTP 200 (%s) without a usable accesstoken",
			c.user, c.host, ctype)
	}
	c.log.DebugContext(ctx, "dtac: logged in", "user", c.user, "host", c.host)
	return ans.AccessToken, nil
}

// basic is the credential of the log-in's Basic Authorization header.
func (c *Connector) basic() string {
	return base64.StdEncoding.EncodeToString([]byte(c.user + ":" + c.pass))
}

// secrets are what an error quoting the portal must never show: the
// password, the Basic credential that carries it, the session token and
// any extra given.
func (c *Connector) secrets(extra ...string) []string {
	return append([]string{c.pass, c.basic(), c.auth.current()}, extra...)
}

// validToken reports whether t can be sent as a header value: printable
// ASCII without spaces (a GUID in practice).
func validToken(t string) bool {
	if t == "" || len(t) > 4096 {
		return false
	}
	for i := range len(t) {
		if t[i] <= ' ' || t[i] >= 0x7f {
			return false
		}
	}
	return true
}

// Logins is the number of log-ins sent to the portal so far
// (connectors.LoginCounter).
func (c *Connector) Logins() uint64 {
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	return c.auth.attempts
}
