package orkweb

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeorkweb"
)

// pageLatency is a realistic time for OrkWeb to answer one page: a
// Tomcat and MySQL on a small office server, on the LAN.
const pageLatency = 150 * time.Millisecond

// TestListingCost measures the listing of a day of 2,000 calls: the pages
// asked for, and the time they take at pageLatency a page. The latency is
// counted, not slept (the fake's Sleep hook), so the test costs no real
// time; the seconds reported are the pages' latency plus the real time
// the connector and the fake took. BenchmarkListDay sleeps it for real.
func TestListingCost(t *testing.T) {
	const calls = 2000
	var waited atomic.Int64
	s := startServer(t, fakeorkweb.Options{
		PageLatency: pageLatency,
		Sleep:       func(_ context.Context, d time.Duration) { waited.Add(int64(d)) },
	})
	s.Add(fakeorkweb.SampleDay(day, ict, calls, 1)...)
	c := connect(t, s.URL(), pass, nil)
	began := time.Now()
	recs, err := c.List(t.Context(), day, day.Add(24*time.Hour))
	if err != nil || len(recs) != calls {
		t.Fatalf("%d recordings, %v", len(recs), err)
	}
	real := time.Since(began)
	pages := s.Requests("/orkweb/app")
	total := time.Duration(waited.Load()) + real
	t.Logf("a day of %d calls: %d page requests (log-in 2, search 1, paging %d), %d rows served; %.1f s at %s a page (%.2f s of it the connector's and the fake's own work)",
		calls, pages, s.Stats().PagingLinks, s.Stats().RowsServed, total.Seconds(), pageLatency, real.Seconds())
	// Log-in page and log-in, the search, the first "next" (page 1
	// again), and a "next" to each of the 199 other pages.
	if want := 3 + calls/ResultsPerPage; pages != want {
		t.Errorf("%d page requests, want %d", pages, want)
	}
}

// BenchmarkListDay lists a day of 2,000 calls with pageLatency slept for
// real on every page (on a fresh session each time, log-in included).
func BenchmarkListDay(b *testing.B) {
	s, err := fakeorkweb.Start(fakeorkweb.Options{Users: map[string]string{user: pass}, Location: ict, PageLatency: pageLatency})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Add(fakeorkweb.SampleDay(day, ict, 2000, 1)...)
	for b.Loop() {
		c := connect(b, s.URL(), pass, nil)
		recs, err := c.List(context.Background(), day, day.Add(24*time.Hour))
		if err != nil || len(recs) != 2000 {
			b.Fatalf("%d recordings, %v", len(recs), err)
		}
	}
	b.ReportMetric(float64(s.Requests("/orkweb/app"))/float64(b.N), "pages/op")
}
