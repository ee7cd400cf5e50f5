package sink

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// UploadError is storage refusing a PUT to a presigned URL. It matches
// ErrUploadExpired or ErrUploadRejected with errors.Is.
type UploadError struct {
	Status  int
	Code    string // S3-style <Code>, when the body had one
	Message string
}

func (e *UploadError) Error() string {
	s := fmt.Sprintf("crk upload: storage answered %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

func (e *UploadError) Is(target error) bool {
	switch target {
	case ErrUploadExpired:
		return e.expired()
	case ErrUploadRejected:
		return !e.expired() && e.Status < 500 && e.Status != http.StatusTooManyRequests
	}
	return false
}

func (e *UploadError) expired() bool {
	switch e.Code {
	case "ExpiredToken", "RequestExpired", "TokenRefreshRequired":
		return true
	}
	return (e.Status == http.StatusForbidden || e.Status == http.StatusBadRequest) &&
		strings.Contains(strings.ToLower(e.Code+" "+e.Message), "expired")
}

// Upload streams body to a presigned URL with PUT. contentType must be the
// one declared at create; size is sent as Content-Length when known (≥ 0),
// else the body goes chunked. The URL carries its own authority, so no
// token goes along, and it never appears in an error. Upload does not
// retry: a stream cannot be replayed. An error matching ErrUploadExpired is
// healed by creating the recording again, which gives a fresh URL.
func (c *Client) Upload(ctx context.Context, uploadURL, contentType string, body io.Reader, size int64) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	g := newStallGuard(c.cfg.UploadStall, cancel)
	defer g.stop()
	var rb io.Reader = &guardedReader{r: body, g: g}
	if size == 0 {
		rb = http.NoBody
		g.done()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, uploadURL, rb)
	if err != nil {
		return fmt.Errorf("crk upload: the upload URL is not usable: %w", cleanNetErr(err))
	}
	if size > 0 {
		req.ContentLength = size
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	start := time.Now()
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		c.cfg.Metrics.observe("upload", "error", time.Since(start))
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil && cause != ctx.Err() {
			err = cause
		}
		return &NetError{Endpoint: "upload", Err: cleanNetErr(err), Sent: !dialFailed(err)}
	}
	defer resp.Body.Close()
	c.cfg.Metrics.observe("upload", strconv.Itoa(resp.StatusCode), time.Since(start))
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	ue := &UploadError{Status: resp.StatusCode}
	var x struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if xml.Unmarshal(raw, &x) == nil && x.Code != "" {
		ue.Code, ue.Message = x.Code, x.Message
	} else {
		ue.Message = excerpt(raw)
	}
	return ue
}

// stallGuard cancels an upload that makes no progress for a while: the
// body is not read (the server stopped taking it), or the answer does not
// come once the body is sent.
type stallGuard struct {
	mu    sync.Mutex
	t     *time.Timer
	limit time.Duration
}

func newStallGuard(limit time.Duration, cancel context.CancelCauseFunc) *stallGuard {
	return &stallGuard{limit: limit, t: time.AfterFunc(limit, func() {
		cancel(fmt.Errorf("upload made no progress for %s", limit))
	})}
}

func (g *stallGuard) progress() {
	g.mu.Lock()
	g.t.Reset(g.limit)
	g.mu.Unlock()
}
func (g *stallGuard) done() { g.progress() }
func (g *stallGuard) stop() { g.t.Stop() }

type guardedReader struct {
	r io.Reader
	g *stallGuard
}

func (r *guardedReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.g.progress()
	return n, err
}
