package fakecrk

import (
	"sync"
	"time"
)

// limiter is a token bucket per API key, kept as a generic cell rate
// algorithm in integer time so that a fake clock advanced by the announced
// Retry-After always finds a token free.
type limiter struct {
	interval time.Duration // one token every interval
	burst    time.Duration // capacity × interval

	mu  sync.Mutex
	tat map[string]time.Time // theoretical arrival time per key
}

// newLimiter allows perMinute requests a minute with capacity burst
// (0: max(1, perMinute/60)); perMinute 0 allows everything.
func newLimiter(perMinute, burst int) *limiter {
	if perMinute == 0 {
		return &limiter{}
	}
	if burst == 0 {
		burst = max(1, perMinute/60)
	}
	iv := time.Minute / time.Duration(perMinute)
	return &limiter{interval: iv, burst: time.Duration(burst) * iv, tat: map[string]time.Time{}}
}

// take spends one token of key at now, or says how long until one is free.
func (l *limiter) take(key string, now time.Time) (wait time.Duration, ok bool) {
	if l.interval == 0 {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	tat, seen := l.tat[key]
	if !seen || tat.Before(now) {
		tat = now
	}
	next := tat.Add(l.interval)
	if allowAt := next.Add(-l.burst); now.Before(allowAt) {
		return allowAt.Sub(now), false
	}
	l.tat[key] = next
	return 0, true
}
