package threecx

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	fake "github.com/crkai/syncd/internal/fake/fakethreecx"
)

// BenchmarkList50k lists one day holding 50,000 recordings (external calls)
// with the default page size, reporting the requests made, the wall time
// (ns/op) and the peak live heap while listing, fake PBX included.
func BenchmarkList50k(b *testing.B) {
	const n = 50_000
	srv := startFake(b, fake.Options{})
	day := time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)
	for i := range n {
		callType := fake.InboundExternal
		if i%2 == 1 {
			callType = fake.OutboundExternal
		}
		srv.Add(fake.NewRecording(int32(i+1), day.Add(time.Duration(i)*24*time.Hour/n), callType, uint64(i)))
	}
	c := connect(b, srv.URL(), clientConfig(), nil)
	if err := c.Check(b.Context()); err != nil { // log in, and sort the fake's index, outside the timing
		b.Fatal(err)
	}
	before := srv.Requests(recordingsPath)
	runtime.GC()
	baseline := heapBytes()
	peak := startPeakSampler()
	b.ResetTimer()
	for b.Loop() {
		got, err := c.List(b.Context(), day, day.Add(24*time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != n {
			b.Fatalf("listed %d recordings, want %d", len(got), n)
		}
	}
	b.StopTimer()
	top := peak()
	b.ReportMetric(float64(srv.Requests(recordingsPath)-before)/float64(b.N), "requests/op")
	b.ReportMetric(float64(top)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(top-baseline)/(1<<20), "peak-heap-over-baseline-MB")
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// startPeakSampler samples the heap every millisecond until the returned
// function is called, which returns the largest sample.
func startPeakSampler() func() uint64 {
	var (
		mu   sync.Mutex
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			h := heapBytes()
			mu.Lock()
			peak = max(peak, h)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}
