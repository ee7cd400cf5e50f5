package threecx

import (
	"strconv"
	"testing"
	"time"

	fake "github.com/crkai/syncd/internal/fake/fakethreecx"
)

// churnStats is what one listing under churn cost and missed.
type churnStats struct {
	requests, listed, deleted, missed int
}

// churnListing lists n recordings (one a second from base) with pages of
// pageSize while the PBX deletes the earliest recording still there before
// every every-th listing request (the first excepted), and counts the
// page requests and the recordings that were there at the end but not
// listed.
func churnListing(tb testing.TB, n, pageSize, every int) churnStats {
	tb.Helper()
	var srv *fake.Server
	next := int32(1) // the earliest recording not yet deleted
	deleted := map[int32]bool{}
	srv = startFake(tb, fake.Options{BeforeListing: func(k int) {
		if k > 1 && (k-1)%every == 0 {
			srv.Delete(next)
			deleted[next] = true
			next++
		}
	}})
	for i := range n {
		r := fake.NewRecording(int32(i+1), base.Add(time.Duration(i)*time.Second), fake.InboundExternal, uint64(i))
		srv.Add(r)
	}
	cfg := clientConfig()
	cfg.PageSize = pageSize
	c := connect(tb, srv.URL(), cfg, nil)
	got, err := c.List(tb.Context(), base, base.Add(time.Duration(n)*time.Second))
	if err != nil {
		tb.Fatal(err)
	}
	listed := map[string]bool{}
	for _, r := range got {
		listed[r.ID] = true
	}
	st := churnStats{requests: srv.Requests(recordingsPath), listed: len(got), deleted: len(deleted)}
	for i := range n {
		id := int32(i + 1)
		if !deleted[id] && !listed[itoa(id)] {
			st.missed++
		}
	}
	return st
}

// TestListUnderDeletions lists 10,000 recordings while the PBX deletes an
// already listed one every 100 page requests: no recording still there
// may be missed, and paging costs one request a page (plus the last, short
// or empty, one).
func TestListUnderDeletions(t *testing.T) {
	for _, tc := range []struct {
		pageSize, every int
	}{
		{100, 100},
		{10, 100},
		{100, 10},
	} {
		st := churnListing(t, 10_000, tc.pageSize, tc.every)
		t.Logf("10,000 recordings, $top=%d, a deletion every %d requests: %d page requests, %d listed, %d deleted, %d missed",
			tc.pageSize, tc.every, st.requests, st.listed, st.deleted, st.missed)
		if st.missed != 0 {
			t.Errorf("$top=%d: %d recordings still at the PBX were not listed", tc.pageSize, st.missed)
		}
		if maxRequests := 10_000/tc.pageSize + 1; st.requests > maxRequests {
			t.Errorf("$top=%d: %d page requests, want at most %d", tc.pageSize, st.requests, maxRequests)
		}
	}
}

func itoa(id int32) string { return strconv.Itoa(int(id)) }
