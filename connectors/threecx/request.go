package threecx

import (
	"context"
	"fmt"
	"net/http"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/internal/remote"
)

// get GETs url with the current access token (renewed once if the PBX
// answers 401) within requestTimeout, body included. what names the
// request in errors ("3cx: listing recordings"). The caller closes the
// response's body.
func (c *Connector) get(ctx context.Context, what, url string) (*http.Response, error) {
	return c.tokens.session.Do(ctx, c.portal, what, func(ctx context.Context, t *token) (*http.Response, error) {
		return c.portal.Do(ctx, remote.Request{URL: url, Authorization: "Bearer " + t.value, Accept: "application/json", Timeout: c.requestTimeout})
	})
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
