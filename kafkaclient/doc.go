// Package kafkaclient is trackwatch's Kafka client configuration: the brokers, topics
// and consumer group (Config, read from the kafka section of the configuration), TLS and
// SASL, the kafka-go dialers and transports built from them, SASL credentials replaced
// while the process runs, and a consumer group's lag. The consumer itself is package
// ingest's.
package kafkaclient
