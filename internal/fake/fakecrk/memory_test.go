package fakecrk

import (
	"crypto/sha256"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// sampler reads its source and, once halfway, records the heap in use.
type sampler struct {
	r       io.Reader
	n, at   int64
	once    sync.Once
	midHeap atomic.Uint64
}

func (s *sampler) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.n >= s.at {
		s.once.Do(func() {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			s.midHeap.Store(m.HeapInuse)
		})
	}
	return n, err
}

// pattern is an endless stream of one 64 KB block, cheap to make even under
// the race detector (fakeaudio's generator is not).
type pattern struct {
	block []byte
	off   int
}

func newPattern() *pattern {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return &pattern{block: b}
}

func (p *pattern) Read(b []byte) (int, error) {
	n := copy(b, p.block[p.off:])
	p.off = (p.off + n) % len(p.block)
	return n, nil
}

// TestLargeUploadIsStreamed PUTs 256 MB and checks that neither side held
// it: heap in use halfway through and the total allocated stay small.
func TestLargeUploadIsStreamed(t *testing.T) {
	if testing.Short() {
		t.Skip("256 MB upload")
	}
	const size = 256 << 20
	const budget = 32 << 20
	s, _ := start(t, nil)
	c := client(t, true)
	cr := mustCreate(t, s, c, TokFull, "", "big-1", "")
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(newPattern(), size)); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	body := &sampler{r: io.LimitReader(newPattern(), size), at: size / 2}
	req, err := http.NewRequest(http.MethodPut, cr.UploadURL, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "audio/wav")
	a, err := send(c, req)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if grew := int64(body.midHeap.Load()) - int64(before.HeapInuse); grew > budget {
		t.Errorf("heap in use grew by %d MB halfway through the upload", grew>>20)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > budget {
		t.Errorf("the upload allocated %d MB in all", alloc>>20)
	}
	r, _ := s.Recording(BizA, "big-1")
	if !r.HasAudio || r.AudioSize != size || r.AudioSHA256 != sum {
		t.Fatalf("stored %d bytes, sha match %v", r.AudioSize, r.AudioSHA256 == sum)
	}
	t.Logf("heap in use: before %d KB, halfway %d KB; allocated %d KB",
		before.HeapInuse>>10, body.midHeap.Load()>>10, (after.TotalAlloc-before.TotalAlloc)>>10)
}
