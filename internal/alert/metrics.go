package alert

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the alerter's Prometheus metrics.
type metrics struct {
	sent    *prometheus.CounterVec
	failed  prometheus.Counter
	dropped *prometheus.CounterVec
	open    prometheus.Gauge
}

// Reasons a message is dropped undelivered, the label of
// syncd_alerts_dropped_total.
const (
	dropRefused = "refused" // the gateway refused it MaxRefusals times
	dropExpired = "expired" // not delivered within MaxAge
	dropBacklog = "backlog" // too many quarantine warnings waiting
)

// newMetrics makes syncd_alerts_sent_total{kind}, syncd_alerts_failed_total,
// syncd_alerts_dropped_total{reason} and syncd_incidents_open, registered
// on reg.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncd_alerts_sent_total",
			Help: "Messages delivered through the CRK notification gateway, by kind (source_down, crk_token, quarantine, flapping, recovered, test).",
		}, []string{"kind"}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "syncd_alerts_failed_total",
			Help: "Failed attempts to deliver a message through the CRK notification gateway (HTTP errors and {\"ok\": false}).",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncd_alerts_dropped_total",
			Help: "Messages given up undelivered, by reason: refused (the gateway refused the message itself, 3 times), expired (not delivered within 24 h), backlog (too many quarantine warnings waiting).",
		}, []string{"reason"}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "syncd_incidents_open",
			Help: "Incidents whose alert was raised (a source failing, a source flapping, the CRK token refused) and that are not over yet.",
		}),
	}
	for _, k := range kinds {
		m.sent.WithLabelValues(k)
	}
	for _, r := range []string{dropRefused, dropExpired, dropBacklog} {
		m.dropped.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{m.sent, m.failed, m.dropped, m.open} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("alert: registering metrics: %w", err)
		}
	}
	return m, nil
}
