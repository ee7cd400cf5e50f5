// Package remote is the HTTP conversation with a phone system's portal,
// the same for every connector:
//
//   - a request with its own deadline, the connector's headers, and errors
//     that say what failed without quoting a URL (Portal.Do);
//   - one log-in at a time, whose outcome every caller waiting for it
//     shares, and an authorised request that logs in afresh when the
//     portal refuses its token, a bounded number of times (Session);
//   - an audio stream whose header must come in time, whose body may not
//     stall, and whose early end means "not ready yet" (Portal.Stream,
//     Head);
//   - bodies drained for reuse, error bodies read within a bound, quoted
//     short and without a secret (Drain, ReadError, Excerpt);
//   - a JSON value read leniently as text, string or number (Text).
//
// Each connector keeps what is its own: paths, decoding, mapping and the
// lifetime of its tokens. Errors follow one style: a connector's error
// starts with its source's name once ("dtac: list recordings at host: …");
// what this package returns is the detail after it. Log lines carry no
// prefix: the logger a connector is given already says source=….
package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/httpsafe"
)

// Portal sends a connector's requests to its phone system.
type Portal struct {
	// Called is what the phone system is called in messages: "portal",
	// "PBX" ("PBX unreachable: …").
	Called string
	// Log is the connector's logger; never nil.
	Log *slog.Logger

	client    *http.Client
	userAgent string
}

// New returns a Portal sending through deps.HTTP. If that client has no
// CheckRedirect of its own, a copy of it with httpsafe.CheckRedirect is
// used, so that a credential never follows a redirect to clear text or to
// another host.
func New(called string, deps connectors.Deps) *Portal {
	deps = deps.Defaulted()
	return &Portal{Called: called, Log: deps.Logger, client: httpsafe.WithRedirectPolicy(deps.HTTP), userAgent: deps.UserAgent}
}

// Request is one request to the portal.
type Request struct {
	Method        string // GET when empty
	URL           string
	Accept        string
	Authorization string // the Authorization header's value, if any
	// ContentType and Body are a request body, sent as is ("" for none).
	ContentType string
	Body        string
	Cookies     []*http.Cookie
	// Timeout bounds the whole exchange, the body included: until the
	// response's Body is closed. 0: the caller's context alone.
	Timeout time.Duration
}

// errNoAnswer is the cause of a request's own deadline, as opposed to the
// caller's context ending.
var errNoAnswer = errors.New("no answer in time")

// Do sends r with its own deadline. The response's Body releases the
// deadline when closed. An error is the caller's context's own error when
// it ended, else "<Called> unreachable: …" (the URL left out: the caller
// names what it asked for), or the refused redirect as
// httpsafe.CheckRedirect words it.
func (p *Portal) Do(ctx context.Context, r Request) (*http.Response, error) {
	rctx, cancel := context.WithCancel(ctx)
	if r.Timeout > 0 {
		rctx, cancel = context.WithTimeoutCause(ctx, r.Timeout, errNoAnswer)
	}
	resp, err := p.send(rctx, r)
	if err != nil {
		cancel()
		return nil, p.sendError(ctx, rctx, err, r.Timeout)
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

func (p *Portal) send(ctx context.Context, r Request) (*http.Response, error) {
	var body io.Reader = http.NoBody
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, body)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	if r.Accept != "" {
		req.Header.Set("Accept", r.Accept)
	}
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	if p.userAgent != "" {
		req.Header.Set("User-Agent", p.userAgent)
	}
	if r.Authorization != "" {
		req.Header.Set("Authorization", r.Authorization)
	}
	for _, ck := range r.Cookies {
		req.AddCookie(ck)
	}
	return p.client.Do(req)
}

// sendError explains err from sending a request on rctx, derived from ctx
// with a deadline of limit.
func (p *Portal) sendError(ctx, rctx context.Context, err error, limit time.Duration) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(context.Cause(rctx), errNoAnswer):
		return fmt.Errorf("%s unreachable: no answer within %s: %w", p.Called, limit, context.DeadlineExceeded)
	}
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		err = ue.Err // the method and the URL, which may hold a query: the caller names what it asked for
	}
	if errors.Is(err, httpsafe.ErrUnsafeRedirect) {
		return err
	}
	return fmt.Errorf("%s unreachable: %w", p.Called, err)
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// Drain reads a little of an unwanted body (at most httpsafe.MaxDrain), so
// that its connection can be reused, and closes it.
func Drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, httpsafe.MaxDrain))
	_ = resp.Body.Close()
}

// ReadError reads the start of an error answer's body (at most
// httpsafe.MaxErrorBody), drains the rest within httpsafe.MaxDrain and
// closes it.
func ReadError(resp *http.Response) []byte {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, httpsafe.MaxErrorBody))
	Drain(resp)
	return b
}

// Unexpected describes an answer a connector cannot use, from its status,
// content type and the start of its body (excerpted, without the secrets
// given), and closes it: `unexpected answer: HTTP 500 (text/html): "…"`.
func Unexpected(resp *http.Response, secrets ...string) error {
	b := ReadError(resp)
	return fmt.Errorf("unexpected answer: HTTP %d (%s): %q", resp.StatusCode, ContentType(resp), Excerpt(b, secrets...))
}

// ContentType is the response's media type, for messages: "text/html", or
// "no content type".
func ContentType(resp *http.Response) string {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		return "no content type"
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return Excerpt([]byte(ct))
}
