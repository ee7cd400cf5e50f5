package threecx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeclock"
	fake "github.com/crkai/syncd/internal/fake/fakethreecx"
)

// topProxy is a proxy before the PBX at target that answers a listing
// whose $top refuse says no with a 400 about $top naming no number, as a
// proxy with its own limit might.
func topProxy(t *testing.T, target string, refuse func(top int) bool) *httptest.Server {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if top, err := strconv.Atoi(r.URL.Query().Get("$top")); err == nil && r.URL.Path == recordingsPath && refuse(top) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"code":"","message":"The query option $top exceeds the limit set by the gateway.","details":[]}}`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestPageSizeGrowsBack: a proxy that refused every $top above 1 for a
// while (the page size halved down to 1) does not leave it at 1: once the
// refusals are older than refusalMemory, the size doubles every growAfter
// pages. 300 recordings took 301 requests before.
func TestPageSizeGrowsBack(t *testing.T) {
	clock := fakeclock.New(base)
	pbx := startFake(t, fake.Options{Now: clock.Now, ExpiresUnit: time.Hour})
	added := addRange(pbx, 1, 300, base, fake.InboundExternal)
	var refusing atomic.Bool
	refusing.Store(true)
	proxy := topProxy(t, pbx.URL(), func(top int) bool { return refusing.Load() && top > 1 })
	c := connect(t, proxy.URL, clientConfig(), clock.Now)

	if _, err := c.List(t.Context(), base, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if top := c.pages.size(); top != 1 {
		t.Fatalf("$top %d after the refusals, want 1", top)
	}
	refusing.Store(false)
	clock.Advance(refusalMemory + time.Minute)
	before := pbx.Requests(recordingsPath)
	got, err := c.List(t.Context(), base, base.Add(time.Hour))
	if err != nil || !slices.Equal(ids(got), wantIDs(added)) {
		t.Fatalf("List = %d recordings, %v", len(got), err)
	}
	n := pbx.Requests(recordingsPath) - before
	t.Logf("300 recordings after the page size fell to 1: %d requests, $top now %d", n, c.pages.size())
	if n > 20 || c.pages.size() < 64 {
		t.Errorf("%d requests, $top %d; want at most 20 and at least 64", n, c.pages.size())
	}
	if _, err := c.List(t.Context(), base, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c.pages.size() != 100 {
		t.Errorf("$top %d after another List, want 100 again", c.pages.size())
	}
}

// TestPageSizeRemembersTheCap: under a lasting cap that names no number,
// the size settles just below it by halving the distance, and probes above
// the refusal only once it is older than refusalMemory.
func TestPageSizeRemembersTheCap(t *testing.T) {
	clock := fakeclock.New(base)
	pbx := startFake(t, fake.Options{Now: clock.Now, ExpiresUnit: time.Hour, TopCap: -1})
	addRange(pbx, 1, 400, base, fake.InboundExternal)
	var refused atomic.Int64
	proxy := topProxy(t, pbx.URL(), func(top int) bool {
		if top > 40 {
			refused.Add(1)
			return true
		}
		return false
	})
	c := connect(t, proxy.URL, clientConfig(), clock.Now)
	for range 3 {
		if _, err := c.List(t.Context(), base, base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	settled, refusals := c.pages.size(), refused.Load()
	t.Logf("settled at $top=%d after %d refusals", settled, refusals)
	if settled < 30 || settled > 40 || refusals > 8 {
		t.Errorf("settled at %d after %d refusals; want 30…40 and at most 8", settled, refusals)
	}
	if _, err := c.List(t.Context(), base, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if refused.Load() != refusals {
		t.Errorf("probed above a fresh refusal: %d refusals, want %d", refused.Load(), refusals)
	}
}

func TestPageSizeUnit(t *testing.T) {
	now := base
	p := newPageSize(100)
	if got := p.refusedTop(100, "The limit of '30' for Top query has been exceeded. The value from the incoming request is '100'.", now); got != 30 {
		t.Fatalf("limit named: %d, want 30", got)
	}
	for range 5 {
		p.worked(30)
	}
	if got := p.next(now); got != 30 {
		t.Errorf("probed to %d above a named limit", got)
	}
	if got := p.next(now.Add(refusalMemory)); got != 60 {
		t.Errorf("after the memory: %d, want a probe at 60", got)
	}
	if got := p.refusedTop(60, "top too large", now.Add(refusalMemory)); got != 30 {
		t.Errorf("a refused probe: %d, want 30 kept", got)
	}
	p.worked(30)
	p.worked(30)
	if got := p.next(now.Add(refusalMemory)); got != 45 {
		t.Errorf("next probe %d, want 45 (half-way to the refusal)", got)
	}
	one := newPageSize(1)
	if got := one.refusedTop(1, "limit of top", now); got != 0 {
		t.Errorf("$top=1 refused: %d, want 0", got)
	}
	for _, tc := range []struct {
		msg  string
		top  int
		want int
	}{
		{"$top exceeds the maximum allowed value of 50", 100, 50},
		{"The limit of '100' for Top query has been exceeded. The value from the incoming request is '200'.", 200, 100},
		{"limit of '0' for Top", 100, 0},
		{"top too large", 100, 0},
	} {
		if got := limitIn(tc.msg, tc.top); got != tc.want {
			t.Errorf("limitIn(%q, %d) = %d, want %d", tc.msg, tc.top, got, tc.want)
		}
	}
}

// TestSmallPagesSurviveAnInsertion: with $top=1, a call that ends during
// the listing and sorts before the position makes a $skip page repeat the
// one before: keyset paging is not shifted by it, and $skip paging (for a
// PBX that ignores the keyset) passes the repeat instead of failing.
func TestSmallPagesSurviveAnInsertion(t *testing.T) {
	for _, ignoreFilter := range []bool{false, true} {
		var pbx *fake.Server
		pbx = startFake(t, fake.Options{IgnoreFilter: ignoreFilter, BeforeListing: func(n int) {
			if n == 4 {
				// Inside the window, before the position: a $skip page
				// repeats the row before it.
				r := fake.NewRecording(99, base.Add(500*time.Millisecond), fake.InboundExternal, 99)
				pbx.Add(r)
			}
		}})
		added := addRange(pbx, 1, 6, base, fake.InboundExternal)
		cfg := clientConfig()
		cfg.PageSize = 1
		got, err := connect(t, pbx.URL(), cfg, nil).List(t.Context(), base, base.Add(time.Hour))
		if err != nil {
			t.Fatalf("ignoreFilter=%v: %v", ignoreFilter, err)
		}
		// The late recording may or may not be listed (the next pass
		// will); every other one must be.
		listed := slices.DeleteFunc(ids(got), func(id string) bool { return id == "99" })
		if !slices.Equal(listed, wantIDs(added)) {
			t.Errorf("ignoreFilter=%v: listed %v, want %v", ignoreFilter, ids(got), wantIDs(added))
		}
	}
}
