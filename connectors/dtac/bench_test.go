package dtac

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakedtac"
)

// BenchmarkList20k lists 20,000 recordings (40 pages of 500) from the fake.
// Besides time per List it reports the peak heap in use while listing
// (above the heap before; the in-process fake's own page rendering counts
// too) and the heap the returned recordings hold, per recording.
func BenchmarkList20k(b *testing.B) {
	const n = 20_000
	fake := startFake(b, fakedtac.Options{})
	// A team of 20 agents; every customer number distinct, so that no
	// memo hides the cost of normalising it.
	for i := range n {
		fake.Add(fakedtac.Recording{
			ID: int64(100_000_000 + i), Timestamp: t0.Add(time.Duration(i) * 4 * time.Second), Duration: 30 + i%600,
			LocalParty: fmt.Sprintf("+668123456%02d", i%20), RemoteParty: fmt.Sprintf("08%d%07d", 1+i%9, i),
			Direction: [2]string{"IN", "OUT"}[i%2], FirstName: "สมชาย", LastName: fmt.Sprintf("ใจดี %d", i%20),
			Audio: fakeaudio.Audio{Seed: uint64(i), Size: 40 << 10},
		})
	}
	c := newTestConnector(b, fake.URL(), testPass, 500)
	from, to := t0, t0.Add(n*4*time.Second)
	list := func() int {
		recs, err := c.List(b.Context(), from, to)
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) != n {
			b.Fatalf("listed %d, want %d", len(recs), n)
		}
		return len(recs)
	}
	list() // log in, open connections

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse

	stop, peak := make(chan struct{}), make(chan uint64)
	go func() {
		var top uint64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			var s runtime.MemStats
			runtime.ReadMemStats(&s)
			top = max(top, s.HeapInuse)
			select {
			case <-stop:
				peak <- top
				return
			case <-tick.C:
			}
		}
	}()
	pagesBefore := fake.Requests("/orktrack/rest/recordings")
	for b.Loop() {
		list()
	}
	pages := fake.Requests("/orktrack/rest/recordings") - pagesBefore
	close(stop)
	top := <-peak

	recs, err := c.List(b.Context(), from, to)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	retained := int64(ms.HeapInuse) - int64(base)
	runtime.KeepAlive(recs)

	b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
	b.ReportMetric(float64(top-min(top, base))/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(retained)/n, "heap-B/rec")
}
