package sink_test

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
)

// seed adds recordings to business A directly: dataIds, callAt one minute
// apart from 08:00 Bangkok time, in the order given.
func seed(srv *fakecrk.Server, dataIDs ...string) {
	at := time.Date(2026, 5, 20, 8, 0, 0, 0, bangkok)
	for i, d := range dataIDs {
		srv.AddRecording(fakecrk.BizA, fakecrk.Recording{DataID: d, Direction: "in", CallAt: at.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)})
	}
}

// TestList: the query parameters sent, paging, and the fields decoded.
func TestList(t *testing.T) {
	srv := startFake(t, nil)
	base, rc := record(t, srv)
	c := newClient(t, base, fakecrk.TokFull, nil)
	seed(srv, "l-0", "l-1", "l-2", "l-3", "l-4", "other")

	p, err := c.List(t.Context(), sink.Query{Search: "l-", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 5 || p.Limit != 2 || p.Offset != 0 || len(p.Items) != 2 || p.Items[0].DataID != "l-4" || p.Items[1].DataID != "l-3" {
		t.Fatalf("first page %+v", p)
	}
	p, err = c.List(t.Context(), sink.Query{Search: "l-", Limit: 2, Offset: 4})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 5 || p.Offset != 4 || len(p.Items) != 1 || p.Items[0].DataID != "l-0" {
		t.Fatalf("last page %+v", p)
	}

	from := time.Date(2026, 5, 20, 8, 1, 0, 0, bangkok)
	to := time.Date(2026, 5, 20, 1, 3, 0, 0, time.UTC) // 08:03 in Bangkok
	p, err = c.List(t.Context(), sink.Query{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 3 || p.Limit != 200 || len(p.Items) != 3 {
		t.Fatalf("window page %+v", p)
	}

	lists := rc.requests(http.MethodGet, "/api/v1/recordings")
	want := []map[string]string{
		{"search": "l-", "limit": "2", "offset": "0"},
		{"search": "l-", "limit": "2", "offset": "4"},
		{"callDateFrom": "2026-05-20T08:01:00+07:00", "callDateTo": "2026-05-20T01:03:00Z", "limit": "200", "offset": "0"},
	}
	for i, w := range want {
		q := lists[i].Query
		if len(q) != len(w) {
			t.Errorf("request %d: query %v, want %v", i, q, w)
		}
		for k, v := range w {
			if q.Get(k) != v {
				t.Errorf("request %d: %s=%q, want %q", i, k, q.Get(k), v)
			}
		}
	}

	// Limits out of range are brought to the API's maximum.
	for _, limit := range []int{-1, 0, 201, 5000} {
		if _, err := c.List(t.Context(), sink.Query{Limit: limit}); err != nil {
			t.Fatalf("limit %d: %v", limit, err)
		}
		lists := rc.requests(http.MethodGet, "/api/v1/recordings")
		if got := lists[len(lists)-1].Query.Get("limit"); got != "200" {
			t.Errorf("limit %d sent as %q", limit, got)
		}
	}
}

// TestListFields: what a listing says of a recording before and after
// upload and processing.
func TestListFields(t *testing.T) {
	srv := startFake(t, nil)
	srv.SetBehaviour(fakecrk.Behaviour{ProcessingBefore: "uploaded"})
	c := newClient(t, srv.URL(), fakecrk.TokFull, nil)
	cr := mustCreate(t, c, "lf-1")

	r, err := c.Find(t.Context(), "lf-1")
	if err != nil || r == nil {
		t.Fatalf("find: %+v, %v", r, err)
	}
	if string(r.ID) != cr.ID || r.DataID != "lf-1" || r.CallAt != "2026-05-20T08:14:00+07:00" || r.Direction != "in" ||
		r.CustomerPhone != "+66812345678" || r.ProcessingStatus != "uploaded" || r.AudioURL != "" || r.TranscriptURL != "" || r.Completed() {
		t.Fatalf("before upload: %+v", *r)
	}
	if err := c.Upload(t.Context(), cr.UploadURL, "audio/wav", audio(1, 50).Reader(), 50); err != nil {
		t.Fatal(err)
	}
	if r, err = c.Find(t.Context(), "lf-1"); err != nil || r.AudioURL == "" || r.Completed() {
		t.Fatalf("after upload: %+v, %v", r, err)
	}
	if _, err := c.Reextract(t.Context(), cr.ID); err != nil {
		t.Fatal(err)
	}
	if r, err = c.Find(t.Context(), "lf-1"); err != nil || r.ProcessingStatus != "completed" || r.TranscriptURL == "" || r.SummaryURL == "" || !r.Completed() {
		t.Fatalf("after reextract: %+v, %v", r, err)
	}
}

// TestFind: search matches substrings, so Find pages past near-misses to
// the exact dataId, and answers nil when there is none.
func TestFind(t *testing.T) {
	// "x-1" is the oldest, so the last of 251 in the API's order (newest
	// first): on the second page of 200.
	ids := []string{"x-1"}
	for i := range 250 {
		ids = append(ids, "x-1"+strconv.Itoa(i)) // x-10 … x-1249
	}
	srv := startFake(t, nil)
	seed(srv, ids...)
	c := newClient(t, srv.URL(), fakecrk.TokFull, nil)

	tests := []struct {
		dataID string
		found  bool
		lists  int // GET /recordings requests
	}{
		{"x-1", true, 2},
		{"x-1249", true, 1},
		{"X-1", false, 2}, // search ignores case, the dataId does not
		{"x-2", false, 1},
		{"nothing", false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.dataID, func(t *testing.T) {
			before := srv.Count(fakecrk.EndpointList)
			r, err := c.Find(t.Context(), tt.dataID)
			if err != nil {
				t.Fatal(err)
			}
			if (r != nil) != tt.found || (r != nil && r.DataID != tt.dataID) {
				t.Fatalf("found %+v", r)
			}
			if n := srv.Count(fakecrk.EndpointList) - before; n != tt.lists {
				t.Errorf("%d list requests, want %d", n, tt.lists)
			}
		})
	}
}

// TestFindSmallPages: a server that pages smaller than asked (as one may
// cap its page size) is paged through all the same.
func TestFindSmallPages(t *testing.T) {
	srv := startFake(t, nil)
	base, rc := record(t, srv)
	rc.rewrite = func(r *http.Request) {
		q := r.URL.Query()
		q.Set("limit", "7")
		r.URL.RawQuery = q.Encode()
	}
	ids := []string{"y-1"}
	for i := range 30 {
		ids = append(ids, fmt.Sprintf("y-1%d", i))
	}
	seed(srv, ids...)
	c := newClient(t, base, fakecrk.TokFull, nil)
	r, err := c.Find(t.Context(), "y-1")
	if err != nil || r == nil || r.DataID != "y-1" {
		t.Fatalf("find: %+v, %v", r, err)
	}
	if n := srv.Count(fakecrk.EndpointList); n != 5 { // 31 in pages of 7
		t.Fatalf("%d list requests, want 5", n)
	}
}

// TestFindOddServers: answers the fake does not give.
func TestFindOddServers(t *testing.T) {
	tests := []struct {
		name  string
		pages []string // answered in turn; the last one again after
		found string   // the id found, "" = none
		lists int
	}{
		{"ids as numbers", []string{`{"items":[{"id":41,"dataId":"d-10"},{"id":42,"dataId":"d-1"}],"total":2}`}, "42", 1},
		{"total that overstates", []string{`{"items":[{"id":"a","dataId":"d-10"}],"total":1000}`, `{"items":[],"total":1000}`}, "", 2},
		{"no total", []string{`{"items":[{"id":"a","dataId":"d-10"}]}`}, "", 1},
		{"nulls", []string{`{"items":[{"id":"a","dataId":"d-1","customerPhone":null,"processingStatus":null,"transcriptUrl":null}],"total":1,"limit":200,"offset":0}`}, "a", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var served atomic.Int32
			base := stub(t, func(w http.ResponseWriter, r *http.Request) {
				n := int(served.Add(1))
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tt.pages[min(n, len(tt.pages))-1]))
			})
			c := newClient(t, base, tokHTTPTest, nil)
			r, err := c.Find(t.Context(), "d-1")
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if r != nil {
				got = string(r.ID)
			}
			if n := int(served.Load()); got != tt.found || n != tt.lists {
				t.Fatalf("found %q after %d requests, want %q after %d", got, served.Load(), tt.found, tt.lists)
			}
		})
	}
}

// TestFindErrors: a key that may not read recordings cannot find them.
func TestFindErrors(t *testing.T) {
	srv := startFake(t, nil)
	c := newClient(t, srv.URL(), fakecrk.TokIngest, nil)
	_, err := c.Find(t.Context(), "x")
	if !errors.Is(err, sink.ErrInsufficientScope) || apiError(t, err).Message != "Token lacks 'view_recording_all'" {
		t.Fatalf("find: %v", err)
	}
	// A key that sees its own recordings only may find those.
	self := newClient(t, srv.URL(), fakecrk.TokSelf, nil)
	srv.AddRecording(fakecrk.BizA, fakecrk.Recording{DataID: "mine", UserID: "u1", CallAt: "2026-05-20T08:00:00+07:00"})
	srv.AddRecording(fakecrk.BizA, fakecrk.Recording{DataID: "theirs", UserID: "u2", CallAt: "2026-05-20T08:00:00+07:00"})
	if r, err := self.Find(t.Context(), "mine"); err != nil || r == nil {
		t.Fatalf("find mine: %+v, %v", r, err)
	}
	if r, err := self.Find(t.Context(), "theirs"); err != nil || r != nil {
		t.Fatalf("find theirs: %+v, %v", r, err)
	}
}

// TestCompleted: only "completed", a transcript or a summary prove that
// AI processing was asked for; every other word is undocumented.
func TestCompleted(t *testing.T) {
	tests := []struct {
		status, transcript, summary string
		want                        bool
	}{
		{"", "", "", false},
		{"none", "", "", false},
		{"completed", "", "", true},
		{" COMPLETED ", "", "", true},
		{"processing", "", "", false},
		{"queued", "", "", false},
		{"pending", "", "", false},
		{"failed", "", "", false},
		{"uploaded", "", "", false},
		{"", "https://x/transcript", "", true},
		{"", "", "https://x/summary", true},
		{"pending", "https://x/transcript", "", true},
	}
	for _, tt := range tests {
		r := sink.Remote{ProcessingStatus: tt.status, TranscriptURL: tt.transcript, SummaryURL: tt.summary}
		if got := r.Completed(); got != tt.want {
			t.Errorf("Completed(%q, transcript %q, summary %q) = %v, want %v", tt.status, tt.transcript, tt.summary, got, tt.want)
		}
	}
}
