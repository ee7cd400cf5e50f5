package connectors

import (
	"context"
	"testing"
	"time"
)

// TestDemoFakeProduces: Produce adds a call ended at the clock's time on
// every tick, and returns once its context ends.
func TestDemoFakeProduces(t *testing.T) {
	at := time.Date(2026, 5, 21, 9, 0, 0, 0, time.UTC)
	calls := make(chan time.Time)
	f := &DemoFake{Call: func(end time.Time) { calls <- end }}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Produce(ctx, time.Millisecond, func() time.Time { return at })
	}()
	for range 3 {
		if end := <-calls; !end.Equal(at) {
			t.Fatalf("a call ended at %s, want the clock's %s", end, at)
		}
	}
	cancel()
	for {
		select {
		case <-calls: // a tick that raced the cancellation
		case <-done:
			return
		}
	}
}
