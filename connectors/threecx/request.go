package threecx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/httpsafe"
)

// do GETs url with the current access token, and once more with a renewed
// token if the PBX answers 401. The caller closes the response's body.
func (c *Connector) do(ctx context.Context, url, accept string) (*http.Response, error) {
	t, err := c.tokens.get(ctx)
	if err != nil {
		return nil, err
	}
	for retried := false; ; retried = true {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, fmt.Errorf("building the request: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+t.value)
		req.Header.Set("Accept", accept)
		if c.ua != "" {
			req.Header.Set("User-Agent", c.ua)
		}
		resp, err := c.client.Do(req)
		if err != nil {
			return nil, requestError(err)
		}
		if resp.StatusCode != http.StatusUnauthorized {
			return resp, nil
		}
		drain(resp)
		if retried {
			return nil, fmt.Errorf("the PBX refused a freshly issued access token (401): %w", connectors.ErrAuth)
		}
		c.log.Debug("3cx refused the access token; logging in again")
		if t, err = c.tokens.renew(ctx, t); err != nil {
			return nil, err
		}
	}
}

// requestError is err from http.Client.Do: a *url.Error with the method and
// URL, never the token; but a refused redirect already names both URLs
// without their query, and the *url.Error would quote the redirect's
// target whole.
func requestError(err error) error {
	var ue *url.Error
	if errors.Is(err, httpsafe.ErrUnsafeRedirect) && errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// drain reads a little of an unwanted body, so that the connection can be
// reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, httpsafe.MaxDrain))
	_ = resp.Body.Close()
}

// forbidden explains a 403: the API client's (or user's) role is too low.
func (c *Connector) forbidden() error {
	if c.cfg.ClientID == "" {
		return fmt.Errorf("403 forbidden: the user's role is too low to read recordings; give the user the System Owner role in a department, "+
			"or use an API client with that role (admin console → Integrations → API): %w", connectors.ErrForbidden)
	}
	return fmt.Errorf("403 forbidden: the API client's role is too low to read recordings; give it the System Owner role in a department "+
		"(admin console → Integrations → API): %w", connectors.ErrForbidden)
}

// errorText is errorDetail's message alone.
func errorText(detail string, _ []string) string { return detail }
