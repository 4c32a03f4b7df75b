// Command trackwatch catches fake and abused tracking numbers before buyer protection
// runs out. Run `trackwatch help` for the subcommands.
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
