package syncer

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/crkai/syncd/internal/deps"
)

// metrics are the per-source sync metrics of DESIGN.md. No label names a
// recording.
type metrics struct {
	listed      *prometheus.CounterVec
	synced      *prometheus.CounterVec
	failed      *prometheus.CounterVec
	quarantined *prometheus.GaugeVec
	pending     *prometheus.GaugeVec
	duration    *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
	up          *prometheus.GaugeVec
	audioBytes  *prometheus.CounterVec
	loginRetry  *prometheus.GaugeVec
}

// newMetrics registers the syncer's metrics on reg, or takes those already
// there (a Syncer built again on the same registry counts on).
func newMetrics(reg prometheus.Registerer) *metrics {
	src := []string{"source"}
	m := &metrics{
		listed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "syncd_recordings_listed_total",
			Help: "Recordings the source listed in a pass's window (a recording is counted again by every pass that lists it)."}, src),
		synced: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "syncd_recordings_synced_total",
			Help: "Recordings fully synced: created at CRK, audio uploaded, AI processing asked for."}, src),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "syncd_recordings_failed_total",
			Help: "Failed attempts to sync a recording, by reason."}, []string{"source", "reason"}),
		quarantined: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "syncd_recordings_quarantined",
			Help: "Recordings in quarantine: they will not be tried again until an operator runs syncd -retry-quarantined."}, src),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "syncd_recordings_pending",
			Help: "Recordings known to the state file that are not done yet."}, src),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "syncd_pass_duration_seconds",
			Help: "Duration of a sync pass.", Buckets: []float64{.1, .5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600}}, src),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "syncd_last_success_timestamp_seconds",
			Help: "Unix time of the end of the last pass that listed the source and reached CRK."}, src),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "syncd_source_up",
			Help: "1 if the last pass could log in to the source and list it, else 0."}, src),
		audioBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "syncd_audio_bytes_total",
			Help: "Audio bytes streamed from the source to CRK storage."}, src),
		loginRetry: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "syncd_source_login_backoff_until_timestamp_seconds",
			Help: "While the source's log-in is refused: Unix time before which syncd will not try it again (0 when not backing off)."}, src),
	}
	m.listed, m.synced, m.failed = deps.Register(reg, m.listed), deps.Register(reg, m.synced), deps.Register(reg, m.failed)
	m.quarantined, m.pending = deps.Register(reg, m.quarantined), deps.Register(reg, m.pending)
	m.duration, m.lastSuccess, m.up = deps.Register(reg, m.duration), deps.Register(reg, m.lastSuccess), deps.Register(reg, m.up)
	m.audioBytes, m.loginRetry = deps.Register(reg, m.audioBytes), deps.Register(reg, m.loginRetry)
	return m
}
