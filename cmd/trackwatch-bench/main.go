// Command trackwatch-bench is trackwatch's benchmark harness: reproducible loads on the
// embedded Kafka and ClickHouse, each measured beside its baseline in the same run. It
// is kept out of the product binary; run it from the repository:
//
//	go run ./cmd/trackwatch-bench ingest|detect|notify|api|backfill|backtest [flags]
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/trackwatch/trackwatch/devstack"
)

func main() {
	// The embedded ClickHouse server is this binary re-run in child mode.
	devstack.RunChildIfRequested()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ()))
}
