package dtac

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakedtac"
)

// noPageWaits makes c ask again for a failed page at once.
func noPageWaits(c *Connector) { c.pageRetryWait = 0 }

// TestListPastLastPage: whatever a page past the data answers (an empty
// page, or HTTP 500 as a public client reports OrkTrack does) and whenever
// a page carries a nextPageUri (only when rows are left, on every full
// page, on every page), the window is listed whole and each recording
// once: totals that are and are not a multiple of the page size, either
// order, with and without pageSize in the answer.
func TestListPastLastPage(t *testing.T) {
	const size = 5
	for _, next := range []fakedtac.NextPage{fakedtac.NextPageWhenMore, fakedtac.NextPageWhenFull, fakedtac.NextPageAlways} {
		for _, with500 := range []bool{false, true} {
			for _, newest := range []bool{false, true} {
				for _, omit := range []bool{false, true} {
					for _, n := range []int{0, 1, 4, 5, 6, 10, 12, 15, 23} {
						name := fmt.Sprintf("next %d, 500 %v, newest first %v, no pageSize %v, %d recordings", next, with500, newest, omit, n)
						t.Run(name, func(t *testing.T) {
							fake := startFake(t, fakedtac.Options{NextPage: next, ServerErrorPastLastPage: with500, NewestFirst: newest, OmitPageSize: omit})
							want := addSeconds(fake, n)
							c := newTestConnector(t, fake.URL(), testPass, size)
							noPageWaits(c)
							got := listIDs(t, c, t0, t0.Add(time.Hour))
							slices.Sort(got)
							if !slices.Equal(got, want) {
								t.Fatalf("listed %v, want %v", got, want)
							}
							// Pages, plus at most the failed page twice and
							// the confirming listing's page; a portal that
							// sends nextPageUri on short pages too and no
							// pageSize costs the confirming listing's own
							// page past the data, on both sides when
							// nothing told the order.
							most := n/size + 1 + 3
							if next == fakedtac.NextPageAlways && omit {
								most += 5
							}
							if r := fake.Requests("/orktrack/rest/recordings"); r > most {
								t.Errorf("%d listing requests, want at most %d", r, most)
							}
						})
					}
				}
			}
		}
	}
}

// TestListPastLastPageRequests: the requests a 500 past a full last page
// costs: the page once more, then one request past the newest recording
// seen that brings nothing new. A total that is not a multiple of the page
// size never reaches past the data.
func TestListPastLastPageRequests(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     fakedtac.Options
		n        int
		requests int
	}{
		{"multiple of the page: 500 twice, then one confirming page", fakedtac.Options{}, 10, 2 + 2 + 1},
		{"not a multiple: the short page ends it", fakedtac.Options{}, 12, 3},
		{"one full page", fakedtac.Options{}, 5, 1 + 2 + 1},
		{"newest first, multiple of the page", fakedtac.Options{NewestFirst: true}, 10, 2 + 2 + 1},
		{"newest first, not a multiple", fakedtac.Options{NewestFirst: true}, 11, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.NextPage, tc.opts.ServerErrorPastLastPage = fakedtac.NextPageWhenFull, true
			fake := startFake(t, tc.opts)
			want := addSeconds(fake, tc.n)
			c := newTestConnector(t, fake.URL(), testPass, 5)
			noPageWaits(c)
			got := listIDs(t, c, t0, t0.Add(time.Hour))
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("listed %v, want %v", got, want)
			}
			if r := fake.Requests("/orktrack/rest/recordings"); r != tc.requests {
				t.Errorf("%d listing requests, want %d", r, tc.requests)
			}
			// A second pass costs the same: nothing is cached.
			if got := listIDs(t, c, t0, t0.Add(time.Hour)); len(got) != tc.n {
				t.Errorf("second pass listed %d, want %d", len(got), tc.n)
			}
		})
	}
}

// TestListPastLastPageWithOtherKnobs: a 500 past the last page together
// with a result cap, limitReached on the last page, shifting pages, a
// silent page cap and an exclusive end bound.
func TestListPastLastPageWithOtherKnobs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    fakedtac.Options
		n, size int
	}{
		{"result cap a multiple of the page", fakedtac.Options{ResultLimit: 6}, 25, 3},
		{"result cap not a multiple", fakedtac.Options{ResultLimit: 7}, 25, 3},
		{"limitReached on the last page, full", fakedtac.Options{LimitReachedOnLastPage: true}, 20, 5},
		{"limitReached on the last page, short", fakedtac.Options{LimitReachedOnLastPage: true}, 22, 5},
		{"shifting pages", fakedtac.Options{InsertPerPage: 1}, 20, 5},
		{"shifting pages, newest first", fakedtac.Options{InsertPerPage: 2, NewestFirst: true}, 20, 5},
		{"silent page cap, no pageSize", fakedtac.Options{PageCap: 4, OmitPageSize: true}, 12, 10},
		{"end exclusive, string ids", fakedtac.Options{EndExclusive: true, StringIDs: true}, 15, 5},
		{"page size 1", fakedtac.Options{}, 3, 1},
		{"page size 1, newest first", fakedtac.Options{NewestFirst: true}, 3, 1},
	} {
		for _, next := range []fakedtac.NextPage{fakedtac.NextPageWhenFull, fakedtac.NextPageAlways} {
			t.Run(fmt.Sprintf("%s, next %d", tc.name, next), func(t *testing.T) {
				tc.opts.NextPage, tc.opts.ServerErrorPastLastPage = next, true
				fake := startFake(t, tc.opts)
				want := addSeconds(fake, tc.n)
				c := newTestConnector(t, fake.URL(), testPass, tc.size)
				noPageWaits(c)
				got := listIDs(t, c, t0, t0.Add(time.Hour))
				if tc.opts.InsertPerPage > 0 {
					got = slices.DeleteFunc(got, func(id string) bool { return len(id) == 10 }) // the inserted calls
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("listed %v, want %v (each once)", got, want)
				}
			})
		}
	}
}

// TestListTransientPageErrors: a page after the first that answers 500
// once is asked again and the listing goes on; one that answers 500 twice
// although it holds recordings is not taken for the end: List lists again
// past the recordings seen and finds them. Even a portal that fails every
// page after the first is listed whole, one first page at a time. Nothing
// is ever skipped.
func TestListTransientPageErrors(t *testing.T) {
	for _, tc := range []struct {
		name        string
		opts        fakedtac.Options
		n, size     int
		fails, from int // FailPages
		requests    int // 0: not checked
	}{
		{"once on page 2: asked again", fakedtac.Options{}, 12, 5, 1, 2, 3 + 1},
		{"twice on page 2, which holds recordings", fakedtac.Options{}, 12, 5, 2, 2, 0},
		{"twice on page 3, the short last page", fakedtac.Options{}, 12, 5, 2, 3, 0},
		{"twice on page 2, newest first", fakedtac.Options{NewestFirst: true}, 12, 5, 2, 2, 0},
		{"twice on page 2, page size 1, newest first", fakedtac.Options{NewestFirst: true}, 4, 1, 2, 2, 0},
		{"twice on page 2, page size 1, oldest first", fakedtac.Options{}, 4, 1, 2, 2, 0},
		{"every page after the first", fakedtac.Options{}, 23, 5, 1 << 20, 2, 0},
		{"every page after the first, newest first", fakedtac.Options{NewestFirst: true}, 23, 5, 1 << 20, 2, 0},
		{"every page after the first, 500 past the end too", fakedtac.Options{NextPage: fakedtac.NextPageWhenFull, ServerErrorPastLastPage: true}, 20, 5, 1 << 20, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := startFake(t, tc.opts)
			want := addSeconds(fake, tc.n)
			c := newTestConnector(t, fake.URL(), testPass, tc.size)
			noPageWaits(c)
			fake.FailPages(tc.fails, tc.from)
			got := listIDs(t, c, t0, t0.Add(time.Hour))
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("listed %v, want %v (each once)", got, want)
			}
			if r := fake.Requests("/orktrack/rest/recordings"); tc.requests > 0 && r != tc.requests {
				t.Errorf("%d listing requests, want %d", r, tc.requests)
			}
		})
	}
}

