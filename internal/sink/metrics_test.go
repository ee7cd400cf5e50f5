package sink_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
)

// TestMetrics: every request, retries included, is counted by endpoint and
// status ("error" when no answer came), and timed by endpoint.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv := startFake(t, nil)
	c := newClient(t, srv.URL(), fakecrk.TokFull, func(c *sink.Config, d *sink.Deps) {
		d.Registerer = reg
		// No keep-alive: a dropped GET is then not replayed by net/http.
		d.HTTP = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	})

	if _, err := c.WhoAmI(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.FailNext(fakecrk.EndpointCreate, http.StatusInternalServerError, 1)
	cr := mustUpload(t, c, "m-1", 100) // create 500, create 201, upload 200
	if _, err := c.Reextract(t.Context(), cr.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reextract(t.Context(), "00000000-0000-4000-8000-000000000000"); err == nil {
		t.Fatal("reextract of an unknown id passed")
	}
	srv.DropNext(fakecrk.EndpointList, 1)
	if _, err := c.Find(t.Context(), "m-1"); err != nil {
		t.Fatal(err)
	}
	srv.FailNext(fakecrk.EndpointUpload, http.StatusServiceUnavailable, 1)
	if err := c.Upload(t.Context(), cr.UploadURL, "audio/wav", audio(1, 10).Reader(), 10); err == nil {
		t.Fatal("injected upload failure passed")
	}

	want := `
# HELP syncd_crk_requests_total Requests to the CRK API and its storage, by endpoint and HTTP status ("error" when no answer came).
# TYPE syncd_crk_requests_total counter
syncd_crk_requests_total{code="200",endpoint="list"} 1
syncd_crk_requests_total{code="200",endpoint="upload"} 1
syncd_crk_requests_total{code="200",endpoint="whoami"} 1
syncd_crk_requests_total{code="201",endpoint="create"} 1
syncd_crk_requests_total{code="202",endpoint="reextract"} 1
syncd_crk_requests_total{code="404",endpoint="reextract"} 1
syncd_crk_requests_total{code="500",endpoint="create"} 1
syncd_crk_requests_total{code="503",endpoint="upload"} 1
syncd_crk_requests_total{code="error",endpoint="list"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "syncd_crk_requests_total"); err != nil {
		t.Error(err)
	}
	// One histogram per endpoint, holding every request of it.
	if n, err := testutil.GatherAndCount(reg, "syncd_crk_request_duration_seconds"); err != nil || n != 5 {
		t.Errorf("%d duration series (%v), want 5", n, err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "syncd_crk_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			counts[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
		}
	}
	for ep, want := range map[string]uint64{"whoami": 1, "create": 2, "upload": 2, "reextract": 2, "list": 2} {
		if counts[ep] != want {
			t.Errorf("%s: %d timed requests, want %d", ep, counts[ep], want)
		}
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}
