package fakedtac

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// dateLayout is the portal's startdate/enddate format, in UTC.
const dateLayout = "20060102_150405"

// timestampLayout is how the portal renders a recording's start, in UTC.
const timestampLayout = "2006-01-02 15:04:05"

type pageAnswer struct {
	Objects      []recordingDTO `json:"objects"`
	NextPageURI  *string        `json:"nextPageUri"`
	PrevPageURI  *string        `json:"prevPageUri"`
	LimitReached bool           `json:"limitReached"`
	Page         int            `json:"page"`
	PageSize     *int           `json:"pageSize,omitempty"`
	ResultCount  int            `json:"resultCount"`
}

// recordingDTO is a recording as the portal renders it, with the fields
// clients ignore (tags, metadata, programs, externalId, filesize) present
// on every object.
type recordingDTO struct {
	Type         string            `json:"type"`
	ID           any               `json:"id"`
	Timestamp    string            `json:"timestamp"`
	Duration     int               `json:"duration"`
	LocalParty   string            `json:"localParty"`
	RemoteParty  string            `json:"remoteParty"`
	Direction    json.RawMessage   `json:"direction,omitempty"`
	UserDto      *userDTO          `json:"userDto"`
	RecordingURL string            `json:"recordingURL"`
	WaveformURL  string            `json:"waveformURL"`
	ExternalID   *string           `json:"externalId"`
	Filesize     int64             `json:"filesize"`
	Tags         []string          `json:"tags"`
	Metadata     map[string]string `json:"metadata"`
	Programs     []string          `json:"programs"`
}

type userDTO struct {
	Type      string  `json:"type"`
	FirstName *string `json:"firstname"`
	LastName  *string `json:"lastname"`
	Phone     string  `json:"phone"`
}

func (s *Server) handleRecordings(w http.ResponseWriter, r *http.Request) {
	if !s.authorise(r.Header.Get("Authorization")) {
		s.unauthorised(w)
		return
	}
	q := r.URL.Query()
	if got := q.Get("range"); got != "custom" {
		badRequest(w, "range %q is not supported; use custom", got)
		return
	}
	start, err := time.Parse(dateLayout, q.Get("startdate"))
	if err != nil {
		badRequest(w, "startdate %q is not YYYYMMDD_HHMMSS", q.Get("startdate"))
		return
	}
	end, err := time.Parse(dateLayout, q.Get("enddate"))
	if err != nil {
		badRequest(w, "enddate %q is not YYYYMMDD_HHMMSS", q.Get("enddate"))
		return
	}
	page, ok1 := intParam(q, "page", 1, 1, 1_000_000)
	size, ok2 := intParam(q, "pagesize", 20, 1, 1_000_000)
	maxResults, ok3 := intParam(q, "maxresults", 0, -1, 1<<31-1)
	if !ok1 || !ok2 || !ok3 {
		badRequest(w, "page, pagesize or maxresults is not a valid number")
		return
	}
	if s.failPage(page) {
		tomcatError(w, http.StatusInternalServerError, "The server encountered an unexpected condition that prevented it from fulfilling the request.")
		return
	}
	size = min(size, s.pageCap)
	if lim := s.opts.ResultLimit; lim > 0 && (maxResults <= 0 || maxResults > lim) {
		maxResults = lim
	}

	offset := (page - 1) * size
	if s.opts.RepeatPages {
		offset = 0
	}
	limit := size
	if maxResults > 0 {
		limit = min(limit, maxResults-offset)
	}
	if page > 1 && s.opts.InsertPerPage > 0 {
		s.insertAtHead(start.Unix(), end.Unix(), s.opts.InsertPerPage)
	}
	recs, total := s.window(start.Unix(), end.Unix(), offset, limit)
	s.mu.Lock()
	s.rowsServed += len(recs)
	s.mu.Unlock()
	available, capped := total, false
	if maxResults > 0 && total > maxResults {
		available, capped = maxResults, true
	}
	if s.opts.ServerErrorPastLastPage && page > 1 && len(recs) == 0 && !s.opts.RepeatPages {
		tomcatError(w, http.StatusInternalServerError, "The server encountered an unexpected condition that prevented it from fulfilling the request.")
		return
	}
	more := offset+len(recs) < available
	if s.opts.RepeatPages {
		more = available > size
	}
	next := more
	switch s.opts.NextPage {
	case NextPageWhenFull:
		next = more || len(recs) == size
	case NextPageAlways:
		next = true
	}
	limitReached := capped
	if s.opts.LimitReachedOnLastPage {
		limitReached = !more
	}

	ans := pageAnswer{
		Objects:      make([]recordingDTO, 0, len(recs)),
		LimitReached: limitReached,
		Page:         page,
		ResultCount:  -1,
	}
	if !s.opts.OmitPageSize {
		ans.PageSize = &size
	}
	if next {
		ans.NextPageURI = s.pageURI(r, q, page+1)
	}
	if page > 1 {
		ans.PrevPageURI = s.pageURI(r, q, page-1)
	}
	for i := range recs {
		ans.Objects = append(ans.Objects, s.render(&recs[i]))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ans)
}

func (s *Server) pageURI(r *http.Request, q url.Values, page int) *string {
	v := make(url.Values, len(q))
	for k, vs := range q {
		v[k] = vs
	}
	v.Set("page", strconv.Itoa(page))
	u := s.nextBase + r.URL.Path + "?" + v.Encode()
	return &u
}

func (s *Server) render(rec *Recording) recordingDTO {
	var id any = rec.ID
	if s.opts.StringIDs {
		id = strconv.FormatInt(rec.ID, 10)
	}
	ts := rec.RawTimestamp
	if ts == "" {
		ts = rec.Timestamp.UTC().Format(timestampLayout)
	}
	sid := strconv.FormatInt(rec.ID, 10)
	d := recordingDTO{
		Type:         "recordingDto",
		ID:           id,
		Timestamp:    ts,
		Duration:     rec.Duration,
		LocalParty:   rec.LocalParty,
		RemoteParty:  rec.RemoteParty,
		Direction:    renderDirection(rec.Direction),
		RecordingURL: s.mediaURL + "/orktrack/rest/mediastream/" + sid,
		WaveformURL:  s.mediaURL + "/orktrack/rest/waveform/" + sid,
		Filesize:     rec.Audio.Size,
		Tags:         []string{},
		Metadata:     map[string]string{},
		Programs:     []string{},
	}
	if rec.FirstName != "" || rec.LastName != "" {
		d.UserDto = &userDTO{
			Type: "userDto", FirstName: nullable(rec.FirstName), LastName: nullable(rec.LastName),
			Phone: rec.LocalParty,
		}
	}
	return d
}

// renderDirection is the JSON of a Recording.Direction: nothing for
// DirectionMissing, null for DirectionNull, else the string.
func renderDirection(d string) json.RawMessage {
	switch d {
	case DirectionMissing:
		return nil
	case DirectionNull:
		return json.RawMessage("null")
	}
	b, _ := json.Marshal(d)
	return b
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// intParam reads q[name] as an int in [lo, hi], def when absent.
func intParam(q url.Values, name string, def, lo, hi int) (int, bool) {
	s := q.Get(name)
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

func badRequest(w http.ResponseWriter, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	msg, _ := json.Marshal(fmt.Sprintf(format, args...))
	_, _ = fmt.Fprintf(w, `{"error":%s}`+"\n", msg)
}
