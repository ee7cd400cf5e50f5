package fakecrk

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// seedList adds four recordings to business A and one to B.
func seedList(s *Server) {
	s.AddRecording(BizA, Recording{DataID: "dtac-100", CallAt: "2026-05-18T09:00:00+07:00", Direction: "in",
		CustomerPhone: "+66811111111", CallcenterNumber: "101", CallcenterName: "Somchai", SourceProvider: SourceDTAC,
		Duration: 30 * time.Second, Tag: "normal", Score: 80, HasScore: true, ProcessingStatus: "completed", HasAudio: true, UserID: "u1"})
	s.AddRecording(BizA, Recording{DataID: "3cx-pbx-200", CallAt: "2026-05-19T23:30:00+07:00", Direction: "out",
		CustomerPhone: "+66822222222", CallcenterNumber: "555", SourceProvider: SourceThreeCX,
		Duration: 120 * time.Second, Tag: "short", Score: 40, HasScore: true, UserID: "u2"})
	s.AddRecording(BizA, Recording{DataID: "Upload-300", CallAt: "2026-05-20T00:30:00Z", Direction: "in", Duration: 5 * time.Second})
	s.AddRecording(BizA, Recording{DataID: "dtac-400", CallAt: "2026-05-20T08:00:00+07:00", Direction: "in",
		CustomerPhone: "+66811111111", SourceProvider: SourceDTAC, Duration: 60 * time.Second, Tag: "other", Score: 95, HasScore: true})
	s.AddRecording(BizB, Recording{DataID: "dtac-999", CallAt: "2026-05-21T08:00:00+07:00", Direction: "in", SourceProvider: SourceDTAC})
}

