package threecx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/internal/remote"
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
	what := "3cx: downloading recording " + r.ID
	u := c.endpoint(fmt.Sprintf("/xapi/v1/Recordings/Pbx.DownloadRecording(recId=%d)", id), "")
	resp, err := c.tokens.session.Do(ctx, c.portal, what, func(ctx context.Context, t *token) (*http.Response, error) {
		resp, err := c.portal.Stream(ctx, remote.Request{URL: u, Authorization: "Bearer " + t.value, Accept: "audio/*, */*"},
			remote.StreamLimits{Header: c.headerTimeout, Stall: c.headerTimeout}, what)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			// The header deadline, the only one here: a 3CX in the cloud
			// can be slow to start a download.
			return nil, fmt.Errorf("the PBX sent no response within %s; it will be retried: %w", c.headerTimeout, context.DeadlineExceeded)
		}
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	a, err := c.audio(resp)
	if err != nil {
		remote.Drain(resp)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return a, nil
}

// audio checks a download's answer and reads its first bytes.
func (c *Connector) audio(resp *http.Response) (*connectors.Audio, error) {
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
	// Sniff the first bytes without holding more of the file; fewer than
	// 4 is no audio file, but one still being written.
	head, err := remote.Head(resp, 4)
	if err != nil {
		return nil, err
	}
	ct, err := audioType(resp.Header.Get("Content-Type"), head)
	if err != nil {
		return nil, err
	}
	return &connectors.Audio{Body: resp.Body, Size: resp.ContentLength, ContentType: ct}, nil
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
