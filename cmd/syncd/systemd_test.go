package main

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeclock"
)

func TestWatchdogWithholdsPingsFromAStuckPass(t *testing.T) {
	clock := fakeclock.New(time.Unix(1_000_000, 0))
	alive := func() error { return nil }
	w := newWatchdog(time.Minute, clock.Now)

	clock.Advance(time.Hour) // idle between passes: alive
	if err := w.check(alive); err != nil {
		t.Fatalf("idle daemon: %v", err)
	}
	w.passStarted()
	clock.Advance(50 * time.Second)
	if err := w.check(alive); err != nil {
		t.Fatalf("a pass 50 s in: %v", err)
	}
	clock.Advance(20 * time.Second)
	if err := w.check(alive); err == nil || !strings.Contains(err.Error(), "no progress for 1m10s") {
		t.Fatalf("a pass stuck 70 s: %v", err)
	}
	w.progress()
	if err := w.check(alive); err != nil {
		t.Fatalf("after progress: %v", err)
	}
	w.passEnded()
	clock.Advance(time.Hour)
	if err := w.check(alive); err != nil {
		t.Fatalf("after the pass: %v", err)
	}
	wedged := errors.New("the scheduler does not answer")
	if err := w.check(func() error { return wedged }); !errors.Is(err, wedged) {
		t.Fatalf("wedged scheduler: %v", err)
	}
}

// TestDaemonTalksToSystemd runs the daemon with a NOTIFY_SOCKET and a
// watchdog, as systemd would, and reads what it says.
func TestDaemonTalksToSystemd(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "300000")

	f := newFakes(t, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { runWith(ctx, f.with("SYNCD_SCHEDULE", "@every 1h")) })

	got := map[string]bool{}
	read := func(want string) {
		t.Helper()
		buf := make([]byte, 256)
		for !got[want] {
			conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("waiting for %s: %v (got %v)", want, err, got)
			}
			for _, l := range strings.Split(string(buf[:n]), "\n") {
				got[l] = true
			}
		}
	}
	read("READY=1")
	read("WATCHDOG=1")
	cancel()
	read("STOPPING=1")
	wg.Wait()
}
