package dtac

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakedtac"
)

// addSeconds puts n recordings into s, a second apart from t0, ids from
// 500, and returns their ids in start order.
func addSeconds(s *fakedtac.Server, n int) []string {
	ids := make([]string, n)
	for i := range n {
		id := int64(500 + i)
		s.Add(fakedtac.Recording{ID: id, Timestamp: t0.Add(time.Duration(i) * time.Second), Direction: "OUT",
			Audio: fakeaudio.Audio{Seed: 1, Size: 10}})
		ids[i] = strconv.FormatInt(id, 10)
	}
	return ids
}

// TestListLimitReachedAsLastPage: a portal that says limitReached: true on
// its last page (one public client's reading: "follow nextPageUri until
// limitReached: true") is listed whole, however the last page falls. List
// asks once past the newest recording seen, to tell that last page from a
// cap, and stops when that brings nothing new: one request more than the
// pages.
func TestListLimitReachedAsLastPage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     fakedtac.Options
		n, size  int
		requests int
	}{
		{"short last page", fakedtac.Options{}, 23, 5, 5 + 1},
		{"full last page (an exact multiple)", fakedtac.Options{}, 20, 5, 4 + 1},
		{"one short page", fakedtac.Options{}, 3, 5, 1 + 1},
		{"one full page", fakedtac.Options{}, 5, 5, 1 + 1},
		{"one recording", fakedtac.Options{}, 1, 5, 1 + 1},
		{"empty", fakedtac.Options{}, 0, 5, 1},
		{"newest first, short last page", fakedtac.Options{NewestFirst: true}, 23, 5, 5 + 1},
		{"newest first, full last page", fakedtac.Options{NewestFirst: true}, 20, 5, 4 + 1},
		{"silent page cap below the size asked", fakedtac.Options{PageCap: 4, OmitPageSize: true}, 23, 10, 6 + 1},
		{"end exclusive, string ids", fakedtac.Options{EndExclusive: true, StringIDs: true}, 12, 5, 3 + 1},
		// "Follow nextPageUri until limitReached: true": the flagged page
		// may still carry a nextPageUri.
		{"a nextPageUri on every page, short last page", fakedtac.Options{NextPage: fakedtac.NextPageAlways}, 23, 5, 5 + 1},
		{"a nextPageUri on every page, full last page", fakedtac.Options{NextPage: fakedtac.NextPageAlways}, 20, 5, 4 + 1},
		{"a nextPageUri on every full page, full last page", fakedtac.Options{NextPage: fakedtac.NextPageWhenFull}, 20, 5, 4 + 1},
		{"a nextPageUri on every page, newest first", fakedtac.Options{NextPage: fakedtac.NextPageAlways, NewestFirst: true}, 23, 5, 5 + 1},
		{"a nextPageUri on every page, 500 past the data", fakedtac.Options{NextPage: fakedtac.NextPageAlways, ServerErrorPastLastPage: true}, 23, 5, 5 + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.LimitReachedOnLastPage = true
			fake := startFake(t, tc.opts)
			want := addSeconds(fake, tc.n)
			c := newTestConnector(t, fake.URL(), testPass, tc.size)
			got := listIDs(t, c, t0, t0.Add(time.Hour))
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("listed %v, want %v", got, want)
			}
			if r := fake.Requests("/orktrack/rest/recordings"); r != tc.requests {
				t.Errorf("%d listing requests, want %d", r, tc.requests)
			}
		})
	}
}

// TestListLimitReachedAsCap: a portal whose limitReached is a server-side
// cap on the results is listed whole, asking again past the newest (or,
// newest first, the oldest) recording seen: whether it flags every page of
// a capped listing or only the page the cap ends on, and whether that page
// is full or short.
func TestListLimitReachedAsCap(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    fakedtac.Options
		n, size int
	}{
		{"every page flagged, cap a multiple of the page", fakedtac.Options{ResultLimit: 6}, 25, 3},
		{"every page flagged, cap not a multiple", fakedtac.Options{ResultLimit: 7}, 25, 3},
		{"cap's page flagged, full", fakedtac.Options{ResultLimit: 6, LimitReachedOnLastPage: true}, 25, 3},
		{"cap's page flagged, short", fakedtac.Options{ResultLimit: 7, LimitReachedOnLastPage: true}, 25, 3},
		{"cap below the page size", fakedtac.Options{ResultLimit: 2}, 9, 5},
		{"cap below the page size, last page flagged", fakedtac.Options{ResultLimit: 2, LimitReachedOnLastPage: true}, 9, 5},
		{"newest first, every page flagged", fakedtac.Options{ResultLimit: 7, NewestFirst: true}, 25, 3},
		{"newest first, cap's page flagged, short", fakedtac.Options{ResultLimit: 7, LimitReachedOnLastPage: true, NewestFirst: true}, 25, 3},
		{"newest first, end exclusive", fakedtac.Options{ResultLimit: 4, NewestFirst: true, EndExclusive: true}, 25, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := startFake(t, tc.opts)
			want := addSeconds(fake, tc.n)
			c := newTestConnector(t, fake.URL(), testPass, tc.size)
			got := listIDs(t, c, t0, t0.Add(time.Hour))
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("listed %v, want %v (each once)", got, want)
			}
		})
	}
}

// TestListCapWithinOneSecondFails: a cap the portal reaches within one
// second cannot be listed past; List fails rather than return a listing it
// knows is incomplete, whichever the order.
func TestListCapWithinOneSecondFails(t *testing.T) {
	for _, newest := range []bool{false, true} {
		fake := startFake(t, fakedtac.Options{ResultLimit: 3, NewestFirst: newest})
		for i := range 8 {
			fake.Add(fakedtac.Recording{ID: int64(700 + i), Timestamp: t0.Add(time.Minute), Direction: "IN"})
		}
		c := newTestConnector(t, fake.URL(), testPass, 3)
		if _, err := c.List(ctxT(t), t0, t0.Add(time.Hour)); err == nil {
			t.Errorf("NewestFirst=%v: List of a window cut within one second succeeded", newest)
		}
	}
}
