// Package ingest provides the path from Kafka to ClickHouse: kafka-go consumer groups on
// the tracking and order topics, decoding and normalising v1 contract events, batched
// inserts, and a dead-letter table for messages that cannot be accepted.
package ingest
