package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/simulate"
)

// Produce sends simulated messages to the configured topics.
func Produce(ctx context.Context, cfg config.Config, brokers []string, msgs []simulate.Message) error {
	tr, err := cfg.Kafka.Transport()
	if err != nil {
		return err
	}
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Transport: tr, Balancer: &kafka.Hash{}, BatchSize: 1000,
		BatchTimeout: 10 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	topics := map[string]string{schemas.TrackingTopic: cfg.Kafka.TrackingTopic, schemas.OrderTopic: cfg.Kafka.OrderTopic}
	out := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		out[i] = kafka.Message{Topic: topics[m.Topic], Key: []byte(m.Key), Value: m.Value}
	}
	if err := w.WriteMessages(ctx, out...); err != nil {
		var we kafka.WriteErrors
		if errors.As(err, &we) {
			return fmt.Errorf("produce: %d of %d messages failed: %w", we.Count(), len(out), err)
		}
		return fmt.Errorf("produce: %w", err)
	}
	return nil
}

// DemoOptions shape the demo feed of trackwatch run --demo.
type DemoOptions struct {
	Interval time.Duration // a batch this often; default 20s
	Orders   int           // orders per batch; default 40
}

// demo feeds labelled simulated traffic, relative to the current moment, every interval,
// so a new user sees ingest counters move and alerts appear. The first batch also has
// the labelled sellers (one whose valid tracking rate is 0.6, and two that must not be
// flagged), so that seller_valid_tracking_rate fires in the first run too.
func demo(ctx context.Context, cfg config.Config, brokers []string, o DemoOptions, now func() time.Time, logger *slog.Logger) error {
	if o.Interval == 0 {
		o.Interval = 20 * time.Second
	}
	if o.Orders == 0 {
		o.Orders = 40
	}
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	for batch := 1; ; batch++ {
		res := simulate.Run(simulate.Options{Seed: uint64(batch), Orders: o.Orders, AsOf: now().UTC(), Batch: batch, Sellers: batch == 1})
		if err := Produce(ctx, cfg, brokers, res.Messages); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			logger.Warn("demo batch not produced", "batch", batch, "err", err)
		} else {
			logger.Info("demo batch produced", "batch", batch, "orders", len(res.Truth), "messages", len(res.Messages))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
