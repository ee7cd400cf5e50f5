package dtac

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/internal/remote"
)

// Open streams the audio of r from /orktrack/rest/mediastream/{id} on the
// portal's own host. (The listing's recordingURL points at the same stream;
// it is never used, so the token cannot leak to another host.)
//
// ContentType is the portal's Content-Type when it names an audio type
// (audio/x-wav, audio/mpeg…, without parameters), else empty (none,
// application/octet-stream): the syncer tells the format from the bytes,
// which is also what it trusts when the portal's type misleads. A text,
// HTML, JSON or XML answer is an error, not audio. Size is the
// Content-Length, -1 when absent. A 404 or 410 wraps ErrGone; an
// empty body (or 204) wraps ErrNotReady: the first byte is read before Open
// returns, so that an empty stream is told apart, and the rest is streamed.
// The header must come within headerTimeout, and the body may not pause
// longer between two reads; a body that ends before its Content-Length
// fails with ErrNotReady too.
func (c *Connector) Open(ctx context.Context, r connectors.Recording) (*connectors.Audio, error) {
	what := fmt.Sprintf("dtac: open the audio of recording %s at %s", showValue(r.ID), c.host)
	if r.ID == "" {
		return nil, fmt.Errorf("%s: the recording has no id", what)
	}
	u := c.endpoint("mediastream/", r.ID).String()
	resp, err := c.authed(ctx, what, func(ctx context.Context, token string) (*http.Response, error) {
		return c.stream(ctx, u, token, what)
	})
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent:
	case http.StatusNotFound, http.StatusGone:
		remote.Drain(resp)
		return nil, fmt.Errorf("%s: HTTP %d: %w", what, resp.StatusCode, connectors.ErrGone)
	case http.StatusNoContent:
		remote.Drain(resp)
		return nil, fmt.Errorf("%s: HTTP 204: %w", what, connectors.ErrNotReady)
	default:
		return nil, fmt.Errorf("%s: %w", what, remote.Unexpected(resp, c.secrets()...))
	}
	ctype, ok := audioType(resp.Header.Get("Content-Type"))
	if !ok {
		return nil, fmt.Errorf("%s: %w", what, remote.Unexpected(resp, c.secrets()...))
	}
	if _, err := remote.Head(resp, 1); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &connectors.Audio{Body: resp.Body, Size: resp.ContentLength, ContentType: ctype}, nil
}

// audioType reads a stream's Content-Type header: the media type when it
// is a real audio type, "" when the header says nothing about the format
// (absent, unreadable, application/octet-stream or anything else), and ok
// false when the answer is evidently not audio (text, JSON, XML).
func audioType(header string) (ctype string, ok bool) {
	mt, _, err := mime.ParseMediaType(header)
	if err != nil {
		mt, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(header)), ";")
		mt = strings.TrimSpace(mt)
	}
	switch {
	case strings.HasPrefix(mt, "text/"), mt == "application/json", mt == "application/xml",
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return "", false
	case err == nil && strings.HasPrefix(mt, "audio/") && mt != "audio/*":
		return mt, true
	}
	return "", true
}
