package dtac

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/crkai/syncd/connectors"
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
func (c *Connector) Open(ctx context.Context, r connectors.Recording) (*connectors.Audio, error) {
	what := fmt.Sprintf("dtac: open the audio of recording %s at %s", showValue(r.ID), c.host)
	if r.ID == "" {
		return nil, fmt.Errorf("%s: the recording has no id", what)
	}
	u := c.endpoint("mediastream/", r.ID).String()
	resp, err := c.authed(ctx, what, func(ctx context.Context, token string) (*http.Response, error) {
		return c.roundTrip(ctx, http.MethodGet, u, token, "audio/*, application/octet-stream;q=0.5, */*;q=0.1", true)
	})
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent:
	case http.StatusNotFound, http.StatusGone:
		discard(resp)
		return nil, fmt.Errorf("%s: HTTP %d: %w", what, resp.StatusCode, connectors.ErrGone)
	case http.StatusNoContent:
		discard(resp)
		return nil, fmt.Errorf("%s: HTTP 204: %w", what, connectors.ErrNotReady)
	default:
		return nil, fmt.Errorf("%s: %w", what, c.unexpected(resp))
	}
	ctype, ok := audioType(resp.Header.Get("Content-Type"))
	if !ok {
		return nil, fmt.Errorf("%s: %w", what, c.unexpected(resp))
	}
	if resp.ContentLength == 0 {
		discard(resp)
		return nil, fmt.Errorf("%s: empty body: %w", what, connectors.ErrNotReady)
	}
	var first [1]byte
	if n, err := io.ReadFull(resp.Body, first[:]); n == 0 {
		resp.Body.Close()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty body: %w", what, connectors.ErrNotReady)
		}
		return nil, fmt.Errorf("%s: reading the audio: %w", what, c.readError(ctx, err))
	}
	return &connectors.Audio{
		Body:        peeked{Reader: io.MultiReader(bytes.NewReader(first[:]), resp.Body), Closer: resp.Body},
		Size:        resp.ContentLength,
		ContentType: ctype,
	}, nil
}

// peeked is a body whose first byte was read ahead.
type peeked struct {
	io.Reader
	io.Closer
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
