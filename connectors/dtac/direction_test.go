package dtac

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakedtac"
	"github.com/crkai/syncd/internal/fake/fakelog"
)

// TestListDirectionUnknown: a recording whose direction says nothing
// usable (Oreka's UNKN, an empty string, null, no key at all, a word syncd
// does not know) is listed with no direction, valid, for
// SYNCD_UNKNOWN_DIRECTION to decide, and the listing warns about it once;
// IN and OUT in any case are what they say.
func TestListDirectionUnknown(t *testing.T) {
	fake := startFake(t, fakedtac.Options{})
	served := []struct{ direction, want string }{
		{"IN", "in"},
		{"OUT", "out"},
		{"out", "out"},
		{"UNKN", ""},
		{"unkn", ""},
		{"", ""},
		{fakedtac.DirectionNull, ""},
		{fakedtac.DirectionMissing, ""},
		{"SIDEWAYS", ""},
	}
	for i, s := range served {
		fake.Add(fakedtac.Recording{ID: int64(100 + i), Timestamp: t0.Add(time.Duration(i) * time.Second),
			LocalParty: "+66812345678", RemoteParty: "+6621234567", Direction: s.direction})
	}
	logs := &fakelog.Buffer{}
	deps := testDeps(t)
	deps.Logger = slog.New(slog.NewTextHandler(logs, nil))
	c, err := New(Config{BaseURL: fake.URL(), Username: testUser, Password: testPass, PageSize: 4}, deps)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
	if err != nil || len(recs) != len(served) {
		t.Fatalf("List: %d recordings, %v", len(recs), err)
	}
	for i, r := range recs {
		if r.Direction != served[i].want || r.Invalid != nil {
			t.Errorf("direction %q: Direction %q, Invalid %v; want %q, valid", served[i].direction, r.Direction, r.Invalid, served[i].want)
		}
	}
	warnings := strings.Count(logs.String(), "SYNCD_UNKNOWN_DIRECTION decides")
	if warnings != 1 || !strings.Contains(logs.String(), "count=6 ids=103,104,105,106,107,108") {
		t.Errorf("%d warnings, want 1 naming the 6 recordings:\n%s", warnings, logs)
	}
}

// TestListDeduplicatesShiftedPages: calls landing while List pages shift
// the portal's offsets, so a page starts with rows of the page before. The
// listing holds each recording once, in either order.
func TestListDeduplicatesShiftedPages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		insert int
		opts   fakedtac.Options
	}{
		{"oldest first", 1, fakedtac.Options{}},
		{"oldest first", 3, fakedtac.Options{}},
		{"newest first", 1, fakedtac.Options{NewestFirst: true}},
		{"newest first", 3, fakedtac.Options{NewestFirst: true}},
		{"limitReached on the last page", 2, fakedtac.Options{LimitReachedOnLastPage: true}},
		{"newest first, limitReached on the last page, no pageSize", 2, fakedtac.Options{NewestFirst: true, LimitReachedOnLastPage: true, OmitPageSize: true}},
	} {
		t.Run(fmt.Sprintf("%s, %d a page", tc.name, tc.insert), func(t *testing.T) {
			tc.opts.InsertPerPage = tc.insert
			fake := startFake(t, tc.opts)
			want := addSeconds(fake, 17)
			c := newTestConnector(t, fake.URL(), testPass, 5)
			got := listIDs(t, c, t0, t0.Add(time.Hour))
			if fake.RowsServed() <= len(got) {
				t.Fatalf("the fake served %d rows for %d recordings: no page was shifted", fake.RowsServed(), len(got))
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("listed %v, want %v, each once", got, want)
			}
		})
	}
}
