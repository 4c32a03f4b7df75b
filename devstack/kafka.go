package devstack

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// KafkaConfig configures the embedded Kafka-protocol broker. The zero value is usable:
// Validate fills the defaults written beside each field.
type KafkaConfig struct {
	// Listen is the host:port the broker listens on. Default 127.0.0.1:9092; port 0
	// picks a free port (tests).
	Listen string `yaml:"listen"`
	// Partitions is the partition count of each seeded topic. Default 4.
	Partitions int `yaml:"partitions"`
	// DataDir keeps topics, offsets and committed group offsets across restarts.
	// Default ./data/kafka. Empty after defaults only when Memory is set.
	DataDir string `yaml:"data_dir"`
	// Memory keeps everything in memory instead of DataDir (tests, benchmarks).
	Memory bool `yaml:"memory"`
}

// Validate fills defaults and checks the values, naming the offending key.
func (c *KafkaConfig) Validate() error {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:9092"
	}
	if c.Partitions == 0 {
		c.Partitions = 4
	}
	if c.DataDir == "" && !c.Memory {
		c.DataDir = "./data/kafka"
	}
	if _, _, err := splitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if c.Partitions < 1 || c.Partitions > 1000 {
		return fmt.Errorf("partitions: %d is out of range 1..1000", c.Partitions)
	}
	return nil
}

// Kafka is a running embedded broker.
type Kafka struct {
	cluster *kfake.Cluster
	lock    *dirLock
	addr    string
}

// StartKafka starts a single-broker cluster with topics seeded at cfg.Partitions.
func StartKafka(cfg KafkaConfig, topics []string, logger *slog.Logger) (*Kafka, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("embedded kafka config: %w", err)
	}
	host, port, _ := splitHostPort(cfg.Listen)
	k := &Kafka{}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			// kfake always asks for 127.0.0.1; honour the configured host instead.
			_, p, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return net.Listen(network, net.JoinHostPort(host, p))
		}),
		kfake.SeedTopics(int32(cfg.Partitions), topics...),
		kfake.DefaultNumPartitions(cfg.Partitions),
		kfake.AllowAutoTopicCreation(),
	}
	if !cfg.Memory {
		lock, err := lockDir(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("embedded kafka: %w", err)
		}
		k.lock = lock
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		k.lock.release()
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "listen" {
			return nil, fmt.Errorf("embedded kafka: cannot listen on %s (set embedded.kafka.listen to a free address): %w", cfg.Listen, err)
		}
		return nil, fmt.Errorf("embedded kafka: %w", err)
	}
	k.cluster = cluster
	k.addr = cluster.ListenAddrs()[0]
	logger.Info("embedded kafka started", "addr", k.addr, "topics", topics, "partitions", cfg.Partitions, "data_dir", cfg.DataDir)
	return k, nil
}

// Addr is the broker's host:port, for clients' bootstrap list.
func (k *Kafka) Addr() string { return k.addr }

// Close stops the broker, flushing persisted state, and releases the data directory.
func (k *Kafka) Close() {
	if k == nil {
		return
	}
	if k.cluster != nil {
		k.cluster.Close()
	}
	k.lock.release()
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q has an invalid port", addr)
	}
	return host, port, nil
}
