// Package ingest provides the path from Kafka to ClickHouse: kafka-go consumer groups on
// the tracking and order topics, decoding and normalising v1 contract events (with the
// limits on their fields and the verdicts on their tracking numbers), batched inserts,
// and a dead-letter table for messages that cannot be accepted.
//
// The Kafka client's configuration is package kafkaclient's; listing and replaying the
// stored dead letters, package deadletter's; deriving stored data again over history
// when the rules change (phrases, summaries, number verdicts), package rebuild's.
package ingest
