// Command trackwatch-bench is trackwatch's benchmark harness: reproducible loads on the
// embedded Kafka and ClickHouse, each measured beside its baseline in the same run. It
// is kept out of the product binary; run it from the repository:
//
//	go run ./cmd/trackwatch-bench ingest|detect|notify|api|backfill|backtest [flags]
package main

import "github.com/trackwatch/trackwatch/internal/cli"

func main() { cli.Run(Main) }
