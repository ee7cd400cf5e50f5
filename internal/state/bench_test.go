package state

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// BenchmarkOpen100k measures the time to ready of a store holding 100,000
// records: Open, Summary, Close.
func BenchmarkOpen100k(b *testing.B) {
	const n = 100_000
	path := filepath.Join(b.TempDir(), "syncd.db")
	clk := newClock()
	s, err := Open(context.Background(), path, Options{Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	fill(b, s, "dtac", n, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	want := fillCounts(n)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}

	for _, ro := range []bool{false, true} {
		b.Run(fmt.Sprintf("readOnly=%t", ro), func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				s, err := Open(ctx, path, Options{ReadOnly: ro, Now: clk.Now})
				if err != nil {
					b.Fatal(err)
				}
				sum, err := s.Summary(ctx, "dtac")
				if err != nil {
					b.Fatal(err)
				}
				if countsOf(sum) != want {
					b.Fatalf("counts = %+v, want %+v", countsOf(sum), want)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(info.Size())/1e6, "file-MB")
		})
	}
}

// BenchmarkPut measures durable Puts, one writer at a time and four at
// once (the default SYNCD_CONCURRENCY).
func BenchmarkPut(b *testing.B) {
	for _, writers := range []int{1, 4} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			ctx := context.Background()
			s := openTemp(b, newClock())
			at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			b.ResetTimer()
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < b.N; i += writers {
						r := Record{ID: fmt.Sprintf("rec-%d", i), DataID: fmt.Sprintf("dtac-rec-%d", i), CRKID: "rec_0123456789", Step: Uploaded, CallAt: at}
						if err := s.Put(ctx, "dtac", r); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
		})
	}
}
