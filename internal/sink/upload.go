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

	"github.com/crkai/syncd/internal/httpsafe"
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
//
// When Upload returns, no Read of body is under way, unless one had blocked
// for UploadStall (the error then says the upload made no progress): the
// caller must close the source before it touches body again.
func (c *Client) Upload(ctx context.Context, uploadURL, contentType string, body io.Reader, size int64) error {
	ctx, cancel := context.WithCancelCause(ctx)
	g := newStallGuard(c.cfg.UploadStall, cancel)
	gr := newGuardedReader(ctx, body, g)
	defer func() {
		cancel(nil) // no Read of body starts after this
		gr.wait()
		g.stop()
	}()
	var rb io.Reader = gr
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
	resp, err := c.http.Do(req)
	if err != nil {
		c.m.observe("upload", "error", time.Since(start))
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil && cause != ctx.Err() {
			err = cause
		}
		return &NetError{Endpoint: "upload", Err: cleanNetErr(err), Sent: !dialFailed(err)}
	}
	defer resp.Body.Close()
	c.m.observe("upload", strconv.Itoa(resp.StatusCode), time.Since(start))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, httpsafe.MaxDrain))
		return nil
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, httpsafe.MaxErrorBody))
	ue := &UploadError{Status: resp.StatusCode}
	var x struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if xml.Unmarshal(raw, &x) == nil && x.Code != "" {
		ue.Code, ue.Message = c.excerpt([]byte(x.Code)), c.excerpt([]byte(x.Message))
	} else {
		ue.Message = c.excerpt(raw)
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
	fired chan struct{} // closed once the guard gave up
	once  sync.Once
}

func newStallGuard(limit time.Duration, cancel context.CancelCauseFunc) *stallGuard {
	g := &stallGuard{limit: limit, fired: make(chan struct{})}
	g.t = time.AfterFunc(limit, func() {
		cancel(fmt.Errorf("upload made no progress for %s", limit))
		g.once.Do(func() { close(g.fired) })
	})
	return g
}

func (g *stallGuard) progress() {
	g.mu.Lock()
	g.t.Reset(g.limit)
	g.mu.Unlock()
}
func (g *stallGuard) done() { g.progress() }
func (g *stallGuard) stop() { g.t.Stop() }

// guardedReader reads the body in a goroutine of its own and hands it on
// in chunks, noting progress as each arrives. net/http waits for a body's
// Read to return before it gives up a request, so a source blocked in Read
// would otherwise hold the upload past the stall guard for good; and net/http
// may read a body after Do returns, which must not reach the caller's
// reader. The pump stops at the upload's end; one blocked in the source's
// Read ends when the caller closes the source.
type guardedReader struct {
	ctx    context.Context
	r      io.Reader
	g      *stallGuard
	start  sync.Once
	done   chan struct{} // closed when the pump is out of r for good
	chunks chan chunk    // from the pump
	free   chan []byte   // buffers back to the pump
	cur    []byte        // the unread rest of the current chunk
	buf    []byte        // the current chunk's buffer, to give back
	err    error         // the source's error, once seen
}

type chunk struct {
	b   []byte
	err error
}

const chunkSize = 32 << 10

func newGuardedReader(ctx context.Context, r io.Reader, g *stallGuard) *guardedReader {
	return &guardedReader{ctx: ctx, r: r, g: g, done: make(chan struct{}), chunks: make(chan chunk), free: make(chan []byte, 2)}
}

func (r *guardedReader) Read(p []byte) (int, error) {
	r.start.Do(func() {
		r.free <- make([]byte, chunkSize)
		r.free <- make([]byte, chunkSize)
		go r.pump()
	})
	for len(r.cur) == 0 {
		if r.buf != nil {
			r.free <- r.buf // never blocks: there are only two buffers
			r.buf = nil
		}
		if r.err != nil {
			return 0, r.err
		}
		if r.ctx.Err() != nil {
			return 0, context.Cause(r.ctx)
		}
		select {
		case c := <-r.chunks:
			r.g.progress()
			r.cur, r.buf, r.err = c.b, c.b[:cap(c.b)], c.err
		case <-r.ctx.Done():
			return 0, context.Cause(r.ctx)
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

func (r *guardedReader) pump() {
	defer close(r.done)
	for {
		var buf []byte
		select {
		case buf = <-r.free:
		case <-r.ctx.Done():
			return
		}
		if r.ctx.Err() != nil {
			return
		}
		n, err := r.r.Read(buf)
		select {
		case r.chunks <- chunk{b: buf[:n], err: err}:
		case <-r.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// wait returns once the pump is out of the source's Read, or the stall
// guard gave up on it. The context must be done already.
func (r *guardedReader) wait() {
	r.start.Do(func() { close(r.done) }) // never started: never will
	select {
	case <-r.done:
	case <-r.g.fired:
	}
}
