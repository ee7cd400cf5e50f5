package threecx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/internal/remote"
	"github.com/crkai/syncd/internal/httpsafe"
)

// clientLogin gets a token for the API client: POST /connect/token with
// the client-credentials form. A refusal is a 400 (third-party doubles
// answer {"error":"invalid_client"}), 401 or 403: ErrAuth.
func (c *Connector) clientLogin(ctx context.Context) (*token, error) {
	form := url.Values{
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
		"grant_type":    {"client_credentials"},
	}
	var body tokenAnswer
	a, err := c.post(ctx, "/connect/token", "application/x-www-form-urlencoded", form.Encode(), nil, &body)
	switch {
	case err != nil:
		return nil, fmt.Errorf("API client login: %w", err)
	case a.status == http.StatusOK && body.AccessToken != "":
		return c.newToken(body.AccessToken, body.ExpiresIn), nil
	case a.status == http.StatusOK:
		return nil, errors.New("API client login: the PBX answered 200 without an access_token")
	case a.status == http.StatusBadRequest || a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		return nil, fmt.Errorf("API client login refused (%d%s): check THREECX_CLIENT_ID and THREECX_CLIENT_SECRET, and that the client has XAPI access: %w", a.status, a.detail, connectors.ErrAuth)
	}
	return nil, fmt.Errorf("API client login: unexpected status %d%s", a.status, a.detail)
}

// tokenAnswer is an OAuth token answer (/connect/token), and the Token of
// a user log-in.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    scalar `json:"expires_in"`
	RefreshToken scalar `json:"refresh_token"`
}

// userAnswer is GetAccessToken's answer. Only a TwoFactorAuth object (not
// null) means a second factor is needed; a success carries
// "TwoFactorAuth":null, and so does a wrong password answered 200.
type userAnswer struct {
	Status        scalar          `json:"Status"`
	Token         *tokenAnswer    `json:"Token"`
	TwoFactorAuth json.RawMessage `json:"TwoFactorAuth"`
}

