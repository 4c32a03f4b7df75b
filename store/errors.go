package store

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// retryableCodes are ClickHouse server error codes that describe a passing condition:
// overload, timeouts, a server or replica going away, or an insert whose outcome is
// unknown (safe to repeat because inserts carry a deduplication token).
var retryableCodes = map[int32]string{
	3:   "UNEXPECTED_END_OF_FILE",
	159: "TIMEOUT_EXCEEDED",
	164: "READONLY",
	202: "TOO_MANY_SIMULTANEOUS_QUERIES",
	203: "NO_FREE_CONNECTION",
	209: "SOCKET_TIMEOUT",
	210: "NETWORK_ERROR",
	236: "ABORTED", // "the server is shutting down"
	241: "MEMORY_LIMIT_EXCEEDED",
	242: "TABLE_IS_READ_ONLY",
	252: "TOO_MANY_PARTS",
	279: "ALL_CONNECTION_TRIES_FAILED", // a shard of a cluster is unreachable
	285: "TOO_FEW_LIVE_REPLICAS",
	319: "UNKNOWN_STATUS_OF_INSERT",
	425: "SYSTEM_ERROR",
	439: "CANNOT_SCHEDULE_TASK",
	999: "KEEPER_EXCEPTION",
}

// Retryable reports whether an operation that failed with err may succeed if repeated
// unchanged: network failures, timeouts, and the server codes above. Everything else
// (a bad query, a missing table, a type mismatch) is permanent. A cancelled context is
// not retryable: the caller is stopping.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ex *proto.Exception
	if errors.As(err, &ex) {
		_, ok := retryableCodes[ex.Code]
		return ok
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, clickhouse.ErrAcquireConnTimeout) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}
