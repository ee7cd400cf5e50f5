package threecx

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	fake "github.com/crkai/syncd/internal/fake/fakethreecx"
)

// TestWrongSecretIsOneSignIn: workers that all need a token while the
// secret is wrong cost the PBX one sign-in, not one each (3CX counts
// failed sign-ins towards blocking the address).
func TestWrongSecretIsOneSignIn(t *testing.T) {
	srv := startFake(t, fake.Options{})
	cfg := clientConfig()
	cfg.ClientSecret = wrongSecret
	c := connect(t, srv.URL(), cfg, nil)
	const workers = 8
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			if _, err := c.List(t.Context(), base, base.Add(time.Hour)); !errors.Is(err, connectors.ErrAuth) {
				t.Errorf("List: %v, want ErrAuth", err)
			}
		})
	}
	wg.Wait()
	if n := srv.TokenRequests(); n != 1 || c.Logins() != 1 {
		t.Errorf("%d token requests (%d counted) from %d workers, want 1", n, c.Logins(), workers)
	}
}
