package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the ingest's Prometheus metrics.
type Metrics struct {
	Messages      *prometheus.CounterVec   // topic, outcome
	DeadLetters   *prometheus.CounterVec   // topic, reason
	RowsInserted  *prometheus.CounterVec   // table
	BatchRows     *prometheus.HistogramVec // table
	BatchBytes    *prometheus.HistogramVec // table
	InsertSeconds *prometheus.HistogramVec // table
	Retries       *prometheus.CounterVec   // operation
	Lag           *prometheus.GaugeVec     // topic, partition
	// UnknownPhrases counts carrier events whose words no phrase covers (carrier).
	UnknownPhrases *prometheus.CounterVec
	// ProviderReadings counts carrier events that came with a tracking aggregator's
	// reading (provider, outcome: agreed, decided where no phrase matched, disagreed
	// where the phrase table's reading was kept).
	ProviderReadings *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_ingest_messages_total",
			Help: "Kafka messages consumed, by outcome: inserted, dead_lettered, duplicate (same event_id in one block), already_stored (re-delivered after a crash or rebalance)."}, []string{"topic", "outcome"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_ingest_dead_letters_total",
			Help: "Messages written to the dead-letter table, by reason."}, []string{"topic", "reason"}),
		RowsInserted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_ingest_rows_inserted_total",
			Help: "Rows inserted into ClickHouse, by table."}, []string{"table"}),
		BatchRows: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trackwatch_ingest_batch_rows",
			Help: "Rows per inserted block.", Buckets: prometheus.ExponentialBuckets(1, 4, 10)}, []string{"table"}),
		BatchBytes: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trackwatch_ingest_batch_bytes",
			Help: "Raw message bytes per inserted block.", Buckets: prometheus.ExponentialBuckets(256, 4, 10)}, []string{"table"}),
		InsertSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trackwatch_ingest_insert_seconds",
			Help: "Latency of one block insert, including retries.", Buckets: prometheus.ExponentialBuckets(0.001, 3, 10)}, []string{"table"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_ingest_retries_total",
			Help: "Retried operations after a retryable error, by operation."}, []string{"operation"}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "trackwatch_ingest_consumer_lag",
			Help: "Messages behind the end of an assigned partition, as last reported by its reader."}, []string{"topic", "partition"}),
		UnknownPhrases: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_ingest_unknown_phrases_total",
			Help: "Carrier events decoded whose raw_status no phrase table covers (stored with status unknown), by carrier."}, []string{"carrier"}),
		ProviderReadings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_ingest_provider_readings_total",
			Help: "Carrier events decoded with an aggregator's own status (provider_status), by provider and outcome: agreed, decided (no phrase knew the words), disagreed (the phrase table's reading was kept)."}, []string{"provider", "outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.Messages, m.DeadLetters, m.RowsInserted, m.BatchRows, m.BatchBytes, m.InsertSeconds, m.Retries, m.Lag, m.UnknownPhrases, m.ProviderReadings)
	}
	return m
}
