package feeds

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the webhook endpoint's Prometheus metrics, per provider. The
// disagreements between a provider's status and the phrase tables are counted where
// the events are classified, by the ingest (trackwatch_ingest_provider_readings_total).
type Metrics struct {
	// Requests by provider and outcome: accepted, unauthorized, too_large, bad_json,
	// rate_limited, unmapped (verified, dead-lettered), unavailable (broker down).
	Requests *prometheus.CounterVec
	// Events produced to Kafka, by provider and kind (tracking, order).
	Events *prometheus.CounterVec
	// Unmapped bodies (verified, not mappable: dead-lettered), by provider and reason;
	// reason "status" counts the checkpoints produced whose provider status maps to no
	// trackwatch status (a Pending, an Expired).
	Unmapped *prometheus.CounterVec
	// Seconds from the request to the broker's acknowledgement, by provider.
	Seconds *prometheus.HistogramVec
}

// NewMetrics creates the metrics and registers them with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_webhook_requests_total",
			Help: "Inbound provider webhook requests (POST /ingest/v1/{provider}), by provider and outcome: accepted, unauthorized, too_large, bad_json, rate_limited, unmapped, unavailable."}, []string{"provider", "outcome"}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_webhook_events_produced_total",
			Help: "Contract events produced to Kafka from provider webhooks, by provider and kind (tracking, order)."}, []string{"provider", "kind"}),
		Unmapped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_webhook_unmapped_total",
			Help: "Verified webhook bodies that could not be mapped to contract events (dead-lettered), by provider and reason; reason status: checkpoints produced whose provider status maps to no trackwatch status."}, []string{"provider", "reason"}),
		Seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trackwatch_webhook_request_seconds",
			Help: "Time from a webhook request to its answer, including the broker's acknowledgement.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 10)}, []string{"provider"}),
	}
	if reg != nil {
		reg.MustRegister(m.Requests, m.Events, m.Unmapped, m.Seconds)
	}
	return m
}
