package threecx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/httpsafe"
)

// clientLogin gets a token for the API client: POST /connect/token with
// the client-credentials form.
func (c *Connector) clientLogin(ctx context.Context) (*token, error) {
	form := url.Values{
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
		"grant_type":    {"client_credentials"},
	}
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   scalar `json:"expires_in"`
	}
	status, detail, err := c.login(ctx, "/connect/token", "application/x-www-form-urlencoded", form.Encode(), &body)
	switch {
	case err != nil:
		return nil, fmt.Errorf("API client login: %w", err)
	case status == http.StatusOK && body.AccessToken != "":
		return c.newToken(body.AccessToken, body.ExpiresIn), nil
	case status == http.StatusOK:
		return nil, errors.New("API client login: the PBX answered 200 without an access_token")
	case status == http.StatusBadRequest || status == http.StatusUnauthorized || status == http.StatusForbidden:
		return nil, fmt.Errorf("API client login refused (%d%s): check THREECX_CLIENT_ID and THREECX_CLIENT_SECRET, and that the client has XAPI access: %w", status, detail, connectors.ErrAuth)
	}
	return nil, fmt.Errorf("API client login: unexpected status %d%s", status, detail)
}

// userLogin gets a token for the user, as the web client does.
func (c *Connector) userLogin(ctx context.Context) (*token, error) {
	req, _ := json.Marshal(map[string]string{"Username": c.cfg.Username, "Password": c.cfg.Password, "SecurityCode": ""}) // strings always marshal
	var body struct {
		Status scalar `json:"Status"`
		Token  struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   scalar `json:"expires_in"`
		} `json:"Token"`
	}
	status, detail, err := c.login(ctx, "/webclient/api/Login/GetAccessToken", "application/json", string(req), &body)
	switch {
	case err != nil:
		return nil, fmt.Errorf("user login: %w", err)
	case status == http.StatusOK && body.Status.s == "AuthSuccess" && body.Token.AccessToken != "":
		return c.newToken(body.Token.AccessToken, body.Token.ExpiresIn), nil
	case status == http.StatusOK && body.Status.s == "AuthSuccess":
		return nil, errors.New("user login: the PBX answered AuthSuccess without an access token")
	case status == http.StatusOK:
		return nil, fmt.Errorf("user login did not complete: the PBX answered Status %q (a second factor is required, or the account may not log in this way); "+
			"syncd cannot answer a second factor: create an API client instead (admin console → Integrations → API) and set THREECX_CLIENT_ID/THREECX_CLIENT_SECRET: %w",
			c.clean(body.Status.s), connectors.ErrAuth)
	case status == http.StatusBadRequest || status == http.StatusUnauthorized || status == http.StatusForbidden:
		return nil, fmt.Errorf("user login refused (%d%s): check THREECX_USERNAME and THREECX_PASSWORD: %w", status, detail, connectors.ErrAuth)
	}
	return nil, fmt.Errorf("user login: unexpected status %d%s", status, detail)
}

// login posts a log-in and decodes a 200 answer into out. It returns the
// status and, for other answers, a sanitised ": <message>" from the body.
func (c *Connector) login(ctx context.Context, path, contentType, body string, out any) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(path, ""), strings.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, "", requestError(err) // method and URL, never the body
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, c.errorDetail(resp), nil
	}
	if err := json.NewDecoder(httpsafe.JSON(resp.Body, httpsafe.MaxLogin, "the log-in answer")).Decode(out); err != nil {
		return 0, "", fmt.Errorf("reading the answer (200, %s): %w", resp.Header.Get("Content-Type"), err)
	}
	return resp.StatusCode, "", nil
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
// {"error":{"code","message"}}, OAuth's {"error","error_description"}, or
// the start of whatever else came, as ": <message>" ("" when none). Only
// the first httpsafe.MaxErrorBody bytes are read for it.
func (c *Connector) errorDetail(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, httpsafe.MaxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, httpsafe.MaxDrain)) // let the connection be reused
	b = bytes.TrimSpace(b)
	var msg string
	var odata struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	var oauth struct {
		Error string `json:"error"`
		Desc  string `json:"error_description"`
	}
	switch {
	case len(b) == 0:
	case json.Unmarshal(b, &odata) == nil && odata.Error.Message != "":
		msg = odata.Error.Message
	case json.Unmarshal(b, &oauth) == nil && (oauth.Error != "" || oauth.Desc != ""):
		msg = strings.Trim(oauth.Error+": "+oauth.Desc, ": ")
	case bytes.HasPrefix(b, []byte("<")):
		msg = "" // an HTML error page says nothing the status does not
	default:
		msg = string(b)
	}
	if msg = c.clean(msg); msg == "" {
		return ""
	}
	return ": " + msg
}

// clean makes text from the PBX fit for an error string: without any
// configured secret, the current access token or any other credential
// (httpsafe.Redact), printable, at most 200 characters.
func (c *Connector) clean(s string) string {
	s = strings.ToValidUTF8(s, "?")
	secrets := []string{c.cfg.ClientSecret, c.cfg.Password}
	if t := c.tokens.current(); t != nil {
		secrets = append(secrets, t.value)
	}
	s = httpsafe.Redact(s, secrets...)
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == ' ' }), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
