package fakecrk

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

type listItem struct {
	ID               string   `json:"id"`
	DataID           string   `json:"dataId"`
	CallAt           string   `json:"callAt"`
	Direction        string   `json:"direction"`
	CustomerPhone    *string  `json:"customerPhone"`
	Tag              *string  `json:"tag"`
	Score            *float64 `json:"score"`
	ProcessingStatus string   `json:"processingStatus,omitempty"`
	AudioURL         *string  `json:"audioUrl"`
	TranscriptURL    *string  `json:"transcriptUrl"`
	SummaryURL       *string  `json:"summaryUrl"`
}

type listResponse struct {
	Items  []listItem `json:"items"`
	Total  int        `json:"total"`
	Limit  int        `json:"limit"`
	Offset int        `json:"offset"`
}

// listQuery is a validated query of GET /recordings.
type listQuery struct {
	limit, offset            int
	direction, source, phone string
	search, tag              string
	from, to                 time.Time
	hasFrom, hasTo           bool
	scoreMin, scoreMax       float64
	hasMin, hasMax           bool
	sortBy                   string
	desc                     bool
}

// list answers GET /api/v1/recordings: the key's business's recordings,
// filtered, sorted and paged.
func (s *Server) list(w http.ResponseWriter, r *http.Request, p *principal) {
	q, err := parseListQuery(r.URL.Query())
	if err != nil {
		writeAPIError(w, http.StatusUnprocessableEntity, "validation_failed", err.Error())
		return
	}
	onlyUser := ""
	if !p.has(ScopeViewAll) {
		onlyUser = p.token.UserID
		if onlyUser == "" {
			onlyUser = "\x00" // a key linked to no user sees nothing of its own
		}
	}
	allFields := s.knobs().SearchAllFields

	now := s.now()
	s.store.mu.Lock()
	var hits []Recording
	var times []time.Time
	for _, rec := range s.store.byID {
		rec.settle(now)
		if rec.BusinessID == p.business && (onlyUser == "" || rec.UserID == onlyUser) && q.match(rec, allFields) {
			hits = append(hits, rec.Recording)
			times = append(times, rec.callAt)
		}
	}
	s.store.mu.Unlock()

	idx := make([]int, len(hits))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		ra, rb := &hits[a], &hits[b]
		var c int
		switch q.sortBy {
		case "duration":
			c = cmp.Compare(ra.Duration, rb.Duration)
		case "score":
			c = cmp.Compare(scoreKey(ra), scoreKey(rb))
		default:
			c = times[a].Compare(times[b])
		}
		if q.desc {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(ra.DataID, rb.DataID))
	})

	resp := listResponse{Items: []listItem{}, Total: len(hits), Limit: q.limit, Offset: q.offset}
	base := "http://" + r.Host
	if r.TLS != nil {
		base = "https://" + r.Host
	}
	for _, i := range idx[min(q.offset, len(idx)):min(q.offset+q.limit, len(idx))] {
		resp.Items = append(resp.Items, item(&hits[i], base))
	}
	writeJSON(w, http.StatusOK, resp)
}

func scoreKey(r *Recording) float64 {
	if !r.HasScore {
		return -1
	}
	return r.Score
}

func item(r *Recording, base string) listItem {
	it := listItem{ID: r.ID, DataID: r.DataID, CallAt: r.CallAt, Direction: r.Direction, ProcessingStatus: r.ProcessingStatus}
	if r.CustomerPhone != "" {
		it.CustomerPhone = &r.CustomerPhone
	}
	if r.Tag != "" {
		it.Tag = &r.Tag
	}
	if r.HasScore {
		it.Score = &r.Score
	}
	if r.HasAudio {
		u := base + storagePathPrefix + url.PathEscape(r.BusinessID) + "/" + url.PathEscape(r.ID)
		it.AudioURL = &u
	}
	if r.ProcessingStatus == "completed" {
		t := base + recordingsPath + "/" + url.PathEscape(r.ID) + "/transcript"
		sm := base + recordingsPath + "/" + url.PathEscape(r.ID) + "/summary"
		it.TranscriptURL, it.SummaryURL = &t, &sm
	}
	return it
}

