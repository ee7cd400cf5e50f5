package fakecrk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// createRequest is a validated body of POST /recordings.
type createRequest struct {
	dataID, callAtRaw, direction                           string
	callAt                                                 time.Time
	customerPhone, callcenterNumber, callcenterName, note  string
	tag, contentType                                       string
	score                                                  float64
	hasScore, wantUploadURL                                bool
	hasCustomerPhone, hasCallcenterNumber, hasCallcenterNm bool
	hasNote, hasTag                                        bool
}

type createResponse struct {
	ID               string `json:"id"`
	DataID           string `json:"dataId"`
	UploadURL        string `json:"uploadUrl,omitempty"`
	ProcessingStatus string `json:"processingStatus,omitempty"`
}

var validTags = map[string]bool{"normal": true, "short": true, "wrong_or_spam": true, "no_answer": true, "other": true}

// create answers POST /api/v1/recordings: validate, then create or (same
// dataId) update the recording, with a presigned upload URL on request.
func (s *Server) create(w http.ResponseWriter, r *http.Request, p *principal) {
	req, err := decodeCreate(http.MaxBytesReader(w, r.Body, maxCreateBodyBytes))
	if err != nil {
		writeAPIError(w, http.StatusUnprocessableEntity, "validation_failed", err.Error())
		return
	}
	b := s.knobs()
	now := s.now()

	s.store.mu.Lock()
	rec, repeat := s.store.byData[dataKey{p.business, req.dataID}]
	if !repeat {
		rec = &record{Recording: Recording{
			BusinessID:       p.business,
			ID:               recordingID(p.business, req.dataID),
			DataID:           req.dataID,
			SourceProvider:   SourceUpload,
			ProcessingStatus: b.ProcessingBefore,
		}}
		s.store.put(rec)
	}
	rec.settle(now)
	rec.Creates++
	req.apply(rec)
	resp := createResponse{ID: rec.ID, DataID: rec.DataID, ProcessingStatus: rec.ProcessingStatus}
	withURL := req.wantUploadURL && !(repeat && rec.HasAudio && b.NoUploadURLOnRepeat)
	contentType := rec.ContentType
	s.store.mu.Unlock()

	if withURL {
		resp.UploadURL = s.presign(r, p.business, resp.ID, contentType, now, s.faults.urlExpiry())
	}
	status := http.StatusOK
	if !repeat {
		status = orDefault(b.CreateStatus, http.StatusCreated)
	}
	writeJSON(w, status, resp)
}

// orDefault is v, or def when v is 0.
func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// apply writes the request's metadata onto rec; the caller holds the store.
func (req *createRequest) apply(rec *record) {
	rec.CallAt, rec.callAt, rec.Direction = req.callAtRaw, req.callAt, req.direction
	rec.ContentType = req.contentType
	if req.hasCustomerPhone {
		rec.CustomerPhone = req.customerPhone
	}
	if req.hasCallcenterNumber {
		rec.CallcenterNumber = req.callcenterNumber
	}
	if req.hasCallcenterNm {
		rec.CallcenterName = req.callcenterName
	}
	if req.hasNote {
		rec.Note = req.note
	}
	if req.hasTag {
		rec.Tag = req.tag
	}
	if req.hasScore {
		rec.Score, rec.HasScore = req.score, true
	}
}

// decodeCreate reads and validates a create body; its error is the
// validation message, naming the field at fault.
func decodeCreate(body io.Reader) (*createRequest, error) {
	m, err := readObject(body)
	if err != nil {
		return nil, err
	}
	req := &createRequest{contentType: defaultContentType}
	if err := req.required(m); err != nil {
		return nil, err
	}
	if err := req.optional(m); err != nil {
		return nil, err
	}
	return req, nil
}

// readObject reads a request body that must be a JSON object.
func readObject(body io.Reader) (map[string]json.RawMessage, error) {
	raw, err := io.ReadAll(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("body: larger than %d bytes", tooBig.Limit)
		}
		return nil, fmt.Errorf("body: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, errors.New("body: must be a JSON object")
	}
	return m, nil
}

// required reads and checks the fields a create must have: dataId,
// callAt and direction.
func (req *createRequest) required(m map[string]json.RawMessage) error {
	var ok bool
	var err error
	if req.dataID, ok, err = str(m, "dataId"); err != nil {
		return err
	} else if !ok || req.dataID == "" {
		return errors.New("dataId: required")
	} else if utf8.RuneCountInString(req.dataID) > maxDataIDRunes {
		return fmt.Errorf("dataId: must be at most %d characters", maxDataIDRunes)
	}

	if req.callAtRaw, ok, err = str(m, "callAt"); err != nil {
		return err
	} else if !ok || req.callAtRaw == "" {
		return errors.New("callAt: required")
	}
	if req.callAt, err = time.Parse(time.RFC3339Nano, req.callAtRaw); err != nil {
		return errors.New("callAt: must be an ISO 8601 date-time with an offset, e.g. 2026-05-20T08:14:00+07:00")
	}

	if req.direction, ok, err = str(m, "direction"); err != nil {
		return err
	} else if !ok {
		return errors.New("direction: required")
	} else if req.direction != "in" && req.direction != "out" {
		return errors.New(`direction: must be "in" or "out"`)
	}
	return nil
}

// optional reads and checks the fields a create may have.
func (req *createRequest) optional(m map[string]json.RawMessage) error {
	var err error

	for _, f := range []struct {
		name string
		val  *string
		has  *bool
	}{
		{"customerPhone", &req.customerPhone, &req.hasCustomerPhone},
		{"callcenterNumber", &req.callcenterNumber, &req.hasCallcenterNumber},
		{"callcenterName", &req.callcenterName, &req.hasCallcenterNm},
		{"note", &req.note, &req.hasNote},
	} {
		if *f.val, *f.has, err = str(m, f.name); err != nil {
			return err
		}
	}

	if req.tag, req.hasTag, err = str(m, "tag"); err != nil {
		return err
	} else if req.hasTag && !validTags[req.tag] {
		return errors.New("tag: must be one of normal, short, wrong_or_spam, no_answer, other")
	}

	if v, present := m["score"]; present && !isNull(v) {
		if err := json.Unmarshal(v, &req.score); err != nil || math.IsNaN(req.score) || req.score < 0 || req.score > 100 {
			return errors.New("score: must be a number from 0 to 100")
		}
		req.hasScore = true
	}

	if ct, ok, err := str(m, "contentType"); err != nil {
		return err
	} else if ok {
		mt, _, perr := mime.ParseMediaType(ct)
		typ, sub, slash := strings.Cut(mt, "/")
		if perr != nil || !slash || typ == "" || sub == "" || strings.Contains(sub, "/") {
			return errors.New("contentType: must be a MIME type such as audio/wav")
		}
		req.contentType = ct
	}

	if v, present := m["audioPresignedUploadUrl"]; present && !isNull(v) {
		if err := json.Unmarshal(v, &req.wantUploadURL); err != nil {
			return errors.New("audioPresignedUploadUrl: must be a boolean")
		}
	}
	return nil
}

// str reads optional string field name of m; null counts as absent.
func str(m map[string]json.RawMessage, name string) (string, bool, error) {
	v, ok := m[name]
	if !ok || isNull(v) {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false, fmt.Errorf("%s: must be a string", name)
	}
	return s, true, nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }
