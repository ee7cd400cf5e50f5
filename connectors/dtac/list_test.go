package dtac

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakedtac"
)

func TestListPaging(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     fakedtac.Options
		n, size  int
		requests int // listing requests expected
	}{
		{"pages of 5", fakedtac.Options{}, 23, 5, 5},
		{"exact multiple: last page full, no nextPageUri", fakedtac.Options{}, 20, 5, 4},
		{"server caps at 4 below the 10 asked", fakedtac.Options{PageCap: 4}, 23, 10, 6},
		{"silent cap: no pageSize reported", fakedtac.Options{PageCap: 4, OmitPageSize: true}, 23, 10, 6},
		{"string ids", fakedtac.Options{StringIDs: true}, 7, 5, 2},
		{"empty", fakedtac.Options{}, 0, 5, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := startFake(t, tc.opts)
			want := addRecordings(fake, tc.n, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
			c := newTestConnector(t, fake.URL(), testPass, tc.size)
			got := listIDs(t, c, t0, t0.Add(time.Hour))
			if !slices.Equal(got, want) {
				t.Fatalf("listed %v, want %v", got, want)
			}
			if r := fake.Requests("/orktrack/rest/recordings"); r != tc.requests {
				t.Errorf("%d listing requests, want %d", r, tc.requests)
			}
		})
	}
}

func TestListWindowEitherEndRule(t *testing.T) {
	from, to := t0, t0.Add(time.Hour)
	for _, exclusive := range []bool{false, true} {
		t.Run(fmt.Sprintf("EndExclusive=%v", exclusive), func(t *testing.T) {
			fake := startFake(t, fakedtac.Options{EndExclusive: exclusive})
			at := []time.Time{
				from.Add(-time.Second), from, from.Add(time.Second), to.Add(-time.Second), to, to.Add(time.Second),
				to.Add(-500 * time.Millisecond), // the portal keeps whole seconds: lists as to−1s
			}
			ids := addRecordings(fake, len(at), func(i int) time.Time { return at[i] })
			c := newTestConnector(t, fake.URL(), testPass, 2)
			want := []string{ids[1], ids[2], ids[3], ids[6]}
			if got := listIDs(t, c, from, to); !slices.Equal(got, want) {
				t.Errorf("listed %v, want %v", got, want)
			}
			// A window that is not whole seconds.
			if got := listIDs(t, c, from.Add(500*time.Millisecond), to.Add(500*time.Millisecond)); !slices.Equal(got, []string{ids[2], ids[3], ids[6], ids[4]}) {
				t.Errorf("half-second window: listed %v", got)
			}
		})
	}
}

func TestListRepeatedPagesTerminate(t *testing.T) {
	fake := startFake(t, fakedtac.Options{RepeatPages: true})
	addRecordings(fake, 10, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
	c := newTestConnector(t, fake.URL(), testPass, 3)
	_, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
	want := "dtac: list recordings at " + strings.TrimPrefix(fake.URL(), "http://") +
		": page 2 starts with recording 100659220 like page 1: the portal repeats pages; stopped"
	if err == nil || err.Error() != want {
		t.Fatalf("List: %v, want %q", err, want)
	}
	if r := fake.Requests("/orktrack/rest/recordings"); r != 2 {
		t.Errorf("%d listing requests, want 2", r)
	}
}

func TestNextPageOnAnotherHostIsNotFollowed(t *testing.T) {
	other := newSpy(t, nil)
	fake := startFake(t, fakedtac.Options{NextPageHost: other.URL})
	want := addRecordings(fake, 12, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
	c := newTestConnector(t, fake.URL(), testPass, 5)
	if got := listIDs(t, c, t0, t0.Add(time.Hour)); !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	if seen := other.requests(); len(seen) != 0 {
		t.Fatalf("the other host got %d requests (Authorization %q)", len(seen), seen[0].Header.Get("Authorization"))
	}
}

func TestRecordingURLOnAnotherHostIsNotUsed(t *testing.T) {
	other := newSpy(t, nil)
	fake := startFake(t, fakedtac.Options{RecordingURLHost: other.URL})
	addRecordings(fake, 1, func(int) time.Time { return t0 })
	c := newTestConnector(t, fake.URL(), testPass, 5)
	recs, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
	if err != nil || len(recs) != 1 {
		t.Fatalf("List: %v, %v", recs, err)
	}
	a, err := c.Open(ctxT(t), recs[0])
	if err != nil {
		t.Fatal(err)
	}
	a.Body.Close()
	if seen := other.requests(); len(seen) != 0 {
		t.Fatalf("the other host got %d requests", len(seen))
	}
}

func TestListLateArrivals(t *testing.T) {
	fake := startFake(t, fakedtac.Options{})
	c := newTestConnector(t, fake.URL(), testPass, 2)
	first := addRecordings(fake, 3, func(i int) time.Time { return t0.Add(time.Duration(10+i) * time.Minute) })
	if got := listIDs(t, c, t0, t0.Add(time.Hour)); !slices.Equal(got, first) {
		t.Fatalf("listed %v", got)
	}
	// Recordings that reach the portal late, with older timestamps.
	fake.Add(fakedtac.Recording{ID: 900, Timestamp: t0.Add(5 * time.Minute), Direction: "IN", Audio: fakeaudio.Audio{Size: 100}})
	fake.Add(fakedtac.Recording{ID: 901, Timestamp: t0.Add(11*time.Minute + 30*time.Second), Direction: "OUT", Audio: fakeaudio.Audio{Size: 100}})
	want := []string{"900", first[0], first[1], "901", first[2]}
	if got := listIDs(t, c, t0, t0.Add(time.Hour)); !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
}

func TestListMalformedTimestampIsQuarantinable(t *testing.T) {
	fake := startFake(t, fakedtac.Options{})
	fake.Add(fakedtac.Recording{ID: 7, Timestamp: t0.Add(time.Minute), RawTimestamp: "20/05/2026 01:01", Direction: "IN"})
	fake.Add(fakedtac.Recording{ID: 8, Timestamp: t0.Add(2 * time.Minute), Direction: "IN"})
	c := newTestConnector(t, fake.URL(), testPass, 5)
	recs, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
	if err != nil || len(recs) != 2 {
		t.Fatalf("List: %+v, %v", recs, err)
	}
	if !errors.Is(recs[0].Invalid, connectors.ErrInvalid) || recs[1].Invalid != nil {
		t.Errorf("Invalid %v, %v; want the first only", recs[0].Invalid, recs[1].Invalid)
	}
	if !recs[0].CallAt.IsZero() || !recs[1].CallAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("CallAt %s, %s", recs[0].CallAt, recs[1].CallAt)
	}
}

// portal is a crafted portal: it logs anyone in and answers the listing
// with page(n), n from the page parameter.
func portal(t *testing.T, page func(n int) (code int, ctype, body string)) *spy {
	return newSpy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/orktrack/rest/user/login" {
			_, _ = w.Write([]byte(`{"accesstoken":"11111111-2222-4333-8444-555555555555"}`))
			return
		}
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if n == 0 {
			n = 1
		}
		code, ctype, body := page(n)
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}))
}

// objs renders recordings first..last, a second apart from t0.
func objs(first, last int) string {
	var b strings.Builder
	for i := first; i <= last; i++ {
		if i > first {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"recordingDto","id":%d,"timestamp":%q,"direction":"IN","extra":{"deep":[1,2,{"x":null}]}}`,
			i, t0.Add(time.Duration(i)*time.Second).Format("2006-01-02 15:04:05"))
	}
	return b.String()
}

func TestListCraftedPortal(t *testing.T) {
	const js = "application/json"
	for _, tc := range []struct {
		name    string
		page    func(n int) (int, string, string)
		want    int    // recordings listed
		pages   int    // listing requests
		wantErr string // substring of the error, "" for none
	}{
		{"relative nextPageUri", func(n int) (int, string, string) {
			if n == 1 {
				return 200, js, `{"objects":[` + objs(1, 2) + `],"nextPageUri":"recordings?range=custom&startdate=20260520_005959&enddate=20260520_020001&page=2&pagesize=2","pageSize":2}`
			}
			return 200, js, `{"objects":[` + objs(3, 3) + `],"nextPageUri":null,"pageSize":2}`
		}, 3, 2, ""},
		{"limitReached that ignores the new start fails", func(n int) (int, string, string) {
			return 200, js, `{"objects":[` + objs(2*n-1, 2*n) + `],"nextPageUri":"/orktrack/rest/recordings?page=` + strconv.Itoa(n+1) + `","limitReached":true,"pageSize":2}`
		}, 0, 2, "the portal's result limit was reached within one second"},
		{"limitReached newest first that ignores the new end fails", func(n int) (int, string, string) {
			return 200, js, `{"objects":[` + objs(9, 9) + `,` + objs(8, 8) + `],"nextPageUri":null,"limitReached":true,"pageSize":2}`
		}, 0, 2, "the portal's result limit was reached within one second (2026-05-20T00:59:59Z to 2026-05-20T01:00:09Z)"},
		{"limitReached in no order fails", func(n int) (int, string, string) {
			return 200, js, `{"objects":[` + objs(5, 5) + `,` + objs(9, 9) + `,` + objs(8, 8) + `],"nextPageUri":null,"limitReached":true,"pageSize":2}`
		}, 0, 1, "the portal's result limit was reached and it does not list recordings in order of start"},
		{"limitReached on a short last page in no order ends the listing", func(n int) (int, string, string) {
			return 200, js, `{"objects":[` + objs(5, 5) + `,` + objs(9, 9) + `,` + objs(8, 8) + `],"nextPageUri":null,"limitReached":true,"pageSize":5}`
		}, 3, 1, ""},
		{"null objects is not a listing", func(n int) (int, string, string) {
			return 200, js, `{"objects":null,"nextPageUri":"/x?page=2"}`
		}, 0, 1, `reading "objects": null, not an array`},
		{"no paging fields: one page", func(n int) (int, string, string) {
			return 200, js, `{"objects":[` + objs(1, 2) + `]}`
		}, 2, 1, ""},
		{"short page without pageSize but a next page: followed", func(n int) (int, string, string) {
			if n < 3 {
				return 200, js, `{"objects":[` + objs(n, n) + `],"nextPageUri":"/orktrack/rest/recordings?page=` + strconv.Itoa(n+1) + `"}`
			}
			return 200, js, `{"objects":[],"nextPageUri":null}`
		}, 2, 3, ""},
		{"unknown fields first, keys in other case", func(n int) (int, string, string) {
			return 200, js, `{"meta":{"a":[1,{"b":2}]},"ResultCount":-1,"Objects":[` + objs(1, 2) + `],"PageSize":"2","NextPageUri":null}`
		}, 2, 1, ""},
		{"a next page URI already fetched", func(n int) (int, string, string) {
			return 200, js, `{"objects":[` + objs(n, n) + `],"nextPageUri":"/orktrack/rest/recordings?page=2"}`
		}, 0, 2, "leads to a page already fetched: the portal repeats pages; stopped"},
		{"overlapping pages are deduplicated", func(n int) (int, string, string) {
			next := `"/orktrack/rest/recordings?page=` + strconv.Itoa(n+1) + `"`
			if n == 3 {
				next = "null"
			}
			return 200, js, `{"objects":[` + objs(n, n+1) + `],"nextPageUri":` + next + `}`
		}, 4, 3, ""},
		{"HTML at 200", func(n int) (int, string, string) {
			return 200, "text/html", "<html><body>Session expired, please sign in</body></html>"
		}, 0, 1, `unexpected answer: HTTP 200 (text/html): the page is not a JSON object: invalid character '<' looking for beginning of value: "Session expired, please sign in"`},
		{"truncated JSON", func(n int) (int, string, string) {
			return 200, js, `{"objects":[` + objs(1, 2)
		}, 0, 1, "unexpected answer: HTTP 200 (application/json): reading \"objects\": unexpected EOF"},
		{"nextPageUri a number", func(n int) (int, string, string) {
			return 200, js, `{"objects":[` + objs(1, 1) + `],"nextPageUri":2}`
		}, 0, 1, `reading "nextPageUri": nextPageUri is neither a string nor null`},
		{"5xx", func(n int) (int, string, string) {
			return 503, "text/plain", "maintenance until 02:00"
		}, 0, 1, `unexpected answer: HTTP 503 (text/plain): "maintenance until 02:00"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := portal(t, tc.page)
			c := newTestConnector(t, p.URL, testPass, 2)
			recs, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("List: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("List: %v, want an error with %q", err, tc.wantErr)
			case len(recs) != tc.want:
				t.Errorf("%d recordings, want %d", len(recs), tc.want)
			}
			if n := len(p.requests()) - 1; n != tc.pages {
				t.Errorf("%d listing requests, want %d", n, tc.pages)
			}
		})
	}
}

