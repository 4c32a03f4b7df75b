package feeds

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trackwatch/trackwatch/secret"
)

// Webhook is one provider account whose webhooks trackwatch accepts at
// POST /ingest/v1/{provider}. The same provider may be listed more than once (two shops,
// or an old and a new secret while rotating): a request is accepted when any entry's
// secret verifies it, and takes that entry's marketplace.
type Webhook struct {
	// Provider is one of aftership, 17track, trackingmore, easypost, ship24, shopify.
	Provider string `yaml:"provider"`
	// Secret (or SecretFile, read again on SIGHUP) is what the provider signs with: the
	// webhook secret of AfterShip, TrackingMore, EasyPost, Ship24 and Shopify, the API
	// key of 17TRACK.
	Secret     secret.String `yaml:"secret"`
	SecretFile string        `yaml:"secret_file"`
	// Marketplace is stored with the order events this entry produces (shopify).
	Marketplace string `yaml:"marketplace"`
	// MaxBodyBytes answers 413 to larger bodies, unread. Default 1 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// RatePerSecond and Burst bound the requests of this provider (every entry of it
	// together, the first entry's values), answering 429 beyond. Defaults 500 and 1000.
	RatePerSecond float64 `yaml:"rate_per_second"`
	Burst         int     `yaml:"burst"`
	// TimestampTolerance bounds the age of a signed timestamp, for the schemes that sign
	// one (TrackingMore). Default 5m.
	TimestampTolerance time.Duration `yaml:"timestamp_tolerance"`

	fromFile bool // Secret was read from SecretFile by an earlier validation
}

// Config is ingest.webhooks: the providers whose webhooks are accepted.
type Config []Webhook

// Validate fills defaults, reads secret files and checks the values, naming the key.
func (c Config) Validate() error {
	for i := range c {
		w := &c[i]
		key := fmt.Sprintf("webhooks[%d]", i)
		w.Provider = strings.ToLower(strings.TrimSpace(w.Provider))
		if _, ok := providers[w.Provider]; !ok {
			return fmt.Errorf("%s.provider: %q is not one of %s", key, w.Provider, strings.Join(Providers(), ", "))
		}
		if err := secret.ReadFile(key+".secret", w.SecretFile, &w.Secret, &w.fromFile); err != nil {
			return err
		}
		if len(w.Secret.Reveal()) < 8 {
			return fmt.Errorf("%s.secret: at least 8 characters are required (value not shown)", key)
		}
		if w.MaxBodyBytes == 0 {
			w.MaxBodyBytes = 1 << 20
		}
		if w.MaxBodyBytes < 1<<10 || w.MaxBodyBytes > 64<<20 {
			return fmt.Errorf("%s.max_body_bytes: %d is out of range 1024..67108864", key, w.MaxBodyBytes)
		}
		if w.RatePerSecond == 0 {
			w.RatePerSecond = 500
		}
		if w.Burst == 0 {
			w.Burst = 1000
		}
		if w.RatePerSecond < 0 || w.Burst < 1 {
			return fmt.Errorf("%s.rate_per_second: %g and burst %d must be positive", key, w.RatePerSecond, w.Burst)
		}
		if w.TimestampTolerance == 0 {
			w.TimestampTolerance = 5 * time.Minute
		}
		if w.TimestampTolerance < time.Second {
			return fmt.Errorf("%s.timestamp_tolerance: %s is below 1s", key, w.TimestampTolerance)
		}
	}
	return nil
}

// Providers lists the providers' names, sorted.
func Providers() []string {
	out := make([]string, 0, len(providers))
	for name := range providers {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
