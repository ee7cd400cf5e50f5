package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/crkai/syncd/connectors"
)

// StreamLimits bound an audio stream, whose length only the caller's
// context bounds otherwise.
type StreamLimits struct {
	// Header is the wait for the response's header (0: no limit).
	Header time.Duration
	// Stall is the longest wait for the body's next bytes (0: no limit).
	Stall time.Duration
}

// errStalled is the cause of a stream's context when its body stalled.
var errStalled = errors.New("no audio bytes in time")

// Stream sends r (r.Timeout is not used) and returns the response once its
// header has come, within limits.Header; a header that does not is
// "<Called> unreachable: no answer within …". The response's Body then
// fails when no byte comes for limits.Stall ("stalled after n bytes"), and
// with an error wrapping connectors.ErrNotReady when it ends before its
// Content-Length or is cut short (a file still being written); what starts
// those errors ("3cx: downloading recording 7"), which the reader of the
// body sees long after the caller's own error wrapping. Closing the Body
// releases the request.
func (p *Portal) Stream(ctx context.Context, r Request, limits StreamLimits, what string) (*http.Response, error) {
	sctx, cancel := context.WithCancelCause(ctx)
	timer := afterFunc(limits.Header, func() { cancel(errNoAnswer) })
	resp, err := p.send(sctx, r)
	if !timer.Stop() && err == nil {
		// The header came just as the deadline passed: sctx is done.
		resp.Body.Close()
		err = context.Cause(sctx)
	}
	if err != nil {
		cancel(context.Canceled)
		return nil, p.sendError(ctx, sctx, err, limits.Header)
	}
	resp.Body = &streamBody{
		body:   resp.Body,
		ctx:    sctx,
		cancel: cancel,
		idle:   limits.Stall,
		stall:  afterFunc(limits.Stall, func() { cancel(errStalled) }),
		want:   resp.ContentLength,
		what:   what,
	}
	return resp, nil
}

// timer is a time.Timer, or none.
type timer interface {
	Stop() bool
	Reset(time.Duration) bool
}

type noTimer struct{}

func (noTimer) Stop() bool               { return true }
func (noTimer) Reset(time.Duration) bool { return true }

// afterFunc is time.AfterFunc(d, f), or no timer when d is 0.
func afterFunc(d time.Duration, f func()) timer {
	if d <= 0 {
		return noTimer{}
	}
	return time.AfterFunc(d, f)
}

// streamBody is a stream's body: a stall longer than idle ends the
// transfer, an early end is ErrNotReady, and closing it releases the
// request's context.
type streamBody struct {
	body   io.ReadCloser
	ctx    context.Context // the request's: cancelled with errStalled on a stall
	cancel context.CancelCauseFunc
	idle   time.Duration
	stall  timer
	want   int64 // Content-Length, -1 unknown
	got    int64
	what   string
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	b.got += int64(n)
	if n > 0 {
		b.stall.Reset(b.idle)
	}
	switch {
	case err == nil:
	case errors.Is(context.Cause(b.ctx), errStalled):
		err = &streamError{b.what, fmt.Errorf("the audio stalled after %d bytes: nothing for %s: %w", b.got, b.idle, err)}
	case errors.Is(err, io.ErrUnexpectedEOF) || (err == io.EOF && b.want >= 0 && b.got < b.want):
		size := "of an unknown size"
		if b.want >= 0 {
			size = fmt.Sprintf("of %d", b.want)
		}
		err = &streamError{b.what, fmt.Errorf("the audio ended after %d bytes %s (still being written?): %w", b.got, size, connectors.ErrNotReady)}
	case err != io.EOF:
		err = &streamError{b.what, fmt.Errorf("reading the audio: %w", err)}
	}
	return n, err
}

// streamError is an error reading a stream's body, named by what.
type streamError struct {
	what string
	err  error
}

func (e *streamError) Error() string { return e.what + ": " + e.err.Error() }
func (e *streamError) Unwrap() error { return e.err }

func (b *streamBody) Close() error {
	b.stall.Stop()
	err := b.body.Close()
	b.cancel(context.Canceled)
	return err
}

// Head reads the first bytes of an audio answer, up to n, without holding
// more of it, and leaves resp.Body reading the whole body again. A body
// that ends before its first byte (or a Content-Length of 0) is "empty
// body", one that ends before n bytes "ended after k bytes": both wrap
// connectors.ErrNotReady, as a file still being written. On an error the
// body is closed.
func Head(resp *http.Response, n int) ([]byte, error) {
	if resp.ContentLength == 0 {
		Drain(resp)
		return nil, fmt.Errorf("empty body: %w", connectors.ErrNotReady)
	}
	head := make([]byte, n)
	k, err := io.ReadFull(resp.Body, head)
	ended := err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, connectors.ErrNotReady)
	switch {
	case err == nil:
	case k == 0 && ended:
		resp.Body.Close()
		return nil, fmt.Errorf("empty body: %w", connectors.ErrNotReady)
	case ended:
		resp.Body.Close()
		return nil, fmt.Errorf("the audio ended after %d bytes (still being written?): %w", k, connectors.ErrNotReady)
	default:
		resp.Body.Close()
		if se := (*streamError)(nil); errors.As(err, &se) {
			return nil, se.err // the caller names the stream
		}
		return nil, fmt.Errorf("reading the audio: %w", err)
	}
	resp.Body = peeked{Reader: io.MultiReader(bytes.NewReader(head), resp.Body), Closer: resp.Body}
	return head, nil
}

// peeked is a body whose first bytes were read ahead.
type peeked struct {
	io.Reader
	io.Closer
}