func TestListEmptyOrReversedWindowAsksNothing(t *testing.T) {
	fake := startFake(t, fakedtac.Options{})
	c := newTestConnector(t, fake.URL(), testPass, 5)
	for _, w := range [][2]time.Time{{t0, t0}, {t0.Add(time.Hour), t0}} {
		if recs, err := c.List(ctxT(t), w[0], w[1]); err != nil || len(recs) != 0 {
			t.Errorf("List(%s, %s) = %v, %v", w[0], w[1], recs, err)
		}
	}
	if fake.Requests("/orktrack/rest/recordings")+fake.Logins() != 0 {
		t.Error("an empty window went to the portal")
	}
}

// TestListPastTheResultLimit: a portal that cuts every listing at a result
// limit still yields the whole window: List asks again from the newest
// recording it has seen.
func TestListPastTheResultLimit(t *testing.T) {
	fake := startFake(t, fakedtac.Options{ResultLimit: 7})
	want := map[string]bool{}
	for i := range 25 {
		id := int64(500 + i)
		fake.Add(fakedtac.Recording{ID: id, Timestamp: t0.Add(time.Duration(i) * time.Minute), Direction: "IN",
			Audio: fakeaudio.Audio{Seed: 1, Size: 10}})
		want[strconv.FormatInt(id, 10)] = true
	}
	c := newTestConnector(t, fake.URL(), testPass, 3)
	recs, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if !want[r.ID] {
			t.Fatalf("unexpected or repeated recording %s", r.ID)
		}
		delete(want, r.ID)
	}
	if len(want) != 0 {
		t.Fatalf("%d recordings missing past the result limit", len(want))
	}
}
