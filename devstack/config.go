package devstack

import "fmt"

// Config configures the embedded stack; each part starts only when the corresponding
// production setting (kafka.brokers, clickhouse.addr) is empty.
type Config struct {
	Kafka      KafkaConfig      `yaml:"kafka"`
	ClickHouse ClickHouseConfig `yaml:"clickhouse"`
}

// Validate fills defaults and checks both parts, naming the offending key.
func (c *Config) Validate() error {
	if err := c.Kafka.Validate(); err != nil {
		return fmt.Errorf("kafka.%w", err)
	}
	if err := c.ClickHouse.Validate(); err != nil {
		return fmt.Errorf("clickhouse.%w", err)
	}
	return nil
}
