package kafkaclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/trackwatch/trackwatch/internal/pemfile"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/secret"
)

// Config names the Kafka cluster and topics. The zero value means "start the
// embedded broker and use it" with the contract's topic names.
type Config struct {
	// Brokers is the bootstrap list of host:port. Empty: the embedded broker.
	Brokers []string `yaml:"brokers"`
	// TrackingTopic carries carrier scans. Default tracking-events.
	TrackingTopic string `yaml:"tracking_topic"`
	// OrderTopic carries marketplace order changes. Default order-events.
	OrderTopic string `yaml:"order_topic"`
	// GroupID is the consumer group; every ingest process of a deployment shares it.
	// Default trackwatch-ingest.
	GroupID string `yaml:"group_id"`
	// ClientID identifies trackwatch to the brokers. Default trackwatch.
	ClientID string `yaml:"client_id"`
	// TLS settings for the broker connections.
	TLS TLSConfig `yaml:"tls"`
	// SASL settings for the broker connections.
	SASL SASLConfig `yaml:"sasl"`
	// DialTimeout bounds connecting to a broker. Default 10s.
	DialTimeout time.Duration `yaml:"dial_timeout"`

	rotating *rotatingSASL // set by EnableCredentialReload; shared by copies
}

// TLSConfig enables TLS to the brokers.
type TLSConfig struct {
	Enabled bool `yaml:"enabled"`
	// CAFile is a PEM bundle to trust instead of the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate for mutual TLS.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// SASLConfig authenticates to the brokers.
type SASLConfig struct {
	// Mechanism is "", "plain", "scram-sha-256" or "scram-sha-512".
	Mechanism string        `yaml:"mechanism"`
	Username  string        `yaml:"username"`
	Password  secret.String `yaml:"password"`
	// PasswordFile reads Password from a file instead.
	PasswordFile string `yaml:"password_file"`
	passwordRead bool   // Password came from PasswordFile
}

// Validate fills defaults and checks the values, naming the offending key.
func (c *Config) Validate() error {
	if c.TrackingTopic == "" {
		c.TrackingTopic = schemas.TrackingTopic
	}
	if c.OrderTopic == "" {
		c.OrderTopic = schemas.OrderTopic
	}
	if c.GroupID == "" {
		c.GroupID = "trackwatch-ingest"
	}
	if c.ClientID == "" {
		c.ClientID = "trackwatch"
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 10 * time.Second
	}
	for i, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return fmt.Errorf("brokers[%d]: %q is not host:port", i, b)
		}
	}
	if c.TrackingTopic == c.OrderTopic {
		return fmt.Errorf("order_topic: %q is the same as tracking_topic", c.OrderTopic)
	}
	if c.DialTimeout < 0 {
		return fmt.Errorf("dial_timeout: %s must be positive", c.DialTimeout)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return errors.New("tls.key_file: cert_file and key_file go together")
	}
	for key, path := range map[string]string{"tls.ca_file": c.TLS.CAFile, "tls.cert_file": c.TLS.CertFile, "tls.key_file": c.TLS.KeyFile} {
		if path != "" {
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	if err := secret.ReadFile("sasl.password", c.SASL.PasswordFile, &c.SASL.Password, &c.SASL.passwordRead); err != nil {
		return err
	}
	switch c.SASL.Mechanism {
	case "":
	case "plain", "scram-sha-256", "scram-sha-512":
		if c.SASL.Username == "" {
			return errors.New("sasl.username: required with sasl.mechanism")
		}
	default:
		return fmt.Errorf("sasl.mechanism: %q is not one of plain, scram-sha-256, scram-sha-512", c.SASL.Mechanism)
	}
	return nil
}

// Embedded reports whether no brokers are configured, so the embedded broker must start.
func (c *Config) Embedded() bool { return len(c.Brokers) == 0 }

// Topics returns the topics trackwatch consumes.
func (c *Config) Topics() []string { return []string{c.TrackingTopic, c.OrderTopic} }

// Dialer builds a kafka-go dialer with the configured TLS and SASL.
func (c *Config) Dialer() (*kafka.Dialer, error) {
	d := &kafka.Dialer{ClientID: c.ClientID, Timeout: c.DialTimeout, DualStack: true}
	var err error
	if d.TLS, err = c.tlsConfig(); err != nil {
		return nil, err
	}
	if d.SASLMechanism, err = c.saslMechanism(); err != nil {
		return nil, err
	}
	return d, nil
}

// Transport builds a kafka-go transport (for writers) with the configured TLS and SASL.
func (c *Config) Transport() (*kafka.Transport, error) {
	t := &kafka.Transport{ClientID: c.ClientID, DialTimeout: c.DialTimeout}
	var err error
	if t.TLS, err = c.tlsConfig(); err != nil {
		return nil, err
	}
	if t.SASL, err = c.saslMechanism(); err != nil {
		return nil, err
	}
	return t, nil
}

func (c *Config) tlsConfig() (*tls.Config, error) {
	if !c.TLS.Enabled {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.TLS.CAFile != "" {
		pool, err := pemfile.CertPool("kafka tls ca_file", c.TLS.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if c.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka tls client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func (c *Config) saslMechanism() (sasl.Mechanism, error) {
	if c.rotating != nil {
		return c.rotating, nil
	}
	return c.staticMechanism()
}

// staticMechanism builds the configured mechanism with the configured credentials.
func (c *Config) staticMechanism() (sasl.Mechanism, error) {
	switch c.SASL.Mechanism {
	case "":
		return nil, nil
	case "plain":
		return plain.Mechanism{Username: c.SASL.Username, Password: c.SASL.Password.Reveal()}, nil
	case "scram-sha-256", "scram-sha-512":
		algo := scram.SHA256
		if c.SASL.Mechanism == "scram-sha-512" {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, c.SASL.Username, c.SASL.Password.Reveal())
		if err != nil {
			return nil, fmt.Errorf("kafka sasl: %w", err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("kafka sasl: unknown mechanism %q", c.SASL.Mechanism)
}

// Ping connects to a broker and reads the cluster's brokers (for /healthz: cheap).
func (c *Config) Ping(ctx context.Context, brokers []string) error {
	return c.withBroker(ctx, brokers, func(conn *kafka.Conn) error {
		_, err := conn.Brokers()
		return err
	})
}

// Metadata returns how many brokers the cluster has and the partitions of each topic.
// It asks for every topic's metadata: asking for one by name may create it where
// brokers create topics on first use.
func (c *Config) Metadata(ctx context.Context, brokers []string) (nBrokers int, partitions map[string]int, err error) {
	err = c.withBroker(ctx, brokers, func(conn *kafka.Conn) error {
		bs, err := conn.Brokers()
		if err != nil {
			return err
		}
		parts, err := conn.ReadPartitions()
		if err != nil {
			return err
		}
		nBrokers, partitions = len(bs), map[string]int{}
		for _, p := range parts {
			partitions[p.Topic]++
		}
		return nil
	})
	return nBrokers, partitions, err
}

// withBroker runs fn on a connection to the first of brokers that answers.
func (c *Config) withBroker(ctx context.Context, brokers []string, fn func(*kafka.Conn) error) error {
	d, err := c.Dialer()
	if err != nil {
		return err
	}
	var last error
	for _, b := range brokers {
		conn, err := d.DialContext(ctx, "tcp", b)
		if err != nil {
			last = err
			continue
		}
		err = fn(conn)
		conn.Close()
		if err == nil {
			return nil
		}
		last = err
	}
	return fmt.Errorf("kafka brokers %v unreachable: %w", brokers, last)
}
