// Package fakeclock is a settable clock for tests and the fakes: safe for
// concurrent use, it moves only when told.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a clock that moves only when told. Its Now method fits the
// Now options of the fakes, the connectors and the state store.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock standing at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock d forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