type listed struct {
	Items []struct {
		DataID string `json:"dataId"`
	} `json:"items"`
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

func TestListFiltersAndPaging(t *testing.T) {
	s, _ := start(t, nil)
	seedList(s)
	c := client(t, true)
	tests := []struct {
		name, query     string
		token, business string // default TokFull
		allFields       bool
		want            []string
		total, limit    int // 0 = len(want), 20
		offset          int
	}{
		{name: "default: newest first", want: []string{"dtac-400", "Upload-300", "3cx-pbx-200", "dtac-100"}},
		{name: "first page", query: "limit=2", want: []string{"dtac-400", "Upload-300"}, total: 4, limit: 2},
		{name: "second page", query: "limit=2&offset=2", want: []string{"3cx-pbx-200", "dtac-100"}, total: 4, limit: 2, offset: 2},
		{name: "short last page", query: "limit=3&offset=3", want: []string{"dtac-100"}, total: 4, limit: 3, offset: 3},
		{name: "past the end", query: "offset=10", want: []string{}, total: 4, offset: 10},
		{name: "largest limit", query: "limit=200", want: []string{"dtac-400", "Upload-300", "3cx-pbx-200", "dtac-100"}, limit: 200},
		{name: "ascending", query: "sortDir=asc", want: []string{"dtac-100", "3cx-pbx-200", "Upload-300", "dtac-400"}},
		{name: "direction", query: "direction=out", want: []string{"3cx-pbx-200"}},
		{name: "source dtac", query: "sourceProvider=dtac", want: []string{"dtac-400", "dtac-100"}},
		{name: "source upload", query: "sourceProvider=upload", want: []string{"Upload-300"}},
		{name: "source threecx", query: "sourceProvider=threecx", want: []string{"3cx-pbx-200"}},
		{name: "from, inclusive", query: "callDateFrom=2026-05-19T16:30:00Z", want: []string{"dtac-400", "Upload-300", "3cx-pbx-200"}},
		{name: "to, inclusive, with offset", query: "callDateTo=2026-05-19T23:30:00%2B07:00", want: []string{"3cx-pbx-200", "dtac-100"}},
		{name: "one UTC day", query: "callDateFrom=2026-05-19&callDateTo=2026-05-19", want: []string{"3cx-pbx-200"}},
		{name: "customer phone exact", query: "customerPhone=%2B66811111111", want: []string{"dtac-400", "dtac-100"}},
		{name: "customer phone not a prefix", query: "customerPhone=%2B6681", want: []string{}},
		{name: "search is case-insensitive", query: "search=DTAC", want: []string{"dtac-400", "dtac-100"}},
		{name: "search upload", query: "search=upload", want: []string{"Upload-300"}},
		{name: "search ignores phone by default", query: "search=555", want: []string{}},
		{name: "search phone, newer docs", query: "search=%2B6682", allFields: true, want: []string{"3cx-pbx-200"}},
		{name: "search callcenter number, newer docs", query: "search=555", allFields: true, want: []string{"3cx-pbx-200"}},
		{name: "search callcenter name, newer docs", query: "search=SOMCHAI", allFields: true, want: []string{"dtac-100"}},
		{name: "sort by duration", query: "sortBy=duration&sortDir=asc", want: []string{"Upload-300", "dtac-100", "dtac-400", "3cx-pbx-200"}},
		{name: "sort by score", query: "sortBy=score", want: []string{"dtac-400", "dtac-100", "3cx-pbx-200", "Upload-300"}},
		{name: "tag", query: "tag=short", want: []string{"3cx-pbx-200"}},
		{name: "score range", query: "scoreMin=50&scoreMax=90", want: []string{"dtac-100"}},
		{name: "filters combine", query: "sourceProvider=dtac&callDateFrom=2026-05-20", want: []string{"dtac-400"}},
		{name: "other business", token: TokB, want: []string{"dtac-999"}},
		{name: "account key on B", token: TokAccount, business: BizB, want: []string{"dtac-999"}},
		{name: "account key on A", token: TokAccount, business: BizA, query: "limit=1", want: []string{"dtac-400"}, total: 4, limit: 1},
		{name: "view_recording_self", token: TokSelf, want: []string{"dtac-100"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.SetBehaviour(Behaviour{SearchAllFields: tc.allFields})
			tok := cmp.Or(tc.token, TokFull)
			a := do(t, s, c, call{method: "GET", path: "/recordings?" + tc.query, token: tok, business: tc.business})
			if a.status != 200 {
				t.Fatalf("%d %s", a.status, a.body)
			}
			var l listed
			a.decode(t, &l)
			got := []string{}
			for _, it := range l.Items {
				got = append(got, it.DataID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("items %v, want %v", got, tc.want)
			}
			wantTotal := tc.total
			if wantTotal == 0 {
				wantTotal = len(tc.want)
			}
			wantLimit := tc.limit
			if wantLimit == 0 {
				wantLimit = 20
			}
			if l.Total != wantTotal || l.Limit != wantLimit || l.Offset != tc.offset {
				t.Errorf("total/limit/offset %d/%d/%d, want %d/%d/%d", l.Total, l.Limit, l.Offset, wantTotal, wantLimit, tc.offset)
			}
		})
	}
}

func TestListInvalidQuery(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	tests := []struct{ query, field string }{
		{"limit=0", "limit"},
		{"limit=201", "limit"},
		{"limit=ten", "limit"},
		{"limit=-5", "limit"},
		{"offset=-1", "offset"},
		{"offset=x", "offset"},
		{"direction=inbound", "direction"},
		{"sourceProvider=ftp", "sourceProvider"},
		{"callDateFrom=yesterday", "callDateFrom"},
		{"callDateTo=2026-05-19T23:30:00", "callDateTo"},
		{"sortBy=name", "sortBy"},
		{"sortDir=up", "sortDir"},
		{"tag=great", "tag"},
		{"scoreMin=high", "scoreMin"},
		{"scoreMax=low", "scoreMax"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			a := do(t, s, c, call{method: "GET", path: "/recordings?" + tc.query, token: TokView})
			if a.status != http.StatusUnprocessableEntity {
				t.Fatalf("%d %s", a.status, a.body)
			}
			if e := a.apiError(t); e.Code != "validation_failed" || !strings.HasPrefix(e.Message, tc.field+":") {
				t.Fatalf("error %+v, want validation_failed naming %s", e, tc.field)
			}
		})
	}
}

func TestListItemShape(t *testing.T) {
	s, _ := start(t, nil)
	seedList(s)
	c := client(t, true)
	a := do(t, s, c, call{method: "GET", path: "/recordings?search=0&sortDir=asc", token: TokView})
	var l struct {
		Items []json.RawMessage `json:"items"`
	}
	a.decode(t, &l)
	id100, _ := s.Recording(BizA, "dtac-100")
	id300, _ := s.Recording(BizA, "Upload-300")
	host := strings.TrimSuffix(s.URL(), "/api/v1")
	want := map[int]string{
		0: `{"id":"` + id100.ID + `","dataId":"dtac-100","callAt":"2026-05-18T09:00:00+07:00","direction":"in","customerPhone":"+66811111111","tag":"normal","score":80,` +
			`"processingStatus":"completed","audioUrl":"` + host + `/storage/` + BizA + `/` + id100.ID + `",` +
			`"transcriptUrl":"` + s.URL() + `/recordings/` + id100.ID + `/transcript","summaryUrl":"` + s.URL() + `/recordings/` + id100.ID + `/summary"}`,
		2: `{"id":"` + id300.ID + `","dataId":"Upload-300","callAt":"2026-05-20T00:30:00Z","direction":"in","customerPhone":null,"tag":null,"score":null,"audioUrl":null,"transcriptUrl":null,"summaryUrl":null}`,
	}
	if len(l.Items) != 4 {
		t.Fatalf("%d items: %s", len(l.Items), a.body)
	}
	for i, w := range want {
		if string(l.Items[i]) != w {
			t.Errorf("item %d\n got %s\nwant %s", i, l.Items[i], w)
		}
	}
}

func TestListAfterIngest(t *testing.T) {
	s, _ := start(t, nil)
	s.SetBehaviour(Behaviour{ProcessingBefore: "pending"})
	c := client(t, true)
	cr := mustCreate(t, s, c, TokFull, "", "3cx-acme-1", `"customerPhone":"+66812345678"`)
	list := func() string {
		a := do(t, s, c, call{method: "GET", path: "/recordings?sourceProvider=upload&search=3CX-ACME", token: TokFull})
		var l struct {
			Items []struct {
				ID               string  `json:"id"`
				ProcessingStatus string  `json:"processingStatus"`
				AudioURL         *string `json:"audioUrl"`
			} `json:"items"`
		}
		a.decode(t, &l)
		if len(l.Items) != 1 || l.Items[0].ID != cr.ID {
			t.Fatalf("list: %s", a.body)
		}
		return l.Items[0].ProcessingStatus
	}
	if got := list(); got != "pending" {
		t.Fatalf("before reextract: %q", got)
	}
	put(t, c, cr.UploadURL, "audio/wav", []byte("RIFF"), false)
	do(t, s, c, call{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokFull})
	if got := list(); got != "completed" {
		t.Fatalf("after reextract: %q", got)
	}
}
