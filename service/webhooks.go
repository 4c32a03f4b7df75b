package service

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"log/slog"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/feeds"
	"github.com/trackwatch/trackwatch/ingest"
)

// Webhooks builds the inbound provider webhooks' handler (ingest.webhooks): a producer
// to the contract's topics that waits for every in-sync replica's acknowledgement, and
// the dead-letter table for the bodies that verify but cannot be mapped. The returned
// close stops the producer.
func Webhooks(cfg config.Config, brokers []string, conn ingest.Conn, reg prometheus.Registerer, logger *slog.Logger) (*feeds.Handler, func() error, error) {
	tr, err := cfg.Kafka.Transport()
	if err != nil {
		return nil, nil, err
	}
	w := feeds.NewProducer(brokers, tr)
	db := cfg.ClickHouse.Database
	h, err := feeds.NewHandler(feeds.HandlerOptions{
		Config: cfg.Ingest.Webhooks, Producer: w, TrackingTopic: cfg.Kafka.TrackingTopic, OrderTopic: cfg.Kafka.OrderTopic,
		DeadLetters: func(ctx context.Context, d feeds.DeadLetter) error { return storeWebhookDeadLetter(ctx, conn, db, d) },
		Metrics:     feeds.NewMetrics(reg), Logger: logger,
	})
	if err != nil {
		_ = w.Close()
		return nil, nil, err
	}
	return h, w.Close, nil
}

// storeWebhookDeadLetter keeps a verified body that could not be mapped in dead_letters,
// its source "webhook:PROVIDER" where a file's name goes and, as its line, a number
// derived from the body: the provider's retries of the same body store it once.
func storeWebhookDeadLetter(ctx context.Context, conn ingest.Conn, db string, d feeds.DeadLetter) error {
	sum := sha256.Sum256(d.Raw)
	line := int64(binary.BigEndian.Uint64(sum[:8]) >> 1)
	source := "webhook:" + d.Provider
	return ingest.InsertDeadLetters(ctx, conn, db, []ingest.DeadLetter{{
		Topic: d.Topic, Partition: -1, File: source, Line: line, Raw: d.Raw, Reason: "unmapped", Error: d.Reason + ": " + d.Detail, MessageTime: d.At,
	}}, source+":"+strconv.FormatInt(line, 10))
}
