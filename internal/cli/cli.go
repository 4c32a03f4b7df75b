// Package cli is what trackwatch's two commands (cmd/trackwatch and
// cmd/trackwatch-bench) share: their exit codes, the process's start (the embedded
// ClickHouse's child mode, signals), parsing a command's flags, and reading the
// configuration as every command reads it.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/devstack"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1 // the command ran and failed
	ExitUsage   = 2 // bad flags or bad configuration: nothing ran
)

// MainFunc runs a command line (without the program's name) and returns the exit code.
type MainFunc func(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int

// Run is a command's main: it serves as the embedded ClickHouse server when this
// process was started as one (the server is the binary re-run in child mode), else runs
// m until it returns or SIGINT or SIGTERM cancels its context, and exits with its code.
func Run(m MainFunc) {
	devstack.RunChildIfRequested()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := m(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

// Parse parses a command's flags. On failure the flag package has printed the error and
// the usage: -h is ExitOK, a bad flag ExitUsage; so is a stray argument, which Parse
// reports.
func Parse(fs *flag.FlagSet, args []string) (ok bool, code int) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, ExitOK
		}
		return false, ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return false, ExitUsage
	}
	return true, ExitOK
}

// LoadConfig reads the configuration as every command does: the file (--config, else
// TRACKWATCH_CONFIG, else ./trackwatch.yaml if present), then the TRACKWATCH_*
// variables of environ, then sets (key.path=value, in order).
func LoadConfig(file string, environ, sets []string) (config.Config, error) {
	if file == "" {
		file = Lookup(environ, "TRACKWATCH_CONFIG")
	}
	return config.Load(config.Sources{File: file, Env: environ, Sets: sets})
}

// Lookup returns the value of variable name in environ ("" when unset).
func Lookup(environ []string, name string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}