// TestListPageRetryWaits: the second request for a failed page waits
// pageRetryWait (300 ms unless changed), and the wait ends with the
// caller's context.
func TestListPageRetryWaits(t *testing.T) {
	fake := startFake(t, fakedtac.Options{})
	addSeconds(fake, 12)
	c := newTestConnector(t, fake.URL(), testPass, 5)
	if c.pageRetryWait != 300*time.Millisecond {
		t.Errorf("pageRetryWait %s, want 300ms", c.pageRetryWait)
	}
	c.pageRetryWait = 150 * time.Millisecond
	fake.FailPages(1, 2)
	began := time.Now()
	if got := listIDs(t, c, t0, t0.Add(time.Hour)); len(got) != 12 {
		t.Fatalf("listed %d, want 12", len(got))
	}
	if d := time.Since(began); d < 150*time.Millisecond {
		t.Errorf("the listing took %s: it did not wait before asking again", d)
	}

	c.pageRetryWait = time.Hour
	fake.FailPages(1, 2)
	ctx, cancel := context.WithTimeout(ctxT(t), 200*time.Millisecond)
	defer cancel()
	_, err := c.List(ctx, t0, t0.Add(time.Hour))
	if !errors.Is(err, ctx.Err()) || err == nil || !strings.Contains(err.Error(), "waiting to ask again") {
		t.Fatalf("List whose context ends while it waits: %v", err)
	}
}

// TestListFirstPageServerError: a 5xx on the first page is an error of the
// listing, asked once, whatever the portal answers with it; the next pass
// lists normally.
func TestListFirstPageServerError(t *testing.T) {
	for _, with500 := range []bool{false, true} {
		fake := startFake(t, fakedtac.Options{NextPage: fakedtac.NextPageWhenFull, ServerErrorPastLastPage: with500})
		addSeconds(fake, 10)
		c := newTestConnector(t, fake.URL(), testPass, 5)
		noPageWaits(c)
		fake.FailPages(1, 1)
		recs, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
		if err == nil || recs != nil || !strings.Contains(err.Error(), "page 1: unexpected answer: HTTP 500") {
			t.Fatalf("List with page 1 failing: %d recordings, %v", len(recs), err)
		}
		if errors.Is(err, connectors.ErrAuth) || connectors.Permanent(err) {
			t.Errorf("the error %v must be a plain one, tried again next pass", err)
		}
		if r := fake.Requests("/orktrack/rest/recordings"); r != 1 {
			t.Errorf("%d listing requests, want 1", r)
		}
		if got := listIDs(t, c, t0, t0.Add(time.Hour)); len(got) != 10 {
			t.Errorf("next pass listed %d, want 10", len(got))
		}
	}
}

// TestListConfirmingListingFails: when the listing that confirms the end
// fails on its own first page, List fails (asking that page twice) rather
// than take the end on trust.
func TestListConfirmingListingFails(t *testing.T) {
	var firstPages atomic.Int32
	p := portal(t, func(n int) (int, string, string) {
		switch {
		case n == 1 && firstPages.Add(1) == 1:
			return 200, "application/json", `{"objects":[` + objs(1, 2) + `],"nextPageUri":"/orktrack/rest/recordings?page=2","pageSize":2}`
		case n == 1:
			return 502, "text/html", "<html><body>Bad Gateway</body></html>"
		}
		return 500, "text/html", "<html><body>HTTP Status 500 – Internal Server Error</body></html>"
	})
	c := newTestConnector(t, p.URL, testPass, 2)
	noPageWaits(c)
	recs, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
	if err == nil || recs != nil || !strings.Contains(err.Error(), "HTTP 502") {
		t.Fatalf("List: %d recordings, %v; want the confirming listing's 502", len(recs), err)
	}
	if n := len(p.requests()) - 1; n != 1+2+2 {
		t.Errorf("%d listing requests, want 5 (page 1, page 2 twice, the confirming page 1 twice)", n)
	}
}

