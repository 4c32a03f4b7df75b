package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

func TestRetryableClassification(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"too many parts is retryable", &proto.Exception{Code: 252}, true},
		{"wrapped memory limit is retryable", fmt.Errorf("insert batch: %w", &proto.Exception{Code: 241}), true},
		{"unknown table is permanent", &proto.Exception{Code: 60}, false},
		{"syntax error is permanent", &proto.Exception{Code: 62}, false},
		{"connection refused is retryable", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{"reset by peer is retryable", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"unexpected EOF is retryable", io.ErrUnexpectedEOF, true},
		{"deadline is retryable", context.DeadlineExceeded, true},
		{"cancel is not", context.Canceled, false},
		{"plain error is permanent", errors.New("clickhouse [Append]: converting string to Int32 is unsupported"), false},
		{"nil is not", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Retryable(tc.err); got != tc.want {
				t.Fatalf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