func (q *listQuery) match(r *record, allFields bool) bool {
	switch {
	case q.direction != "" && r.Direction != q.direction,
		q.source != "" && r.SourceProvider != q.source,
		q.phone != "" && r.CustomerPhone != q.phone,
		q.tag != "" && r.Tag != q.tag,
		q.hasFrom && r.callAt.Before(q.from),
		q.hasTo && r.callAt.After(q.to),
		(q.hasMin || q.hasMax) && !r.HasScore,
		q.hasMin && r.Score < q.scoreMin,
		q.hasMax && r.Score > q.scoreMax:
		return false
	}
	if q.search == "" {
		return true
	}
	fields := []string{r.DataID}
	if allFields {
		fields = append(fields, r.CustomerPhone, r.CallcenterNumber, r.CallcenterName)
	}
	return slices.ContainsFunc(fields, func(f string) bool { return strings.Contains(strings.ToLower(f), q.search) })
}

func parseListQuery(v url.Values) (*listQuery, error) {
	q := &listQuery{limit: defaultListLimit, sortBy: "callAt", desc: true}
	var err error
	if s := v.Get("limit"); s != "" {
		if q.limit, err = strconv.Atoi(s); err != nil || q.limit < 1 || q.limit > maxListLimit {
			return nil, fmt.Errorf("limit: must be an integer from 1 to %d", maxListLimit)
		}
	}
	if s := v.Get("offset"); s != "" {
		if q.offset, err = strconv.Atoi(s); err != nil || q.offset < 0 {
			return nil, fmt.Errorf("offset: must be a non-negative integer")
		}
	}
	q.direction = v.Get("direction")
	if q.direction != "" && q.direction != "in" && q.direction != "out" {
		return nil, fmt.Errorf(`direction: must be "in" or "out"`)
	}
	switch q.source = v.Get("sourceProvider"); q.source {
	case "", SourceUpload, SourceThreeCX, SourceDTAC:
	default:
		return nil, fmt.Errorf("sourceProvider: must be one of threecx, dtac, upload")
	}
	if s := v.Get("callDateFrom"); s != "" {
		if q.from, _, err = parseDate(s); err != nil {
			return nil, fmt.Errorf("callDateFrom: %w", err)
		}
		q.hasFrom = true
	}
	if s := v.Get("callDateTo"); s != "" {
		var dateOnly bool
		if q.to, dateOnly, err = parseDate(s); err != nil {
			return nil, fmt.Errorf("callDateTo: %w", err)
		}
		if dateOnly { // the whole day is included
			q.to = q.to.Add(24*time.Hour - time.Nanosecond)
		}
		q.hasTo = true
	}
	q.phone = v.Get("customerPhone")
	q.search = strings.ToLower(v.Get("search"))
	if q.tag = v.Get("tag"); q.tag != "" && !validTags[q.tag] {
		return nil, fmt.Errorf("tag: must be one of normal, short, wrong_or_spam, no_answer, other")
	}
	if s := v.Get("scoreMin"); s != "" {
		if q.scoreMin, err = strconv.ParseFloat(s, 64); err != nil {
			return nil, fmt.Errorf("scoreMin: must be a number")
		}
		q.hasMin = true
	}
	if s := v.Get("scoreMax"); s != "" {
		if q.scoreMax, err = strconv.ParseFloat(s, 64); err != nil {
			return nil, fmt.Errorf("scoreMax: must be a number")
		}
		q.hasMax = true
	}
	switch s := v.Get("sortBy"); s {
	case "":
	case "callAt", "duration", "score":
		q.sortBy = s
	default:
		return nil, fmt.Errorf("sortBy: must be one of callAt, duration, score")
	}
	switch v.Get("sortDir") {
	case "", "desc":
	case "asc":
		q.desc = false
	default:
		return nil, fmt.Errorf(`sortDir: must be "asc" or "desc"`)
	}
	return q, nil
}

// parseDate reads an ISO 8601 date-time with offset, or a date (taken as
// UTC midnight).
func parseDate(s string) (t time.Time, dateOnly bool, err error) {
	if t, err = time.Parse(time.RFC3339Nano, s); err == nil {
		return t, false, nil
	}
	if t, err = time.Parse(time.DateOnly, s); err == nil {
		return t, true, nil
	}
	return time.Time{}, false, fmt.Errorf("must be an ISO 8601 date or date-time, got %q", s)
}
