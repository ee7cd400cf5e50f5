package dtac

import (
	"context"
	"net/http"

	"github.com/crkai/syncd/connectors/internal/remote"
)

// maxExcerpt is how many characters of a body an error quotes.
const maxExcerpt = remote.MaxExcerpt

// maxQuoted is how much of an unusable listing page is kept to quote its
// start.
const maxQuoted = 1 << 10

// get sends an API request (a GET with the session token given) bounded
// whole, body included, by apiTimeout.
func (c *Connector) get(ctx context.Context, u, token, accept string) (*http.Response, error) {
	return c.portal.Do(ctx, remote.Request{URL: u, Authorization: token, Accept: accept, Timeout: c.apiTimeout})
}

// stream asks for an audio stream with the session token given: its header
// must come within headerTimeout, and its body may not pause for longer
// than stallTimeout (what names the stream in its body's errors).
func (c *Connector) stream(ctx context.Context, u, token, what string) (*http.Response, error) {
	return c.portal.Stream(ctx, remote.Request{URL: u, Authorization: token, Accept: "audio/*, application/octet-stream;q=0.5, */*;q=0.1"},
		remote.StreamLimits{Header: c.headerTimeout, Stall: c.stallTimeout}, what)
}

// authed sends a request with the session token, logging in afresh when
// the portal refuses it (newSession says when and how often). send makes
// one request with the token given; what names the operation in errors.
func (c *Connector) authed(ctx context.Context, what string, send func(ctx context.Context, token string) (*http.Response, error)) (*http.Response, error) {
	return c.auth.Do(ctx, c.portal, what, send)
}

// readError explains an error reading a response body: the caller's
// context's end, when it ended.
func readError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// excerpt is the start of a body for an error, without the secrets given.
func excerpt(b []byte, secrets ...string) string { return remote.Excerpt(b, secrets...) }
