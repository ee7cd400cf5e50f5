package orkweb

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/internal/remote"
)

// Open streams the audio of r. The recording's file path is not in the
// Recording (its name holds a capture id the tape id does not give), so
// Open first searches r's second of call and finds the tape among its
// rows; then it asks the configured host for the row's audio path (never
// the host the link names, which may not resolve): OrecX's /audio/…,
// voiceip's /orkweb/stream/….
//
// A tape no longer listed at its time is ErrGone (deleted at OrkWeb). A
// file answered 404 (OrecX) is ErrGone. voiceip answers 500 for a missing
// file: ErrGone when its error names a FileNotFoundException or
// NoSuchFileException, else a 500 says nothing sure and is ErrNotReady. An
// empty file (OrkAudio still writing it) is ErrNotReady.
func (c *Connector) Open(ctx context.Context, r connectors.Recording) (*connectors.Audio, error) {
	id, err := strconv.ParseInt(r.ID, 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("orkweb: recording id %q is not a tape id: %w", r.ID, connectors.ErrInvalid)
	}
	what := "orkweb: downloading tape " + r.ID
	at := r.CallAt.Truncate(time.Second)
	rows, _, err := c.search(ctx, at, at)
	if err != nil {
		return nil, fmt.Errorf("%s: finding it: %w", what, err)
	}
	var row *Row
	for i := range rows {
		if rows[i].TapeID == id {
			row = &rows[i]
		}
	}
	switch {
	case row == nil:
		return nil, fmt.Errorf("%s: OrkWeb no longer lists it at %s (deleted): %w", what, FormatDate(at, c.loc, 0), connectors.ErrGone)
	case row.Audio.Path == "":
		return nil, fmt.Errorf("%s: its row has no audio link (%v): %w", what, row.Invalid, connectors.ErrInvalid)
	}
	u, err := c.resolve(row.Audio.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", what, err, connectors.ErrInvalid)
	}
	resp, err := c.portal.Stream(ctx, remote.Request{URL: u, Accept: "audio/*, */*"},
		remote.StreamLimits{Header: c.headerTimeout, Stall: c.headerTimeout}, what)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	a, err := c.audio(resp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return a, nil
}

func (c *Connector) audio(resp *http.Response) (*connectors.Audio, error) {
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		remote.Drain(resp)
		return nil, fmt.Errorf("the server has no file for it (404: deleted): %w", connectors.ErrGone)
	case http.StatusInternalServerError:
		body := string(remote.ReadError(resp))
		if strings.Contains(body, "FileNotFoundException") || strings.Contains(body, "NoSuchFileException") {
			return nil, fmt.Errorf("the server has no file for it (500, %s): %w", notFoundName(body), connectors.ErrGone)
		}
		return nil, fmt.Errorf("the server answered 500 without saying the file is missing: tried again later: %w", connectors.ErrNotReady)
	default:
		return nil, remote.Unexpected(resp, c.cfg.Password)
	}
	if _, err := remote.Head(resp, 4); err != nil {
		return nil, err
	}
	ct := ""
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "audio/") {
		ct = mt
	}
	return &connectors.Audio{Body: resp.Body, Size: resp.ContentLength, ContentType: ct}, nil
}

func notFoundName(body string) string {
	if strings.Contains(body, "NoSuchFileException") {
		return "NoSuchFileException"
	}
	return "FileNotFoundException"
}
