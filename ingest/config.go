package ingest

import (
	"fmt"
	"net"
	"time"

	"github.com/trackwatch/trackwatch/feeds"
)

// Config tunes batching and retries. The zero value is usable; defaults follow
// ClickHouse's guidance of thousands to ~100k rows per insert and about one insert per
// second per table at steady load. Each assigned partition builds its own block, so the
// memory ingest holds is about partitions x MaxBatchBytes at most.
type Config struct {
	// MaxBatchRows flushes a partition's block at this many rows. Default 10000.
	MaxBatchRows int `yaml:"max_batch_rows"`
	// MaxBatchBytes flushes a partition's block when its raw message bytes reach this.
	// Default 8 MiB.
	MaxBatchBytes int `yaml:"max_batch_bytes"`
	// FlushInterval flushes every partition this long after the last flush. Default 1s.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// MaxMessageBytes dead-letters larger messages (reason too_large). Default 1 MiB.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// RetryInitial and RetryMax bound the exponential backoff of retried operations.
	// Defaults 100ms and 10s. Retries go on until they succeed or trackwatch stops.
	RetryInitial time.Duration `yaml:"retry_initial"`
	RetryMax     time.Duration `yaml:"retry_max"`
	// SessionTimeout is the consumer-group session: how soon a dead member's partitions
	// move to the others. Default 30s.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// ShutdownTimeout bounds the final flush when trackwatch stops. Default 15s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// Limits bound every string field of a message; longer ones, or ones with control
	// characters, are dead-lettered (invalid_value).
	Limits Limits `yaml:"limits"`
	// Webhooks are the tracking aggregators and shop platforms whose signed webhooks
	// trackwatch accepts at POST /ingest/v1/{provider} and produces to the topics
	// (package feeds; YAML only), e.g.
	//   webhooks: [{provider: aftership, secret_file: /run/secrets/aftership}]
	Webhooks feeds.Config `yaml:"webhooks"`
	// WebhooksListen, when set (host:port), serves the webhooks on a listener of their
	// own, with http.tls, and not on http.listen: the webhooks public, the API private.
	WebhooksListen string `yaml:"webhooks_listen"`
}

// Validate fills defaults and checks the values, naming the offending key.
func (c *Config) Validate() error {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxBatchRows, 10_000)
	def(&c.MaxBatchBytes, 8<<20)
	def(&c.MaxMessageBytes, 1<<20)
	defd(&c.FlushInterval, time.Second)
	defd(&c.RetryInitial, 100*time.Millisecond)
	defd(&c.RetryMax, 10*time.Second)
	defd(&c.SessionTimeout, 30*time.Second)
	defd(&c.ShutdownTimeout, 15*time.Second)
	switch {
	case c.MaxBatchRows < 1 || c.MaxBatchRows > 10_000_000:
		return fmt.Errorf("max_batch_rows: %d is out of range 1..10000000", c.MaxBatchRows)
	case c.MaxBatchBytes < 1<<10:
		return fmt.Errorf("max_batch_bytes: %d is below 1024", c.MaxBatchBytes)
	case c.MaxMessageBytes < 1<<10 || c.MaxMessageBytes > 64<<20:
		return fmt.Errorf("max_message_bytes: %d is out of range 1024..67108864", c.MaxMessageBytes)
	case c.FlushInterval < 10*time.Millisecond:
		return fmt.Errorf("flush_interval: %s is below 10ms", c.FlushInterval)
	case c.RetryInitial <= 0 || c.RetryMax < c.RetryInitial:
		return fmt.Errorf("retry_max: %s must be at least retry_initial %s (> 0)", c.RetryMax, c.RetryInitial)
	case c.SessionTimeout < time.Second:
		return fmt.Errorf("session_timeout: %s is below 1s", c.SessionTimeout)
	case c.ShutdownTimeout < 0:
		return fmt.Errorf("shutdown_timeout: %s must not be negative", c.ShutdownTimeout)
	}
	if err := c.Webhooks.Validate(); err != nil {
		return err
	}
	if c.WebhooksListen != "" {
		if _, _, err := net.SplitHostPort(c.WebhooksListen); err != nil {
			return fmt.Errorf("webhooks_listen: %q is not host:port", c.WebhooksListen)
		}
		if len(c.Webhooks) == 0 {
			return fmt.Errorf("webhooks_listen: %s is set but no webhooks are configured", c.WebhooksListen)
		}
	}
	return c.Limits.Validate()
}
