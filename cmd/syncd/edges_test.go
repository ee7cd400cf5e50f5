package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// An idle keep-alive connection to the listener is closed by the server.
func TestListenerClosesIdleConnections(t *testing.T) {
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }), 100*time.Millisecond)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: read %v, want the server to close it (EOF)", err)
	}
}

// Every answer the HTTP client receives reports progress to the watchdog:
// a slow paged listing is not a stuck pass.
func TestEveryAnswerIsProgress(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer ts.Close()
	var ticks atomic.Int64
	var tick atomic.Pointer[func()]
	f := func() { ticks.Add(1) }
	tick.Store(&f)
	c := &http.Client{Transport: progressTransport{base: http.DefaultTransport, tick: &tick}}
	for range 3 {
		resp, err := c.Get(ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if ticks.Load() != 3 {
		t.Fatalf("%d ticks for 3 answers", ticks.Load())
	}
}

// The watchdog's message never reads "no progress for 0s".
func TestReadableDurations(t *testing.T) {
	for d, want := range map[time.Duration]string{
		400 * time.Millisecond:                     "400ms",
		1500*time.Millisecond + 3*time.Microsecond: "1.5s",
		70*time.Second + 300*time.Millisecond:      "1m10s",
	} {
		if got := readable(d).String(); got != want || strings.HasPrefix(got, "0s") {
			t.Errorf("readable(%s) = %s, want %s", d, got, want)
		}
	}
}
