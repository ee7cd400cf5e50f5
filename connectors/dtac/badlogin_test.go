package dtac

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/fake/fakedtac"
)

// TestWrongPasswordIsOneLogin: workers that all need a token while the
// password is wrong cost the portal one log-in, not one each, whether they
// came while it was in progress or just after.
func TestWrongPasswordIsOneLogin(t *testing.T) {
	fake := startFake(t, fakedtac.Options{})
	c := newTestConnector(t, fake.URL(), "not-"+testPass, 5)
	const workers = 8
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			if _, err := c.List(ctxT(t), t0, t0.Add(time.Hour)); !errors.Is(err, connectors.ErrAuth) {
				t.Errorf("List: %v, want ErrAuth", err)
			}
		})
	}
	wg.Wait()
	if n := fake.Requests("/orktrack/rest/user/login"); n != 1 || c.Logins() != 1 {
		t.Errorf("%d log-in requests (%d counted) from %d workers, want 1", n, c.Logins(), workers)
	}
}
