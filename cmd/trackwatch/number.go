package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trackwatch/trackwatch/service"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

const numberUsage = `Usage: trackwatch number NUMBER [--carrier SLUG] [--format text|json] [flags]
       trackwatch number --formats [--format text|json]

Explains what trackwatch concludes from a tracking number's shape: the formats it fits
(the tracking_number_data specification's and trackwatch's own), each check digit
computed against the one given, the origin country and service of an S10 number, the
couriers it fits, and the verdict for the declared carrier (valid, invalid,
other_courier, unchecked) with each format's source. Needs no server; the
specification comes from numbers.spec_dir or the cache 'make numbers' fills.
--formats lists every format trackwatch knows, with its check digit, its source and the
declared carriers judged against it (none: the courier is only detected, never judged).
`

func numberCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	var number string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		number, args = args[0], args[1:]
	}
	fs, cf := newFlags(env, c)
	carrier := fs.String("carrier", "", "the declared carrier slug (ups, fedex, usps, dhl, japan-post, ...); empty: detect the courier")
	format := fs.String("format", "text", "text or json")
	list := fs.Bool("formats", false, "list every format instead of judging a number")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if number == "" && fs.NArg() > 0 {
		number = fs.Arg(0)
	}
	if number == "" && !*list {
		fmt.Fprint(env.stderr, "trackwatch number: a tracking number is required\n\n"+numberUsage)
		return exitUsage
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(env.stderr, "trackwatch number: --format %q is not text or json\n", *format)
		return exitUsage
	}
	cfg, _, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	checker, err := service.NumberChecker(cfg)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch number: %v\n", err)
		return exitFailure
	}
	if *list {
		return printFormats(env, checker, *format)
	}
	e := checker.Explain(number, *carrier)
	if *format == "json" {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(e); err != nil {
			return exitFailure
		}
		return exitOK
	}
	e.WriteText(env.stdout)
	return exitOK
}

func printFormats(env *cmdEnv, c *trackingnumber.Checker, format string) int {
	rows := c.Formats()
	if format == "json" {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return exitFailure
		}
		return exitOK
	}
	fmt.Fprintf(env.stdout, "specification: %s\n", c.Version())
	fmt.Fprintln(env.stdout, "| courier | format | check digit | judged when declared as | source |")
	fmt.Fprintln(env.stdout, "|---|---|---|---|---|")
	for _, r := range rows {
		as := "detected only"
		if len(r.CheckedAs) > 0 {
			as = strings.Join(r.CheckedAs, ", ")
		}
		fmt.Fprintf(env.stdout, "| %s | %s | %s | %s | %s |\n", r.Courier, r.Format, r.CheckDigit, as, r.Source)
	}
	return exitOK
}
