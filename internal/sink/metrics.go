package sink

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the CRK client's Prometheus metrics.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers syncd_crk_requests_total{endpoint,code} and
// syncd_crk_request_duration_seconds{endpoint} on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncd_crk_requests_total",
			Help: "Requests to the CRK API and its storage, by endpoint and HTTP status (\"error\" when no answer came).",
		}, []string{"endpoint", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "syncd_crk_request_duration_seconds",
			Help:    "Time to the answer's headers of requests to the CRK API and its storage.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"endpoint"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *Metrics) observe(endpoint, code string, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(endpoint, code).Inc()
	m.duration.WithLabelValues(endpoint).Observe(d.Seconds())
}
