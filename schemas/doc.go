// Package schemas provides trackwatch's data contracts: the Go types and JSON Schema of
// the v1 event contract that producers send, and the ClickHouse DDL that stores events,
// as versioned migrations embedded in the binary and applied in order, idempotently.
package schemas
