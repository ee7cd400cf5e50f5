// Package deps defines the dependencies every part of syncd is built with
// and shares with the others: the logger, the clock, the metrics registry
// and the HTTP client. Each constructor takes New(cfg Config, deps Deps),
// where its own Deps embeds Shared next to what is particular to it.
package deps

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crkai/syncd/internal/httpsafe"
)

// Shared are the dependencies every component takes. Any of them may be
// nil: Defaulted says what stands in.
type Shared struct {
	// Logger is where the component logs; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Registerer is where the component registers its metrics. nil means
	// a private registry that nobody scrapes: metrics are always
	// recorded, and no code checks whether there are any.
	Registerer prometheus.Registerer
	// HTTP is the client every outgoing request goes through. nil means a
	// new client that never takes credentials along a redirect to clear
	// text or to another host (httpsafe.CheckRedirect).
	HTTP *http.Client
}

// Defaulted returns s with every nil field filled as Shared's fields say.
func (s Shared) Defaulted() Shared {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Registerer == nil {
		s.Registerer = prometheus.NewRegistry()
	}
	if s.HTTP == nil {
		s.HTTP = httpsafe.WithRedirectPolicy(nil)
	}
	return s
}

// Register registers c on reg and returns it, or returns the collector of
// the same description already registered there: components built again
// on one registry (a syncer for each command, two CRK clients) share their
// metrics instead of failing. Any other refusal is a programmer's error
// and panics, as prometheus.MustRegister does.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(err)
}

// Sleep waits for d or for the end of ctx, whichever comes first: every
// wait between two tries (backoffs, a page's retry) is one of these, so
// that stopping syncd never waits for one to run out.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
