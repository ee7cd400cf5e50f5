package alert

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the alerter's Prometheus metrics.
type metrics struct {
	sent   *prometheus.CounterVec
	failed prometheus.Counter
	open   prometheus.Gauge
}

// newMetrics makes syncd_alerts_sent_total{kind}, syncd_alerts_failed_total
// and syncd_incidents_open, registered on reg unless it is nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncd_alerts_sent_total",
			Help: "Messages delivered through the CRK notification gateway, by kind (source_down, crk_token, quarantine, recovered, test).",
		}, []string{"kind"}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "syncd_alerts_failed_total",
			Help: "Failed attempts to deliver a message through the CRK notification gateway (HTTP errors and {\"ok\": false}).",
		}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "syncd_incidents_open",
			Help: "Incidents whose alert was raised (a source failing, the CRK token refused) and that are not over yet.",
		}),
	}
	for _, k := range kinds {
		m.sent.WithLabelValues(k)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.sent, m.failed, m.open} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("alert: registering metrics: %w", err)
		}
	}
	return m, nil
}
