// Package devstack provides the embedded development stack: a Kafka-protocol broker
// (franz-go's kfake) and a real ClickHouse server (libchdb loaded in a child process),
// both on loopback. trackwatch starts it when no Kafka brokers or ClickHouse addresses
// are configured, so that dev, demo, tests and CI run against real wire protocols
// without Docker.
package devstack
