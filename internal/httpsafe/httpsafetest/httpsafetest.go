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
	"strings"
)

// GzipBomb answers every request with status and contentType and a body
// sent with Content-Encoding: gzip that inflates to prefix, then n spaces,
// then suffix: a few hundred KB on the wire for hundreds of MB inflated.
// The body is a series of gzip members (which a gzip reader inflates as
// one stream), the spaces compressed once, so serving it costs little.
func GzipBomb(status int, contentType, prefix string, n int64, suffix string) http.Handler {
	const chunk = 1 << 20
	spaces := member(strings.Repeat(" ", chunk))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(status)
		if _, err := w.Write(member(prefix)); err != nil {
			return
		}
		left := n
		for ; left >= chunk; left -= chunk {
			if _, err := w.Write(spaces); err != nil {
				return // the client hung up
			}
		}
		_, _ = w.Write(member(strings.Repeat(" ", int(left)) + suffix))
	})
}

// member is s as one gzip member.
func member(s string) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // a valid level: no error
	_, _ = zw.Write([]byte(s))                             // to memory: no error
	_ = zw.Close()
	return b.Bytes()
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
