package threecx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crkai/syncd/connectors"
)

var (
	errHeaderTimeout = errors.New("no response headers in time")
	errStalled       = errors.New("no audio bytes in time")
)

// Open streams the audio of r from Pbx.DownloadRecording.
//
// An empty body means the file is not written yet (ErrNotReady), as does a
// body that ends before its Content-Length (the error then comes from
// Read). A 404, or a 4xx whose error names WARNINGS.XAPI.FILE_NOT_FOUND
// (or NOT_FOUND), means the file is archived or deleted at the PBX
// (ErrGone), not something to retry.
// The PBX may take up to the header timeout (120 s) to start answering,
// and as long again between two reads of the body; otherwise the caller's
// context alone bounds the transfer.
func (c *Connector) Open(ctx context.Context, r connectors.Recording) (*connectors.Audio, error) {
	id, err := strconv.ParseInt(r.ID, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("3cx: recording id %q is not a 3CX Id: %w", r.ID, connectors.ErrInvalid)
	}
	what := "downloading recording " + r.ID
	dctx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(c.headerTimeout, func() { cancel(errHeaderTimeout) })
	resp, err := c.do(dctx, c.endpoint(fmt.Sprintf("/xapi/v1/Recordings/Pbx.DownloadRecording(recId=%d)", id), ""), "audio/*, */*")
	inTime := timer.Stop()
	if err == nil && !inTime {
		drain(resp)
		err = context.Cause(dctx)
	}
	if err != nil {
		cancel(nil)
		if errors.Is(context.Cause(dctx), errHeaderTimeout) && ctx.Err() == nil {
			return nil, fmt.Errorf("3cx: %s: the PBX sent no response within %s; it will be retried", what, c.headerTimeout)
		}
		return nil, fmt.Errorf("3cx: %s: %w", what, err)
	}

	a, err := c.audio(dctx, resp, r.ID, cancel)
	if err != nil {
		drain(resp)
		cancel(nil)
		return nil, fmt.Errorf("3cx: %s: %w", what, err)
	}
	return a, nil
}

// audio checks a download's answer and wraps its body.
func (c *Connector) audio(ctx context.Context, resp *http.Response, id string, cancel context.CancelCauseFunc) (*connectors.Audio, error) {
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, fmt.Errorf("the PBX has no file for it (404: archived or deleted): %w", connectors.ErrGone)
	case http.StatusForbidden:
		return nil, c.forbidden()
	default:
		detail, warnings := c.errorDetail(resp)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && slices.ContainsFunc(warnings, fileGone) {
			return nil, fmt.Errorf("the PBX has no file for it (%d%s: archived or deleted): %w", resp.StatusCode, detail, connectors.ErrGone)
		}
		return nil, fmt.Errorf("unexpected status %d%s", resp.StatusCode, detail)
	}
	// Sniff the first bytes without holding more of the file.
	var head [4]byte
	n, err := io.ReadFull(resp.Body, head[:])
	switch {
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("reading the audio: %w", err)
	case n == 0:
		return nil, fmt.Errorf("the PBX sent an empty file (still being written?): %w", connectors.ErrNotReady)
	case err != nil: // fewer than 4 bytes: no audio file is that small
		return nil, fmt.Errorf("the audio ended after %d bytes (still being written?): %w", n, connectors.ErrNotReady)
	}
	ct, err := audioType(resp.Header.Get("Content-Type"), head[:n])
	if err != nil {
		return nil, err
	}
	return &connectors.Audio{
		Body: &audioBody{
			r:      io.MultiReader(bytes.NewReader(head[:n]), resp.Body),
			body:   resp.Body,
			ctx:    ctx,
			cancel: cancel,
			idle:   c.headerTimeout,
			stall:  time.AfterFunc(c.headerTimeout, func() { cancel(errStalled) }),
			want:   resp.ContentLength,
			id:     id,
		},
		Size:        resp.ContentLength,
		ContentType: ct,
	}, nil
}

// fileGone tells whether an XAPI warning says the recording or its file
// does not exist.
func fileGone(warning string) bool {
	return warning == "FILE_NOT_FOUND" || warning == "NOT_FOUND" || warning == "RECORDING_NOT_FOUND"
}

// audioType is the served type when it is audio/*; otherwise audio/wav (the
// XAPI specification claims JSON for WAV bytes), unless the body is
// plainly a JSON or HTML document and not a RIFF file.
func audioType(header string, head []byte) (string, error) {
	mt, _, err := mime.ParseMediaType(header)
	if err == nil && strings.HasPrefix(mt, "audio/") {
		return mt, nil
	}
	if bytes.HasPrefix(head, []byte("RIFF")) {
		return "audio/wav", nil
	}
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/html") {
		if t := bytes.TrimSpace(head); len(t) > 0 && (t[0] == '{' || t[0] == '[' || t[0] == '<') {
			return "", fmt.Errorf("the PBX sent a %s document, not audio", mt)
		}
	}
	return "audio/wav", nil
}

// audioBody is a download's body: an early end is ErrNotReady, a stall
// longer than idle ends the transfer, and closing it releases the
// request's context.
type audioBody struct {
	r      io.Reader
	body   io.ReadCloser
	ctx    context.Context // the request's: cancelled with errStalled on a stall
	cancel context.CancelCauseFunc
	idle   time.Duration
	stall  *time.Timer
	want   int64 // Content-Length, -1 unknown
	got    int64
	id     string
}

func (b *audioBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.got += int64(n)
	if n > 0 {
		b.stall.Reset(b.idle)
	}
	switch {
	case err == nil:
	case errors.Is(err, io.ErrUnexpectedEOF) || (err == io.EOF && b.want >= 0 && b.got < b.want):
		size := "of an unknown size"
		if b.want >= 0 {
			size = "of " + strconv.FormatInt(b.want, 10)
		}
		err = fmt.Errorf("3cx: the audio of recording %s ended after %d bytes %s (still being written?): %w", b.id, b.got, size, connectors.ErrNotReady)
	case errors.Is(context.Cause(b.ctx), errStalled):
		err = fmt.Errorf("3cx: the audio of recording %s stalled after %d bytes: nothing for %s: %w", b.id, b.got, b.idle, err)
	case err != io.EOF:
		err = fmt.Errorf("3cx: reading the audio of recording %s: %w", b.id, err)
	}
	return n, err
}

func (b *audioBody) Close() error {
	b.stall.Stop()
	err := b.body.Close()
	b.cancel(nil)
	return err
}