// TestListConfirmingWithinOneSecond: full pages of recordings that all
// started within one second, then a 500: listing again past them (both
// ways, since nothing tells the order) brings nothing new, so the listing
// is complete, in either order.
func TestListConfirmingWithinOneSecond(t *testing.T) {
	for _, newest := range []bool{false, true} {
		fake := startFake(t, fakedtac.Options{NextPage: fakedtac.NextPageWhenFull, ServerErrorPastLastPage: true, NewestFirst: newest})
		var want []string
		for i := range 10 {
			fake.Add(fakedtac.Recording{ID: int64(700 + i), Timestamp: t0.Add(time.Minute), Direction: "IN",
				Audio: fakeaudio.Audio{Seed: 1, Size: 10}})
			want = append(want, fmt.Sprint(700+i))
		}
		c := newTestConnector(t, fake.URL(), testPass, 5)
		noPageWaits(c)
		got := listIDs(t, c, t0, t0.Add(time.Hour))
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("NewestFirst=%v: listed %v, want %v", newest, got, want)
		}
	}
}

// TestListServerErrorNoProgress: recordings without a readable start give
// nothing to list past: a 500 after them fails the listing.
func TestListServerErrorNoProgress(t *testing.T) {
	p := portal(t, func(n int) (int, string, string) {
		if n == 1 {
			return 200, "application/json", `{"objects":[{"id":1,"timestamp":"soon"},{"id":2}],"nextPageUri":"/orktrack/rest/recordings?page=2","pageSize":2}`
		}
		return 500, "text/plain", "java.lang.NullPointerException"
	})
	c := newTestConnector(t, p.URL, testPass, 2)
	noPageWaits(c)
	if _, err := c.List(ctxT(t), t0, t0.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "makes no progress") {
		t.Fatalf("List: %v", err)
	}
}

// TestListServerErrorInNoOrder: a portal that lists in no order of start
// cannot be listed past a failed page: List fails.
func TestListServerErrorInNoOrder(t *testing.T) {
	p := portal(t, func(n int) (int, string, string) {
		if n == 1 {
			return 200, "application/json", `{"objects":[` + objs(5, 5) + `,` + objs(9, 9) + `,` + objs(8, 8) + `],"nextPageUri":"/orktrack/rest/recordings?page=2","pageSize":3}`
		}
		return 500, "text/plain", "java.lang.IndexOutOfBoundsException"
	})
	c := newTestConnector(t, p.URL, testPass, 3)
	noPageWaits(c)
	if _, err := c.List(ctxT(t), t0, t0.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "does not list recordings in order of start") {
		t.Fatalf("List: %v", err)
	}
}

// TestListServerErrorOtherStatuses: any 5xx after the first page is read
// the same way; a 4xx there is an error of the listing, not retried.
func TestListServerErrorOtherStatuses(t *testing.T) {
	for _, code := range []int{500, 502, 503, 504} {
		p := portal(t, func(n int) (int, string, string) {
			if n == 1 {
				return 200, "application/json", `{"objects":[` + objs(1, 2) + `],"nextPageUri":"/orktrack/rest/recordings?page=2","pageSize":2}`
			}
			return code, "text/plain", http.StatusText(code)
		})
		c := newTestConnector(t, p.URL, testPass, 2)
		noPageWaits(c)
		if got := listIDs(t, c, t0, t0.Add(time.Hour)); strings.Join(got, ",") != "1,2" {
			t.Errorf("HTTP %d past page 1: listed %v", code, got)
		}
	}
	p := portal(t, func(n int) (int, string, string) {
		if n == 1 {
			return 200, "application/json", `{"objects":[` + objs(1, 2) + `],"nextPageUri":"/orktrack/rest/recordings?page=2","pageSize":2}`
		}
		return 400, "application/json", `{"error":"page out of range"}`
	})
	c := newTestConnector(t, p.URL, testPass, 2)
	noPageWaits(c)
	if _, err := c.List(ctxT(t), t0, t0.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "page 2: unexpected answer: HTTP 400") {
		t.Fatalf("HTTP 400 past page 1: %v", err)
	}
	if n := len(p.requests()) - 1; n != 2 {
		t.Errorf("%d listing requests, want 2", n)
	}
}
