package dtac

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/httpsafe"
	"github.com/crkai/syncd/internal/httpsafe/httpsafetest"
)

// bombSize is what the gzip bombs inflate to: 100 MB of spaces inside the
// JSON, a few hundred KB on the wire.
const bombSize = 100 << 20

// TestGzipBombs: a listing page or a log-in answer that inflates far past
// its bound is an error saying so, and the connector never holds it: what
// the process allocates stays well below the inflated size.
func TestGzipBombs(t *testing.T) {
	const token = "11111111-2222-4333-8444-555555555555"
	for _, tc := range []struct {
		name string
		path string // answered by the bomb; the rest as a sane portal
		body [2]string
		want string
	}{
		{"listing page", "/orktrack/rest/recordings", [2]string{`{"objects":[`, `],"nextPageUri":null}`},
			"page 1: reading the page: the listing page is larger than 32 MiB"},
		{"log-in answer", "/orktrack/rest/user/login", [2]string{`{"accesstoken":"` + token + `","user":`, `{}}`},
			"reading the answer: the log-in answer is larger than 1 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bomb := httpsafetest.GzipBomb(http.StatusOK, "application/json", tc.body[0], bombSize, tc.body[1])
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tc.path {
					bomb.ServeHTTP(w, r)
					return
				}
				_, _ = w.Write([]byte(`{"accesstoken":"` + token + `"}`))
			}))
			t.Cleanup(srv.Close)
			c := newTestConnector(t, srv.URL, testPass, 5)
			var err error
			alloc := httpsafetest.Allocated(func() { _, err = c.List(ctxT(t), t0, t0.Add(time.Hour)) })
			if !errors.Is(err, httpsafe.ErrTooLarge) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("List: %v, want an error with %q", err, tc.want)
			}
			if alloc > 64<<20 {
				t.Errorf("allocated %s reading a bomb of %s", httpsafetest.MB(alloc), httpsafetest.MB(bombSize))
			}
			t.Logf("allocated %s", httpsafetest.MB(alloc))
		})
	}
}
