package sink

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crkai/syncd/internal/deps"
)

// metrics are the CRK client's Prometheus metrics.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newMetrics registers syncd_crk_requests_total{endpoint,code} and
// syncd_crk_request_duration_seconds{endpoint} on reg, or takes those
// already there (every Client of a process counts into the same ones).
func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		requests: deps.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncd_crk_requests_total",
			Help: "Requests to the CRK API and its storage, by endpoint and HTTP status (\"error\" when no answer came).",
		}, []string{"endpoint", "code"})),
		duration: deps.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "syncd_crk_request_duration_seconds",
			Help:    "Time to the answer's headers of requests to the CRK API and its storage.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"endpoint"})),
	}
}

func (m *metrics) observe(endpoint, code string, d time.Duration) {
	m.requests.WithLabelValues(endpoint, code).Inc()
	m.duration.WithLabelValues(endpoint).Observe(d.Seconds())
}
