package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/trackwatch/trackwatch/trackingnumber"
)

const numberUsage = `Usage: trackwatch number NUMBER [--carrier SLUG] [--format text|json] [flags]

Explains what trackwatch concludes from a tracking number's shape: the formats it fits
(the tracking_number_data specification's and trackwatch's own), each check digit
computed against the one given, the origin country and service of an S10 number, the
couriers it fits, and the verdict for the declared carrier (valid, invalid,
other_courier, unchecked) with each format's source. Needs no server; the
specification comes from numbers.spec_dir or the cache 'make numbers' fills.
`

func numberCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	var number string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		number, args = args[0], args[1:]
	}
	fs, cf := newFlags(env, c)
	carrier := fs.String("carrier", "", "the declared carrier slug (ups, fedex, usps, dhl, japan-post, ...); empty: detect the courier")
	format := fs.String("format", "text", "text or json")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if number == "" && fs.NArg() > 0 {
		number = fs.Arg(0)
	}
	if number == "" {
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
	checker, err := trackingnumber.Load(cfg.Numbers)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch number: numbers.spec_dir: %v\n", err)
		return exitFailure
	}
	e := checker.WithPostal(cfg.Detect.PostalCarriers).Explain(number, *carrier)
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
