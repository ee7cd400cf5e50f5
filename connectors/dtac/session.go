package dtac

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/internal/remote"
	"github.com/crkai/syncd/internal/httpsafe"
)

// newSession is the portal's log-in: one at a time, shared by the workers
// that wait for it. A token the portal refuses (with 401 or 403, or, as
// some portals do, with 200 and a small JSON error object that speaks of
// the token or the session: see refusal) gets up to maxRelogins fresh
// log-ins, the second and later after reloginWait: the portal invalidates
// an account's token when someone logs in to the portal with the same
// account.
func (c *Connector) newSession(now func() time.Time) *remote.Session[string] {
	return remote.NewSession(remote.Login[string]{
		Login: func(ctx context.Context, _ string) (string, error) { return c.login(ctx) },
		Wrap:  func(err error) error { return fmt.Errorf("dtac: log in as %s at %s: %w", c.user, c.host, err) },
		Refused: func(resp *http.Response, token string) (string, bool) {
			switch resp.StatusCode {
			case http.StatusUnauthorized, http.StatusForbidden:
				return fmt.Sprintf("HTTP %d", resp.StatusCode), true
			case http.StatusOK:
				if text, ok := refusal(resp); ok {
					return fmt.Sprintf("HTTP 200 %q", excerpt([]byte(text), c.secrets(token)...)), true
				}
			}
			return "", false
		},
		Relogins: maxRelogins,
		Wait:     func(n int) time.Duration { return c.reloginWait(n) },
		Now:      now,
	})
}

// token returns the session token, logging in if there is none yet.
func (c *Connector) token(ctx context.Context) (string, error) {
	return c.auth.Token(ctx)
}

// relogin returns a token other than stale, the token a request was just
// refused with: the one a concurrent log-in got while this caller waited,
// or a fresh one. If a concurrent log-in failed while this caller waited,
// or a log-in was refused moments ago, relogin returns its error rather
// than trying again.
func (c *Connector) relogin(ctx context.Context, stale string) (string, error) {
	return c.auth.Renew(ctx, stale)
}

// login asks the portal for a token with Basic auth.
func (c *Connector) login(ctx context.Context) (string, error) {
	u := c.endpoint("user/login", "")
	u.RawQuery = "version=orktrack&accesspolicy=all&licenseinfo=true"
	resp, err := c.portal.Do(ctx, remote.Request{
		Method: http.MethodPost, URL: u.String(), Authorization: "Basic " + c.basic(), Accept: "application/json", Timeout: c.apiTimeout,
	})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		remote.Drain(resp)
		return "", fmt.Errorf("%w (HTTP %d): wrong username or password", connectors.ErrAuth, resp.StatusCode)
	default:
		return "", remote.Unexpected(resp, c.secrets()...)
	}
	ctype := remote.ContentType(resp)
	body, err := httpsafe.ReadAll(resp.Body, httpsafe.MaxLogin, "the log-in answer")
	if err != nil {
		return "", fmt.Errorf("reading the answer: %w", readError(ctx, err))
	}
	var ans struct {
		AccessToken string `json:"accesstoken"`
	}
	if json.Unmarshal(body, &ans) != nil {
		return "", fmt.Errorf("unexpected answer: HTTP 200 (%s) is not the JSON log-in answer: %q", ctype, excerpt(body, c.secrets()...))
	}
	if !validToken(ans.AccessToken) {
		return "", fmt.Errorf("unexpected answer: HTTP 200 (%s) without a usable accesstoken", ctype)
	}
	c.log.DebugContext(ctx, "logged in", "user", c.user, "host", c.host)
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
	return append([]string{c.pass, c.basic(), c.auth.Current()}, extra...)
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
func (c *Connector) Logins() uint64 { return c.auth.Logins() }
