package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/service"
)

// connect reaches the running stack for a client command, or reports why not.
func connect(ctx context.Context, env *cmdEnv, name string, cfg config.Config) (*service.Clients, bool) {
	clients, err := service.Connect(ctx, cfg)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch %s: %v\n", name, err)
		return nil, false
	}
	return clients, true
}

// printStructured prints items as an indented JSON array (json) or one object per line
// (ndjson) and reports true; for any other format it prints nothing and reports false,
// leaving the table to the caller.
func printStructured[T any](env *cmdEnv, format string, items []T) bool {
	switch format {
	case "json":
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if items == nil {
			items = []T{}
		}
		_ = enc.Encode(items)
	case "ndjson":
		enc := json.NewEncoder(env.stdout)
		for _, it := range items {
			_ = enc.Encode(it)
		}
	default:
		return false
	}
	return true
}

// configExit is the exit code for an error loading what a config names: the tracking-number
// specification's files missing is a failure (make numbers fetches them), any other a
// usage error.
func configExit(err error) int {
	if errors.Is(err, service.ErrNumberSpec) {
		return exitFailure
	}
	return exitUsage
}
