package syncer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors/connectortest"
	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/spool"
)

// The three performance figures of the issue. They run only with -bench:
//
//	go test -run '^$' -bench . -benchtime 1x ./internal/syncer/   (each once)
//	go test -run '^$' -bench PassOverhead -benchtime 2000x ./internal/syncer/

// productionTransport sets the connection pool as cmd/syncd does for the
// given concurrency.
func productionTransport(concurrency int) func(*http.Transport) {
	return func(t *http.Transport) {
		t.MaxIdleConns = 4 * (concurrency + 2)
		t.MaxIdleConnsPerHost = concurrency + 2
	}
}

// backlog adds n ready recordings of size bytes spread over the 23 hours
// before now, inside the first pass's window.
func backlog(e *env, n int, size int64) []string {
	ids := make([]string, n)
	step := 23 * time.Hour / time.Duration(n)
	for i := range n {
		ids[i] = fmt.Sprintf("b%06d", i)
		e.conn.add(ids[i], e.clock.Now().Add(-23*time.Hour+time.Duration(i)*step), size, connectortest.Ready)
	}
	return ids
}

// apiRequests counts the CRK API requests the fake saw (storage aside).
func apiRequests(s *fakecrk.Server) int {
	return s.Count(fakecrk.EndpointCreate) + s.Count(fakecrk.EndpointReextract) + s.Count(fakecrk.EndpointList) + s.Count(fakecrk.EndpointWhoami)
}

// refused counts the fake's 429 answers.
func refused(s *fakecrk.Server) int {
	n := 0
	for _, ep := range []fakecrk.Endpoint{fakecrk.EndpointCreate, fakecrk.EndpointReextract, fakecrk.EndpointList, fakecrk.EndpointWhoami} {
		n += s.Requests(ep, http.StatusTooManyRequests)
	}
	return n
}

// BenchmarkRateLimitUtilisation: with one shared limiter at the server's
// limit R, how close to R requests a minute a pass of a backlog gets, and
// that the server never refuses one. Each iteration is one pass of ~18 s.
func BenchmarkRateLimitUtilisation(b *testing.B) {
	const (
		perMinute  = 3000
		recordings = 450 // 2 API calls each (create, reextract): 900 calls at 50/s
	)
	var util, rate, refusals, other float64
	for range b.N {
		b.StopTimer()
		e := newEnvWith(b, Config{Concurrency: 4}, envOptions{
			crk:       func(o *fakecrk.Options) { o.RateLimit = perMinute },
			sink:      func(_ *sink.Config, d *sink.Deps) { d.Limiter = sink.NewLimiter(perMinute) },
			transport: productionTransport(4),
		})
		backlog(e, recordings, 4<<10)
		timed := e.timed()
		b.StartTimer()
		start := time.Now()
		res := e.pass()
		took := time.Since(start)
		b.StopTimer()
		if res.Synced != recordings {
			b.Fatalf("pass: %+v", res)
		}
		perMin := float64(apiRequests(e.crk)) / took.Minutes()
		rate += perMin
		util += perMin / perMinute
		refusals += float64(refused(e.crk))
		// Time outside CRK calls (state writes, mostly) is time the
		// limiter may go unused.
		other += (4*took - timed.total()).Seconds() * 1000 / recordings
	}
	n := float64(b.N)
	b.ReportMetric(util/n, "utilisation")
	b.ReportMetric(rate/n, "req/min")
	b.ReportMetric(refusals/n, "429s")
	b.ReportMetric(other/n, "other-ms/rec")
}

// heapPeak samples HeapInuse every 10 ms until the returned function is
// called, which returns the largest sample.
func heapPeak() func() uint64 {
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		return <-done
	}
}

