package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

const healthUsage = `Usage: trackwatch health [--url URL] [--timeout 5s]

Asks a running trackwatch's /healthz and exits 0 when it answers 200 (its Kafka and
ClickHouse answer), 1 otherwise, printing the answer. For container health checks in
images without a shell or curl, such as trackwatch's own.
`

func healthCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	fs, _ := newFlags(env, c)
	url := fs.String("url", "http://127.0.0.1:8080/healthz", "the /healthz URL")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch health: --url: %v\n", err)
		return exitUsage
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch health: %v\n", err)
		return exitFailure
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	fmt.Fprintf(env.stdout, "%s %s\n", resp.Status, body)
	if resp.StatusCode != http.StatusOK {
		return exitFailure
	}
	return exitOK
}
