package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestCLIExitCodesAndMessages(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		env        []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"no command prints help and fails", nil, nil, exitUsage, "", "Commands:"},
		{"help lists the commands", []string{"help"}, nil, exitOK, "migrate", ""},
		{"help for one command", []string{"help", "dev"}, nil, exitOK, "Usage: trackwatch dev", ""},
		{"unknown command", []string{"frobnicate"}, nil, exitUsage, "", `unknown command "frobnicate"`},
		{"the benchmarks are not a command (go run ./cmd/trackwatch-bench)", []string{"bench", "ingest"}, nil, exitUsage, "", `unknown command "bench"`},
		{"unknown flag prints usage", []string{"run", "--nope"}, nil, exitUsage, "", "Usage: trackwatch run"},
		{"-h prints usage and succeeds", []string{"dev", "-h"}, nil, exitOK, "", "-clickhouse-data-dir"},
		{"stray argument", []string{"migrate", "now"}, nil, exitUsage, "", `unexpected argument "now"`},
		{"bad config value stops startup", []string{"run", "--set", "kafka.brokers=nohost"}, nil, exitUsage, "", `kafka.brokers[0]: "nohost" is not host:port`},
		{"bad shorthand flag value", []string{"dev", "--partitions", "many"}, nil, exitUsage, "", "embedded.kafka.partitions"},
		{"bad environment variable", []string{"config"}, []string{"TRACKWATCH_LOG_LEVEL=loud"}, exitUsage, "", "log.level"},
		{"config masks secrets", []string{"config", "--set", "clickhouse.addr=db1:9000", "--set", "clickhouse.password=hunter2"}, nil, exitOK, "password: <redacted>", ""},
		{"config refuses a password for the embedded server's passwordless user", []string{"config", "--set", "clickhouse.password=hunter2"}, nil, exitUsage, "", "the embedded server's user default has no password"},
		{"config lists keys with env names", []string{"config", "--keys"}, nil, exitOK, "TRACKWATCH_KAFKA_SASL_PASSWORD", ""},
		{"migrate --print emits ON CLUSTER DDL", []string{"migrate", "--print", "--set", "clickhouse.cluster=c1"}, nil, exitOK, "ON CLUSTER `c1`", ""},
		{"migrate --print on a keeper cluster emits its layout, Distributed tables over replicated local ones", []string{"migrate", "--print", "--set", "clickhouse.addr=db1:9000", "--set", "clickhouse.cluster=c1"}, nil, exitOK,
			"CREATE TABLE IF NOT EXISTS `trackwatch`.`tracking_events` ON CLUSTER `c1` AS `trackwatch_local`.`tracking_events`\nENGINE = Distributed('c1', 'trackwatch_local', 'tracking_events', cityHash64(tracking_number))", ""},
		{"migrate --print on a write_all cluster emits each node's local database and Distributed tables", []string{"migrate", "--print", "--set", "clickhouse.addr=db1:9000", "--set", "clickhouse.cluster=c1", "--set", "clickhouse.replication=write_all"}, nil, exitOK,
			"CREATE TABLE IF NOT EXISTS `trackwatch`.`order_numbers` AS `trackwatch_local`.`order_numbers`\nENGINE = Distributed('c1_everywhere', 'trackwatch_local', 'order_numbers')", ""},
		{"version names the embedded engine", []string{"version"}, nil, exitOK, "libchdb 26.", ""},
		{"backfill load needs files", []string{"backfill", "load"}, nil, exitUsage, "", "name at least one file"},
		{"backfill load names a bad --topic", []string{"backfill", "load", "--topic", "parcels", "x.ndjson"}, nil, exitUsage, "", `--topic "parcels" is not tracking or order`},
		{"backfill load names a file it cannot read as events, loading nothing", []string{"backfill", "load", "../../go.mod"}, nil, exitUsage, "", "does not say the format"},
		{"backfill kafka needs --since", []string{"backfill", "kafka"}, nil, exitUsage, "", "--since"},
		{"backtest needs --from", []string{"backtest", "--to", "2026-10-01"}, nil, exitUsage, "", "--from: required"},
		{"backtest names a bad date", []string{"backtest", "--from", "yesterday", "--to", "2026-10-01"}, nil, exitUsage, "", `"yesterday" is neither a date`},
		{"backtest --vary names a setting that is not a numeric detector setting", []string{"backtest", "--from", "2026-10-01", "--to", "2026-10-02", "--vary", "detect.stalled_dayz=5,7"}, nil, exitUsage, "", "detect.stalled_dayz is not a numeric detector setting"},
		{"backtest --vary names a value that is not a number", []string{"backtest", "--from", "2026-10-01", "--to", "2026-10-02", "--vary", "detect.stalled_days=5,a week"}, nil, exitUsage, "", `detect.stalled_days: "a week" is not a whole number`},
		{"backtest --vary of the sellers' target names a value that is not a share", []string{"backtest", "--from", "2026-10-01", "--to", "2026-10-02", "--vary", "detect.seller_vtr_target=0.9,95"}, nil, exitUsage, "", `detect.seller_vtr_target: 95 is not a share above 0 and at most 1`},
		{"backtest --vary compares one setting at a time", []string{"backtest", "--from", "2026-10-01", "--to", "2026-10-02", "--vary", "detect.stalled_days=5,7", "--vary", "detect.silent_days=20,30"}, nil, exitUsage, "", "--vary is given 2 times: compare one setting at a time"},
		{"backtest --vary never notifies", []string{"backtest", "--from", "2026-10-01", "--to", "2026-10-02", "--vary", "detect.stalled_days=5,7", "--notify"}, nil, exitUsage, "", "--notify with --vary"},
		{"backtest names a bad detector", []string{"backtest", "--from", "2026-10-01", "--to", "2026-10-02", "--detector", "psychic"}, nil, exitUsage, "", `--detector "psychic"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			env := append([]string{"TRACKWATCH_CONFIG=../../trackwatch.yaml"}, tc.env...)
			code := Main(context.Background(), tc.args, &out, &errb, env)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tc.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantStdout, out.String())
			}
			if !strings.Contains(errb.String(), tc.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantStderr, errb.String())
			}
			if strings.Contains(out.String()+errb.String(), "hunter2") {
				t.Errorf("a secret was printed")
			}
		})
	}
}

func TestHelpListsTheCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"help"}, &out, &errb, nil); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var listed []string
	_, list, _ := strings.Cut(out.String(), "Commands:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	for _, line := range strings.Split(list, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			listed = append(listed, f[0])
		}
	}
	if slices.Contains(listed, "bench") || !slices.Contains(listed, "run") || !slices.Contains(listed, "backfill") {
		t.Fatalf("help lists %v: want run and backfill, and no bench (the benchmarks are cmd/trackwatch-bench)", listed)
	}
}

// The benchmark harness (internal/bench, cmd/trackwatch-bench) is not part of the
// product binary: nothing trackwatch builds from imports it.
func TestTheProductBinaryHasNoBenchmarks(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		t.Skipf("no go tool at %s: %v", goTool, err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/trackwatch/trackwatch/config") {
		t.Fatalf("go list -deps printed no dependency of trackwatch:\n%s", out)
	}
	for _, p := range deps {
		if strings.Contains(p, "bench") {
			t.Errorf("trackwatch depends on %s", p)
		}
	}
}

func TestHealthExitsByTheAnswer(t *testing.T) {
	for _, c := range []struct {
		status int
		want   int
	}{{200, exitOK}, {503, exitFailure}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(c.status)
			fmt.Fprint(w, `{"status":"x"}`)
		}))
		var out, errb bytes.Buffer
		if code := Main(context.Background(), []string{"health", "--url", srv.URL + "/healthz"}, &out, &errb, nil); code != c.want {
			t.Errorf("answer %d: exit %d, want %d (%s%s)", c.status, code, c.want, out.String(), errb.String())
		}
		srv.Close()
	}
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"health", "--url", "http://127.0.0.1:1/healthz"}, &out, &errb, nil); code != exitFailure {
		t.Errorf("nothing listening: exit %d", code)
	}
}
