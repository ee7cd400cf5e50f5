package fakecrk

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
)

// BenchmarkCreate measures POST /recordings from parallel clients.
func BenchmarkCreate(b *testing.B) {
	s, _ := start(b, nil)
	c := client(b, true)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("bench-%d", n.Add(1))
			a, err := try(s, c, call{method: "POST", path: "/recordings", token: TokFull, body: createBody(id, "")})
			if err != nil || a.status != 201 {
				b.Fatalf("%v %d", err, a.status)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkUpload measures 1 MB PUTs to storage.
func BenchmarkUpload(b *testing.B) {
	const size = 1 << 20
	s, _ := start(b, nil)
	c := client(b, true)
	cr := mustCreate(b, s, c, TokFull, "", "bench-up", "")
	body := bytes.Repeat([]byte{0x55}, size)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPut, cr.UploadURL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "audio/wav")
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.StatusCode)
		}
	}
}

// BenchmarkList measures a filtered page of 20 out of 10 000 recordings.
func BenchmarkList(b *testing.B) {
	s, _ := start(b, nil)
	for i := range 10_000 {
		s.AddRecording(BizA, Recording{DataID: fmt.Sprintf("dtac-%05d", i), Direction: "in",
			CallAt: fmt.Sprintf("2026-05-%02dT%02d:%02d:00+07:00", 1+i%28, i%24, i%60)})
	}
	c := client(b, true)
	b.ResetTimer()
	for b.Loop() {
		if a := do(b, s, c, call{method: "GET", path: "/recordings?search=dtac-01&limit=20", token: TokFull}); a.status != 200 {
			b.Fatal(a.status)
		}
	}
}
