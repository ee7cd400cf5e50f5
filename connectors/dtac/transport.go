package dtac

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/crkai/syncd/internal/httpsafe"
)

// errTimeout is the cause of a request's own deadline, as opposed to the
// caller's context ending.
var errTimeout = errors.New("request deadline")

// roundTrip sends one request with the connector's headers and its own
// deadline: the whole exchange for API calls, the response header only for
// streams (whose body is bounded by ctx alone). authorization is the
// Authorization header's value, if any. The response's Body releases the
// deadline when closed.
func (c *Connector) roundTrip(ctx context.Context, method, u, authorization, accept string, stream bool) (*http.Response, error) {
	var (
		rctx   context.Context
		cancel context.CancelFunc
		timer  *time.Timer
		limit  = c.apiTimeout
	)
	if stream {
		cctx, cancelCause := context.WithCancelCause(ctx)
		rctx, cancel = cctx, func() { cancelCause(context.Canceled) }
		limit = c.headerTimeout
		timer = time.AfterFunc(limit, func() { cancelCause(errTimeout) })
	} else {
		rctx, cancel = context.WithTimeoutCause(ctx, limit, errTimeout)
	}
	req, err := http.NewRequestWithContext(rctx, method, u, http.NoBody)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Accept", accept)
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := c.http.Do(req)
	if timer != nil && !timer.Stop() && err == nil {
		// The header arrived just as the deadline passed; rctx is done.
		resp.Body.Close()
		err = errTimeout
	}
	if err != nil {
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(context.Cause(rctx), errTimeout):
			return nil, fmt.Errorf("portal unreachable: no answer within %s: %w", limit, context.DeadlineExceeded)
		}
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // the URL is in the caller's message already
		}
		return nil, fmt.Errorf("portal unreachable: %w", err)
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// readError explains an error reading a response body.
func (c *Connector) readError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
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

// authed sends a request with the session token (logging in first if there
// is none) and, if the portal refuses the token, logs in again and
// retries. send makes one request with the token given. what names the
// operation in errors.
//
// The portal refuses a token with 401 or 403, or, as some portals do, with
// 200 and a small JSON error object that speaks of the token or the session
// ({"error":"invalid access token"}, {"error":"session expired"},
// {"message":"Invalid token"}; see refusal). Any other answer is the
// caller's to read.
//
// A token refused right after a fresh log-in has been invalidated again (a
// person logged in to the portal with the same account, say): the request
// gets up to maxRelogins fresh log-ins, the second and later after a short
// wait. If the portal still refuses it, the error is this request's alone:
// it wraps neither connectors.ErrAuth (only a refused log-in does) nor
// connectors.ErrForbidden, so that the caller tries again later.
func (c *Connector) authed(ctx context.Context, what string, send func(ctx context.Context, token string) (*http.Response, error)) (*http.Response, error) {
	tok, err := c.token(ctx)
	if err != nil {
		return nil, err
	}
	for relogins := 0; ; relogins++ {
		resp, err := send(ctx, tok)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		var refused string
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			refused = fmt.Sprintf("HTTP %d", resp.StatusCode)
		case http.StatusOK:
			if text, ok := refusal(resp); ok {
				refused = fmt.Sprintf("HTTP 200 %q", excerpt([]byte(text), c.secrets(tok)...))
			}
		}
		if refused == "" {
			return resp, nil
		}
		discard(resp)
		if relogins == maxRelogins {
			return nil, fmt.Errorf("%s: %s even with a fresh token, %d times: the portal keeps invalidating the session "+
				"(is someone logging in to the portal with the same account?); it will be tried again later",
				what, refused, maxRelogins)
		}
		if relogins > 0 {
			wait := c.reloginWait(relogins)
			c.log.DebugContext(ctx, "dtac: a fresh token was refused too; logging in again after a wait", "answer", refused, "wait", wait)
			if err := sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("%s: waiting to log in again: %w", what, err)
			}
		} else {
			c.log.DebugContext(ctx, "dtac: token refused, logging in again", "answer", refused)
		}
		if tok, err = c.relogin(ctx, tok); err != nil {
			return nil, err
		}
	}
}

// sleep waits for d or the end of ctx.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// discard drains a little of an unwanted body, so the connection can be
// reused, and closes it.
func discard(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}

// maxQuoted is how much of an unusable answer is read to quote its start.
const maxQuoted = 1 << 10

// unexpected describes an answer the connector cannot use, from its status,
// content type and the start of its body (never more than maxQuoted
// bytes of it are read), and closes it.
func (c *Connector) unexpected(resp *http.Response) error {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxQuoted))
	return fmt.Errorf("unexpected answer: HTTP %d (%s): %q", resp.StatusCode, contentType(resp), excerpt(b, c.secrets()...))
}

// contentType is the response's media type, for messages.
func contentType(resp *http.Response) string {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		return "no content type"
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return excerpt([]byte(ct))
}

// maxExcerpt is how many characters of a body an error quotes.
const maxExcerpt = 120

// excerpt turns the start of a body into a short, readable, safe string for
// an error: HTML tags dropped, entities decoded, whitespace collapsed,
// control characters dropped, secrets and credentials replaced (by
// httpsafe.Redact, before and after entities are decoded), cut at
// maxExcerpt runes.
func excerpt(b []byte, secrets ...string) string {
	s := strings.ToValidUTF8(string(b), "")
	s = httpsafe.Redact(dropElements(s, "script", "style"), secrets...)
	var text strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
		case r == '>' && inTag:
			inTag = false
			text.WriteByte(' ')
		case !inTag:
			text.WriteRune(r)
		}
	}
	s = httpsafe.Redact(html.UnescapeString(text.String()), secrets...)
	var out strings.Builder
	n, space := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = out.Len() > 0
			continue
		}
		if !unicode.IsPrint(r) {
			continue
		}
		if space {
			out.WriteByte(' ')
			n++
			space = false
		}
		if n >= maxExcerpt {
			out.WriteString("…")
			break
		}
		out.WriteRune(r)
		n++
	}
	return trimSecretPrefix(out.String(), secrets)
}

// trimSecretPrefix cuts the end of s when it is the start of a secret (of at
// least 3 characters) that a length limit cut short.
func trimSecretPrefix(s string, secrets []string) string {
	end := strings.TrimSuffix(s, "…")
	for _, sec := range secrets {
		for k := min(len(sec)-1, len(end)); k >= 3; k-- {
			if strings.HasSuffix(end, sec[:k]) {
				return end[:len(end)-k] + "[redacted]"
			}
		}
	}
	return s
}

// dropElements removes the named HTML elements with their content (scripts
// and styles say nothing to a reader of an error).
func dropElements(s string, names ...string) string {
	for _, name := range names {
		for {
			lower := asciiLower(s)
			i := strings.Index(lower, "<"+name)
			if i < 0 {
				break
			}
			j := strings.Index(lower[i:], "</"+name)
			if j < 0 {
				s = s[:i]
				break
			}
			k := strings.IndexByte(lower[i+j:], '>')
			if k < 0 {
				s = s[:i]
				break
			}
			s = s[:i] + " " + s[i+j+k+1:]
		}
	}
	return s
}

// asciiLower lowercases ASCII letters only, so that byte offsets stay put.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