func (a *userAnswer) needsSecondFactor() bool {
	t := bytes.TrimSpace(a.TwoFactorAuth)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

// userLogin gets a token for the user, as the web client does. A wrong
// password answers 401 (or 400/403), or 200 with a Status other than
// AuthSuccess and no TwoFactorAuth: both are ErrAuth saying to check the
// password. A TwoFactorAuth object is a second factor, which a daemon
// cannot answer: ErrAuth saying to use an API client.
func (c *Connector) userLogin(ctx context.Context) (*token, error) {
	req, _ := json.Marshal(map[string]string{"Username": c.cfg.Username, "Password": c.cfg.Password, "SecurityCode": ""}) // strings always marshal
	var body userAnswer
	a, err := c.post(ctx, "/webclient/api/Login/GetAccessToken", "application/json", string(req), nil, &body)
	ok := a.status == http.StatusOK && err == nil
	status := c.clean(body.Status.s)
	switch {
	case err != nil:
		return nil, fmt.Errorf("user login: %w", err)
	case ok && (body.Status.s == "AuthSuccess" || !body.Status.valid) && body.Token != nil && body.Token.AccessToken != "":
		// A Token without any Status (as some clients' doubles answer) is
		// taken as the success it carries.
		t := c.newToken(body.Token.AccessToken, body.Token.ExpiresIn)
		t.refresh, t.refreshCookie = refreshFrom(body.Token.RefreshToken, a.cookies, "")
		return t, nil
	case ok && body.Status.s == "AuthSuccess":
		return nil, errors.New("user login: the PBX answered AuthSuccess without an access token")
	case ok && body.needsSecondFactor():
		return nil, fmt.Errorf("user login needs a second factor (Status %q, TwoFactorAuth %s), which syncd cannot answer: "+
			"create an API client instead (admin console → Integrations → API) and set THREECX_CLIENT_ID/THREECX_CLIENT_SECRET: %w",
			status, c.clean(string(bytes.TrimSpace(body.TwoFactorAuth))), connectors.ErrAuth)
	case ok:
		return nil, fmt.Errorf("user login refused (200, Status %q): wrong username or password, or the account may not sign in: check THREECX_USERNAME and THREECX_PASSWORD: %w",
			status, connectors.ErrAuth)
	case a.status == http.StatusBadRequest || a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		return nil, fmt.Errorf("user login refused (%d%s): check THREECX_USERNAME and THREECX_PASSWORD: %w", a.status, a.detail, connectors.ErrAuth)
	}
	return nil, fmt.Errorf("user login: unexpected status %d%s", a.status, a.detail)
}

// webRefreshCookie is the cookie 3CX's web client keeps the refresh token
// in (Path=/connect/token).
const webRefreshCookie = "RefreshTokenCookie"

// refreshFrom picks the refresh token of an answer: the body's
// refresh_token, else a Set-Cookie whose name says refresh
// (RefreshTokenCookie), else old. It returns the token and the cookie name
// to send it back under.
func refreshFrom(body scalar, cookies []*http.Cookie, old string) (string, string) {
	name, value := webRefreshCookie, ""
	for _, ck := range cookies {
		if strings.Contains(strings.ToLower(ck.Name), "refresh") && ck.Value != "" {
			name, value = ck.Name, ck.Value
			break
		}
	}
	switch {
	case body.valid && strings.TrimSpace(body.s) != "":
		return strings.TrimSpace(body.s), name
	case value != "":
		return value, name
	}
	return old, name
}

// refreshToken renews a user's access token with its refresh token: POST
// /connect/token, grant_type=refresh_token and client_id=Webclient as the
// web client sends it. Where 3CX reads the refresh token is not
// documented (third-party clients send the RefreshTokenCookie cookie, or
// the refresh_token form field), so it goes both ways. The answer is read
// as an OAuth token answer, or GetAccessToken's {"Token":{…}}; a new
// refresh token in the body or a Set-Cookie replaces the old one, else the
// old one is kept.
func (c *Connector) refreshToken(ctx context.Context, old *token) (*token, error) {
	form := url.Values{
		"client_id":     {"Webclient"},
		"grant_type":    {"refresh_token"},
		"refresh_token": {old.refresh},
	}
	cookie := &http.Cookie{Name: old.refreshCookie, Value: old.refresh}
	if cookie.Name == "" {
		cookie.Name = webRefreshCookie
	}
	var body struct {
		tokenAnswer
		Token *tokenAnswer `json:"Token"`
		Error string       `json:"error"`
	}
	a, err := c.post(ctx, "/connect/token", "application/x-www-form-urlencoded", form.Encode(), []*http.Cookie{cookie}, &body)
	answer := body.tokenAnswer
	if answer.AccessToken == "" && body.Token != nil {
		answer = *body.Token
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("refreshing the access token: %w", err)
	case a.status == http.StatusOK && answer.AccessToken != "":
		t := c.newToken(answer.AccessToken, answer.ExpiresIn)
		t.refresh, t.refreshCookie = refreshFrom(answer.RefreshToken, a.cookies, old.refresh)
		return t, nil
	case a.status == http.StatusOK:
		return nil, errors.New("refreshing the access token: the PBX answered 200 without an access_token")
	case a.status == http.StatusBadRequest && strings.Contains(a.detail, "unsupported_grant_type"):
		return nil, fmt.Errorf("refreshing the access token (400%s): %w", a.detail, errRefreshUnsupported)
	}
	return nil, fmt.Errorf("refreshing the access token: refused (%d%s)", a.status, a.detail)
}

// answer is what a log-in request got: the status, a sanitised
// ": <message>" for an error, and the cookies set.
type answer struct {
	status  int
	detail  string
	cookies []*http.Cookie
}

// post posts a log-in (or refresh) with cookies and decodes a 200 answer
// into out.
func (c *Connector) post(ctx context.Context, path, contentType, body string, cookies []*http.Cookie, out any) (answer, error) {
	resp, err := c.portal.Do(ctx, remote.Request{
		Method: http.MethodPost, URL: c.endpoint(path, ""), ContentType: contentType, Body: body, Cookies: cookies,
		Accept: "application/json", Timeout: c.requestTimeout,
	})
	if err != nil {
		return answer{}, err // never the body
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, cookies: resp.Cookies()}
	if resp.StatusCode != http.StatusOK {
		a.detail, _ = c.errorDetail(resp)
		return a, nil
	}
	if err := json.NewDecoder(httpsafe.JSON(resp.Body, httpsafe.MaxLogin, "the log-in answer")).Decode(out); err != nil {
		return answer{}, fmt.Errorf("reading the answer (200, %s): %w", remote.ContentType(resp), err)
	}
	return a, nil
}

func (c *Connector) newToken(access string, expiresIn scalar) *token {
	n, err := strconv.ParseFloat(expiresIn.s, 64)
	if err != nil || !expiresIn.valid || !finite(n) {
		n = 0
	}
	// Stamped before the request would be safer by a round trip; the 20%
	// margin covers far more than that.
	return newToken(access, n, c.now(), c.log)
}

// errorDetail reads an error answer's message, from XAPI's
// {"error":{"code","message","details":[{"message"}]}}, OAuth's
// {"error","error_description"}, or the start of whatever else came, as
// ": <message>" ("" when none), and the WARNINGS.XAPI.<NAME> names the
// message and details carry (real bodies send code "" and put the warning
// in the message). Only the first httpsafe.MaxErrorBody bytes are read.
func (c *Connector) errorDetail(resp *http.Response) (string, []string) {
	b := bytes.TrimSpace(remote.ReadError(resp))
	var msg string
	var odata struct {
		Error struct {
			Code, Message string
			Details       []struct{ Code, Message, Target string }
		} `json:"error"`
	}
	var oauth struct {
		Error string `json:"error"`
		Desc  string `json:"error_description"`
	}
	var warnings []string
	switch {
	case len(b) == 0:
	case json.Unmarshal(b, &odata) == nil && (odata.Error.Message != "" || odata.Error.Code != "" || len(odata.Error.Details) > 0):
		msg = odata.Error.Message
		texts := []string{odata.Error.Code, odata.Error.Message}
		for _, d := range odata.Error.Details {
			texts = append(texts, d.Code, d.Message)
			if msg == "" {
				msg = d.Message
			}
		}
		if msg == "" {
			msg = odata.Error.Code
		}
		warnings = xapiWarnings(texts...)
	case json.Unmarshal(b, &oauth) == nil && (oauth.Error != "" || oauth.Desc != ""):
		msg = strings.Trim(oauth.Error+": "+oauth.Desc, ": ")
	case bytes.HasPrefix(b, []byte("<")):
		msg = "" // an HTML error page says nothing the status does not
	default:
		msg = string(b)
		warnings = xapiWarnings(msg)
	}
	if msg = c.clean(msg); msg == "" {
		return "", warnings
	}
	return ": " + msg, warnings
}

// xapiWarnings finds the WARNINGS.XAPI.<NAME> names in texts, upper-cased
// (3CX writes them in capitals).
func xapiWarnings(texts ...string) []string {
	var out []string
	for _, t := range texts {
		for {
			i := strings.Index(t, "WARNINGS.XAPI.")
			if i < 0 {
				break
			}
			t = t[i+len("WARNINGS.XAPI."):]
			n := strings.IndexFunc(t, func(r rune) bool {
				return !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
			})
			if n < 0 {
				n = len(t)
			}
			if n > 0 {
				out = append(out, strings.ToUpper(t[:n]))
			}
			t = t[n:]
		}
	}
	return out
}

// clean makes text from the PBX fit for an error string: without any
// configured secret, the current access token or any other credential,
// printable and short (remote.Excerpt).
func (c *Connector) clean(s string) string {
	secrets := []string{c.cfg.ClientSecret, c.cfg.Password}
	if t := c.tokens.current(); t != nil {
		secrets = append(secrets, t.value, t.refresh)
	}
	return remote.Excerpt([]byte(s), secrets...)
}
