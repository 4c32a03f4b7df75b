package main

import (
	"context"
	"fmt"
	"time"

	"github.com/trackwatch/trackwatch/service"
	"github.com/trackwatch/trackwatch/simulate"
)

func simulateCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	fs, cf := newFlags(env, c)
	var o simulate.Options
	fs.IntVar(&o.Orders, "orders", 1000, "scenario orders to generate")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same traffic")
	asOf := fs.String("as-of", "", "the RFC 3339 moment the labels hold for (default now)")
	to := fs.String("to", "kafka", "where to send the traffic: kafka (the running stack's topics) or files")
	out := fs.String("out", "simulation", "with --to files: the directory for tracking-events.ndjson, order-events.ndjson and truth.json")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	o.Seed = *seed
	o.AsOf = time.Now().UTC().Truncate(time.Second)
	if *asOf != "" {
		t, err := time.Parse(time.RFC3339, *asOf)
		if err != nil {
			fmt.Fprintf(env.stderr, "trackwatch simulate: --as-of %q is not RFC 3339\n", *asOf)
			return exitUsage
		}
		o.AsOf = t
	}
	if *to != "kafka" && *to != "files" {
		fmt.Fprintf(env.stderr, "trackwatch simulate: --to %q is not kafka or files\n", *to)
		return exitUsage
	}
	if o.Orders < 1 || o.Orders > 10_000_000 {
		fmt.Fprintln(env.stderr, "trackwatch simulate: --orders must be 1..10000000")
		return exitUsage
	}
	res := simulate.Run(o)
	if *to == "files" {
		if err := res.WriteFiles(*out); err != nil {
			fmt.Fprintf(env.stderr, "trackwatch simulate: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(env.stdout, "wrote %d messages for %d orders to %s (truth as of %s in truth.json)\n", len(res.Messages), len(res.Truth), *out, res.AsOf.Format(time.RFC3339))
		return exitOK
	}
	cfg, _, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	clients, ok := connect(ctx, env, "simulate", cfg)
	if !ok {
		return exitFailure
	}
	defer clients.Close()
	if err := service.Produce(ctx, cfg, clients.Brokers, res.Messages); err != nil {
		fmt.Fprintf(env.stderr, "trackwatch simulate: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "produced %d messages for %d orders to %s (labels hold as of %s)\n", len(res.Messages), len(res.Truth), clients.Brokers, res.AsOf.Format(time.RFC3339))
	return exitOK
}