// BenchmarkUpload1GB: one recording of 1 GiB through a whole pass, source
// to CRK storage (the fake hashes it as it streams in). The heap must stay
// small: audio is streamed, never held. The figure is HeapInuse of the whole
// process, the fake's server side included.
func BenchmarkUpload1GB(b *testing.B) {
	const size = 1 << 30
	b.SetBytes(size)
	var peak uint64
	for range b.N {
		b.StopTimer()
		e := newEnvWith(b, Config{Concurrency: 4}, envOptions{transport: productionTransport(4)})
		e.conn.add("big", e.clock.Now().Add(-time.Hour), size, connectortest.Ready)
		runtime.GC()
		sample := heapPeak()
		b.StartTimer()
		res := e.pass()
		b.StopTimer()
		peak = max(peak, sample())
		if res.Synced != 1 {
			b.Fatalf("pass: %+v", res)
		}
		e.checkAllOnce("big")
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkPassOverhead: b.N recordings of 64 KiB through a whole pass with
// no rate limit and no latency, against a baseline in the same run: the
// same number of 64 KiB PUTs straight to the fake's storage with net/http,
// at the same concurrency. ns/op is the pass's time per recording.
func BenchmarkPassOverhead(b *testing.B) {
	const (
		size    = 64 << 10
		workers = 4
	)
	n := b.N
	b.StopTimer()
	e := newEnvWith(b, Config{Concurrency: workers}, envOptions{transport: productionTransport(workers)})
	backlog(e, n, size)
	timed := e.timed()
	b.StartTimer()
	start := time.Now()
	res := e.pass()
	passTook := time.Since(start)
	b.StopTimer()
	if res.Synced != n {
		b.Fatalf("pass: %+v", res)
	}

	// The baseline: upload URLs asked for beforehand, then bare PUTs.
	ctx := context.Background()
	urls := make([]string, n)
	for i := range n {
		cr, err := e.sink.Create(ctx, sink.Recording{DataID: fmt.Sprintf("base-%d", i), CallAt: e.clock.Now(), Direction: "in", ContentType: "audio/x-wav"})
		if err != nil {
			b.Fatal(err)
		}
		urls[i] = cr.UploadURL
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	productionTransport(workers)(tr)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	start = time.Now()
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				a := fakeaudio.Audio{Seed: uint64(i), Size: size}
				req, err := http.NewRequestWithContext(ctx, http.MethodPut, urls[i], a.Reader())
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set("Content-Type", "audio/x-wav")
				resp, err := hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("PUT %d: %s", i, resp.Status)
					return
				}
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	baseTook := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}

	passRate := float64(n) / passTook.Seconds()
	baseRate := float64(n) / baseTook.Seconds()
	b.ReportMetric(passRate, "rec/s")
	b.ReportMetric(baseRate, "put/s")
	b.ReportMetric(passRate/baseRate, "ratio")
	// Where a worker's time goes, per recording: in CRK calls (create,
	// upload, reextract) and outside them (state writes, the source, the
	// syncer itself).
	perRec := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(n) }
	crkTime := timed.total()
	b.ReportMetric(perRec(timed.create.total()), "create-ms/rec")
	b.ReportMetric(perRec(timed.upload.total()), "upload-ms/rec")
	b.ReportMetric(perRec(timed.reextract.total()), "reextract-ms/rec")
	b.ReportMetric(perRec(workers*passTook-crkTime), "other-ms/rec")
}

// timedSink sums the time spent in each call of a Sink.
type timedSink struct {
	s                               Sink
	create, upload, reextract, find timer
}

// timed makes e's syncer call CRK through a timedSink.
func (e *env) timed() *timedSink {
	t := &timedSink{s: e.sink}
	e.sy = New(e.cfg, Deps{Shared: deps.Shared{Now: e.clock.Now}, Store: e.store, Sink: t})
	return t
}

// total is the time spent in every call.
func (t *timedSink) total() time.Duration {
	return t.create.total() + t.upload.total() + t.reextract.total() + t.find.total()
}

type timer struct{ ns atomic.Int64 }

func (t *timer) since(start time.Time) { t.ns.Add(int64(time.Since(start))) }
func (t *timer) total() time.Duration  { return time.Duration(t.ns.Load()) }

func (t *timedSink) Create(ctx context.Context, r sink.Recording) (sink.Created, error) {
	defer t.create.since(time.Now())
	return t.s.Create(ctx, r)
}

func (t *timedSink) Upload(ctx context.Context, uploadURL, contentType string, body io.Reader, size int64) error {
	defer t.upload.since(time.Now())
	return t.s.Upload(ctx, uploadURL, contentType, body, size)
}

func (t *timedSink) Reextract(ctx context.Context, id string) (sink.Reextracted, error) {
	defer t.reextract.since(time.Now())
	return t.s.Reextract(ctx, id)
}

func (t *timedSink) List(ctx context.Context, q sink.Query) (sink.Page, error) {
	return t.s.List(ctx, q)
}

func (t *timedSink) Find(ctx context.Context, dataID string) (*sink.Remote, error) {
	defer t.find.since(time.Now())
	return t.s.Find(ctx, dataID)
}

// BenchmarkUnknownLength: the cost of spooling audio whose length the
// source does not say (so that the PUT carries a Content-Length), as a
// ratio against the same recordings streamed with their length, in the
// same run. 16 recordings of 16 MiB, 4 workers; the spool writes to a
// temporary directory. Reports the ratio of the two passes' times, and
// the peak heap of the spooled pass (memory stays bounded: 1 MiB in
// memory per recording in flight, the rest on disk).
func BenchmarkUnknownLength(b *testing.B) {
	const (
		n    = 16
		size = 16 << 20
	)
	b.SetBytes(n * size)
	var ratio float64
	var peak uint64
	for range b.N {
		b.StopTimer()
		pass := func(unknown bool) time.Duration {
			e := newEnvWith(b, Config{Concurrency: 4, Spool: spool.New(b.TempDir(), 0)}, envOptions{transport: productionTransport(4)})
			e.crk.SetBehaviour(fakecrk.Behaviour{})
			for i := range n {
				id := fmt.Sprintf("u%02d", i)
				e.conn.add(id, e.clock.Now().Add(-time.Hour+time.Duration(i)*time.Second), size, connectortest.Ready)
				e.conn.set(id, func(m *memRec) { m.unknownSize = unknown })
			}
			runtime.GC()
			sample := heapPeak()
			start := time.Now()
			res := e.pass()
			took := time.Since(start)
			if unknown {
				peak = max(peak, sample())
			} else {
				sample()
			}
			if res.Synced != n {
				b.Fatalf("pass: %+v", res)
			}
			return took
		}
		streamed := pass(false)
		b.StartTimer()
		spooled := pass(true)
		b.StopTimer()
		ratio += spooled.Seconds() / streamed.Seconds()
	}
	b.ReportMetric(ratio/float64(b.N), "spooled/streamed")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
