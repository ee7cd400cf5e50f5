package deps_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/httpsafe"
)

func TestDefaulted(t *testing.T) {
	d := deps.Shared{}.Defaulted()
	if d.Logger == nil || d.Now == nil || d.Registerer == nil || d.HTTP == nil {
		t.Fatalf("a nil field left: %+v", d)
	}
	if got := d.Now(); time.Since(got) > time.Minute || time.Since(got) < -time.Minute {
		t.Errorf("Now() = %v, want the real clock", got)
	}
	// The default client refuses to carry credentials to another host.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect was followed, Authorization %q", r.Header.Get("Authorization"))
	}))
	defer other.Close()
	from := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1), http.StatusFound)
	}))
	defer from.Close()
	req, err := http.NewRequest(http.MethodGet, from.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer secret")
	resp, err := d.HTTP.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, httpsafe.ErrUnsafeRedirect) {
		t.Errorf("redirect with credentials to another host: %v, want ErrUnsafeRedirect", err)
	}
}

func TestDefaultedKeepsWhatIsGiven(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	at := time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC)
	reg := prometheus.NewRegistry()
	hc := &http.Client{}
	d := deps.Shared{Logger: log, Now: func() time.Time { return at }, Registerer: reg, HTTP: hc}.Defaulted()
	if d.Logger != log || !d.Now().Equal(at) || d.Registerer != reg || d.HTTP != hc {
		t.Errorf("Defaulted changed a given dependency: %+v", d)
	}
}

func TestRegisterSharesAnExistingCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "syncd_test_total", Help: "A test counter."}
	first := deps.Register(reg, prometheus.NewCounter(opts))
	second := deps.Register(reg, prometheus.NewCounter(opts))
	second.Inc()
	if got := testutil.ToFloat64(first); got != 1 {
		t.Errorf("the first counter reads %v after the second was incremented, want 1 (one shared counter)", got)
	}
}

func TestRegisterPanicsOnAConflict(t *testing.T) {
	reg := prometheus.NewRegistry()
	deps.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: "syncd_test_total", Help: "A test counter."}))
	defer func() {
		if recover() == nil {
			t.Error("registering a different metric under the same name did not panic")
		}
	}()
	deps.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "syncd_test_total", Help: "Another help."}))
}

// Sleep ends with its context, whichever of the two comes first, and a
// wait of zero or less only reports the context.
func TestSleep(t *testing.T) {
	if err := deps.Sleep(t.Context(), time.Millisecond); err != nil {
		t.Errorf("Sleep(1ms) = %v, want nil", err)
	}
	if err := deps.Sleep(t.Context(), 0); err != nil {
		t.Errorf("Sleep(0) = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := deps.Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(0) on an ended context = %v, want context.Canceled", err)
	}
	// An hour's wait on an ended context returns at once: the test would
	// time out otherwise.
	if err := deps.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(1h) on an ended context = %v, want context.Canceled", err)
	}
}
