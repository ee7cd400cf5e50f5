// Package httpsafetest serves the hostile answers that the tests of
// httpsafe's users need: a gzip bomb, and a measure of what a call
// allocated.
package httpsafetest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"runtime"
)

// GzipBomb answers every request with status and contentType and a body
// sent with Content-Encoding: gzip that inflates to prefix, then n spaces,
// then suffix: a few hundred KB on the wire for hundreds of MB inflated.
// It compresses as it sends, so a client that stops reading early stops
// it early too.
func GzipBomb(status int, contentType, prefix string, n int64, suffix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(status)
		zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression) // a valid level: no error
		defer zw.Close()
		if _, err := zw.Write([]byte(prefix)); err != nil {
			return
		}
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		for left := n; left > 0; left -= int64(len(chunk)) {
			if _, err := zw.Write(chunk[:min(int64(len(chunk)), left)]); err != nil {
				return // the client hung up
			}
		}
		_, _ = zw.Write([]byte(suffix))
	})
}

// Allocated returns how many bytes the process allocated while f ran
// (runtime.MemStats.TotalAlloc), garbage included: a reader that held a
// body whole, even briefly, shows here. Other goroutines' allocations
// count too, so run it from a test that is not parallel.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// MB renders a byte count in MiB for a test's message.
func MB(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
