package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Recording is the metadata syncd sends for one recording.
type Recording struct {
	DataID           string
	CallAt           time.Time // formatted with its own offset: pass it in SYNCD_TIMEZONE
	Direction        string    // "in" or "out"
	CustomerPhone    string
	CallcenterNumber string
	CallcenterName   string
	ContentType      string // of the audio that will be PUT
}

type createBody struct {
	DataID           string `json:"dataId"`
	CallAt           string `json:"callAt"`
	Direction        string `json:"direction"`
	CustomerPhone    string `json:"customerPhone,omitempty"`
	CallcenterNumber string `json:"callcenterNumber,omitempty"`
	CallcenterName   string `json:"callcenterName,omitempty"`
	ContentType      string `json:"contentType,omitempty"`
	Presigned        bool   `json:"audioPresignedUploadUrl"`
}

// Created is CRK's answer to a create.
type Created struct {
	ID string
	// UploadURL is where to PUT the audio; "" when CRK sent none (a repeat
	// for a recording whose audio it already holds, as some servers do).
	UploadURL string
	// Status is the processingStatus the answer carried, normalised
	// (see NormStatus); "" when it carried none.
	Status string
}

// Create ingests r's metadata with POST /recordings and asks for a presigned
// upload URL. CRK makes this idempotent by dataId, so it is retried freely.
func (c *Client) Create(ctx context.Context, r Recording) (Created, error) {
	var out struct {
		ID        flexString `json:"id"`
		UploadURL string     `json:"uploadUrl"`
		Status    flexString `json:"processingStatus"`
	}
	err := c.do(ctx, call{
		endpoint: "create", method: http.MethodPost, path: "recordings", data: true, idempotent: true,
		body: createBody{
			DataID:           r.DataID,
			CallAt:           r.CallAt.Format(time.RFC3339),
			Direction:        r.Direction,
			CustomerPhone:    r.CustomerPhone,
			CallcenterNumber: r.CallcenterNumber,
			CallcenterName:   r.CallcenterName,
			ContentType:      r.ContentType,
			Presigned:        true,
		},
		out: &out,
	})
	if err != nil {
		return Created{}, err
	}
	if out.ID == "" {
		return Created{}, &NetError{Endpoint: "create", Err: fmt.Errorf("the answer for %s holds no id", r.DataID), Sent: true}
	}
	created := Created{ID: string(out.ID), Status: NormStatus(string(out.Status))}
	if out.UploadURL != "" {
		u, err := c.base.Parse(out.UploadURL) // tolerate a URL relative to the API
		if err != nil {
			return Created{}, &NetError{Endpoint: "create", Err: fmt.Errorf("the upload URL for %s does not parse", r.DataID), Sent: true}
		}
		created.UploadURL = u.String()
	}
	return created, nil
}

// Reextracted is CRK's answer to a reextract that succeeded.
type Reextracted struct {
	// Status is the processingStatus the answer carried, at its top level
	// or in a "recording" or "data" object, normalised; "" when none. The
	// answer's shape is undocumented, so it is read where it may be.
	Status string
}

// Reextract asks CRK to transcribe and summarise recording id, with POST
// /recordings/{id}/reextract. Every call costs the business money, so it is
// retried only when CRK surely did not act (429, a refused connection); on
// any other failure the caller must find out with Find before asking again.
func (c *Client) Reextract(ctx context.Context, id string) (Reextracted, error) {
	type status struct {
		Status flexString `json:"processingStatus"`
	}
	var out struct {
		status
		Recording *status `json:"recording"`
		Data      *status `json:"data"`
	}
	err := c.do(ctx, call{
		endpoint: "reextract", method: http.MethodPost, path: "recordings/" + url.PathEscape(id) + "/reextract", data: true,
		out: &out, optionalOut: true,
	})
	if err != nil {
		return Reextracted{}, err
	}
	st := out.Status
	for _, in := range []*status{out.Recording, out.Data} {
		if st == "" && in != nil {
			st = in.Status
		}
	}
	return Reextracted{Status: NormStatus(string(st))}, nil
}

// Remote is a recording as GET /recordings lists it.
type Remote struct {
	ID               flexString `json:"id"`
	DataID           string     `json:"dataId"`
	CallAt           string     `json:"callAt"`
	Direction        string     `json:"direction"`
	CustomerPhone    string     `json:"customerPhone"`
	ProcessingStatus string     `json:"processingStatus"`
	AudioURL         string     `json:"audioUrl"`
	TranscriptURL    string     `json:"transcriptUrl"`
	SummaryURL       string     `json:"summaryUrl"`
}

// Query filters GET /recordings. Zero fields are left out.
type Query struct {
	Search   string // matches dataId (substring, case-insensitive)
	From, To time.Time
	Limit    int // 1–200; 0 means 200
	Offset   int
}

// Page is one page of GET /recordings.
type Page struct {
	Items  []Remote `json:"items"`
	Total  int      `json:"total"`
	Limit  int      `json:"limit"`
	Offset int      `json:"offset"`
}

// List queries recordings with GET /recordings.
func (c *Client) List(ctx context.Context, q Query) (Page, error) {
	v := url.Values{}
	if q.Search != "" {
		v.Set("search", q.Search)
	}
	if !q.From.IsZero() {
		v.Set("callDateFrom", q.From.Format(time.RFC3339))
	}
	if !q.To.IsZero() {
		v.Set("callDateTo", q.To.Format(time.RFC3339))
	}
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	v.Set("limit", strconv.Itoa(limit))
	v.Set("offset", strconv.Itoa(q.Offset))
	var p Page
	err := c.do(ctx, call{endpoint: "list", method: http.MethodGet, path: "recordings", query: v, out: &p, data: true, idempotent: true})
	return p, err
}

// Find returns the recording whose dataId is exactly dataID, or nil when CRK
// holds none. search matches substrings, so it pages past near-misses.
func (c *Client) Find(ctx context.Context, dataID string) (*Remote, error) {
	for offset := 0; ; {
		p, err := c.List(ctx, Query{Search: dataID, Offset: offset})
		if err != nil {
			return nil, err
		}
		for i := range p.Items {
			if p.Items[i].DataID == dataID {
				return &p.Items[i], nil
			}
		}
		offset += len(p.Items)
		// Without a total (undocumented servers), a full page means more.
		if len(p.Items) == 0 || (p.Total > 0 && offset >= p.Total) || (p.Total <= 0 && len(p.Items) < 200) {
			return nil, nil
		}
	}
}

// Completed reports whether CRK's listing proves that AI processing of r
// was asked for and done: processingStatus "completed" (the only value the
// API documents), or a transcript or summary. Any other status is a word
// whose meaning syncd can only learn (see syncer's vocabulary): "pending"
// may mean waiting for audio just as well as waiting for the AI.
func (r *Remote) Completed() bool {
	return r.TranscriptURL != "" || r.SummaryURL != "" || r.Status() == "completed"
}

// Status is r's processingStatus, normalised.
func (r *Remote) Status() string { return NormStatus(r.ProcessingStatus) }

// NormStatus is a processingStatus in lower case without surrounding space.
func NormStatus(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// flexString decodes a JSON string or number (ids may be either).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id is neither a string nor a number: %w", err)
	}
	*f = flexString(n.String())
	return nil
}
