package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/internal/cli"
)

// Exit codes (cli's).
const (
	exitOK      = cli.ExitOK
	exitFailure = cli.ExitFailure
	exitUsage   = cli.ExitUsage
)

// command is one subcommand.
type command struct {
	name, summary, usage string
	run                  func(ctx context.Context, env *cmdEnv, c command, args []string) int
}

// cmdEnv is what every command gets from the process.
type cmdEnv struct {
	stdout, stderr io.Writer
	environ        []string
}

// Main runs the subcommand named by args[0] and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	env := &cmdEnv{stdout: stdout, stderr: stderr, environ: environ}
	commands := map[string]command{}
	for _, c := range allCommands() {
		commands[c.name] = c
	}
	if len(args) == 0 {
		printHelp(stderr, commands)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fmt.Fprint(stdout, c.usage)
				return exitOK
			}
		}
		printHelp(stdout, commands)
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "trackwatch: unknown command %q\n\n", name)
		printHelp(stderr, commands)
		return exitUsage
	}
	return c.run(ctx, env, c, args[1:])
}

func printHelp(w io.Writer, commands map[string]command) {
	fmt.Fprint(w, `trackwatch catches fake and abused tracking numbers before buyer protection runs out.

Usage: trackwatch <command> [flags]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-13s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
Run 'trackwatch <command> -h' for a command's flags.
Configuration: trackwatch.yaml (see the committed example), TRACKWATCH_* environment
variables, and --set key.path=value; 'trackwatch config --keys' lists every key.
`)
}

// configFlags are the flags every command that loads configuration has.
type configFlags struct {
	file    string
	sets    multiFlag
	aliases []alias
}

// alias is a named flag that is shorthand for --set key=value.
type alias struct {
	flag, key string
	value     *string
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// newFlags makes a command's flag set with --config and --set, and the usage text.
func newFlags(env *cmdEnv, c command) (*flag.FlagSet, *configFlags) {
	fs := flag.NewFlagSet("trackwatch "+c.name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	cf := &configFlags{}
	fs.StringVar(&cf.file, "config", "", "YAML config `file` (default ./trackwatch.yaml if present)")
	fs.Var(&cf.sets, "set", "override a config key: `key.path=value` (repeatable)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), c.usage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs, cf
}

// alias adds a flag that sets a config key.
func (cf *configFlags) alias(fs *flag.FlagSet, name, key, usage string) {
	v := new(string)
	fs.StringVar(v, name, "", usage+" (config "+key+")")
	cf.aliases = append(cf.aliases, alias{flag: name, key: key, value: v})
}

// parse parses flags; on failure the flag package has printed the error and usage.
var parse = cli.Parse

// load reads the configuration from file, environment and flags.
func (cf *configFlags) load(env *cmdEnv) (config.Config, error) {
	sets := []string{}
	for _, a := range cf.aliases {
		if *a.value != "" {
			sets = append(sets, a.key+"="+*a.value)
		}
	}
	sets = append(sets, cf.sets...) // explicit --set wins over shorthand flags
	return cli.LoadConfig(cf.file, env.environ, sets)
}

// loadOrExit loads config and builds the logger, or reports the problem.
func (cf *configFlags) loadOrExit(env *cmdEnv) (config.Config, *slog.Logger, bool) {
	cfg, err := cf.load(env)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch: %v\n", err)
		return cfg, nil, false
	}
	return cfg, cfg.Log.Logger(os.Stderr), true
}

// version is set at build time with -ldflags "-X main.version=..."; otherwise the
// module version or VCS revision from the build info is used.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return "dev"
}

// subcommand returns args[0] when it is one of subs. Otherwise it prints the command's
// usage and returns ok false with the exit code: 0 for -h, 2 for anything else.
func subcommand(env *cmdEnv, c command, args []string, subs ...string) (sub string, code int, ok bool) {
	if len(args) > 0 {
		for _, s := range subs {
			if args[0] == s {
				return s, exitOK, true
			}
		}
	}
	fmt.Fprint(env.stderr, c.usage)
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		return "", exitOK, false
	}
	return "", exitUsage, false
}
